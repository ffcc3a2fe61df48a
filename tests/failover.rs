//! Failover: RabbitMQ and then PostgreSQL are stopped under a running node and started again.
//! Meanwhile the node reports not-ready and refuses (never half-accepts) messages; afterwards it
//! recovers by itself and every acknowledged message is stored exactly once.
//!
//! Its own test binary (cargo runs test binaries one after another), so stopping the servers
//! cannot disturb the other tests; both scenarios run in one test, in sequence.
#![cfg(feature = "integration-tests")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
#[path = "api/helpers.rs"]
mod helpers;

use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use helpers::{spawn_app, TestApp, Visitor};

fn script(name: &str, action: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("deploy")
        .join(name);
    let status = Command::new(path)
        .arg(action)
        .status()
        .expect("script runs");
    assert!(status.success(), "deploy/{name} {action} failed");
}

/// Polls `/readyz` until it answers `status` (bounded: 90 s).
async fn wait_readiness(app: &TestApp, status: u16) {
    for _ in 0..900 {
        if let Ok(r) = app
            .client
            .get(app.url("/readyz"))
            .timeout(Duration::from_secs(12))
            .send()
            .await
        {
            if r.status().as_u16() == status {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("/readyz never answered {status}");
}

/// Sends until acknowledged (same client_id each time), bounded to 60 attempts.
async fn send_until_acked(app: &TestApp, visitor: &Visitor, text: &str, client_id: &str) {
    for _ in 0..60 {
        let response = app
            .client
            .post(app.url("/v1/messages"))
            .bearer_auth(&visitor.token)
            .json(&serde_json::json!({"text": text, "client_id": client_id}))
            .timeout(Duration::from_secs(20))
            .send()
            .await;
        if response.is_ok_and(|r| r.status() == 202) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("{client_id} was never acknowledged");
}

async fn refused_while_down(app: &TestApp, visitor: &Visitor, client_id: &str) {
    let response = app
        .post_message(&visitor.token, "while down", client_id)
        .await;
    let status = response.status().as_u16();
    assert_eq!(
        status, 503,
        "a message must be refused, not half-accepted, while a server is down"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_ready");
}

async fn stored_customer_texts(app: &TestApp, visitor: &Visitor) -> Vec<String> {
    let current = app.current(&visitor.token).await;
    current["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["from"] == "customer")
        .map(|m| m["text"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn a_node_survives_a_broker_restart_and_a_database_restart_without_losing_anything() {
    let database = helpers::fresh_postgres_database().await;
    let amqp = std::env::var("SWITCHBOARD_TEST_AMQP_URL").expect("SWITCHBOARD_TEST_AMQP_URL");
    let namespace = format!("sbtest{}", uuid::Uuid::new_v4().simple());
    let app = spawn_app(&[
        ("SWITCHBOARD_DATABASE_URL", database.as_str()),
        ("SWITCHBOARD_AMQP_URL", amqp.as_str()),
        ("SWITCHBOARD_BUS__NAMESPACE", namespace.as_str()),
        ("SWITCHBOARD_BUS__QUEUE_EXPIRES_MS", "60000"),
        ("SWITCHBOARD_SESSION__REPLY_TIMEOUT_MS", "3000"),
    ])
    .await;
    let visitor = app.visitor().await;
    let mut expected = Vec::new();
    for i in 0..3 {
        let text = format!("refund before {i}");
        send_until_acked(&app, &visitor, &text, &format!("b{i}")).await;
        expected.push(text);
    }

    // The broker goes away: not ready, messages refused; back: ready, messages flow.
    script("rabbitmq.sh", "stop");
    wait_readiness(&app, 503).await;
    refused_while_down(&app, &visitor, "down-1").await;
    script("rabbitmq.sh", "start");
    wait_readiness(&app, 200).await;
    for i in 0..3 {
        let text = format!("refund after broker {i}");
        send_until_acked(&app, &visitor, &text, &format!("a{i}")).await;
        expected.push(text);
    }

    // The database goes away: the same.
    script("postgres.sh", "stop");
    wait_readiness(&app, 503).await;
    refused_while_down(&app, &visitor, "down-2").await;
    script("postgres.sh", "start");
    wait_readiness(&app, 200).await;
    for i in 0..3 {
        let text = format!("refund after database {i}");
        send_until_acked(&app, &visitor, &text, &format!("d{i}")).await;
        expected.push(text);
    }

    // Everything acknowledged is there exactly once; the refused ones are not.
    let stored = stored_customer_texts(&app, &visitor).await;
    assert_eq!(stored, expected);
}
