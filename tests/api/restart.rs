//! Outbound deliveries survive a node: an SMS answer the provider keeps refusing (503) while
//! the server is killed (SIGKILL) is delivered exactly once by the next server on the same
//! data file, once the provider is back.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpResponse};
use serde_json::json;
use switchboard::channels::sms::signature;

use crate::helpers::{start_process, Process, WAIT};

const TOKEN: &str = "demo-sms-token";
const PUBLIC_URL: &str = "http://127.0.0.1:8080";

/// A fake Twilio REST API: 503 while `down`, else 201 with a new sid. Records the bodies of
/// the requests it accepted.
struct FakeTwilio {
    base_url: String,
    down: Arc<AtomicBool>,
    refused: Arc<AtomicUsize>,
    accepted: Arc<Mutex<Vec<String>>>,
}

impl FakeTwilio {
    async fn start() -> Self {
        let down = Arc::new(AtomicBool::new(true));
        let refused = Arc::new(AtomicUsize::new(0));
        let accepted: Arc<Mutex<Vec<String>>> = Arc::default();
        let state = (
            Arc::clone(&down),
            Arc::clone(&refused),
            Arc::clone(&accepted),
        );
        let port = crate::helpers::serve_fake!(move || {
            let (down, refused, accepted) = state.clone();
            App::new().route(
                "/2010-04-01/Accounts/{sid}/Messages.json",
                web::post().to(move |body: String| {
                    let (down, refused, accepted) = (
                        Arc::clone(&down),
                        Arc::clone(&refused),
                        Arc::clone(&accepted),
                    );
                    async move {
                        if down.load(Ordering::SeqCst) {
                            refused.fetch_add(1, Ordering::SeqCst);
                            return HttpResponse::ServiceUnavailable()
                                .json(json!({"code": 20503, "message": "Service unavailable"}));
                        }
                        let mut accepted = accepted.lock().unwrap();
                        accepted.push(body);
                        HttpResponse::Created().json(
                            json!({"sid": format!("SM{:032}", accepted.len()), "status": "queued"}),
                        )
                    }
                }),
            )
        });
        Self {
            base_url: format!("http://127.0.0.1:{port}"),
            down,
            refused,
            accepted,
        }
    }
}

async fn start(db: &std::path::Path, provider: &str) -> (Process, String) {
    start_process(
        db,
        &[
            ("SWITCHBOARD_SMS__API_BASE_URL", provider),
            ("SWITCHBOARD_SMS__TIMEOUT_MS", "500"),
            ("SWITCHBOARD_WEBHOOK__TIMEOUT_MS", "500"),
            ("SWITCHBOARD_WECHAT__TIMEOUT_MS", "500"),
            ("SWITCHBOARD_DELIVERY__MAX_ATTEMPTS", "1000"),
            ("SWITCHBOARD_DELIVERY__RETRY_BASE_MS", "100"),
            ("SWITCHBOARD_DELIVERY__RETRY_MAX_MS", "300"),
            ("SWITCHBOARD_DELIVERY__LEASE_MS", "1000"),
            ("SWITCHBOARD_DELIVERY__REPLAY_AFTER_MS", "2000"),
            ("SWITCHBOARD_DELIVERY__RELAY_INTERVAL_MS", "200"),
        ],
    )
    .await
}

#[actix_web::test]
async fn an_sms_answer_refused_until_the_node_dies_is_delivered_once_by_the_next_node() {
    let provider = FakeTwilio::start().await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("switchboard.db");
    let (first, base) = start(&db, &provider.base_url).await;

    let path = "/v1/channels/sms";
    let form: Vec<(String, String)> = [
        ("MessageSid", "SMrestart0000000000000000000000001"),
        ("AccountSid", "ACdemo0000000000000000000000000000"),
        ("From", "+8613700137000"),
        ("To", "+15005550006"),
        ("Body", "你好，我想查询订单"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let signed = signature::compute(TOKEN, &format!("{PUBLIC_URL}{path}"), &form);
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&form)
        .finish();
    let response = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-twilio-signature", signed)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());

    // The provider refuses the bot's answer a few times; then the node dies.
    let started = Instant::now();
    while provider.refused.load(Ordering::SeqCst) < 3 {
        assert!(started.elapsed() < WAIT, "the answer was never attempted");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(first);
    provider.down.store(false, Ordering::SeqCst);
    assert!(provider.accepted.lock().unwrap().is_empty());

    // The next node finds the delivery in the outbox and makes it, once.
    let (_second, _) = start(&db, &provider.base_url).await;
    let started = Instant::now();
    while provider.accepted.lock().unwrap().is_empty() {
        assert!(
            started.elapsed() < WAIT * 2,
            "the answer was never delivered after the restart"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(3_000)).await;
    let accepted = provider.accepted.lock().unwrap().clone();
    assert_eq!(accepted.len(), 1, "delivered exactly once: {accepted:#?}");
    assert!(
        accepted[0].contains("To=%2B8613700137000"),
        "{}",
        accepted[0]
    );
}
