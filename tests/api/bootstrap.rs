//! A deployment from nothing: `switchboard staff add` creates the first admin in an empty
//! store, a production `serve` without demo data starts with that account only, and a
//! production node refuses the demo's published secrets.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::json;

use crate::helpers::{config_dir, Process, WAIT};

/// Runs `switchboard staff add` on the SQLite file `db` with `password` on standard input;
/// the exit code and what it printed (stdout, stderr).
fn staff_add(db: &std::path::Path, args: &[&str], password: &str) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["staff", "add", "--password-stdin"])
        .args(args)
        .env("SWITCHBOARD_CONFIG_DIR", config_dir())
        .env(
            "SWITCHBOARD_DATABASE_URL",
            format!("sqlite://{}", db.display()),
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{password}\n").as_bytes())
        .expect("password");
    let output = child.wait_with_output().expect("exits");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// A production node (`serve`, no demo data) on the SQLite file `db`.
fn serve(db: &std::path::Path, port: u16, env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_switchboard"));
    command
        .args(["serve", "--port", &port.to_string()])
        .env("SWITCHBOARD_CONFIG_DIR", config_dir())
        .env(
            "SWITCHBOARD_DATABASE_URL",
            format!("sqlite://{}", db.display()),
        )
        .env("SWITCHBOARD_HTTP__HOST", "127.0.0.1")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (key, value) in env {
        command.env(key, value);
    }
    command
}

#[actix_web::test]
async fn the_first_admin_is_created_from_the_command_line_and_logs_in_to_an_empty_production() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("prod.db");

    let (code, _, stderr) = staff_add(&db, &["--username", "grace", "--role", "admin"], "short");
    assert_eq!(code, 1, "a weak password is refused");
    assert!(stderr.contains("at least 10 characters"), "{stderr}");
    let (code, _, stderr) = staff_add(
        &db,
        &["--username", "grace", "--role", "owner"],
        "a long enough secret",
    );
    assert_eq!(code, 1);
    assert!(stderr.contains("unknown role"), "{stderr}");
    let (code, stdout, stderr) = staff_add(
        &db,
        &[
            "--username",
            "grace",
            "--role",
            "admin",
            "--display-name",
            "Grace Hopper",
        ],
        "a long enough secret",
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("created admin grace"), "{stdout}");
    let (code, _, stderr) = staff_add(
        &db,
        &["--username", "grace", "--role", "agent"],
        "another long secret",
    );
    assert_eq!(code, 1, "the username exists");
    assert!(stderr.contains("exists"), "{stderr}");

    let port = free_port();
    let _node = Process(serve(&db, port, &[]).spawn().expect("serves"));
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let started = std::time::Instant::now();
    while client.get(format!("{base}/healthz")).send().await.is_err() {
        assert!(started.elapsed() < WAIT * 4, "the node did not start");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // No demo accounts: only the admin made above.
    let demo = client
        .post(format!("{base}/v1/auth/login"))
        .json(&json!({"username": "sam", "password": "demo"}))
        .send()
        .await
        .expect("login");
    assert_eq!(demo.status(), 401);
    let login: serde_json::Value = client
        .post(format!("{base}/v1/auth/login"))
        .json(&json!({"username": "grace", "password": "a long enough secret"}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    assert_eq!(login["role"], "admin", "{login}");
    let me: serde_json::Value = client
        .get(format!("{base}/v1/me"))
        .bearer_auth(login["token"].as_str().expect("token"))
        .send()
        .await
        .expect("me")
        .json()
        .await
        .expect("json");
    assert_eq!(me["name"], "Grace Hopper");
}

#[test]
fn a_production_node_refuses_the_demo_secrets() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("prod.db");
    let output = serve(
        &db,
        free_port(),
        &[(
            "SWITCHBOARD_IVR__SECRET",
            "whsec_Q+Y4HW9jMm/YeDWkA7QytT1wLnz/UBYZ",
        )],
    )
    .output()
    .expect("runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("ivr.secret"), "{stderr}");
    assert!(
        !stderr.contains("whsec_"),
        "the secret itself is never printed: {stderr}"
    );
}
