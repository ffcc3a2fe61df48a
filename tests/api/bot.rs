//! The knowledge-base bot over HTTP (issue 7): supervisors edit the knowledge base and the
//! bot answers from the new version without a restart; flows call a fake order system on
//! 127.0.0.1 and open tickets; a hand-off carries its context to the agent, who gets assist
//! suggestions, uses one, and gives the conversation back to the bot.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{web, App, HttpRequest, HttpResponse};
use serde_json::{json, Value};
use switchboard::store::AssistStore;

use crate::helpers::{assert_problems_at, spawn_app, TestApp, Visitor, WAIT};

/// The customer's messages so far, oldest first.
async fn said(app: &TestApp, visitor: &Visitor) -> Vec<Value> {
    // 404 before the first message: no conversation yet.
    let (_, current) = app
        .get_json("/v1/conversations/current", &visitor.token)
        .await;
    current["messages"].as_array().cloned().unwrap_or_default()
}

/// Sends `text` and returns what the bot (or system) said after it, joined.
async fn ask(app: &TestApp, visitor: &Visitor, text: &str, client_id: &str) -> String {
    let before = said(app, visitor).await.len();
    let response = app.post_message(&visitor.token, text, client_id).await;
    assert_eq!(response.status(), 202, "{text}");
    said(app, visitor).await[before..]
        .iter()
        .filter(|m| m["from"] != "customer")
        .filter_map(|m| m["text"].as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

static POLLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Tests here write many messages quickly: the per-customer flood limit is raised.
const NO_FLOOD_LIMIT: (&str, &str) = ("SWITCHBOARD_LIMITS__CUSTOMER_BURST", "1000");

/// Asks until the answer contains `needle` (the knowledge base reloads in the background),
/// at most [`WAIT`].
/// Each attempt is a new visitor's first message: misunderstood questions would otherwise
/// hand the conversation over after two turns.
async fn eventually_answers(app: &TestApp, text: &str, needle: &str) -> String {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let id = POLLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let visitor = app.visitor().await;
        let answer = ask(app, &visitor, text, &format!("poll-{id}")).await;
        if answer.contains(needle) {
            return answer;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "'{text}' never got an answer with '{needle}'; last: {answer}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn warranty(answer_zh: &str) -> Value {
    json!({
        "id": "warranty",
        "title": {"zh": "保修政策", "en": "Warranty"},
        "questions": {"zh": ["保修期多久", "坏了能保修吗"], "en": ["how long is the warranty"]},
        "keywords": {"zh": ["保修"], "en": ["warranty"]},
        "answer": {"zh": answer_zh, "en": "All products carry a 12-month warranty."},
        "tags": ["after-sales"],
        "skill": "orders",
        "status": "published"
    })
}

#[actix_web::test]
async fn supervisors_edit_the_knowledge_base_and_the_bot_answers_from_it_without_a_restart() {
    let app = spawn_app(&[NO_FLOOD_LIMIT]).await;
    let (sam, _) = app.login("sam").await;
    let (bob, _) = app.login("bob").await;
    let visitor = app.visitor().await;

    // The demo knowledge base is there, readable by agents.
    let (status, listed) = app.get_json("/v1/kb/entries", &bob).await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = listed["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["id"].as_str())
        .collect();
    assert!(ids.contains(&"refund") && ids.len() >= 16, "{ids:?}");

    // Only supervisors change it; every problem is reported with its place.
    let (status, _) = app
        .post_json("/v1/kb/entries", &bob, warranty("十二个月"))
        .await;
    assert_eq!(status, 403);
    let mut bad = warranty("");
    bad["id"] = json!("Bad Id!");
    bad["answer"] = json!({});
    bad["channel_answers"] = json!({"fax": {"zh": "x"}});
    let (status, body) = app.post_json("/v1/kb/entries", &sam, bad).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "invalid_kb");
    assert_problems_at(&body, &["id", "answer", "channel_answers.fax"]);

    // Before: the bot does not know warranties.
    let before = ask(&app, &visitor, "保修期多久？", "w-0").await;
    assert!(!before.contains("十二个月"), "{before}");

    let (status, created) = app
        .post_json("/v1/kb/entries", &sam, warranty("所有商品保修十二个月。"))
        .await;
    assert_eq!(status, 201, "{created}");
    let (status, _) = app
        .post_json("/v1/kb/entries", &sam, warranty("又一次"))
        .await;
    assert_eq!(status, 409, "an existing id is changed with PUT");
    eventually_answers(&app, "保修期多久？", "保修十二个月").await;

    // A change replaces the answer; a deletion removes it.
    let (status, body) = app
        .request_json(
            reqwest::Method::PUT,
            "/v1/kb/entries/warranty",
            &sam,
            Some(warranty("所有商品保修二十四个月。")),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["revision"].as_i64().unwrap() > created["revision"].as_i64().unwrap());
    eventually_answers(&app, "保修期多久？", "二十四个月").await;
    let (status, entry) = app.get_json("/v1/kb/entries/warranty", &bob).await;
    assert_eq!(status, 200);
    // The editor is named: the supervisor's id and display name, as `GET /v1/me` tells them.
    let (_, me) = app.get_json("/v1/me", &sam).await;
    assert_eq!(entry["updated_by"], me["agent_id"], "{entry}");
    assert_eq!(entry["updated_by_name"], me["name"], "{entry}");
    let (_, listed) = app.get_json("/v1/kb/entries", &bob).await;
    let listed = listed["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == "warranty")
        .cloned()
        .expect("listed");
    assert_eq!(listed["updated_by_name"], me["name"]);
    let (status, _) = app.delete_json("/v1/kb/entries/warranty", &sam).await;
    assert_eq!(status, 200);
    let (status, _) = app.delete_json("/v1/kb/entries/warranty", &sam).await;
    assert_eq!(status, 404);

    // Unauthenticated: 401.
    let anonymous = app
        .client
        .get(app.url("/v1/kb/entries"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}

#[actix_web::test]
async fn the_knowledge_base_exports_and_imports_as_json_and_csv() {
    let app = spawn_app(&[NO_FLOOD_LIMIT]).await;
    let (sam, _) = app.login("sam").await;
    let export = |format: &'static str| {
        let (app, sam) = (&app, sam.clone());
        async move {
            let response = app
                .client
                .get(app.url(&format!("/v1/kb/export?format={format}")))
                .bearer_auth(&sam)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            assert!(response
                .headers()
                .get("content-disposition")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains("attachment")));
            response.text().await.unwrap()
        }
    };
    let json_export = export("json").await;
    let doc: Value = serde_json::from_str(&json_export).unwrap();
    let count = doc["entries"].as_array().unwrap().len();
    assert!(count >= 16 && !doc["out_of_scope"].as_array().unwrap().is_empty());
    let csv_export = export("csv").await;
    assert!(
        csv_export.trim_start_matches('\u{feff}').starts_with("id,"),
        "{csv_export:.80}"
    );

    let import = |body: String, content_type: &'static str, mode: &'static str| {
        let (app, sam) = (&app, sam.clone());
        async move {
            let response = app
                .client
                .post(app.url(&format!("/v1/kb/import?mode={mode}")))
                .bearer_auth(&sam)
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap())
        }
    };
    // Replace with the CSV of one entry: the knowledge base is that entry only.
    let one = "id,questions_zh,answer_zh,keywords_zh\nhours,你们几点上班|周末上班吗,每天 9:00–21:00 在线。,营业时间\n";
    let (status, body) = import(one.to_owned(), "text/csv", "replace").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["imported"], 1);
    let (_, listed) = app.get_json("/v1/kb/entries", &sam).await;
    assert_eq!(listed["entries"].as_array().unwrap().len(), 1);
    // The JSON export goes back in whole (merge), and the CSV export too.
    let (status, body) = import(json_export.clone(), "application/json", "merge").await;
    assert_eq!(status, 200, "{body}");
    let (_, listed) = app.get_json("/v1/kb/entries", &sam).await;
    assert_eq!(listed["entries"].as_array().unwrap().len(), count);
    let (status, body) = import(csv_export, "text/csv", "replace").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["imported"].as_u64(), Some(count as u64));
    let again: Value = serde_json::from_str(&export("json").await).unwrap();
    assert_eq!(
        again["entries"], doc["entries"],
        "CSV round trip keeps every entry"
    );

    // Bad input: nothing stored, a typed error.
    let bad_csv = "id,answer_zh\nrefund,\n";
    let (status, body) = import(bad_csv.to_owned(), "text/csv", "replace").await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = import("{not json".to_owned(), "application/json", "merge").await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = import("x".to_owned(), "text/plain", "merge").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (415, Some("unsupported_media_type"))
    );
    let (status, _) = import(json_export.clone(), "application/json", "sideways").await;
    assert_eq!(status, 422);
    let huge = format!(
        "{{\"entries\": [], \"x\": \"{}\"}}",
        "a".repeat(6 * 1024 * 1024)
    );
    let (status, body) = import(huge, "application/json", "merge").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (413, Some("payload_too_large"))
    );
    let (_, listed) = app.get_json("/v1/kb/entries", &sam).await;
    assert_eq!(
        listed["entries"].as_array().unwrap().len(),
        count,
        "failed imports store nothing"
    );
}

/// A request the fake order system received.
#[derive(Debug, Clone)]
struct OrderCall {
    method: String,
    path: String,
    idempotency_key: String,
    body: Value,
}

/// A fake order system on 127.0.0.1: orders ending in 0 do not exist (404), in 9 it fails
/// (500); refunds are accepted (201); it records every call.
fn fake_orders() -> (u16, Arc<Mutex<Vec<OrderCall>>>) {
    let calls: Arc<Mutex<Vec<OrderCall>>> = Arc::default();
    let log = Arc::clone(&calls);
    let port = crate::helpers::serve_fake!(move || {
        let log = Arc::clone(&log);
        App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
            let log = Arc::clone(&log);
            async move {
                let path = req.path().to_owned();
                log.lock().unwrap().push(OrderCall {
                    method: req.method().to_string(),
                    path: path.clone(),
                    idempotency_key: req
                        .headers()
                        .get("idempotency-key")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned(),
                    body: serde_json::from_slice(&body).unwrap_or(Value::Null),
                });
                let order = path.split('/').nth(2).unwrap_or_default().to_owned();
                if order.ends_with('0') {
                    return HttpResponse::NotFound().json(json!({"error": "not_found"}));
                }
                if order.ends_with('9') {
                    return HttpResponse::InternalServerError().finish();
                }
                if path.ends_with("/refunds") {
                    return HttpResponse::Created().json(json!({"refund_status": "pending"}));
                }
                HttpResponse::Ok().json(json!({
                    "order_no": order, "status": "派送中 out for delivery", "eta": "2026-11-27",
                }))
            }
        }))
    });
    (port, calls)
}

#[actix_web::test]
async fn flows_ask_for_slots_call_the_order_system_open_tickets_and_survive_digressions() {
    let (port, calls) = fake_orders();
    let base = format!("http://127.0.0.1:{port}");
    let app = spawn_app(&[
        NO_FLOOD_LIMIT,
        ("SWITCHBOARD_BOT__SERVICES__ORDERS", base.as_str()),
    ])
    .await;
    let visitor = app.visitor().await;

    // Order status: asked for the number, a wrong one is asked again, a FAQ question in
    // between is answered and the flow resumes, then the look-up answers.
    let asked = ask(&app, &visitor, "帮我查一下订单状态", "o-1").await;
    assert!(asked.contains("订单号"), "{asked}");
    let again = ask(&app, &visitor, "12345", "o-2").await;
    assert!(again.contains("SB"), "re-asked with the format: {again}");
    let digression = ask(&app, &visitor, "怎么开发票？", "o-3").await;
    assert!(
        digression.contains("发票") && digression.contains("回到刚才的问题"),
        "{digression}"
    );
    assert!(
        calls.lock().unwrap().is_empty(),
        "no look-up before the number"
    );
    let answer = ask(&app, &visitor, "订单号是sb20261125001", "o-4").await;
    assert!(
        answer.contains("派送中") && answer.contains("2026-11-27"),
        "{answer}"
    );
    {
        let calls = calls.lock().unwrap();
        assert_eq!(calls.len(), 1, "{calls:?}");
        assert_eq!(
            (calls[0].method.as_str(), calls[0].path.as_str()),
            ("GET", "/orders/SB20261125001")
        );
        assert!(!calls[0].idempotency_key.is_empty());
    }

    // An unknown order: the flow's own answer, no hand-off.
    let unknown = ask(&app, &visitor, "查订单 SB20261125000", "o-5").await;
    assert!(
        unknown.contains("没有找到") && unknown.contains("SB20261125000"),
        "{unknown}"
    );

    // Cancel in the middle.
    ask(&app, &visitor, "我要改地址", "a-1").await;
    let cancelled = ask(&app, &visitor, "算了", "a-2").await;
    assert!(cancelled.contains("取消"), "{cancelled}");
    let after = ask(&app, &visitor, "SB20261125001", "a-3").await;
    assert!(!after.contains("地址"), "the address flow is over: {after}");

    // Refund request: order, reason, confirmation → the order system and a ticket.
    let calls_before = calls.lock().unwrap().len();
    ask(&app, &visitor, "我要退款", "r-1").await;
    ask(&app, &visitor, "SB20261125002", "r-2").await;
    ask(&app, &visitor, "尺码不合适", "r-3").await;
    let done = ask(&app, &visitor, "是", "r-4").await;
    assert!(done.contains("工单号 TK"), "{done}");
    let (sam, _) = app.login("sam").await;
    let (status, tickets) = app
        .get_json(
            &format!("/v1/customers/{}/tickets", visitor.customer_id),
            &sam,
        )
        .await;
    assert_eq!(status, 200);
    let tickets = tickets["tickets"].as_array().unwrap().clone();
    assert_eq!(tickets.len(), 1, "{tickets:?}");
    assert_eq!(tickets[0]["kind"], "refund");
    assert_eq!(tickets[0]["fields"]["order_no"], "SB20261125002");
    assert!(done.contains(tickets[0]["id"].as_str().unwrap()));
    {
        let calls = calls.lock().unwrap();
        let refund = &calls[calls_before];
        assert_eq!(
            (refund.method.as_str(), refund.path.as_str()),
            ("POST", "/orders/SB20261125002/refunds")
        );
        assert_eq!(refund.body["reason"], "尺码不合适");
    }
    // The same message again (a client retry): the first answer, no second call or ticket.
    let calls_now = calls.lock().unwrap().len();
    let retry = app.post_message(&visitor.token, "是", "r-4").await;
    assert_eq!(retry.status(), 202);
    assert_eq!(
        calls.lock().unwrap().len(),
        calls_now,
        "no second refund call"
    );
    let (_, tickets) = app
        .get_json(
            &format!("/v1/customers/{}/tickets", visitor.customer_id),
            &sam,
        )
        .await;
    assert_eq!(
        tickets["tickets"].as_array().unwrap().len(),
        1,
        "no second ticket"
    );
}

#[actix_web::test]
async fn a_failed_action_hands_over_with_context_the_agent_gets_assist_and_gives_back() {
    let (port, _calls) = fake_orders();
    let base = format!("http://127.0.0.1:{port}");
    let app = spawn_app(&[
        NO_FLOOD_LIMIT,
        ("SWITCHBOARD_BOT__SERVICES__ORDERS", base.as_str()),
    ])
    .await;
    let mut bob = app.available_agent("bob").await;
    let visitor = app.visitor().await;

    // The order system fails (500): the flow hands over to an agent with the orders skill.
    // bob (orders, Chinese) is the one agent for an order problem in Chinese.
    ask(&app, &visitor, "我的订单到哪了？", "f-1").await;
    let handed = ask(&app, &visitor, "SB20261125009", "f-2").await;
    assert!(handed.contains("人工"), "{handed}");
    let offer = bob.next_of_type("offer").await;
    let context = &offer["context"];
    assert_eq!(context["reason"], "flow", "{offer:#}");
    assert_eq!(context["flow"], "order_status");
    assert_eq!(context["slots"]["order_no"], "SB20261125009");
    assert_eq!(context["tier"], "standard");
    // The summary for the desk in both languages; `summary` stays the English one.
    assert_eq!(
        context["summaries"]["en"], context["summary"],
        "{context:#}"
    );
    let zh = context["summaries"]["zh"].as_str().unwrap_or_default();
    assert!(zh.starts_with("流程 order_status"), "{context:#}");
    let transcript: Vec<&str> = context["transcript"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["text"].as_str())
        .collect();
    assert!(transcript.contains(&"我的订单到哪了？"), "{transcript:?}");
    assert!(transcript.contains(&"SB20261125009"), "{transcript:?}");
    assert!(offer["skills"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s == "orders"));

    bob.send(json!({"type": "accept", "task_id": offer["task_id"]}))
        .await;
    let assigned = bob.next_of_type("assigned").await;
    assert_eq!(
        assigned["context"], offer["context"],
        "the desk keeps the context"
    );
    let conversation = assigned["conversation_id"].as_str().unwrap().to_owned();

    // The bot is silent while bob owns the conversation; bob gets suggestions instead.
    let quiet = ask(&app, &visitor, "发票抬头开错了，怎么改？", "f-3").await;
    assert!(
        !quiet.contains("发票"),
        "the bot answered an agent's conversation: {quiet}"
    );
    let assist = bob
        .find_within(WAIT, |f| {
            f["type"] == "assist" && f["conversation_id"] == conversation.as_str()
        })
        .await
        .expect("assist suggestions");
    let suggestions = assist["suggestions"].as_array().unwrap();
    let kb: Vec<&Value> = suggestions.iter().filter(|s| s["kind"] == "kb").collect();
    assert!(!kb.is_empty() && kb.len() <= 3, "{assist:#}");
    assert!(
        kb[0]["reference"].as_str().unwrap().starts_with("invoice"),
        "{assist:#}"
    );
    let used = kb[0]["id"].as_str().unwrap().to_owned();
    let text = kb[0]["text"].as_str().unwrap().to_owned();
    bob.send(json!({"type": "message", "conversation_id": conversation, "text": text, "suggestion_id": used}))
        .await;
    let head: String = text.chars().take(12).collect();
    bob.message_containing(&head).await;

    // The use is recorded (first use only, only for this agent's suggestion).
    let store = switchboard::store::sqlite::SqliteStore::open(&app.db_path).unwrap();
    let conversation_id = switchboard::domain::ConversationId::from_trusted(conversation.clone());
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let records = store.assist_records(&conversation_id).await.unwrap();
        assert_eq!(records.len(), suggestions.len());
        if records.iter().any(|r| r.id == used && r.used_at.is_some()) {
            assert_eq!(records.iter().filter(|r| r.used_at.is_some()).count(), 1);
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the use was never recorded"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Given back: the conversation leaves bob's desk and the bot answers again.
    bob.send(json!({"type": "give_back", "conversation_id": conversation}))
        .await;
    let given = bob.next_of_type("given_back").await;
    assert_eq!(given["conversation_id"], conversation.as_str());
    let back = ask(&app, &visitor, "怎么退款？", "f-4").await;
    assert!(back.contains("退款"), "{back}");
    let all = said(&app, &visitor).await;
    assert!(
        all.iter().any(|m| m["from"] == "system"
            && m["text"].as_str().unwrap_or_default().contains("智能助手")),
        "the customer is told: {all:#?}"
    );
    assert_eq!(
        all.last().map(|m| m["conversation_id"].clone()),
        Some(json!(conversation)),
        "the same conversation goes on"
    );
}

#[actix_web::test]
async fn a_resolved_conversation_is_suggested_for_a_similar_one() {
    let app = spawn_app(&[NO_FLOOD_LIMIT]).await;
    let mut alice = app.available_agent("alice").await;
    let first = app.visitor().await;
    ask(&app, &first, "转人工", "s-1").await;
    let offer = alice.next_of_type("offer").await;
    alice
        .send(json!({"type": "accept", "task_id": offer["task_id"]}))
        .await;
    let conversation = alice.next_of_type("assigned").await["conversation_id"].clone();
    ask(&app, &first, "我在你们店买的蓝牙耳机左耳没有声音", "s-2").await;
    let answer = "左耳无声多半是配对问题：请把两只耳机放回充电盒，长按 10 秒重置后重新配对。";
    alice
        .send(json!({"type": "message", "conversation_id": conversation, "text": answer}))
        .await;
    alice.message_containing("重新配对").await;
    alice
        .send(json!({"type": "wrap_up", "conversation_id": conversation, "resolution": "resolved"}))
        .await;
    alice.next_of_type("wrapped_up").await;

    let second = app.visitor().await;
    ask(&app, &second, "转人工", "t-1").await;
    let offer = alice.next_of_type("offer").await;
    alice
        .send(json!({"type": "accept", "task_id": offer["task_id"]}))
        .await;
    let current = alice.next_of_type("assigned").await["conversation_id"].clone();
    // The index is rebuilt a moment after a resolution: ask until it suggests (bounded).
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut n = 0;
    let suggestion = loop {
        n += 1;
        ask(
            &app,
            &second,
            "蓝牙耳机左耳没声音了怎么办",
            &format!("t-{}", n + 1),
        )
        .await;
        let assist = alice
            .find_within(Duration::from_secs(3), |f| {
                f["type"] == "assist" && f["conversation_id"] == current
            })
            .await;
        if let Some(found) = assist.as_ref().and_then(|a| {
            a["suggestions"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["kind"] == "conversation")
                .cloned()
        }) {
            break found;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no similar conversation suggested"
        );
    };
    assert_eq!(suggestion["reference"], conversation);
    assert_eq!(suggestion["text"], answer);
    alice.close().await;
}

#[actix_web::test]
async fn knowledge_base_endpoints_refuse_bad_input_with_typed_errors_and_store_nothing() {
    let app = spawn_app(&[NO_FLOOD_LIMIT]).await;
    let (sam, _) = app.login("sam").await;
    let (_, before) = app.get_json("/v1/kb/entries", &sam).await;
    let raw =
        |method: reqwest::Method, path: &'static str, content_type: &'static str, body: String| {
            let (app, sam) = (&app, sam.clone());
            async move {
                let response = app
                    .client
                    .request(method, app.url(path))
                    .bearer_auth(&sam)
                    .header("content-type", content_type)
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                let status = response.status().as_u16();
                (
                    status,
                    response.json::<Value>().await.unwrap_or(Value::Null),
                )
            }
        };
    let code = |body: &Value| {
        body["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    // Malformed JSON, a wrong content type, an oversized body, unknown fields.
    let (status, body) = raw(
        reqwest::Method::POST,
        "/v1/kb/entries",
        "application/json",
        "{\"id\":".to_owned(),
    )
    .await;
    assert_eq!(
        (status, code(&body).as_str()),
        (400, "malformed_json"),
        "{body}"
    );
    let (status, body) = raw(
        reqwest::Method::POST,
        "/v1/kb/entries",
        "text/plain",
        "id=x".to_owned(),
    )
    .await;
    assert_eq!(status, 415, "{body}");
    let huge = warranty(&"长".repeat(100_000)).to_string();
    let (status, body) = raw(
        reqwest::Method::PUT,
        "/v1/kb/entries/warranty",
        "application/json",
        huge,
    )
    .await;
    assert_eq!(
        (status, code(&body).as_str()),
        (413, "payload_too_large"),
        "{body}"
    );
    let mut unknown = warranty("x");
    unknown["colour"] = json!("blue");
    let (status, body) = app.post_json("/v1/kb/entries", &sam, unknown).await;
    assert_eq!(
        (status, code(&body).as_str()),
        (422, "invalid_kb"),
        "{body}"
    );
    // The path and the body must name the same entry.
    let (status, body) = app
        .request_json(
            reqwest::Method::PUT,
            "/v1/kb/entries/other",
            &sam,
            Some(warranty("x")),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_problems_at(&body, &["id"]);
    // Trying a question: empty or malformed is refused.
    let (status, _) = app
        .post_json("/v1/kb/match", &sam, json!({"text": "  "}))
        .await;
    assert_eq!(status, 422);
    let (status, _) = app
        .post_json("/v1/kb/match", &sam, json!({"question": "hi"}))
        .await;
    assert_eq!(status, 422);
    let (status, tried) = app
        .post_json("/v1/kb/match", &sam, json!({"text": "怎么退款"}))
        .await;
    assert_eq!(status, 200, "{tried}");
    assert_eq!(tried["intent"], "refund");
    assert_eq!(tried["outcome"], "answered", "{tried}");
    let answered_by = tried["entry_id"].as_str().expect("entry_id");
    let entry = before["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == answered_by)
        .expect("the answering entry is listed");
    assert_eq!(entry["intent"], "refund", "{entry}");
    // The other outcomes, each named.
    for (text, outcome) in [
        ("你好", "small_talk"),
        ("转人工", "handoff"),
        ("帮我查一下订单", "flow"),
        ("what is the capital of mongolia", "dont_know"),
    ] {
        let (status, tried) = app
            .post_json("/v1/kb/match", &sam, json!({"text": text}))
            .await;
        assert_eq!(status, 200, "{tried}");
        assert_eq!(tried["outcome"], outcome, "{text}: {tried}");
        assert!(tried["entry_id"].is_null(), "{text}: {tried}");
    }
    // Nothing of that was stored.
    let (_, after) = app.get_json("/v1/kb/entries", &sam).await;
    assert_eq!(after["entries"], before["entries"]);
    assert_eq!(after["revision"], before["revision"]);
}

/// Two supervisors edit one entry: each write names the version it read (`If-Match`), so the
/// second one to save is told the entry changed instead of silently undoing the first.
#[actix_web::test]
async fn concurrent_edits_of_one_entry_do_not_overwrite_each_other() {
    let app = spawn_app(&[NO_FLOOD_LIMIT]).await;
    let (sam, _) = app.login("sam").await;
    let send = |method: reqwest::Method, if_match: Option<String>, body: Option<Value>| {
        let mut request = app
            .client
            .request(method, app.url("/v1/kb/entries/warranty"))
            .bearer_auth(&sam);
        if let Some(tag) = if_match {
            request = request.header("If-Match", tag);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        async move {
            let response = request.send().await.expect("request");
            let status = response.status().as_u16();
            let etag = response
                .headers()
                .get("etag")
                .map(|v| v.to_str().unwrap().to_owned());
            let body: Value = response.json().await.unwrap_or(Value::Null);
            (status, etag, body)
        }
    };
    let (status, created) = app
        .post_json("/v1/kb/entries", &sam, warranty("保修十二个月。"))
        .await;
    assert_eq!(status, 201, "{created}");

    // Both read the same version; the ETag header and the etag field agree.
    let (status, tag, read) = send(reqwest::Method::GET, None, None).await;
    assert_eq!(status, 200);
    let tag = tag.expect("an ETag");
    assert_eq!(read["etag"], tag.as_str());
    assert_eq!(
        created["etag"],
        tag.as_str(),
        "the write answered the version"
    );

    // Alice saves what she read, changed (the read-only fields sent back are ignored).
    let mut alice = read.clone();
    alice["answer"]["zh"] = json!("保修十八个月。");
    let (status, alice_tag, saved) =
        send(reqwest::Method::PUT, Some(tag.clone()), Some(alice)).await;
    assert_eq!(status, 200, "{saved}");
    let alice_tag = alice_tag.expect("the new version's ETag");
    assert_ne!(alice_tag, tag);
    assert_eq!(saved["etag"], alice_tag.as_str());

    // Bob saves on the version he read: refused, with the current version named.
    let revision = app.get_json("/v1/kb/entries", &sam).await.1["revision"].clone();
    let mut bob = read.clone();
    bob["answer"]["zh"] = json!("保修六个月。");
    let (status, _, refused) = send(reqwest::Method::PUT, Some(tag.clone()), Some(bob)).await;
    assert_eq!(status, 412, "{refused}");
    assert_eq!(refused["error"]["code"], "precondition_failed");
    assert_eq!(refused["etag"], alice_tag.as_str());
    let (status, _, refused) = send(reqwest::Method::DELETE, Some(tag.clone()), None).await;
    assert_eq!(status, 412, "{refused}");
    let (_, _, now) = send(reqwest::Method::GET, None, None).await;
    assert_eq!(
        now["answer"]["zh"], "保修十八个月。",
        "Alice's change stands"
    );
    assert_eq!(
        app.get_json("/v1/kb/entries", &sam).await.1["revision"],
        revision,
        "refused writes change nothing"
    );

    // A malformed If-Match is an error, not a blind write.
    let (status, _, body) = send(
        reqwest::Method::PUT,
        Some("yesterday".to_owned()),
        Some(warranty("x")),
    )
    .await;
    assert_eq!(status, 422, "{body}");

    // On the current version the delete goes through; then `*` finds nothing to replace, and
    // a PUT with the old version does not bring the entry back.
    let (status, _, body) = send(reqwest::Method::DELETE, Some(alice_tag.clone()), None).await;
    assert_eq!(status, 200, "{body}");
    let (status, _, body) = send(
        reqwest::Method::PUT,
        Some("*".to_owned()),
        Some(warranty("x")),
    )
    .await;
    assert_eq!(status, 412, "{body}");
    let (status, _, _) = send(reqwest::Method::PUT, Some(alice_tag), Some(warranty("x"))).await;
    assert_eq!(status, 412);
    // `*` on DELETE asks the same: there is no entry, so the precondition fails.
    let (status, _, body) = send(reqwest::Method::DELETE, Some("*".to_owned()), None).await;
    assert_eq!(status, 412, "{body}");
    let (status, _, _) = send(reqwest::Method::GET, None, None).await;
    assert_eq!(status, 404);
}
