//! The one way into a customer's session: [`SessionRouter`] carries customer messages and
//! commands through the customer's shard queue to the node running the session, waits for
//! the answer, and runs the sessions of the shards this node consumes.
//!
//! Every node consumes every shard queue (`session.{shard}`); the bus makes one consumer
//! active per shard (RabbitMQ single-active-consumer), so a customer's session runs on
//! exactly one node and a dead node's shards fail over to a live one. Each shard's work is
//! split into per-customer lanes, so one customer's messages are handled in order and
//! different customers' at the same time. Senders that publish in batches (the dispatcher)
//! wrap a command with [`command_envelope`]; nobody builds a [`ShardMessage`] by hand.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix::prelude::*;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

use super::customer_session::{CustomerSession, Registry, SessionDeps};
use super::protocol::{
    session_route, shard_queue, Accepted, Inbound, SessionCommand, SessionError, SESSION_SHARDS,
};
use crate::bus::{publish_json, Delivery, Route};
use crate::domain::CustomerId;

/// A command on its way to a customer's session: the route of the customer's shard and the
/// envelope to publish there.
pub fn command_envelope(command: SessionCommand) -> (Route, ShardMessage) {
    let route = session_route(command.customer_id());
    (route, ShardMessage::Command { command })
}

/// Pause before the command listener subscribes again after a failure.
const LISTENER_RESTART_DELAY: Duration = Duration::from_secs(1);
/// Back-off between attempts at a failing session command.
const COMMAND_RETRY_DELAYS: [Duration; 3] = [
    Duration::from_millis(50),
    Duration::from_millis(250),
    Duration::from_millis(1000),
];

/// What travels on a session shard queue.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ShardMessage {
    /// A customer message; the outcome is published to the topic `reply_to`, tagged with
    /// `correlation`.
    Inbound {
        reply_to: String,
        correlation: String,
        customer_id: CustomerId,
        inbound: Inbound,
    },
    /// A command from an agent or the dispatcher.
    Command { command: SessionCommand },
}

/// The answer to [`ShardMessage::Inbound`], for the waiting edge.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ReplyEnvelope {
    correlation: String,
    reply: ShardReply,
}

/// The outcome of a customer message at its shard owner.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum ShardReply {
    Accepted(Accepted),
    UnknownCustomer,
    Unavailable,
}

type Pending = Arc<Mutex<HashMap<String, tokio::sync::oneshot::Sender<ShardReply>>>>;

/// Shard work: the message, its delivery, and whether the subscription that delivered it has
/// ended (then the bus hands the message to the shard's next owner, and this copy is dropped).
type Work = (ShardMessage, Delivery, Arc<AtomicBool>);
/// The receiving end of one customer's lane of shard work.
type Lane = tokio::sync::mpsc::UnboundedReceiver<Work>;
/// Open lanes by customer.
type Lanes = Arc<Mutex<HashMap<CustomerId, tokio::sync::mpsc::UnboundedSender<Work>>>>;

/// Routes customers' messages and commands through their shard to the node running their
/// session, and runs the sessions of the shards this node consumes.
///
/// Every node consumes every shard queue; the bus makes one consumer active per shard
/// (RabbitMQ single-active-consumer), so a customer's session runs on exactly one node and a
/// dead node's shards fail over to a live one. Edges send a customer message to its shard and
/// wait for the owner's answer on `reply.{instance}.{correlation}`.
#[derive(Clone)]
pub struct SessionRouter {
    deps: Arc<SessionDeps>,
    registry: Registry,
    /// This process's unique name (node id + random suffix) for replies.
    instance: String,
    pending: Pending,
    /// Per-customer work queues of the shards this node consumes.
    lanes: Lanes,
}

impl SessionRouter {
    /// A router with no sessions yet; call [`SessionRouter::start`] before use.
    pub fn new(deps: SessionDeps, node_id: &str) -> Self {
        Self {
            deps: Arc::new(deps),
            registry: Arc::default(),
            instance: format!(
                "{node_id}-{}",
                &uuid::Uuid::new_v4().simple().to_string()[..8]
            ),
            pending: Arc::default(),
            lanes: Arc::default(),
        }
    }

    /// Subscribes to this node's replies, then starts consuming every shard.
    pub async fn start(&self) -> anyhow::Result<()> {
        let replies = self.deps.bus.subscribe(&self.reply_route()).await?;
        actix::spawn(self.clone().run_replies(replies));
        for shard in 0..SESSION_SHARDS {
            actix::spawn(self.clone().run_shard(shard));
        }
        Ok(())
    }

    async fn run_replies(self, mut replies: crate::bus::Subscription) {
        while let Some(delivery) = replies.next().await {
            let envelope = delivery.json::<ReplyEnvelope>();
            if let Err(error) = delivery.ack().await {
                tracing::debug!(%error, "Ack of a reply failed.");
            }
            let Ok(ReplyEnvelope { correlation, reply }) = envelope else {
                tracing::warn!("Dropped an undecodable reply.");
                continue;
            };
            self.resolve(&correlation, reply);
        }
        // The bus connection was lost: subscribe again (bounded pause between attempts);
        // edges waiting meanwhile time out and their clients retry.
        tracing::warn!("The reply subscription ended; subscribing again.");
        loop {
            tokio::time::sleep(LISTENER_RESTART_DELAY).await;
            match self.deps.bus.subscribe(&self.reply_route()).await {
                Ok(replies) => {
                    actix::spawn(self.run_replies(replies));
                    return;
                }
                Err(error) => tracing::warn!(%error, "Reply subscription failed; retrying."),
            }
        }
    }

    async fn run_shard(self, shard: u32) {
        loop {
            if let Err(error) = self.consume_shard(shard).await {
                tracing::warn!(shard, error = ?error, "Shard consumer failed; restarting.");
            }
            tokio::time::sleep(LISTENER_RESTART_DELAY).await;
        }
    }

    async fn consume_shard(&self, shard: u32) -> anyhow::Result<()> {
        let mut deliveries = self.deps.bus.consume(&shard_queue(shard)).await?;
        let ended = Arc::new(AtomicBool::new(false));
        // Each delivery joins its customer's lane: one customer's messages are handled in
        // order, different customers' at the same time (bounded by the bus's prefetch, as
        // nothing is acknowledged before it is handled).
        while let Some(delivery) = deliveries.next().await {
            match delivery.json::<ShardMessage>() {
                Ok(message) => {
                    let customer = match &message {
                        ShardMessage::Inbound { customer_id, .. } => customer_id.clone(),
                        ShardMessage::Command { command } => command.customer_id().clone(),
                    };
                    self.enqueue(customer, (message, delivery, Arc::clone(&ended)));
                }
                Err(error) => {
                    tracing::warn!(%error, "Dropped an undecodable shard message.");
                    delivery.ack().await?;
                }
            }
        }
        // The broker requeues what this subscription had not acknowledged and may give the
        // shard to another node: work still waiting in lanes must not be done here as well.
        ended.store(true, Ordering::Release);
        Ok(())
    }

    /// Appends work to the customer's lane, opening the lane (a task) if it has none.
    fn enqueue(&self, customer: CustomerId, work: Work) {
        let mut lanes = self.lanes.lock().unwrap_or_else(|e| e.into_inner());
        let work = match lanes.get(&customer) {
            Some(lane) => match lane.send(work) {
                Ok(()) => return,
                // The lane just closed: open a new one with the work.
                Err(returned) => returned.0,
            },
            None => work,
        };
        let (lane, receiver) = tokio::sync::mpsc::unbounded_channel();
        // Cannot fail: the receiver is alive right here.
        drop(lane.send(work));
        lanes.insert(customer.clone(), lane);
        actix::spawn(self.clone().run_lane(customer, receiver));
    }

    /// Handles a customer's work in arrival order; the lane closes once it is empty.
    async fn run_lane(self, customer: CustomerId, mut receiver: Lane) {
        loop {
            let (message, delivery, ended) = match receiver.try_recv() {
                Ok(work) => work,
                // Close only if nothing arrived meanwhile (checked under the lock `enqueue`
                // takes, so no work can slip into a closed lane).
                Err(_) => {
                    let mut lanes = self.lanes.lock().unwrap_or_else(|e| e.into_inner());
                    match receiver.try_recv() {
                        Ok(work) => work,
                        Err(_) => {
                            lanes.remove(&customer);
                            return;
                        }
                    }
                }
            };
            if ended.load(Ordering::Acquire) {
                // Dropped unsettled: the bus redelivers it to the shard's current owner.
                drop(delivery);
                continue;
            }
            self.handle_shard_message(message, delivery).await;
        }
    }

    async fn handle_shard_message(&self, message: ShardMessage, delivery: Delivery) {
        match message {
            ShardMessage::Inbound {
                reply_to,
                correlation,
                customer_id,
                inbound,
            } => {
                let reply = match self.local_inbound(&customer_id, inbound).await {
                    Ok(accepted) => ShardReply::Accepted(accepted),
                    Err(SessionError::UnknownCustomer(_)) => ShardReply::UnknownCustomer,
                    Err(error) => {
                        tracing::warn!(%error, "Customer message not accepted.");
                        ShardReply::Unavailable
                    }
                };
                if reply_to == self.reply_key() {
                    // The edge is on this node: answer it directly, not through the broker.
                    self.resolve(&correlation, reply);
                } else {
                    let envelope = ReplyEnvelope { correlation, reply };
                    if let Err(error) =
                        publish_json(self.deps.bus.as_ref(), &Route::Topic(reply_to), &envelope)
                            .await
                    {
                        tracing::warn!(%error, "Could not answer an edge; it will time out and the client retries.");
                    }
                }
            }
            ShardMessage::Command { command } => {
                // Bounded retries with back-off: a failing customer must not stall the others.
                let mut outcome = self.local_command(command.clone()).await;
                for delay in COMMAND_RETRY_DELAYS {
                    if outcome.is_ok() {
                        break;
                    }
                    tokio::time::sleep(delay).await;
                    outcome = self.local_command(command.clone()).await;
                }
                if let Err(error) = outcome {
                    tracing::error!(%error, command = command.kind(), customer = %command.customer_id(), "Dropped a session command after retries; the session re-syncs from the store.");
                }
            }
        }
        if let Err(error) = delivery.ack().await {
            // The bus hands it out again; the store deduplicates.
            tracing::warn!(%error, "Ack of a shard message failed.");
        }
    }

    fn session(&self, customer: &CustomerId) -> Addr<CustomerSession> {
        let mut registry = self.registry.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(addr) = registry.get(customer).filter(|a| a.connected()) {
            return addr.clone();
        }
        let addr = CustomerSession::new(
            customer.clone(),
            Arc::clone(&self.deps),
            Arc::clone(&self.registry),
        )
        .start();
        registry.insert(customer.clone(), addr.clone());
        addr
    }

    async fn deliver<M>(&self, customer: &CustomerId, msg: M) -> Result<M::Result, SessionError>
    where
        M: actix::Message + Send + Clone + 'static,
        M::Result: Send,
        CustomerSession: Handler<M>,
    {
        // A session may stop (passivation) between lookup and send; then start a fresh one.
        for _ in 0..3 {
            match self.session(customer).send(msg.clone()).await {
                Ok(result) => return Ok(result),
                Err(MailboxError::Closed) => continue,
                Err(MailboxError::Timeout) => return Err(SessionError::Busy),
            }
        }
        Err(SessionError::Busy)
    }

    async fn local_inbound(
        &self,
        customer: &CustomerId,
        inbound: Inbound,
    ) -> Result<Accepted, SessionError> {
        self.deliver(customer, inbound).await?
    }

    async fn local_command(&self, command: SessionCommand) -> Result<(), SessionError> {
        let customer = command.customer_id().clone();
        self.deliver(&customer, command).await?
    }

    /// Hands a customer message to the customer's session, wherever it runs; returns once it
    /// is stored.
    pub async fn inbound(
        &self,
        customer: &CustomerId,
        inbound: Inbound,
    ) -> Result<Accepted, SessionError> {
        let correlation = uuid::Uuid::new_v4().simple().to_string();
        let (tx, rx) = tokio::sync::oneshot::channel();
        if let Ok(mut pending) = self.pending.lock() {
            pending.insert(correlation.clone(), tx);
        }
        let message = ShardMessage::Inbound {
            reply_to: self.reply_key(),
            correlation: correlation.clone(),
            customer_id: customer.clone(),
            inbound,
        };
        let published =
            publish_json(self.deps.bus.as_ref(), &session_route(customer), &message).await;
        let outcome = match published {
            Ok(()) => tokio::time::timeout(self.deps.reply_timeout, rx).await,
            Err(error) => {
                tracing::warn!(error = ?error, "Could not route a customer message.");
                Ok(Ok(ShardReply::Unavailable))
            }
        };
        if let Ok(mut pending) = self.pending.lock() {
            pending.remove(&correlation);
        }
        match outcome {
            Ok(Ok(ShardReply::Accepted(accepted))) => Ok(accepted),
            Ok(Ok(ShardReply::UnknownCustomer)) => {
                Err(SessionError::UnknownCustomer(customer.clone()))
            }
            Ok(Ok(ShardReply::Unavailable)) | Ok(Err(_)) | Err(_) => Err(SessionError::Busy),
        }
    }

    /// Sends a command to a customer's session, wherever it runs (through the shard queue).
    pub async fn command(&self, command: SessionCommand) -> Result<(), SessionError> {
        let (route, envelope) = command_envelope(command);
        publish_json(self.deps.bus.as_ref(), &route, &envelope)
            .await
            .map_err(|error| {
                tracing::warn!(%error, "Could not route a session command.");
                SessionError::Busy
            })
    }

    /// Hands the shard owner's answer to the edge waiting for it, if it still waits.
    fn resolve(&self, correlation: &str, reply: ShardReply) {
        let waiter = self
            .pending
            .lock()
            .ok()
            .and_then(|mut p| p.remove(correlation));
        if let Some(waiter) = waiter {
            // The edge may have given up (timeout); then nobody listens, which is fine.
            drop(waiter.send(reply));
        }
    }

    /// Session actors alive on this node.
    pub fn active(&self) -> usize {
        self.registry.lock().map(|r| r.len()).unwrap_or(0)
    }

    /// The topic this process's replies arrive on.
    fn reply_key(&self) -> String {
        format!("reply.{}", self.instance)
    }

    /// The route of [`SessionRouter::reply_key`].
    fn reply_route(&self) -> Route {
        Route::Topic(self.reply_key())
    }
}
