//! Login and roles.

use serde_json::{json, Value};
use switchboard::domain::AgentId;
use switchboard::store::sqlite::SqliteStore;
use switchboard::store::{
    staff_subject, AccountStore, AuditEntry, AuditStore, UNKNOWN_STAFF_SUBJECT,
};

use crate::helpers::{spawn_app, TestApp};

/// The audit entries under `subject` (newest first), read from the node's SQLite file.
async fn audit(app: &TestApp, subject: &str) -> Vec<AuditEntry> {
    SqliteStore::open(&app.db_path)
        .expect("store")
        .audit_log(subject, 100)
        .await
        .expect("audit")
}

/// The audit entries of the account `id` whose action starts with `staff.login`.
async fn login_audit(app: &TestApp, id: &str) -> Vec<AuditEntry> {
    audit(app, &staff_subject(&AgentId::from_trusted(id)))
        .await
        .into_iter()
        .filter(|e| e.action.starts_with("staff.login"))
        .collect()
}

#[actix_web::test]
async fn demo_accounts_log_in_with_their_roles() {
    let app = spawn_app(&[]).await;
    for (user, role) in [
        ("alice", "agent"),
        ("bob", "agent"),
        ("carol", "agent"),
        ("sam", "supervisor"),
        ("ada", "admin"),
    ] {
        let body: Value = app
            .client
            .post(app.url("/v1/auth/login"))
            .json(&json!({"username": user, "password": "demo"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(body["role"], role, "{user}");
        assert!(body["token"].as_str().unwrap().len() >= 32);
        assert_eq!(body.get("agent_id").is_some(), role == "agent");
    }
}

#[actix_web::test]
async fn unknown_user_and_wrong_password_get_the_same_answer() {
    let app = spawn_app(&[]).await;
    let mut answers = Vec::new();
    for (user, password) in [("alice", "wrong"), ("mallory", "demo")] {
        let response = app
            .client
            .post(app.url("/v1/auth/login"))
            .json(&json!({"username": user, "password": password}))
            .send()
            .await
            .unwrap();
        answers.push((response.status().as_u16(), response.text().await.unwrap()));
    }
    assert_eq!(answers[0].0, 401);
    assert_eq!(answers[0], answers[1]);
}

#[actix_web::test]
async fn customers_cannot_use_staff_endpoints_or_open_the_desk() {
    let app = spawn_app(&[]).await;
    let visitor = app.visitor().await;
    let (status, body) = app
        .get_json(
            &format!("/v1/customers/{}", visitor.customer_id),
            &visitor.token,
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("forbidden"))
    );
    // The desk socket is for staff (supervisors and team leads watch and help there).
    let response = app
        .client
        .get(app.url(&format!("/v1/ws/agent?token={}", visitor.token)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let (sam, _) = app.login("sam").await;
    let (status, _) = app.get_json("/v1/conversations/current", &sam).await;
    assert_eq!(status, 403);
}

#[actix_web::test]
async fn me_tells_a_token_holder_who_they_are() {
    let app = spawn_app(&[]).await;
    let (sam, _) = app.login("sam").await;
    let (status, me) = app.get_json("/v1/me", &sam).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["kind"], "staff");
    assert_eq!(me["role"], "supervisor");
    assert_eq!(me["username"], "sam");
    assert!(me["agent_id"].as_str().unwrap().starts_with("agt_"), "{me}");
    assert!(!me["name"].as_str().unwrap().is_empty());
    assert!(me.get("password_hash").is_none());

    let (bob, bob_id) = app.login("bob").await;
    let (_, me) = app.get_json("/v1/me", &bob).await;
    assert_eq!(
        (me["role"].as_str(), me["username"].as_str()),
        (Some("agent"), Some("bob"))
    );
    assert_eq!(me["agent_id"].as_str(), Some(bob_id.as_str()));
    let skills: Vec<&str> = me["skills"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert!(skills.contains(&"orders"), "{me}");
    assert!(me["skills"][0]["level"].as_u64().is_some(), "{me}");

    let visitor = app.visitor().await;
    let (status, me) = app.get_json("/v1/me", &visitor.token).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["kind"], "customer");
    assert_eq!(
        me["customer_id"].as_str(),
        Some(visitor.customer_id.as_str())
    );
    assert_eq!(me["channel"], "web");

    let (status, body) = app.get_json("/v1/me", "not-a-token").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("unauthenticated"))
    );
}

async fn login_status(
    app: &crate::helpers::TestApp,
    username: &str,
    password: &str,
) -> (u16, Option<String>, Value) {
    let response = app
        .client
        .post(app.url("/v1/auth/login"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (
        status,
        retry_after,
        response.json().await.unwrap_or(Value::Null),
    )
}

#[actix_web::test]
async fn ten_failed_logins_lock_the_username_and_the_address_even_for_the_right_password() {
    let app = spawn_app(&[]).await;
    for n in 1..=10 {
        let (status, _, body) = login_status(&app, "alice", "not her password").await;
        assert_eq!(status, 401, "failure {n}: {body}");
    }
    let (status, retry_after, body) = login_status(&app, "alice", "demo").await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"]["code"], "too_many_attempts");
    let wait: u64 = retry_after.expect("Retry-After").parse().unwrap();
    assert!((1..=900).contains(&wait), "{wait}");
    // The failures came from this address: another account is locked from it too.
    let (status, _, _) = login_status(&app, "bob", "demo").await;
    assert_eq!(status, 429);

    // The audit holds the ten failures the throttle let through, the tenth marked as the one
    // that locked; attempts refused while locked add nothing, however many there are.
    for _ in 0..5 {
        assert_eq!(login_status(&app, "alice", "still wrong").await.0, 429);
    }
    let store = SqliteStore::open(&app.db_path).expect("store");
    let alice = store
        .agent_by_username("alice")
        .await
        .expect("read")
        .expect("alice");
    let bob = store
        .agent_by_username("bob")
        .await
        .expect("read")
        .expect("bob");
    let failures = login_audit(&app, alice.id.as_str()).await;
    assert_eq!(failures.len(), 10, "{failures:?}");
    assert!(failures.iter().all(|e| e.action == "staff.login_failed"));
    assert_eq!(failures[0].detail["locked"], true, "{:?}", failures[0]);
    assert!(failures[1..]
        .iter()
        .all(|e| e.detail.get("locked").is_none()));
    assert!(login_audit(&app, bob.id.as_str()).await.is_empty());
}

#[actix_web::test]
async fn sign_ins_and_refused_sign_ins_are_audited_with_the_address_never_the_password() {
    let app = spawn_app(&[]).await;
    let (_, alice) = app.login("alice").await;
    let (status, _, _) = login_status(&app, "alice", "her-old-password-2024").await;
    assert_eq!(status, 401);
    let (status, _, _) = login_status(&app, "mallory", "mallory-guesses-2024").await;
    assert_eq!(status, 401);

    let log = login_audit(&app, &alice).await;
    assert_eq!(log.len(), 2, "{log:?}");
    let (failed, signed_in) = (&log[0], &log[1]);
    assert_eq!(signed_in.action, "staff.login");
    assert_eq!(signed_in.actor, alice);
    assert_eq!(signed_in.detail["source"], "127.0.0.1", "{signed_in:?}");
    assert_eq!(signed_in.detail["username"], "alice");
    assert_eq!(signed_in.detail["role"], "agent");
    assert_eq!(failed.action, "staff.login_failed");
    assert_eq!(failed.actor, "anonymous");
    assert_eq!(failed.detail["source"], "127.0.0.1", "{failed:?}");
    assert_eq!(failed.detail["username"], "alice");
    assert_eq!(failed.detail["agent_id"], alice.as_str());

    // A username that is nobody's is audited too, on a subject of its own, with no account.
    let unknown: Vec<AuditEntry> = audit(&app, UNKNOWN_STAFF_SUBJECT).await;
    assert_eq!(unknown.len(), 1, "{unknown:?}");
    assert_eq!(unknown[0].action, "staff.login_failed");
    assert_eq!(unknown[0].detail["username"], "mallory");
    assert_eq!(unknown[0].detail["source"], "127.0.0.1");
    assert!(unknown[0].detail.get("agent_id").is_none());

    // No password, right or wrong, is in any entry.
    for entry in log.iter().chain(&unknown) {
        let text = entry.detail.to_string();
        assert!(entry.detail.get("password").is_none(), "{text}");
        for password in ["demo", "her-old-password-2024", "mallory-guesses-2024"] {
            assert!(!text.contains(password), "{text}");
        }
    }
}

#[actix_web::test]
async fn a_flood_of_concurrent_wrong_logins_is_bounded_and_never_fails_the_server() {
    let app = spawn_app(&[]).await;
    // Rounds of 32 concurrent wrong logins from one address (bounded: at most 20 rounds),
    // until the address is locked.
    let mut statuses = Vec::new();
    for round in 0..20 {
        let attempts = (0..32).map(|n| {
            let app = &app;
            async move {
                login_status(app, &format!("nobody{round}x{n}"), "wrong password")
                    .await
                    .0
            }
        });
        statuses.extend(futures_util::future::join_all(attempts).await);
        if statuses.contains(&429) {
            break;
        }
    }
    // Each answer is a refusal: wrong credentials, the node busy checking other passwords
    // (at most one check per core at once), or the address locked after ten failures.
    assert!(
        statuses.iter().all(|s| [401, 429, 503].contains(s)),
        "{statuses:?}"
    );
    assert!(
        statuses.contains(&429),
        "the address is locked: {statuses:?}"
    );
    // Ten failures lock the address; checks already running when the tenth failed (at most
    // one per core) still answer.
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
    assert!(
        statuses.iter().filter(|s| **s == 401).count() < 10 + cores,
        "no more than ten failures were checked: {statuses:?}"
    );
}
