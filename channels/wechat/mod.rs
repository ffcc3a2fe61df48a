//! WeChat Official Account channel.
//!
//! - [`crypto`]: the message security WeChat documents (URL-verification and message
//!   signatures, safe-mode AES-256-CBC), tested against WeChat's published samples;
//! - [`xml`]: inbound messages and events, the safe-mode envelope and passive replies, with a
//!   parser that refuses DTDs and entities;
//! - [`api`]: outbound messages (access token, customer-service and template messages, the
//!   48-hour window) through the outbox.
//!
//! Endpoints:
//! - `GET /v1/channels/wechat`: URL verification (`signature`, `timestamp`, `nonce`,
//!   `echostr`), with a timestamp tolerance against replays.
//! - `POST /v1/channels/wechat`: messages and events, plain mode (`signature`) or safe mode
//!   (`encrypt_type=aes`, `msg_signature`). The message is stored first (deduplicated by
//!   `MsgId`: WeChat retries three times); when the bot's answer is ready within
//!   `wechat.passive_reply_ms` it is the passive reply, else the answer is `success` and the
//!   answer goes out through the customer-service message API when its outbox row falls due.

pub mod api;
pub mod crypto;
pub mod xml;

use std::time::Instant;

use actix_web::{get, post, web, HttpResponse};
use chrono::Utc;
use secrecy::ExposeSecret;
use serde::Deserialize;

use crate::channels::state::AppState;
use crate::domain::Channel;
use crate::error::{ApiError, ErrorKind};
use crate::store::OutboxStatus;

use super::provider;

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(verify_url).service(receive);
}

/// WeChat's URL verification (服务器配置 → 验证): `signature` signs `timestamp` and `nonce`
/// with the Token.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct Verification {
    signature: String,
    /// Unix seconds
    timestamp: String,
    nonce: String,
    echostr: String,
}

/// The configured Token, once the request's timestamp is within the tolerance: 503 while the
/// channel is not configured, 403 for a stale timestamp (a replay, or a clock far off).
fn checked_token<'a>(state: &'a AppState, timestamp: &str) -> Result<&'a str, ApiError> {
    let settings = &state.settings.wechat;
    let token = settings.token.expose_secret();
    if token.is_empty() {
        return Err(ApiError::new(
            ErrorKind::NotReady,
            "The WeChat channel is not configured on this server.",
        ));
    }
    if !fresh(
        timestamp,
        Utc::now().timestamp(),
        settings.timestamp_tolerance_secs,
    ) {
        return Err(ApiError::forbidden(
            "The timestamp is too far from now (a replay, or a clock far off).",
        ));
    }
    Ok(token)
}

/// True when a signed request's timestamp (Unix seconds) is within the tolerance of `now`.
fn fresh(timestamp: &str, now: i64, tolerance_secs: i64) -> bool {
    timestamp
        .trim()
        .parse::<i64>()
        .is_ok_and(|at| now.abs_diff(at) <= tolerance_secs.unsigned_abs())
}

/// `GET /v1/channels/wechat`: answers the `echostr` when the signature is the Token's, so
/// WeChat accepts this server; 403 otherwise (nothing is stored either way).
#[utoipa::path(
    tag = "wechat",
    operation_id = "wechatVerify",
    summary = "WeChat URL verification: the echostr when signature = sha1(sorted(Token, timestamp, nonce))",
    security(),
    params(Verification),
    responses(
        (status = 200, description = "The echostr", body = String, content_type = "text/plain"),
        (status = 403, description = "`forbidden`: signature mismatch, or a timestamp more than wechat.timestamp_tolerance_secs from now", body = crate::channels::openapi::errors::ForbiddenError),
        (status = 422, response = crate::channels::openapi::errors::InvalidQuery),
        (status = 503, description = "`not_ready`: no wechat.token configured", body = crate::channels::openapi::errors::NotReadyError),
    ),
)]
#[get("/v1/channels/wechat")]
async fn verify_url(
    state: web::Data<AppState>,
    query: web::Query<Verification>,
) -> Result<HttpResponse, ApiError> {
    let token = checked_token(&state, &query.timestamp)?;
    if !crypto::verify_signature(token, &query.timestamp, &query.nonce, &query.signature) {
        return Err(ApiError::forbidden("The WeChat signature does not match."));
    }
    Ok(HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body(query.into_inner().echostr))
}

/// The query of a message POST: plain mode signs `timestamp`+`nonce` (`signature`); safe mode
/// adds `encrypt_type=aes` and signs the ciphertext too (`msg_signature`).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct Signed {
    /// Plain mode: sha1(sorted(Token, timestamp, nonce))
    #[param(nullable = false)]
    signature: Option<String>,
    /// Unix seconds, within wechat.timestamp_tolerance_secs
    timestamp: String,
    nonce: String,
    /// When given, must equal FromUserName
    #[serde(default)]
    #[param(nullable = false)]
    openid: Option<String>,
    /// Safe mode
    #[serde(default)]
    #[param(nullable = false, schema_with = crate::channels::openapi::bodies::aes)]
    encrypt_type: Option<String>,
    /// Safe mode: sha1(sorted(Token, timestamp, nonce, Encrypt))
    #[serde(default)]
    #[param(nullable = false)]
    msg_signature: Option<String>,
}

/// What WeChat accepts as "received, nothing to reply".
const SUCCESS: &str = "success";

/// The greeting for a new follower.
const WELCOME: &str = "您好，欢迎关注！直接发送您的问题即可咨询，回复“人工”转接人工客服。\nHello and welcome! Send us your question here; reply “human” to talk to an agent.";

/// The webhook receipts that bind a signed (timestamp, nonce) to its body.
const NONCE_RECEIPTS: &str = "wechat-nonce";

/// `POST /v1/channels/wechat`: a message or event from WeChat.
#[utoipa::path(
    tag = "wechat",
    operation_id = "wechatReceive",
    summary = "WeChat messages and events (XML; the Content-Type is not checked), plain mode (signature) or safe mode (encrypt_type=aes, msg_signature); deduplicated by MsgId; answered with a passive reply or success",
    security(),
    params(Signed),
    request_body(content(
        (crate::channels::openapi::bodies::WechatMessage = "text/xml"),
        (crate::channels::openapi::bodies::WechatMessage = "application/xml"),
    )),
    responses(
        (status = 200, description = "A passive text reply (the bot's first answer, or the welcome on subscribe; encrypted in safe mode), or success", content(
            (inline(crate::channels::openapi::bodies::WechatReply) = "application/xml"),
            (inline(crate::channels::openapi::bodies::WechatSuccess) = "text/plain"),
        )),
        (status = 400, description = "`malformed_body`: not UTF-8, not WeChat XML (or a required field missing), not decryptable", body = crate::channels::openapi::errors::MalformedBodyError),
        (status = 401, description = "`unauthenticated`: no signature (plain) / msg_signature (safe)", body = crate::channels::openapi::errors::UnauthenticatedError),
        (status = 403, description = "`forbidden`: signature mismatch, stale timestamp, another AppID, openid differs from FromUserName, a timestamp + nonce already used with another body", body = crate::channels::openapi::errors::ForbiddenError),
        (status = 413, response = crate::channels::openapi::errors::PayloadTooLarge),
        (status = 422, description = "`invalid_request`: timestamp or nonce missing (or another invalid query string); FromUserName empty or over 128 characters; a text that is empty after trimming", body = crate::channels::openapi::errors::InvalidRequestError),
        (status = 503, description = "`not_ready`: no wechat.token (or safe mode without a valid EncodingAESKey); or the message could not be stored yet", body = crate::channels::openapi::errors::NotReadyError),
    ),
)]
#[post("/v1/channels/wechat")]
async fn receive(
    state: web::Data<AppState>,
    query: web::Query<Signed>,
    body: Result<web::Bytes, actix_web::Error>,
) -> Result<HttpResponse, ApiError> {
    let settings = &state.settings.wechat;
    let token = checked_token(&state, &query.timestamp)?;
    let body = body.map_err(provider::body_error)?;
    let body = std::str::from_utf8(&body)
        .map_err(|_| ApiError::new(ErrorKind::MalformedBody, "The body is not UTF-8."))?;
    let safe = query.encrypt_type.as_deref() == Some("aes");
    let (plain, crypto) = if safe {
        let crypto = crypto::MessageCrypto::new(
            token,
            settings.encoding_aes_key.expose_secret(),
            &settings.app_id,
        )
        .map_err(|_| {
            ApiError::new(
                ErrorKind::NotReady,
                "Safe mode is not configured on this server (EncodingAESKey).",
            )
        })?;
        let encrypt = xml::encrypted(body).map_err(malformed)?;
        let given = query
            .msg_signature
            .as_deref()
            .ok_or_else(ApiError::unauthenticated)?;
        if !crypto.verify_msg_signature(&query.timestamp, &query.nonce, &encrypt, given) {
            return Err(ApiError::forbidden(
                "The WeChat msg_signature does not match.",
            ));
        }
        let plain = crypto.decrypt(&encrypt).map_err(|e| match e {
            crypto::CryptoError::WrongAppId => {
                ApiError::forbidden("The message is for another account.")
            }
            other => ApiError::new(ErrorKind::MalformedBody, other.to_string()),
        })?;
        (plain, Some(crypto))
    } else {
        let given = query
            .signature
            .as_deref()
            .ok_or_else(ApiError::unauthenticated)?;
        if !crypto::verify_signature(token, &query.timestamp, &query.nonce, given) {
            return Err(ApiError::forbidden("The WeChat signature does not match."));
        }
        (body.to_owned(), None)
    };
    let message = xml::inbound(&plain).map_err(malformed)?;
    if query.openid.as_deref().is_some_and(|o| o != message.from) {
        return Err(ApiError::forbidden(
            "The openid of the query and the message differ.",
        ));
    }
    // A signature covers the token, the timestamp and the nonce, not the body (plain mode; and
    // WeChat sends the plain `signature` on safe-mode requests too): each (timestamp, nonce)
    // is bound to the first body it came with, so a signed query seen once (in a log, say)
    // cannot carry another message while the timestamp is fresh. WeChat's retries repeat the
    // body and pass.
    let hash = provider::request_hash(&[body.as_bytes()]);
    let used = format!("{}:{}", query.timestamp.trim(), query.nonce);
    let (first, _) = state
        .receipts()
        .webhook_receipt(NONCE_RECEIPTS, &used, &hash, "", Utc::now())
        .await?;
    if first != hash {
        return Err(ApiError::forbidden(
            "This signature was already used for another message.",
        ));
    }
    let reply = answer(&state, &message).await?;
    state
        .metrics
        .wechat_replies
        .with_label_values(&[if reply.is_some() {
            "passive"
        } else {
            "success"
        }])
        .inc();
    let Some(text) = reply else {
        return Ok(HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            .body(SUCCESS));
    };
    let now = Utc::now().timestamp();
    let reply = xml::text_reply(&message.from, &message.to, now, &text);
    let body = match crypto {
        None => reply,
        Some(crypto) => {
            let encrypt = crypto.encrypt(&reply, &rand::random::<[u8; 16]>());
            let timestamp = now.to_string();
            let signature = crypto.msg_signature(&timestamp, &query.nonce, &encrypt);
            xml::encrypted_reply(&encrypt, &signature, &timestamp, &query.nonce)
        }
    };
    Ok(HttpResponse::Ok()
        .content_type("application/xml; charset=utf-8")
        .body(body))
}

fn malformed(error: xml::XmlError) -> ApiError {
    ApiError::new(
        ErrorKind::MalformedBody,
        format!("Not a WeChat message: {error}"),
    )
}

/// What a customer's message or event says, as text for their conversation; None for events
/// that are not messages.
fn text_of(payload: &xml::Payload) -> Option<String> {
    match payload {
        xml::Payload::Text { content } => Some(content.clone()),
        xml::Payload::Voice { recognition, .. } => Some(
            recognition
                .clone()
                .unwrap_or_else(|| "[语音消息 voice message]".to_owned()),
        ),
        xml::Payload::Image { pic_url, .. } => Some(format!("[图片 image] {pic_url}")),
        xml::Payload::Click { key } if !key.trim().is_empty() => Some(key.clone()),
        _ => None,
    }
}

/// Handles a verified message or event; returns the passive reply, if any.
async fn answer(state: &AppState, message: &xml::Inbound) -> Result<Option<String>, ApiError> {
    let openid = message.from.as_str();
    if openid.is_empty() || openid.len() > 128 {
        return Err(ApiError::invalid("FromUserName must be an openid."));
    }
    let customer = || async {
        let (customer, created) =
            crate::identity::first_contact(state.identities(), Channel::Wechat, openid, || {
                format!("微信用户 {}", crate::identity::short(openid))
            })
            .await?;
        if created {
            link_unionid(state, openid, &customer);
        }
        Ok::<_, crate::store::StoreError>(customer)
    };
    match &message.payload {
        xml::Payload::Subscribe => {
            customer().await?;
            state.identities().opt_in(Channel::Wechat, openid).await?;
            return Ok(Some(WELCOME.to_owned()));
        }
        xml::Payload::Unsubscribe => {
            state
                .identities()
                .opt_out(Channel::Wechat, openid, "unsubscribe", Utc::now())
                .await?;
            return Ok(None);
        }
        _ => {}
    }
    let Some(text) = text_of(&message.payload) else {
        return Ok(None);
    };
    let started = Instant::now();
    let customer = customer().await?;
    let accepted = provider::submit(
        state,
        &customer,
        Channel::Wechat,
        message.dedup_key(),
        &provider::clip(&text),
    )
    .await?;
    let window = std::time::Duration::from_millis(state.settings.wechat.passive_reply_ms);
    let Some(reply) = accepted.replies.first() else {
        return Ok(None);
    };
    // The answer goes out on WeChat only when it is WeChat's to carry (`identity.
    // reply_channel` may send it by SMS instead: then not twice).
    if started.elapsed() > window || reply.channel.is_some_and(|c| c != Channel::Wechat) {
        return Ok(None);
    }
    let row = format!("{}.{}", reply.message_id, api::CHANNEL);
    Ok(passive_allowed(state, &row)
        .await?
        .then(|| reply.text.clone()))
}

/// Links a new follower's UnionID (asked from the API in the background: the webhook must
/// answer within 5 s), so the app's WeChat login finds the same customer.
fn link_unionid(state: &AppState, openid: &str, customer: &crate::domain::CustomerId) {
    let Some(api) = state.wechat_api.clone() else {
        return;
    };
    let (customers, openid, customer) =
        (state.customers.clone(), openid.to_owned(), customer.clone());
    actix_web::rt::spawn(async move {
        match api.unionid(&openid).await {
            Ok(Some(unionid)) => {
                let id = crate::identity::unionid_identity(&unionid);
                match customers.link(Channel::Wechat, &id, &customer).await {
                    Ok(owner) if owner != customer => {
                        tracing::warn!(%customer, %owner, "A UnionID belongs to another customer; not merged automatically.")
                    }
                    Ok(_) => tracing::debug!(%customer, "UnionID linked."),
                    Err(error) => tracing::warn!(%error, "Could not link a UnionID."),
                }
            }
            Ok(None) => {}
            Err(error) => tracing::info!(%error, "No UnionID for a new follower."),
        }
    });
}

/// Whether the answer may be the passive reply: its outbox row is taken now (no worker has
/// it), or there is none (no outbound API configured), or it was a passive reply before
/// (WeChat repeats a message whose reply it did not get).
async fn passive_allowed(state: &AppState, row: &str) -> Result<bool, ApiError> {
    if state.receipts().take_outbox(row, Utc::now()).await? {
        return Ok(true);
    }
    Ok(match state.receipts().outbox_item(row).await? {
        // No row: only right when this server has no WeChat API to send through.
        None => state.wechat_api.is_none(),
        Some(item) => {
            item.status == OutboxStatus::Delivered
                && item.attempts == 0
                && item.provider_ref.is_none()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// WeChat's published safe-mode sample, decrypted and parsed end to end.
    #[test]
    fn the_published_encrypted_sample_is_a_text_message() {
        let crypto = crypto::MessageCrypto::new(
            "QDG6eK",
            "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
            "wx5823bf96d3bd56c7",
        )
        .expect("key");
        let envelope = format!(
            "<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName><Encrypt><![CDATA[{}]]></Encrypt></xml>",
            crypto::tests_support::SAMPLE_ENCRYPT
        );
        let encrypt = xml::encrypted(&envelope).expect("envelope");
        let message = xml::inbound(&crypto.decrypt(&encrypt).expect("decrypts")).expect("parses");
        assert_eq!(
            (
                message.from.as_str(),
                message.msg_id.as_deref(),
                message.create_time
            ),
            ("mycreate", Some("4561255354251345929"), 1_409_659_813)
        );
        assert_eq!(
            message.payload,
            xml::Payload::Text {
                content: "hello".to_owned()
            }
        );
    }
}
