//! "One ID": an agent's explicit merge of two customers (audited, reversible), and what it
//! changes for the customer's next message.

use chrono::Utc;
use serde_json::{json, Value};
use switchboard::signing::app_token::{sign, AppClaims};

use crate::helpers::spawn_app;
use crate::wechat_messages::{post_plain, text_xml};

fn app_claims(sub: &str) -> AppClaims {
    AppClaims {
        sub: sub.to_owned(),
        phone: None,
        exp: Utc::now().timestamp() + 3_600,
        nbf: None,
        iat: None,
        name: Some("林小姐".to_owned()),
        wechat_openid: None,
        wechat_unionid: None,
    }
}

fn app_token(sub: &str) -> String {
    sign(b"switchboard-demo-app-jwt-secret-2026", &app_claims(sub))
}

#[actix_web::test]
async fn staff_merge_two_customers_and_can_undo_it() {
    let app = spawn_app(&[]).await;
    // A supervisor here: an agent merges into a customer they serve (see supervision.rs).
    let (agent, _) = app.login("sam").await;
    // The same person, unknown to us as such: a WeChat follower and an app user.
    post_plain(
        &app,
        &text_xml("oUser_merge_1", 8_000_000_001, "我的退款还没到账"),
    )
    .await;
    let (_, found) = app
        .get_json(
            "/v1/customers/lookup?channel=wechat&external_id=oUser_merge_1",
            &agent,
        )
        .await;
    let wechat_customer = found["customer_id"].as_str().unwrap().to_owned();
    let user = app_token("u-merge-1");
    let response = app
        .client
        .get(app.url("/v1/conversations/current"))
        .bearer_auth(&user)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404, "no conversation in the app yet");
    let (_, found) = app
        .get_json(
            "/v1/customers/lookup?channel=app&external_id=u-merge-1",
            &agent,
        )
        .await;
    let app_customer = found["customer_id"].as_str().unwrap().to_owned();
    assert_ne!(app_customer, wechat_customer, "never linked by a guess");

    // Refusals: customers cannot merge; a customer into itself; unknown customers.
    let path = format!("/v1/customers/{app_customer}/merge");
    let (status, _) = app
        .post_json(&path, &user, json!({"from_customer_id": wechat_customer}))
        .await;
    assert_eq!(status, 403);
    let (status, body) = app
        .post_json(&path, &agent, json!({"from_customer_id": app_customer}))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("conflict"))
    );
    let (status, _) = app
        .post_json(&path, &agent, json!({"from_customer_id": "cus_nobody"}))
        .await;
    assert_eq!(status, 404);

    let (status, merge) = app
        .post_json(&path, &agent, json!({"from_customer_id": wechat_customer}))
        .await;
    assert_eq!(status, 201, "{merge}");
    assert_eq!(merge["moved"]["identities"][0]["channel"], "wechat");
    let (_, found) = app
        .get_json(
            "/v1/customers/lookup?channel=wechat&external_id=oUser_merge_1",
            &agent,
        )
        .await;
    assert_eq!(found["customer_id"], app_customer.as_str());
    // The app user continues the WeChat conversation.
    let accepted: Value = app
        .post_message(&user, "我在App上继续", "c-1")
        .await
        .json()
        .await
        .unwrap();
    let (_, history) = app
        .get_json(&format!("/v1/customers/{app_customer}/messages"), &agent)
        .await;
    let history = history.as_array().unwrap().clone();
    let customer_lines: Vec<(&str, &str)> = history
        .iter()
        .filter(|m| m["from"] == "customer")
        .map(|m| (m["channel"].as_str().unwrap(), m["text"].as_str().unwrap()))
        .collect();
    assert_eq!(
        customer_lines,
        [("wechat", "我的退款还没到账"), ("app", "我在App上继续")]
    );
    assert!(history
        .iter()
        .all(|m| m["conversation_id"] == accepted["conversation_id"]));

    // The same request again: nothing left to move, refused, nothing changes.
    let (status, again) = app
        .post_json(&path, &agent, json!({"from_customer_id": wechat_customer}))
        .await;
    assert_eq!(
        (status, again["error"]["code"].as_str()),
        (409, Some("conflict")),
        "{again}"
    );
    // Malformed, invalid, oversized and unauthenticated requests: typed errors.
    let url = app.url(&path);
    let send = |body: String, token: Option<&str>| {
        let mut request = app
            .client
            .post(&url)
            .header("content-type", "application/json")
            .body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap();
            (
                status,
                body["error"]["code"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        }
    };
    assert_eq!(
        send("{not json".into(), Some(&agent)).await,
        (400, "malformed_json".to_owned())
    );
    assert_eq!(send("{}".into(), Some(&agent)).await.0, 422);
    let huge = format!("{{\"from_customer_id\": \"{}\"}}", "x".repeat(2_000_000));
    assert_eq!(send(huge, Some(&agent)).await.0, 413);
    assert_eq!(
        send(
            json!({"from_customer_id": wechat_customer}).to_string(),
            None
        )
        .await,
        (401, "unauthenticated".to_owned())
    );
    let (_, found) = app
        .get_json(
            "/v1/customers/lookup?channel=wechat&external_id=oUser_merge_1",
            &agent,
        )
        .await;
    assert_eq!(
        found["customer_id"],
        app_customer.as_str(),
        "refusals changed nothing"
    );

    // Undo: the WeChat identity and its history go back; a second undo is a conflict.
    let merge_id = merge["merge_id"].as_str().unwrap();
    let undo = format!("/v1/customers/merges/{merge_id}/undo");
    let (status, undone) = app.post_json(&undo, &agent, json!({})).await;
    assert_eq!(status, 200, "{undone}");
    assert!(undone["undone_at"].is_string());
    let (_, found) = app
        .get_json(
            "/v1/customers/lookup?channel=wechat&external_id=oUser_merge_1",
            &agent,
        )
        .await;
    assert_eq!(found["customer_id"], wechat_customer.as_str());
    let (_, back) = app
        .get_json(&format!("/v1/customers/{wechat_customer}/messages"), &agent)
        .await;
    assert!(back
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["text"] == "我的退款还没到账"));
    // The app user's session forgets the conversation that went back: the next message opens
    // the app customer's own conversation instead of writing into the WeChat customer's.
    let after: Value = app
        .post_message(&user, "还在吗", "c-2")
        .await
        .json()
        .await
        .unwrap();
    assert_ne!(after["conversation_id"], accepted["conversation_id"]);
    let (_, theirs) = app
        .get_json(&format!("/v1/customers/{wechat_customer}/messages"), &agent)
        .await;
    assert!(!theirs
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["text"] == "还在吗"));
    let (status, _) = app.post_json(&undo, &agent, json!({})).await;
    assert_eq!(status, 409);
    let (status, _) = app
        .post_json("/v1/customers/merges/mrg_unknown/undo", &agent, json!({}))
        .await;
    assert_eq!(status, 404);
}

/// The acceptance path of "one ID": a customer asks on WeChat, continues in the app (whose
/// token vouches for their phone and openid), then calls; asking for an agent on the phone
/// transfers the call, and the agent who takes the voice task sees the whole history, each
/// line with its channel, and the offer already carries the call transcript.
#[actix_web::test]
async fn wechat_then_app_then_a_call_reach_one_agent_with_the_whole_history() {
    use crate::ivr::{event, started, transcript};
    let app = spawn_app(&[]).await;
    let mut agent = app.available_agent("bob").await;
    post_plain(
        &app,
        &text_xml("oUser_journey_1", 9_000_000_001, "我的订单怎么还没发货"),
    )
    .await;
    let user = sign(
        b"switchboard-demo-app-jwt-secret-2026",
        &AppClaims {
            sub: "u-journey-1".to_owned(),
            phone: Some("+8613800138000".to_owned()),
            exp: Utc::now().timestamp() + 3_600,
            nbf: None,
            iat: None,
            name: None,
            wechat_openid: Some("oUser_journey_1".to_owned()),
            wechat_unionid: None,
        },
    );
    let in_app: Value = app
        .post_message(&user, "订单号是 A10086", "c-1")
        .await
        .json()
        .await
        .unwrap();
    event(&app, "msg_call_1", started("call-journey-1")).await;
    event(
        &app,
        "msg_call_2",
        transcript("call-journey-1", "我还是想找人工处理", 0.93),
    )
    .await;
    let answer = event(
        &app,
        "msg_call_3",
        transcript("call-journey-1", "转人工", 0.95),
    )
    .await;
    let kinds: Vec<&str> = answer["instructions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["type"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"transfer"), "{answer:#}");

    let offer = agent.next_of_type("offer").await;
    assert_eq!(
        offer["conversation_id"], in_app["conversation_id"],
        "one conversation"
    );
    let summary = offer["summary"].as_str().unwrap();
    assert!(
        summary.contains("我还是想找人工处理"),
        "the offer carries the transcript: {summary}"
    );
    agent
        .send(json!({"type": "accept", "task_id": offer["task_id"]}))
        .await;
    let assigned = agent.next_of_type("assigned").await;
    let lines: Vec<(String, String)> = assigned["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["from"] == "customer")
        .map(|m| {
            (
                m["channel"].as_str().unwrap().to_owned(),
                m["text"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected = [
        ("wechat", "我的订单怎么还没发货"),
        ("app", "订单号是 A10086"),
        ("ivr", "我还是想找人工处理"),
        ("ivr", "转人工"),
    ];
    assert_eq!(
        lines,
        expected.map(|(c, t)| (c.to_owned(), t.to_owned())),
        "{assigned:#}"
    );
}

#[actix_web::test]
async fn a_caller_who_hangs_up_while_waiting_leaves_the_queue() {
    use crate::ivr::{event, started, transcript};
    let app = spawn_app(&[]).await;
    event(&app, "msg_hang_1", started("call-hang-1")).await;
    event(
        &app,
        "msg_hang_2",
        transcript("call-hang-1", "转人工", 0.95),
    )
    .await;
    let (staff, _) = app.login("sam").await;
    let waiting = |queues: &Value| {
        queues["queues"]
            .as_array()
            .map(|qs| {
                qs.iter()
                    .map(|q| q["waiting"].as_u64().unwrap_or(0))
                    .sum::<u64>()
            })
            .unwrap_or(0)
    };
    let started_at = std::time::Instant::now();
    loop {
        let (_, queues) = app.get_json("/v1/queues", &staff).await;
        if waiting(&queues) == 1 {
            break;
        }
        assert!(
            started_at.elapsed() < crate::helpers::WAIT,
            "the call never queued: {queues:#}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    event(
        &app,
        "msg_hang_3",
        json!({"type": "call.ended", "call_id": "call-hang-1", "from": "+8613800138000"}),
    )
    .await;
    let started_at = std::time::Instant::now();
    loop {
        let (_, queues) = app.get_json("/v1/queues", &staff).await;
        if waiting(&queues) == 0 {
            let abandoned: u64 = queues["queues"]
                .as_array()
                .unwrap()
                .iter()
                .map(|q| q["abandoned"].as_u64().unwrap_or(0))
                .sum();
            assert_eq!(abandoned, 1, "{queues:#}");
            break;
        }
        assert!(
            started_at.elapsed() < crate::helpers::WAIT,
            "the call stayed queued: {queues:#}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[actix_web::test]
async fn a_configured_reply_channel_wins_when_it_reaches_the_customer() {
    let app = spawn_app(&[("SWITCHBOARD_IDENTITY__REPLY_CHANNEL", "app")]).await;
    // Only on WeChat: answers go back to WeChat (the app does not reach them).
    post_plain(&app, &text_xml("oUser_reply_1", 9_100_000_001, "你好")).await;
    let (staff, _) = app.login("sam").await;
    let (_, found) = app
        .get_json(
            "/v1/customers/lookup?channel=wechat&external_id=oUser_reply_1",
            &staff,
        )
        .await;
    let customer = found["customer_id"].as_str().unwrap().to_owned();
    let user = sign(
        b"switchboard-demo-app-jwt-secret-2026",
        &AppClaims {
            sub: "u-reply-1".to_owned(),
            phone: None,
            exp: Utc::now().timestamp() + 3_600,
            nbf: None,
            iat: None,
            name: None,
            wechat_openid: Some("oUser_reply_1".to_owned()),
            wechat_unionid: None,
        },
    );
    app.current(&user).await;
    // Now linked to an app user: the answer to the next WeChat message goes to the app.
    post_plain(&app, &text_xml("oUser_reply_1", 9_100_000_002, "还在吗")).await;
    let (_, history) = app
        .get_json(&format!("/v1/customers/{customer}/messages"), &staff)
        .await;
    let bots: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["from"] == "bot")
        .map(|m| m["channel"].as_str().unwrap())
        .collect();
    assert_eq!(bots, ["wechat", "app"], "{history:#}");
}

#[actix_web::test]
async fn a_customer_who_calls_while_an_agent_owns_their_chat_is_put_through_to_that_agent() {
    use crate::ivr::{event, started, transcript};
    let app = spawn_app(&[]).await;
    let mut agent = app.available_agent("alice").await;
    // The customer's app (verified phone) asked for a human; alice took it.
    let user = sign(
        b"switchboard-demo-app-jwt-secret-2026",
        &AppClaims {
            sub: "u-owner-1".to_owned(),
            phone: Some("+8613800138000".to_owned()),
            exp: Utc::now().timestamp() + 3_600,
            nbf: None,
            iat: None,
            name: None,
            wechat_openid: None,
            wechat_unionid: None,
        },
    );
    app.post_message(&user, "转人工", "c-1").await;
    let offer = agent.next_of_type("offer").await;
    agent
        .send(json!({"type": "accept", "task_id": offer["task_id"]}))
        .await;
    agent.next_of_type("assigned").await;
    // Then they call: what they say reaches alice, and the call is put through to her.
    event(&app, "msg_owner_1", started("call-owner-1")).await;
    let answer = event(
        &app,
        "msg_owner_2",
        transcript("call-owner-1", "我刚才在App上说的那个问题", 0.9),
    )
    .await;
    let transfer = answer["instructions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["type"] == "transfer")
        .cloned()
        .unwrap_or_else(|| panic!("a transfer: {answer:#}"));
    let (_, me) = app.login("alice").await;
    assert_eq!(transfer["target"]["agent_id"], me.as_str(), "{transfer:#}");
    assert!(transfer["target"].get("queue").is_none());
    let spoken = agent.message_containing("我刚才在App上说的那个问题").await;
    assert_eq!(spoken["channel"], "ivr");
}

#[actix_web::test]
async fn an_app_users_verified_unionid_finds_them_when_they_follow_the_official_account() {
    let app = spawn_app(&[]).await;
    let (agent, _) = app.login("alice").await;
    let token = sign(
        b"switchboard-demo-app-jwt-secret-2026",
        &AppClaims {
            wechat_unionid: Some("UNION_abc_1".to_owned()),
            ..app_claims("u-union-1")
        },
    );
    let response = app
        .client
        .get(app.url("/v1/conversations/current"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404, "no conversation yet");
    let (_, by_app) = app
        .get_json(
            "/v1/customers/lookup?channel=app&external_id=u-union-1",
            &agent,
        )
        .await;
    let (status, by_union) = app
        .get_json(
            "/v1/customers/lookup?channel=wechat&external_id=union:UNION_abc_1",
            &agent,
        )
        .await;
    assert_eq!(status, 200, "{by_union}");
    assert_eq!(by_union["customer_id"], by_app["customer_id"]);
}
