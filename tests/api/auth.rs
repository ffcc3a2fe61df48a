//! Login and roles.

use serde_json::{json, Value};

use crate::helpers::spawn_app;

#[actix_web::test]
async fn demo_accounts_log_in_with_their_roles() {
    let app = spawn_app(&[]).await;
    for (user, role) in [
        ("alice", "agent"),
        ("bob", "agent"),
        ("carol", "agent"),
        ("sam", "supervisor"),
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
async fn customers_cannot_use_staff_endpoints_and_supervisors_cannot_open_the_desk() {
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
    let (sam, _) = app.login("sam").await;
    let response = app
        .client
        .get(app.url(&format!("/v1/ws/agent?token={sam}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let (status, _) = app.get_json("/v1/conversations/current", &sam).await;
    assert_eq!(status, 403);
}
