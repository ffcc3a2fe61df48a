//! Performs the actions flows ask for ([`ActionRequest`]): HTTP calls to the company's services
//! (an order system) and tickets in the store. The flow engine stays pure; the customer
//! session runs the action here and hands the [`ActionOutcome`] back to the bot.
//!
//! Side effects are keyed: a ticket's `source_key` and the HTTP `Idempotency-Key` header both
//! carry the customer message's channel and provider id, so a provider retrying the same
//! message opens no second ticket and lets the service ignore the repeated call.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;

use crate::bot::flows::{result_fields, ActionOutcome, ActionRequest};
use crate::domain::{ConversationId, CustomerId};
use crate::store::{Inserted, Store, Ticket};
use crate::telemetry::Metrics;

/// Whose turn an action belongs to.
#[derive(Debug, Clone)]
pub struct ActionContext {
    /// Stable across retries of the same customer message (`channel:external_id:n`).
    pub key: String,
    pub customer_id: CustomerId,
    pub conversation_id: ConversationId,
}

/// Something that performs flow actions.
#[async_trait]
pub trait ActionRunner: Send + Sync + 'static {
    /// Performs `action`; never fails: a failure is an outcome the flow handles.
    async fn run(&self, action: &ActionRequest, context: &ActionContext) -> ActionOutcome;
}

/// A runner for nodes (and benchmarks) without services: every action fails, so flows hand
/// over to a person.
pub struct NoActions;

#[async_trait]
impl ActionRunner for NoActions {
    async fn run(&self, _action: &ActionRequest, _context: &ActionContext) -> ActionOutcome {
        ActionOutcome::Failed {
            reason: "no flow actions on this node".to_owned(),
        }
    }
}

/// Largest service answer read (bytes); flows only use top-level fields.
const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// A service's answer body, read chunk by chunk up to [`MAX_RESPONSE_BYTES`]; None when it
/// is larger (it is not read further, so a huge answer costs no memory).
async fn capped_body(mut response: reqwest::Response) -> Result<Option<Vec<u8>>, String> {
    if response
        .content_length()
        .is_some_and(|n| n > MAX_RESPONSE_BYTES as u64)
    {
        return Ok(None);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body))
}

/// The node's action runner: HTTP with a short timeout, tickets in the store.
pub struct FlowActions {
    client: reqwest::Client,
    services: BTreeMap<String, String>,
    store: Arc<dyn Store>,
    metrics: Arc<Metrics>,
}

impl FlowActions {
    /// A runner calling `services` (name → base URL) with `timeout` per call.
    pub fn new(
        services: BTreeMap<String, String>,
        timeout: Duration,
        store: Arc<dyn Store>,
        metrics: Arc<Metrics>,
    ) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(concat!("switchboard/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            client,
            services,
            store,
            metrics,
        })
    }

    async fn http(
        &self,
        service: &str,
        method: &str,
        path: &str,
        body: Option<&serde_json::Value>,
        key: &str,
    ) -> Result<ActionOutcome, String> {
        let base = self
            .services
            .get(service)
            .ok_or_else(|| format!("no base URL for service '{service}' (bot.services)"))?;
        let url = format!("{}{}", base.trim_end_matches('/'), path);
        let method = reqwest::Method::from_bytes(method.as_bytes())
            .map_err(|_| format!("bad method {method}"))?;
        let mut request = self
            .client
            .request(method, &url)
            .header("Idempotency-Key", key)
            .header("Accept", "application/json");
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let fields = match capped_body(response).await? {
            Some(bytes) => serde_json::from_slice::<serde_json::Value>(&bytes)
                .map(|v| result_fields(&v))
                .unwrap_or_default(),
            // An oversized answer still tells its status; its fields are not read.
            None => BTreeMap::new(),
        };
        Ok(ActionOutcome::Done { status, fields })
    }

    async fn ticket(
        &self,
        kind: &str,
        subject: &str,
        fields: &BTreeMap<String, String>,
        context: &ActionContext,
    ) -> Result<ActionOutcome, String> {
        let ticket = Ticket {
            id: new_ticket_id(),
            customer_id: context.customer_id.clone(),
            conversation_id: Some(context.conversation_id.clone()),
            kind: kind.to_owned(),
            subject: subject.to_owned(),
            fields: fields.clone(),
            status: "open".to_owned(),
            source_key: context.key.clone(),
            created_at: Utc::now(),
        };
        match self.store.open_ticket(&ticket).await {
            Ok(Inserted::New(t) | Inserted::Duplicate(t)) => Ok(ActionOutcome::Ticket { id: t.id }),
            Err(e) => Err(e.to_string()),
        }
    }
}

#[async_trait]
impl ActionRunner for FlowActions {
    async fn run(&self, action: &ActionRequest, context: &ActionContext) -> ActionOutcome {
        let (kind, result) = match action {
            ActionRequest::Http {
                service,
                method,
                path,
                body,
                ..
            } => (
                "http",
                self.http(service, method, path, body.as_ref(), &context.key)
                    .await,
            ),
            ActionRequest::Ticket {
                kind,
                subject,
                fields,
            } => ("ticket", self.ticket(kind, subject, fields, context).await),
        };
        let outcome = match result {
            Ok(outcome) => outcome,
            Err(reason) => {
                tracing::warn!(%reason, key = %context.key, kind, "A flow action failed.");
                ActionOutcome::Failed { reason }
            }
        };
        let label = match &outcome {
            ActionOutcome::Done { status, .. } if (200..300).contains(status) => "ok",
            ActionOutcome::Done { .. } => "status",
            ActionOutcome::Ticket { .. } => "ok",
            ActionOutcome::Failed { .. } => "failed",
        };
        self.metrics
            .flow_actions
            .with_label_values(&[kind, label])
            .inc();
        outcome
    }
}

/// A ticket number people can read out on the phone: `TK` + date + 6 characters.
fn new_ticket_id() -> String {
    let random = uuid::Uuid::new_v4().simple().to_string().to_uppercase();
    format!("TK{}{}", Utc::now().format("%y%m%d"), &random[..6])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticket_ids_are_short_readable_and_distinct() {
        let a = new_ticket_id();
        let b = new_ticket_id();
        assert_eq!(a.len(), 14, "{a}");
        assert!(a.starts_with("TK") && a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }
}
