//! The SMS channel over HTTP against a fake Twilio REST API on 127.0.0.1: signed inbound
//! texts stored once and answered through the provider, status callbacks, opt-out keywords,
//! refusals that store nothing, and retries of provider errors.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpRequest, HttpResponse};
use base64::Engine;
use serde_json::Value;
use switchboard::channels::sms::signature;

use crate::helpers::{spawn_app, TestApp, WAIT};

/// The demo auth token and public URL (config/demo.toml `[sms]`).
const TOKEN: &str = "demo-sms-token";
const PUBLIC_URL: &str = "http://127.0.0.1:8080";
const ACCOUNT_SID: &str = "ACdemo0000000000000000000000000000";
const OUR_NUMBER: &str = "+15005550006";
const EMPTY_TWIML: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Response></Response>"#;

/// One call the fake provider got.
#[derive(Debug, Clone)]
struct Sent {
    path: String,
    authorization: String,
    form: Vec<(String, String)>,
    status: u16,
}

impl Sent {
    fn param(&self, name: &str) -> &str {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    }
}

/// Decides the status of the n-th call (1-based).
type Script = Arc<dyn Fn(usize) -> u16 + Send + Sync>;

/// A fake Twilio REST API: records every call, answers per the script (201 with
/// `{"sid":"SM<n>"}` or an error body).
struct Twilio {
    base: String,
    log: Arc<Mutex<Vec<Sent>>>,
}

impl Twilio {
    async fn start(script: Script) -> Self {
        let log: Arc<Mutex<Vec<Sent>>> = Arc::default();
        let state = (Arc::clone(&log), script);
        let port = crate::helpers::serve_fake!(move || {
            let (log, script) = state.clone();
            App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
                let (log, script) = (Arc::clone(&log), Arc::clone(&script));
                async move {
                    let mut log = log.lock().unwrap();
                    let n = log.len() + 1;
                    let status = script(n);
                    log.push(Sent {
                        path: req.path().to_owned(),
                        authorization: req
                            .headers()
                            .get("authorization")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_owned(),
                        form: form_urlencoded::parse(&body)
                            .map(|(k, v)| (k.into_owned(), v.into_owned()))
                            .collect(),
                        status,
                    });
                    let body = if status < 300 {
                        format!(r#"{{"sid":"SM{n}","status":"queued"}}"#)
                    } else {
                        format!(r#"{{"code":20{status},"message":"scripted failure","status":{status}}}"#)
                    };
                    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap())
                        .content_type("application/json")
                        .body(body)
                }
            }))
        });
        Self {
            base: format!("http://127.0.0.1:{port}"),
            log,
        }
    }

    fn sent(&self) -> Vec<Sent> {
        self.log.lock().unwrap().clone()
    }

    /// Waits (bounded) for `n` calls, then a little longer for stray copies.
    async fn wait_for(&self, n: usize) -> Vec<Sent> {
        let started = Instant::now();
        while self.sent().len() < n {
            assert!(
                started.elapsed() < WAIT,
                "expected {n} provider calls; got {:#?}",
                self.sent()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(Duration::from_millis(600)).await;
        self.sent()
    }
}

/// A server whose outbound SMS go to `twilio`, with fast retries.
async fn spawn_with(twilio: &Twilio) -> TestApp {
    spawn_app(&[
        ("SWITCHBOARD_SMS__API_BASE_URL", twilio.base.as_str()),
        ("SWITCHBOARD_SMS__TIMEOUT_MS", "500"),
        ("SWITCHBOARD_WEBHOOK__TIMEOUT_MS", "500"),
        ("SWITCHBOARD_DELIVERY__MAX_ATTEMPTS", "5"),
        ("SWITCHBOARD_DELIVERY__RETRY_BASE_MS", "100"),
        ("SWITCHBOARD_DELIVERY__RETRY_MAX_MS", "300"),
        ("SWITCHBOARD_DELIVERY__LEASE_MS", "1000"),
        ("SWITCHBOARD_DELIVERY__REPLAY_AFTER_MS", "2000"),
        ("SWITCHBOARD_DELIVERY__RELAY_INTERVAL_MS", "200"),
    ])
    .await
}

fn params(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn encode(params: &[(String, String)]) -> String {
    let mut form = form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        form.append_pair(k, v);
    }
    form.finish()
}

/// The form Twilio posts for a text.
fn text_form(sid: &str, from: &str, body: &str) -> Vec<(String, String)> {
    params(&[
        ("ToCountry", "US"),
        ("SmsMessageSid", sid),
        ("NumMedia", "0"),
        ("SmsSid", sid),
        ("Body", body),
        ("To", OUR_NUMBER),
        ("NumSegments", "1"),
        ("MessageSid", sid),
        ("AccountSid", ACCOUNT_SID),
        ("From", from),
        ("ApiVersion", "2010-04-01"),
    ])
}

/// Posts a raw request; the status and body text.
async fn post_raw(
    app: &TestApp,
    path: &str,
    content_type: Option<&str>,
    signature: Option<&str>,
    body: String,
) -> (u16, String) {
    let mut request = app.client.post(app.url(path)).body(body);
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    if let Some(signature) = signature {
        request = request.header("x-twilio-signature", signature);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

/// Posts a form signed as Twilio signs it for the configured public URL.
async fn post_signed(app: &TestApp, path: &str, form: &[(String, String)]) -> (u16, String) {
    let signature = signature::compute(TOKEN, &format!("{PUBLIC_URL}{path}"), form);
    post_raw(
        app,
        path,
        Some("application/x-www-form-urlencoded"),
        Some(&signature),
        encode(form),
    )
    .await
}

/// The store, read-only, as operators would query it.
fn db(app: &TestApp) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open_with_flags(
        &app.db_path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    conn.busy_timeout(Duration::from_secs(5)).unwrap();
    conn
}

fn count(app: &TestApp, sql: &str) -> i64 {
    db(app).query_row(sql, [], |row| row.get(0)).unwrap()
}

/// An outbox row: status, attempts, provider_ref, provider_status, last_error.
type Row = (String, i64, Option<String>, Option<String>, Option<String>);

fn outbox_row(app: &TestApp, id: &str) -> Option<Row> {
    db(app)
        .query_row(
            "SELECT status, attempts, provider_ref, provider_status, last_error FROM outbox WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .ok()
}

/// Waits (bounded) until the outbox row `id` has settled as `status`.
async fn settled(app: &TestApp, id: &str, status: &str) -> Row {
    let started = Instant::now();
    loop {
        if let Some(row) = outbox_row(app, id) {
            if row.0 == status {
                return row;
            }
        }
        assert!(
            started.elapsed() < WAIT,
            "{id} never became {status}: {:?}",
            outbox_row(app, id)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The customer of a phone number on `channel` (staff lookup), if any.
async fn lookup(app: &TestApp, staff: &str, channel: &str, phone: &str) -> Option<String> {
    app.lookup(staff, channel, phone).await
}

async fn messages(app: &TestApp, staff: &str, customer: &str) -> Vec<Value> {
    app.customer_messages(staff, customer).await
}

#[actix_web::test]
async fn a_signed_text_is_stored_answered_through_the_provider_and_its_status_recorded() {
    let twilio = Twilio::start(Arc::new(|_| 201)).await;
    let app = spawn_with(&twilio).await;
    let (staff, _) = app.login("sam").await;
    let phone = "+8613800138001";

    let response = app
        .client
        .post(app.url("/v1/channels/sms"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header(
            "x-twilio-signature",
            signature::compute(
                TOKEN,
                &format!("{PUBLIC_URL}/v1/channels/sms"),
                &text_form("SMa0001", phone, "How do I get a refund?"),
            ),
        )
        .body(encode(&text_form(
            "SMa0001",
            phone,
            "How do I get a refund?",
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(content_type.starts_with("text/xml"), "{content_type}");
    assert_eq!(response.text().await.unwrap(), EMPTY_TWIML);

    // One customer, found by the number on SMS and on the phone IVR.
    let customer = lookup(&app, &staff, "sms", phone)
        .await
        .expect("sms identity");
    assert_eq!(
        lookup(&app, &staff, "ivr", phone).await,
        Some(customer.clone())
    );
    let stored = messages(&app, &staff, &customer).await;
    let text = stored
        .iter()
        .find(|m| m["from"] == "customer")
        .expect("the customer's text");
    assert_eq!(
        (&text["channel"], &text["text"], &text["external_id"]),
        (
            &Value::from("sms"),
            &Value::from("How do I get a refund?"),
            &Value::from("SMa0001")
        )
    );
    let answer = stored
        .iter()
        .find(|m| m["from"] == "bot")
        .expect("the bot's answer");
    assert_eq!(answer["channel"], "sms");

    // The answer reaches the provider once, as Twilio's Messages API expects it.
    let sent = twilio.wait_for(1).await;
    assert_eq!(sent.len(), 1, "{sent:#?}");
    let call = &sent[0];
    assert_eq!(
        call.path,
        format!("/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json")
    );
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{ACCOUNT_SID}:{TOKEN}"));
    assert_eq!(call.authorization, format!("Basic {basic}"));
    assert_eq!(call.param("To"), phone);
    assert_eq!(call.param("From"), OUR_NUMBER);
    assert_eq!(call.param("Body"), answer["text"].as_str().unwrap());
    assert_eq!(
        call.param("StatusCallback"),
        format!("{PUBLIC_URL}/v1/channels/sms/status")
    );
    let delivery = format!("{}.sms", answer["id"].as_str().unwrap());
    let row = settled(&app, &delivery, "delivered").await;
    assert_eq!(row.2.as_deref(), Some("SM1"));

    // Status callbacks: recorded on the delivery; unknown sids are answered 200 all the same.
    let (status, body) = post_signed(
        &app,
        "/v1/channels/sms/status",
        &params(&[
            ("MessageSid", "SM1"),
            ("MessageStatus", "delivered"),
            ("AccountSid", ACCOUNT_SID),
            ("To", phone),
        ]),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        outbox_row(&app, &delivery).unwrap().3.as_deref(),
        Some("delivered")
    );
    let (status, _) = post_signed(
        &app,
        "/v1/channels/sms/status",
        &params(&[
            ("MessageSid", "SMunknown9"),
            ("MessageStatus", "failed"),
            ("ErrorCode", "30003"),
        ]),
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = post_signed(
        &app,
        "/v1/channels/sms/status",
        &params(&[("MessageSid", "SM1"), ("MessageStatus", "teleported")]),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let (status, _) = post_raw(
        &app,
        "/v1/channels/sms/status",
        Some("application/x-www-form-urlencoded"),
        None,
        "MessageSid=SM1&MessageStatus=failed".to_owned(),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(
        outbox_row(&app, &delivery).unwrap().3.as_deref(),
        Some("delivered")
    );
}

#[actix_web::test]
async fn unsigned_forged_or_malformed_requests_are_refused_and_store_nothing() {
    let app = spawn_app(&[]).await;
    let path = "/v1/channels/sms";
    let phone = "+8613800138002";
    let form = text_form("SMc0001", phone, "hello");
    let form_type = Some("application/x-www-form-urlencoded");
    let good = signature::compute(TOKEN, &format!("{PUBLIC_URL}{path}"), &form);

    let (status, body) = post_raw(&app, path, form_type, None, encode(&form)).await;
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("\"code\":\"unauthenticated\""), "{body}");
    let forged = signature::compute("not-the-token", &format!("{PUBLIC_URL}{path}"), &form);
    let (status, body) = post_raw(&app, path, form_type, Some(&forged), encode(&form)).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("\"code\":\"forbidden\""), "{body}");
    // Signed for the URL the server listens on, not the public URL the provider calls.
    let other_url = signature::compute(TOKEN, &app.url(path), &form);
    let (status, _) = post_raw(&app, path, form_type, Some(&other_url), encode(&form)).await;
    assert_eq!(status, 403);
    // A signed request with a changed text.
    let tampered = text_form("SMc0001", phone, "hello!");
    let (status, _) = post_raw(&app, path, form_type, Some(&good), encode(&tampered)).await;
    assert_eq!(status, 403);
    // Not a form, or not UTF-8.
    for broken in ["MessageSid=SMc0001&Body=%ZZ", "Body=%FF%FE"] {
        let (status, body) = post_raw(&app, path, form_type, Some(&good), broken.to_owned()).await;
        assert_eq!(status, 400, "{broken}: {body}");
    }
    // Signed, but without a sender or with a number that is not E.164.
    for (name, value) in [
        ("From", None),
        ("From", Some("13800138002")),
        ("MessageSid", None),
    ] {
        let incomplete: Vec<(String, String)> = form
            .iter()
            .filter(|(k, _)| {
                k != name && !(name == "MessageSid" && k.ends_with("Sid") && k != "AccountSid")
            })
            .cloned()
            .chain(value.map(|v| (name.to_owned(), v.to_owned())))
            .collect();
        let (status, body) = post_signed(&app, path, &incomplete).await;
        assert_eq!(status, 422, "{name}={value:?}: {body}");
    }
    let (status, _) = post_raw(
        &app,
        path,
        Some("application/json"),
        Some(&good),
        r#"{"Body":"hi"}"#.to_owned(),
    )
    .await;
    assert_eq!(status, 415);
    let (status, _) = post_raw(&app, path, None, Some(&good), encode(&form)).await;
    assert_eq!(status, 415);
    let huge = text_form("SMc0002", phone, &"x".repeat(70 * 1024));
    let (status, body) = post_signed(&app, path, &huge).await;
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("payload_too_large"), "{body}");
    // The status endpoint checks signatures the same way.
    let callback = params(&[("MessageSid", "SM1"), ("MessageStatus", "delivered")]);
    let (status, _) = post_raw(
        &app,
        "/v1/channels/sms/status",
        form_type,
        Some(&forged),
        encode(&callback),
    )
    .await;
    assert_eq!(status, 403);

    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM messages WHERE channel = 'sms'"),
        0
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM identities WHERE channel IN ('sms', 'ivr')"
        ),
        0
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM opt_outs"), 0);
}

#[actix_web::test]
async fn without_an_auth_token_the_channel_is_off() {
    let app = spawn_app(&[("SWITCHBOARD_SMS__AUTH_TOKEN", "")]).await;
    let form = text_form("SMd0001", "+8613800138003", "hello");
    let (status, body) = post_signed(&app, "/v1/channels/sms", &form).await;
    assert_eq!(status, 503, "{body}");
    let (status, _) = post_signed(&app, "/v1/channels/sms/status", &form).await;
    assert_eq!(status, 503);
}

#[actix_web::test]
async fn repeated_and_concurrent_copies_of_a_text_are_stored_once() {
    let app = spawn_app(&[]).await;
    let phone = "+8613800138004";
    let first = post_signed(
        &app,
        "/v1/channels/sms",
        &text_form("SMe0001", phone, "Where is my parcel?"),
    )
    .await;
    let again = post_signed(
        &app,
        "/v1/channels/sms",
        &text_form("SMe0001", phone, "Where is my parcel?"),
    )
    .await;
    assert_eq!(first, (200, EMPTY_TWIML.to_owned()));
    assert_eq!(again, first);

    let form = text_form("SMe0002", phone, "How do I get a refund?");
    let copies = (0..50).map(|_| post_signed(&app, "/v1/channels/sms", &form));
    let answers = futures_util::future::join_all(copies).await;
    for answer in &answers {
        assert_eq!(answer, &first);
    }
    for sid in ["SMe0001", "SMe0002"] {
        assert_eq!(
            count(
                &app,
                &format!("SELECT COUNT(*) FROM messages WHERE channel = 'sms' AND sender = 'customer' AND external_id = '{sid}'")
            ),
            1,
            "{sid}"
        );
    }
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM customers WHERE tags LIKE '%sms%'"
        ),
        1
    );
}

#[actix_web::test]
async fn stop_opts_out_once_and_later_answers_are_parked_not_sent() {
    let twilio = Twilio::start(Arc::new(|_| 201)).await;
    let app = spawn_with(&twilio).await;
    let (staff, _) = app.login("sam").await;
    let phone = "+8613800138005";
    let sms = |sid: &str, text: &str| text_form(sid, phone, text);

    let (status, _) = post_signed(&app, "/v1/channels/sms", &sms("SMf0001", "hello")).await;
    assert_eq!(status, 200);
    assert_eq!(twilio.wait_for(1).await.len(), 1);

    // STOP (and its repeats, also concurrent): confirmed the same way, recorded once.
    let stop = sms("SMf0002", "STOP");
    let (status, confirmation) = post_signed(&app, "/v1/channels/sms", &stop).await;
    assert_eq!(status, 200);
    assert!(
        confirmation.contains("<Response><Message>") && confirmation.contains("您已退订"),
        "{confirmation}"
    );
    let repeats = (0..10).map(|_| post_signed(&app, "/v1/channels/sms", &stop));
    for answer in futures_util::future::join_all(repeats).await {
        assert_eq!(answer, (200, confirmation.clone()));
    }
    let (status, _) = post_signed(&app, "/v1/channels/sms", &sms("SMf0003", "退订")).await;
    assert_eq!(status, 200);
    let keyword: String = db(&app)
        .query_row(
            "SELECT keyword FROM opt_outs WHERE channel = 'sms' AND external_id = ?1",
            [phone],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(keyword, "STOP", "the first keyword stays");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM opt_outs"), 1);
    // The keyword is not a message for the bot.
    let customer = lookup(&app, &staff, "sms", phone).await.unwrap();
    let texts: Vec<Value> = messages(&app, &staff, &customer)
        .await
        .into_iter()
        .map(|m| m["text"].clone())
        .collect();
    assert!(!texts.contains(&Value::from("STOP")), "{texts:?}");

    // A later text is stored and answered, but the answer is parked, not sent.
    let (status, _) = post_signed(
        &app,
        "/v1/channels/sms",
        &sms("SMf0004", "How do I get a refund?"),
    )
    .await;
    assert_eq!(status, 200);
    let answer = messages(&app, &staff, &customer)
        .await
        .into_iter()
        .rev()
        .find(|m| m["from"] == "bot")
        .unwrap();
    let row = settled(
        &app,
        &format!("{}.sms", answer["id"].as_str().unwrap()),
        "parked",
    )
    .await;
    assert!(
        row.4.as_deref().unwrap_or_default().contains("opted out"),
        "{row:?}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(twilio.sent().len(), 1, "nothing more was sent");

    // START: subscribed again, and answers flow again.
    let (status, body) = post_signed(&app, "/v1/channels/sms", &sms("SMf0005", "START")).await;
    assert_eq!(status, 200);
    assert!(body.contains("<Message>"), "{body}");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM opt_outs"), 0);
    let (status, _) = post_signed(
        &app,
        "/v1/channels/sms",
        &sms("SMf0006", "Where is my parcel?"),
    )
    .await;
    assert_eq!(status, 200);
    let sent = twilio.wait_for(2).await;
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1].param("To"), phone);
}

#[actix_web::test]
async fn a_provider_error_is_retried_and_the_answer_delivered_once() {
    let twilio = Twilio::start(Arc::new(|n| if n == 1 { 500 } else { 201 })).await;
    let app = spawn_with(&twilio).await;
    let (staff, _) = app.login("sam").await;
    let phone = "+8613800138006";
    let (status, _) = post_signed(
        &app,
        "/v1/channels/sms",
        &text_form("SMg0001", phone, "hello"),
    )
    .await;
    assert_eq!(status, 200);

    let sent = twilio.wait_for(2).await;
    assert_eq!(
        sent.iter().map(|s| s.status).collect::<Vec<_>>(),
        [500, 201]
    );
    assert_eq!(sent[0].form, sent[1].form, "the same message, retried");
    let customer = lookup(&app, &staff, "sms", phone).await.unwrap();
    let answer = messages(&app, &staff, &customer)
        .await
        .into_iter()
        .find(|m| m["from"] == "bot")
        .unwrap();
    let row = settled(
        &app,
        &format!("{}.sms", answer["id"].as_str().unwrap()),
        "delivered",
    )
    .await;
    assert_eq!((row.1, row.2.as_deref()), (2, Some("SM2")));
}

/// Notes and whispers stay with the staff: an SMS customer whose agent notes and whose
/// supervisor whispers receives only the agent's reply from the provider.
#[actix_web::test]
async fn notes_and_whispers_never_reach_an_sms_customer() {
    use crate::helpers::Ws;
    use serde_json::json;

    let twilio = Twilio::start(Arc::new(|_| 201)).await;
    let app = spawn_with(&twilio).await;
    let phone = "+8613800138077";
    let mut alice = app.available_agent("alice").await;
    let (status, _) = post_signed(
        &app,
        "/v1/channels/sms",
        &text_form("SMn0001", phone, "人工"),
    )
    .await;
    assert_eq!(status, 200);
    let offer = alice.next_of_type("offer").await;
    alice
        .send(json!({"type": "accept", "task_id": offer["task_id"]}))
        .await;
    let conversation = alice.next_of_type("assigned").await["conversation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let before = twilio.sent().len();

    alice
        .send(
            json!({"type": "note", "conversation_id": conversation, "text": "internal note-sms-1"}),
        )
        .await;
    alice.message_containing("note-sms-1").await;
    let (sam, _) = app.login("sam").await;
    let mut supervisor = Ws::connect(&app.ws_url("/v1/ws/agent", &sam)).await;
    supervisor.next_of_type("hello").await;
    supervisor
        .send(json!({"type": "whisper", "conversation_id": conversation, "text": "whisper-sms-1"}))
        .await;
    alice.message_containing("whisper-sms-1").await;
    alice
        .send(json!({"type": "message", "conversation_id": conversation, "text": "agent reply sms-1"}))
        .await;

    let sent = twilio.wait_for(before + 1).await;
    let bodies: Vec<&str> = sent[before..].iter().map(|s| s.param("Body")).collect();
    assert!(
        bodies.iter().any(|b| b.contains("agent reply sms-1")),
        "{bodies:?}"
    );
    assert!(
        bodies
            .iter()
            .all(|b| !b.contains("note-sms-1") && !b.contains("whisper-sms-1")),
        "{bodies:?}"
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM outbox WHERE payload LIKE '%note-sms-1%' OR payload LIKE '%whisper-sms-1%'"
        ),
        0
    );
}
