//! Outbound deliveries to providers (integrators' webhook today; WeChat, SMS and app push
//! plug in the same way): a transactional outbox in the store, one work queue per provider,
//! retries with growing delays, parking, and a relay that republishes what a failure lost.
//!
//! The path of one delivery:
//! 1. A session stores a message and, in the same transaction, the outbox rows a
//!    [`DeliveryPlan`] asks for ([`crate::store::Turn::outbox`]); after the commit it publishes
//!    a [`DeliveryEnvelope`] (just the row id) to `outbound.{channel}`.
//! 2. A worker of that channel (on any node) claims the row (a lease, so two copies of an
//!    envelope never call the provider twice), calls the channel's [`Deliverer`], and settles
//!    the row: delivered; or, on a transient failure, pending again with its next due time
//!    and the envelope published with that delay (RabbitMQ: a TTL queue that dead-letters back
//!    into `outbound.{channel}`); or parked after a permanent failure or `max_attempts`.
//! 3. The relay on every node republishes rows that are long past due (their envelope was
//!    never confirmed, or was lost with a broker or node) and takes over expired leases.
//!
//! A provider that takes a message and then fails to answer can still see it twice (the
//! lease expires and the delivery is retried with the same id): the webhook carries a stable
//! `webhook-id` for receivers to deduplicate, as Standard Webhooks prescribes.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use serde::{Deserialize, Serialize};

use crate::bus::{Bus, Delivery, Route};
use crate::domain::Message;
use crate::settings::DeliverySettings;
use crate::store::{OutboxItem, OutboxStatus, Settlement, Store};
use crate::telemetry::Metrics;

/// The work queue of one outbound channel.
pub fn outbound_queue(channel: &str) -> String {
    format!("outbound.{channel}")
}

/// What travels on `outbound.{channel}`: the outbox row is the truth, the message only says
/// which row to work on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryEnvelope {
    /// The outbox row id.
    pub id: String,
}

impl DeliveryEnvelope {
    /// The route and payload announcing `item` to its channel's workers.
    pub fn announce(item: &OutboxItem) -> (Route, Vec<u8>) {
        let envelope = DeliveryEnvelope {
            id: item.id.clone(),
        };
        (
            Route::Queue(outbound_queue(&item.channel)),
            serde_json::to_vec(&envelope).unwrap_or_default(),
        )
    }
}

/// Which provider deliveries a newly stored message needs.
pub trait DeliveryPlan: Send + Sync + 'static {
    /// The outbox rows for `message` (none for most messages and plans).
    fn deliveries(&self, message: &Message, now: DateTime<Utc>) -> Vec<OutboxItem>;
}

/// No provider deliveries at all (no outbound channel configured).
pub struct NoDeliveries;

impl DeliveryPlan for NoDeliveries {
    fn deliveries(&self, _: &Message, _: DateTime<Utc>) -> Vec<OutboxItem> {
        Vec::new()
    }
}

/// Every plan of a node, one after another.
pub struct Plans(pub Vec<Arc<dyn DeliveryPlan>>);

impl DeliveryPlan for Plans {
    fn deliveries(&self, message: &Message, now: DateTime<Utc>) -> Vec<OutboxItem> {
        self.0
            .iter()
            .flat_map(|plan| plan.deliveries(message, now))
            .collect()
    }
}

/// Why a provider did not take a delivery.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// Worth another attempt (timeout, connection refused, 5xx, 429).
    #[error("transient: {0}")]
    Transient(String),
    /// Will never work as it is (4xx other than 408/429, a refused payload).
    #[error("permanent: {0}")]
    Permanent(String),
}

/// What a provider said when it took a delivery.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Receipt {
    /// The provider's id of the message (for its status callbacks), when it gives one.
    pub provider_ref: Option<String>,
}

/// Sends one outbox row to a provider, in the provider's wire format.
#[async_trait]
pub trait Deliverer: Send + Sync + 'static {
    /// The outbound channel served (`webhook`, `wechat`, `sms`, `app_push`).
    fn channel(&self) -> &str;
    /// One attempt.
    async fn deliver(&self, item: &OutboxItem) -> Result<Receipt, DeliveryError>;
}

/// What happens after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    /// Try again after this delay.
    Retry(Duration),
    /// Give up: keep the row parked for operators.
    Park,
}

/// Retry policy: exponential back-off, capped, and a bound on attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base: Duration,
    pub max: Duration,
}

impl RetryPolicy {
    /// The policy of the settings.
    pub fn from_settings(settings: &DeliverySettings) -> Self {
        Self {
            max_attempts: settings.max_attempts,
            base: Duration::from_millis(settings.retry_base_ms),
            max: Duration::from_millis(settings.retry_max_ms),
        }
    }

    /// What to do after attempt number `attempt` (1 = the first) failed with `error`.
    pub fn after_failure(&self, attempt: u32, error: &DeliveryError) -> NextStep {
        if matches!(error, DeliveryError::Permanent(_)) || attempt >= self.max_attempts {
            return NextStep::Park;
        }
        let doublings = attempt.saturating_sub(1).min(31);
        let delay = self.base.saturating_mul(1_u32 << doublings).min(self.max);
        NextStep::Retry(delay)
    }
}

/// Pause before a worker subscribes again after its subscription failed.
const RESUBSCRIBE_DELAY: Duration = Duration::from_secs(1);
/// Pause before a delivery is handed back when the store could not be reached.
const STORE_RETRY_DELAY: Duration = Duration::from_millis(500);
/// How early (by this node's clock) a retry may be taken up: clocks of nodes differ a little.
const CLOCK_SKEW_ALLOWANCE: chrono::Duration = chrono::Duration::seconds(2);
/// Rows the relay republishes per round.
const RELAY_BATCH: u32 = 500;

type Limiter = DefaultDirectRateLimiter;

/// The delivery workers and the relay of one node.
#[derive(Clone)]
pub struct DeliveryService {
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
    metrics: Arc<Metrics>,
    settings: DeliverySettings,
    policy: RetryPolicy,
}

impl DeliveryService {
    /// A service for `settings`; call [`DeliveryService::start`] to run it.
    pub fn new(
        store: Arc<dyn Store>,
        bus: Arc<dyn Bus>,
        metrics: Arc<Metrics>,
        settings: DeliverySettings,
    ) -> Self {
        let policy = RetryPolicy::from_settings(&settings);
        Self {
            store,
            bus,
            metrics,
            settings,
            policy,
        }
    }

    /// Runs one worker per deliverer and the relay, until the process ends.
    pub fn start(&self, deliverers: Vec<Arc<dyn Deliverer>>) {
        for deliverer in deliverers {
            tokio::spawn(self.clone().run_worker(deliverer));
        }
        tokio::spawn(self.clone().run_relay());
    }

    async fn run_worker(self, deliverer: Arc<dyn Deliverer>) {
        let queue = outbound_queue(deliverer.channel());
        let per_second =
            NonZeroU32::new(self.settings.rate_for(deliverer.channel())).unwrap_or(NonZeroU32::MIN);
        let limiter = Arc::new(RateLimiter::direct(Quota::per_second(per_second)));
        loop {
            match self.bus.consume(&queue).await {
                Ok(deliveries) => {
                    // Providers are slow and deliveries independent: several at once.
                    deliveries
                        .for_each_concurrent(self.settings.concurrency, |delivery| {
                            let (this, deliverer, limiter) =
                                (&self, Arc::clone(&deliverer), Arc::clone(&limiter));
                            async move {
                                this.handle(deliverer.as_ref(), limiter.as_ref(), delivery)
                                    .await;
                            }
                        })
                        .await;
                    tracing::warn!(%queue, "Delivery subscription ended; subscribing again.");
                }
                Err(error) => tracing::warn!(%queue, %error, "Cannot consume deliveries."),
            }
            tokio::time::sleep(RESUBSCRIBE_DELAY).await;
        }
    }

    /// One queue message: claim, attempt, settle, then ack. Whatever fails here, the row in
    /// the outbox still says what is left to do, and the relay picks it up.
    async fn handle(&self, deliverer: &dyn Deliverer, limiter: &Limiter, delivery: Delivery) {
        let Ok(envelope) = delivery.json::<DeliveryEnvelope>() else {
            tracing::warn!("Undecodable delivery envelope; parking it.");
            drop(delivery.nack(false).await);
            return;
        };
        let now = Utc::now();
        let lease_until =
            now + chrono::Duration::from_std(self.settings.lease()).unwrap_or_default();
        // A retry's envelope may arrive a little before its due time by this node's clock.
        let due_by = now + CLOCK_SKEW_ALLOWANCE;
        let item = match self
            .store
            .claim_outbox(&envelope.id, now, due_by, lease_until)
            .await
        {
            Ok(Some(item)) => item,
            // Settled, not due yet, or held by another worker: this copy has nothing to do
            // (the row's own envelope, or the relay, brings it back when it is due).
            Ok(None) => {
                drop(delivery.ack().await);
                return;
            }
            Err(error) => {
                tracing::warn!(id = %envelope.id, %error, "Cannot claim a delivery; handing it back.");
                tokio::time::sleep(STORE_RETRY_DELAY).await;
                drop(delivery.nack(true).await);
                return;
            }
        };
        // Only real attempts spend the provider's rate.
        limiter.until_ready().await;
        let channel = item.channel.clone();
        let attempt = item.attempts + 1;
        let (settlement, retry_after) = match deliverer.deliver(&item).await {
            Ok(receipt) => (
                Settlement::Delivered {
                    provider_ref: receipt.provider_ref,
                },
                None,
            ),
            Err(error) => match self.policy.after_failure(attempt, &error) {
                NextStep::Retry(delay) => {
                    tracing::info!(id = %item.id, attempt, %error, ?delay, "Delivery failed; retrying later.");
                    let due_at = Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default();
                    (
                        Settlement::Retry {
                            error: error.to_string(),
                            due_at,
                        },
                        Some(delay),
                    )
                }
                NextStep::Park => {
                    tracing::warn!(id = %item.id, attempt, %error, "Delivery parked.");
                    (
                        Settlement::Park {
                            error: error.to_string(),
                        },
                        None,
                    )
                }
            },
        };
        match self
            .store
            .settle_outbox(&item.id, lease_until, &settlement, Utc::now())
            .await
        {
            Ok(true) => {
                self.count(
                    &channel,
                    match settlement {
                        Settlement::Delivered { .. } => "delivered",
                        Settlement::Retry { .. } => "retried",
                        Settlement::Park { .. } => "parked",
                    },
                );
                if let Some(delay) = retry_after {
                    let queue = outbound_queue(&channel);
                    if let Err(error) = self
                        .bus
                        .publish_delayed(&queue, delivery.payload.clone(), delay)
                        .await
                    {
                        // The relay republishes the row once it is long past due.
                        tracing::warn!(id = %item.id, %error, "Could not schedule a retry; the relay will.");
                    }
                }
            }
            // The lease ran out and another worker took the row over: its outcome counts.
            Ok(false) => {
                tracing::warn!(id = %item.id, "A delivery attempt outlived its lease; its outcome is dropped.");
            }
            // The row stays claimed until its lease ends; then the relay hands it out again.
            Err(error) => {
                tracing::warn!(id = %item.id, %error, "Could not record a delivery attempt.");
            }
        }
        drop(delivery.ack().await);
    }

    fn count(&self, channel: &str, outcome: &str) {
        self.metrics
            .deliveries
            .with_label_values(&[channel, outcome])
            .inc();
    }

    async fn run_relay(self) {
        let every = Duration::from_millis(self.settings.relay_interval_ms);
        let replay_after = chrono::Duration::milliseconds(
            i64::try_from(self.settings.replay_after_ms).unwrap_or(i64::MAX),
        );
        loop {
            tokio::time::sleep(every).await;
            let now = Utc::now();
            match self
                .store
                .relay_outbox(now - replay_after, now, RELAY_BATCH)
                .await
            {
                Ok(rows) if !rows.is_empty() => {
                    tracing::info!(
                        rows = rows.len(),
                        "Republishing deliveries from the outbox."
                    );
                    let batch = rows.iter().map(DeliveryEnvelope::announce).collect();
                    self.metrics
                        .outbox_relayed
                        .inc_by(u64::try_from(rows.len()).unwrap_or(0));
                    if let Err(error) = self.bus.publish_all(batch).await {
                        // They are due again at the next stale point.
                        tracing::warn!(%error, "Republishing deliveries failed.");
                    }
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "Outbox relay could not read the store."),
            }
            if let Ok(counts) = self.store.outbox_counts().await {
                for status in [
                    OutboxStatus::Pending,
                    OutboxStatus::Sending,
                    OutboxStatus::Parked,
                ] {
                    let n = counts
                        .iter()
                        .find(|(s, _)| *s == status)
                        .map_or(0, |(_, n)| *n);
                    self.metrics
                        .outbox_rows
                        .with_label_values(&[status.as_str()])
                        .set(i64::try_from(n).unwrap_or(i64::MAX));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 5,
            base: Duration::from_secs(2),
            max: Duration::from_secs(10),
        }
    }

    #[test]
    fn transient_failures_back_off_exponentially_up_to_the_cap() {
        let p = policy();
        let e = DeliveryError::Transient("503".into());
        assert_eq!(
            p.after_failure(1, &e),
            NextStep::Retry(Duration::from_secs(2))
        );
        assert_eq!(
            p.after_failure(2, &e),
            NextStep::Retry(Duration::from_secs(4))
        );
        assert_eq!(
            p.after_failure(3, &e),
            NextStep::Retry(Duration::from_secs(8))
        );
        assert_eq!(
            p.after_failure(4, &e),
            NextStep::Retry(Duration::from_secs(10))
        );
    }

    #[test]
    fn deliveries_park_after_the_last_attempt_or_a_permanent_error() {
        let p = policy();
        assert_eq!(
            p.after_failure(5, &DeliveryError::Transient("503".into())),
            NextStep::Park
        );
        assert_eq!(
            p.after_failure(1, &DeliveryError::Permanent("400".into())),
            NextStep::Park
        );
    }

    #[test]
    fn huge_attempt_numbers_do_not_overflow() {
        let p = RetryPolicy {
            max_attempts: u32::MAX,
            ..policy()
        };
        assert_eq!(
            p.after_failure(u32::MAX - 1, &DeliveryError::Transient("x".into())),
            NextStep::Retry(Duration::from_secs(10))
        );
    }
}
