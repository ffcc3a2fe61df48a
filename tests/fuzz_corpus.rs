//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/*`) through the parsers'
//! entry points ([`switchboard::channels::parsers`]) on every test run: whatever the fuzzers
//! found interesting, and the seeds, must keep parsing or being refused without a panic.
//! `cargo +nightly fuzz run <target>` (in `fuzz/`) explores further.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use switchboard::channels::parsers::TARGETS;

#[test]
fn every_parser_survives_its_corpus() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    let mut replayed = 0;
    for (name, entry) in TARGETS {
        let dir = root.join(name);
        let files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|f| f.unwrap().path())
            .collect();
        assert!(!files.is_empty(), "{name} has no corpus");
        for file in files {
            let data = std::fs::read(&file).unwrap();
            let outcome = std::panic::catch_unwind(|| entry(&data));
            assert!(outcome.is_ok(), "{name} panicked on {}", file.display());
            replayed += 1;
        }
    }
    assert!(replayed >= TARGETS.len());
}
