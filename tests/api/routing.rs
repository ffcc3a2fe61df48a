//! Offers: reject, timeout and disconnect re-offer to another agent; a task is never
//! assigned twice.

use std::time::Duration;

use serde_json::json;

use crate::helpers::{say, spawn_app, TestApp, Ws};

/// A customer who asked for a human; returns their socket.
async fn waiting_customer(app: &TestApp) -> Ws {
    let visitor = app.visitor().await;
    let mut customer = app.customer_ws(&visitor).await;
    say(&mut customer, "human please", "h-1").await;
    customer
}

#[actix_web::test]
async fn a_rejected_offer_goes_to_another_agent_and_is_assigned_once() {
    let app = spawn_app(&[]).await;
    let mut alice = app.available_agent("alice").await;
    let _customer = waiting_customer(&app).await;
    let offer = alice.next_of_type("offer").await;

    // Carol comes online: the task is already offered to Alice, so nothing for Carol yet.
    let mut carol = app.available_agent("carol").await;
    assert!(!carol.sees_within("offer", Duration::from_millis(300)).await);

    alice
        .send(json!({"type": "reject", "task_id": offer["task_id"]}))
        .await;
    alice.next_of_type("offer_revoked").await;
    let second = carol.next_of_type("offer").await;
    assert_eq!(second["task_id"], offer["task_id"]);
    // The reject counts against Alice, not Carol.
    let (sam, _) = app.login("sam").await;
    let (_, live) = app.get_json("/v1/queues", &sam).await;
    let missed = |name: &str| {
        live["agents"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"].as_str().unwrap().to_lowercase().contains(name))
            .map(|a| a["missed_offers"].clone())
    };
    assert_eq!(missed("alice"), Some(json!(1)), "{live}");
    assert_eq!(missed("carol"), Some(json!(0)), "{live}");

    // A late accept by Alice is refused; Carol's wins.
    alice
        .send(json!({"type": "accept", "task_id": offer["task_id"]}))
        .await;
    let revoked = alice.next_of_type("offer_revoked").await;
    assert_eq!(revoked["task_id"], offer["task_id"]);
    carol
        .send(json!({"type": "accept", "task_id": offer["task_id"]}))
        .await;
    carol.next_of_type("assigned").await;
    assert!(
        !alice
            .sees_within("assigned", Duration::from_millis(300))
            .await
    );
}

#[actix_web::test]
async fn an_offer_that_times_out_is_re_offered_to_another_agent() {
    let app = spawn_app(&[("SWITCHBOARD_ROUTING__OFFER_TIMEOUT_MS", "500")]).await;
    let mut alice = app.available_agent("alice").await;
    let _customer = waiting_customer(&app).await;
    let offer = alice.next_of_type("offer").await;
    assert_eq!(offer["expires_in_ms"], 500);
    let mut carol = app.available_agent("carol").await;

    // Alice does nothing.
    let revoked = alice.next_of_type("offer_revoked").await;
    assert_eq!(revoked["task_id"], offer["task_id"]);
    let second = carol.next_of_type("offer").await;
    assert_eq!(second["task_id"], offer["task_id"]);
}

#[actix_web::test]
async fn an_agent_disconnecting_during_an_offer_loses_it_to_another_agent() {
    let app = spawn_app(&[]).await;
    let mut alice = app.available_agent("alice").await;
    let _customer = waiting_customer(&app).await;
    let offer = alice.next_of_type("offer").await;
    let mut carol = app.available_agent("carol").await;
    alice.close().await;
    let second = carol.next_of_type("offer").await;
    assert_eq!(second["task_id"], offer["task_id"]);
}

#[actix_web::test]
async fn offers_respect_skills_and_language() {
    let app = spawn_app(&[]).await;
    // Bob speaks only Chinese; an English hand-off must not reach him.
    let mut bob = app.available_agent("bob").await;
    let _customer = waiting_customer(&app).await;
    assert!(!bob.sees_within("offer", Duration::from_millis(500)).await);
    // Carol speaks English.
    let mut carol = app.available_agent("carol").await;
    carol.next_of_type("offer").await;
}

#[actix_web::test]
async fn a_newer_desk_replaces_the_older_one() {
    let app = spawn_app(&[]).await;
    let mut first = app.available_agent("alice").await;
    let _second = app.available_agent("alice").await;
    let error = first.next_of_type("error").await;
    assert_eq!(error["code"], "replaced");
    assert!(first.closed_by_server().await);
}

#[actix_web::test]
async fn queues_show_waiting_tasks_and_agents() {
    let app = spawn_app(&[]).await;
    let _customer = waiting_customer(&app).await;
    let (token, _) = app.login("sam").await;
    let mut waiting = 0;
    for _ in 0..50 {
        let (status, body) = app.get_json("/v1/queues", &token).await;
        assert_eq!(status, 200);
        waiting = body["waiting"].as_u64().unwrap();
        if waiting == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(waiting, 1);
}

#[actix_web::test]
async fn a_pending_offer_moves_to_the_agents_new_desk() {
    let app = spawn_app(&[]).await;
    let mut first = app.available_agent("alice").await;
    let _customer = waiting_customer(&app).await;
    let offer = first.next_of_type("offer").await;
    // The agent reloads the desk: the new one must see the offer, not let it expire unseen.
    let mut second = app.available_agent("alice").await;
    let again = second.next_of_type("offer").await;
    assert_eq!(again["task_id"], offer["task_id"]);
    second
        .send(json!({"type": "accept", "task_id": offer["task_id"]}))
        .await;
    second.next_of_type("assigned").await;
}
