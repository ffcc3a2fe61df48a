//! The customer views for agents and supervisors.

use crate::helpers::spawn_app;

#[actix_web::test]
async fn staff_can_look_up_a_customer_and_read_every_message() {
    let app = spawn_app(&[]).await;
    let created: serde_json::Value = app
        .client
        .post(app.url("/v1/visitors"))
        .json(&serde_json::json!({"name": "Li Lei"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = created["visitor_token"].as_str().unwrap();
    let customer_id = created["customer_id"].as_str().unwrap();
    let visitor_id = created["visitor_id"].as_str().unwrap();
    app.post_message(token, "我想开发票", "k-1").await;
    let (sam, _) = app.login("sam").await;

    let (status, found) = app
        .get_json(
            &format!("/v1/customers/lookup?channel=web&external_id={visitor_id}"),
            &sam,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(found["customer_id"], customer_id);
    let (status, _) = app
        .get_json(
            "/v1/customers/lookup?channel=web&external_id=v_nobody",
            &sam,
        )
        .await;
    assert_eq!(status, 404);
    let (status, body) = app
        .get_json("/v1/customers/lookup?channel=fax&external_id=1", &sam)
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("invalid_request"))
    );

    let (status, profile) = app
        .get_json(&format!("/v1/customers/{customer_id}"), &sam)
        .await;
    assert_eq!(status, 200);
    assert_eq!(profile["name"], "Li Lei");
    assert_eq!(profile["identities"][0]["channel"], "web");

    // An agent who never served this customer may not read them; a supervisor may.
    let (alice, _) = app.login("alice").await;
    let (status, _) = app
        .get_json(&format!("/v1/customers/{customer_id}/messages"), &alice)
        .await;
    assert_eq!(status, 403);
    let (status, messages) = app
        .get_json(&format!("/v1/customers/{customer_id}/messages"), &sam)
        .await;
    assert_eq!(status, 200);
    let messages = messages.as_array().unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0]["from"], "customer");
    assert_eq!(messages[0]["client_id"], "k-1");
    assert!(
        messages[0]["external_id"].is_null(),
        "internal dedup keys stay internal"
    );
    assert_eq!(messages[0]["channel"], "web");
    assert_eq!(messages[1]["from"], "bot");
    assert!(messages[1]["text"].as_str().unwrap().contains("发票"));
    let (status, _) = app
        .get_json("/v1/customers/cus_missing/messages", &alice)
        .await;
    assert_eq!(status, 404);
}
