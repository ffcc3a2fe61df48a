//! WeChat Official Account channel (issue 6, in progress): the provider's wire format.
//!
//! Done so far, tested against WeChat's published samples:
//! - [`crypto`]: the message security WeChat documents (URL-verification and message
//!   signatures, safe-mode AES-256-CBC);
//! - [`xml`]: inbound messages and events, the safe-mode envelope and passive replies, with a
//!   parser that refuses DTDs and entities.
//!
//! - `GET /v1/channels/wechat`: URL verification (`signature`, `timestamp`, `nonce`,
//!   `echostr`), with a timestamp tolerance against replays.
//!
//! `POST /v1/channels/wechat` (messages, plain and safe mode), the 5-second passive-reply
//! window and the customer-service message API follow.

pub mod crypto;
pub mod xml;

use actix_web::{get, web, HttpResponse};
use chrono::Utc;
use secrecy::ExposeSecret;
use serde::Deserialize;

use crate::error::{ApiError, ErrorKind};
use crate::startup::AppState;

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(verify_url);
}

/// WeChat's URL verification (服务器配置 → 验证): `signature` signs `timestamp` and `nonce`
/// with the Token.
#[derive(Debug, Deserialize)]
struct Verification {
    signature: String,
    timestamp: String,
    nonce: String,
    echostr: String,
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
#[get("/v1/channels/wechat")]
async fn verify_url(
    state: web::Data<AppState>,
    query: web::Query<Verification>,
) -> Result<HttpResponse, ApiError> {
    let settings = &state.settings.wechat;
    let token = settings.token.expose_secret();
    if token.is_empty() {
        return Err(ApiError::new(
            ErrorKind::NotReady,
            "The WeChat channel is not configured on this server.",
        ));
    }
    if !fresh(
        &query.timestamp,
        Utc::now().timestamp(),
        settings.timestamp_tolerance_secs,
    ) {
        return Err(ApiError::forbidden(
            "The timestamp is too far from now (a replay, or a clock far off).",
        ));
    }
    if !crypto::verify_signature(token, &query.timestamp, &query.nonce, &query.signature) {
        return Err(ApiError::forbidden("The WeChat signature does not match."));
    }
    Ok(HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body(query.into_inner().echostr))
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
