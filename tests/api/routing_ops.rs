//! Supervisors' routing operations over the API: validation without storing, versions with
//! diffs, the audit history, temporary overrides, maximum waits with fallbacks, wrap-up,
//! sticky agents, live queue figures, the dry-run (API and CLI), and rule activation while
//! tasks are being routed.

use std::time::Duration;

use chrono::Utc;
use serde_json::{json, Value};

use crate::helpers::{assert_problems_at, say, spawn_app, TestApp, Ws};

/// Creates and activates a rule set; returns its version.
async fn activate(app: &TestApp, sam: &str, rules: Value) -> i64 {
    let (status, created) = app.post_json("/v1/routing/rules", sam, rules).await;
    assert_eq!(status, 201, "{created}");
    let version = created["version"].as_i64().unwrap();
    let path = format!("/v1/routing/rules/{version}/activate");
    let (status, body) = app.post_json(&path, sam, json!({})).await;
    assert_eq!(status, 200, "{body}");
    version
}

/// A customer who asks about a refund, then for a human.
async fn refund_customer(app: &TestApp, tag: &str) -> (crate::helpers::Visitor, Ws) {
    let visitor = app.visitor().await;
    let mut ws = app.customer_ws(&visitor).await;
    say(&mut ws, "I want a refund", &format!("{tag}-1")).await;
    say(&mut ws, "human please", &format!("{tag}-2")).await;
    (visitor, ws)
}

/// Polls `path` (bounded) until `ready` holds; returns the last body.
async fn poll(app: &TestApp, path: &str, token: &str, ready: impl Fn(&Value) -> bool) -> Value {
    let mut last = Value::Null;
    for _ in 0..100 {
        let (status, body) = app.get_json(path, token).await;
        assert_eq!(status, 200, "{body}");
        if ready(&body) {
            return body;
        }
        last = body;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{path} never became ready: {last}");
}

/// The agent accepts `offer`, is assigned, and closes the conversation at once.
async fn serve_and_close(agent: &mut Ws, offer: &Value) {
    agent
        .send(json!({"type": "accept", "task_id": offer["task_id"]}))
        .await;
    let assigned = agent.next_of_type("assigned").await;
    agent
        .send(json!({"type": "wrap_up", "conversation_id": assigned["conversation_id"], "resolution": "resolved"}))
        .await;
    agent.next_of_type("wrapped_up").await;
}

/// A desk that accepts every offer and closes each conversation at once, until nothing
/// happens for 3 s (at most a minute); returns the tasks it was assigned.
async fn accept_and_close_everything(mut ws: Ws) -> Vec<String> {
    let mut assigned = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while tokio::time::Instant::now() < deadline {
        let Some(frame) = ws
            .find_within(Duration::from_secs(3), |f| {
                f["type"] == "offer" || f["type"] == "assigned"
            })
            .await
        else {
            break;
        };
        if frame["type"] == "offer" {
            ws.send(json!({"type": "accept", "task_id": frame["task_id"]}))
                .await;
        } else {
            assigned.push(frame["task_id"].as_str().unwrap().to_owned());
            ws.send(json!({"type": "wrap_up", "conversation_id": frame["conversation_id"], "resolution": "resolved"}))
                .await;
        }
    }
    assigned
}

/// Every task to one queue, `general`, with this maximum wait and fallback.
fn one_queue_with_max_wait(secs: u64, fallback: &str) -> Value {
    json!({"rules": [{"name": "all", "queue": "general"}],
           "queues": {"general": {"max_wait_secs": secs, "fallback": fallback}}})
}

fn refunds_rules() -> Value {
    json!({"rules": [
        {"name": "refunds", "when": "intent == 'refund'", "queue": "refunds",
         "skills": [{"name": "refunds", "min_level": 4}]},
        {"name": "rest", "queue": "general"}
    ]})
}

#[actix_web::test]
async fn versions_list_their_diffs_and_validation_stores_nothing() {
    let app = spawn_app(&[]).await;
    let (sam, _) = app.login("sam").await;
    let bad = json!({"rules": [{"name": "a", "when": "colour == 'red'", "queue": "q"}],
                     "queues": {"q": {"hours": [{"days": [9], "from": "09:00", "to": "18:00"}]}}});
    let (status, body) = app.post_json("/v1/routing/rules/validate", &sam, bad).await;
    assert_eq!(status, 422, "{body}");
    assert_problems_at(&body, &["rules[0].when", "queues.q.hours[0].days[0]"]);
    let (status, body) = app
        .post_json("/v1/routing/rules/validate", &sam, refunds_rules())
        .await;
    assert_eq!((status, body["valid"].as_bool()), (200, Some(true)));
    let (_, versions) = app.get_json("/v1/routing/rules/versions", &sam).await;
    assert_eq!(versions["versions"], json!([]), "validation stored nothing");

    let first = activate(&app, &sam, refunds_rules()).await;
    let mut changed = refunds_rules();
    changed["rules"][0]["priority"] = json!(50);
    changed["rules"].as_array_mut().unwrap().insert(
        1,
        json!({"name": "sms", "when": "channel == 'sms'", "queue": "sms"}),
    );
    let (_, second) = app.post_json("/v1/routing/rules", &sam, changed).await;
    let second = second["version"].as_i64().unwrap();

    let (status, listed) = app.get_json("/v1/routing/rules/versions", &sam).await;
    assert_eq!(status, 200);
    assert_eq!(listed["active"].as_i64(), Some(first));
    let versions = listed["versions"].as_array().unwrap();
    assert_eq!(
        versions[0]["version"].as_i64(),
        Some(second),
        "newest first"
    );
    assert_eq!(versions[0]["active"], false);
    assert_eq!(versions[0]["rule_names"], json!(["refunds", "sms", "rest"]));
    let diff = versions[0]["diff"].as_array().unwrap();
    assert_eq!(diff.len(), 2, "{listed}");
    assert_eq!(
        (&diff[0]["op"], &diff[0]["path"]),
        (&json!("changed"), &json!("rules.refunds"))
    );
    assert_eq!(diff[0]["fields"], json!(["priority"]));
    assert_eq!(diff[0]["after"]["priority"], 50);
    assert_eq!(
        (&diff[1]["op"], &diff[1]["path"]),
        (&json!("added"), &json!("rules.sms"))
    );
    assert_eq!(
        versions[1]["diff"],
        Value::Null,
        "the first has nothing before it"
    );

    let (status, one) = app
        .get_json(&format!("/v1/routing/rules/{second}"), &sam)
        .await;
    assert_eq!(status, 200);
    assert_eq!(one["rules"][1]["name"], "sms");
    let (status, _) = app.get_json("/v1/routing/rules/99", &sam).await;
    assert_eq!(status, 404);
    let (alice, _) = app.login("alice").await;
    let (status, _) = app.get_json("/v1/routing/rules/versions", &alice).await;
    assert_eq!(status, 403);
}

#[actix_web::test]
async fn an_override_retargets_its_rule_until_ended_and_everything_is_audited() {
    let app = spawn_app(&[]).await;
    let (sam, _) = app.login("sam").await;
    let version = activate(&app, &sam, refunds_rules()).await;

    let (status, body) = app
        .post_json(
            "/v1/routing/overrides",
            &sam,
            json!({"rule": "nope", "target": {"skills": [{"name": "juggling", "min_level": 9}]}, "minutes": 0}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_problems_at(
        &body,
        &[
            "rule",
            "target.skills[0].name",
            "target.skills[0].min_level",
            "minutes",
        ],
    );

    // "Refunds go to the tech team for an hour."
    let (status, created) = app
        .post_json(
            "/v1/routing/overrides",
            &sam,
            json!({"rule": "refunds", "target": {"queue": "general", "skills": [{"name": "tech", "min_level": 3}]},
                   "minutes": 60, "reason": "refund promotion"}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let (_, listed) = app.get_json("/v1/routing/overrides", &sam).await;
    assert_eq!(listed["overrides"][0]["id"], id.as_str());
    assert_eq!(listed["overrides"][0]["reason"], "refund promotion");

    // Alice (refunds 5) would take a refund; under the override Carol (tech 5) does.
    let mut alice = app.available_agent("alice").await;
    let mut carol = app.available_agent("carol").await;
    let (_customer, _ws) = refund_customer(&app, "o").await;
    let offer = carol.next_of_type("offer").await;
    assert_eq!(offer["skills"], json!(["tech"]), "{offer}");
    assert!(!alice.sees_within("offer", Duration::from_millis(300)).await);
    let (carol_token, carol_id) = app.login("carol").await;
    let path = format!("/v1/tasks/{}/routing", offer["task_id"].as_str().unwrap());
    let explained = poll(&app, &path, &carol_token, |b| !b["last_offer"].is_null()).await;
    assert_eq!(explained["last_offer"]["rule"]["override"], id.as_str());
    assert_eq!(explained["last_offer"]["queue"], "general");
    let (_, live) = app.get_json("/v1/queues", &sam).await;
    assert_eq!(live["rules_version"].as_i64(), Some(version));
    assert_eq!(live["overrides"][0]["id"], id.as_str(), "{live}");
    // The waiting task is listed with where it goes and who holds the offer.
    let task = &live["tasks"][0];
    assert_eq!(task["task_id"], offer["task_id"], "{live}");
    assert_eq!(
        (&task["queue"], &task["rule"], &task["offered_to"]),
        (&json!("general"), &json!("refunds"), &json!(carol_id)),
    );
    assert_eq!(task["skills"], json!(["tech≥3"]));

    let (status, ended) = app
        .delete_json(&format!("/v1/routing/overrides/{id}"), &sam)
        .await;
    assert_eq!((status, ended["ended"].as_bool()), (200, Some(true)));
    let (status, _) = app
        .delete_json(&format!("/v1/routing/overrides/{id}"), &sam)
        .await;
    assert_eq!(status, 404);
    let (_, listed) = app.get_json("/v1/routing/overrides", &sam).await;
    assert_eq!(listed["overrides"], json!([]));
    // The dispatcher drops it too.
    poll(&app, "/v1/queues", &sam, |b| b["overrides"] == json!([])).await;

    let (_, history) = app.get_json("/v1/routing/history", &sam).await;
    let actions: Vec<&str> = history["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "routing.override.ended",
            "routing.override.created",
            "routing.rules.activated",
            "routing.rules.created"
        ],
        "{history}"
    );
    let entries = history["entries"].as_array().unwrap();
    assert_eq!(entries[1]["detail"]["reason"], "refund promotion");
    assert_eq!(
        entries[2]["diff"][0]["op"], "added",
        "activation diff: {history}"
    );
    assert_eq!(entries[3]["diff"].as_array().unwrap().len(), 2);
}

#[actix_web::test]
async fn a_task_past_its_queue_maximum_wait_goes_to_the_fallback_and_the_customer_is_told() {
    let app = spawn_app(&[("SWITCHBOARD_ROUTING__TICK_MS", "200")]).await;
    let (sam, _) = app.login("sam").await;
    activate(&app, &sam, one_queue_with_max_wait(1, "ticket")).await;
    // Nobody is available.
    let visitor = app.visitor().await;
    let mut customer = app.customer_ws(&visitor).await;
    say(&mut customer, "human please", "f-1").await;
    let told = customer.message_containing("ticket").await;
    assert_eq!(told["from"], "system", "{told}");
    let live = poll(&app, "/v1/queues", &sam, |b| {
        b["queues"]
            .as_array()
            .is_some_and(|q| q.iter().any(|q| q["fallbacks"] == 1))
    })
    .await;
    let general = &live["queues"][0];
    assert_eq!(
        (&general["queue"], &general["waiting"], &general["tasks"]),
        (&json!("general"), &json!(0), &json!(1)),
        "{live}"
    );
    // The bot has the conversation back.
    say(&mut customer, "How do I get a refund?", "f-2").await;
    let answer = customer
        .find_within(Duration::from_secs(10), |f| f["from"] == "bot")
        .await;
    assert!(answer.is_some(), "the bot answers again");
    // The task is expired in the store, its fallback recorded.
    let current = app.current(&visitor.token).await;
    assert_eq!(current["status"], "bot", "{current}");
}

#[actix_web::test]
async fn wrap_up_holds_the_next_offer_and_shows_in_the_live_figures() {
    let app = spawn_app(&[("SWITCHBOARD_ROUTING__WRAP_UP_MS", "2500")]).await;
    let (sam, _) = app.login("sam").await;
    let mut alice = app.available_agent("alice").await;
    let visitor = app.visitor().await;
    let mut customer = app.customer_ws(&visitor).await;
    say(&mut customer, "human please", "w-1").await;
    let offer = alice.next_of_type("offer").await;
    serve_and_close(&mut alice, &offer).await;
    let live = poll(&app, "/v1/queues", &sam, |b| {
        b["agents"][0]["status"] == "wrap_up"
    })
    .await;
    assert!(live["agents"][0]["wrap_up_ends_in_ms"].as_u64().unwrap() <= 2500);
    // A new hand-off waits for the timer.
    let other = app.visitor().await;
    let mut second = app.customer_ws(&other).await;
    say(&mut second, "human please", "w-2").await;
    assert!(
        !alice.sees_within("offer", Duration::from_millis(800)).await,
        "no offer during wrap-up"
    );
    alice.next_of_type("offer").await;
    let live = poll(&app, "/v1/queues", &sam, |b| {
        b["agents"][0]["status"] == "available"
    })
    .await;
    assert_eq!(live["agents"][0]["load"], 1, "the offer counts");
}

#[actix_web::test]
async fn a_returning_customer_is_offered_to_their_previous_agent_first() {
    let app = spawn_app(&[("SWITCHBOARD_ROUTING__STICKY_AGENT_MS", "30000")]).await;
    let mut alice = app.available_agent("alice").await;
    let visitor = app.visitor().await;
    let mut customer = app.customer_ws(&visitor).await;
    say(&mut customer, "human please", "s-1").await;
    let offer = alice.next_of_type("offer").await;
    serve_and_close(&mut alice, &offer).await;
    // Alice takes two more conversations (of three); Carol, idle and free, joins.
    let mut others = Vec::new();
    for n in 0..2 {
        let v = app.visitor().await;
        let mut ws = app.customer_ws(&v).await;
        say(&mut ws, "human please", &format!("busy-{n}")).await;
        let offer = alice.next_of_type("offer").await;
        alice
            .send(json!({"type": "accept", "task_id": offer["task_id"]}))
            .await;
        alice.next_of_type("assigned").await;
        others.push(ws);
    }
    let mut carol = app.available_agent("carol").await;
    // Carol is the least occupied, yet the returning customer goes to Alice.
    say(&mut customer, "human please, again", "s-2").await;
    let offer = alice.next_of_type("offer").await;
    assert!(!carol.sees_within("offer", Duration::from_millis(300)).await);
    let (alice_token, _) = app.login("alice").await;
    let path = format!("/v1/tasks/{}/routing", offer["task_id"].as_str().unwrap());
    let explained = poll(&app, &path, &alice_token, |b| !b["last_offer"].is_null()).await;
    let carol_entry = explained["last_offer"]["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["excluded"].as_array().is_some_and(|e| !e.is_empty()))
        .cloned()
        .expect("carol is excluded");
    assert_eq!(
        carol_entry["excluded"][0]["reason"], "reserved_for_previous_agent",
        "{explained}"
    );
}

/// Hand-offs with the refund intent, served by Alice, then the dry-run of a candidate that
/// gives refunds a queue of their own; through the API and through the CLI.
#[actix_web::test]
async fn a_dry_run_replays_recorded_traffic_through_the_api_and_the_cli() {
    let app = spawn_app(&[]).await;
    let (sam, _) = app.login("sam").await;
    let from = Utc::now() - chrono::Duration::minutes(5);
    let mut alice = app.available_agent("alice").await;
    let mut customers = Vec::new();
    for n in 0..3 {
        let (_, ws) = refund_customer(&app, &format!("d{n}")).await;
        let offer = alice.next_of_type("offer").await;
        serve_and_close(&mut alice, &offer).await;
        customers.push(ws);
    }
    let to = Utc::now() + chrono::Duration::minutes(1);
    let (_, created) = app
        .post_json("/v1/routing/rules", &sam, refunds_rules())
        .await;
    let version = created["version"].as_i64().unwrap();
    let path = format!("/v1/routing/rules/{version}/dry-run");
    let (status, report) = app
        .post_json(&path, &sam, json!({"from": from, "to": to}))
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["version"].as_i64(), Some(version));
    assert_eq!(report["baseline_version"], Value::Null);
    assert_eq!(report["tasks"], 3, "{report}");
    assert_eq!(report["candidate"]["queues"][0]["queue"], "refunds");
    assert_eq!(report["baseline"]["queues"][0]["queue"], "default");
    assert_eq!(report["changed_queue_count"], 3);
    assert_eq!(report["changed_queue"][0]["to"], "refunds");
    assert_eq!(report["candidate"]["answered"], 3, "{report}");
    assert_eq!(report["timeline"].as_array().unwrap().len(), 200);
    let alice_row = report["candidate"]["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["handled"] == 3);
    assert!(alice_row.is_some(), "{report}");
    // Same input, same report.
    let (_, again) = app
        .post_json(&path, &sam, json!({"from": from, "to": to}))
        .await;
    assert_eq!(again, report);
    let (status, _) = app
        .post_json(&path, &sam, json!({"from": to, "to": from}))
        .await;
    assert_eq!(status, 422);
    let (status, _) = app
        .post_json(
            "/v1/routing/rules/77/dry-run",
            &sam,
            json!({"from": from, "to": to}),
        )
        .await;
    assert_eq!(status, 404);

    // The CLI on the same store.
    let rules_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(rules_file.path(), refunds_rules().to_string()).unwrap();
    let run = |rules: &std::path::Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_switchboard"))
            .args(["simulate", "--mode", "demo", "--rules"])
            .arg(rules)
            .args(["--from", &from.to_rfc3339(), "--to", &to.to_rfc3339()])
            .arg("--database-url")
            .arg(format!("sqlite://{}", app.db_path.display()))
            .output()
            .unwrap()
    };
    let output = run(rules_file.path());
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let cli: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(cli["tasks"], 3);
    assert_eq!(
        cli["candidate"], report["candidate"],
        "the CLI and the API agree"
    );
    std::fs::write(
        rules_file.path(),
        json!({"rules": [{"name": "x", "queue": "q", "skills": [{"name": "juggling", "min_level": 1}]}]}).to_string(),
    )
    .unwrap();
    let output = run(rules_file.path());
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("rules[0].skills[0].name"));
}

/// Supervisors switch rule sets back and forth while 24 customers are handed off and two
/// agents accept everything: each task is assigned exactly once and none is lost.
#[actix_web::test]
async fn activating_rules_while_tasks_are_routed_loses_and_doubles_nothing() {
    let app = spawn_app(&[("SWITCHBOARD_ROUTING__TICK_MS", "100")]).await;
    let (sam, _) = app.login("sam").await;
    let a = activate(&app, &sam, refunds_rules()).await;
    let (_, b) = app
        .post_json(
            "/v1/routing/rules",
            &sam,
            json!({"rules": [{"name": "vip-first", "when": "tier == 'vip'", "queue": "vip", "priority": 100},
                             {"name": "all", "queue": "general", "skills": [], "strategy": "longest_idle"}]}),
        )
        .await;
    let b = b["version"].as_i64().unwrap();

    // Two desks that accept every offer and close each conversation at once.
    let alice = actix_web::rt::spawn(accept_and_close_everything(
        app.available_agent("alice").await,
    ));
    let carol = actix_web::rt::spawn(accept_and_close_everything(
        app.available_agent("carol").await,
    ));
    tokio::time::sleep(Duration::from_millis(300)).await;

    let customers = (0..24).map(|n| {
        let client = app.client.clone();
        let url = app.url("/v1/visitors");
        let port = app.port;
        async move {
            let body: Value = client.post(url).send().await.unwrap().json().await.unwrap();
            let token = body["visitor_token"].as_str().unwrap().to_owned();
            let mut ws = Ws::connect(&format!(
                "ws://127.0.0.1:{port}/v1/ws/customer?token={token}"
            ))
            .await;
            let first = if n % 2 == 0 {
                "I want a refund"
            } else {
                "hello"
            };
            say(&mut ws, first, &format!("c{n}-1")).await;
            say(&mut ws, "human please", &format!("c{n}-2")).await;
            body["customer_id"].as_str().unwrap().to_owned()
        }
    });
    let flipping = async {
        for round in 0..10 {
            let version = if round % 2 == 0 { b } else { a };
            let path = format!("/v1/routing/rules/{version}/activate");
            let (status, _) = app.post_json(&path, &sam, json!({})).await;
            assert_eq!(status, 200);
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    };
    let (customer_ids, ()) = tokio::join!(futures_util::future::join_all(customers), flipping);
    let mut assigned = alice.await.unwrap();
    assigned.extend(carol.await.unwrap());
    let total = assigned.len();
    assigned.sort();
    assigned.dedup();
    assert_eq!(assigned.len(), total, "a task was assigned twice");
    assert_eq!(
        total,
        customer_ids.len(),
        "every hand-off reached an agent once"
    );
    // The store agrees: one task per customer, none waiting.
    let store = switchboard::store::sqlite::SqliteStore::open(&app.db_path).unwrap();
    use switchboard::store::RoutingStore;
    assert!(store.waiting_tasks().await.unwrap().is_empty());
}

/// A waiting customer who says "cancel" leaves the queue: the bot has them again, the queue
/// counts an abandonment, an offer out is revoked; "cancel my order" does not leave it.
#[actix_web::test]
async fn a_customer_who_gives_up_waiting_leaves_the_queue_as_an_abandonment() {
    let app = spawn_app(&[("SWITCHBOARD_ROUTING__OFFER_TIMEOUT_MS", "60000")]).await;
    let (sam, _) = app.login("sam").await;
    let mut alice = app.available_agent("alice").await;
    let visitor = app.visitor().await;
    let mut customer = app.customer_ws(&visitor).await;
    say(&mut customer, "human please", "a-1").await;
    let offer = alice.next_of_type("offer").await;
    // A question for the agent, not a wish to leave.
    say(&mut customer, "I want to cancel my order", "a-2").await;
    assert!(
        !alice
            .sees_within("offer_revoked", Duration::from_millis(500))
            .await
    );
    say(&mut customer, "never mind", "a-3").await;
    let told = customer.message_containing("left the queue").await;
    assert_eq!(told["from"], "system");
    let revoked = alice.next_of_type("offer_revoked").await;
    assert_eq!(revoked["task_id"], offer["task_id"]);
    let live = poll(&app, "/v1/queues", &sam, |b| {
        b["queues"]
            .as_array()
            .is_some_and(|q| q.iter().any(|q| q["abandoned"] == 1))
    })
    .await;
    assert_eq!(live["queues"][0]["abandonment_rate"], 1.0, "{live}");
    assert_eq!(live["waiting"], 0);
    assert!(app
        .metrics()
        .await
        .contains("switchboard_tasks_unanswered_total{outcome=\"abandoned\"} 1"));
    // Too late to accept; the bot answers again.
    alice
        .send(json!({"type": "accept", "task_id": offer["task_id"]}))
        .await;
    assert!(
        !alice
            .sees_within("assigned", Duration::from_millis(500))
            .await
    );
    let current = app.current(&visitor.token).await;
    assert_eq!(current["status"], "bot", "{current}");
}

/// The customer is told of the fallback even when their session was passivated while they
/// waited (the notice is stored once, keyed on the task).
#[actix_web::test]
async fn the_fallback_notice_reaches_a_customer_whose_session_went_idle() {
    let app = spawn_app(&[
        ("SWITCHBOARD_ROUTING__TICK_MS", "200"),
        ("SWITCHBOARD_SESSION__IDLE_TIMEOUT_MS", "300"),
    ])
    .await;
    let (sam, _) = app.login("sam").await;
    activate(&app, &sam, one_queue_with_max_wait(2, "callback")).await;
    let visitor = app.visitor().await;
    let response = app
        .post_message(&visitor.token, "human please", "idle-1")
        .await;
    assert_eq!(response.status(), 202);
    // No socket, no activity: the session passivates long before the task falls back.
    let mut notices = Vec::new();
    for _ in 0..100 {
        let current = app.current(&visitor.token).await;
        notices = current["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["text"].as_str().unwrap_or_default().contains("call back"))
            .cloned()
            .collect();
        if !notices.is_empty() && current["status"] == "bot" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(notices.len(), 1, "told exactly once");
    assert_eq!(notices[0]["from"], "system");
}

/// Every supervisor endpoint answers bad input with a typed JSON error and changes nothing.
#[actix_web::test]
async fn supervisor_endpoints_refuse_bad_input_with_typed_errors() {
    let app = spawn_app(&[]).await;
    let (sam, _) = app.login("sam").await;
    let (alice, _) = app.login("alice").await;
    let version = activate(&app, &sam, refunds_rules()).await;
    let dry_run = format!("/v1/routing/rules/{version}/dry-run");
    let window = json!({"from": Utc::now() - chrono::Duration::hours(1), "to": Utc::now()});
    let overriding = json!({"rule": "refunds", "target": {"queue": "general"}, "minutes": 5});
    for (path, valid) in [
        ("/v1/routing/overrides", overriding.to_string()),
        (dry_run.as_str(), window.to_string()),
        ("/v1/routing/rules/validate", refunds_rules().to_string()),
    ] {
        let send = |token: Option<&str>, body: String| {
            let mut request = app
                .client
                .post(app.url(path))
                .header("content-type", "application/json")
                .body(body);
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            request.send()
        };
        let cases = [
            (Some(sam.as_str()), "{,}".to_owned(), 400),
            (None, valid.clone(), 401),
            (Some(alice.as_str()), valid.clone(), 403),
            (
                Some(sam.as_str()),
                format!("\"{}\"", "x".repeat(70_000)),
                413,
            ),
        ];
        for (token, body, expected) in cases {
            let response = send(token, body).await.unwrap();
            assert_eq!(response.status().as_u16(), expected, "{path}");
            let error: Value = response.json().await.unwrap();
            assert!(error["error"]["code"].is_string(), "{path}: {error}");
        }
    }
    // Unknown fields are refused too, and nothing was created by any of it.
    let (status, body) = app
        .post_json(
            "/v1/routing/overrides",
            &sam,
            json!({"rule": "refunds", "target": {"queue": "general"}, "minutes": 5, "colour": "red"}),
        )
        .await;
    assert!((400..500).contains(&status), "{status} {body}");
    let (_, listed) = app.get_json("/v1/routing/overrides", &sam).await;
    assert_eq!(listed["overrides"], json!([]));
    let (status, _) = app.delete_json("/v1/routing/overrides/ovr_x", &alice).await;
    assert_eq!(status, 403);
}
