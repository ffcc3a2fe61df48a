//! Transfers, internal notes and live supervision end to end: a transfer hands the
//! conversation on with its history and note while the sender keeps it until the acceptance;
//! notes and whispers reach staff only; a supervisor monitors, whispers and barges in; a team
//! lead acts on their teams' conversations only; agents' away reasons make their activity
//! timeline; every agent-socket command answers each role as docs/permissions.md says.

use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::{say, spawn_app, TestApp, Visitor, Ws, WAIT};

/// A Chinese conversation handed to alice: (customer socket, alice's desk, conversation id).
async fn held_by(app: &TestApp, username: &str, visitor: &Visitor) -> (Ws, Ws, String) {
    let mut customer = app.customer_ws(visitor).await;
    let mut agent = app.available_agent(username).await;
    say(&mut customer, "你好", "c-1").await;
    say(&mut customer, "人工", "c-2").await;
    let offer = agent.next_of_type("offer").await;
    agent
        .send(json!({"type": "accept", "task_id": offer["task_id"]}))
        .await;
    let assigned = agent.next_of_type("assigned").await;
    let conversation = assigned["conversation_id"].as_str().unwrap().to_owned();
    (customer, agent, conversation)
}

/// A desk on `/v1/ws/agent` for any staff account (supervisors stay offline), after hello.
async fn desk(app: &TestApp, username: &str) -> (Ws, Value) {
    let (token, _) = app.login(username).await;
    let mut ws = Ws::connect(&app.ws_url("/v1/ws/agent", &token)).await;
    let hello = ws.next_of_type("hello").await;
    (ws, hello)
}

async fn error_code(ws: &mut Ws) -> String {
    ws.next_of_type("error").await["code"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// No frame containing `needle` arrives within a short while (or was kept).
async fn never_sees(ws: &mut Ws, needle: &str) -> bool {
    ws.find_within(Duration::from_millis(600), |f| {
        f.to_string().contains(needle)
    })
    .await
    .is_none()
}

fn texts_from(messages: &Value, from: &str) -> Vec<String> {
    messages
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["from"] == from)
        .map(|m| m["text"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn a_transfer_to_a_named_agent_hands_the_conversation_on_with_history_and_note() {
    let app = spawn_app(&[]).await;
    let visitor = app.visitor().await;
    let (mut customer, mut alice, conversation) = held_by(&app, "alice", &visitor).await;
    let (_, alice_id) = app.login("alice").await;

    // An internal note: the desk shows it, the customer never does.
    alice
        .send(json!({"type": "note", "conversation_id": conversation, "text": "退款已核实 note-1"}))
        .await;
    let note = alice.message_containing("note-1").await;
    assert_eq!(note["from"], "note");

    let mut bob = app.available_agent("bob").await;
    let (_, bob_id) = app.login("bob").await;
    alice
        .send(json!({"type": "transfer", "conversation_id": conversation,
            "to": {"agent_id": bob_id}, "note": "please finish the refund note-2"}))
        .await;
    let requested = alice.next_of_type("transfer_requested").await;
    assert_eq!(requested["conversation_id"], conversation.as_str());
    // A second transfer while one waits is refused.
    alice
        .send(json!({"type": "transfer", "conversation_id": conversation,
            "to": {"skills": [{"name": "tech", "level": 1}]}}))
        .await;
    assert_eq!(error_code(&mut alice).await, "transfer_pending");

    let offer = bob.next_of_type("offer").await;
    assert_eq!(offer["conversation_id"], conversation.as_str());
    assert_eq!(offer["transfer"]["from_agent_id"], alice_id.as_str());
    assert_eq!(offer["transfer"]["from_name"], "Alice");
    assert_eq!(offer["transfer"]["note"], "please finish the refund note-2");

    // Until bob accepts, alice keeps the conversation.
    alice
        .send(json!({"type": "message", "conversation_id": conversation, "text": "one moment please"}))
        .await;
    customer.message_containing("one moment please").await;

    bob.send(json!({"type": "accept", "task_id": offer["task_id"]}))
        .await;
    let assigned = bob.next_of_type("assigned").await;
    assert_eq!(assigned["conversation_id"], conversation.as_str());
    let notes = texts_from(&assigned["history"], "note");
    assert!(notes.iter().any(|t| t.contains("note-1")), "{notes:?}");
    assert!(notes.iter().any(|t| t.contains("note-2")), "{notes:?}");
    assert!(texts_from(&assigned["history"], "agent").contains(&"one moment please".to_owned()));
    let transferred = alice.next_of_type("transferred").await;
    assert_eq!(transferred["to_agent_id"], bob_id.as_str());
    customer.message_containing("Bob").await;

    // The conversation is bob's now: alice is refused, bob reaches the customer.
    alice
        .send(json!({"type": "message", "conversation_id": conversation, "text": "still me?"}))
        .await;
    assert_eq!(error_code(&mut alice).await, "not_owner");
    bob.send(json!({"type": "message", "conversation_id": conversation, "text": "Bob here"}))
        .await;
    customer.message_containing("Bob here").await;
    let current = app.current(&visitor.token).await;
    assert_eq!(current["agent_name"], "Bob");

    // Notes never reach the customer: not on the socket, not in the API.
    assert!(never_sees(&mut customer, "note-1").await);
    assert!(never_sees(&mut customer, "note-2").await);
    assert!(texts_from(&current["messages"], "note").is_empty());
    assert!(!current.to_string().contains("note-"));
    // Staff histories keep them.
    let (sam, _) = app.login("sam").await;
    let history = app.customer_messages(&sam, &visitor.customer_id).await;
    assert_eq!(
        history.iter().filter(|m| m["from"] == "note").count(),
        2,
        "{history:?}"
    );
}

#[actix_web::test]
async fn a_transfer_nobody_takes_fails_back_and_one_to_skills_reaches_a_skilled_agent() {
    let app = spawn_app(&[("SWITCHBOARD_ROUTING__TRANSFER_TIMEOUT_MS", "1500")]).await;
    let visitor = app.visitor().await;
    let (_customer, mut alice, conversation) = held_by(&app, "alice", &visitor).await;

    // carol has no desk open: nobody takes it in time.
    let (_, carol_id) = app.login("carol").await;
    alice
        .send(json!({"type": "transfer", "conversation_id": conversation, "to": {"agent_id": carol_id}}))
        .await;
    alice.next_of_type("transfer_requested").await;
    let failed = alice.next_of_type("transfer_failed").await;
    assert_eq!(failed["reason"], "timeout");

    // bob declines: it fails at once.
    let mut bob = app.available_agent("bob").await;
    let (_, bob_id) = app.login("bob").await;
    alice
        .send(json!({"type": "transfer", "conversation_id": conversation, "to": {"agent_id": bob_id}}))
        .await;
    let offer = bob.next_of_type("offer").await;
    bob.send(json!({"type": "reject", "task_id": offer["task_id"]}))
        .await;
    let failed = alice.next_of_type("transfer_failed").await;
    assert_eq!(failed["reason"], "declined");

    // Unknown agents and bad skills are refused before anything is stored.
    alice
        .send(json!({"type": "transfer", "conversation_id": conversation, "to": {"agent_id": "agt_nobody"}}))
        .await;
    assert_eq!(error_code(&mut alice).await, "unknown_agent");
    alice
        .send(json!({"type": "transfer", "conversation_id": conversation, "to": {"skills": [{"name": "tech", "level": 9}]}}))
        .await;
    assert_eq!(error_code(&mut alice).await, "invalid_request");

    // To skills: bob (tech 4) is offered it, never alice herself.
    alice
        .send(json!({"type": "transfer", "conversation_id": conversation,
            "to": {"skills": [{"name": "tech", "level": 3}]}}))
        .await;
    alice.next_of_type("transfer_requested").await;
    let offer = bob.next_of_type("offer").await;
    assert_eq!(offer["skills"], json!(["tech"]));
    bob.send(json!({"type": "accept", "task_id": offer["task_id"]}))
        .await;
    bob.next_of_type("assigned").await;
    alice.next_of_type("transferred").await;
    assert!(!alice.sees_within("offer", Duration::from_millis(300)).await);
}

#[actix_web::test]
async fn a_supervisor_monitors_whispers_and_barges_in_and_the_customer_sees_only_the_barge() {
    let app = spawn_app(&[]).await;
    let visitor = app.visitor().await;
    let (mut customer, mut alice, conversation) = held_by(&app, "alice", &visitor).await;
    let (mut sam, hello) = desk(&app, "sam").await;
    assert_eq!(hello["role"], "supervisor");

    // The board lists it; agents may not read the board.
    let (sam_token, _) = app.login("sam").await;
    let (status, board) = app
        .get_json("/v1/conversations?status=assigned", &sam_token)
        .await;
    assert_eq!(status, 200);
    let entry = board["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["conversation_id"] == conversation.as_str())
        .cloned()
        .expect("on the board");
    assert_eq!(entry["agent_name"], "Alice");
    assert_eq!(entry["customer"]["id"], visitor.customer_id.as_str());
    let (alice_token, _) = app.login("alice").await;
    assert_eq!(app.get_json("/v1/conversations", &alice_token).await.0, 403);
    // Bad filters: a typed error, and an unknown team is 404.
    let (status, body) = app
        .get_json("/v1/conversations?status=sleeping", &sam_token)
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"]["code"].is_string(), "{body}");
    let (status, _) = app
        .get_json("/v1/conversations?min_wait_secs=-1", &sam_token)
        .await;
    assert_eq!(status, 422);
    let (status, body) = app
        .get_json("/v1/conversations?team_id=tm_nobody", &sam_token)
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );

    // Monitor: the history, then every new message, marked.
    sam.send(json!({"type": "monitor", "conversation_id": conversation}))
        .await;
    let monitoring = sam.next_of_type("monitoring").await;
    assert!(!monitoring["history"].as_array().unwrap().is_empty());
    say(&mut customer, "is anyone watching", "c-3").await;
    let copy = sam.message_containing("is anyone watching").await;
    assert_eq!(copy["monitor"], true);
    assert_eq!(copy["from"], "customer");

    // Whisper: alice hears it, the customer never.
    sam.send(json!({"type": "whisper", "conversation_id": conversation, "text": "offer the coupon whisper-1"}))
        .await;
    let whisper = alice.message_containing("whisper-1").await;
    assert_eq!(whisper["from"], "whisper");
    assert!(never_sees(&mut customer, "whisper-1").await);

    // Before barging, sam cannot write to the customer.
    sam.send(json!({"type": "message", "conversation_id": conversation, "text": "too early"}))
        .await;
    assert_eq!(error_code(&mut sam).await, "not_owner");
    sam.send(json!({"type": "barge", "conversation_id": conversation}))
        .await;
    sam.next_of_type("barged").await;
    customer.message_containing("Sam").await;
    sam.send(
        json!({"type": "message", "conversation_id": conversation, "text": "Sam here to help"}),
    )
    .await;
    let to_customer = customer.message_containing("Sam here to help").await;
    assert_eq!(to_customer["from"], "agent");
    alice.message_containing("Sam here to help").await;

    let current = app.current(&visitor.token).await;
    assert!(texts_from(&current["messages"], "whisper").is_empty());
    assert!(!current.to_string().contains("whisper-1"));

    // Supervisors never take offers.
    sam.send(json!({"type": "status", "status": "available"}))
        .await;
    assert_eq!(error_code(&mut sam).await, "forbidden");
}

#[actix_web::test]
async fn a_team_lead_acts_only_on_the_conversations_of_their_teams() {
    let app = spawn_app(&[]).await;
    let (ada, _) = app.login("ada").await;
    let (_, bob_id) = app.login("bob").await;
    let (status, created) = app
        .post_json(
            "/v1/staff",
            &ada,
            json!({"username": "tess", "display_name": "Tess", "role": "team_lead",
                "password": "a long team lead passphrase"}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let tess_id = created["id"].as_str().unwrap().to_owned();
    let (status, team) = app
        .post_json(
            "/v1/teams",
            &ada,
            json!({"name": "Tech", "leads": [tess_id], "members": [bob_id]}),
        )
        .await;
    assert_eq!(status, 201, "{team}");

    let alices = app.visitor().await;
    let (_c1, mut alice, alice_conversation) = held_by(&app, "alice", &alices).await;
    alice
        .send(json!({"type": "status", "status": "away", "reason": "break"}))
        .await;
    alice.next_of_type("status").await;
    let bobs = app.visitor().await;
    let (_c2, mut bob, bob_conversation) = held_by(&app, "bob", &bobs).await;

    let tess_token = app
        .client
        .post(app.url("/v1/auth/login"))
        .json(&json!({"username": "tess", "password": "a long team lead passphrase"}))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, board) = app.get_json("/v1/conversations", &tess_token).await;
    assert_eq!(status, 200);
    let listed: Vec<&str> = board["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["conversation_id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [bob_conversation.as_str()]);

    let mut tess = Ws::connect(&app.ws_url("/v1/ws/agent", &tess_token)).await;
    assert_eq!(tess.next_of_type("hello").await["role"], "team_lead");
    tess.send(json!({"type": "monitor", "conversation_id": alice_conversation}))
        .await;
    assert_eq!(error_code(&mut tess).await, "forbidden");
    tess.send(json!({"type": "whisper", "conversation_id": alice_conversation, "text": "x"}))
        .await;
    assert_eq!(error_code(&mut tess).await, "forbidden");
    tess.send(json!({"type": "monitor", "conversation_id": bob_conversation}))
        .await;
    tess.next_of_type("monitoring").await;
    tess.send(json!({"type": "whisper", "conversation_id": bob_conversation, "text": "nice work whisper-2"}))
        .await;
    bob.message_containing("whisper-2").await;

    // Customers: an agent reads the ones they serve or served, a team lead their teams'.
    let (bob_token, _) = app.login("bob").await;
    let (alice_token, _) = app.login("alice").await;
    let (sam_token, _) = app.login("sam").await;
    for (token, customer, expected) in [
        (&bob_token, &bobs.customer_id, 200),
        (&bob_token, &alices.customer_id, 403),
        (&alice_token, &alices.customer_id, 200),
        (&alice_token, &bobs.customer_id, 403),
        (&tess_token, &bobs.customer_id, 200),
        (&tess_token, &alices.customer_id, 403),
        (&sam_token, &alices.customer_id, 200),
    ] {
        for path in ["", "/messages", "/tickets"] {
            let (status, _) = app
                .get_json(&format!("/v1/customers/{customer}{path}"), token)
                .await;
            assert_eq!(status, expected, "{customer}{path}");
        }
    }
    let (status, _) = app
        .post_json(
            &format!("/v1/customers/{}/merge", alices.customer_id),
            &bob_token,
            json!({"from_customer_id": bobs.customer_id}),
        )
        .await;
    assert_eq!(status, 403);

    // Activity timelines: their agents only.
    let (status, _) = app
        .get_json(&format!("/v1/staff/{bob_id}/activity"), &tess_token)
        .await;
    assert_eq!(status, 200);
    let (_, alice_id) = app.login("alice").await;
    let (status, _) = app
        .get_json(&format!("/v1/staff/{alice_id}/activity"), &tess_token)
        .await;
    assert_eq!(status, 403);
}

#[actix_web::test]
async fn away_reasons_make_the_activity_timeline() {
    let app = spawn_app(&[]).await;
    let (mut alice, hello) = desk(&app, "alice").await;
    assert_eq!(
        hello["away_reasons"],
        json!(["break", "lunch", "training", "meeting"])
    );
    alice
        .send(json!({"type": "status", "status": "away", "reason": "sleeping"}))
        .await;
    assert_eq!(error_code(&mut alice).await, "invalid_request");
    alice
        .send(json!({"type": "status", "status": "available"}))
        .await;
    alice.next_of_type("status").await;
    alice
        .send(json!({"type": "status", "status": "away", "reason": "lunch"}))
        .await;
    let ack = alice.next_of_type("status").await;
    assert_eq!(ack["reason"], "lunch");

    let (sam, _) = app.login("sam").await;
    let (_, alice_id) = app.login("alice").await;
    let path = format!("/v1/staff/{alice_id}/activity");
    let mut entries = Vec::new();
    for _ in 0..50 {
        let (status, body) = app.get_json(&path, &sam).await;
        assert_eq!(status, 200, "{body}");
        entries = body["entries"].as_array().unwrap().clone();
        if entries.iter().any(|e| e["reason"] == "lunch") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let states: Vec<(String, Value)> = entries
        .iter()
        .map(|e| (e["state"].as_str().unwrap().to_owned(), e["reason"].clone()))
        .collect();
    assert!(
        states.contains(&("available".to_owned(), Value::Null)),
        "{states:?}"
    );
    assert!(
        states.contains(&("away".to_owned(), json!("lunch"))),
        "{states:?}"
    );
    // Bad windows and unknown accounts are refused.
    let (status, _) = app
        .get_json(
            &format!("{path}?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z"),
            &sam,
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(
        app.get_json("/v1/staff/agt_nobody/activity", &sam).await.0,
        404
    );
    let (alice_token, _) = app.login("alice").await;
    assert_eq!(app.get_json(&path, &alice_token).await.0, 403);
}

/// Every agent-socket command as every staff role, on a conversation that role does not
/// hold: the answers of the socket table in docs/permissions.md.
#[actix_web::test]
async fn every_socket_command_answers_each_role_as_documented() {
    let app = spawn_app(&[]).await;
    let visitor = app.visitor().await;
    let (_customer, _alice, conversation) = held_by(&app, "alice", &visitor).await;
    let (ada, _) = app.login("ada").await;
    let (status, _) = app
        .post_json(
            "/v1/staff",
            &ada,
            json!({"username": "lena", "display_name": "Lena", "role": "team_lead",
                "password": "another long passphrase"}),
        )
        .await;
    assert_eq!(status, 201);

    let commands = |c: &str| {
        vec![
            ("status", json!({"type": "status", "status": "available"})),
            ("accept", json!({"type": "accept", "task_id": "tsk_none"})),
            (
                "message",
                json!({"type": "message", "conversation_id": c, "text": "hi"}),
            ),
            (
                "wrap_up",
                json!({"type": "wrap_up", "conversation_id": c, "resolution": "resolved"}),
            ),
            (
                "give_back",
                json!({"type": "give_back", "conversation_id": c}),
            ),
            (
                "transfer",
                json!({"type": "transfer", "conversation_id": c, "to": {"skills": [{"name": "tech"}]}}),
            ),
            (
                "note",
                json!({"type": "note", "conversation_id": c, "text": "n"}),
            ),
            ("monitor", json!({"type": "monitor", "conversation_id": c})),
            (
                "whisper",
                json!({"type": "whisper", "conversation_id": c, "text": "w"}),
            ),
            ("barge", json!({"type": "barge", "conversation_id": c})),
        ]
    };
    // (role's account, the first frame type or error code expected per command)
    let table: [(&str, [&str; 10]); 4] = [
        (
            "bob",
            [
                "status",
                "offer_revoked",
                "not_owner",
                "not_owner",
                "not_owner",
                "not_owner",
                "not_owner",
                "not_owner",
                "not_owner",
                "not_owner",
            ],
        ),
        (
            "lena",
            [
                "forbidden",
                "forbidden",
                "not_owner",
                "not_owner",
                "not_owner",
                "forbidden",
                "forbidden",
                "forbidden",
                "forbidden",
                "forbidden",
            ],
        ),
        (
            "sam",
            [
                "forbidden",
                "forbidden",
                "not_owner",
                "not_owner",
                "not_owner",
                "transfer_requested",
                "message",
                "monitoring",
                "message",
                "barged",
            ],
        ),
        (
            "ada",
            [
                "forbidden",
                "forbidden",
                "not_owner",
                "not_owner",
                "not_owner",
                "transfer_pending",
                "message",
                "monitoring",
                "message",
                "barged",
            ],
        ),
    ];
    for (username, expected) in table {
        let token = if username == "lena" {
            app.client
                .post(app.url("/v1/auth/login"))
                .json(&json!({"username": "lena", "password": "another long passphrase"}))
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()["token"]
                .as_str()
                .unwrap()
                .to_owned()
        } else {
            app.login(username).await.0
        };
        let mut ws = Ws::connect(&app.ws_url("/v1/ws/agent", &token)).await;
        ws.next_of_type("hello").await;
        for ((name, command), want) in commands(&conversation).into_iter().zip(expected) {
            ws.send(command).await;
            let answer = ws
                .find_within(WAIT, |f| f["type"] == "error" || f["type"] == want)
                .await
                .unwrap_or_else(|| panic!("{username} {name}: no answer"));
            let got = if answer["type"] == "error" {
                answer["code"].as_str().unwrap().to_owned()
            } else {
                answer["type"].as_str().unwrap().to_owned()
            };
            assert_eq!(got, want, "{username} {name}: {answer}");
        }
        ws.close().await;
    }
}

/// A transfer to a named colleague reaches them whatever languages they speak (the sender
/// chose them): bob speaks only Chinese, the customer English.
#[actix_web::test]
async fn a_named_transfer_reaches_a_colleague_who_does_not_speak_the_language() {
    let app = spawn_app(&[]).await;
    let visitor = app.visitor().await;
    let mut customer = app.customer_ws(&visitor).await;
    let mut alice = app.available_agent("alice").await;
    say(&mut customer, "I was charged twice for my invoice", "c-1").await;
    say(&mut customer, "human", "c-2").await;
    let offer = alice.next_of_type("offer").await;
    alice
        .send(json!({"type": "accept", "task_id": offer["task_id"]}))
        .await;
    let conversation = alice.next_of_type("assigned").await["conversation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut bob = app.available_agent("bob").await;
    let (_, bob_id) = app.login("bob").await;
    alice
        .send(json!({"type": "transfer", "conversation_id": conversation, "to": {"agent_id": bob_id}}))
        .await;
    alice.next_of_type("transfer_requested").await;
    // Past a dispatcher tick or two: the named agent keeps the reservation.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let offer = bob.next_of_type("offer").await;
    assert_eq!(offer["conversation_id"], conversation.as_str());
}
