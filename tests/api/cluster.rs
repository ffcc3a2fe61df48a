//! Cluster test: three `serve` processes on one PostgreSQL and one RabbitMQ. Customers write
//! to any node while nodes are killed with SIGKILL and restarted, again and again; afterwards
//! every acknowledged message is stored exactly once and in order per customer, and hand-offs
//! made during the chaos are each assigned exactly once.
#![cfg(feature = "integration-tests")]

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::{config_dir, Ws};

const NODES: usize = 3;
const CUSTOMERS: usize = 12;
const KILLS: usize = 10;

struct Node {
    child: Option<Child>,
    port: u16,
    env: Vec<(String, String)>,
    index: usize,
}

impl Node {
    fn spawn(&mut self) {
        let mut command = Command::new(env!("CARGO_BIN_EXE_switchboard"));
        command
            .args(["serve", "--demo-data", "--port", &self.port.to_string()])
            .env("SWITCHBOARD_CONFIG_DIR", config_dir())
            .env("SWITCHBOARD_NODE_ID", format!("node-{}", self.index))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(
                std::fs::File::options()
                    .create(true)
                    .append(true)
                    .open(self.log_path())
                    .expect("log file"),
            );
        for (k, v) in &self.env {
            command.env(k, v);
        }
        self.child = Some(command.spawn().expect("node starts"));
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("SIGKILL");
            child.wait().expect("reaped");
        }
    }

    /// Where this node's logs go (named in failure messages).
    fn log_path(&self) -> std::path::PathBuf {
        std::env::temp_dir().join(format!(
            "switchboard-cluster-{}-node{}.log",
            self.port, self.index
        ))
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn wait_ready(client: &reqwest::Client, node: &Node) {
    for _ in 0..600 {
        if let Ok(r) = client.get(node.url("/readyz")).send().await {
            if r.status() == 200 {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "node {} did not become ready; its log: {}",
        node.index,
        node.log_path().display()
    );
}

/// Logs a demo account in on `node`; returns the token.
async fn login(client: &reqwest::Client, node: &Node, username: &str) -> String {
    let body: Value = client
        .post(node.url("/v1/auth/login"))
        .json(&json!({"username": username, "password": "demo"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["token"].as_str().unwrap().to_owned()
}

/// Sends one message, trying every node in turn (same client_id each time) until one
/// acknowledges it. Bounded: gives up after 40 attempts.
async fn send(
    client: &reqwest::Client,
    ports: &[u16],
    first: usize,
    token: &str,
    text: &str,
    client_id: &str,
) -> Value {
    for attempt in 0..40 {
        let port = ports[(first + attempt) % ports.len()];
        let response = client
            .post(format!("http://127.0.0.1:{port}/v1/messages"))
            .bearer_auth(token)
            .json(&json!({"text": text, "client_id": client_id}))
            .timeout(Duration::from_secs(20))
            .send()
            .await;
        if let Ok(r) = response {
            if r.status() == 202 {
                return r.json().await.unwrap();
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("message {client_id} was never acknowledged");
}

#[actix_web::test]
async fn a_three_node_cluster_survives_repeated_kill_minus_nine_without_losing_or_duplicating() {
    let database = crate::helpers::fresh_postgres_database().await;
    let amqp = std::env::var("SWITCHBOARD_TEST_AMQP_URL").expect("SWITCHBOARD_TEST_AMQP_URL");
    let namespace = format!("sbtest{}", uuid::Uuid::new_v4().simple());
    let env: Vec<(String, String)> = [
        ("SWITCHBOARD_DATABASE_URL", database.as_str()),
        ("SWITCHBOARD_AMQP_URL", amqp.as_str()),
        ("SWITCHBOARD_BUS__NAMESPACE", namespace.as_str()),
        ("SWITCHBOARD_BUS__QUEUE_EXPIRES_MS", "60000"),
        ("SWITCHBOARD_HTTP__HOST", "127.0.0.1"),
        ("SWITCHBOARD_LIMITS__CUSTOMER_REFILL_MS", "1"),
        ("SWITCHBOARD_LIMITS__CUSTOMER_BURST", "100000"),
        ("SWITCHBOARD_SESSION__REPLY_TIMEOUT_MS", "4000"),
        ("SWITCHBOARD_ROUTING__OFFER_TIMEOUT_MS", "3000"),
        ("SWITCHBOARD_ROUTING__DECLINE_COOL_DOWN_MS", "500"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let mut nodes: Vec<Node> = (0..NODES)
        .map(|index| Node {
            child: None,
            port: free_port(),
            env: env.clone(),
            index,
        })
        .collect();
    let client = reqwest::Client::new();
    // Start one node first so migrations and demo data are in place, then the others.
    nodes[0].spawn();
    wait_ready(&client, &nodes[0]).await;
    for node in nodes.iter_mut().skip(1) {
        node.spawn();
    }
    for node in &nodes {
        wait_ready(&client, node).await;
    }
    let ports: Vec<u16> = nodes.iter().map(|n| n.port).collect();

    // Alice's desk lives on node 0, which is never killed; she accepts every offer.
    let alice = login(&client, &nodes[0], "alice").await;
    let mut desk = Ws::connect(&format!(
        "ws://127.0.0.1:{}/v1/ws/agent?token={alice}",
        ports[0]
    ))
    .await;
    desk.next_of_type("hello").await;
    desk.send(json!({"type": "status", "status": "available"}))
        .await;
    desk.next_of_type("status").await;
    let sam = login(&client, &nodes[0], "sam").await;

    let mut customers = Vec::new();
    for _ in 0..CUSTOMERS {
        let v: Value = client
            .post(nodes[0].url("/v1/visitors"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        customers.push((
            v["visitor_token"].as_str().unwrap().to_owned(),
            v["customer_id"].as_str().unwrap().to_owned(),
        ));
    }

    // Rounds of traffic; between rounds a node (1 or 2) is killed and, a round later, restarted.
    let mut acked: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut handed_off = Vec::new();
    let mut kills = 0;
    let mut round = 0;
    while kills < KILLS {
        let victim = 1 + kills % 2;
        nodes[victim].kill();
        kills += 1;
        for (i, (token, customer)) in customers.iter().enumerate() {
            // Questions the bot understands, so only "human please" hands off.
            let text = format!("refund question {round} from {i}");
            let ack = send(
                &client,
                &ports,
                i + round,
                token,
                &text,
                &format!("r{round}-c{i}"),
            )
            .await;
            assert!(ack["message_id"].is_string());
            acked.entry(customer.clone()).or_default().push(text);
        }
        // One customer per round asks for a person: a task is created mid-chaos.
        let (token, customer) = &customers[round % CUSTOMERS];
        if !handed_off.contains(customer) {
            send(
                &client,
                &ports,
                round,
                token,
                "human please",
                &format!("h{round}"),
            )
            .await;
            acked
                .entry(customer.clone())
                .or_default()
                .push("human please".to_owned());
            handed_off.push(customer.clone());
        }
        nodes[victim].spawn();
        wait_ready(&client, &nodes[victim]).await;
        round += 1;
    }

    // Every acknowledged message exactly once, in order, per customer.
    for (customer, expected) in &acked {
        let messages: Value = client
            .get(nodes[0].url(&format!("/v1/customers/{customer}/messages")))
            .bearer_auth(&sam)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let stored: Vec<String> = messages
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["from"] == "customer")
            .map(|m| m["text"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            &stored, expected,
            "customer {customer}: lost, duplicated or reordered messages"
        );
    }

    // Every hand-off is offered to Alice and assigned exactly once (bounded wait).
    let mut assigned = BTreeMap::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while assigned.len() < handed_off.len() && tokio::time::Instant::now() < deadline {
        let Some(frame) = desk
            .find_within(Duration::from_secs(5), |f| {
                f["type"] == "offer" || f["type"] == "assigned"
            })
            .await
        else {
            continue;
        };
        if frame["type"] == "offer" {
            desk.send(json!({"type": "accept", "task_id": frame["task_id"]}))
                .await;
        } else {
            let customer = frame["customer"]["id"].as_str().unwrap().to_owned();
            *assigned.entry(customer).or_insert(0) += 1;
            // Free Alice's capacity for the next one.
            desk.send(json!({"type": "wrap_up", "conversation_id": frame["conversation_id"], "resolution": "resolved"}))
                .await;
        }
    }
    for customer in &handed_off {
        assert_eq!(
            assigned.get(customer),
            Some(&1),
            "hand-off of {customer} assigned {:?} times",
            assigned.get(customer)
        );
    }
    assert!(
        !desk
            .sees_within("assigned", Duration::from_millis(500))
            .await,
        "an extra assignment arrived"
    );
}
