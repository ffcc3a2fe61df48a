//! Bad input gets a clear, typed error and loses nothing.

use serde_json::{json, Value};

use crate::helpers::{say, spawn_app};

async fn error_code(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.expect("JSON error body");
    (
        status,
        body["error"]["code"]
            .as_str()
            .expect("error.code")
            .to_owned(),
    )
}

#[actix_web::test]
async fn malformed_json_is_a_400() {
    let app = spawn_app(&[]).await;
    let visitor = app.visitor().await;
    let response = app
        .client
        .post(app.url("/v1/messages"))
        .bearer_auth(&visitor.token)
        .header("content-type", "application/json")
        .body("{\"text\": \"hi\", ")
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(response).await,
        (400, "malformed_json".to_owned())
    );
}

#[actix_web::test]
async fn wrong_shapes_and_values_are_a_422() {
    let app = spawn_app(&[]).await;
    let visitor = app.visitor().await;
    for body in [
        json!({"text": "hi"}),
        json!({"text": "", "client_id": "a"}),
        json!({"text": "hi", "client_id": "has spaces"}),
        json!({"text": 5, "client_id": "a"}),
        json!({"text": "hi", "client_id": "a", "surprise": true}),
    ] {
        let response = app
            .client
            .post(app.url("/v1/messages"))
            .bearer_auth(&visitor.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            error_code(response).await,
            (422, "invalid_request".to_owned()),
            "{body}"
        );
    }
    let response = app
        .client
        .post(app.url("/v1/messages"))
        .bearer_auth(&visitor.token)
        .body("hi")
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(response).await,
        (415, "unsupported_media_type".to_owned())
    );
}

#[actix_web::test]
async fn a_body_over_the_limit_is_a_413() {
    let app = spawn_app(&[("SWITCHBOARD_HTTP__BODY_LIMIT_BYTES", "2048")]).await;
    let visitor = app.visitor().await;
    let big = "x".repeat(4096);
    let response = app.post_message(&visitor.token, &big, "big-1").await;
    assert_eq!(
        error_code(response).await,
        (413, "payload_too_large".to_owned())
    );
}

#[actix_web::test]
async fn unknown_or_missing_tokens_are_a_401() {
    let app = spawn_app(&[]).await;
    let response = app.post_message("not-a-token", "hi", "a").await;
    assert_eq!(
        error_code(response).await,
        (401, "unauthenticated".to_owned())
    );
    let response = app
        .client
        .get(app.url("/v1/conversations/current"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(response).await,
        (401, "unauthenticated".to_owned())
    );
    let response = app
        .client
        .get(app.url("/v1/ws/agent?token=nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(response).await,
        (401, "unauthenticated".to_owned())
    );
}

#[actix_web::test]
async fn a_repeated_client_id_returns_the_first_answer_and_stores_nothing_new() {
    let app = spawn_app(&[]).await;
    let visitor = app.visitor().await;
    let first: Value = app
        .post_message(&visitor.token, "where is my parcel", "same-id")
        .await
        .json()
        .await
        .unwrap();
    let again = app
        .post_message(&visitor.token, "where is my parcel", "same-id")
        .await;
    assert_eq!(again.status(), 202);
    let again: Value = again.json().await.unwrap();
    assert_eq!(first, again);
    let current = app.current(&visitor.token).await;
    let customer_messages = current["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["from"] == "customer")
        .count();
    let bot_messages = current["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["from"] == "bot")
        .count();
    assert_eq!((customer_messages, bot_messages), (1, 1));
}

#[actix_web::test]
async fn a_message_flood_is_limited_with_retry_after_and_loses_nothing_acknowledged() {
    let app = spawn_app(&[
        ("SWITCHBOARD_LIMITS__CUSTOMER_REFILL_MS", "600000"),
        ("SWITCHBOARD_LIMITS__CUSTOMER_BURST", "3"),
    ])
    .await;
    let visitor = app.visitor().await;
    let mut accepted = Vec::new();
    let mut limited = None;
    for i in 0..10 {
        let response = app
            .post_message(&visitor.token, &format!("flood {i}"), &format!("f-{i}"))
            .await;
        match response.status().as_u16() {
            202 => accepted.push(format!("flood {i}")),
            429 => {
                let retry = response
                    .headers()
                    .get("retry-after")
                    .expect("Retry-After")
                    .to_str()
                    .unwrap()
                    .to_owned();
                limited = Some((retry, error_code(response).await.1));
            }
            other => panic!("unexpected status {other}"),
        }
    }
    let (retry, code) = limited.expect("the flood was limited");
    assert!(retry.parse::<u64>().unwrap() >= 1);
    assert_eq!(code, "rate_limited");
    // One message of allowance comes back every 10 minutes: exactly the burst gets through.
    assert_eq!(accepted.len(), 3, "{accepted:?}");
    let current = app.current(&visitor.token).await;
    let stored: Vec<&str> = current["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["from"] == "customer")
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(stored, accepted);
}

#[actix_web::test]
async fn websocket_bad_frames_get_error_events_and_the_connection_stays_open() {
    let app = spawn_app(&[
        ("SWITCHBOARD_LIMITS__CUSTOMER_BURST", "2"),
        ("SWITCHBOARD_LIMITS__CUSTOMER_REFILL_MS", "600000"),
    ])
    .await;
    let visitor = app.visitor().await;
    let mut ws = app.customer_ws(&visitor).await;
    ws.send(json!({"type": "dance"})).await;
    assert_eq!(ws.next_of_type("error").await["code"], "unknown_type");
    ws.send_raw("{not json").await;
    assert_eq!(ws.next_of_type("error").await["code"], "malformed_json");
    ws.send(json!({"type": "message", "text": "", "client_id": "x"}))
        .await;
    assert_eq!(ws.next_of_type("error").await["code"], "invalid_request");
    // Still open and working; then a flood is limited with an error event.
    say(&mut ws, "hello", "w-1").await;
    say(&mut ws, "hello again", "w-2").await;
    ws.send(json!({"type": "message", "text": "one too many", "client_id": "w-3"}))
        .await;
    assert_eq!(ws.next_of_type("error").await["code"], "rate_limited");

    let (token, _) = app.login("alice").await;
    let mut desk = crate::helpers::Ws::connect(&app.ws_url("/v1/ws/agent", &token)).await;
    desk.next_of_type("hello").await;
    desk.send(json!({"type": "status", "status": "sleeping"}))
        .await;
    assert_eq!(desk.next_of_type("error").await["code"], "invalid_request");
    desk.send(json!({"type": "status", "status": "away"})).await;
    assert_eq!(desk.next_of_type("status").await["status"], "away");
}

#[actix_web::test]
async fn oversized_visitor_bodies_and_plain_http_on_websocket_routes_get_typed_errors() {
    let app = spawn_app(&[("SWITCHBOARD_HTTP__BODY_LIMIT_BYTES", "2048")]).await;
    let response = app
        .client
        .post(app.url("/v1/visitors"))
        .body(format!("{{\"name\": \"{}\"}}", "x".repeat(5000)))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(response).await,
        (413, "payload_too_large".to_owned())
    );
    let response = app
        .client
        .post(app.url("/v1/visitors"))
        .body("{oops")
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(response).await,
        (400, "malformed_json".to_owned())
    );
    let visitor = app.visitor().await;
    let response = app
        .client
        .get(app.url(&format!("/v1/ws/customer?token={}", visitor.token)))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(response).await,
        (400, "websocket_upgrade_required".to_owned())
    );
}

#[actix_web::test]
async fn unknown_routes_answer_typed_json() {
    let app = spawn_app(&[]).await;
    let response = app
        .client
        .get(app.url("/v1/nothing-here"))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(response).await, (404, "not_found".to_owned()));
    // A route that serves other methods answers an unserved one the same way, as JSON.
    for method in [
        reqwest::Method::GET,
        reqwest::Method::PUT,
        reqwest::Method::DELETE,
    ] {
        let response = app
            .client
            .request(method.clone(), app.url("/v1/kb/import"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            error_code(response).await,
            (404, "not_found".to_owned()),
            "{method} /v1/kb/import"
        );
    }
}
