//! Health, readiness, metrics and the OpenAPI document.

use serde_json::Value;

use crate::helpers::spawn_app;

#[actix_web::test]
async fn health_and_readiness_answer() {
    let app = spawn_app(&[]).await;
    let health: Value = app
        .client
        .get(app.url("/healthz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
}

#[actix_web::test]
async fn metrics_count_messages_per_channel() {
    let app = spawn_app(&[]).await;
    let visitor = app.visitor().await;
    app.post_message(&visitor.token, "refund?", "m-1").await;
    let text = app.metrics().await;
    assert!(
        text.contains("switchboard_messages_in_total{channel=\"web\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("switchboard_messages_out_total{channel=\"web\"} 1"),
        "{text}"
    );
    for name in [
        "switchboard_active_sessions",
        "switchboard_waiting_tasks",
        "switchboard_offers_total",
        "switchboard_assignment_latency_seconds",
        "switchboard_bus_parked_messages",
    ] {
        assert!(text.contains(name), "missing {name}");
    }
}

#[actix_web::test]
async fn the_openapi_document_lists_every_public_path() {
    let app = spawn_app(&[]).await;
    let doc: Value = app
        .client
        .get(app.url("/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = doc["paths"].as_object().expect("paths");
    for path in [
        "/healthz",
        "/readyz",
        "/metrics",
        "/v1/auth/login",
        "/v1/visitors",
        "/v1/messages",
        "/v1/conversations/current",
        "/v1/ws/customer",
        "/v1/ws/agent",
        "/v1/customers/lookup",
        "/v1/customers/{id}",
        "/v1/customers/{id}/messages",
        "/v1/queues",
        "/v1/routing/rules",
        "/v1/routing/rules/{version}/activate",
        "/v1/routing/rules/validate",
        "/v1/routing/rules/versions",
        "/v1/routing/rules/{version}",
        "/v1/routing/rules/{version}/dry-run",
        "/v1/routing/history",
        "/v1/routing/overrides",
        "/v1/routing/overrides/{id}",
        "/v1/tasks/{id}/routing",
        "/v1/channels/wechat",
    ] {
        assert!(paths.contains_key(path), "OpenAPI lacks {path}");
    }
}

#[actix_web::test]
async fn the_front_ends_are_served() {
    let app = spawn_app(&[]).await;
    for path in ["/", "/desk", "/console"] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert!(response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        assert!(response.text().await.unwrap().contains("Switchboard"));
    }
    // Encoded so the client does not normalise it away; the server must not serve it.
    for path in [
        "/ui/%2e%2e/Cargo.toml",
        "/ui/..%2fCargo.toml",
        "/ui/widget/%2e%2e/%2e%2e/Cargo.toml",
    ] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
    }
    let response = app
        .client
        .get(app.url("/ui/widget/widget.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}
