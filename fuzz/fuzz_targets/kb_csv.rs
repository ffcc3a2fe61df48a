//! Knowledge-base CSV import: any text either fails with problems or gives entries that
//! export and import back unchanged.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(entries) = switchboard::kb::io::from_csv(text) {
        let again = switchboard::kb::io::from_csv(&switchboard::kb::io::to_csv(&entries));
        assert_eq!(again, Ok(entries));
    }
});
