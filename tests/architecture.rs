//! The module graph, checked by reading the sources.
//!
//! Every file under `src/`, `actors/` and `channels/` (test code included) belongs to one
//! component of [`ALLOWED`] (the longest module prefix listed there). Every `crate::…` path
//! and every `super::…` path in it is an edge from its component to the component that path
//! names. The test fails on an edge the table does not allow, on an allowed edge that no
//! code uses any more (so the table stays the true map), on a component missing from the
//! table, and on a cycle. Comments are not read: a doc link is not a dependency.
//!
//! Beside the graph, the pure layers are checked for what they may not touch at all (actors,
//! I/O, clocks) in their production code.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each component and the components it may use, lowest layers first. A component is a
/// module path (`bot::kb` is `src/bot/kb/`); a module belongs to the longest one listed.
///
/// The layers: `domain` and `signing` know nothing else; configuration, telemetry and views
/// sit on the domain; `store` and `bus` are the adapters; `routing` and `bot` are the pure
/// subsystems (their `simulate`, `service`, `actions` and `assist` modules read the store);
/// `actors` hold state; `services` hold each area's store and bus access for the edges;
/// `channels` are the HTTP edges; `startup` wires everything.
const ALLOWED: &[(&str, &[&str])] = &[
    ("domain", &[]),
    ("signing", &[]),
    ("settings", &["domain", "signing"]),
    ("telemetry", &["domain", "settings"]),
    ("views", &["domain"]),
    ("store", &["domain"]),
    ("bus", &[]),
    ("identity", &["domain", "store"]),
    ("auth", &["domain", "signing", "store"]),
    ("error", &["domain", "store"]),
    ("socket", &["error", "views"]),
    ("routing", &[]),
    ("routing::policy", &["domain"]),
    ("routing::rules", &["domain", "routing::policy"]),
    ("routing::stats", &["routing::policy"]),
    (
        "routing::simulate",
        &[
            "domain",
            "routing::policy",
            "routing::rules",
            "routing::stats",
            "settings",
            "store",
        ],
    ),
    ("bot::redact", &[]),
    ("bot::kb", &["domain"]),
    ("bot::flows", &["domain"]),
    (
        "bot::assist",
        &["bot::kb", "bot::redact", "domain", "store"],
    ),
    ("bot", &["bot::assist", "bot::flows", "bot::kb", "domain"]),
    (
        "bot::actions",
        &["bot::flows", "domain", "store", "telemetry"],
    ),
    (
        "bot::service",
        &["bot", "bot::flows", "bot::kb", "settings", "store"],
    ),
    ("actors", &[]),
    (
        "actors::protocol",
        &[
            "bot::assist",
            "bus",
            "domain",
            "routing::rules",
            "store",
            "views",
        ],
    ),
    (
        "actors::delivery",
        &["bus", "domain", "settings", "store", "telemetry"],
    ),
    (
        "actors::customer_session",
        &[
            "actors::delivery",
            "actors::protocol",
            "bot",
            "bot::actions",
            "bot::assist",
            "bot::flows",
            "bus",
            "domain",
            "routing::rules",
            "store",
            "telemetry",
            "views",
        ],
    ),
    (
        "actors::session_router",
        &[
            "actors::customer_session",
            "actors::protocol",
            "bus",
            "domain",
        ],
    ),
    (
        "actors::dispatcher",
        &[
            "actors::protocol",
            "actors::session_router",
            "bus",
            "domain",
            "routing::policy",
            "routing::rules",
            "routing::stats",
            "settings",
            "store",
            "telemetry",
            "views",
        ],
    ),
    (
        "actors::agent_session",
        &[
            "actors::protocol",
            "actors::session_router",
            "bus",
            "domain",
            "socket",
            "store",
            "telemetry",
            "views",
        ],
    ),
    (
        "services",
        &[
            "actors::dispatcher",
            "actors::protocol",
            "actors::session_router",
            "auth",
            "bot::kb",
            "bot::service",
            "bus",
            "domain",
            "error",
            "identity",
            "routing::rules",
            "routing::simulate",
            "signing",
            "store",
            "views",
        ],
    ),
    (
        "channels",
        &[
            "services",
            "actors::agent_session",
            "actors::protocol",
            "actors::session_router",
            "actors::delivery",
            "actors::dispatcher",
            "auth",
            "bot",
            "bot::flows",
            "bot::kb",
            "bot::service",
            "bus",
            "domain",
            "error",
            "identity",
            "routing::policy",
            "routing::rules",
            "routing::simulate",
            "settings",
            "signing",
            "socket",
            "store",
            "telemetry",
            "views",
        ],
    ),
    ("ui", &[]),
    (
        "demo",
        &["auth", "domain", "routing::rules", "settings", "store"],
    ),
    (
        "startup",
        &[
            "actors::customer_session",
            "actors::session_router",
            "actors::delivery",
            "actors::dispatcher",
            "bot",
            "bot::actions",
            "bot::assist",
            "bot::kb",
            "bot::service",
            "bus",
            "channels",
            "demo",
            "error",
            "settings",
            "store",
            "telemetry",
            "ui",
        ],
    ),
];

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
    files.sort();
    files
}

/// The library's files (not the binaries, which use it from outside).
fn library_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = rust_files(&root().join("src"))
        .into_iter()
        .filter(|f| !f.starts_with(root().join("src/bin")) && !f.ends_with("src/main.rs"))
        .collect();
    files.extend(rust_files(&root().join("actors")));
    files.extend(rust_files(&root().join("channels")));
    files
}

/// The module path of a file: `src/bot/kb/entry.rs` → `[bot, kb, entry]`,
/// `actors/mod.rs` → `[actors]`, `src/lib.rs` → `[]`.
fn module_of(file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(root()).unwrap();
    let mut parts: Vec<String> = relative
        .with_extension("")
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if parts.first().is_some_and(|p| p == "src") {
        parts.remove(0);
    }
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

/// The component a module path belongs to: the longest prefix listed in [`ALLOWED`].
fn component_of(path: &[String]) -> Option<&'static str> {
    (1..=path.len()).rev().find_map(|n| {
        let prefix = path[..n].join("::");
        ALLOWED
            .iter()
            .map(|(name, _)| *name)
            .find(|name| *name == prefix)
    })
}

/// The code of a line, without its `//` comment (string contents are kept: good enough for
/// paths, which never sit in strings here).
fn code_of(line: &str) -> &str {
    match line.find("//") {
        Some(at) => &line[..at],
        None => line,
    }
}

/// Paths after `prefix` (`crate::`, `super::`) in `code`: `crate::bot::kb::Entry` gives
/// `bot::kb::Entry`. A group (`crate::{a::B, c}`) gives each member.
fn paths_after(code: &str, prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find(prefix) {
        let before = &rest[..at];
        rest = &rest[at + prefix.len()..];
        // `$crate::`, `pub(crate)` and identifiers ending in `crate` are not paths.
        if before.ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            out.extend(
                group[..end]
                    .split(',')
                    .map(|member| member.trim().to_owned())
                    .filter(|member| !member.is_empty()),
            );
        } else {
            let path: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            out.push(path);
        }
    }
    out
}

/// The module a `super::…` path names from `file` (module path `module`), at the top level
/// of the file (inside an inline `mod tests`, `super` is the file's own module).
fn resolve_super(module: &[String], path: &str, inline: bool) -> Vec<String> {
    let mut base: Vec<String> = module.to_vec();
    if !inline {
        base.pop();
    }
    let mut rest = path;
    while let Some(next) = rest.strip_prefix("super::") {
        base.pop();
        rest = next;
    }
    base.extend(rest.split("::").map(str::to_owned));
    base
}

/// Every edge between components, with where it is used.
fn edges() -> BTreeMap<(&'static str, &'static str), Vec<String>> {
    let mut edges: BTreeMap<(&str, &str), Vec<String>> = BTreeMap::new();
    for file in library_files() {
        let module = module_of(&file);
        if module.is_empty() {
            continue; // lib.rs only declares modules.
        }
        let from = component_of(&module)
            .unwrap_or_else(|| panic!("{} belongs to no component of ALLOWED", file.display()));
        let text = std::fs::read_to_string(&file).unwrap();
        let mut inline = false;
        for (n, line) in text.lines().enumerate() {
            let code = code_of(line);
            let trimmed = code.trim_start();
            if (trimmed.starts_with("mod ") || trimmed.starts_with("pub mod "))
                && trimmed.trim_end().ends_with('{')
            {
                inline = true;
            }
            let mut targets: Vec<Vec<String>> = paths_after(code, "crate::")
                .iter()
                .map(|p| p.split("::").map(str::to_owned).collect())
                .collect();
            targets.extend(
                paths_after(code, "super::")
                    .iter()
                    .map(|p| resolve_super(&module, p, inline)),
            );
            for target in targets {
                let Some(to) = component_of(&target) else {
                    continue; // a crate-root item or a module's own item
                };
                if to != from {
                    edges.entry((from, to)).or_default().push(format!(
                        "{}:{}",
                        file.strip_prefix(root()).unwrap().display(),
                        n + 1
                    ));
                }
            }
        }
    }
    edges
}

fn allowed() -> BTreeMap<&'static str, BTreeSet<&'static str>> {
    ALLOWED
        .iter()
        .map(|(from, to)| (*from, to.iter().copied().collect()))
        .collect()
}

#[test]
fn every_module_dependency_is_an_allowed_edge() {
    let allowed = allowed();
    let mut offences = Vec::new();
    for ((from, to), places) in edges() {
        if !allowed[from].contains(to) {
            offences.push(format!("{from} → {to} (at {})", places.join(", ")));
        }
    }
    assert!(
        offences.is_empty(),
        "dependencies the architecture does not allow (tests/architecture.rs ALLOWED):\n{}",
        offences.join("\n")
    );
}

#[test]
fn the_allowed_edges_are_all_in_use() {
    let used: BTreeSet<(&str, &str)> = edges().into_keys().collect();
    let stale: Vec<String> = ALLOWED
        .iter()
        .flat_map(|(from, to)| to.iter().map(move |to| (*from, *to)))
        .filter(|edge| !used.contains(edge))
        .map(|(from, to)| format!("{from} → {to}"))
        .collect();
    assert!(
        stale.is_empty(),
        "allowed edges no code uses any more (remove them from ALLOWED):\n{}",
        stale.join("\n")
    );
}

#[test]
fn every_allowed_edge_names_a_component_and_the_graph_has_no_cycle() {
    let allowed = allowed();
    for (from, to) in &allowed {
        for target in to {
            assert!(
                allowed.contains_key(target),
                "{from} → {target}: no such component"
            );
        }
    }
    // Kahn's algorithm: a graph is acyclic when every node can be removed in some order of
    // nodes whose dependencies are already removed.
    let mut left = allowed.clone();
    while !left.is_empty() {
        let free: Vec<&str> = left
            .iter()
            .filter(|(_, to)| to.iter().all(|t| !left.contains_key(t)))
            .map(|(from, _)| *from)
            .collect();
        assert!(
            !free.is_empty(),
            "the allowed graph has a cycle among: {:?}",
            left.keys().collect::<Vec<_>>()
        );
        for node in free {
            left.remove(node);
        }
    }
}

#[test]
fn the_edge_reader_sees_groups_super_and_ignores_comments_and_macros() {
    assert_eq!(
        paths_after("use crate::{bot::kb::Entry, store};", "crate::"),
        ["bot::kb::Entry", "store"]
    );
    assert_eq!(
        paths_after("pub(crate) fn f() -> $crate::x { crate::y::Z }", "crate::"),
        ["y::Z"]
    );
    assert_eq!(code_of("let a = 1; // crate::store"), "let a = 1; ");
    let module: Vec<String> = ["actors", "agent_session"].map(String::from).to_vec();
    assert_eq!(
        resolve_super(&module, "customer_session::Inbound", false),
        ["actors", "customer_session", "Inbound"]
    );
    assert_eq!(
        resolve_super(&module, "Thing", true),
        ["actors", "agent_session", "Thing"]
    );
    assert_eq!(
        component_of(&["bot", "kb", "entry"].map(String::from)),
        Some("bot::kb")
    );
    assert_eq!(
        component_of(&["bot", "mystery"].map(String::from)),
        Some("bot")
    );
}

/// The production code of a file: every item marked `#[cfg(test)]` (a test module, a
/// test-only helper) is removed, wherever it stands.
fn production_code(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let item = &rest[at..];
        // The item ends at its matching closing brace, or at its `;` if it has no body.
        let mut depth = 0usize;
        let mut end = item.len();
        for (i, c) in item.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        end = i + 1;
                        break;
                    }
                }
                ';' if depth == 0 => {
                    end = i + 1;
                    break;
                }
                _ => {}
            }
        }
        rest = &item[end..];
    }
    out.push_str(rest);
    out
}

/// Lines of the production code of `files` that mention one of `forbidden`.
fn assert_clean(files: &[PathBuf], forbidden: &[&str]) {
    let mut offences = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file).unwrap();
        for line in production_code(&text).lines() {
            let code = code_of(line);
            if forbidden.iter().any(|f| code.contains(f)) {
                offences.push(format!("{}: {}", file.display(), line.trim()));
            }
        }
    }
    assert!(
        offences.is_empty(),
        "forbidden dependencies:\n{}",
        offences.join("\n")
    );
}

#[test]
fn production_code_drops_test_items_wherever_they_stand() {
    let text = "fn a() {}\n#[cfg(test)]\nfn helper() { x(); }\nfn b() {}\n#[cfg(test)]\nmod tests { fn t() { { } } }\nfn c() {}\n";
    let code = production_code(text);
    assert!(code.contains("fn a()") && code.contains("fn b()") && code.contains("fn c()"));
    assert!(!code.contains("helper") && !code.contains("fn t()"));
}

#[test]
fn domain_and_signing_do_no_io() {
    let mut files = vec![root().join("src/domain.rs")];
    files.extend(rust_files(&root().join("src/signing")));
    assert_clean(
        &files,
        &[
            "actix", "tokio", "rusqlite", "lapin", "deadpool", "std::fs", "std::net", "reqwest",
        ],
    );
}

#[test]
fn routing_policy_rules_and_statistics_are_pure_and_read_no_clock() {
    assert_clean(
        &[
            root().join("src/routing/policy.rs"),
            root().join("src/routing/rules.rs"),
            root().join("src/routing/stats.rs"),
        ],
        &[
            "actix",
            "tokio",
            "rusqlite",
            "lapin",
            "deadpool",
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
        &[root().join("src/routing/simulate.rs")],
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
    // Not `kb/eval.rs`: the evaluation command measures its own time.
    let mut files: Vec<PathBuf> = [
        "src/bot/mod.rs",
        "src/bot/redact.rs",
        "src/bot/kb/entry.rs",
        "src/bot/kb/features.rs",
        "src/bot/kb/io.rs",
        "src/bot/kb/matcher.rs",
    ]
    .iter()
    .map(|f| root().join(f))
    .collect();
    files.extend(rust_files(&root().join("src/bot/flows")));
    assert_clean(
        &files,
        &["actix", "tokio", "reqwest", "Utc::now", "Instant::now"],
    );
}

#[test]
fn store_and_bus_know_no_actor_framework() {
    let mut files = rust_files(&root().join("src/store"));
    files.extend(rust_files(&root().join("src/bus")));
    assert_clean(&files, &["actix"]);
}

#[test]
fn actors_and_channels_touch_no_sql_or_broker_client_directly() {
    let mut files = rust_files(&root().join("actors"));
    files.extend(rust_files(&root().join("channels")));
    assert_clean(&files, &["rusqlite", "lapin", "deadpool", "tokio_postgres"]);
}
