//! A deployment from nothing: `switchboard staff add` creates the first admin in an empty
//! store, a production `serve` without demo data starts with that account only, the admin
//! staffs the centre through the API (an agent with a skill, a team), the agent signs in and
//! goes available on the desk, and a web customer who asks for a person is routed to them and
//! answered — no SQL, no demo data. And a production node refuses the demo's published
//! secrets.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{json, Value};

use crate::helpers::{config_dir, Process, Ws, WAIT};

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

/// A JSON request to the node at `base` (bearer `token` when given): status and answer.
async fn call(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = client.request(method, url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[actix_web::test]
async fn from_nothing_an_admin_staffs_the_centre_and_an_agent_answers_a_web_customer() {
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
    let admin = login["token"].as_str().expect("token").to_owned();
    let me: serde_json::Value = client
        .get(format!("{base}/v1/me"))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("me")
        .json()
        .await
        .expect("json");
    assert_eq!(me["name"], "Grace Hopper");
    let url = |path: &str| format!("{base}{path}");
    let (status, staff) = call(
        &client,
        reqwest::Method::GET,
        url("/v1/staff"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, 200, "{staff}");
    assert_eq!(
        staff["staff"].as_array().expect("staff").len(),
        1,
        "{staff}"
    );

    // The admin creates an agent with a skill, and a team with the agent in it.
    let (status, created) = call(
        &client,
        reqwest::Method::POST,
        url("/v1/staff"),
        Some(&admin),
        Some(json!({
            "username": "lin",
            "display_name": "Lin",
            "password": "first shift at the desk",
            "role": "agent",
            "skills": [{"name": "billing", "level": 3}],
            "languages": ["zh", "en"],
        })),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let lin_id = created["id"].as_str().expect("id").to_owned();
    let (status, team) = call(
        &client,
        reqwest::Method::POST,
        url("/v1/teams"),
        Some(&admin),
        Some(json!({"name": "Front desk", "members": [lin_id]})),
    )
    .await;
    assert_eq!(status, 201, "{team}");

    // The agent signs in, opens the desk and goes available.
    let (status, login) = call(
        &client,
        reqwest::Method::POST,
        url("/v1/auth/login"),
        None,
        Some(json!({"username": "lin", "password": "first shift at the desk"})),
    )
    .await;
    assert_eq!(status, 200, "{login}");
    assert_eq!(login["agent_id"], lin_id.as_str());
    let lin = login["token"].as_str().expect("token");
    let mut desk = Ws::connect(&format!("ws://127.0.0.1:{port}/v1/ws/agent?token={lin}")).await;
    let hello = desk.next_of_type("hello").await;
    assert_eq!(hello["skills"], json!([{"name": "billing", "level": 3}]));
    desk.send(json!({"type": "status", "status": "available"}))
        .await;
    assert_eq!(desk.next_of_type("status").await["status"], "available");

    // A web visitor asks for a person: the task is offered to Lin, who accepts and answers.
    let (status, visitor) = call(
        &client,
        reqwest::Method::POST,
        url("/v1/visitors"),
        None,
        None,
    )
    .await;
    assert_eq!(status, 201, "{visitor}");
    let customer = visitor["visitor_token"].as_str().expect("token");
    let (status, sent) = call(
        &client,
        reqwest::Method::POST,
        url("/v1/messages"),
        Some(customer),
        Some(json!({"text": "人工", "client_id": "first-1"})),
    )
    .await;
    assert_eq!(status, 202, "{sent}");
    let offer = desk.next_of_type("offer").await;
    assert_eq!(offer["customer"]["id"], visitor["customer_id"], "{offer}");
    desk.send(json!({"type": "accept", "task_id": offer["task_id"]}))
        .await;
    let assigned = desk.next_of_type("assigned").await;
    let conversation = assigned["conversation_id"].as_str().expect("conversation");
    desk.send(json!({
        "type": "message",
        "conversation_id": conversation,
        "text": "您好，我是林，请问有什么可以帮您？",
    }))
    .await;
    desk.message_containing("我是林").await; // stored and echoed

    let (status, current) = call(
        &client,
        reqwest::Method::GET,
        url("/v1/conversations/current"),
        Some(customer),
        None,
    )
    .await;
    assert_eq!(status, 200, "{current}");
    assert_eq!(current["status"], "assigned", "{current}");
    assert_eq!(current["agent_name"], "Lin");
    let answer = current["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .find(|m| m["from"] == "agent")
        .cloned()
        .unwrap_or_else(|| panic!("no answer from the agent: {current}"));
    assert_eq!(answer["text"], "您好，我是林，请问有什么可以帮您？");
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
