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
use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;
use serde_json::json;

use crate::actors::delivery::{Deliverer, DeliveryError, DeliveryPlan, Receipt};
use crate::domain::Message;
use crate::settings::WebhookSettings;
use crate::signing::webhooks::{secret_key, sign};
use crate::store::OutboxItem;
use crate::views::MessageView;

/// The outbound channel name (queue `outbound.webhook`).
pub const CHANNEL: &str = "webhook";

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
    fn only_timeouts_throttling_and_server_errors_are_retried() {
        for s in [408, 425, 429, 500, 502, 503] {
            assert!(is_transient(s), "{s}");
        }
        for s in [400, 401, 403, 404, 410, 413, 422] {
            assert!(!is_transient(s), "{s}");
        }
    }
}
