#![no_main]
libfuzzer_sys::fuzz_target!(
    init: duet_fuzz::seeds::write_if_asked("pipe_transfer"),
    |data: &[u8]| duet_fuzz::pipe_transfer(data)
);
