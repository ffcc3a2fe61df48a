//! The WeChat Official Account channel over HTTP (issue 6, in progress): URL verification.

use chrono::Utc;
use switchboard::channels::wechat::crypto;

use crate::helpers::spawn_app;

/// The demo Token of API.md.
const TOKEN: &str = "switchboard-demo";

async fn get(app: &crate::helpers::TestApp, query: &str) -> (u16, String) {
    let response = app
        .client
        .get(app.url(&format!("/v1/channels/wechat?{query}")))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[actix_web::test]
async fn url_verification_answers_the_echostr_only_when_signed_with_the_token() {
    let app = spawn_app(&[]).await;
    let timestamp = Utc::now().timestamp().to_string();
    let signature = crypto::signature(TOKEN, &timestamp, "1372623149");
    let (status, body) = get(
        &app,
        &format!("signature={signature}&timestamp={timestamp}&nonce=1372623149&echostr=5838479218127813673"),
    )
    .await;
    assert_eq!((status, body.as_str()), (200, "5838479218127813673"));

    // Another token's signature, a tampered nonce, a replayed timestamp, missing fields.
    let forged = crypto::signature("not-the-token", &timestamp, "1372623149");
    let (status, body) = get(
        &app,
        &format!("signature={forged}&timestamp={timestamp}&nonce=1372623149&echostr=x"),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("\"code\":\"forbidden\""), "{body}");
    let (status, _) = get(
        &app,
        &format!("signature={signature}&timestamp={timestamp}&nonce=1&echostr=x"),
    )
    .await;
    assert_eq!(status, 403);
    let old = (Utc::now().timestamp() - 3_600).to_string();
    let replayed = crypto::signature(TOKEN, &old, "1372623149");
    let (status, _) = get(
        &app,
        &format!("signature={replayed}&timestamp={old}&nonce=1372623149&echostr=x"),
    )
    .await;
    assert_eq!(status, 403, "an hour-old signed request is a replay");
    let (status, body) = get(&app, "signature=abc").await;
    assert!(
        (400..500).contains(&status) && body.contains("\"error\""),
        "{status} {body}"
    );
}

#[actix_web::test]
async fn without_a_token_the_channel_is_off() {
    let app = spawn_app(&[("SWITCHBOARD_WECHAT__TOKEN", "")]).await;
    let (status, body) = get(&app, "signature=a&timestamp=1&nonce=2&echostr=3").await;
    assert_eq!(status, 503, "{body}");
}
