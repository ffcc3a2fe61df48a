//! Dependency direction, checked by reading the sources: `channels → actors → routing →
//! domain`; `actors → store, bus → domain`; only `startup` wires everything.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// Lines of `file` outside `#[cfg(test)]` modules that mention one of `forbidden`.
fn offending_lines(file: &Path, forbidden: &[&str]) -> Vec<String> {
    let text = std::fs::read_to_string(file).unwrap();
    let production = text.split("#[cfg(test)]").next().unwrap_or_default();
    production
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .filter(|line| forbidden.iter().any(|f| line.contains(f)))
        .map(|line| format!("{}: {}", file.display(), line.trim()))
        .collect()
}

fn assert_clean(files: &[PathBuf], forbidden: &[&str]) {
    let offences: Vec<String> = files
        .iter()
        .flat_map(|f| offending_lines(f, forbidden))
        .collect();
    assert!(
        offences.is_empty(),
        "forbidden dependencies:\n{}",
        offences.join("\n")
    );
}

#[test]
fn domain_depends_on_nothing_else_in_the_crate_and_does_no_io() {
    assert_clean(
        &[root().join("src/domain.rs")],
        &[
            "crate::", "actix", "tokio", "rusqlite", "lapin", "deadpool", "std::fs", "std::net",
        ],
    );
}

#[test]
fn routing_policy_is_pure() {
    assert_clean(
        &[
            root().join("src/routing.rs"),
            root().join("src/rules.rs"),
            root().join("src/queue_stats.rs"),
        ],
        &[
            "actix",
            "tokio",
            "rusqlite",
            "lapin",
            "deadpool",
            "crate::store",
            "crate::bus",
            "crate::actors",
            "Instant::now",
            "SystemTime",
            "Utc::now",
        ],
    );
}

/// A dry-run must not depend on when it runs: the simulation reads no clock (it loads its
/// input from the store, hence no purity beyond that).
#[test]
fn the_simulation_reads_no_clock() {
    assert_clean(
        &[root().join("src/simulate.rs")],
        &[
            "Instant::now",
            "SystemTime",
            "Utc::now",
            "thread_rng",
            "rand::",
        ],
    );
}

#[test]
fn bot_flows_and_knowledge_base_matching_are_pure() {
    let mut files = vec![
        root().join("src/bot.rs"),
        root().join("src/flows.rs"),
        root().join("src/kb/entry.rs"),
        root().join("src/kb/io.rs"),
        root().join("src/kb/features.rs"),
        root().join("src/kb/matcher.rs"),
    ];
    files.extend(rust_files(&root().join("src/flows")));
    assert_clean(
        &files,
        &[
            "actix",
            "tokio",
            "crate::store",
            "crate::bus",
            "crate::actors",
            "Utc::now",
            "Instant::now",
        ],
    );
}

#[test]
fn store_and_bus_know_nothing_of_actors_or_channels() {
    let mut files = rust_files(&root().join("src/store"));
    files.extend(rust_files(&root().join("src/bus")));
    assert_clean(
        &files,
        &[
            "crate::actors",
            "crate::channels",
            "crate::startup",
            "actix",
        ],
    );
}

#[test]
fn actors_do_not_reach_into_channels_or_startup() {
    assert_clean(
        &rust_files(&root().join("actors")),
        &["crate::channels", "crate::startup", "rusqlite"],
    );
}

#[test]
fn channels_do_not_touch_sql_or_the_broker_directly() {
    assert_clean(
        &rust_files(&root().join("channels")),
        &[
            "rusqlite",
            "lapin",
            "deadpool",
            "crate::bus::memory",
            "crate::store::sqlite",
        ],
    );
}
