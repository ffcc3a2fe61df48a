//! Supervisors' routing rules over the API: validation with every problem at once, immutable
//! versions, activation (and rollback), and the dispatcher routing by the version in force.

use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::{assert_problems_at, say, spawn_app};

/// Every task to the tech experts.
fn tech_rules() -> Value {
    json!({"rules": [
        {"name": "all-tech", "queue": "tech", "skills": [{"name": "tech", "min_level": 3}]}
    ]})
}

#[actix_web::test]
async fn only_supervisors_read_and_change_routing_rules() {
    let app = spawn_app(&[]).await;
    let (alice, _) = app.login("alice").await;
    let (status, _) = app.get_json("/v1/routing/rules", &alice).await;
    assert_eq!(status, 403);
    let (status, _) = app
        .post_json("/v1/routing/rules", &alice, tech_rules())
        .await;
    assert_eq!(status, 403);
    let visitor = app.visitor().await;
    let (status, _) = app
        .post_json("/v1/routing/rules", &visitor.token, tech_rules())
        .await;
    assert_eq!(status, 403);
    let (status, _) = app.get_json("/v1/routing/rules", "no-such-token").await;
    assert_eq!(status, 401);
}

#[actix_web::test]
async fn an_invalid_rule_set_is_refused_with_every_problem_and_nothing_is_stored() {
    let app = spawn_app(&[]).await;
    let (sam, _) = app.login("sam").await;
    let (status, body) = app
        .post_json(
            "/v1/routing/rules",
            &sam,
            json!({"rules": [
                {"name": "a", "when": "colour == 'red'", "queue": "q"},
                {"name": "b", "when": "intent ==", "queue": "q",
                 "skills": [{"name": "juggling", "min_level": 2}]},
                {"name": "c", "queue": "q", "overflow": [{"after_secs": 60}, {"after_secs": 30}]}
            ]}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "invalid_rules");
    assert_problems_at(
        &body,
        &[
            "rules[0].when",
            "rules[1].when",
            "rules[1].skills[0].name",
            "rules[2].overflow[1].after_secs",
        ],
    );
    // A document of the wrong shape (a misspelt field) is refused the same way.
    let (status, body) = app
        .post_json(
            "/v1/routing/rules",
            &sam,
            json!({"rules": [{"name": "x", "queue": "q", "priorty": 3}]}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["problems"][0]["message"]
        .as_str()
        .unwrap()
        .contains("priorty"));
    // Not JSON, or too large: typed errors too.
    let response = app
        .client
        .post(app.url("/v1/routing/rules"))
        .bearer_auth(&sam)
        .header("content-type", "application/json")
        .body("{\"rules\": [")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "malformed_json");
    let huge = json!({"rules": [{"name": "x".repeat(70_000), "queue": "q"}]});
    let (status, body) = app.post_json("/v1/routing/rules", &sam, huge).await;
    assert_eq!(status, 413, "{body}");
    // Nothing was stored: the first valid version is 1.
    let (status, body) = app.post_json("/v1/routing/rules", &sam, tech_rules()).await;
    assert_eq!((status, body["version"].as_i64()), (201, Some(1)));
}

#[actix_web::test]
async fn an_activated_rule_set_routes_the_next_task_and_an_older_one_can_be_restored() {
    let app = spawn_app(&[]).await;
    let (sam, _) = app.login("sam").await;
    let (status, builtin) = app.get_json("/v1/routing/rules", &sam).await;
    assert_eq!((status, builtin["version"].as_i64()), (200, Some(0)));

    let (_, created) = app.post_json("/v1/routing/rules", &sam, tech_rules()).await;
    let version = created["version"].as_i64().unwrap();
    // Stored is not active.
    let (_, still) = app.get_json("/v1/routing/rules", &sam).await;
    assert_eq!(still["version"], 0);
    let (status, _) = app
        .post_json("/v1/routing/rules/999/activate", &sam, json!({}))
        .await;
    assert_eq!(status, 404);
    let (status, activated) = app
        .post_json(
            &format!("/v1/routing/rules/{version}/activate"),
            &sam,
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{activated}");
    assert_eq!(activated["previous"], Value::Null);
    let (_, in_force) = app.get_json("/v1/routing/rules", &sam).await;
    assert_eq!(in_force["version"].as_i64(), Some(version));
    assert_eq!(in_force["rules"][0]["name"], "all-tech");

    // Alice (no tech skill) is available first, yet the task goes to Carol (tech 5, English).
    let mut alice = app.available_agent("alice").await;
    let mut carol = app.available_agent("carol").await;
    let visitor = app.visitor().await;
    let mut customer = app.customer_ws(&visitor).await;
    say(&mut customer, "human please", "h-1").await;
    let offer = carol.next_of_type("offer").await;
    assert_eq!(offer["skills"], json!(["tech"]), "{offer}");
    assert!(!alice.sees_within("offer", Duration::from_millis(500)).await);

    // The decision is explained: the rule, the target, Carol first, Alice out for the skill.
    let (carol_token, carol_id) = app.login("carol").await;
    let (_, alice_id) = app.login("alice").await;
    let path = format!("/v1/tasks/{}/routing", offer["task_id"].as_str().unwrap());
    let mut explained = Value::Null;
    for _ in 0..50 {
        // Recorded in the background: bounded wait.
        let (status, body) = app.get_json(&path, &carol_token).await;
        assert_eq!(status, 200, "{body}");
        if !body["last_offer"].is_null() {
            explained = body;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let last = &explained["last_offer"];
    assert_eq!(last["offered_to"], carol_id.as_str(), "{explained}");
    assert_eq!(last["rule"]["name"], "all-tech");
    assert_eq!(last["rules_version"].as_i64(), Some(version));
    assert_eq!(last["target"]["skills"][0]["name"], "tech");
    assert_eq!(last["candidates"][0]["agent_id"], carol_id.as_str());
    let alice_entry = last["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["agent_id"] == alice_id.as_str())
        .expect("Alice is listed");
    assert_eq!(
        alice_entry["excluded"][0]["reason"], "skill",
        "{alice_entry}"
    );
    assert_eq!(alice_entry["excluded"][0]["name"], "tech");
    let (status, _) = app
        .get_json("/v1/tasks/tsk_nope/routing", &carol_token)
        .await;
    assert_eq!(status, 404);
    let (status, _) = app.get_json(&path, &visitor.token).await;
    assert_eq!(status, 403);

    // A second version, then back to the first (rollback).
    let (_, second) = app
        .post_json(
            "/v1/routing/rules",
            &sam,
            json!({"rules": [{"name": "everyone", "queue": "general"}]}),
        )
        .await;
    let second = second["version"].as_i64().unwrap();
    assert!(second > version);
    let path = |v: i64| format!("/v1/routing/rules/{v}/activate");
    let (_, switched) = app.post_json(&path(second), &sam, json!({})).await;
    assert_eq!(switched["previous"].as_i64(), Some(version));
    let (_, back) = app.post_json(&path(version), &sam, json!({})).await;
    assert_eq!(back["previous"].as_i64(), Some(second));
    let (_, in_force) = app.get_json("/v1/routing/rules", &sam).await;
    assert_eq!(in_force["version"].as_i64(), Some(version));
}

#[actix_web::test]
async fn a_fetched_rule_set_posts_back_as_it_is_with_its_read_only_fields_ignored() {
    let app = spawn_app(&[]).await;
    let (sam, _) = app.login("sam").await;
    let (_, created) = app.post_json("/v1/routing/rules", &sam, tech_rules()).await;
    let version = created["version"].as_i64().unwrap();
    app.post_json(
        &format!("/v1/routing/rules/{version}/activate"),
        &sam,
        json!({}),
    )
    .await;

    // GET → edit → POST: the metadata of the view travels back and is ignored.
    let (_, mut fetched) = app.get_json("/v1/routing/rules", &sam).await;
    assert!(fetched["activated_at"].is_string(), "{fetched}");
    fetched["rules"][0]["name"] = json!("all-tech-edited");
    let (status, body) = app.post_json("/v1/routing/rules", &sam, fetched).await;
    assert_eq!(status, 201, "{body}");
    let edited = body["version"].as_i64().unwrap();
    assert!(edited > version);

    let (_, one) = app
        .get_json(&format!("/v1/routing/rules/{edited}"), &sam)
        .await;
    assert_eq!(one["rules"][0]["name"], "all-tech-edited");
    let (status, body) = app.post_json("/v1/routing/rules", &sam, one).await;
    assert_eq!(status, 201, "a version's own view posts back too: {body}");

    // Unknown fields are still refused.
    let mut wrong = tech_rules();
    wrong["colour"] = json!("blue");
    let (status, body) = app.post_json("/v1/routing/rules", &sam, wrong).await;
    assert_eq!(status, 422, "{body}");
}
