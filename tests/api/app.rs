//! The app channel over HTTP: app tokens (HS256 JWTs of the app backend) on the customer API,
//! "one ID" links from the token's verified claims (continuing a WeChat conversation in the
//! app), and push notifications to a fake app backend on 127.0.0.1 while the app is offline.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpRequest, HttpResponse};
use chrono::Utc;
use serde_json::{json, Value};
use switchboard::signing::app_token::{sign, AppClaims};
use switchboard::signing::webhooks;

use crate::helpers::{spawn_app, TestApp, Ws, WAIT};
use crate::wechat_messages::{post_plain, text_xml};

const SECRET: &[u8] = b"switchboard-demo-app-jwt-secret-2026";
const PUSH_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn claims(sub: &str) -> AppClaims {
    AppClaims {
        sub: sub.to_owned(),
        phone: None,
        exp: Utc::now().timestamp() + 3_600,
        nbf: None,
        iat: Some(Utc::now().timestamp()),
        name: None,
        wechat_openid: None,
        wechat_unionid: None,
    }
}

fn token(claims: &AppClaims) -> String {
    sign(SECRET, claims)
}

async fn lookup(app: &TestApp, staff: &str, channel: &str, id: &str) -> Option<String> {
    app.lookup(staff, channel, id).await
}

#[actix_web::test]
async fn app_users_write_with_their_app_token_and_forged_or_expired_tokens_are_refused() {
    let app = spawn_app(&[]).await;
    let user = token(&claims("u-1001"));
    let response = app.post_message(&user, "你好", "c-1").await;
    assert_eq!(response.status(), 202);
    let first: Value = response.json().await.unwrap();
    // The same client id again: the first answer, nothing new.
    let again: Value = app
        .post_message(&user, "你好", "c-1")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first, again);
    let current = app.current(&user).await;
    let messages = current["messages"].as_array().unwrap();
    assert_eq!(
        messages.iter().filter(|m| m["from"] == "customer").count(),
        1
    );
    assert!(
        messages.iter().all(|m| m["channel"] == "app"),
        "{current:#}"
    );

    let staff = app.login("sam").await.0;
    assert!(lookup(&app, &staff, "app", "u-1001").await.is_some());

    let forged = sign(b"another-secret-of-32-bytes-or-more!!", &claims("u-1001"));
    let expired = token(&AppClaims {
        exp: Utc::now().timestamp() - 600,
        ..claims("u-1001")
    });
    let unsigned = {
        let good = token(&claims("u-1001"));
        let mut parts: Vec<&str> = good.split('.').collect();
        parts[2] = "";
        parts.join(".")
    };
    for bad in [forged, expired, unsigned] {
        let response = app.post_message(&bad, "hi", "c-2").await;
        assert_eq!(response.status(), 401);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unauthenticated");
    }
}

#[actix_web::test]
async fn a_verified_phone_links_app_users_to_the_same_customer() {
    let app = spawn_app(&[]).await;
    let staff = app.login("sam").await.0;
    let phone = "+8613912345678";
    let first = token(&AppClaims {
        phone: Some(phone.to_owned()),
        ..claims("u-2001")
    });
    app.post_message(&first, "我的订单到哪了", "c-1").await;
    let customer = lookup(&app, &staff, "app", "u-2001").await.unwrap();
    assert_eq!(
        lookup(&app, &staff, "sms", phone).await.as_deref(),
        Some(customer.as_str())
    );
    assert_eq!(
        lookup(&app, &staff, "ivr", phone).await.as_deref(),
        Some(customer.as_str())
    );
    // A second app account with the same verified number is the same person.
    let second = token(&AppClaims {
        phone: Some(phone.to_owned()),
        ..claims("u-2002")
    });
    app.post_message(&second, "还在吗", "c-1").await;
    assert_eq!(
        lookup(&app, &staff, "app", "u-2002").await.as_deref(),
        Some(customer.as_str())
    );
    // Without a verified fact nothing is linked.
    let stranger = token(&claims("u-2003"));
    app.post_message(&stranger, "hello", "c-1").await;
    assert_ne!(
        lookup(&app, &staff, "app", "u-2003").await.as_deref(),
        Some(customer.as_str())
    );
}

#[actix_web::test]
async fn a_wechat_conversation_continues_in_the_app_with_the_whole_history() {
    let app = spawn_app(&[]).await;
    let (status, _) = post_plain(
        &app,
        &text_xml("oUser_continue_1", 7_000_000_001, "我想查一下退款进度"),
    )
    .await;
    assert_eq!(status, 200);
    let user = token(&AppClaims {
        wechat_openid: Some("oUser_continue_1".to_owned()),
        wechat_unionid: None,
        ..claims("u-3001")
    });
    let mut ws = Ws::connect(&app.ws_url("/v1/ws/customer", &user)).await;
    let accepted: Value = app
        .post_message(&user, "我换到App上继续问", "c-1")
        .await
        .json()
        .await
        .unwrap();
    let current = app.current(&user).await;
    assert_eq!(
        current["id"], accepted["conversation_id"],
        "one conversation across channels"
    );
    let channels: Vec<&str> = current["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["from"] == "customer")
        .map(|m| m["channel"].as_str().unwrap())
        .collect();
    assert_eq!(channels, ["wechat", "app"]);
    // The app's socket sees its own message echoed; the bot answers in the app.
    let echo = ws.message_containing("我换到App上继续问").await;
    assert_eq!(
        (echo["from"].as_str(), echo["channel"].as_str()),
        (Some("customer"), Some("app"))
    );
    let answer = ws
        .find_within(WAIT, |f| f["type"] == "message" && f["from"] == "bot")
        .await;
    assert_eq!(
        answer.expect("bot answer")["channel"],
        "app",
        "answers go to the channel used last"
    );
}

/// One push: webhook-id, webhook-timestamp, webhook-signature, body.
type Push = (String, String, String, Vec<u8>);

/// A fake app backend receiving push notifications.
struct PushReceiver {
    url: String,
    pushes: Arc<Mutex<Vec<Push>>>,
}

impl PushReceiver {
    async fn start() -> Self {
        let pushes: Arc<Mutex<Vec<Push>>> = Arc::default();
        let log = Arc::clone(&pushes);
        let port = crate::helpers::serve_fake!(move || {
            let log = Arc::clone(&log);
            App::new().route(
                "/push",
                web::post().to(move |req: HttpRequest, body: web::Bytes| {
                    let log = Arc::clone(&log);
                    async move {
                        let h = |n: &str| {
                            req.headers()
                                .get(n)
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or_default()
                                .to_owned()
                        };
                        log.lock().unwrap().push((
                            h("webhook-id"),
                            h("webhook-timestamp"),
                            h("webhook-signature"),
                            body.to_vec(),
                        ));
                        HttpResponse::NoContent().finish()
                    }
                }),
            )
        });
        Self {
            url: format!("http://127.0.0.1:{port}/push"),
            pushes,
        }
    }

    fn bodies(&self) -> Vec<Value> {
        self.pushes
            .lock()
            .unwrap()
            .iter()
            .map(|(_, _, _, b)| serde_json::from_slice(b).unwrap())
            .collect()
    }
}

#[actix_web::test]
async fn offline_app_users_get_signed_push_notifications_and_connected_ones_do_not() {
    let receiver = PushReceiver::start().await;
    let app = spawn_app(&[
        ("SWITCHBOARD_APP__PUSH_URL", receiver.url.as_str()),
        ("SWITCHBOARD_APP__PUSH_SECRET", PUSH_SECRET),
    ])
    .await;
    // Offline (REST only): the bot's answer is pushed, signed as Standard Webhooks.
    let offline = token(&claims("u-4001"));
    app.post_message(&offline, "你好", "c-1").await;
    let started = Instant::now();
    while receiver.bodies().is_empty() {
        assert!(started.elapsed() < WAIT, "no push arrived");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (id, timestamp, signature, body) = receiver.pushes.lock().unwrap()[0].clone();
    let key = webhooks::secret_key(PUSH_SECRET).unwrap();
    webhooks::verify(
        &key,
        &id,
        &timestamp,
        &signature,
        &body,
        Utc::now().timestamp(),
        300,
    )
    .expect("a valid Standard Webhooks signature");
    let push: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(push["type"], "message.push");
    assert_eq!(push["app_user_id"], "u-4001");
    assert_eq!(push["message"]["from"], "bot");

    // Connected: the answer arrives over the socket and no push is sent.
    let online = token(&claims("u-4002"));
    let mut ws = Ws::connect(&app.ws_url("/v1/ws/customer", &online)).await;
    ws.send(json!({"type": "message", "text": "你好", "client_id": "c-1"}))
        .await;
    assert!(ws.find_within(WAIT, |f| f["from"] == "bot").await.is_some());
    tokio::time::sleep(Duration::from_millis(3_500)).await;
    assert!(
        receiver
            .bodies()
            .iter()
            .all(|p| p["app_user_id"] != "u-4002"),
        "{:#?}",
        receiver.bodies()
    );
}
