//! Crash test: SIGKILL the server process mid-conversation, start it again on the same data
//! file: every acknowledged message is there exactly once and the customer continues in the
//! same conversation.

use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use crate::helpers::{start_process, Process};

/// A server on `db` (flood control relaxed: this test is about durability).
async fn start(db: &std::path::Path) -> (Process, String) {
    start_process(
        db,
        &[
            ("SWITCHBOARD_LIMITS__CUSTOMER_REFILL_MS", "1"),
            ("SWITCHBOARD_LIMITS__CUSTOMER_BURST", "100000"),
        ],
    )
    .await
}

async fn send(client: &reqwest::Client, base: &str, token: &str, i: usize) -> Result<Value, ()> {
    let response = client
        .post(format!("{base}/v1/messages"))
        .bearer_auth(token)
        .json(&serde_json::json!({"text": format!("message {i}"), "client_id": format!("k-{i}")}))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .map_err(|_| ())?;
    if response.status() != 202 {
        return Err(());
    }
    response.json().await.map_err(|_| ())
}

#[actix_web::test]
async fn a_killed_server_loses_no_acknowledged_message_and_the_customer_continues() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crash.db");
    let (mut server, base) = start(&db).await;
    let client = reqwest::Client::new();
    let visitor: Value = client
        .post(format!("{base}/v1/visitors"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = visitor["visitor_token"].as_str().unwrap().to_owned();

    // A customer keeps writing; the server is killed while they do.
    let acked: Arc<Mutex<Vec<(usize, Value)>>> = Arc::default();
    let sender = {
        let (acked, client, base, token) = (
            Arc::clone(&acked),
            client.clone(),
            base.clone(),
            token.clone(),
        );
        actix_web::rt::spawn(async move {
            for i in 0..500 {
                match send(&client, &base, &token, i).await {
                    Ok(ack) => acked.lock().unwrap().push((i, ack)),
                    Err(()) => return i, // the first message without an ack
                }
            }
            500
        })
    };
    for _ in 0..400 {
        if acked.lock().unwrap().len() >= 25 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.0.kill().expect("SIGKILL");
    server.0.wait().unwrap();
    let unacked = sender.await.unwrap();
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() >= 25,
        "only {} messages were acknowledged before the kill",
        acked.len()
    );
    let conversation_id = acked[0].1["conversation_id"].clone();
    assert!(acked
        .iter()
        .all(|(_, ack)| ack["conversation_id"] == conversation_id));

    // Same data file, new process: the same token still works.
    let (_server, base) = start(&db).await;
    let current: Value = client
        .get(format!("{base}/v1/conversations/current"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(current["id"], conversation_id);
    let texts: Vec<String> = current["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["from"] == "customer")
        .map(|m| m["text"].as_str().unwrap().to_owned())
        .collect();
    for (i, ack) in &acked {
        let copies = texts
            .iter()
            .filter(|t| **t == format!("message {i}"))
            .count();
        assert_eq!(copies, 1, "acknowledged message {i} stored {copies} times");
        let stored = current["messages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == ack["message_id"]);
        assert!(
            stored.is_some(),
            "acknowledged id of message {i} is missing"
        );
    }

    // The message in flight at the kill may or may not have been stored: resending it with
    // the same client_id stores it exactly once.
    send(&client, &base, &token, unacked)
        .await
        .expect("resend accepted");
    send(&client, &base, &token, unacked)
        .await
        .expect("second resend accepted");
    let next = send(&client, &base, &token, 10_000)
        .await
        .expect("new message accepted");
    assert_eq!(next["conversation_id"], conversation_id);
    let current: Value = client
        .get(format!("{base}/v1/conversations/current"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let copies = current["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["text"] == format!("message {unacked}"))
        .count();
    assert_eq!(copies, 1);
}

#[actix_web::test]
async fn sigterm_stops_the_server_gracefully_and_keeps_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("term.db");
    let (mut server, base) = start(&db).await;
    let client = reqwest::Client::new();
    let visitor: Value = client
        .post(format!("{base}/v1/visitors"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = visitor["visitor_token"].as_str().unwrap().to_owned();
    send(&client, &base, &token, 1).await.expect("accepted");

    let pid = server.0.id().to_string();
    let status = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    assert!(status.success());
    // Bounded wait for the exit; a graceful stop exits 0.
    let mut exit = None;
    for _ in 0..300 {
        if let Some(code) = server.0.try_wait().unwrap() {
            exit = Some(code);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let exit = exit.expect("the server did not stop after SIGTERM");
    assert!(exit.success(), "exit status {exit:?}");

    let (_server, base) = start(&db).await;
    let current: Value = client
        .get(format!("{base}/v1/conversations/current"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(current["messages"][0]["text"], "message 1");
}
