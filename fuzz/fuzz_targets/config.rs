#![no_main]
libfuzzer_sys::fuzz_target!(
    init: duet_fuzz::seeds::write_if_asked("config"),
    |data: &[u8]| duet_fuzz::config(data)
);
