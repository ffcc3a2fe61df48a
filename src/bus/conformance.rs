//! The [`Bus`] contract as executable checks. Every implementation must pass [`run_all`];
//! the test suite runs it against the in-process bus (and RabbitMQ where available).
//!
//! Each check uses fresh queue names and routing keys, so checks can share one broker. Waits
//! are bounded (a missing message fails the check instead of hanging), never asserted as
//! durations.
//!
//! Test support: compiled for the crate's unit tests and with the `test-support` feature (the
//! integration tests and benches enable it through the crate's dev-dependency on itself), not
//! into the library that binaries link.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, ensure, Context};
use futures_util::StreamExt;

use super::{Bus, Delivery, Route, Subscription};

/// Upper bound for a message that should arrive.
const ARRIVAL_LIMIT: Duration = Duration::from_secs(10);
/// How long to listen for a message that must not arrive.
const SILENCE: Duration = Duration::from_millis(300);

/// Runs every check in order, stopping at the first failure.
pub async fn run_all(bus: Arc<dyn Bus>) -> anyhow::Result<()> {
    bus.ping().await.context("ping")?;
    queue_keeps_messages_until_consumed_in_order(bus.as_ref())
        .await
        .context("queue order")?;
    nack_with_requeue_redelivers(bus.as_ref())
        .await
        .context("nack")?;
    abandoned_delivery_is_redelivered(bus.as_ref())
        .await
        .context("abandon")?;
    competing_consumers_get_each_message_once(Arc::clone(&bus))
        .await
        .context("competing consumers")?;
    topics_copy_to_every_matching_subscriber(bus.as_ref())
        .await
        .context("topics")?;
    delayed_messages_arrive_after_later_direct_ones(bus.as_ref())
        .await
        .context("delayed publish")?;
    Ok(())
}

fn unique(prefix: &str) -> String {
    format!("{prefix}.{}", uuid::Uuid::new_v4().simple())
}

async fn next(sub: &mut Subscription) -> anyhow::Result<Delivery> {
    match tokio::time::timeout(ARRIVAL_LIMIT, sub.next()).await {
        Ok(Some(d)) => Ok(d),
        Ok(None) => bail!("subscription ended"),
        Err(_) => bail!("no message arrived within {ARRIVAL_LIMIT:?}"),
    }
}

async fn silent(sub: &mut Subscription) -> anyhow::Result<()> {
    if let Ok(Some(d)) = tokio::time::timeout(SILENCE, sub.next()).await {
        bail!(
            "unexpected message {:?}",
            String::from_utf8_lossy(&d.payload)
        );
    }
    Ok(())
}

async fn queue_keeps_messages_until_consumed_in_order(bus: &dyn Bus) -> anyhow::Result<()> {
    let queue = unique("conformance.order");
    for i in 0..5 {
        bus.publish(&Route::Queue(queue.clone()), format!("m{i}").into_bytes())
            .await?;
    }
    let mut sub = bus.consume(&queue).await?;
    for i in 0..5 {
        let d = next(&mut sub).await?;
        ensure!(
            d.payload == format!("m{i}").into_bytes(),
            "out of order at {i}"
        );
        ensure!(!d.redelivered);
        d.ack().await?;
    }
    silent(&mut sub).await
}

async fn nack_with_requeue_redelivers(bus: &dyn Bus) -> anyhow::Result<()> {
    let queue = unique("conformance.nack");
    bus.publish(&Route::Queue(queue.clone()), b"again".to_vec())
        .await?;
    let mut sub = bus.consume(&queue).await?;
    next(&mut sub).await?.nack(true).await?;
    let d = next(&mut sub).await?;
    ensure!(d.payload == b"again" && d.redelivered);
    d.nack(false).await?;
    silent(&mut sub).await
}

async fn abandoned_delivery_is_redelivered(bus: &dyn Bus) -> anyhow::Result<()> {
    let queue = unique("conformance.abandon");
    bus.publish(&Route::Queue(queue.clone()), b"keep me".to_vec())
        .await?;
    {
        let mut first = bus.consume(&queue).await?;
        let d = next(&mut first).await?;
        ensure!(d.payload == b"keep me");
        // The consumer dies with the delivery unsettled.
        drop(d);
        drop(first);
    }
    let mut second = bus.consume(&queue).await?;
    let d = next(&mut second).await?;
    ensure!(d.payload == b"keep me" && d.redelivered);
    d.ack().await?;
    Ok(())
}

async fn competing_consumers_get_each_message_once(bus: Arc<dyn Bus>) -> anyhow::Result<()> {
    let queue = unique("conformance.compete");
    let total = 100;
    let mut workers = Vec::new();
    for _ in 0..2 {
        let mut sub = bus.consume(&queue).await?;
        workers.push(tokio::spawn(async move {
            let mut got = Vec::new();
            while let Ok(Some(d)) = tokio::time::timeout(SILENCE * 3, sub.next()).await {
                got.push(String::from_utf8_lossy(&d.payload).into_owned());
                d.ack().await?;
            }
            anyhow::Ok(got)
        }));
    }
    for i in 0..total {
        bus.publish(&Route::Queue(queue.clone()), format!("{i}").into_bytes())
            .await?;
    }
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await??);
    }
    let distinct: BTreeSet<_> = all.iter().cloned().collect();
    ensure!(
        all.len() == total,
        "{} deliveries for {total} messages",
        all.len()
    );
    ensure!(distinct.len() == total, "some messages delivered twice");
    Ok(())
}

async fn topics_copy_to_every_matching_subscriber(bus: &dyn Bus) -> anyhow::Result<()> {
    let agent = unique("agent");
    let other = unique("agent");
    let mut exact = bus.subscribe(&Route::Topic(agent.clone())).await?;
    let mut second = bus.subscribe(&Route::Topic(agent.clone())).await?;
    let mut unrelated = bus.subscribe(&Route::Topic(other)).await?;
    bus.publish(&Route::Topic(agent.clone()), b"offer".to_vec())
        .await?;
    for sub in [&mut exact, &mut second] {
        let d = next(sub).await?;
        ensure!(d.payload == b"offer");
        d.ack().await?;
    }
    silent(&mut unrelated).await?;

    // Nobody subscribed: the message goes nowhere and does not appear later.
    let lonely = unique("customer");
    bus.publish(&Route::Topic(lonely.clone()), b"lost".to_vec())
        .await?;
    let mut late = bus.subscribe(&Route::Topic(lonely)).await?;
    silent(&mut late).await
}

async fn delayed_messages_arrive_after_later_direct_ones(bus: &dyn Bus) -> anyhow::Result<()> {
    let queue = unique("conformance.delay");
    let mut sub = bus.consume(&queue).await?;
    bus.publish_delayed(&queue, b"later".to_vec(), Duration::from_secs(2))
        .await?;
    bus.publish(&Route::Queue(queue.clone()), b"now".to_vec())
        .await?;
    // Order, not time: the delayed message was published first but comes second.
    let first = next(&mut sub).await?;
    ensure!(first.payload == b"now", "the direct message comes first");
    first.ack().await?;
    let second = next(&mut sub).await?;
    ensure!(second.payload == b"later", "the delayed message arrives");
    second.ack().await?;
    silent(&mut sub).await
}
