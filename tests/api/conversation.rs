//! A customer and an agent over real WebSockets: bot answer, hand-off, offer, accept, chat in
//! both directions, wrap-up; passivation and rebuild of a session.

use std::time::Duration;

use serde_json::json;

use crate::helpers::{say, spawn_app, WAIT};

#[actix_web::test]
async fn customer_is_answered_by_the_bot_then_served_by_an_agent_until_wrap_up() {
    full_conversation(spawn_app(&[]).await).await;
}

#[cfg(feature = "integration-tests")]
#[actix_web::test]
async fn the_same_conversation_works_on_postgresql() {
    let url = crate::helpers::fresh_postgres_database().await;
    full_conversation(spawn_app(&[("SWITCHBOARD_DATABASE_URL", url.as_str())]).await).await;
}

#[cfg(feature = "integration-tests")]
#[actix_web::test]
async fn the_same_conversation_works_on_postgresql_and_rabbitmq() {
    let url = crate::helpers::fresh_postgres_database().await;
    let amqp = std::env::var("SWITCHBOARD_TEST_AMQP_URL").expect("SWITCHBOARD_TEST_AMQP_URL");
    // A namespace of its own: no other test's queues, no leftovers from earlier runs.
    let namespace = format!("sbtest{}", uuid::Uuid::new_v4().simple());
    full_conversation(
        spawn_app(&[
            ("SWITCHBOARD_DATABASE_URL", url.as_str()),
            ("SWITCHBOARD_AMQP_URL", amqp.as_str()),
            ("SWITCHBOARD_BUS__NAMESPACE", namespace.as_str()),
            ("SWITCHBOARD_BUS__QUEUE_EXPIRES_MS", "60000"),
        ])
        .await,
    )
    .await;
}

async fn full_conversation(app: crate::helpers::TestApp) {
    let visitor = app.visitor().await;
    let mut customer = app.customer_ws(&visitor).await;

    // Bot answers in the customer's language.
    say(&mut customer, "How do I get a refund?", "c-1").await;
    let echo = customer.message_containing("How do I get a refund?").await;
    assert_eq!(echo["from"], "customer");
    let answer = customer
        .find_within(WAIT, |f| f["type"] == "message" && f["from"] == "bot")
        .await
        .expect("bot answer");
    assert!(
        answer["text"].as_str().unwrap().contains("refund"),
        "{answer}"
    );

    // Hand-off: the agent gets an offer with the context.
    let mut alice = app.available_agent("alice").await;
    say(&mut customer, "I want to talk to a human", "c-2").await;
    customer
        .message_containing("connecting you to an agent")
        .await;
    let offer = alice.next_of_type("offer").await;
    assert_eq!(offer["intent"], "refund");
    assert_eq!(offer["skills"], json!(["refunds"]));
    assert_eq!(offer["customer"]["id"], visitor.customer_id.as_str());
    assert!(offer["expires_in_ms"].as_u64().unwrap() > 0);
    assert!(offer["summary"].as_str().unwrap().contains("human"));

    // Accept: the agent sees the whole history, the customer is told.
    alice
        .send(json!({"type": "accept", "task_id": offer["task_id"]}))
        .await;
    let assigned = alice.next_of_type("assigned").await;
    let conversation_id = assigned["conversation_id"].as_str().unwrap().to_owned();
    let history: Vec<&str> = assigned["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["from"].as_str().unwrap())
        .collect();
    assert_eq!(
        &history[..4],
        ["customer", "bot", "customer", "bot"],
        "{history:?}"
    );
    customer.message_containing("Alice joined").await;

    // Both directions.
    alice.send(json!({"type": "message", "conversation_id": conversation_id, "text": "Hi, this is Alice"})).await;
    let to_customer = customer.message_containing("Hi, this is Alice").await;
    assert_eq!(to_customer["from"], "agent");
    alice.message_containing("Hi, this is Alice").await; // echo to the desk
    say(&mut customer, "My order is 12345", "c-3").await;
    let to_agent = alice.message_containing("My order is 12345").await;
    assert_eq!(to_agent["from"], "customer");
    assert_eq!(to_agent["conversation_id"], conversation_id.as_str());

    // The bot stays silent while the agent owns the conversation.
    let current = app.current(&visitor.token).await;
    assert_eq!(current["status"], "assigned");
    assert_eq!(current["agent_name"], "Alice");
    let last = current["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["text"], "My order is 12345");

    // Wrap-up closes the conversation; the next message opens a new one with the bot.
    alice.send(json!({"type": "wrap_up", "conversation_id": conversation_id, "resolution": "resolved"})).await;
    let wrapped = alice.next_of_type("wrapped_up").await;
    assert_eq!(wrapped["resolution"], "resolved");
    customer.message_containing("closed").await;
    let response = app
        .client
        .get(app.url("/v1/conversations/current"))
        .bearer_auth(&visitor.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    // Repeating an old client_id after wrap-up answers from the store and opens nothing.
    let repeat = app
        .post_message(&visitor.token, "My order is 12345", "c-3")
        .await;
    assert_eq!(repeat.status(), 202);
    let repeat: serde_json::Value = repeat.json().await.unwrap();
    assert_eq!(repeat["conversation_id"], conversation_id.as_str());
    let response = app
        .client
        .get(app.url("/v1/conversations/current"))
        .bearer_auth(&visitor.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    say(&mut customer, "hello again", "c-4").await;
    let reopened = app.current(&visitor.token).await;
    assert_ne!(reopened["id"], conversation_id.as_str());
    assert_eq!(reopened["status"], "bot");
}

#[actix_web::test]
async fn agent_reply_to_a_conversation_they_do_not_own_is_refused() {
    let app = spawn_app(&[]).await;
    let mut alice = app.available_agent("alice").await;
    alice
        .send(json!({"type": "message", "conversation_id": "cnv_not_mine", "text": "hello"}))
        .await;
    let error = alice.next_of_type("error").await;
    assert_eq!(error["code"], "not_owner");
}

/// An acceptance delivered twice (the dispatcher that took the first stopped before it told the
/// customer's session, and the queue redelivered it) finishes the assignment, not revokes it:
/// the desk gets its conversation again and the customer hears "joined" once.
#[actix_web::test]
async fn a_repeated_acceptance_finishes_the_assignment_once() {
    let app = spawn_app(&[]).await;
    let visitor = app.visitor().await;
    let mut customer = app.customer_ws(&visitor).await;
    let mut alice = app.available_agent("alice").await;
    say(&mut customer, "I want to talk to a human", "r-1").await;
    let offer = alice.next_of_type("offer").await;
    let accept = json!({"type": "accept", "task_id": offer["task_id"]});
    alice.send(accept.clone()).await;
    let first = alice.next_of_type("assigned").await;
    customer.message_containing("Alice joined").await;
    alice.send(accept).await;
    let again = alice.next_of_type("assigned").await;
    assert_eq!(again["conversation_id"], first["conversation_id"]);
    assert!(
        !alice
            .sees_within("offer_revoked", Duration::from_millis(300))
            .await
    );
    let current = app.current(&visitor.token).await;
    assert_eq!(current["status"], "assigned");
    let joined = current["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["text"].as_str().is_some_and(|t| t.contains("joined")))
        .count();
    assert_eq!(joined, 1, "{current}");
}

#[actix_web::test]
async fn a_passivated_session_is_rebuilt_from_the_store_and_keeps_the_conversation() {
    let app = spawn_app(&[("SWITCHBOARD_SESSION__IDLE_TIMEOUT_MS", "200")]).await;
    let visitor = app.visitor().await;
    assert_eq!(
        app.post_message(&visitor.token, "qwerty", "p-1")
            .await
            .status(),
        202
    );
    let before = app.current(&visitor.token).await;

    // Wait (bounded) until the idle session is passivated.
    let mut passivated = false;
    for _ in 0..100 {
        let metrics = app.metrics().await;
        if metrics
            .lines()
            .any(|l| l == "switchboard_active_sessions 0")
        {
            passivated = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(passivated, "the idle session was never passivated");

    // The rebuilt session continues the same conversation, bot state included: a second
    // turn it does not understand is the second in a row, so it hands off.
    assert_eq!(
        app.post_message(&visitor.token, "zxcvb", "p-2")
            .await
            .status(),
        202
    );
    let after = app.current(&visitor.token).await;
    assert_eq!(after["id"], before["id"]);
    assert_eq!(after["status"], "queued");
}

#[actix_web::test]
async fn a_chinese_conversation_stays_chinese_when_the_customer_types_human() {
    let app = spawn_app(&[]).await;
    let visitor = app.visitor().await;
    let mut customer = app.customer_ws(&visitor).await;
    // Bob speaks only Chinese and has the `orders` skill of the delivery topic.
    let mut bob = app.available_agent("bob").await;
    say(&mut customer, "我的快递到哪了？", "z-1").await;
    say(&mut customer, "human", "z-2").await;
    customer.message_containing("人工客服").await;
    let offer = bob.next_of_type("offer").await;
    assert_eq!(offer["intent"], "logistics");
    assert_eq!(offer["skills"], json!(["orders"]));
}
