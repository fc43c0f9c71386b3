#![no_main]
libfuzzer_sys::fuzz_target!(
    init: duet_fuzz::seeds::write_if_asked("rpc_payloads"),
    |data: &[u8]| duet_fuzz::rpc_payloads(data)
);
