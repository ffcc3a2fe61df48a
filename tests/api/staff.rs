//! Staff accounts and teams through the API: create, list, change and deactivate accounts,
//! create teams, sign out; who may do what (403 by role, a team lead's scope), 409 and 422
//! with every problem; a skill change that routes the next offer; a deactivated account signed
//! out everywhere at once (its desk closed, its conversations routed again); and the same
//! across three nodes on PostgreSQL and RabbitMQ.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use switchboard::domain::AgentId;
use switchboard::store::sqlite::SqliteStore;
use switchboard::store::{staff_subject, AuditStore};

use crate::helpers::{assert_problems_at, say, spawn_app, TestApp, Ws};

/// A password the policy takes.
const PASSWORD: &str = "a long secret phrase";

/// Logs in; the status and the answer.
async fn sign_in(app: &TestApp, username: &str, password: &str) -> (u16, Value) {
    let response = app
        .client
        .post(app.url("/v1/auth/login"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn patch(app: &TestApp, token: &str, id: &str, body: Value) -> (u16, Value) {
    app.request_json(Method::PATCH, &format!("/v1/staff/{id}"), token, Some(body))
        .await
}

async fn deactivate(app: &TestApp, token: &str, id: &str) -> (u16, Value) {
    app.post_json(&format!("/v1/staff/{id}/deactivate"), token, json!({}))
        .await
}

async fn logout(app: &TestApp, token: &str) -> u16 {
    app.client
        .post(app.url("/v1/auth/logout"))
        .bearer_auth(token)
        .send()
        .await
        .expect("request")
        .status()
        .as_u16()
}

/// `GET /v1/me` with `token`: its status.
async fn me(app: &TestApp, token: &str) -> u16 {
    app.get_json("/v1/me", token).await.0
}

/// The staff list as `token` sees it.
async fn staff(app: &TestApp, token: &str) -> Vec<Value> {
    let (status, body) = app.get_json("/v1/staff", token).await;
    assert_eq!(status, 200, "{body}");
    body["staff"].as_array().expect("staff").clone()
}

/// The account named `username` as `token` sees it.
async fn account(app: &TestApp, token: &str, username: &str) -> Value {
    staff(app, token)
        .await
        .into_iter()
        .find(|s| s["username"] == username)
        .unwrap_or_else(|| panic!("{username} not listed"))
}

/// Creates an account as `admin`; its id.
async fn create(app: &TestApp, admin: &str, body: Value) -> String {
    let (status, created) = app.post_json("/v1/staff", admin, body).await;
    assert_eq!(status, 201, "{created}");
    created["id"].as_str().expect("id").to_owned()
}

/// Creates a team as `admin`; its id.
async fn team(app: &TestApp, admin: &str, name: &str, leads: &[&str], members: &[&str]) -> String {
    let (status, created) = app
        .post_json(
            "/v1/teams",
            admin,
            json!({"name": name, "leads": leads, "members": members}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    created["id"].as_str().expect("id").to_owned()
}

/// The audit entries of a staff account, newest first (read from the node's SQLite file),
/// without its sign-ins and refused sign-ins (`staff.login…`, see tests/api/auth.rs).
async fn audit(app: &TestApp, id: &str) -> Vec<switchboard::store::AuditEntry> {
    let store = SqliteStore::open(&app.db_path).expect("store");
    store
        .audit_log(&staff_subject(&AgentId::from_trusted(id)), 50)
        .await
        .expect("audit")
        .into_iter()
        .filter(|e| !e.action.starts_with("staff.login"))
        .collect()
}

/// A customer who asked for a person in English; their socket.
async fn waiting_customer(app: &TestApp, client: &str) -> (Ws, crate::helpers::Visitor) {
    let visitor = app.visitor().await;
    let mut customer = app.customer_ws(&visitor).await;
    say(&mut customer, "human please", client).await;
    (customer, visitor)
}

#[actix_web::test]
async fn an_admin_creates_an_account_that_signs_in_and_is_listed_and_audited() {
    let app = spawn_app(&[]).await;
    let (ada, ada_id) = app.login("ada").await;
    let ada_id = if ada_id.is_empty() {
        app.get_json("/v1/me", &ada).await.1["agent_id"]
            .as_str()
            .expect("id")
            .to_owned()
    } else {
        ada_id
    };
    let id = create(
        &app,
        &ada,
        json!({
            "username": "dora", "display_name": "Dora", "password": PASSWORD, "role": "agent",
            "skills": [{"name": "billing", "level": 3}], "languages": ["zh", "en"],
            "capacity": {"chat": 4}, "extension": "4021"
        }),
    )
    .await;
    let dora = account(&app, &ada, "dora").await;
    assert_eq!(
        dora,
        json!({
            "id": id, "username": "dora", "display_name": "Dora", "role": "agent", "teams": [],
            "skills": [{"name": "billing", "level": 3}], "languages": ["zh", "en"],
            "capacity": {"chat": 4, "voice": 1, "ticket": 5}, "extension": "4021", "active": true
        })
    );
    // The demo accounts are listed too, with the fields of the contract.
    let alice = account(&app, &ada, "alice").await;
    for field in [
        "id",
        "username",
        "display_name",
        "role",
        "teams",
        "skills",
        "languages",
        "capacity",
        "extension",
        "active",
    ] {
        assert!(alice.get(field).is_some(), "{field} missing: {alice}");
    }
    // The supervisor sees everyone too.
    let (sam, _) = app.login("sam").await;
    assert_eq!(staff(&app, &sam).await, staff(&app, &ada).await);

    let (status, login) = sign_in(&app, "dora", PASSWORD).await;
    assert_eq!(status, 200, "{login}");
    assert_eq!(login["role"], "agent");
    assert_eq!(login["agent_id"], id.as_str());

    // A username is taken whatever its case.
    let (status, body) = app
        .post_json(
            "/v1/staff",
            &ada,
            json!({"username": "Dora", "display_name": "Other", "password": PASSWORD, "role": "agent"}),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "username_taken");

    let log = audit(&app, &id).await;
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0].action, "staff.created");
    assert_eq!(log[0].actor, ada_id);
    assert_eq!(log[0].detail["username"], "dora");
    let detail = log[0].detail.to_string();
    assert!(
        !detail.contains(PASSWORD) && !detail.contains("argon2"),
        "no password in the audit log: {detail}"
    );
}

#[actix_web::test]
async fn callers_without_the_role_are_refused_and_every_problem_is_listed() {
    let app = spawn_app(&[]).await;
    let (ada, _) = app.login("ada").await;
    let (sam, _) = app.login("sam").await;
    let (alice, alice_id) = app.login("alice").await;
    let valid =
        json!({"username": "eve", "display_name": "Eve", "password": PASSWORD, "role": "agent"});

    // 403 by role.
    assert_eq!(app.post_json("/v1/staff", &sam, valid.clone()).await.0, 403);
    assert_eq!(
        app.post_json("/v1/staff", &alice, valid.clone()).await.0,
        403
    );
    assert_eq!(app.get_json("/v1/staff", &alice).await.0, 403);
    assert_eq!(deactivate(&app, &sam, &alice_id).await.0, 403);
    assert_eq!(
        app.post_json("/v1/teams", &sam, json!({"name": "T"}))
            .await
            .0,
        403
    );
    assert_eq!(
        patch(&app, &alice, &alice_id, json!({"languages": ["zh"]}))
            .await
            .0,
        403
    );
    // A supervisor changes the routing profile, nothing else.
    let (status, body) = patch(&app, &sam, &alice_id, json!({"role": "admin"})).await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = patch(
        &app,
        &sam,
        &alice_id,
        json!({"display_name": "Al", "capacity": {"chat": 2}}),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(account(&app, &ada, "alice").await["capacity"]["chat"], 3);
    let (status, body) = patch(
        &app,
        &sam,
        &alice_id,
        json!({"capacity": {"chat": 2}, "languages": ["en", "zh"]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["capacity"]["chat"], 2);
    assert_eq!(body["languages"], json!(["en", "zh"]));
    assert_eq!(body["display_name"], "Alice");

    // 422: every problem at once, each with its place; nothing stored.
    let (status, body) = app.post_json("/v1/staff", &ada, json!({})).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "invalid");
    assert_problems_at(&body, &["username", "display_name", "password", "role"]);
    let (status, body) = app
        .post_json(
            "/v1/staff",
            &ada,
            json!({
                "username": "bad user!", "display_name": " ", "password": "short", "role": "boss",
                "skills": [{"name": "Billing", "level": 3}, {"name": "tech", "level": 7}],
                "languages": ["fr"], "capacity": {"chat": 99, "voice": -1},
                "teams": ["team_nope"], "extension": "12a"
            }),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "invalid");
    assert_problems_at(
        &body,
        &[
            "username",
            "display_name",
            "password",
            "role",
            "skills[0].name",
            "skills[1].level",
            "languages[0]",
            "capacity.chat",
            "capacity.voice",
            "teams[0]",
            "extension",
        ],
    );
    assert!(staff(&app, &ada)
        .await
        .iter()
        .all(|s| s["username"] != "bad user!"));
    let (status, body) = patch(
        &app,
        &ada,
        &alice_id,
        json!({"skills": [{"name": "refunds", "level": 0}], "password": "password123"}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_problems_at(&body, &["skills[0].level", "password"]);
    // A body of the wrong shape is `invalid_request`.
    let (status, body) = app
        .post_json("/v1/staff", &ada, json!({"username": 5}))
        .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (422, json!("invalid_request"))
    );
    assert_eq!(
        patch(&app, &ada, "agt_nobody", json!({"languages": ["zh"]}))
            .await
            .0,
        404
    );

    // Teams: every problem, and a name taken whatever its case.
    let (_, bob_id) = app.login("bob").await;
    let (status, body) = app
        .post_json(
            "/v1/teams",
            &ada,
            json!({"name": "", "leads": [alice_id], "members": ["agt_nobody", bob_id, bob_id]}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "invalid");
    assert_problems_at(&body, &["name", "leads[0]", "members[0]", "members[2]"]);
    team(&app, &ada, "Refunds", &[], &[&bob_id]).await;
    let (status, body) = app
        .post_json("/v1/teams", &ada, json!({"name": "refunds"}))
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "name_taken");
}

#[actix_web::test]
async fn a_team_lead_sees_and_changes_only_the_agents_of_the_teams_they_lead() {
    let app = spawn_app(&[]).await;
    let (ada, _) = app.login("ada").await;
    let (alice, alice_id) = app.login("alice").await;
    let (_, bob_id) = app.login("bob").await;
    let lena = create(
        &app,
        &ada,
        json!({"username": "lena", "display_name": "Lena", "password": PASSWORD, "role": "team_lead"}),
    )
    .await;
    let blue = team(&app, &ada, "Blue", &[&lena], &[&alice_id]).await;
    team(&app, &ada, "Green", &[], &[&bob_id]).await;

    let (status, lead) = sign_in(&app, "lena", PASSWORD).await;
    assert_eq!(status, 200, "{lead}");
    let lead = lead["token"].as_str().expect("token").to_owned();
    let seen: Vec<Value> = staff(&app, &lead).await;
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0]["id"], alice_id.as_str());
    assert_eq!(seen[0]["teams"], json!([blue]));

    let (status, body) = patch(
        &app,
        &lead,
        &alice_id,
        json!({"skills": [{"name": "refunds", "level": 5}, {"name": "orders", "level": 2}]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["skills"],
        json!([{"name": "refunds", "level": 5}, {"name": "orders", "level": 2}])
    );
    assert_eq!(
        patch(&app, &lead, &bob_id, json!({"capacity": {"chat": 1}}))
            .await
            .0,
        403,
        "not one of Lena's teams"
    );
    assert_eq!(
        patch(&app, &lead, &alice_id, json!({"extension": "12"}))
            .await
            .0,
        403,
        "only the routing profile"
    );

    // Teams are visible to every staff member.
    let (status, teams) = app.get_json("/v1/teams", &alice).await;
    assert_eq!(status, 200, "{teams}");
    assert_eq!(
        teams["teams"][0],
        json!({"id": blue, "name": "Blue", "leads": [lena], "members": [alice_id]})
    );
    assert_eq!(teams["teams"][1]["name"], "Green");

    // An agent promoted to team lead leads the teams they are in.
    let (status, body) = patch(
        &app,
        &ada,
        &bob_id,
        json!({"role": "team_lead", "teams": [blue]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (_, teams) = app.get_json("/v1/teams", &ada).await;
    let mut leads: Vec<String> = teams["teams"][0]["leads"]
        .as_array()
        .expect("leads")
        .iter()
        .map(|l| l.as_str().expect("id").to_owned())
        .collect();
    leads.sort();
    let mut expected = vec![lena.clone(), bob_id.clone()];
    expected.sort();
    assert_eq!(leads, expected);
    assert_eq!(teams["teams"][1]["members"], json!([]));
}

/// A Chinese customer whose question needs the `orders` skill hands off.
async fn orders_customer(app: &TestApp) -> Ws {
    let visitor = app.visitor().await;
    let mut customer = app.customer_ws(&visitor).await;
    say(&mut customer, "我的快递到哪了？", "o-1").await;
    say(&mut customer, "human", "o-2").await;
    customer
}

#[actix_web::test]
async fn a_skill_change_routes_the_next_offer() {
    let app = spawn_app(&[]).await;
    // Alice speaks Chinese but lacks `orders`: the task waits.
    let mut desk = app.available_agent("alice").await;
    let (_, alice_id) = app.login("alice").await;
    let _customer = orders_customer(&app).await;
    assert!(!desk.sees_within("offer", Duration::from_millis(800)).await);

    let (sam, _) = app.login("sam").await;
    let (status, body) = patch(
        &app,
        &sam,
        &alice_id,
        json!({"skills": [{"name": "billing", "level": 4}, {"name": "orders", "level": 2}]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let offer = desk.next_of_type("offer").await;
    assert_eq!(offer["skills"], json!(["orders"]));
    // The desk learnt its new profile (and reports it from now on).
    let profile = desk.next_of_type("profile_changed").await;
    assert_eq!(profile["skills"][1], json!({"name": "orders", "level": 2}));
    let (_, live) = app.get_json("/v1/queues", &sam).await;
    let listed = live["agents"]
        .as_array()
        .expect("agents")
        .iter()
        .find(|a| a["agent_id"] == alice_id.as_str())
        .cloned()
        .expect("alice");
    assert_eq!(listed["skills"]["orders"], 2, "{listed}");

    // A status change after it reports the new skills, not the old ones.
    desk.send(json!({"type": "status", "status": "away"})).await;
    desk.next_of_type("status").await;
    desk.send(json!({"type": "status", "status": "available"}))
        .await;
    desk.next_of_type("status").await;
    let (_, live) = app.get_json("/v1/queues", &sam).await;
    let listed = live["agents"]
        .as_array()
        .expect("agents")
        .iter()
        .find(|a| a["agent_id"] == alice_id.as_str())
        .cloned()
        .expect("alice");
    assert_eq!(listed["skills"]["orders"], 2, "{listed}");

    let log = audit(&app, &alice_id).await;
    assert_eq!(log[0].action, "staff.updated");
    assert_eq!(
        log[0].detail["changes"]["skills"]["after"][1],
        json!({"name": "orders", "level": 2})
    );
    assert_eq!(
        log[0].detail["changes"]["skills"]["before"],
        json!([{"name": "billing", "level": 4}, {"name": "refunds", "level": 5}])
    );
}

#[actix_web::test]
async fn a_deactivated_account_is_signed_out_at_once_and_its_conversations_are_routed_again() {
    let app = spawn_app(&[]).await;
    let (ada, _) = app.login("ada").await;
    let mut desk = app.available_agent("alice").await;
    let (rest, alice_id) = app.login("alice").await;
    assert_eq!(me(&app, &rest).await, 200);

    // Alice holds one conversation and has the next one on offer.
    let (_first, first_visitor) = waiting_customer(&app, "d-1").await;
    let offer = desk.next_of_type("offer").await;
    desk.send(json!({"type": "accept", "task_id": offer["task_id"]}))
        .await;
    let held = desk.next_of_type("assigned").await["conversation_id"].clone();
    let (_second, _) = waiting_customer(&app, "d-2").await;
    let offered = desk.next_of_type("offer").await["conversation_id"].clone();

    let (status, body) = deactivate(&app, &ada, &alice_id).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["active"], false);
    assert_eq!(body["id"], alice_id.as_str());
    // Every token answers 401 at once.
    assert_eq!(me(&app, &rest).await, 401);
    // The desk is told and closed.
    let error = desk.next_of_type("error").await;
    assert_eq!(error["code"], "account_deactivated");
    assert!(desk.closed_by_server().await);
    // Signing in fails exactly like a wrong password.
    let (status, refused) = sign_in(&app, "alice", "demo").await;
    let wrong = sign_in(&app, "bob", "not bob's password").await;
    assert_eq!((status, refused), wrong);
    assert_eq!(wrong.0, 401);
    assert_eq!(account(&app, &ada, "alice").await["active"], false);

    // Both conversations go to the next agent: the one Alice held (routed again) and the one
    // she was offered.
    let mut carol = app.available_agent("carol").await;
    let mut offered_to_carol = Vec::new();
    for _ in 0..2 {
        let offer = carol.next_of_type("offer").await;
        offered_to_carol.push(offer["conversation_id"].clone());
        if offer["conversation_id"] == held {
            carol
                .send(json!({"type": "accept", "task_id": offer["task_id"]}))
                .await;
        }
    }
    offered_to_carol.sort_by_key(|c| c.to_string());
    let mut expected = vec![held.clone(), offered];
    expected.sort_by_key(|c| c.to_string());
    assert_eq!(offered_to_carol, expected);
    let assigned = carol.next_of_type("assigned").await;
    assert_eq!(assigned["conversation_id"], held);
    assert!(
        assigned["history"].as_array().expect("history").len() >= 2,
        "{assigned}"
    );
    let current = app.current(&first_visitor.token).await;
    assert_eq!(current["id"], held);
    assert_eq!(current["status"], "assigned");
    assert_eq!(current["agent_name"], "Carol");

    // Once: again is 200 and changes nothing; an unknown account is 404; not oneself.
    assert_eq!(deactivate(&app, &ada, &alice_id).await.0, 200);
    assert_eq!(deactivate(&app, &ada, "agt_nobody").await.0, 404);
    let ada_id = app.get_json("/v1/me", &ada).await.1["agent_id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(deactivate(&app, &ada, &ada_id).await.0, 409);
    let log = audit(&app, &alice_id).await;
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["staff.deactivated"], "{log:?}");
    assert_eq!(log[0].detail["requeued"], json!([held]));
}

#[actix_web::test]
async fn a_signed_out_token_stops_working_and_the_others_do_not() {
    let app = spawn_app(&[]).await;
    let (one, sam_id) = app.login("sam").await;
    let (two, _) = app.login("sam").await;
    assert_eq!(me(&app, &one).await, 200, "cached on this node");
    assert_eq!(logout(&app, &one).await, 204);
    assert_eq!(me(&app, &one).await, 401);
    assert_eq!(me(&app, &two).await, 200);
    assert_eq!(logout(&app, &one).await, 401);
    let sam_id = if sam_id.is_empty() {
        app.get_json("/v1/me", &two).await.1["agent_id"]
            .as_str()
            .expect("id")
            .to_owned()
    } else {
        sam_id
    };
    let log = audit(&app, &sam_id).await;
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0].action, "staff.signed_out");
    assert_eq!(log[0].actor, sam_id);

    // A visitor signs out too.
    let visitor = app.visitor().await;
    assert_eq!(
        app.post_message(&visitor.token, "hi", "v-1").await.status(),
        202
    );
    assert_eq!(logout(&app, &visitor.token).await, 204);
    assert_eq!(
        app.post_message(&visitor.token, "hi again", "v-2")
            .await
            .status(),
        401
    );

    // So does an app user: the app token is refused until it expires.
    let claims = switchboard::signing::app_token::AppClaims {
        sub: "u-logout".to_owned(),
        phone: None,
        exp: chrono::Utc::now().timestamp() + 3_600,
        nbf: None,
        iat: None,
        name: None,
        wechat_openid: None,
        wechat_unionid: None,
    };
    let app_user =
        switchboard::signing::app_token::sign(b"switchboard-demo-app-jwt-secret-2026", &claims);
    assert_eq!(me(&app, &app_user).await, 200);
    assert_eq!(logout(&app, &app_user).await, 204);
    assert_eq!(me(&app, &app_user).await, 401);

    // A desk closes when its own token signs out, not when another of the agent's does.
    let (token, _) = app.login("bob").await;
    let mut desk = Ws::connect(&app.ws_url("/v1/ws/agent", &token)).await;
    desk.next_of_type("hello").await;
    let (other, _) = app.login("bob").await;
    assert_eq!(logout(&app, &other).await, 204);
    assert!(!desk.sees_within("error", Duration::from_millis(500)).await);
    assert_eq!(logout(&app, &token).await, 204);
    let error = desk.next_of_type("error").await;
    assert_eq!(error["code"], "signed_out");
    assert!(desk.closed_by_server().await);
}

#[actix_web::test]
async fn a_role_change_or_a_password_reset_ends_every_sign_in() {
    let app = spawn_app(&[]).await;
    let (ada, ada_id) = app.login("ada").await;
    let (bob, bob_id) = app.login("bob").await;
    let new_password = "a brand new passphrase 7";
    let (status, body) = patch(&app, &ada, &bob_id, json!({"password": new_password})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(me(&app, &bob).await, 401);
    assert_eq!(sign_in(&app, "bob", "demo").await.0, 401);
    let (status, login) = sign_in(&app, "bob", new_password).await;
    assert_eq!(status, 200, "{login}");
    let bob = login["token"].as_str().expect("token").to_owned();

    let (status, body) = patch(&app, &ada, &bob_id, json!({"role": "supervisor"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["role"], "supervisor");
    assert_eq!(me(&app, &bob).await, 401);
    let (_, login) = sign_in(&app, "bob", new_password).await;
    assert_eq!(login["role"], "supervisor");

    // The audit log has what changed, never the password.
    let log = audit(&app, &bob_id).await;
    assert_eq!(log[0].action, "staff.updated");
    assert_eq!(
        log[0].detail["changes"]["role"],
        json!({"before": "agent", "after": "supervisor"})
    );
    assert_eq!(log[1].detail["password_reset"], true);
    let everything = format!("{log:?}");
    assert!(!everything.contains(new_password) && !everything.contains("argon2"));

    // An admin cannot change their own role.
    let ada_id = if ada_id.is_empty() {
        app.get_json("/v1/me", &ada).await.1["agent_id"]
            .as_str()
            .expect("id")
            .to_owned()
    } else {
        ada_id
    };
    let (status, body) = patch(&app, &ada, &ada_id, json!({"role": "agent"})).await;
    assert_eq!(status, 422, "{body}");
    assert_problems_at(&body, &["role"]);
    // An empty change changes nothing and is not audited.
    let (status, _) = patch(&app, &ada, &bob_id, json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(audit(&app, &bob_id).await.len(), log.len());
}

/// Three nodes on one PostgreSQL and one RabbitMQ: a skill change made through one node routes
/// the next offer for a customer who wrote to another to a desk on the third, and a
/// deactivation made on one node ends the account's sign-ins on the others at once (well before
/// their token caches would have let go).
#[cfg(feature = "integration-tests")]
#[actix_web::test]
async fn across_three_nodes_a_skill_change_routes_the_next_offer_and_a_deactivation_signs_out() {
    let url = crate::helpers::fresh_postgres_database().await;
    let amqp = std::env::var("SWITCHBOARD_TEST_AMQP_URL").expect("SWITCHBOARD_TEST_AMQP_URL");
    let namespace = format!("sbtest{}", uuid::Uuid::new_v4().simple());
    let env = [
        ("SWITCHBOARD_DATABASE_URL", url.as_str()),
        ("SWITCHBOARD_AMQP_URL", amqp.as_str()),
        ("SWITCHBOARD_BUS__NAMESPACE", namespace.as_str()),
        ("SWITCHBOARD_BUS__QUEUE_EXPIRES_MS", "60000"),
        ("SWITCHBOARD_NODE_ID", "node-1"),
    ];
    let one = spawn_app(&env).await;
    let two = spawn_app(&[&env[..4], &[("SWITCHBOARD_NODE_ID", "node-2")]].concat()).await;
    let three = spawn_app(&[&env[..4], &[("SWITCHBOARD_NODE_ID", "node-3")]].concat()).await;
    let (ada, _) = one.login("ada").await;

    // Alice's desk and REST token on node two, the customer on node three, the admin on node
    // one. Alice lacks `orders`, the skill the customer's question needs: the task waits.
    let mut desk = two.available_agent("alice").await;
    let (rest, alice_id) = two.login("alice").await;
    assert_eq!(me(&two, &rest).await, 200, "cached on node two");
    assert_eq!(me(&three, &rest).await, 200, "cached on node three");
    let _customer = orders_customer(&three).await;
    assert!(
        !desk
            .sees_within("offer", Duration::from_millis(1_000))
            .await
    );
    let (status, body) = patch(
        &one,
        &ada,
        &alice_id,
        json!({"skills": [{"name": "orders", "level": 3}]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // The next decision uses the new skill: the waiting task is offered to Alice.
    let offer = desk.next_of_type("offer").await;
    assert_eq!(offer["skills"], json!(["orders"]));
    let profile = desk.next_of_type("profile_changed").await;
    assert_eq!(profile["skills"], json!([{"name": "orders", "level": 3}]));

    let (status, _) = deactivate(&one, &ada, &alice_id).await;
    assert_eq!(status, 200);
    let started = std::time::Instant::now();
    while me(&two, &rest).await != 401 || me(&three, &rest).await != 401 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "node two or three still takes the token"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let error = desk.next_of_type("error").await;
    assert_eq!(error["code"], "account_deactivated");
    assert!(desk.closed_by_server().await);
    assert_eq!(sign_in(&two, "alice", "demo").await.0, 401);
}
