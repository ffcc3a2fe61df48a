//! The production bus: RabbitMQ through lapin.
//!
//! - Work queues ([`Route::Queue`]) are durable quorum queues with single-active-consumer on
//!   the default exchange, declared on first use; consumers use manual acks and a prefetch
//!   window. Every node consumes every work queue; the broker keeps one consumer active per
//!   queue and fails over to another when it dies.
//! - Topics ([`Route::Topic`]) go through the durable topic exchange `sb.topics`; each
//!   subscription is a private, exclusive, auto-delete queue bound with its pattern, read with
//!   manual acks and the prefetch window, so a stalled reader cannot flood the node's memory.
//! - Publishes wait for the broker's confirm (publisher confirms on) and are persistent.
//! - Each subscription has its own channel; dropping the subscription closes it, so the broker
//!   requeues what it had not acknowledged. A delivery dropped unsettled is nacked with requeue.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use anyhow::anyhow;
use async_trait::async_trait;
use futures_util::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicNackOptions, BasicPublishOptions, BasicQosOptions,
    ConfirmSelectOptions, ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions,
};
use lapin::publisher_confirm::Confirmation;
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, ExchangeKind};

use super::{Acker, Bus, BusError, BusResult, Delivery, Route, Subscription};

/// Suffix of the topic exchange every `Route::Topic` goes through (`{namespace}.topics`).
const TOPIC_EXCHANGE: &str = "topics";
/// Returns after which a work-queue message is parked: at most five deliveries in all.
const DELIVERY_LIMIT: i32 = 4;
/// Attempts at a publish the broker nacks (25 ms, doubling: about 1.6 s in all).
const PUBLISH_ATTEMPTS: u32 = 7;
/// Unacknowledged deliveries a consumer may hold.
const PREFETCH: u16 = 64;

fn unavailable(e: impl std::fmt::Display) -> BusError {
    BusError::Unavailable(anyhow!("RabbitMQ: {e}"))
}

/// RabbitMQ-backed [`Bus`].
pub struct RabbitBus {
    /// Prefix of every queue and exchange name (`sb` in production, unique per test).
    namespace: String,
    exchange: String,
    /// `x-expires` for work queues (tests: unused queues disappear); None in production.
    queue_expires_ms: Option<i64>,
    url: String,
    /// The live connection and its confirming publisher channel; replaced after a loss.
    link: tokio::sync::Mutex<Option<Arc<Link>>>,
    declared: Mutex<HashSet<String>>,
}

/// One connection to the broker.
struct Link {
    connection: Connection,
    publisher: Channel,
}

impl Link {
    fn healthy(&self) -> bool {
        self.connection.status().connected() && self.publisher.status().connected()
    }
}

/// Longest wait for the broker to answer a connection attempt.
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

impl RabbitBus {
    /// Connects (failing fast if the broker is not there), opens a confirming publisher
    /// channel and declares the exchanges. Later losses are repaired by reconnecting on the
    /// next use, so a broker restart heals by itself.
    pub async fn connect(
        url: &str,
        namespace: &str,
        queue_expires_ms: u64,
    ) -> anyhow::Result<Self> {
        let bus = Self {
            namespace: namespace.to_owned(),
            exchange: format!("{namespace}.{TOPIC_EXCHANGE}"),
            queue_expires_ms: i64::try_from(queue_expires_ms).ok().filter(|ms| *ms > 0),
            url: url.to_owned(),
            link: tokio::sync::Mutex::new(None),
            declared: Mutex::new(HashSet::new()),
        };
        bus.link().await?;
        Ok(bus)
    }

    /// The live link, reconnecting if there is none or it broke.
    async fn link(&self) -> BusResult<Arc<Link>> {
        let mut guard = self.link.lock().await;
        if let Some(link) = guard.as_ref().filter(|l| l.healthy()) {
            return Ok(Arc::clone(link));
        }
        let link = tokio::time::timeout(CONNECT_TIMEOUT, self.open_link())
            .await
            .map_err(|_| unavailable("connection attempt timed out"))?
            .map_err(unavailable)?;
        let link = Arc::new(link);
        // Queues are durable, but declare again on the new connection (cheap, idempotent).
        if let Ok(mut declared) = self.declared.lock() {
            declared.clear();
        }
        if guard.is_some() {
            tracing::info!("Reconnected to RabbitMQ.");
        }
        *guard = Some(Arc::clone(&link));
        Ok(link)
    }

    async fn open_link(&self) -> anyhow::Result<Link> {
        let namespace = self.namespace.as_str();
        let exchange = self.exchange.as_str();
        // Drive lapin's I/O with the tokio runtime we already run on.
        let properties = ConnectionProperties::default()
            .with_executor(tokio_executor_trait::Tokio::current())
            .with_reactor(tokio_reactor_trait::Tokio);
        let connection = Connection::connect(&self.url, properties).await?;
        let publisher = connection.create_channel().await?;
        publisher
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        declare_exchange(&publisher, exchange, ExchangeKind::Topic).await?;
        // Where poison messages go: a fanout exchange into one durable queue, kept for
        // operators to inspect (and visible as a queue depth in the broker's metrics).
        let parked = format!("{namespace}.parked");
        declare_exchange(&publisher, &parked, ExchangeKind::Fanout).await?;
        let parked_args = quorum_args(self.queue_expires_ms);
        publisher
            .queue_declare(
                &parked,
                QueueDeclareOptions {
                    durable: true,
                    ..QueueDeclareOptions::default()
                },
                parked_args,
            )
            .await?;
        publisher
            .queue_bind(
                &parked,
                &parked,
                "",
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
        Ok(Link {
            connection,
            publisher,
        })
    }

    /// Declares a durable quorum work queue once per process.
    async fn declare_queue(&self, channel: &Channel, name: &str) -> BusResult<()> {
        let mut args = quorum_args(self.queue_expires_ms);
        // One consumer at a time across the cluster: per-queue order, and a dead consumer's
        // queue moves to a live one (session shards, the dispatcher's standbys).
        args.insert("x-single-active-consumer".into(), AMQPValue::Boolean(true));
        // A message that keeps failing (its consumer dies or rejects it every time) is parked
        // in `{namespace}.parked` instead of blocking its queue forever.
        args.insert(
            "x-delivery-limit".into(),
            AMQPValue::LongInt(DELIVERY_LIMIT),
        );
        args.insert(
            "x-dead-letter-exchange".into(),
            AMQPValue::LongString(self.parked_name().into()),
        );
        self.declare_once(channel, name, args).await
    }

    /// Declares a durable queue with `args`, once per process (and again after a reconnect).
    async fn declare_once(&self, channel: &Channel, name: &str, args: FieldTable) -> BusResult<()> {
        let known = self
            .declared
            .lock()
            .map(|d| d.contains(name))
            .unwrap_or(false);
        if known {
            return Ok(());
        }
        channel
            .queue_declare(
                name,
                QueueDeclareOptions {
                    durable: true,
                    ..QueueDeclareOptions::default()
                },
                args,
            )
            .await
            .map_err(unavailable)?;
        if let Ok(mut declared) = self.declared.lock() {
            declared.insert(name.to_owned());
        }
        Ok(())
    }

    /// Exchange and routing key of a route (declaring a work queue on first use).
    async fn target(&self, link: &Link, route: &Route) -> BusResult<(String, String)> {
        Ok(match route {
            Route::Queue(name) => {
                let name = self.queue_name(name);
                self.declare_queue(&link.publisher, &name).await?;
                (String::new(), name)
            }
            Route::Topic(key) => (self.exchange.clone(), key.clone()),
        })
    }

    async fn publish_on(&self, link: &Link, route: &Route, payload: &[u8]) -> BusResult<()> {
        let (exchange, key) = self.target(link, route).await?;
        publish_confirmed(&link.publisher, &exchange, &key, payload).await
    }

    /// Publishes a batch on `link` in order, then awaits the confirms together. A message
    /// the broker nacks (no queue leader for a moment) is retried alone with back-off, so it
    /// may land after later messages of the batch.
    async fn publish_batch_on(&self, link: &Link, batch: &[(Route, Vec<u8>)]) -> BusResult<()> {
        // Send everything in order first, then collect the confirms: one round trip for the
        // batch instead of one per message.
        let mut sent = Vec::with_capacity(batch.len());
        for (route, payload) in batch {
            let (exchange, key) = self.target(link, route).await?;
            let confirm = link
                .publisher
                .basic_publish(
                    &exchange,
                    &key,
                    BasicPublishOptions::default(),
                    payload,
                    BasicProperties::default().with_delivery_mode(2),
                )
                .await
                .map_err(unavailable)?;
            sent.push((exchange, key, payload, confirm));
        }
        for (exchange, key, payload, confirm) in sent {
            if !matches!(confirm.await.map_err(unavailable)?, Confirmation::Ack(_)) {
                // Nacked (no queue leader for a moment): the slow path retries with back-off.
                publish_confirmed(&link.publisher, &exchange, &key, payload).await?;
            }
        }
        Ok(())
    }

    /// Declares the delay queue in front of `target`: messages expire after `ttl_ms` and are
    /// dead-lettered (at least once) into `target`.
    async fn declare_delay_queue(
        &self,
        channel: &Channel,
        name: &str,
        target: &str,
        ttl_ms: i64,
    ) -> BusResult<()> {
        let mut args = quorum_args(self.queue_expires_ms);
        args.insert("x-message-ttl".into(), AMQPValue::LongLongInt(ttl_ms));
        args.insert(
            "x-dead-letter-exchange".into(),
            AMQPValue::LongString("".into()),
        );
        args.insert(
            "x-dead-letter-routing-key".into(),
            AMQPValue::LongString(target.into()),
        );
        // At-least-once dead-lettering (quorum queues) needs reject-publish overflow.
        args.insert(
            "x-dead-letter-strategy".into(),
            AMQPValue::LongString("at-least-once".into()),
        );
        args.insert(
            "x-overflow".into(),
            AMQPValue::LongString("reject-publish".into()),
        );
        self.declare_once(channel, name, args).await
    }

    fn parked_name(&self) -> String {
        format!("{}.parked", self.namespace)
    }

    fn queue_name(&self, name: &str) -> String {
        format!("{}.{name}", self.namespace)
    }

    async fn consumer_channel(&self) -> BusResult<Channel> {
        let channel = self
            .link()
            .await?
            .connection
            .create_channel()
            .await
            .map_err(unavailable)?;
        channel
            .basic_qos(PREFETCH, BasicQosOptions::default())
            .await
            .map_err(unavailable)?;
        Ok(channel)
    }
}

/// Arguments of a durable quorum queue, with `x-expires` when set (test brokers).
fn quorum_args(expires_ms: Option<i64>) -> FieldTable {
    let mut args = FieldTable::default();
    args.insert(
        "x-queue-type".into(),
        AMQPValue::LongString("quorum".into()),
    );
    if let Some(ms) = expires_ms {
        args.insert("x-expires".into(), AMQPValue::LongLongInt(ms));
    }
    args
}

/// Publishes a persistent message and waits for the broker's confirm. A quorum queue nacks
/// while it has no leader (just declared, or failing over): retry a few times with back-off
/// before reporting the bus unavailable.
async fn publish_confirmed(
    channel: &Channel,
    exchange: &str,
    key: &str,
    payload: &[u8],
) -> BusResult<()> {
    let mut delay = std::time::Duration::from_millis(25);
    let mut last = None;
    for _ in 0..PUBLISH_ATTEMPTS {
        let confirm = channel
            .basic_publish(
                exchange,
                key,
                BasicPublishOptions::default(),
                payload,
                BasicProperties::default().with_delivery_mode(2),
            )
            .await
            .map_err(unavailable)?
            .await
            .map_err(unavailable)?;
        match confirm {
            Confirmation::Ack(_) => return Ok(()),
            other => last = Some(other),
        }
        tokio::time::sleep(delay).await;
        delay *= 2;
    }
    Err(unavailable(format!("publish not confirmed: {last:?}")))
}

/// Declares a durable exchange.
async fn declare_exchange(channel: &Channel, name: &str, kind: ExchangeKind) -> lapin::Result<()> {
    channel
        .exchange_declare(
            name,
            kind,
            ExchangeDeclareOptions {
                durable: true,
                ..ExchangeDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await
}

struct RabbitAcker {
    acker: lapin::acker::Acker,
}

#[async_trait]
impl Acker for RabbitAcker {
    async fn ack(self: Box<Self>) -> BusResult<()> {
        self.acker
            .ack(BasicAckOptions::default())
            .await
            .map_err(unavailable)
    }

    async fn nack(self: Box<Self>, requeue: bool) -> BusResult<()> {
        self.acker
            .nack(BasicNackOptions {
                requeue,
                ..BasicNackOptions::default()
            })
            .await
            .map_err(unavailable)
    }

    fn abandon(self: Box<Self>) {
        // Settle asynchronously; if the channel is already closing, the broker requeues anyway.
        let acker = self.acker;
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        runtime.spawn(async move {
            let _ = acker
                .nack(BasicNackOptions {
                    requeue: true,
                    ..BasicNackOptions::default()
                })
                .await;
        });
    }
}

/// Closes a subscription's channel when the subscription is dropped.
struct ChannelGuard(Option<Channel>);

impl Drop for ChannelGuard {
    fn drop(&mut self) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if let Some(channel) = self.0.take() {
            runtime.spawn(async move {
                let _ = channel.close(200, "subscription dropped").await;
            });
        }
    }
}

fn subscription(channel: Channel, consumer: lapin::Consumer) -> Subscription {
    let guard = ChannelGuard(Some(channel));
    Box::pin(futures_util::stream::unfold(
        (consumer, guard),
        |(mut consumer, guard)| async move {
            match consumer.next().await? {
                Ok(delivery) => {
                    let item = Delivery::new(
                        delivery.data,
                        delivery.redelivered,
                        Box::new(RabbitAcker {
                            acker: delivery.acker,
                        }),
                    );
                    Some((item, (consumer, guard)))
                }
                Err(error) => {
                    tracing::warn!(%error, "RabbitMQ consumer failed; ending the subscription.");
                    None
                }
            }
        },
    ))
}

#[async_trait]
impl Bus for RabbitBus {
    async fn ping(&self) -> BusResult<()> {
        self.link().await.map(|_| ())
    }

    async fn publish(&self, route: &Route, payload: Vec<u8>) -> BusResult<()> {
        // One retry on a fresh connection if the link broke under us.
        let link = self.link().await?;
        match self.publish_on(&link, route, &payload).await {
            Err(_) if !link.healthy() => {
                let link = self.link().await?;
                self.publish_on(&link, route, &payload).await
            }
            outcome => outcome,
        }
    }

    async fn publish_all(&self, batch: Vec<(Route, Vec<u8>)>) -> BusResult<()> {
        // One retry on a fresh connection if the link broke under us (as `publish`); the
        // retry may repeat messages the broken link had sent, which consumers deduplicate.
        let link = self.link().await?;
        match self.publish_batch_on(&link, &batch).await {
            Err(_) if !link.healthy() => {
                let link = self.link().await?;
                self.publish_batch_on(&link, &batch).await
            }
            outcome => outcome,
        }
    }

    async fn publish_delayed(
        &self,
        queue: &str,
        payload: Vec<u8>,
        delay: std::time::Duration,
    ) -> BusResult<()> {
        let target = self.queue_name(queue);
        let ttl_ms = i64::try_from(delay.as_millis()).unwrap_or(i64::MAX).max(1);
        let delay_queue = format!("{target}.delay.{ttl_ms}");
        let link = self.link().await?;
        // The target must exist before anything is dead-lettered into it.
        self.declare_queue(&link.publisher, &target).await?;
        self.declare_delay_queue(&link.publisher, &delay_queue, &target, ttl_ms)
            .await?;
        // Through the default exchange into the delay queue, which nobody consumes: after its
        // TTL the broker dead-letters the message into the target queue.
        publish_confirmed(&link.publisher, "", &delay_queue, &payload).await
    }

    async fn parked_count(&self) -> BusResult<u64> {
        let channel = self
            .link()
            .await?
            .connection
            .create_channel()
            .await
            .map_err(unavailable)?;
        let queue = channel
            .queue_declare(
                &self.parked_name(),
                QueueDeclareOptions {
                    passive: true,
                    ..QueueDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await
            .map_err(unavailable)?;
        let count = queue.message_count();
        drop(channel.close(200, "done").await);
        Ok(u64::from(count))
    }

    async fn consume(&self, queue: &str) -> BusResult<Subscription> {
        let channel = self.consumer_channel().await?;
        let queue = self.queue_name(queue);
        self.declare_queue(&channel, &queue).await?;
        let consumer = channel
            .basic_consume(
                &queue,
                "",
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await
            .map_err(unavailable)?;
        Ok(subscription(channel, consumer))
    }

    async fn subscribe_topic(&self, pattern: &str) -> BusResult<Subscription> {
        let channel = self.consumer_channel().await?;
        let queue = channel
            .queue_declare(
                "",
                QueueDeclareOptions {
                    exclusive: true,
                    auto_delete: true,
                    ..QueueDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await
            .map_err(unavailable)?;
        channel
            .queue_bind(
                queue.name().as_str(),
                &self.exchange,
                pattern,
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .map_err(unavailable)?;
        let consumer = channel
            .basic_consume(
                queue.name().as_str(),
                "",
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await
            .map_err(unavailable)?;
        Ok(subscription(channel, consumer))
    }
}
