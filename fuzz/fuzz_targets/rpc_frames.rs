#![no_main]
libfuzzer_sys::fuzz_target!(
    init: duet_fuzz::seeds::write_if_asked("rpc_frames"),
    |data: &[u8]| duet_fuzz::rpc_frames(data)
);
