//! Answers to SMS customers through the provider's REST API (Twilio's `Messages` resource),
//! as outbox deliveries ([`crate::actors::delivery`]) on the `outbound.sms` queue.
//!
//! [`SmsReplies`] asks for a delivery of every message said to a customer whose
//! conversation is on SMS (bot, agent, system). The provider takes up to
//! [`MAX_BODY_UNITS`] characters per call and concatenates the segments itself, so a text
//! that fits is one delivery (`{message_id}.sms`); a longer one is cut at segment boundaries
//! into `{message_id}.sms`, `{message_id}.sms.2`, … (each part delivered on its own, so the
//! parts may arrive in any order).
//!
//! [`SmsDeliverer`] sends one part to the customer's SMS number (their oldest `sms`
//! identity), never to a number that opted out: `POST {api_base_url}/2010-04-01/Accounts/
//! {account_sid}/Messages.json` with HTTP Basic auth (account SID, auth token) and the form
//! `To`, `From`, `Body`, `StatusCallback`. The provider's `sid` is kept as the delivery's
//! provider ref, which status callbacks name. 408, 425, 429, 5xx and network errors are
//! retried; other answers park the delivery with the provider's error code and message (a
//! provider's "unsubscribed recipient", 21610, also records the opt-out here).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, Secret};
use serde_json::{json, Value};

use super::segments::{self, Encoding};
use crate::actors::delivery::{Deliverer, DeliveryError, DeliveryPlan, Receipt};
use crate::channels::webhook::is_transient;
use crate::domain::{Channel, CustomerId, Message, Sender};
use crate::identity::masked_phone;
use crate::settings::SmsSettings;
use crate::store::{OutboxItem, Store};

/// The outbound channel name (queue `outbound.sms`).
pub const CHANNEL: &str = "sms";

/// The longest body (UTF-16 units, which is what the provider counts) of one API call.
pub const MAX_BODY_UNITS: usize = 1600;

/// The provider's error code for a recipient who opted out on its side.
const UNSUBSCRIBED_RECIPIENT: i64 = 21610;

/// One API call's worth of a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub text: String,
    /// How many SMS the provider sends it as.
    pub segments: usize,
    pub encoding: Encoding,
}

/// The parts a text is sent as: whole segments grouped so each part is at most
/// [`MAX_BODY_UNITS`] long (one part for most texts, none for an empty one).
pub fn parts(text: &str) -> Vec<Part> {
    let (_, pieces) = segments::split(text);
    let mut groups: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut used = 0;
    for piece in pieces {
        let units: usize = piece.chars().map(char::len_utf16).sum();
        if used + units > MAX_BODY_UNITS && !current.is_empty() {
            groups.push(std::mem::take(&mut current));
            used = 0;
        }
        current.push_str(&piece);
        used += units;
    }
    if !current.is_empty() {
        groups.push(current);
    }
    groups
        .into_iter()
        .map(|text| {
            let (encoding, pieces) = segments::split(&text);
            Part {
                segments: pieces.len(),
                encoding,
                text,
            }
        })
        .collect()
}

/// The outbox id of part `index` (0-based) of a message.
pub fn delivery_id(message_id: &str, index: usize) -> String {
    if index == 0 {
        format!("{message_id}.{CHANNEL}")
    } else {
        format!("{message_id}.{CHANNEL}.{}", index + 1)
    }
}

/// Asks for the SMS deliveries of what is said to customers on SMS.
pub struct SmsReplies;

impl DeliveryPlan for SmsReplies {
    fn deliveries(&self, message: &Message, now: DateTime<Utc>) -> Vec<OutboxItem> {
        if message.channel != Channel::Sms || message.from == Sender::Customer {
            return Vec::new();
        }
        let parts = parts(&message.text);
        let total = parts.len();
        parts
            .into_iter()
            .enumerate()
            .map(|(index, part)| {
                let payload = json!({
                    "customer_id": message.customer_id,
                    "text": part.text,
                    "part": index + 1,
                    "parts": total,
                    "segments": part.segments,
                    "encoding": part.encoding,
                });
                OutboxItem::new(
                    delivery_id(message.id.as_str(), index),
                    CHANNEL,
                    payload,
                    now,
                )
            })
            .collect()
    }
}

/// Sends SMS through the provider's REST API.
pub struct SmsDeliverer {
    client: reqwest::Client,
    store: Arc<dyn Store>,
    /// `{api_base_url}/2010-04-01/Accounts/{account_sid}/Messages.json`
    url: String,
    account_sid: String,
    auth_token: Secret<String>,
    from: String,
    /// `{public_url}/v1/channels/sms/status`, when the public URL is known.
    status_callback: Option<String>,
}

impl SmsDeliverer {
    /// A deliverer for the settings (API base URL, auth token, account SID and sender set).
    pub fn new(settings: &SmsSettings, store: Arc<dyn Store>) -> anyhow::Result<Self> {
        let base = settings.api_base_url.trim().trim_end_matches('/');
        let account_sid = settings.account_sid.trim();
        let from = settings.from.trim();
        anyhow::ensure!(!base.is_empty(), "sms.api_base_url is required to send SMS");
        anyhow::ensure!(
            !settings.auth_token.expose_secret().is_empty(),
            "sms.auth_token is required to send SMS"
        );
        anyhow::ensure!(
            !account_sid.is_empty() && account_sid.bytes().all(|b| b.is_ascii_alphanumeric()),
            "sms.account_sid (letters and digits) is required to send SMS"
        );
        anyhow::ensure!(!from.is_empty(), "sms.from is required to send SMS");
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(settings.timeout_ms))
            .build()?;
        let public = settings.public_url.trim().trim_end_matches('/');
        Ok(Self {
            client,
            store,
            url: format!("{base}/2010-04-01/Accounts/{account_sid}/Messages.json"),
            account_sid: account_sid.to_owned(),
            auth_token: settings.auth_token.clone(),
            from: from.to_owned(),
            status_callback: (!public.is_empty())
                .then(|| format!("{public}/v1/channels/sms/status")),
        })
    }

    /// The customer's SMS number, unless they have none or it opted out.
    async fn recipient(&self, customer: &CustomerId) -> Result<String, DeliveryError> {
        let store_error = |e| DeliveryError::Transient(format!("store: {e}"));
        let phone = self
            .store
            .identities(customer)
            .await
            .map_err(store_error)?
            .into_iter()
            .find(|identity| identity.channel == Channel::Sms)
            .map(|identity| identity.external_id)
            .ok_or_else(|| DeliveryError::Permanent("the customer has no SMS number".to_owned()))?;
        if self
            .store
            .opted_out(Channel::Sms, &phone)
            .await
            .map_err(store_error)?
        {
            return Err(DeliveryError::Permanent(
                "recipient opted out (opt-out keyword); not sent".to_owned(),
            ));
        }
        Ok(phone)
    }

    /// The form of one API call.
    fn form(&self, to: &str, body: &str) -> String {
        let mut form = form_urlencoded::Serializer::new(String::new());
        form.append_pair("To", to)
            .append_pair("From", &self.from)
            .append_pair("Body", body);
        if let Some(callback) = &self.status_callback {
            form.append_pair("StatusCallback", callback);
        }
        form.finish()
    }
}

/// The provider's error (`{"code": 21610, "message": "…"}`) of an answer, if it gave one.
pub fn provider_error(body: &str) -> (Option<i64>, String) {
    let value: Value = serde_json::from_str(body).unwrap_or_default();
    let code = value["code"].as_i64();
    let message: String = value["message"]
        .as_str()
        .unwrap_or_default()
        .chars()
        .take(200)
        .collect();
    let described = match code {
        Some(code) => format!(" (provider error {code}: {message})"),
        None if !message.is_empty() => format!(" ({message})"),
        None => String::new(),
    };
    (code, described)
}

#[async_trait]
impl Deliverer for SmsDeliverer {
    fn channel(&self) -> &str {
        CHANNEL
    }

    async fn deliver(&self, item: &OutboxItem) -> Result<Receipt, DeliveryError> {
        let customer = item.payload["customer_id"]
            .as_str()
            .map(CustomerId::from_trusted)
            .ok_or_else(|| DeliveryError::Permanent("payload: no customer_id".to_owned()))?;
        let text = item.payload["text"]
            .as_str()
            .filter(|t| !t.is_empty())
            .ok_or_else(|| DeliveryError::Permanent("payload: no text".to_owned()))?;
        let phone = self.recipient(&customer).await?;
        let response = self
            .client
            .post(&self.url)
            .basic_auth(&self.account_sid, Some(self.auth_token.expose_secret()))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .body(self.form(&phone, text))
            .send()
            .await
            .map_err(|e| DeliveryError::Transient(format!("request failed: {e}")))?;
        let status = response.status().as_u16();
        let body = response.text().await.unwrap_or_default();
        match status {
            200..=299 => {
                let value: Value = serde_json::from_str(&body).unwrap_or_default();
                let sid = value["sid"].as_str().map(str::to_owned);
                if sid.is_none() {
                    tracing::warn!(id = %item.id, "The SMS provider took a message without a sid; its status callbacks cannot be matched.");
                }
                Ok(Receipt { provider_ref: sid })
            }
            s if is_transient(s) => {
                let (_, described) = provider_error(&body);
                Err(DeliveryError::Transient(format!("HTTP {s}{described}")))
            }
            s => {
                let (code, described) = provider_error(&body);
                if code == Some(UNSUBSCRIBED_RECIPIENT) {
                    tracing::info!(to = %masked_phone(&phone), "The SMS provider says the recipient opted out; recorded.");
                    if let Err(error) = self
                        .store
                        .opt_out(Channel::Sms, &phone, "provider:21610", Utc::now())
                        .await
                    {
                        tracing::warn!(%error, "Could not record a provider's opt-out.");
                    }
                }
                Err(DeliveryError::Permanent(format!("HTTP {s}{described}")))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ConversationId, MessageId};

    fn message(from: Sender, channel: Channel, text: &str) -> Message {
        Message {
            id: MessageId::from_trusted("msg_1"),
            conversation_id: ConversationId::from_trusted("conv_1"),
            customer_id: CustomerId::from_trusted("cus_1"),
            channel,
            from,
            text: text.to_owned(),
            client_id: None,
            external_id: None,
            agent_id: None,
            sent_at: Utc::now(),
        }
    }

    #[test]
    fn long_texts_are_cut_at_segment_boundaries_into_parts_of_1600() {
        let text = "a".repeat(2000);
        let parts = parts(&text);
        assert_eq!(parts.len(), 2);
        assert_eq!(
            parts.iter().map(|p| p.text.len()).collect::<Vec<_>>(),
            [1530, 470]
        );
        assert_eq!(
            parts.iter().map(|p| p.segments).collect::<Vec<_>>(),
            [10, 4]
        );
        assert_eq!(
            parts.iter().map(|p| p.text.as_str()).collect::<String>(),
            text
        );
        assert!(parts.iter().all(|p| p.encoding == Encoding::Gsm7));
    }

    #[test]
    fn a_hundred_chinese_characters_are_one_part_of_two_ucs2_segments() {
        let parts = parts(&"您".repeat(100));
        assert_eq!(parts.len(), 1);
        assert_eq!((parts[0].segments, parts[0].encoding), (2, Encoding::Ucs2));
        assert!(super::parts("").is_empty());
    }

    #[test]
    fn the_plan_covers_what_is_said_to_sms_customers_only() {
        let now = Utc::now();
        for from in [Sender::Bot, Sender::Agent, Sender::System] {
            let rows = SmsReplies.deliveries(&message(from, Channel::Sms, "Hello"), now);
            assert_eq!(rows.len(), 1);
            assert_eq!(
                (rows[0].id.as_str(), rows[0].channel.as_str()),
                ("msg_1.sms", "sms")
            );
            assert_eq!(
                rows[0].payload,
                json!({"customer_id": "cus_1", "text": "Hello", "part": 1, "parts": 1,
                       "segments": 1, "encoding": "gsm7"})
            );
        }
        assert!(SmsReplies
            .deliveries(&message(Sender::Customer, Channel::Sms, "Hi"), now)
            .is_empty());
        assert!(SmsReplies
            .deliveries(&message(Sender::Bot, Channel::Web, "Hi"), now)
            .is_empty());
        let rows = SmsReplies.deliveries(
            &message(Sender::Agent, Channel::Sms, &"b".repeat(3300)),
            now,
        );
        assert_eq!(
            rows.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
            ["msg_1.sms", "msg_1.sms.2", "msg_1.sms.3"]
        );
        assert_eq!(rows[2].payload["part"], 3);
        assert_eq!(rows[2].payload["parts"], 3);
    }

    #[test]
    fn provider_errors_are_described_with_their_code() {
        let (code, described) = provider_error(
            r#"{"code": 21610, "message": "Attempt to send to unsubscribed recipient", "status": 400}"#,
        );
        assert_eq!(code, Some(21610));
        assert!(described.contains("21610") && described.contains("unsubscribed"));
        assert_eq!(provider_error("<html>"), (None, String::new()));
    }
}
