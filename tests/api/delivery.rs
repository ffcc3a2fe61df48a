//! Provider deliveries through the outbox and `outbound.{channel}` queues, against a fake
//! webhook receiver on 127.0.0.1 that speaks Standard Webhooks: signed events, retries after
//! 5xx with back-off, parking after permanent errors or too many attempts, and the relay that
//! republishes deliveries whose queue message was lost.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpRequest, HttpResponse};
use chrono::Utc;
use serde_json::{json, Value};
use switchboard::signing::webhooks::{secret_key, sign};
use switchboard::store::sqlite::SqliteStore;
use switchboard::store::{ConversationStore, OutboxItem, OutboxStore, Turn};

use crate::helpers::{spawn_app, TestApp, WAIT};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    id: String,
    timestamp: String,
    signature: String,
    body: Vec<u8>,
    status: u16,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }
}

/// Decides the status of the n-th attempt (1-based) at a delivery with this body.
type Script = Arc<dyn Fn(&Value, usize) -> u16 + Send + Sync>;

/// A webhook receiver on 127.0.0.1 that records every request and answers per `script`.
struct Receiver {
    url: String,
    log: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    async fn start(script: Script) -> Self {
        let log: Arc<Mutex<Vec<Received>>> = Arc::default();
        let state = (Arc::clone(&log), script);
        let port = crate::helpers::serve_fake!(move || {
            let (log, script) = state.clone();
            App::new().route(
                "/hook",
                web::post().to(move |req: HttpRequest, body: web::Bytes| {
                    let (log, script) = (Arc::clone(&log), Arc::clone(&script));
                    async move {
                        let header = |name: &str| {
                            req.headers()
                                .get(name)
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or_default()
                                .to_owned()
                        };
                        let id = header("webhook-id");
                        let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                        let mut log = log.lock().unwrap();
                        let attempt = log.iter().filter(|r| r.id == id).count() + 1;
                        let status = script(&value, attempt);
                        log.push(Received {
                            id,
                            timestamp: header("webhook-timestamp"),
                            signature: header("webhook-signature"),
                            body: body.to_vec(),
                            status,
                        });
                        HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap())
                            .finish()
                    }
                }),
            )
        });
        Self {
            url: format!("http://127.0.0.1:{port}/hook"),
            log,
        }
    }

    fn requests(&self) -> Vec<Received> {
        self.log.lock().unwrap().clone()
    }

    /// Requests grouped by delivery id.
    fn by_id(&self) -> BTreeMap<String, Vec<Received>> {
        let mut map: BTreeMap<String, Vec<Received>> = BTreeMap::new();
        for r in self.requests() {
            map.entry(r.id.clone()).or_default().push(r);
        }
        map
    }

    /// Waits (bounded) until `done` holds for what was received.
    async fn wait_until(
        &self,
        what: &str,
        done: impl Fn(&BTreeMap<String, Vec<Received>>) -> bool,
    ) {
        let started = Instant::now();
        while !done(&self.by_id()) {
            assert!(
                started.elapsed() < WAIT * 2,
                "timed out waiting for {what}; received {:#?}",
                self.by_id().keys().collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Settings for fast retries, and the webhook pointed at `receiver`.
fn webhook_env(receiver: &Receiver, max_attempts: &str) -> Vec<(&'static str, String)> {
    vec![
        ("SWITCHBOARD_WEBHOOK__URL", receiver.url.clone()),
        ("SWITCHBOARD_WEBHOOK__SECRET", SECRET.to_owned()),
        ("SWITCHBOARD_WEBHOOK__TIMEOUT_MS", "500".to_owned()),
        (
            "SWITCHBOARD_DELIVERY__MAX_ATTEMPTS",
            max_attempts.to_owned(),
        ),
        ("SWITCHBOARD_DELIVERY__RETRY_BASE_MS", "100".to_owned()),
        ("SWITCHBOARD_DELIVERY__RETRY_MAX_MS", "300".to_owned()),
        ("SWITCHBOARD_DELIVERY__LEASE_MS", "1000".to_owned()),
        ("SWITCHBOARD_DELIVERY__REPLAY_AFTER_MS", "2000".to_owned()),
        ("SWITCHBOARD_DELIVERY__RELAY_INTERVAL_MS", "200".to_owned()),
    ]
}

async fn spawn_with(env: &[(&'static str, String)], extra: &[(&str, &str)]) -> TestApp {
    let mut all: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    all.extend_from_slice(extra);
    spawn_app(&all).await
}

#[actix_web::test]
async fn every_message_reaches_the_webhook_signed_once_after_retrying_server_errors() {
    // Two 503s for every delivery, then 200.
    let receiver =
        Receiver::start(Arc::new(|_, attempt| if attempt <= 2 { 503 } else { 200 })).await;
    let app = spawn_with(&webhook_env(&receiver, "5"), &[]).await;
    retried_deliveries_arrive_once(&app, &receiver).await;
}

#[cfg(feature = "integration-tests")]
#[actix_web::test]
async fn retries_go_through_rabbitmq_delay_queues_with_postgresql() {
    let receiver =
        Receiver::start(Arc::new(|_, attempt| if attempt <= 2 { 503 } else { 200 })).await;
    let url = crate::helpers::fresh_postgres_database().await;
    let amqp = std::env::var("SWITCHBOARD_TEST_AMQP_URL").expect("SWITCHBOARD_TEST_AMQP_URL");
    let namespace = format!("sbtest{}", uuid::Uuid::new_v4().simple());
    let app = spawn_with(
        &webhook_env(&receiver, "5"),
        &[
            ("SWITCHBOARD_DATABASE_URL", url.as_str()),
            ("SWITCHBOARD_AMQP_URL", amqp.as_str()),
            ("SWITCHBOARD_BUS__NAMESPACE", namespace.as_str()),
            ("SWITCHBOARD_BUS__QUEUE_EXPIRES_MS", "60000"),
        ],
    )
    .await;
    retried_deliveries_arrive_once(&app, &receiver).await;
}

async fn retried_deliveries_arrive_once(app: &TestApp, receiver: &Receiver) {
    let visitor = app.visitor().await;
    let response = app
        .post_message(&visitor.token, "How do I get a refund?", "wh-1")
        .await;
    assert_eq!(response.status(), 202);
    let accepted: Value = response.json().await.unwrap();
    let message_id = accepted["message_id"].as_str().unwrap().to_owned();

    // The customer's message and the bot's answer: two deliveries, each accepted once.
    receiver
        .wait_until("two deliveries accepted", |by_id| {
            by_id.len() >= 2 && by_id.values().all(|rs| rs.iter().any(|r| r.status == 200))
        })
        .await;
    // Give stray copies a chance to show up before counting.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let by_id = receiver.by_id();
    assert_eq!(by_id.len(), 2, "{:#?}", by_id.keys());
    let key = secret_key(SECRET).unwrap();
    for (id, attempts) in &by_id {
        let statuses: Vec<u16> = attempts.iter().map(|r| r.status).collect();
        assert_eq!(statuses, vec![503, 503, 200], "delivery {id}");
        for r in attempts {
            let timestamp: i64 = r.timestamp.parse().expect("numeric timestamp");
            assert_eq!(
                r.signature,
                sign(&key, &r.id, timestamp, &r.body),
                "signature of {id}"
            );
        }
        let body = attempts[0].json();
        assert_eq!(body["type"], "message.created");
        assert_eq!(body["data"]["customer_id"], visitor.customer_id.as_str());
    }
    let customer_event = by_id
        .get(&format!("{message_id}.webhook"))
        .expect("the customer's message was delivered")[0]
        .json();
    assert_eq!(customer_event["data"]["text"], "How do I get a refund?");
    assert_eq!(customer_event["data"]["from"], "customer");
    let bot_event = by_id
        .values()
        .map(|rs| rs[0].json())
        .find(|b| b["data"]["from"] == "bot")
        .expect("the bot's answer was delivered");
    assert!(bot_event["data"]["text"]
        .as_str()
        .unwrap()
        .contains("refund"));

    // A repeated client message stores nothing and delivers nothing more.
    let again = app
        .post_message(&visitor.token, "How do I get a refund?", "wh-1")
        .await;
    assert_eq!(again.status(), 202);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.by_id().len(), 2);
    let metrics = app.metrics().await;
    assert!(
        metrics
            .contains(r#"switchboard_deliveries_total{channel="webhook",outcome="delivered"} 2"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"switchboard_deliveries_total{channel="webhook",outcome="retried"} 4"#),
        "{metrics}"
    );
}

#[actix_web::test]
async fn deliveries_are_parked_after_a_permanent_error_or_the_last_attempt() {
    // The customer's event is refused for good (400); the bot's keeps failing (503).
    let receiver = Receiver::start(Arc::new(|body: &Value, _| {
        if body["data"]["from"] == "customer" {
            400
        } else {
            503
        }
    }))
    .await;
    let app = spawn_with(&webhook_env(&receiver, "3"), &[]).await;
    let visitor = app.visitor().await;
    assert_eq!(
        app.post_message(&visitor.token, "发票怎么开？", "park-1")
            .await
            .status(),
        202
    );
    receiver
        .wait_until("the bot's event tried three times", |by_id| {
            by_id.values().any(|rs| rs.len() >= 3)
        })
        .await;
    // Parked means no further attempts: wait longer than the largest back-off, then count.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let by_id = receiver.by_id();
    let mut attempts: Vec<(String, usize)> = by_id
        .values()
        .map(|rs| {
            (
                rs[0].json()["data"]["from"].as_str().unwrap().to_owned(),
                rs.len(),
            )
        })
        .collect();
    attempts.sort();
    assert_eq!(
        attempts,
        vec![("bot".to_owned(), 3), ("customer".to_owned(), 1)],
        "400 parks at once; 503 parks after max_attempts"
    );
    let metrics = app.metrics().await;
    assert!(
        metrics.contains(r#"switchboard_deliveries_total{channel="webhook",outcome="parked"} 2"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"switchboard_outbox_rows{status="parked"} 2"#),
        "{metrics}"
    );
}

#[actix_web::test]
async fn a_delivery_whose_queue_message_was_lost_is_relayed_from_the_outbox() {
    let receiver = Receiver::start(Arc::new(|_, _| 200)).await;
    let app = spawn_with(&webhook_env(&receiver, "5"), &[]).await;
    // As if a node committed a message and died before publishing its delivery: the row is
    // in the outbox, long past due, and no queue has heard of it.
    let store = SqliteStore::open(&app.db_path).unwrap();
    let id = format!("lost-{}", uuid::Uuid::new_v4().simple());
    let item = OutboxItem::new(
        id.clone(),
        "webhook",
        json!({"type": "message.created", "data": {"text": "recovered"}}),
        Utc::now() - chrono::Duration::minutes(10),
    );
    store
        .commit_turn(Turn {
            inbound: None,
            replies: &[],
            conversation: None,
            outbox: std::slice::from_ref(&item),
            handoff: None,
        })
        .await
        .unwrap();
    receiver
        .wait_until("the relayed delivery", |by_id| by_id.contains_key(&id))
        .await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let copies = &receiver.by_id()[&id];
    assert_eq!(copies.len(), 1, "relayed once and delivered once");
    assert_eq!(copies[0].json()["data"]["text"], "recovered");
    let stored = store.outbox_item(&id).await.unwrap().unwrap();
    assert_eq!(stored.status, switchboard::store::OutboxStatus::Delivered);
}

#[actix_web::test]
async fn an_invalid_webhook_configuration_is_refused_at_start() {
    let dir = crate::helpers::config_dir();
    let env = vec![
        (
            "SWITCHBOARD_WEBHOOK__URL".to_owned(),
            "ftp://example".to_owned(),
        ),
        (
            "SWITCHBOARD_WEBHOOK__SECRET".to_owned(),
            "not a secret".to_owned(),
        ),
        (
            "SWITCHBOARD_DELIVERY__REPLAY_AFTER_MS".to_owned(),
            "10".to_owned(),
        ),
    ];
    let error =
        switchboard::settings::Settings::load_from(&dir, switchboard::settings::Mode::Demo, env)
            .expect_err("invalid");
    let text = format!("{error:#}");
    assert!(text.contains("webhook.url"), "{text}");
    assert!(text.contains("webhook.secret"), "{text}");
    assert!(text.contains("replay_after_ms"), "{text}");
}
