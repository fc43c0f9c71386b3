#![no_main]
libfuzzer_sys::fuzz_target!(
    init: duet_fuzz::seeds::write_if_asked("chunk_event"),
    |data: &[u8]| duet_fuzz::chunk_event(data)
);
