//! WeChat messages over HTTP: plain and safe mode, passive replies, retries of one `MsgId`,
//! bad input, and outbound messages through a fake Official Account API on 127.0.0.1 that
//! speaks WeChat's JSON (access token, customer-service and template messages).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpRequest, HttpResponse};
use chrono::Utc;
use serde_json::{json, Value};
use switchboard::channels::wechat::{crypto, xml};

use crate::helpers::{spawn_app, TestApp, WAIT};

const TOKEN: &str = "switchboard-demo";
const AES_KEY: &str = "qOsW1HsYIhsdWg1HFCTE2gau6yd1OgFqBsO33ZZkNQq";
const APP_ID: &str = "wx5b1dem0a11ce0001";
pub const ACCOUNT: &str = "gh_switchboard";

/// A plain-mode text message from `openid`.
pub fn text_xml(openid: &str, msg_id: u64, content: &str) -> String {
    format!(
        "<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName><CreateTime>{}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>",
        Utc::now().timestamp()
    )
}

/// POSTs a plain-mode message signed with the demo Token; returns status and body.
pub async fn post_plain(app: &TestApp, body: &str) -> (u16, String) {
    let timestamp = Utc::now().timestamp().to_string();
    // A fresh nonce per request, as WeChat sends: a signed (timestamp, nonce) carries one body.
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    let signature = crypto::signature(TOKEN, &timestamp, &nonce);
    post(
        app,
        &format!("signature={signature}&timestamp={timestamp}&nonce={nonce}"),
        body,
    )
    .await
}

async fn post(app: &TestApp, query: &str, body: &str) -> (u16, String) {
    let response = app
        .client
        .post(app.url(&format!("/v1/channels/wechat?{query}")))
        .header("content-type", "text/xml")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// The `Content` of a passive text reply.
fn content(reply: &str) -> String {
    let message = xml::fields(reply).expect("reply XML");
    assert_eq!(message.get("MsgType"), Some("text"), "{reply}");
    message.get("Content").unwrap_or_default().to_owned()
}

async fn staff(app: &TestApp) -> String {
    app.login("sam").await.0
}

async fn customer_of(app: &TestApp, token: &str, openid: &str) -> Option<String> {
    app.lookup(token, "wechat", openid).await
}

async fn messages(app: &TestApp, token: &str, customer: &str) -> Vec<Value> {
    app.customer_messages(token, customer).await
}

#[actix_web::test]
async fn a_text_message_is_stored_once_and_answered_passively_even_when_retried() {
    let app = spawn_app(&[]).await;
    let body = text_xml("oUser_passive_1", 6_000_000_001, "你好");
    let (status, first) = post_plain(&app, &body).await;
    assert_eq!(status, 200, "{first}");
    let answer = content(&first);
    assert!(!answer.is_empty());
    let reply = xml::fields(&first).unwrap();
    assert_eq!(reply.get("ToUserName"), Some("oUser_passive_1"));
    assert_eq!(reply.get("FromUserName"), Some(ACCOUNT));

    // WeChat retries a message three times when it gets no answer in time: the same reply,
    // nothing stored twice.
    let (status, again) = post_plain(&app, &body).await;
    assert_eq!((status, content(&again)), (200, answer.clone()));

    let token = staff(&app).await;
    let customer = customer_of(&app, &token, "oUser_passive_1")
        .await
        .expect("the openid is an identity");
    let stored = messages(&app, &token, &customer).await;
    let from_customer: Vec<_> = stored.iter().filter(|m| m["from"] == "customer").collect();
    assert_eq!(from_customer.len(), 1, "{stored:#?}");
    assert_eq!(from_customer[0]["text"], "你好");
    assert_eq!(from_customer[0]["channel"], "wechat");
    assert!(stored
        .iter()
        .any(|m| m["from"] == "bot" && m["text"] == answer.as_str()));
    assert!(app
        .metrics()
        .await
        .contains("wechat_replies_total{kind=\"passive\"} 2"));
}

#[actix_web::test]
async fn safe_mode_messages_are_decrypted_and_answered_encrypted() {
    let app = spawn_app(&[]).await;
    let secure = crypto::MessageCrypto::new(TOKEN, AES_KEY, APP_ID).unwrap();
    let encrypt = secure.encrypt(&text_xml("oUser_safe_1", 6_000_000_101, "你好"), &[7; 16]);
    let envelope = format!(
        "<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
    );
    let timestamp = Utc::now().timestamp().to_string();
    let signature = crypto::signature(TOKEN, &timestamp, "77");
    let msg_signature = secure.msg_signature(&timestamp, "77", &encrypt);
    let query = format!("signature={signature}&timestamp={timestamp}&nonce=77&openid=oUser_safe_1&encrypt_type=aes&msg_signature={msg_signature}");
    let (status, reply) = post(&app, &query, &envelope).await;
    assert_eq!(status, 200, "{reply}");
    let fields = xml::fields(&reply).unwrap();
    let (encrypted, signed, at, nonce) = (
        fields.get("Encrypt").unwrap(),
        fields.get("MsgSignature").unwrap(),
        fields.get("TimeStamp").unwrap(),
        fields.get("Nonce").unwrap(),
    );
    assert!(secure.verify_msg_signature(at, nonce, encrypted, signed));
    let inner = secure
        .decrypt(encrypted)
        .expect("decrypts with the account's key");
    assert!(!content(&inner).is_empty());
    assert_eq!(
        xml::fields(&inner).unwrap().get("ToUserName"),
        Some("oUser_safe_1")
    );

    // The same ciphertext under a forged msg_signature is refused.
    let forged = query.replace(&msg_signature, &"0".repeat(40));
    let (status, _) = post(&app, &forged, &envelope).await;
    assert_eq!(status, 403);
}

#[actix_web::test]
async fn unsigned_forged_replayed_malformed_and_oversized_messages_are_refused_and_not_stored() {
    let app = spawn_app(&[("SWITCHBOARD_HTTP__BODY_LIMIT_BYTES", "4096")]).await;
    let body = text_xml("oUser_bad_1", 6_000_000_201, "你好");
    let timestamp = Utc::now().timestamp().to_string();
    let good = crypto::signature(TOKEN, &timestamp, "1");

    let (status, reply) = post(&app, &format!("timestamp={timestamp}&nonce=1"), &body).await;
    assert_eq!(status, 401, "{reply}");
    assert!(reply.contains("\"code\":\"unauthenticated\""));
    let forged = crypto::signature("another-token", &timestamp, "1");
    let (status, _) = post(
        &app,
        &format!("signature={forged}&timestamp={timestamp}&nonce=1"),
        &body,
    )
    .await;
    assert_eq!(status, 403);
    let old = (Utc::now().timestamp() - 3_600).to_string();
    let replay = crypto::signature(TOKEN, &old, "1");
    let (status, _) = post(
        &app,
        &format!("signature={replay}&timestamp={old}&nonce=1"),
        &body,
    )
    .await;
    assert_eq!(status, 403);
    let signed = format!("signature={good}&timestamp={timestamp}&nonce=1");
    for malformed in [
        "not xml at all".to_owned(),
        "<xml><MsgType>text</MsgType>".to_owned(),
        format!("<!DOCTYPE xml [<!ENTITY x \"boom\">]>{body}"),
        body.replace("<Content>", "<Content><Nested/>"),
    ] {
        let (status, reply) = post(&app, &signed, &malformed).await;
        assert_eq!(status, 400, "{malformed}: {reply}");
        assert!(reply.contains("\"code\":\"malformed_body\""), "{reply}");
    }
    let huge = text_xml("oUser_bad_1", 6_000_000_202, &"长".repeat(5_000));
    let (status, reply) = post(&app, &signed, &huge).await;
    assert_eq!(status, 413, "{reply}");
    let token = staff(&app).await;
    assert_eq!(
        customer_of(&app, &token, "oUser_bad_1").await,
        None,
        "nothing stored"
    );

    // A signed query seen once carries its own body only: not another customer's message.
    let (status, reply) = post(&app, &signed, &body).await;
    assert_eq!(status, 200, "{reply}");
    let (status, reply) = post(&app, &signed, &body).await;
    assert_eq!(
        status, 200,
        "WeChat's retry of the same body passes: {reply}"
    );
    let other = text_xml("oUser_bad_2", 6_000_000_203, "查订单");
    let (status, reply) = post(&app, &signed, &other).await;
    assert_eq!(status, 403, "{reply}");

    assert_eq!(
        customer_of(&app, &token, "oUser_bad_2").await,
        None,
        "nothing stored for the replayed signature"
    );
}

#[actix_web::test]
async fn a_thousand_concurrent_copies_of_one_message_are_stored_once_with_one_answer() {
    let app = spawn_app(&[]).await;
    let body = text_xml("oUser_storm_1", 6_000_000_301, "退款");
    let copies = futures_util::future::join_all((0..1_000).map(|_| post_plain(&app, &body))).await;
    let answers: std::collections::BTreeSet<(u16, String)> = copies
        .into_iter()
        .map(|(status, body)| (status, if status == 200 { content(&body) } else { body }))
        .collect();
    assert_eq!(
        answers.len(),
        1,
        "every copy gets the same answer: {answers:?}"
    );
    assert_eq!(answers.iter().next().unwrap().0, 200);
    let token = staff(&app).await;
    let customer = customer_of(&app, &token, "oUser_storm_1").await.unwrap();
    let stored = messages(&app, &token, &customer).await;
    assert_eq!(
        stored.iter().filter(|m| m["from"] == "customer").count(),
        1,
        "stored once"
    );
    assert_eq!(stored.iter().filter(|m| m["from"] == "bot").count(), 1);
}

/// What the fake Official Account API received.
#[derive(Debug, Clone)]
struct ApiCall {
    path: String,
    access_token: String,
    body: Value,
    /// The fake refused the call's access token (40001).
    refused: bool,
}

/// A fake Official Account API: `GET /cgi-bin/token` hands out `TOKEN_1`, `TOKEN_2`, …;
/// the first token is refused once (errcode 40001, as after a token was renewed elsewhere);
/// customer-service messages answer `custom_errcode` (0, or 45015 once the window closed).
struct FakeWechat {
    base_url: String,
    tokens_issued: Arc<Mutex<u32>>,
    calls: Arc<Mutex<Vec<ApiCall>>>,
}

impl FakeWechat {
    async fn start(custom_errcode: i64) -> Self {
        let tokens_issued: Arc<Mutex<u32>> = Arc::default();
        let calls: Arc<Mutex<Vec<ApiCall>>> = Arc::default();
        let state = (Arc::clone(&tokens_issued), Arc::clone(&calls));
        let port = crate::helpers::serve_fake!(move || {
            let (issued, calls) = state.clone();
            App::new()
                .route(
                    "/cgi-bin/token",
                    web::get().to(move |query: web::Query<Vec<(String, String)>>| {
                        let issued = Arc::clone(&issued);
                        async move {
                            let q = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
                            if q("grant_type").as_deref() != Some("client_credential")
                                || q("appid").as_deref() != Some(APP_ID)
                                || q("secret").as_deref() != Some("NlyEw3NYbhvVtvk0Et4R5bIfcguKt8IJ")
                            {
                                return HttpResponse::Ok().json(json!({"errcode": 40013, "errmsg": "invalid appid"}));
                            }
                            let mut n = issued.lock().unwrap();
                            *n += 1;
                            HttpResponse::Ok().json(json!({"access_token": format!("TOKEN_{n}"), "expires_in": 7200}))
                        }
                    }),
                )
                .route(
                    "/cgi-bin/user/info",
                    web::get().to(|query: web::Query<Vec<(String, String)>>| async move {
                        let openid = query
                            .iter()
                            .find(|(k, _)| k == "openid")
                            .map(|(_, v)| v.clone())
                            .unwrap_or_default();
                        HttpResponse::Ok().json(json!({
                            "subscribe": 1,
                            "openid": openid,
                            "language": "zh_CN",
                            "unionid": format!("o6_union_{openid}"),
                        }))
                    }),
                )
                .default_service(web::post().to(move |req: HttpRequest, body: web::Json<Value>| {
                    let calls = Arc::clone(&calls);
                    async move {
                        let token = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
                            .ok()
                            .and_then(|q| q.iter().find(|(k, _)| k == "access_token").map(|(_, v)| v.clone()))
                            .unwrap_or_default();
                        let path = req.path().to_owned();
                        let refused_once = {
                            let calls = calls.lock().unwrap();
                            token == "TOKEN_1" && !calls.iter().any(|c| c.access_token == "TOKEN_1")
                        };
                        let refused = refused_once || !token.starts_with("TOKEN_");
                        calls.lock().unwrap().push(ApiCall {
                            path: path.clone(),
                            access_token: token.clone(),
                            body: body.into_inner(),
                            refused,
                        });
                        if refused {
                            return HttpResponse::Ok().json(json!({"errcode": 40001, "errmsg": "invalid credential, access_token is invalid or not latest"}));
                        }
                        if path == "/cgi-bin/message/custom/send" && custom_errcode != 0 {
                            return HttpResponse::Ok().json(json!({"errcode": custom_errcode, "errmsg": "response out of time limit or subscription is canceled"}));
                        }
                        HttpResponse::Ok().json(json!({"errcode": 0, "errmsg": "ok", "msgid": 200_228_332}))
                    }
                }))
        });
        Self {
            base_url: format!("http://127.0.0.1:{port}"),
            tokens_issued,
            calls,
        }
    }

    fn calls(&self) -> Vec<ApiCall> {
        self.calls.lock().unwrap().clone()
    }

    /// Waits (bounded) for a call to `path` whose body mentions `needle`.
    async fn wait_for(&self, path: &str, needle: &str) -> ApiCall {
        let started = Instant::now();
        loop {
            if let Some(call) = self
                .calls()
                .into_iter()
                .find(|c| c.path == path && !c.refused && c.body.to_string().contains(needle))
            {
                return call;
            }
            assert!(
                started.elapsed() < WAIT * 2,
                "no {path} call with {needle}: {:#?}",
                self.calls()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn api_env(api: &FakeWechat) -> Vec<(&'static str, String)> {
    vec![
        ("SWITCHBOARD_WECHAT__API_BASE_URL", api.base_url.clone()),
        ("SWITCHBOARD_DELIVERY__RETRY_BASE_MS", "100".to_owned()),
        ("SWITCHBOARD_DELIVERY__RETRY_MAX_MS", "400".to_owned()),
    ]
}

async fn spawn_with(env: &[(&'static str, String)]) -> TestApp {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    spawn_app(&env).await
}

#[actix_web::test]
async fn agent_replies_reach_wechat_through_the_customer_service_api_renewing_a_refused_token() {
    let api = FakeWechat::start(0).await;
    let app = spawn_with(&api_env(&api)).await;
    let mut agent = app.available_agent("bob").await;
    let (status, reply) = post_plain(&app, &text_xml("oUser_api_1", 6_000_000_401, "转人工")).await;
    assert_eq!(status, 200);
    // The bot's hand-off notice was the passive reply, so it is not sent again by the API.
    let handoff_notice = content(&reply);
    let offer = agent.next_of_type("offer").await;
    agent
        .send(json!({"type": "accept", "task_id": offer["task_id"]}))
        .await;
    let assigned = agent.next_of_type("assigned").await;
    let conversation = assigned["conversation_id"].clone();
    agent
        .send(json!({"type": "message", "conversation_id": conversation, "text": "您好，我是客服小王，请问有什么可以帮您？"}))
        .await;

    let call = api
        .wait_for("/cgi-bin/message/custom/send", "客服小王")
        .await;
    assert_eq!(call.body["touser"], "oUser_api_1");
    assert_eq!(call.body["msgtype"], "text");
    assert_eq!(
        call.body["text"]["content"],
        "您好，我是客服小王，请问有什么可以帮您？"
    );
    // TOKEN_1 was refused with 40001 (once): a new token was fetched and the call repeated.
    assert_eq!(api.calls().iter().filter(|c| c.refused).count(), 1);
    assert!(*api.tokens_issued.lock().unwrap() >= 2);
    // Let the passive window of the hand-off notice pass: it must not go out a second time.
    tokio::time::sleep(Duration::from_millis(6_000)).await;
    let calls = api.calls();
    let sent = |needle: &str| {
        calls
            .iter()
            .filter(|c| {
                c.path == "/cgi-bin/message/custom/send"
                    && !c.refused
                    && c.body.to_string().contains(needle)
            })
            .count()
    };
    assert_eq!(sent("客服小王"), 1, "sent once: {calls:#?}");
    assert_eq!(
        sent(&handoff_notice),
        0,
        "a passive reply is not sent again: {calls:#?}"
    );
}

#[actix_web::test]
async fn after_the_48_hour_window_answers_become_template_messages() {
    // WeChat answers 45015 to customer-service messages once the window is closed.
    let api = FakeWechat::start(45_015).await;
    let mut env = api_env(&api);
    env.push(("SWITCHBOARD_WECHAT__TEMPLATE_ID", "tmpl_reply_1".to_owned()));
    let app = spawn_with(&env).await;
    let mut agent = app.available_agent("alice").await;
    post_plain(&app, &text_xml("oUser_window_1", 6_000_000_501, "人工")).await;
    let offer = agent.next_of_type("offer").await;
    agent
        .send(json!({"type": "accept", "task_id": offer["task_id"]}))
        .await;
    let assigned = agent.next_of_type("assigned").await;
    agent
        .send(json!({"type": "message", "conversation_id": assigned["conversation_id"], "text": "订单已为您处理完毕"}))
        .await;
    let call = api
        .wait_for("/cgi-bin/message/template/send", "订单已为您处理完毕")
        .await;
    assert_eq!(call.body["touser"], "oUser_window_1");
    assert_eq!(call.body["template_id"], "tmpl_reply_1");
}

#[actix_web::test]
async fn a_new_followers_unionid_links_them_to_the_app_users_wechat_login() {
    use switchboard::signing::app_token::{sign, AppClaims};
    let api = FakeWechat::start(0).await;
    let app = spawn_with(&api_env(&api)).await;
    post_plain(&app, &text_xml("oUser_union_1", 6_000_000_601, "你好")).await;
    let token = staff(&app).await;
    let customer = customer_of(&app, &token, "oUser_union_1").await.unwrap();
    let started = Instant::now();
    loop {
        let (status, found) = app
            .get_json(
                "/v1/customers/lookup?channel=wechat&external_id=union:o6_union_oUser_union_1",
                &token,
            )
            .await;
        if status == 200 {
            assert_eq!(found["customer_id"], customer.as_str());
            break;
        }
        assert!(started.elapsed() < WAIT, "the UnionID was never linked");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The app backend's WeChat login vouches for the same UnionID: the same customer.
    let user = sign(
        b"switchboard-demo-app-jwt-secret-2026",
        &AppClaims {
            sub: "u-union-1".to_owned(),
            phone: None,
            exp: Utc::now().timestamp() + 3_600,
            nbf: None,
            iat: None,
            name: None,
            wechat_openid: None,
            wechat_unionid: Some("o6_union_oUser_union_1".to_owned()),
        },
    );
    let current = app.current(&user).await;
    assert_eq!(current["customer_id"], customer.as_str());
}

/// Notes, whispers and the barge stay apart: a WeChat follower's customer-service API calls
/// carry the agent's and the barging supervisor's replies, never a note or a whisper.
#[actix_web::test]
async fn notes_and_whispers_never_reach_a_wechat_follower() {
    let api = FakeWechat::start(0).await;
    let app = spawn_with(&api_env(&api)).await;
    let mut agent = app.available_agent("bob").await;
    let (status, _) = post_plain(&app, &text_xml("oUser_note_1", 6_000_000_501, "转人工")).await;
    assert_eq!(status, 200);
    let offer = agent.next_of_type("offer").await;
    agent
        .send(json!({"type": "accept", "task_id": offer["task_id"]}))
        .await;
    let conversation = agent.next_of_type("assigned").await["conversation_id"].clone();
    agent
        .send(
            json!({"type": "note", "conversation_id": conversation, "text": "内部备注 note-wx-1"}),
        )
        .await;
    agent.message_containing("note-wx-1").await;
    let (sam, _) = app.login("sam").await;
    let mut supervisor = crate::helpers::Ws::connect(&app.ws_url("/v1/ws/agent", &sam)).await;
    supervisor.next_of_type("hello").await;
    supervisor
        .send(json!({"type": "whisper", "conversation_id": conversation, "text": "whisper-wx-1"}))
        .await;
    agent.message_containing("whisper-wx-1").await;
    supervisor
        .send(json!({"type": "barge", "conversation_id": conversation}))
        .await;
    supervisor.next_of_type("barged").await;
    supervisor
        .send(json!({"type": "message", "conversation_id": conversation, "text": "主管回复 barge-wx-1"}))
        .await;
    agent
        .send(json!({"type": "message", "conversation_id": conversation, "text": "客服回复 reply-wx-1"}))
        .await;

    api.wait_for("/cgi-bin/message/custom/send", "barge-wx-1")
        .await;
    api.wait_for("/cgi-bin/message/custom/send", "reply-wx-1")
        .await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let leaked: Vec<String> = api
        .calls()
        .iter()
        .map(|c| c.body.to_string())
        .filter(|b| b.contains("note-wx-1") || b.contains("whisper-wx-1"))
        .collect();
    assert!(leaked.is_empty(), "{leaked:?}");
}
