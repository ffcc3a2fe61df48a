//! The integrators' event webhook: every stored message (customer, bot, agent, system) is
//! POSTed to a configured URL as a `message.created` event, signed as Standard Webhooks
//! (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>`), through
//! the outbox and the `outbound.webhook` queue ([`crate::actors::delivery`]).
//!
//! CRM and data-warehouse teams use it to mirror conversations; it is also the first
//! outbound provider, and the signing here is the one the IVR channel verifies.
//!
//! Body: `{"type":"message.created","timestamp":…,"data":{"customer_id",…message view…}}`.
//! The `webhook-id` is the outbox id (`{message_id}.webhook`), the same on every retry, so a
//! receiver deduplicates with it. 2xx = delivered; 408, 425, 429, 5xx and network errors are
//! retried; other answers park the delivery.

use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use secrecy::ExposeSecret;
use serde_json::json;
use sha2::Sha256;

use crate::actors::delivery::{Deliverer, DeliveryError, DeliveryPlan, Receipt};
use crate::domain::Message;
use crate::settings::WebhookSettings;
use crate::store::OutboxItem;
use crate::views::MessageView;

/// The outbound channel name (queue `outbound.webhook`).
pub const CHANNEL: &str = "webhook";

/// Why a Standard Webhooks secret is unusable.
#[derive(Debug, thiserror::Error)]
#[error("a webhook secret is `whsec_` followed by base64 of at least 16 bytes")]
pub struct SecretError;

/// The HMAC key of a Standard Webhooks secret (`whsec_` + base64; the prefix is optional).
pub fn secret_key(secret: &str) -> Result<Vec<u8>, SecretError> {
    let encoded = secret
        .trim()
        .strip_prefix("whsec_")
        .unwrap_or(secret.trim());
    let key = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|_| SecretError)?;
    if key.len() < 16 {
        return Err(SecretError);
    }
    Ok(key)
}

/// The `webhook-signature` value for one message: `v1,` + base64 of
/// HMAC-SHA256(key, "{id}.{timestamp}.{body}").
pub fn sign(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    // HMAC takes keys of any length, so this cannot fail.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return String::new();
    };
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// Why a signed request is refused (the IVR channel's inbound webhooks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("webhook-id, webhook-timestamp and webhook-signature are required")]
    Missing,
    #[error("the webhook timestamp is outside the tolerance (a replay, or a clock far off)")]
    Stale,
    #[error("no webhook signature matches")]
    BadSignature,
}

/// Verifies a Standard Webhooks request: the timestamp (Unix seconds) within
/// `tolerance_secs` of `now`, and one of the space-separated `v1,…` signatures matching.
/// Replays inside the tolerance are the caller's to refuse, by `id`.
pub fn verify(
    key: &[u8],
    id: &str,
    timestamp: &str,
    signatures: &str,
    body: &[u8],
    now: i64,
    tolerance_secs: i64,
) -> Result<(), VerifyError> {
    if id.trim().is_empty() || signatures.trim().is_empty() {
        return Err(VerifyError::Missing);
    }
    let at: i64 = timestamp.trim().parse().map_err(|_| VerifyError::Missing)?;
    if now.abs_diff(at) > tolerance_secs.unsigned_abs() {
        return Err(VerifyError::Stale);
    }
    let expected = sign(key, id, at, body);
    let matches = signatures
        .split_whitespace()
        .any(|given| super::constant_time_eq(given.as_bytes(), expected.as_bytes()));
    if matches {
        Ok(())
    } else {
        Err(VerifyError::BadSignature)
    }
}

/// Asks for one webhook delivery per stored message.
pub struct WebhookEvents;

impl DeliveryPlan for WebhookEvents {
    fn deliveries(&self, message: &Message, now: DateTime<Utc>) -> Vec<OutboxItem> {
        let mut data = serde_json::to_value(MessageView::from(message)).unwrap_or_default();
        if let Some(fields) = data.as_object_mut() {
            fields.insert("customer_id".to_owned(), json!(message.customer_id));
        }
        let payload = json!({
            "type": "message.created",
            "timestamp": message.sent_at,
            "data": data,
        });
        vec![OutboxItem::new(
            format!("{}.{CHANNEL}", message.id),
            CHANNEL,
            payload,
            now,
        )]
    }
}

/// POSTs signed events to the configured URL.
pub struct WebhookDeliverer {
    client: reqwest::Client,
    url: String,
    key: Vec<u8>,
}

impl WebhookDeliverer {
    /// A deliverer for the settings (the URL must be set; `check-config` validates both).
    pub fn new(settings: &WebhookSettings) -> anyhow::Result<Self> {
        let key = secret_key(settings.secret.expose_secret())?;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(settings.timeout_ms))
            .build()?;
        Ok(Self {
            client,
            url: settings.url.trim().to_owned(),
            key,
        })
    }
}

/// Whether an HTTP status is worth another attempt.
pub fn is_transient(status: u16) -> bool {
    matches!(status, 408 | 425 | 429) || status >= 500
}

#[async_trait]
impl Deliverer for WebhookDeliverer {
    fn channel(&self) -> &str {
        CHANNEL
    }

    async fn deliver(&self, item: &OutboxItem) -> Result<Receipt, DeliveryError> {
        let body = serde_json::to_vec(&item.payload)
            .map_err(|e| DeliveryError::Permanent(format!("payload: {e}")))?;
        post_signed(&self.client, &self.url, &self.key, &item.id, body).await
    }
}

/// POSTs a JSON `body` signed as Standard Webhooks (a fresh timestamp and signature per
/// attempt, the same `webhook-id`), and classifies the answer: 2xx taken; timeouts, 408, 425,
/// 429 and 5xx worth another attempt; other statuses permanent.
pub async fn post_signed(
    client: &reqwest::Client,
    url: &str,
    key: &[u8],
    id: &str,
    body: Vec<u8>,
) -> Result<Receipt, DeliveryError> {
    let timestamp = Utc::now().timestamp();
    let signature = sign(key, id, timestamp, &body);
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(body)
        .send()
        .await
        .map_err(|e| DeliveryError::Transient(format!("request failed: {e}")))?;
    match response.status().as_u16() {
        200..=299 => Ok(Receipt::default()),
        s if is_transient(s) => Err(DeliveryError::Transient(format!("HTTP {s}"))),
        s => Err(DeliveryError::Permanent(format!("HTTP {s}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_reproduce_the_standard_webhooks_test_vector() {
        // The published example of the Standard Webhooks specification and its libraries.
        let key = secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").expect("valid secret");
        assert_eq!(
            sign(
                &key,
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1_614_265_330,
                br#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn inbound_requests_verify_within_the_tolerance_only() {
        let key = secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").expect("valid secret");
        let (id, at, body) = (
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            "1614265330",
            br#"{"test": 2432232314}"#.as_slice(),
        );
        let good = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
        assert_eq!(verify(&key, id, at, good, body, 1_614_265_330, 300), Ok(()));
        // Key rotation: any of several signatures may match.
        let rotated = format!("v1,AAAA {good}");
        assert_eq!(
            verify(&key, id, at, &rotated, body, 1_614_265_600, 300),
            Ok(())
        );
        assert_eq!(
            verify(&key, id, at, good, body, 1_614_265_631, 300),
            Err(VerifyError::Stale),
            "five minutes and a second later"
        );
        assert_eq!(
            verify(&key, id, at, good, b"{\"test\": 1}", 1_614_265_330, 300),
            Err(VerifyError::BadSignature)
        );
        assert_eq!(
            verify(&key, "msg_other", at, good, body, 1_614_265_330, 300),
            Err(VerifyError::BadSignature)
        );
        assert_eq!(
            verify(&key, id, "soon", good, body, 0, 300),
            Err(VerifyError::Missing)
        );
        assert_eq!(
            verify(&key, "", at, good, body, 1_614_265_330, 300),
            Err(VerifyError::Missing)
        );
    }

    #[test]
    fn secrets_must_be_base64_of_enough_bytes() {
        assert!(secret_key("whsec_not base64!").is_err());
        assert!(
            secret_key("whsec_c2hvcnQ=").is_err(),
            "5 bytes is too short"
        );
        assert!(
            secret_key("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_ok(),
            "prefix optional"
        );
    }

    #[test]
    fn only_timeouts_throttling_and_server_errors_are_retried() {
        for s in [408, 425, 429, 500, 502, 503] {
            assert!(is_transient(s), "{s}");
        }
        for s in [400, 401, 403, 404, 410, 413, 422] {
            assert!(!is_transient(s), "{s}");
        }
    }
}
