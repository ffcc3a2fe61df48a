//! Outbound WeChat: the Official Account API (access token, customer-service messages,
//! template messages), the 48-hour window, and the delivery plan of messages to WeChat users.
//!
//! - The `access_token` is fetched (`GET /cgi-bin/token`), cached until shortly before it
//!   expires, and fetched again at once when WeChat says it is invalid or expired (errors
//!   40001, 40014, 42001); the call is then repeated once.
//! - WeChat lets an account write to a user only within 48 hours of the user's last message.
//!   Inside the window a message is a customer-service message (`/cgi-bin/message/custom/send`);
//!   after it (or when WeChat answers 45015) it becomes a template message when one is
//!   configured, else an SMS when the customer has a phone number, else it is parked.
//! - The bot's answer to a WeChat message is first offered to the webhook as a passive reply:
//!   its outbox row is due only after the passive-reply window, and the webhook settles it
//!   when it replied passively (see [`super`]).

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, Secret};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::actors::delivery::{Deliverer, DeliveryEnvelope, DeliveryError, DeliveryPlan, Receipt};
use crate::bus::Bus;
use crate::domain::{Channel, CustomerId, Message, Sender};
use crate::settings::WeChatSettings;
use crate::store::{OutboxItem, Store};

/// The outbound channel (queue `outbound.wechat`).
pub const CHANNEL: &str = "wechat";
/// How long after a user's last message an account may still write to them.
pub const WINDOW: chrono::Duration = chrono::Duration::hours(48);
/// Errors meaning "fetch a new access token and try again".
const TOKEN_ERRORS: [i64; 3] = [40001, 40014, 42001];
/// "Response out of time limit": the 48-hour window closed.
const WINDOW_CLOSED: i64 = 45015;
/// A token is renewed this long before WeChat's stated expiry.
const TOKEN_MARGIN: Duration = Duration::from_secs(300);

/// Whether the window of a user who last wrote at `last_inbound` is still open at `now`.
pub fn window_open(last_inbound: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    last_inbound.is_some_and(|at| now < at + WINDOW)
}

/// Which messages go to WeChat: everything said to a customer whose conversation is on
/// WeChat. The bot's answers wait for the passive-reply window first.
pub struct WechatReplies {
    /// WeChat's passive-reply window (the webhook settles the row if it replied passively).
    pub passive_window: Duration,
}

impl DeliveryPlan for WechatReplies {
    fn deliveries(&self, message: &Message, now: DateTime<Utc>) -> Vec<OutboxItem> {
        if message.channel != Channel::Wechat || message.from == Sender::Customer {
            return Vec::new();
        }
        let payload = json!({
            "customer_id": message.customer_id,
            "message_id": message.id,
            "text": message.text,
        });
        let item = OutboxItem::new(outbox_id(message), CHANNEL, payload, now);
        let item = if message.from == Sender::Bot {
            item.due_at(now + chrono::Duration::from_std(self.passive_window).unwrap_or_default())
        } else {
            item
        };
        vec![item]
    }
}

/// The outbox row of a message to WeChat.
pub fn outbox_id(message: &Message) -> String {
    format!("{}.{CHANNEL}", message.id)
}

/// WeChat's answer envelope (`errcode` 0 or absent = success).
#[derive(Debug, Deserialize)]
struct ApiAnswer {
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    errmsg: String,
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    msgid: Option<Value>,
    #[serde(default)]
    unionid: Option<String>,
}

/// Why an API call failed.
#[derive(Debug)]
enum ApiFailure {
    /// The 48-hour window is closed (45015).
    WindowClosed,
    Delivery(DeliveryError),
}

impl From<DeliveryError> for ApiFailure {
    fn from(e: DeliveryError) -> Self {
        ApiFailure::Delivery(e)
    }
}

/// A client of the Official Account API with a cached access token.
pub struct WechatApi {
    client: reqwest::Client,
    base_url: String,
    app_id: String,
    app_secret: Secret<String>,
    token: tokio::sync::Mutex<Option<(String, Instant)>>,
}

impl WechatApi {
    /// A client for the account of `settings`.
    pub fn new(settings: &WeChatSettings) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(settings.timeout_ms))
            .build()?;
        Ok(Self {
            client,
            base_url: settings
                .api_base_url
                .trim()
                .trim_end_matches('/')
                .to_owned(),
            app_id: settings.app_id.clone(),
            app_secret: settings.app_secret.clone(),
            token: tokio::sync::Mutex::new(None),
        })
    }

    /// The cached access token, fetched first when there is none, it is about to expire, or
    /// `renew` (WeChat refused the cached one).
    async fn access_token(&self, renew: bool) -> Result<String, DeliveryError> {
        let mut cached = self.token.lock().await;
        if let Some((token, until)) = cached.as_ref() {
            if !renew && Instant::now() < *until {
                return Ok(token.clone());
            }
        }
        let response = self
            .client
            .get(format!("{}/cgi-bin/token", self.base_url))
            .query(&[
                ("grant_type", "client_credential"),
                ("appid", self.app_id.as_str()),
                ("secret", self.app_secret.expose_secret().as_str()),
            ])
            .send()
            .await
            .map_err(|e| DeliveryError::Transient(format!("access_token request: {e}")))?;
        let answer = read(response).await?;
        match (answer.errcode, answer.access_token) {
            (0, Some(token)) if !token.is_empty() => {
                let lifetime = Duration::from_secs(answer.expires_in.unwrap_or(7200));
                let until = Instant::now() + lifetime.saturating_sub(TOKEN_MARGIN);
                *cached = Some((token.clone(), until));
                tracing::info!("Fetched a WeChat access token.");
                Ok(token)
            }
            // -1: "system busy".
            (-1, _) => Err(DeliveryError::Transient(
                "access_token: system busy".to_owned(),
            )),
            (code, _) => Err(DeliveryError::Permanent(format!(
                "access_token: {code} {}",
                answer.errmsg
            ))),
        }
    }

    /// POSTs `body` to an API path with the access token, renewing the token once if WeChat
    /// refuses it.
    async fn call(&self, path: &str, body: &Value) -> Result<ApiAnswer, ApiFailure> {
        let mut renew = false;
        loop {
            let token = self.access_token(renew).await?;
            let response = self
                .client
                .post(format!("{}{path}", self.base_url))
                .query(&[("access_token", token.as_str())])
                .json(body)
                .send()
                .await
                .map_err(|e| DeliveryError::Transient(format!("{path}: {e}")))?;
            let answer = read(response).await?;
            match answer.errcode {
                0 => return Ok(answer),
                code if TOKEN_ERRORS.contains(&code) && !renew => {
                    tracing::info!(code, "WeChat refused the access token; renewing it.");
                    renew = true;
                }
                WINDOW_CLOSED => return Err(ApiFailure::WindowClosed),
                -1 | 45009 | 45047 => {
                    return Err(DeliveryError::Transient(format!(
                        "{path}: {} {}",
                        answer.errcode, answer.errmsg
                    ))
                    .into())
                }
                code => {
                    return Err(DeliveryError::Permanent(format!(
                        "{path}: {code} {}",
                        answer.errmsg
                    ))
                    .into())
                }
            }
        }
    }

    /// The user's UnionID (`/cgi-bin/user/info`), when the account is bound to an open
    /// platform; None otherwise.
    pub async fn unionid(&self, openid: &str) -> Result<Option<String>, DeliveryError> {
        let mut renew = false;
        loop {
            let token = self.access_token(renew).await?;
            let response = self
                .client
                .get(format!("{}/cgi-bin/user/info", self.base_url))
                .query(&[
                    ("access_token", token.as_str()),
                    ("openid", openid),
                    ("lang", "zh_CN"),
                ])
                .send()
                .await
                .map_err(|e| DeliveryError::Transient(format!("user/info: {e}")))?;
            let answer = read(response).await?;
            match answer.errcode {
                0 => {
                    return Ok(answer
                        .unionid
                        .filter(|u| !u.trim().is_empty() && u.len() <= 128))
                }
                code if TOKEN_ERRORS.contains(&code) && !renew => renew = true,
                code => {
                    return Err(DeliveryError::Permanent(format!(
                        "user/info: {code} {}",
                        answer.errmsg
                    )))
                }
            }
        }
    }

    /// A customer-service text message (inside the 48-hour window).
    async fn custom_text(&self, openid: &str, text: &str) -> Result<ApiAnswer, ApiFailure> {
        self.call(
            "/cgi-bin/message/custom/send",
            &json!({"touser": openid, "msgtype": "text", "text": {"content": text}}),
        )
        .await
    }

    /// A template message (outside the window).
    async fn template(
        &self,
        openid: &str,
        template_id: &str,
        text: &str,
    ) -> Result<ApiAnswer, ApiFailure> {
        self.call(
            "/cgi-bin/message/template/send",
            &json!({
                "touser": openid,
                "template_id": template_id,
                "data": {"content": {"value": text}},
            }),
        )
        .await
    }
}

/// Reads WeChat's JSON answer; HTTP-level failures are classified like any provider's.
async fn read(response: reqwest::Response) -> Result<ApiAnswer, DeliveryError> {
    let status = response.status().as_u16();
    if !(200..300).contains(&status) {
        let error = format!("HTTP {status}");
        return Err(if crate::channels::webhook::is_transient(status) {
            DeliveryError::Transient(error)
        } else {
            DeliveryError::Permanent(error)
        });
    }
    response
        .json::<ApiAnswer>()
        .await
        .map_err(|e| DeliveryError::Transient(format!("unreadable answer: {e}")))
}

/// Delivers outbox rows of channel `wechat`.
pub struct WechatDeliverer {
    api: Arc<WechatApi>,
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
    template_id: String,
}

impl WechatDeliverer {
    /// A deliverer for the account of `settings`, sharing the node's API client (and its
    /// access token).
    pub fn new(
        settings: &WeChatSettings,
        api: Arc<WechatApi>,
        store: Arc<dyn Store>,
        bus: Arc<dyn Bus>,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            api,
            store,
            bus,
            template_id: settings.template_id.trim().to_owned(),
        })
    }

    /// The window closed: a template message, else an SMS, else the row is parked.
    async fn after_window(
        &self,
        item: &OutboxItem,
        customer: &CustomerId,
        openid: &str,
        text: &str,
    ) -> Result<Receipt, DeliveryError> {
        if !self.template_id.is_empty() {
            return match self.api.template(openid, &self.template_id, text).await {
                Ok(answer) => Ok(Receipt {
                    provider_ref: answer.msgid.map(|id| format!("template:{id}")),
                }),
                Err(ApiFailure::WindowClosed) => Err(DeliveryError::Permanent(
                    "template message refused (45015)".to_owned(),
                )),
                Err(ApiFailure::Delivery(e)) => Err(e),
            };
        }
        let phone = self
            .store
            .identities(customer)
            .await
            .map_err(|e| DeliveryError::Transient(format!("store: {e}")))?
            .into_iter()
            .find(|i| i.channel == Channel::Sms);
        let Some(_phone) = phone else {
            return Err(DeliveryError::Permanent(
                "the 48-hour window is closed and there is no template or phone number".to_owned(),
            ));
        };
        // The SMS channel delivers it (its own outbox row: retried and rate-limited there).
        let fallback = OutboxItem::new(
            format!("{}.sms", item.id),
            "sms",
            json!({"customer_id": customer, "text": text, "part": 1, "parts": 1, "fallback_for": item.id}),
            Utc::now(),
        );
        self.store
            .enqueue_outbox(&fallback)
            .await
            .map_err(|e| DeliveryError::Transient(format!("store: {e}")))?;
        let (route, payload) = DeliveryEnvelope::announce(&fallback);
        if let Err(error) = self.bus.publish(&route, payload).await {
            // The outbox relay republishes it.
            tracing::warn!(%error, "Announcing an SMS fallback failed.");
        }
        Ok(Receipt {
            provider_ref: Some(format!("fallback:{}", fallback.id)),
        })
    }
}

#[async_trait]
impl Deliverer for WechatDeliverer {
    fn channel(&self) -> &str {
        CHANNEL
    }

    async fn deliver(&self, item: &OutboxItem) -> Result<Receipt, DeliveryError> {
        let store_error =
            |e: crate::store::StoreError| DeliveryError::Transient(format!("store: {e}"));
        let (Some(customer), Some(text)) = (
            item.payload["customer_id"].as_str(),
            item.payload["text"].as_str(),
        ) else {
            return Err(DeliveryError::Permanent(
                "payload without customer_id/text".to_owned(),
            ));
        };
        let customer = CustomerId::from_trusted(customer);
        let Some(openid) = self
            .store
            .identities(&customer)
            .await
            .map_err(store_error)?
            .into_iter()
            // An openid: a UnionID identity (`union:…`) is no address for the API.
            .find(|i| {
                i.channel == Channel::Wechat
                    && !i.external_id.starts_with(crate::identity::UNIONID_PREFIX)
            })
            .map(|i| i.external_id)
        else {
            return Err(DeliveryError::Permanent(
                "the customer has no WeChat openid".to_owned(),
            ));
        };
        if self
            .store
            .opted_out(Channel::Wechat, &openid)
            .await
            .map_err(store_error)?
        {
            return Err(DeliveryError::Permanent(
                "the user unsubscribed from the account".to_owned(),
            ));
        }
        let last = self
            .store
            .last_inbound_at(&customer, Channel::Wechat)
            .await
            .map_err(store_error)?;
        if !window_open(last, Utc::now()) {
            return self.after_window(item, &customer, &openid, text).await;
        }
        match self.api.custom_text(&openid, text).await {
            Ok(_) => Ok(Receipt::default()),
            Err(ApiFailure::WindowClosed) => {
                self.after_window(item, &customer, &openid, text).await
            }
            Err(ApiFailure::Delivery(e)) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_is_open_for_48_hours_after_the_last_message() {
        let at = Utc::now();
        assert!(window_open(Some(at), at + chrono::Duration::hours(47)));
        assert!(!window_open(Some(at), at + chrono::Duration::hours(48)));
        assert!(!window_open(None, at));
    }

    #[test]
    fn bot_answers_wait_for_the_passive_window_and_others_go_at_once() {
        let plan = WechatReplies {
            passive_window: Duration::from_secs(5),
        };
        let now = Utc::now();
        let mut message = Message {
            id: crate::domain::MessageId::from_trusted("msg_1"),
            conversation_id: crate::domain::ConversationId::from_trusted("con_1"),
            customer_id: CustomerId::from_trusted("cus_1"),
            channel: Channel::Wechat,
            from: Sender::Bot,
            text: "您好".to_owned(),
            client_id: None,
            external_id: None,
            agent_id: None,
            sent_at: now,
        };
        let bot = plan.deliveries(&message, now);
        assert_eq!(bot.len(), 1);
        assert_eq!(bot[0].id, "msg_1.wechat");
        assert_eq!(bot[0].due_at, now + chrono::Duration::seconds(5));
        message.from = Sender::Agent;
        assert_eq!(plan.deliveries(&message, now)[0].due_at, now);
        message.from = Sender::Customer;
        assert!(plan.deliveries(&message, now).is_empty());
        message.from = Sender::Agent;
        message.channel = Channel::Web;
        assert!(plan.deliveries(&message, now).is_empty());
    }
}
