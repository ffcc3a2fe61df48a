//! The phone IVR channel over HTTP: signed call events in, call instructions out.

use chrono::Utc;
use serde_json::{json, Value};
use switchboard::signing::webhooks::{secret_key, sign};

use crate::helpers::{spawn_app, TestApp};

/// The demo IVR secret of API.md.
const SECRET: &str = "whsec_Q+Y4HW9jMm/YeDWkA7QytT1wLnz/UBYZ";
const CALLER: &str = "+8613800138000";
const PATH: &str = "/v1/channels/ivr/events";

/// A POST of `body` with the given Standard Webhooks headers (none when `headers` is None).
async fn post_raw(app: &TestApp, headers: Option<(&str, i64, &str)>, body: &[u8]) -> (u16, String) {
    let mut request = app
        .client
        .post(app.url(PATH))
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some((id, timestamp, signature)) = headers {
        request = request
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// `body` signed now with the demo secret, as the IVR platform sends it.
async fn post_signed(app: &TestApp, id: &str, body: &[u8]) -> (u16, String) {
    let key = secret_key(SECRET).unwrap();
    let now = Utc::now().timestamp();
    let signature = sign(&key, id, now, body);
    post_raw(app, Some((id, now, &signature)), body).await
}

/// A signed event answered 200; its JSON answer.
pub async fn event(app: &TestApp, id: &str, body: Value) -> Value {
    let (status, text) = post_signed(app, id, body.to_string().as_bytes()).await;
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text).unwrap()
}

pub fn started(call_id: &str) -> Value {
    json!({"type": "call.started", "call_id": call_id, "from": CALLER, "to": "95555"})
}

pub fn transcript(call_id: &str, text: &str, confidence: f64) -> Value {
    json!({"type": "transcript", "call_id": call_id, "from": CALLER, "text": text,
        "confidence": confidence, "final": true})
}

/// The caller's customer id, looked up by staff.
async fn caller(app: &TestApp, staff: &str, channel: &str) -> String {
    app.lookup(staff, channel, CALLER)
        .await
        .expect("the caller is a customer")
}

async fn messages(app: &TestApp, staff: &str, customer: &str) -> Vec<Value> {
    app.customer_messages(staff, customer).await
}

fn types(answer: &Value) -> Vec<&str> {
    answer["instructions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["type"].as_str().unwrap())
        .collect()
}

#[actix_web::test]
async fn a_call_is_greeted_and_the_caller_is_a_customer_on_both_phone_channels() {
    let app = spawn_app(&[]).await;
    let answer = event(&app, "evt_start", started("CA100")).await;
    assert_eq!(answer["call_id"], "CA100");
    assert_eq!(types(&answer), ["say", "collect"], "{answer}");
    let say = &answer["instructions"][0];
    assert!(say["text"].as_str().unwrap().contains("您好"), "{answer}");
    assert_eq!(say["language"], "zh-CN");
    assert_eq!(
        answer["instructions"][1],
        json!({"type": "collect", "input": ["speech", "dtmf"], "timeout_secs": 8})
    );

    let (sam, _) = app.login("sam").await;
    let on_ivr = caller(&app, &sam, "ivr").await;
    assert_eq!(caller(&app, &sam, "sms").await, on_ivr);

    // An English call is greeted in English.
    let mut english = started("CA101");
    english["language"] = json!("en");
    let answer = event(&app, "evt_start_en", english).await;
    assert_eq!(answer["instructions"][0]["language"], "en-US");
    assert!(answer["instructions"][0]["text"]
        .as_str()
        .unwrap()
        .contains("Hello"));
    assert_eq!(
        caller(&app, &sam, "ivr").await,
        on_ivr,
        "one number, one customer"
    );
}

#[actix_web::test]
async fn a_final_transcript_is_the_customers_message_and_the_bot_answers_it() {
    let app = spawn_app(&[]).await;
    event(&app, "evt_1", started("CA200")).await;
    // A partial segment is acknowledged, nothing more.
    let mut partial = transcript("CA200", "怎么", 0.9);
    partial["final"] = json!(false);
    let answer = event(&app, "evt_2", partial).await;
    assert_eq!(answer, json!({"call_id": "CA200", "instructions": []}));

    let answer = event(&app, "evt_3", transcript("CA200", "怎么退款", 0.92)).await;
    assert_eq!(types(&answer), ["say", "collect"], "{answer}");
    assert!(answer["instructions"][0]["text"]
        .as_str()
        .unwrap()
        .contains("退款"));
    assert_eq!(answer["instructions"][0]["language"], "zh-CN");

    let (sam, _) = app.login("sam").await;
    let customer = caller(&app, &sam, "ivr").await;
    let stored = messages(&app, &sam, &customer).await;
    assert_eq!(stored.len(), 2, "{stored:?}");
    assert_eq!(stored[0]["from"], "customer");
    assert_eq!(stored[0]["channel"], "ivr");
    assert_eq!(stored[0]["text"], "怎么退款");
    assert_eq!(stored[1]["from"], "bot");
    assert_eq!(stored[1]["text"], answer["instructions"][0]["text"]);

    // Keys other than 0 are the customer's text; the end of the call is acknowledged.
    let answer = event(
        &app,
        "evt_4",
        json!({"type": "dtmf", "call_id": "CA200", "from": CALLER, "digits": "12#"}),
    )
    .await;
    assert_eq!(types(&answer).last(), Some(&"collect"), "{answer}");
    let answer = event(
        &app,
        "evt_5",
        json!({"type": "call.ended", "call_id": "CA200", "from": CALLER, "reason": "hangup"}),
    )
    .await;
    assert_eq!(answer["instructions"], json!([]));
    let stored = messages(&app, &sam, &customer).await;
    assert_eq!(stored[2]["text"], "12#");
    assert_eq!(stored.len(), 4, "{stored:?}");
}

#[actix_web::test]
async fn asking_for_an_agent_transfers_the_call_to_the_agent_the_dispatcher_picks() {
    let app = spawn_app(&[]).await;
    let mut bob = app.available_agent("bob").await;
    event(&app, "evt_1", started("CA300")).await;
    event(&app, "evt_2", transcript("CA300", "我的快递到哪了", 0.9)).await;
    let answer = event(&app, "evt_3", transcript("CA300", "转人工", 0.95)).await;
    assert_eq!(types(&answer), ["say", "transfer"], "{answer}");
    assert!(answer["instructions"][0]["text"]
        .as_str()
        .unwrap()
        .contains("转接人工客服"));
    let transfer = &answer["instructions"][1];
    assert_eq!(transfer["target"], json!({"queue": "voice"}));
    let (sam, _) = app.login("sam").await;
    let customer = caller(&app, &sam, "ivr").await;
    assert_eq!(transfer["task"]["customer_id"], customer.as_str());
    let conversation_id = transfer["task"]["conversation_id"].as_str().unwrap();
    assert_eq!(
        transfer["context"]["transcript"],
        json!([
            {"from": "customer", "text": "我的快递到哪了"},
            {"from": "customer", "text": "转人工"},
        ])
    );

    let offer = bob.next_of_type("offer").await;
    assert_eq!(offer["conversation_id"], conversation_id);
    bob.send(json!({"type": "accept", "task_id": offer["task_id"]}))
        .await;
    let assigned = bob.next_of_type("assigned").await;
    assert_eq!(assigned["conversation_id"], conversation_id);
    let said: Vec<&str> = assigned["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["from"] == "customer")
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(said, ["我的快递到哪了", "转人工"], "{assigned}");
}

#[actix_web::test]
async fn the_zero_key_asks_for_an_agent() {
    let app = spawn_app(&[]).await;
    event(&app, "evt_1", started("CA310")).await;
    let answer = event(
        &app,
        "evt_2",
        json!({"type": "dtmf", "call_id": "CA310", "from": CALLER, "digits": "0", "language": "en"}),
    )
    .await;
    assert_eq!(types(&answer), ["say", "transfer"], "{answer}");
    assert_eq!(answer["instructions"][0]["language"], "en-US");
    assert_eq!(
        answer["instructions"][1]["context"]["transcript"],
        json!([{"from": "customer", "text": "agent"}])
    );
}

/// Asserts an error answer's status and code.
fn refused(answer: (u16, String), status: u16, code: &str) {
    assert_eq!(answer.0, status, "{}", answer.1);
    let body: Value = serde_json::from_str(&answer.1).unwrap();
    assert_eq!(body["error"]["code"], code, "{body}");
}

#[actix_web::test]
async fn unsigned_forged_stale_replayed_and_invalid_events_are_refused_and_store_nothing() {
    let app = spawn_app(&[]).await;
    event(&app, "evt_1", started("CA400")).await;
    let first = transcript("CA400", "怎么退款", 0.9);
    event(&app, "evt_2", first.clone()).await;
    let (sam, _) = app.login("sam").await;
    let customer = caller(&app, &sam, "ivr").await;
    let before = messages(&app, &sam, &customer).await.len();
    assert_eq!(before, 2);

    let body = transcript("CA400", "我要开发票", 0.9).to_string();
    let body = body.as_bytes();
    let now = Utc::now().timestamp();
    let key = secret_key(SECRET).unwrap();
    refused(post_raw(&app, None, body).await, 401, "unauthenticated");
    let signature = sign(&key, "evt_3", now, body);
    let mut request = app
        .client
        .post(app.url(PATH))
        .header("webhook-id", "evt_3")
        .header("webhook-signature", signature.as_str())
        .body(body.to_vec());
    request = request.header("content-type", "application/json");
    let response = request.send().await.unwrap();
    refused(
        (response.status().as_u16(), response.text().await.unwrap()),
        401,
        "unauthenticated",
    );

    let other = secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
    let forged = sign(&other, "evt_3", now, body);
    refused(
        post_raw(&app, Some(("evt_3", now, &forged)), body).await,
        403,
        "forbidden",
    );
    let old = now - 3_600;
    let stale = sign(&key, "evt_3", old, body);
    refused(
        post_raw(&app, Some(("evt_3", old, &stale)), body).await,
        403,
        "forbidden",
    );
    // The id of a handled event with another body: a replay.
    refused(post_signed(&app, "evt_2", body).await, 403, "forbidden");
    refused(
        post_signed(&app, "evt_4", b"{\"type\": \"transcript\", ").await,
        400,
        "malformed_json",
    );
    let mut bad_phone = transcript("CA400", "我要开发票", 0.9);
    bad_phone["from"] = json!("13800138000");
    refused(
        post_signed(&app, "evt_5", bad_phone.to_string().as_bytes()).await,
        422,
        "invalid_request",
    );
    let mut unknown = transcript("CA400", "我要开发票", 0.9);
    unknown["type"] = json!("call.parked");
    refused(
        post_signed(&app, "evt_6", unknown.to_string().as_bytes()).await,
        422,
        "invalid_request",
    );
    refused(
        post_signed(
            &app,
            "evt_7",
            transcript("CA400", "我要开发票", 1.5)
                .to_string()
                .as_bytes(),
        )
        .await,
        422,
        "invalid_request",
    );
    let huge = transcript("CA400", &"话".repeat(30_000), 0.9).to_string();
    refused(
        post_signed(&app, "evt_8", huge.as_bytes()).await,
        413,
        "payload_too_large",
    );

    assert_eq!(messages(&app, &sam, &customer).await.len(), before);
    // Refused ids were not used up: the same id with a valid body is handled.
    let answer = event(&app, "evt_5", transcript("CA400", "我要开发票", 0.9)).await;
    assert_eq!(types(&answer), ["say", "collect"], "{answer}");
    assert_eq!(messages(&app, &sam, &customer).await.len(), before + 2);
}

#[actix_web::test]
async fn without_a_secret_the_channel_is_off() {
    let app = spawn_app(&[("SWITCHBOARD_IVR__SECRET", "")]).await;
    refused(
        post_signed(&app, "evt_1", started("CA500").to_string().as_bytes()).await,
        503,
        "not_ready",
    );
}

#[actix_web::test]
async fn a_retried_event_gets_the_first_answer_and_is_stored_once() {
    let app = spawn_app(&[]).await;
    event(&app, "evt_1", started("CA600")).await;
    let (sam, _) = app.login("sam").await;
    let customer = caller(&app, &sam, "ivr").await;

    // A retry: the same id and body, a fresh timestamp and signature.
    let body = transcript("CA600", "怎么退款", 0.9).to_string();
    let first = post_signed(&app, "evt_2", body.as_bytes()).await;
    assert_eq!(first.0, 200, "{}", first.1);
    let again = post_signed(&app, "evt_2", body.as_bytes()).await;
    assert_eq!(again, first, "byte for byte");
    assert_eq!(messages(&app, &sam, &customer).await.len(), 2);

    // Twenty deliveries of one event at once agree on one answer and one message.
    let body = transcript("CA600", "发票怎么开", 0.9).to_string();
    let answers = futures_util::future::join_all(
        (0..20).map(|_| post_signed(&app, "evt_3", body.as_bytes())),
    )
    .await;
    for answer in &answers {
        assert_eq!(answer.0, 200, "{}", answer.1);
        assert_eq!(answer, &answers[0], "byte for byte");
    }
    let stored = messages(&app, &sam, &customer).await;
    assert_eq!(stored.len(), 4, "{stored:?}");
    let spoken: Value = serde_json::from_str(&answers[0].1).unwrap();
    assert_eq!(stored[3]["text"], spoken["instructions"][0]["text"]);
    assert_eq!(
        stored.iter().filter(|m| m["text"] == "发票怎么开").count(),
        1
    );
}

#[actix_web::test]
async fn speech_recognised_with_low_confidence_is_asked_again_and_not_stored() {
    let app = spawn_app(&[]).await;
    event(&app, "evt_1", started("CA700")).await;
    let answer = event(&app, "evt_2", transcript("CA700", "怎么退款", 0.3)).await;
    assert_eq!(types(&answer), ["say", "collect"], "{answer}");
    assert!(answer["instructions"][0]["text"]
        .as_str()
        .unwrap()
        .contains("再说一遍"));
    let answer = event(&app, "evt_3", transcript("CA700", "refund please", 0.3)).await;
    assert_eq!(answer["instructions"][0]["language"], "en-US");
    let (sam, _) = app.login("sam").await;
    let customer = caller(&app, &sam, "ivr").await;
    assert!(messages(&app, &sam, &customer).await.is_empty());
}
