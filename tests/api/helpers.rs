//! `spawn_app()` and request/WebSocket helpers shared by the API tests.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use switchboard::settings::{Mode, Settings};
use switchboard::startup::Application;
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// Upper bound for anything that should happen; a bound, never an assertion about speed.
pub const WAIT: Duration = Duration::from_secs(15);

/// A running server and a client for it.
pub struct TestApp {
    pub address: String,
    pub port: u16,
    pub client: reqwest::Client,
    /// The SQLite file (unless the test chose PostgreSQL).
    pub db_path: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

/// Starts a demo-mode server (seeded accounts) on a random port with its own data file.
/// `overrides` are extra `SWITCHBOARD_*` variables.
pub async fn spawn_app(overrides: &[(&str, &str)]) -> TestApp {
    if std::env::var("TEST_LOG").is_ok() {
        let settings =
            Settings::load_from(&config_dir(), Mode::Demo, Vec::new()).expect("settings");
        switchboard::telemetry::init_tracing(&settings.log);
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let db_path = dir.path().join("switchboard.db");
    let mut env = vec![
        ("SWITCHBOARD_HTTP_PORT".to_owned(), "0".to_owned()),
        (
            "SWITCHBOARD_DATABASE_URL".to_owned(),
            format!("sqlite://{}", db_path.display()),
        ),
    ];
    // Tests start with the built-in routing unless they ask for the demo rule set.
    if !overrides
        .iter()
        .any(|(k, _)| *k == "SWITCHBOARD_DEMO__ROUTING_RULES")
    {
        env.push((
            "SWITCHBOARD_DEMO__ROUTING_RULES".to_owned(),
            "false".to_owned(),
        ));
    }
    env.extend(
        overrides
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    let settings = Settings::load_from(&config_dir(), Mode::Demo, env).expect("settings");
    let app = Application::build(settings).await.expect("app builds");
    let port = app.port();
    actix_web::rt::spawn(app.run_until_stopped());
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        client: reqwest::Client::new(),
        db_path,
        _dir: dir,
    }
}

pub fn config_dir() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("config")
}

/// A web visitor: token and customer id.
pub struct Visitor {
    pub token: String,
    pub customer_id: String,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// The node's Prometheus text (`GET /metrics`).
    pub async fn metrics(&self) -> String {
        self.client
            .get(self.url("/metrics"))
            .send()
            .await
            .expect("request")
            .text()
            .await
            .expect("text")
    }

    pub fn ws_url(&self, path: &str, token: &str) -> String {
        format!("ws://127.0.0.1:{}{path}?token={token}", self.port)
    }

    pub async fn visitor(&self) -> Visitor {
        let response = self
            .client
            .post(self.url("/v1/visitors"))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.expect("json");
        Visitor {
            token: body["visitor_token"].as_str().expect("token").to_owned(),
            customer_id: body["customer_id"].as_str().expect("customer").to_owned(),
        }
    }

    pub async fn login(&self, username: &str) -> (String, String) {
        let response = self
            .client
            .post(self.url("/v1/auth/login"))
            .json(&json!({"username": username, "password": "demo"}))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 200, "login {username}");
        let body: Value = response.json().await.expect("json");
        (
            body["token"].as_str().expect("token").to_owned(),
            body["agent_id"].as_str().unwrap_or_default().to_owned(),
        )
    }

    pub async fn post_message(
        &self,
        token: &str,
        text: &str,
        client_id: &str,
    ) -> reqwest::Response {
        self.client
            .post(self.url("/v1/messages"))
            .bearer_auth(token)
            .json(&json!({"text": text, "client_id": client_id}))
            .send()
            .await
            .expect("request")
    }

    pub async fn current(&self, token: &str) -> Value {
        let response = self
            .client
            .get(self.url("/v1/conversations/current"))
            .bearer_auth(token)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 200);
        response.json().await.expect("json")
    }

    /// The customer behind `(channel, external_id)` (staff `token`), if any.
    pub async fn lookup(&self, token: &str, channel: &str, external_id: &str) -> Option<String> {
        let encoded: String = form_urlencoded::byte_serialize(external_id.as_bytes()).collect();
        let (status, body) = self
            .get_json(
                &format!("/v1/customers/lookup?channel={channel}&external_id={encoded}"),
                token,
            )
            .await;
        (status == 200).then(|| body["customer_id"].as_str().expect("id").to_owned())
    }

    /// Every message of a customer across channels, oldest first (staff `token`).
    pub async fn customer_messages(&self, token: &str, customer: &str) -> Vec<Value> {
        let (status, body) = self
            .get_json(&format!("/v1/customers/{customer}/messages"), token)
            .await;
        assert_eq!(status, 200, "{body}");
        body.as_array().expect("array").clone()
    }

    pub async fn get_json(&self, path: &str, token: &str) -> (u16, Value) {
        self.request_json(reqwest::Method::GET, path, token, None)
            .await
    }

    pub async fn post_json(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        self.request_json(reqwest::Method::POST, path, token, Some(body))
            .await
    }

    pub async fn delete_json(&self, path: &str, token: &str) -> (u16, Value) {
        self.request_json(reqwest::Method::DELETE, path, token, None)
            .await
    }

    /// A bearer-authenticated request; the status and the JSON answer (null if none).
    pub async fn request_json(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self
            .client
            .request(method, self.url(path))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// A connected agent desk, already `available`.
    pub async fn available_agent(&self, username: &str) -> Ws {
        let (token, _) = self.login(username).await;
        let mut ws = Ws::connect(&self.ws_url("/v1/ws/agent", &token)).await;
        ws.next_of_type("hello").await;
        ws.send(json!({"type": "status", "status": "available"}))
            .await;
        ws.next_of_type("status").await;
        ws
    }

    pub async fn customer_ws(&self, visitor: &Visitor) -> Ws {
        Ws::connect(&self.ws_url("/v1/ws/customer", &visitor.token)).await
    }
}

/// A WebSocket client speaking JSON text frames. Frames read while looking for another kind
/// are kept, so a later search still finds them (arrival order is kept too).
pub struct Ws {
    stream: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    pending: std::collections::VecDeque<Value>,
}

impl Ws {
    pub async fn connect(url: &str) -> Ws {
        let (stream, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("WebSocket connects");
        Ws {
            stream,
            pending: Default::default(),
        }
    }

    pub async fn send(&mut self, value: Value) {
        self.stream
            .send(WsMessage::Text(value.to_string()))
            .await
            .expect("send");
    }

    pub async fn send_raw(&mut self, text: &str) {
        self.stream
            .send(WsMessage::Text(text.to_owned()))
            .await
            .expect("send");
    }

    /// Reads one new frame from the socket, or None if nothing arrives within `limit` or the
    /// socket closes.
    async fn read_within(&mut self, limit: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let frame = tokio::time::timeout_at(deadline, self.stream.next())
                .await
                .ok()??;
            match frame.ok()? {
                WsMessage::Text(text) => {
                    return Some(serde_json::from_str(&text).expect("JSON frame"))
                }
                WsMessage::Close(_) => return None,
                _ => continue,
            }
        }
    }

    /// The first frame (kept or new) matching `wanted`, within `limit`.
    pub async fn find_within(
        &mut self,
        limit: Duration,
        wanted: impl Fn(&Value) -> bool,
    ) -> Option<Value> {
        if let Some(i) = self.pending.iter().position(&wanted) {
            return self.pending.remove(i);
        }
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let frame = self.read_within(left).await?;
            if wanted(&frame) {
                return Some(frame);
            }
            self.pending.push_back(frame);
        }
    }

    /// The first frame of `kind` (panics after [`WAIT`]).
    pub async fn next_of_type(&mut self, kind: &str) -> Value {
        self.find_within(WAIT, |f| f["type"] == kind)
            .await
            .unwrap_or_else(|| panic!("no '{kind}' frame arrived; kept: {:?}", self.pending))
    }

    /// The first `message` whose text contains `needle`.
    pub async fn message_containing(&mut self, needle: &str) -> Value {
        self.find_within(WAIT, |f| {
            f["type"] == "message" && f["text"].as_str().unwrap_or_default().contains(needle)
        })
        .await
        .unwrap_or_else(|| panic!("no message containing '{needle}'; kept: {:?}", self.pending))
    }

    /// True if a frame of `kind` arrives (or was kept) within `limit`; it is consumed.
    pub async fn sees_within(&mut self, kind: &str, limit: Duration) -> bool {
        self.find_within(limit, |f| f["type"] == kind)
            .await
            .is_some()
    }

    /// True once the server has closed the socket (within [`WAIT`]).
    pub async fn closed_by_server(&mut self) -> bool {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match tokio::time::timeout_at(deadline, self.stream.next()).await {
                Err(_) => return false,
                Ok(None) | Ok(Some(Err(_))) | Ok(Some(Ok(WsMessage::Close(_)))) => return true,
                Ok(Some(Ok(_))) => continue,
            }
        }
    }

    pub async fn close(mut self) {
        let _ = self.stream.close(None).await;
    }
}

/// Asserts a 422 `invalid_rules` answer lists a problem at each of `paths`.
pub fn assert_problems_at(body: &Value, paths: &[&str]) {
    let listed: Vec<&str> = body["problems"]
        .as_array()
        .unwrap_or_else(|| panic!("no problems listed: {body}"))
        .iter()
        .filter_map(|p| p["path"].as_str())
        .collect();
    for expected in paths {
        assert!(listed.contains(expected), "{expected} missing: {body}");
    }
}

/// Customer writes over the WebSocket and waits for the ack.
pub async fn say(ws: &mut Ws, text: &str, client_id: &str) -> Value {
    ws.send(json!({"type": "message", "text": text, "client_id": client_id}))
        .await;
    let ack = ws.next_of_type("ack").await;
    assert_eq!(ack["client_id"], client_id);
    ack
}

/// A fresh, empty PostgreSQL database on the test server started by `deploy/test.sh`.
#[cfg(feature = "integration-tests")]
pub async fn fresh_postgres_database() -> String {
    let base = std::env::var("SWITCHBOARD_TEST_DATABASE_URL")
        .expect("SWITCHBOARD_TEST_DATABASE_URL (deploy/test.sh starts PostgreSQL and sets it)");
    let (client, connection) = tokio_postgres::connect(&base, tokio_postgres::NoTls)
        .await
        .expect("connect");
    actix_web::rt::spawn(connection);
    let name = format!("sb_test_{}", uuid::Uuid::new_v4().simple());
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create database");
    let (prefix, _) = base.rsplit_once('/').expect("URL with a database");
    format!("{prefix}/{name}")
}

/// Serves a fake provider on 127.0.0.1 (a free port, one worker) until the test ends; takes an
/// `HttpServer` app factory and evaluates to the port.
#[allow(unused_macros)] // tests/failover.rs shares these helpers without fakes
macro_rules! serve_fake {
    ($factory:expr) => {{
        let server = actix_web::HttpServer::new($factory)
            .workers(1)
            .bind(("127.0.0.1", 0))
            .expect("bind");
        let port = server.addrs()[0].port();
        actix_web::rt::spawn(server.run());
        port
    }};
}
#[allow(unused_imports)]
pub(crate) use serve_fake;

/// A server process (the real binary) killed when dropped, so a failing test leaves none.
pub struct Process(pub std::process::Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `switchboard demo` as a process on a free port with the SQLite file `db` and the
/// extra `SWITCHBOARD_*` variables `env`; returns once `/healthz` answers.
pub async fn start_process(db: &std::path::Path, env: &[(&str, &str)]) -> (Process, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_switchboard"));
    command
        .args([
            "demo",
            "--port",
            &port.to_string(),
            "--database-url",
            &format!("sqlite://{}", db.display()),
        ])
        .env("SWITCHBOARD_CONFIG_DIR", config_dir())
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    for (key, value) in env {
        command.env(key, value);
    }
    let server = Process(command.spawn().expect("server starts"));
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    for _ in 0..600 {
        if let Ok(r) = client.get(format!("{base}/healthz")).send().await {
            if r.status() == 200 {
                return (server, base);
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("server did not become healthy");
}
