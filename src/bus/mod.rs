//! Message bus behind one trait, [`Bus`], with one implementation per deployment: in-process
//! ([`memory::MemoryBus`], the embedded default) and RabbitMQ (production backbone).
//!
//! Two shapes of delivery, matching the RabbitMQ topology of `docs/architecture.md`:
//! - **work queues** ([`Route::Queue`], [`Bus::consume`]): durable, messages wait while no one
//!   consumes, each message goes to one consumer, unacknowledged messages come back;
//! - **topics** ([`Route::Topic`], [`Bus::subscribe`]): every live subscription whose pattern
//!   matches the routing key gets a copy; nobody listening means nobody gets it.
//!
//! Payloads are bytes; [`publish_json`] and [`Delivery::json`] add the typed layer. The
//! contract is written down as executable checks in `conformance` (behind the `test-support`
//! feature).

#[cfg(any(test, feature = "test-support"))]
pub mod conformance;
pub mod memory;
pub mod rabbitmq;

use std::pin::Pin;

use async_trait::async_trait;
use futures_util::Stream;
use serde::{de::DeserializeOwned, Serialize};

/// Where a message goes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Route {
    /// A durable work queue by name.
    Queue(String),
    /// A routing key on the topic exchange (`agent.{id}`, `customer.{id}`).
    Topic(String),
}

/// Bus failures.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("the bus is unavailable")]
    Unavailable(#[source] anyhow::Error),
    #[error("could not encode or decode a bus message")]
    Codec(#[source] serde_json::Error),
}

/// Shorthand for bus results.
pub type BusResult<T> = Result<T, BusError>;

/// A stream of deliveries; ends when the bus shuts down.
pub type Subscription = Pin<Box<dyn Stream<Item = Delivery> + Send>>;

/// Settles one delivery with the bus that produced it.
#[async_trait]
pub trait Acker: Send {
    /// The message is done with.
    async fn ack(self: Box<Self>) -> BusResult<()>;
    /// The message was not handled; `requeue` puts it back for another attempt.
    async fn nack(self: Box<Self>, requeue: bool) -> BusResult<()>;
    /// Called when a delivery is dropped unsettled (the consumer died): the message must come
    /// back, as it does when an AMQP channel closes with unacknowledged deliveries.
    fn abandon(self: Box<Self>);
}

/// One received message.
pub struct Delivery {
    /// The bytes published.
    pub payload: Vec<u8>,
    /// True when this message was delivered before and not acknowledged.
    pub redelivered: bool,
    acker: Option<Box<dyn Acker>>,
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("bytes", &self.payload.len())
            .field("redelivered", &self.redelivered)
            .finish()
    }
}

impl Delivery {
    /// Builds a delivery (for bus implementations).
    pub fn new(payload: Vec<u8>, redelivered: bool, acker: Box<dyn Acker>) -> Self {
        Self {
            payload,
            redelivered,
            acker: Some(acker),
        }
    }

    /// Decodes the payload as JSON.
    pub fn json<T: DeserializeOwned>(&self) -> BusResult<T> {
        serde_json::from_slice(&self.payload).map_err(BusError::Codec)
    }

    /// Acknowledges: the message is handled and will not come back.
    pub async fn ack(mut self) -> BusResult<()> {
        match self.acker.take() {
            Some(acker) => acker.ack().await,
            None => Ok(()),
        }
    }

    /// Rejects; with `requeue` the message is delivered again.
    pub async fn nack(mut self, requeue: bool) -> BusResult<()> {
        match self.acker.take() {
            Some(acker) => acker.nack(requeue).await,
            None => Ok(()),
        }
    }
}

impl Drop for Delivery {
    fn drop(&mut self) {
        if let Some(acker) = self.acker.take() {
            acker.abandon();
        }
    }
}

/// A message bus.
#[async_trait]
pub trait Bus: Send + Sync + 'static {
    /// Cheap liveness check, for `/readyz`.
    async fn ping(&self) -> BusResult<()>;
    /// Publishes and returns once the bus has taken responsibility for the message
    /// (publisher confirm on RabbitMQ).
    async fn publish(&self, route: &Route, payload: Vec<u8>) -> BusResult<()>;
    /// Publishes several messages in this order and returns once the bus has taken all of
    /// them (on RabbitMQ the confirms are awaited together, not one by one). Stops at the
    /// first failure.
    async fn publish_all(&self, batch: Vec<(Route, Vec<u8>)>) -> BusResult<()> {
        for (route, payload) in batch {
            self.publish(&route, payload).await?;
        }
        Ok(())
    }
    /// Publishes to work queue `queue` so that it arrives there after `delay` (retry
    /// back-off). RabbitMQ parks it in a delay queue whose TTL dead-letters it into `queue`;
    /// the in-process bus holds it in a timer. Returns once the bus has taken responsibility.
    async fn publish_delayed(
        &self,
        queue: &str,
        payload: Vec<u8>,
        delay: std::time::Duration,
    ) -> BusResult<()>;
    /// Messages parked after too many failed deliveries (RabbitMQ's `{namespace}.parked`
    /// queue), for metrics and operators. The in-process bus parks nothing.
    async fn parked_count(&self) -> BusResult<u64> {
        Ok(0)
    }
    /// Consumes a work queue (declared on first use).
    async fn consume(&self, queue: &str) -> BusResult<Subscription>;
    /// Receives the messages of `route` for as long as the stream lives: for a topic route,
    /// a copy of every message whose key matches its pattern (`*` = one word, `#` = zero or
    /// more words, words separated by `.`); for a queue route, its share as a competing
    /// consumer ([`Bus::consume`]). Routes come from the same functions publishers use, so a
    /// topic is never spelled twice.
    async fn subscribe(&self, route: &Route) -> BusResult<Subscription> {
        match route {
            Route::Topic(pattern) => self.subscribe_topic(pattern).await,
            Route::Queue(queue) => self.consume(queue).await,
        }
    }
    /// The backend's topic subscription behind [`Bus::subscribe`].
    async fn subscribe_topic(&self, pattern: &str) -> BusResult<Subscription>;
}

/// Encodes `event` as JSON and publishes it.
pub async fn publish_json<T: Serialize + ?Sized>(
    bus: &dyn Bus,
    route: &Route,
    event: &T,
) -> BusResult<()> {
    let payload = serde_json::to_vec(event).map_err(BusError::Codec)?;
    bus.publish(route, payload).await
}

/// AMQP topic matching: `*` matches one word, `#` zero or more.
pub fn topic_matches(pattern: &str, key: &str) -> bool {
    fn go(p: &[&str], k: &[&str]) -> bool {
        match (p.first(), k.first()) {
            (None, None) => true,
            (Some(&"#"), _) => go(&p[1..], k) || (!k.is_empty() && go(p, &k[1..])),
            (Some(&"*"), Some(_)) => go(&p[1..], &k[1..]),
            (Some(pw), Some(kw)) if pw == kw => go(&p[1..], &k[1..]),
            _ => false,
        }
    }
    let p: Vec<&str> = pattern.split('.').collect();
    let k: Vec<&str> = key.split('.').collect();
    go(&p, &k)
}

#[cfg(test)]
mod tests {
    use super::topic_matches;

    #[test]
    fn topic_patterns_follow_amqp_rules() {
        assert!(topic_matches("agent.alice", "agent.alice"));
        assert!(!topic_matches("agent.alice", "agent.bob"));
        assert!(topic_matches("agent.*", "agent.bob"));
        assert!(!topic_matches("agent.*", "agent.bob.x"));
        assert!(topic_matches("agent.#", "agent.bob.x"));
        assert!(topic_matches("#", "anything.at.all"));
        assert!(topic_matches("agent.#", "agent"));
        assert!(!topic_matches("customer.*", "agent.bob"));
    }
}
