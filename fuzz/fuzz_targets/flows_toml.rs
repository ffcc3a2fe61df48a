#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    switchboard::channels::parsers::flows_toml(data);
});
