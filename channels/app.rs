//! The mobile app channel.
//!
//! - [`token`]: the app backend's HS256 user tokens; the `sub` is the app user, a `phone`
//!   claim is a verified number (the "one ID" link, see [`crate::identity::app_user`]). App
//!   users use `POST /v1/messages` and the customer WebSocket like the web widget, with
//!   their app token as bearer token.
//! - Outbound: a message for an app user goes over their WebSocket when one is open (the
//!   customer topic reaches it on any node); when none has been open for
//!   [`PRESENCE_FRESH`], the app backend's push webhook gets it (signed as Standard Webhooks,
//!   through the outbox: retried, rate-limited, parked after the limit), so the phone can
//!   show a notification.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;
use serde_json::json;

use crate::actors::delivery::{Deliverer, DeliveryError, DeliveryPlan, Receipt};
use crate::domain::{Channel, CustomerId, Message, Sender};
use crate::settings::AppSettings;
use crate::store::{OutboxItem, Store};

/// The outbound channel (queue `outbound.app_push`).
pub const CHANNEL: &str = "app_push";
/// How often an open app connection refreshes its presence.
pub const PRESENCE_REFRESH: Duration = Duration::from_secs(20);
/// A presence refreshed within this long means "connected".
pub const PRESENCE_FRESH: chrono::Duration = chrono::Duration::seconds(45);
/// A push is decided this long after the message, so an app that is reconnecting gets it
/// over its WebSocket instead.
const PUSH_DELAY: chrono::Duration = chrono::Duration::seconds(2);

/// Which messages may need a push: everything said to a customer whose conversation is in
/// the app.
pub struct AppPushes;

impl DeliveryPlan for AppPushes {
    fn deliveries(&self, message: &Message, now: DateTime<Utc>) -> Vec<OutboxItem> {
        if message.channel != Channel::App || message.from == Sender::Customer {
            return Vec::new();
        }
        let payload = json!({
            "customer_id": message.customer_id,
            "message": crate::views::MessageView::from(message),
        });
        vec![
            OutboxItem::new(format!("{}.{CHANNEL}", message.id), CHANNEL, payload, now)
                .due_at(now + PUSH_DELAY),
        ]
    }
}

/// Sends pushes to the app backend's webhook, unless the app is connected.
pub struct AppPushDeliverer {
    client: reqwest::Client,
    url: String,
    key: Vec<u8>,
    store: Arc<dyn Store>,
}

impl AppPushDeliverer {
    /// A deliverer for `settings` (`push_url` set, `push_secret` a `whsec_` secret).
    pub fn new(settings: &AppSettings, store: Arc<dyn Store>) -> anyhow::Result<Self> {
        let key = crate::signing::webhooks::secret_key(settings.push_secret.expose_secret())
            .map_err(|_| anyhow::anyhow!("app.push_secret must be whsec_ followed by base64"))?;
        Ok(Self {
            client: reqwest::Client::builder()
                .timeout(Duration::from_millis(settings.timeout_ms))
                .build()?,
            url: settings.push_url.trim().to_owned(),
            key,
            store,
        })
    }
}

#[async_trait]
impl Deliverer for AppPushDeliverer {
    fn channel(&self) -> &str {
        CHANNEL
    }

    async fn deliver(&self, item: &OutboxItem) -> Result<Receipt, DeliveryError> {
        let store_error =
            |e: crate::store::StoreError| DeliveryError::Transient(format!("store: {e}"));
        let Some(customer) = item.payload["customer_id"].as_str() else {
            return Err(DeliveryError::Permanent(
                "payload without customer_id".to_owned(),
            ));
        };
        let customer = CustomerId::from_trusted(customer);
        if self
            .store
            .present_since(&customer, Utc::now() - PRESENCE_FRESH)
            .await
            .map_err(store_error)?
        {
            // The open WebSocket had it (the customer topic): no notification needed.
            tracing::debug!(id = %item.id, "App connected; no push.");
            return Ok(Receipt::default());
        }
        let Some(user) = self
            .store
            .identities(&customer)
            .await
            .map_err(store_error)?
            .into_iter()
            .find(|i| i.channel == Channel::App)
        else {
            return Err(DeliveryError::Permanent(
                "the customer has no app identity".to_owned(),
            ));
        };
        let body = serde_json::to_vec(&json!({
            "type": "message.push",
            "app_user_id": user.external_id,
            "message": item.payload["message"],
        }))
        .map_err(|e| DeliveryError::Permanent(format!("payload: {e}")))?;
        super::webhook::post_signed(&self.client, &self.url, &self.key, &item.id, body).await
    }
}
