//! The deployment files, checked without Docker (no daemon here or in CI): in
//! deploy/compose.yaml every `SWITCHBOARD_*` variable is a real setting whose values, with the
//! file's defaults, make a valid production configuration without the demo's secrets, and only
//! a service of the `demo` profile runs demo data; the Dockerfile builds and runs the binary the
//! way docs/operations.md says, from files .dockerignore does not leave out.

use std::collections::BTreeMap;
use std::path::PathBuf;

use switchboard::settings::{Mode, Settings};

use crate::helpers::config_dir;

fn repository_file(path: &str) -> String {
    let full = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// The lines of a YAML file without comments (the compose file has no `#` inside values).
fn without_comments(text: &str) -> Vec<&str> {
    text.lines()
        .map(|line| line.split(" #").next().unwrap_or(line))
        .filter(|line| !line.trim_start().starts_with('#'))
        .collect()
}

/// `${NAME:-default}` → default (what compose substitutes with nothing set).
fn with_defaults(line: &str) -> String {
    let pattern = regex::Regex::new(r"\$\{[A-Z0-9_]+(?::-([^}]*))?\}").unwrap();
    pattern
        .replace_all(line, |c: &regex::Captures| {
            c.get(1).map_or("", |d| d.as_str()).to_owned()
        })
        .into_owned()
}

/// Every `SWITCHBOARD_*: value` the compose file sets, block or flow style, with defaults.
fn compose_settings(lines: &[&str]) -> BTreeMap<String, Vec<String>> {
    let pattern =
        regex::Regex::new(r#"(SWITCHBOARD_[A-Z0-9_]+):[ \t]*("[^"]*"|[^,}\s]*)"#).unwrap();
    let mut found: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in lines {
        let line = with_defaults(line);
        for c in pattern.captures_iter(&line) {
            found
                .entry(c[1].to_owned())
                .or_default()
                .push(c[2].trim_matches('"').to_owned());
        }
    }
    found
}

/// The services of the compose file: name → its lines (from `services:` to the next
/// top-level key).
fn compose_services<'a>(lines: &[&'a str]) -> BTreeMap<String, Vec<&'a str>> {
    let mut services: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    let mut inside = false;
    let mut current: Option<String> = None;
    for line in lines {
        if !line.starts_with(' ') && !line.trim().is_empty() {
            inside = line.starts_with("services:");
            current = None;
            continue;
        }
        if !inside {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        if indent == 2 && line.trim_end().ends_with(':') {
            let name = line.trim().trim_end_matches(':').to_owned();
            services.insert(name.clone(), Vec::new());
            current = Some(name);
        } else if let Some(name) = &current {
            services.get_mut(name).expect("service").push(line);
        }
    }
    services
}

#[test]
fn every_compose_setting_is_real_and_the_defaults_make_a_production_without_demo_secrets() {
    let text = repository_file("deploy/compose.yaml");
    let lines = without_comments(&text);
    let set = compose_settings(&lines);
    assert!(set.contains_key("SWITCHBOARD_DATABASE_URL"), "{set:?}");
    assert!(set.contains_key("SWITCHBOARD_APP__JWT_SECRET"), "{set:?}");
    // Each value the file gives a variable, together with the others' first values.
    for (name, values) in &set {
        for value in values {
            let env: Vec<(String, String)> = set
                .iter()
                .map(|(n, v)| {
                    let v = if n == name { value } else { &v[0] };
                    (n.clone(), v.clone())
                })
                .collect();
            let settings = Settings::load_from(&config_dir(), Mode::Production, env)
                .unwrap_or_else(|e| panic!("{name}={value:?}: {e:#}"));
            assert!(
                settings.demo_secrets_in_use().is_empty(),
                "demo secrets in the compose defaults: {:?}",
                settings.demo_secrets_in_use()
            );
        }
    }
    // A variable the comments tell operators to set is one the file passes to the nodes.
    let mentioned = regex::Regex::new(r"SWITCHBOARD_[A-Z0-9_]*[A-Z0-9]").unwrap();
    for name in mentioned.find_iter(&text) {
        assert!(
            set.contains_key(name.as_str()),
            "{} is mentioned but not passed to the nodes",
            name.as_str()
        );
    }
}

#[test]
fn only_the_demo_profile_runs_demo_data_and_the_cluster_serves_production() {
    let text = repository_file("deploy/compose.yaml");
    let lines = without_comments(&text);
    let services = compose_services(&lines);
    let runs_demo = |line: &str| line.contains("--demo-data") || line.contains("[\"demo\"");
    let in_demo_profile = |block: &[&str]| block.iter().any(|l| l.trim() == "profiles: [\"demo\"]");
    // Outside the services (the shared x-node block), nothing runs demo data.
    let in_services: Vec<&str> = services.values().flatten().copied().collect();
    for line in &lines {
        if !in_services.contains(line) && line.contains("command:") {
            assert!(!runs_demo(line), "a shared block runs the demo: {line}");
        }
    }
    for (name, block) in &services {
        if block.iter().any(|l| runs_demo(l)) {
            assert!(
                in_demo_profile(block),
                "{name} runs demo data outside the demo profile"
            );
        }
    }
    for node in ["node-1", "node-2", "node-3"] {
        let block = &services[node];
        assert!(block.contains(&"    <<: *node"), "{node}: {block:?}");
        assert!(!in_demo_profile(block), "{node} is in the demo profile");
        assert!(
            block
                .iter()
                .any(|l| l.contains(&format!("SWITCHBOARD_NODE_ID: {node}"))),
            "{node} names itself"
        );
    }
    assert!(
        lines.contains(&"  command: [\"serve\"]"),
        "the cluster's nodes run `serve`"
    );
    let demo = services.get("demo").expect("a demo service");
    assert!(in_demo_profile(demo));
    assert!(demo
        .iter()
        .any(|l| l.contains("[\"serve\", \"--demo-data\"]")));
    assert!(
        !demo.iter().any(|l| l.contains("SWITCHBOARD_DATABASE_URL")),
        "the demo keeps to its own SQLite file, away from the cluster's database"
    );
}

#[test]
fn the_dockerfile_builds_the_release_binary_from_files_the_context_keeps() {
    let dockerfile = repository_file("Dockerfile");
    for expected in [
        "cargo build --release --locked --bin switchboard",
        "COPY config/ /etc/switchboard/",
        "ENV SWITCHBOARD_CONFIG_DIR=/etc/switchboard",
        "USER switchboard",
        "EXPOSE 8080",
        "/readyz",
        "ENTRYPOINT [\"switchboard\"]",
        "CMD [\"serve\"]",
    ] {
        assert!(dockerfile.contains(expected), "Dockerfile lacks {expected}");
    }
    // The build reads these (Cargo.toml names the benches' files, lib.rs the actors' and
    // channels' folders); .dockerignore must keep them.
    let ignored: Vec<String> = repository_file(".dockerignore")
        .lines()
        .map(|l| l.trim().trim_end_matches('/').to_owned())
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    for needed in [
        "Cargo.toml",
        "Cargo.lock",
        "rust-toolchain.toml",
        "src",
        "actors",
        "channels",
        "config",
        "benches",
    ] {
        assert!(
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join(needed)
                .exists(),
            "{needed} is gone"
        );
        assert!(
            !ignored.iter().any(|p| p == needed || p == "*" || p == "**"),
            ".dockerignore leaves out {needed}"
        );
    }
    assert!(ignored.iter().any(|p| p == "target"), "{ignored:?}");
    assert!(ignored.iter().any(|p| p == ".git"), "{ignored:?}");
}
