//! `CustomerSession`: one actor per active customer, whatever channel they write on.
//!
//! It persists every customer message before acknowledging it, runs the bot while no agent
//! owns the conversation, hands off to the dispatcher, bridges agent ⇄ customer, and closes
//! the conversation at wrap-up. Its state is a cache of the store: an idle session is
//! passivated (stopped) and a crashed or passivated one is rebuilt from the store on the next
//! message. Messages to one session are handled strictly one at a time (`AtomicResponse`), so
//! a customer's messages are processed in order.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix::prelude::*;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::delivery::{DeliveryEnvelope, DeliveryPlan};
use super::protocol::{
    agent_route, customer_route, dispatch_route, monitor_route, reply_key, Accepted, AgentEvent,
    CustomerEvent, DispatchEvent, Inbound, Reply, SessionCommand, SessionError, TransferTarget,
};
use crate::bot::{Bot, BotReply, BotTurn, Handoff};
use crate::bus::{publish_json, Bus, Route};
use crate::domain::{
    AgentId, Channel, Conversation, ConversationId, ConversationStatus, Customer, CustomerId,
    HandoffContext, Language, Message, MessageId, MessageText, Priority, Resolution, Sender, Task,
    TaskId, TaskStatus, Tier, TranscriptLine, Transfer,
};
use crate::routing::rules::Fallback;
use crate::store::{OutboxItem, QueueExit, Store, StoreError, Turn, TurnOutcome};
use crate::telemetry::Metrics;
use crate::views::{CustomerCard, MessageView};

/// What a session needs from the rest of the node.
pub struct SessionDeps {
    pub store: Arc<dyn Store>,
    pub bus: Arc<dyn Bus>,
    pub bot: Arc<dyn Bot>,
    /// Resolved conversations, for agent assist.
    pub assist: Arc<crate::bot::assist::Assistant>,
    /// Performs the bot's flow actions (order look-ups, tickets).
    pub actions: Arc<dyn crate::bot::actions::ActionRunner>,
    pub metrics: Arc<Metrics>,
    /// Which provider deliveries each stored message needs (outbox rows).
    pub deliveries: Arc<dyn DeliveryPlan>,
    /// Where messages to customers go: None = the channel they used last; Some(c) = `c`
    /// whenever the customer has an identity there (`identity.reply_channel`).
    pub reply_channel: Option<Channel>,
    /// Idle time before passivation.
    pub idle_timeout: Duration,
    /// How long an edge waits for the shard owner to store a message before answering 503
    /// (the client retries with the same id; the store deduplicates).
    pub reply_timeout: Duration,
}

/// The session actors alive on this node, by customer (a session removes itself when it
/// stops).
pub(super) type Registry = Arc<Mutex<HashMap<CustomerId, Addr<CustomerSession>>>>;

/// The actor. Its `state` is loaded lazily from the store and cached until passivation.
pub struct CustomerSession {
    customer_id: CustomerId,
    deps: Arc<SessionDeps>,
    registry: Registry,
    state: Option<SessionState>,
    last_activity: Instant,
}

impl CustomerSession {
    /// A session for `customer_id`, not yet started; it loads its state on its first message.
    pub(super) fn new(customer_id: CustomerId, deps: Arc<SessionDeps>, registry: Registry) -> Self {
        Self {
            customer_id,
            deps,
            registry,
            state: None,
            last_activity: Instant::now(),
        }
    }
}

impl Actor for CustomerSession {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.deps.metrics.active_sessions.inc();
        // Passivation check: a few times per idle period, stop if nothing happened.
        let every = (self.deps.idle_timeout / 4).max(Duration::from_millis(25));
        ctx.run_interval(every, |act, ctx| {
            if act.last_activity.elapsed() >= act.deps.idle_timeout {
                tracing::debug!(customer = %act.customer_id, "Passivating idle session.");
                ctx.stop();
            }
        });
    }

    fn stopped(&mut self, ctx: &mut Self::Context) {
        self.deps.metrics.active_sessions.dec();
        let me = ctx.address();
        let mut registry = self.registry.lock().unwrap_or_else(|e| e.into_inner());
        if registry.get(&self.customer_id) == Some(&me) {
            registry.remove(&self.customer_id);
        }
    }
}

impl CustomerSession {
    /// Runs `work` on the session state (loading it first if needed), one message at a time.
    fn atomically<R, F>(&mut self, work: F) -> AtomicResponse<Self, Result<R, SessionError>>
    where
        R: 'static,
        F: for<'a> FnOnce(
                &'a mut SessionState,
                &'a SessionDeps,
            )
                -> futures_util::future::LocalBoxFuture<'a, Result<R, SessionError>>
            + 'static,
    {
        self.last_activity = Instant::now();
        let deps = Arc::clone(&self.deps);
        let customer_id = self.customer_id.clone();
        let cached = self.state.take();
        AtomicResponse::new(Box::pin(
            async move {
                let mut state = match cached {
                    Some(state) => state,
                    None => match SessionState::load(&deps, &customer_id).await {
                        Ok(state) => state,
                        Err(e) => return (None, Err(e)),
                    },
                };
                let result = work(&mut state, &deps).await;
                (Some(state), result)
            }
            .into_actor(self)
            .map(|(state, result), act, _| {
                // After any failure the cache may disagree with the store: drop it, so the
                // next message rebuilds from the store.
                act.state = state.filter(|_| result.is_ok());
                act.last_activity = Instant::now();
                result
            }),
        ))
    }
}

impl Handler<Inbound> for CustomerSession {
    type Result = AtomicResponse<Self, Result<Accepted, SessionError>>;

    fn handle(&mut self, msg: Inbound, _: &mut Self::Context) -> Self::Result {
        self.atomically(move |state, deps| Box::pin(state.inbound(deps, msg)))
    }
}

impl Handler<SessionCommand> for CustomerSession {
    type Result = AtomicResponse<Self, Result<(), SessionError>>;

    fn handle(&mut self, msg: SessionCommand, _: &mut Self::Context) -> Self::Result {
        if let SessionCommand::Reload { .. } = msg {
            // No other message is in flight (responses are atomic), so nothing puts a stale
            // state back after this.
            self.state = None;
            self.last_activity = Instant::now();
            return AtomicResponse::new(Box::pin(actix::fut::ready(Ok(()))));
        }
        self.atomically(move |state, deps| Box::pin(state.command(deps, msg)))
    }
}

/// Texts Switchboard itself says to customers.
fn system_text(language: Language, zh: &str, en: &str) -> String {
    match language {
        Language::Zh => zh.to_owned(),
        Language::En => en.to_owned(),
    }
}

/// The session's view of the store.
struct SessionState {
    customer: Customer,
    conversation: Option<Conversation>,
    /// The customer's language in this conversation (bot and system texts use it).
    language: Language,
    /// True once the language was seen in a customer message of this conversation.
    language_known: bool,
    /// The configured reply channel, when this customer can be reached there.
    reply_to: Option<Channel>,
    /// Until when a supervisor's monitor wants copies of this conversation's messages (the
    /// monitoring desk renews it; a restarted session waits for the next renewal).
    monitored_until: Option<Instant>,
    /// Supervisors and team leads who barged into the open conversation: they may write to
    /// the customer like its agent.
    barged: std::collections::HashSet<AgentId>,
}

/// How long one monitor request keeps copies coming (desks renew it every 30 s).
const MONITOR_LEASE: Duration = Duration::from_secs(90);

impl SessionState {
    async fn load(deps: &SessionDeps, id: &CustomerId) -> Result<Self, SessionError> {
        let customer = deps
            .store
            .customer(id)
            .await?
            .ok_or_else(|| SessionError::UnknownCustomer(id.clone()))?;
        let conversation = deps.store.open_conversation(id).await?;
        let mut state = Self {
            customer,
            conversation: None,
            language: Language::Zh,
            language_known: false,
            reply_to: None,
            monitored_until: None,
            barged: std::collections::HashSet::new(),
        };
        state.refresh_reply_channel(deps).await?;
        if let Some(c) = &conversation {
            for m in deps.store.conversation_messages(&c.id).await? {
                if m.from == Sender::Customer {
                    state.observe_language(&m.text);
                }
            }
        }
        state.conversation = conversation;
        Ok(state)
    }

    /// Looks up whether the configured reply channel reaches this customer.
    async fn refresh_reply_channel(&mut self, deps: &SessionDeps) -> Result<(), SessionError> {
        if let Some(preferred) = deps.reply_channel {
            let identities = deps.store.identities(&self.customer.id).await?;
            self.reply_to = identities
                .iter()
                .any(|i| i.channel == preferred)
                .then_some(preferred);
        }
        Ok(())
    }

    /// The channel messages to the customer go to in `conversation`.
    fn reply_channel(&self, conversation: &Conversation) -> Channel {
        self.reply_to.unwrap_or(conversation.last_channel)
    }

    /// Updates the conversation language from a customer message. Short Latin-only messages
    /// ("human", "ok", "agent") and codes ("SB20261125001", a phone number) do not switch a
    /// conversation held in Chinese: English needs some words.
    fn observe_language(&mut self, text: &str) {
        let detected = Language::detect(text);
        let letters = text.chars().filter(char::is_ascii_alphabetic).count();
        let decisive = detected == Language::Zh || letters >= 10;
        if !self.language_known || decisive {
            self.language = detected;
            self.language_known = true;
        }
    }

    /// The open conversation, opening one on `channel` if there is none.
    async fn ensure_conversation(
        &mut self,
        deps: &SessionDeps,
        channel: Channel,
    ) -> Result<Conversation, SessionError> {
        if let Some(c) = &self.conversation {
            return Ok(c.clone());
        }
        let conversation = Conversation {
            id: ConversationId::generate(),
            customer_id: self.customer.id.clone(),
            status: ConversationStatus::Bot,
            last_channel: channel,
            agent_id: None,
            bot_state: serde_json::json!({}),
            opened_at: Utc::now(),
            closed_at: None,
            resolution: None,
        };
        let conversation = match deps.store.insert_conversation(&conversation).await {
            Ok(()) => conversation,
            // Another node opened one first (only possible during a shard hand-over).
            Err(StoreError::Conflict(_)) => deps
                .store
                .open_conversation(&self.customer.id)
                .await?
                .ok_or_else(|| StoreError::Conflict("open conversation vanished".to_owned()))?,
            Err(e) => return Err(e.into()),
        };
        self.conversation = Some(conversation.clone());
        Ok(conversation)
    }

    /// A customer message: stored with the bot's answer (and a hand-off) in one transaction,
    /// then acknowledged and announced. A repeat is answered from the store and writes
    /// nothing.
    async fn inbound(
        &mut self,
        deps: &SessionDeps,
        msg: Inbound,
    ) -> Result<Accepted, SessionError> {
        // Without an open conversation, a repeat is answered from the store first (after
        // wrap-up a repeat must not open a new conversation). With one, the turn's insert
        // deduplicates by itself.
        if self.conversation.is_none() {
            if let Some(existing) = deps
                .store
                .find_message(msg.channel, &msg.external_id)
                .await?
            {
                return Ok(repeat(deps, existing).await);
            }
        }
        let mut conversation = self.current_conversation(deps, msg.channel).await?;
        let message = self.customer_message(&conversation, &msg);
        conversation.last_channel = msg.channel;
        let language_before = (self.language, self.language_known);
        self.observe_language(&message.text);
        let turn = match self.commit(deps, &mut conversation, &msg, &message).await {
            Ok(Committed::Turn(turn)) => turn,
            Ok(Committed::Repeat(existing)) => {
                (self.language, self.language_known) = language_before;
                return Ok(repeat(deps, existing).await);
            }
            Err(error) => {
                (self.language, self.language_known) = language_before;
                return Err(error);
            }
        };
        count(deps, &message, &turn.replies);
        let accepted = accepted(&message, &turn);
        if turn.task.is_some() {
            conversation.status = ConversationStatus::Queued;
        }
        self.conversation = Some(conversation.clone());
        self.announce_turn(deps, &conversation, &message, turn)
            .await;
        if conversation.status == ConversationStatus::Assigned {
            if let Some(agent) = &conversation.agent_id {
                self.assist(deps, &conversation, &message, agent).await;
            }
        }
        // Only a customer already waiting leaves the queue: the message that just handed the
        // conversation over ("算了，转人工吧") does not take it back out in the same turn.
        if conversation.status == ConversationStatus::Queued
            && !accepted.handoff
            && crate::bot::leaves_queue(&message.text)
        {
            self.leave_queue(deps, conversation).await?;
        }
        Ok(accepted)
    }

    /// The customer's open conversation (opened if none), with the status the dispatcher may
    /// have changed meanwhile.
    async fn current_conversation(
        &mut self,
        deps: &SessionDeps,
        channel: Channel,
    ) -> Result<Conversation, SessionError> {
        let mut conversation = self.ensure_conversation(deps, channel).await?;
        if self.reply_to.is_none() {
            // A new identity may have been linked since (an app token with a phone number).
            self.refresh_reply_channel(deps).await?;
        }
        if conversation.status == ConversationStatus::Queued {
            // The dispatcher assigns task and conversation in one transaction; pick that up
            // here even if its notification has not reached this session (yet).
            // Likewise a task that went to its fallback gave the conversation back to the bot.
            if let Some(fresh) = deps.store.conversation(&conversation.id).await? {
                if matches!(
                    fresh.status,
                    ConversationStatus::Assigned | ConversationStatus::Bot
                ) {
                    conversation.status = fresh.status;
                    conversation.agent_id = fresh.agent_id;
                }
            }
        }
        Ok(conversation)
    }

    /// The stored form of a customer message.
    fn customer_message(&self, conversation: &Conversation, msg: &Inbound) -> Message {
        Message {
            id: MessageId::generate(),
            conversation_id: conversation.id.clone(),
            customer_id: self.customer.id.clone(),
            channel: msg.channel,
            from: Sender::Customer,
            text: msg.text.as_str().to_owned(),
            client_id: msg.client_id.as_ref().map(|c| c.as_str().to_owned()),
            external_id: Some(msg.external_id.clone()),
            agent_id: None,
            sent_at: Utc::now(),
        }
    }

    /// Works out the bot's answer (while no agent owns the conversation) and the hand-off,
    /// then commits the whole turn in one transaction: once this returns `Turn`, the message
    /// is accepted.
    async fn commit(
        &self,
        deps: &SessionDeps,
        conversation: &mut Conversation,
        msg: &Inbound,
        message: &Message,
    ) -> Result<Committed, SessionError> {
        let (replies, handoff) = if conversation.status == ConversationStatus::Bot {
            match self.bot_answer(deps, conversation, msg, message).await? {
                BotAnswer::Said { replies, handoff } => (replies, handoff),
                BotAnswer::Repeat(existing) => return Ok(Committed::Repeat(existing)),
            }
        } else {
            (Vec::new(), None)
        };
        let task = match handoff {
            Some(handoff) => Some(
                self.handoff(deps, conversation, msg, message, &replies, handoff)
                    .await?,
            ),
            None => None,
        };
        let now = Utc::now();
        let outbox: Vec<_> = std::iter::once(message)
            .chain(&replies)
            .flat_map(|m| deps.deliveries.deliveries(m, now))
            .collect();
        let committed = deps
            .store
            .commit_turn(Turn {
                inbound: Some(message),
                replies: &replies,
                conversation: Some(conversation),
                outbox: &outbox,
                handoff: task.as_ref(),
            })
            .await?;
        Ok(match committed {
            TurnOutcome::Committed => Committed::Turn(TurnWritten {
                replies,
                task,
                outbox,
                at: now,
            }),
            TurnOutcome::Duplicate(existing) => Committed::Repeat(existing),
        })
    }

    /// The bot's answer to a customer message, with the actions it asked for already run. The
    /// answer is a pure function of the turn; it is committed with the customer's message.
    async fn bot_answer(
        &self,
        deps: &SessionDeps,
        conversation: &mut Conversation,
        msg: &Inbound,
        message: &Message,
    ) -> Result<BotAnswer, SessionError> {
        let turn = BotTurn {
            text: &message.text,
            language: self.language,
            tier: self.customer.tier,
            channel: self.reply_channel(conversation),
            state: &conversation.bot_state,
        };
        let reply = deps.bot.respond(&turn);
        let reply = if reply.action.is_some() {
            // Actions have effects outside: a provider's retry of a stored message must not
            // repeat them, so it is answered from the store first.
            if let Some(existing) = deps
                .store
                .find_message(msg.channel, &msg.external_id)
                .await?
            {
                return Ok(BotAnswer::Repeat(existing));
            }
            self.run_actions(deps, conversation, msg, &turn, reply)
                .await
        } else {
            reply
        };
        conversation.bot_state = reply.state;
        let mut replies = Vec::new();
        if !reply.text.trim().is_empty() {
            let mut answer = self.message_to_customer(conversation, Sender::Bot, reply.text, None);
            answer.external_id = Some(reply_key(&msg.external_id, 0));
            replies.push(answer);
        }
        Ok(BotAnswer::Said {
            replies,
            handoff: reply.handoff,
        })
    }

    /// The task a hand-off creates, with the agent's context card (what was said, what the
    /// bot understood) and the customer's previous agent as the preferred one.
    async fn handoff(
        &self,
        deps: &SessionDeps,
        conversation: &Conversation,
        msg: &Inbound,
        message: &Message,
        replies: &[Message],
        handoff: Handoff,
    ) -> Result<Task, SessionError> {
        let mut said = deps.store.conversation_messages(&conversation.id).await?;
        said.push(message.clone());
        said.extend(replies.iter().cloned());
        let context = handoff_context(&handoff, &self.customer, &said);
        let mut task = self.handoff_task(conversation, handoff);
        task.context = Some(Box::new(context));
        // Sticky routing: the agent who served this customer last is offered it first.
        task.preferred_agent = deps.store.last_agent_of(&self.customer.id).await?;
        if msg.channel == Channel::Ivr {
            // A call is taken live: the offer carries what the caller said so far.
            task.summary = call_summary(&task.summary, &said);
        }
        Ok(task)
    }

    /// Tells everyone concerned about a committed turn: the customer's open connections (the
    /// message echoed, the answers), the owning agent, the deliveries due, and the dispatcher
    /// on a hand-off. Notifications must not turn an accepted message into an error: failures
    /// are logged, and the store stays the truth (desks and widgets re-sync from it; the
    /// dispatcher reconciles with the store's waiting tasks).
    async fn announce_turn(
        &self,
        deps: &SessionDeps,
        conversation: &Conversation,
        message: &Message,
        turn: TurnWritten,
    ) {
        let mut batch = vec![self.to_customer(message)];
        if conversation.status == ConversationStatus::Assigned {
            if let Some(agent) = &conversation.agent_id {
                batch.push(event(
                    &agent_route(agent),
                    &AgentEvent::Message(message.into()),
                ));
            }
        }
        batch.extend(turn.replies.iter().map(|r| self.to_customer(r)));
        batch.extend(self.monitor_copies(std::slice::from_ref(message)));
        batch.extend(self.monitor_copies(&turn.replies));
        let later = announce(&turn.outbox, &mut batch, turn.at);
        if let Some(task) = turn.task {
            batch.push(event(
                &dispatch_route(),
                &DispatchEvent::TaskCreated {
                    task,
                    customer: CustomerCard::from(&self.customer),
                },
            ));
        }
        publish_batch(deps, batch).await;
        publish_later(deps, later).await;
    }

    /// Runs the actions a bot reply asks for, one after the other, handing each outcome back
    /// to the bot; the texts said along the way are kept, in order.
    async fn run_actions(
        &self,
        deps: &SessionDeps,
        conversation: &Conversation,
        msg: &Inbound,
        turn: &BotTurn<'_>,
        mut reply: BotReply,
    ) -> BotReply {
        let mut said: Vec<String> = Vec::new();
        let mut n = 0;
        // The edge waits `reply_timeout` for the whole turn: no action starts after half of it.
        let started = Instant::now();
        while let Some(action) = reply.action.take() {
            n += 1;
            if !reply.text.is_empty() {
                said.push(std::mem::take(&mut reply.text));
            }
            let outcome = if n > crate::bot::MAX_ACTIONS_PER_TURN {
                crate::bot::flows::ActionOutcome::Failed {
                    reason: "too many actions in one turn".to_owned(),
                }
            } else if started.elapsed() > deps.reply_timeout / 2 {
                crate::bot::flows::ActionOutcome::Failed {
                    reason: "no time left in this turn".to_owned(),
                }
            } else {
                let context = crate::bot::actions::ActionContext {
                    key: format!("{}:{}:{n}", msg.channel.as_str(), msg.external_id),
                    customer_id: self.customer.id.clone(),
                    conversation_id: conversation.id.clone(),
                };
                deps.actions.run(&action, &context).await
            };
            let state = reply.state;
            reply = deps.bot.resume(
                &BotTurn {
                    state: &state,
                    ..turn.clone()
                },
                outcome,
            );
        }
        if !reply.text.is_empty() {
            said.push(std::mem::take(&mut reply.text));
        }
        reply.text = said.join("\n");
        reply
    }

    /// Agent assist: the best knowledge-base answers and similar resolved conversations for a
    /// customer message, recorded (to learn which get used) and pushed to the agent's desk.
    /// Best effort: the message is stored already, and a desk without suggestions still works.
    async fn assist(
        &self,
        deps: &SessionDeps,
        conversation: &Conversation,
        message: &Message,
        agent: &AgentId,
    ) {
        let kb = deps.bot.kb_candidates(
            &message.text,
            self.language,
            self.reply_channel(conversation),
            crate::bot::assist::PER_KIND,
        );
        let similar = deps.assist.index().similar(
            &message.text,
            crate::bot::assist::PER_KIND,
            crate::bot::assist::MIN_SIMILARITY,
            Some(&conversation.id),
        );
        let suggestions =
            crate::bot::assist::suggestions(&kb, &similar, || uuid::Uuid::now_v7().to_string());
        if suggestions.is_empty() {
            return;
        }
        let now = Utc::now();
        let records: Vec<crate::store::AssistRecord> = suggestions
            .iter()
            .enumerate()
            .map(|(rank, s)| crate::store::AssistRecord {
                id: s.id.clone(),
                conversation_id: conversation.id.clone(),
                message_id: message.id.clone(),
                agent_id: agent.clone(),
                kind: s.kind.clone(),
                reference: s.reference.clone(),
                rank: u32::try_from(rank).unwrap_or(u32::MAX),
                score: s.score,
                shown_at: now,
                used_at: None,
            })
            .collect();
        if let Err(error) = deps.store.record_assist(&records).await {
            tracing::warn!(%error, conversation = %conversation.id, "Could not record assist suggestions.");
        }
        deps.metrics
            .assist_suggestions
            .inc_by(u64::try_from(suggestions.len()).unwrap_or(0));
        publish(
            deps,
            &agent_route(agent),
            &AgentEvent::Assist {
                conversation_id: conversation.id.clone(),
                message_id: message.id.clone(),
                suggestions,
            },
        )
        .await;
    }

    /// The waiting customer gave up: the task is cancelled (an abandonment) and the bot has the
    /// conversation again, unless an agent was assigned meanwhile (then nothing changes).
    async fn leave_queue(
        &mut self,
        deps: &SessionDeps,
        mut conversation: Conversation,
    ) -> Result<(), SessionError> {
        let Some(task) = deps.store.open_task_for(&conversation.id).await? else {
            return Ok(());
        };
        if task.status != TaskStatus::Waiting
            || !deps
                .store
                .leave_queue(&task.id, QueueExit::Abandoned, Utc::now())
                .await?
        {
            return Ok(());
        }
        conversation.status = ConversationStatus::Bot;
        conversation.agent_id = None;
        self.conversation = Some(conversation.clone());
        let notice = system_text(
            self.language,
            "好的，已为您取消排队。还有其他问题可以随时问我，需要人工时再说“人工”即可。",
            "All right, you have left the queue. Ask me anything, or say 'human' when you want an agent again.",
        );
        self.say(deps, &conversation, Sender::System, notice, None)
            .await?;
        publish(
            deps,
            &dispatch_route(),
            &DispatchEvent::TaskCancelled { task_id: task.id },
        )
        .await;
        Ok(())
    }

    /// The task of a hand-off decided in this turn (stored with the turn).
    fn handoff_task(&self, conversation: &Conversation, handoff: Handoff) -> Task {
        let mut priority = Priority::STANDARD.0;
        if self.customer.tier == Tier::Vip {
            priority += Priority::VIP_BONUS;
        }
        if handoff.urgent {
            priority += Priority::URGENT_BONUS;
        }
        Task {
            id: TaskId::generate(),
            conversation_id: conversation.id.clone(),
            customer_id: self.customer.id.clone(),
            channel: conversation.last_channel,
            language: self.language,
            required_skills: handoff.required_skills,
            priority: Priority(priority),
            intent: handoff.intent,
            summary: handoff.summary,
            status: TaskStatus::Waiting,
            agent_id: None,
            created_at: Utc::now(),
            assigned_at: None,
            preferred_agent: None,
            context: None,
            transfer: None,
        }
    }

    /// A command from an agent's desk or the dispatcher: checked against the open
    /// conversation (a stale one is refused), then handled by the step of its kind.
    async fn command(
        &mut self,
        deps: &SessionDeps,
        command: SessionCommand,
    ) -> Result<(), SessionError> {
        let Some(conversation) = self.conversation.clone() else {
            tracing::warn!(customer = %self.customer.id, command = command.kind(), "Command for a customer without an open conversation.");
            return self.reject_stale(deps, command).await;
        };
        match command {
            SessionCommand::AgentAssigned {
                conversation_id,
                task_id,
                agent_id,
                agent_name,
                ..
            } => {
                if conversation_id != conversation.id {
                    return self
                        .reject_stale(
                            deps,
                            SessionCommand::AgentAssigned {
                                customer_id: self.customer.id.clone(),
                                conversation_id,
                                task_id,
                                agent_id,
                                agent_name,
                            },
                        )
                        .await;
                }
                self.agent_assigned(deps, conversation, task_id, agent_id, &agent_name)
                    .await
            }
            SessionCommand::AgentMessage {
                conversation_id,
                agent_id,
                text,
                ..
            } => {
                let barged =
                    is_assigned(&conversation, &conversation_id) && self.barged.contains(&agent_id);
                if !(barged || owned_by(&conversation, &conversation_id, &agent_id)) {
                    not_owner(deps, &agent_id).await;
                    return Ok(());
                }
                self.agent_message(deps, &conversation, agent_id, text)
                    .await
            }
            SessionCommand::AgentTyping {
                conversation_id,
                agent_id,
                ..
            } => {
                if owned_by(&conversation, &conversation_id, &agent_id) {
                    publish(
                        deps,
                        &customer_route(&self.customer.id),
                        &CustomerEvent::Typing {
                            from: Sender::Agent,
                        },
                    )
                    .await;
                }
                Ok(())
            }
            SessionCommand::WrapUp {
                conversation_id,
                agent_id,
                resolution,
                ..
            } => {
                if !owned_by(&conversation, &conversation_id, &agent_id) {
                    not_owner(deps, &agent_id).await;
                    return Ok(());
                }
                let mut conversation = conversation;
                self.close(deps, &mut conversation, &agent_id, resolution)
                    .await
            }
            SessionCommand::GiveBack {
                conversation_id,
                agent_id,
                ..
            } => {
                if !owned_by(&conversation, &conversation_id, &agent_id) {
                    not_owner(deps, &agent_id).await;
                    return Ok(());
                }
                self.give_back(deps, conversation, &agent_id).await
            }
            SessionCommand::Transfer {
                conversation_id,
                by,
                supervising,
                to,
                note,
                ..
            } => {
                let holder = conversation.agent_id.clone().filter(|_| {
                    conversation.id == conversation_id
                        && conversation.status == ConversationStatus::Assigned
                });
                let Some(holder) = holder.filter(|h| supervising || *h == by) else {
                    not_owner(deps, &by).await;
                    return Ok(());
                };
                if matches!(&to, TransferTarget::Agent { agent_id } if *agent_id == holder) {
                    refuse(
                        deps,
                        &by,
                        "invalid_request",
                        "That agent already holds this conversation.",
                    )
                    .await;
                    return Ok(());
                }
                self.transfer(deps, &conversation, holder, by, to, note)
                    .await
            }
            SessionCommand::Note {
                conversation_id,
                by,
                supervising,
                text,
                ..
            } => {
                let held = conversation.id == conversation_id
                    && conversation.agent_id.as_ref() == Some(&by);
                if conversation.id != conversation_id || !(supervising || held) {
                    not_owner(deps, &by).await;
                    return Ok(());
                }
                self.internal(deps, &conversation, Sender::Note, by, text)
                    .await
            }
            SessionCommand::Whisper {
                conversation_id,
                by,
                text,
                ..
            } => {
                if !is_assigned(&conversation, &conversation_id) {
                    not_assigned(deps, &by).await;
                    return Ok(());
                }
                self.internal(deps, &conversation, Sender::Whisper, by, text)
                    .await
            }
            SessionCommand::Barge {
                conversation_id,
                by,
                by_name,
                ..
            } => {
                if !is_assigned(&conversation, &conversation_id) {
                    not_assigned(deps, &by).await;
                    return Ok(());
                }
                self.barge(deps, &conversation, by, &by_name).await
            }
            SessionCommand::Monitor {
                conversation_id, ..
            } => {
                if conversation.id == conversation_id {
                    self.monitored_until = Some(Instant::now() + MONITOR_LEASE);
                }
                Ok(())
            }
            SessionCommand::CallEnded { .. } => self.call_ended(deps, conversation).await,
            // Handled by the actor itself (it drops this state).
            SessionCommand::Reload { .. } => Ok(()),
            SessionCommand::TaskFallback {
                conversation_id,
                task_id,
                fallback,
                ..
            } => {
                if conversation.id != conversation_id {
                    return Ok(());
                }
                self.task_fallback(deps, conversation, &task_id, fallback)
                    .await
            }
        }
    }

    /// The dispatcher gave the conversation to an agent: the customer is told (once), and
    /// the agent's desk gets the conversation with its whole history.
    async fn agent_assigned(
        &mut self,
        deps: &SessionDeps,
        mut conversation: Conversation,
        task_id: TaskId,
        agent_id: AgentId,
        agent_name: &str,
    ) -> Result<(), SessionError> {
        let task = deps.store.task(&task_id).await?;
        if let Some(transfer) = task.as_ref().and_then(|t| t.transfer.clone()) {
            return self
                .transfer_accepted(deps, conversation, task_id, *transfer, agent_id, agent_name)
                .await;
        }
        // A repeat (a redelivered acceptance) only re-sends the agent's desk its
        // conversation: the customer hears "joined" once.
        let repeat = conversation.status == ConversationStatus::Assigned
            && conversation.agent_id.as_ref() == Some(&agent_id);
        if !repeat {
            conversation.status = ConversationStatus::Assigned;
            conversation.agent_id = Some(agent_id.clone());
            deps.store.update_conversation(&conversation).await?;
            let notice = system_text(
                self.language,
                &format!("客服 {agent_name} 已加入会话，将为您继续服务。"),
                &format!("{agent_name} joined the conversation."),
            );
            self.say(deps, &conversation, Sender::System, notice, None)
                .await?;
        }
        let history = deps.store.conversation_messages(&conversation.id).await?;
        let context = task.and_then(|t| t.context);
        publish(
            deps,
            &agent_route(&agent_id),
            &AgentEvent::Assigned {
                task_id,
                conversation_id: conversation.id.clone(),
                customer: CustomerCard::from(&self.customer),
                history: history.iter().map(MessageView::from).collect(),
                context,
            },
        )
        .await;
        self.conversation = Some(conversation);
        Ok(())
    }

    /// The owning agent wrote to the customer: stored and delivered, echoed to the desk.
    async fn agent_message(
        &mut self,
        deps: &SessionDeps,
        conversation: &Conversation,
        agent_id: AgentId,
        text: MessageText,
    ) -> Result<(), SessionError> {
        let message = self
            .say(
                deps,
                conversation,
                Sender::Agent,
                text.as_str().to_owned(),
                Some(agent_id.clone()),
            )
            .await?;
        // A supervisor who barged in: the agent sees what they wrote.
        let batch = staff_copies(conversation, &agent_id, &message);
        publish_batch(deps, batch).await;
        Ok(())
    }

    /// Hands the conversation on: a transfer task (to a named agent, or to whoever has the
    /// skills) waits for the target while `holder` keeps the conversation; the note, if any,
    /// is kept in the history as an internal note. A second transfer while one waits is
    /// refused (`transfer_pending`).
    async fn transfer(
        &mut self,
        deps: &SessionDeps,
        conversation: &Conversation,
        holder: AgentId,
        by: AgentId,
        to: TransferTarget,
        note: Option<MessageText>,
    ) -> Result<(), SessionError> {
        let current = deps.store.open_task_for(&conversation.id).await?;
        let (to_agent_id, required_skills) = match to {
            TransferTarget::Agent { agent_id } => (Some(agent_id), Vec::new()),
            TransferTarget::Skills { skills } => (None, skills),
        };
        let task = Task {
            id: TaskId::generate(),
            conversation_id: conversation.id.clone(),
            customer_id: self.customer.id.clone(),
            channel: current
                .as_ref()
                .map_or(conversation.last_channel, |t| t.channel),
            language: current.as_ref().map_or(self.language, |t| t.language),
            required_skills,
            priority: current.as_ref().map_or(Priority::STANDARD, |t| t.priority),
            intent: current.as_ref().and_then(|t| t.intent.clone()),
            summary: current
                .as_ref()
                .map_or_else(String::new, |t| t.summary.clone()),
            status: TaskStatus::Waiting,
            agent_id: None,
            created_at: Utc::now(),
            assigned_at: None,
            preferred_agent: None,
            context: current.and_then(|t| t.context),
            transfer: Some(Box::new(Transfer {
                from_agent_id: holder.clone(),
                by: by.clone(),
                to_agent_id,
                note: note.as_ref().map(|n| n.as_str().to_owned()),
            })),
        };
        if let crate::store::Inserted::Duplicate(_) = deps.store.insert_task(&task).await? {
            refuse(
                deps,
                &by,
                "transfer_pending",
                "A transfer of this conversation is already waiting.",
            )
            .await;
            return Ok(());
        }
        tracing::info!(task = %task.id, conversation = %conversation.id, by = %by, "Transfer requested.");
        if let Some(note) = note {
            self.internal(deps, conversation, Sender::Note, by.clone(), note)
                .await?;
        }
        let requested = AgentEvent::TransferRequested {
            conversation_id: conversation.id.clone(),
            task_id: task.id.clone(),
        };
        let mut batch = vec![event(&agent_route(&holder), &requested)];
        if by != holder {
            batch.push(event(&agent_route(&by), &requested));
        }
        batch.push(event(
            &dispatch_route(),
            &DispatchEvent::TaskCreated {
                task,
                customer: CustomerCard::from(&self.customer),
            },
        ));
        publish_batch(deps, batch).await;
        Ok(())
    }

    /// Another agent accepted a transfer (the store already gave them the conversation and
    /// ended the sender's task): the customer is told once, the sender's desk lets it go, and
    /// the new agent gets the whole history, notes included.
    async fn transfer_accepted(
        &mut self,
        deps: &SessionDeps,
        mut conversation: Conversation,
        task_id: TaskId,
        transfer: Transfer,
        agent_id: AgentId,
        agent_name: &str,
    ) -> Result<(), SessionError> {
        conversation.status = ConversationStatus::Assigned;
        conversation.agent_id = Some(agent_id.clone());
        self.barged.clear();
        // Told once, even when the acceptance is delivered again.
        let key = format!("transferred:{task_id}");
        if deps
            .store
            .find_message(self.reply_channel(&conversation), &key)
            .await?
            .is_none()
        {
            let mut notice = self.message_to_customer(
                &conversation,
                Sender::System,
                system_text(
                    self.language,
                    &format!("您的会话已转接给客服 {agent_name}，将由其继续为您服务。"),
                    &format!(
                        "You have been transferred to {agent_name}, who will continue helping you."
                    ),
                ),
                None,
            );
            notice.external_id = Some(key);
            self.deliver(deps, notice).await?;
        }
        if transfer.from_agent_id != agent_id {
            let_agent_go(
                deps,
                &transfer.from_agent_id,
                &conversation.id,
                AgentEvent::Transferred {
                    conversation_id: conversation.id.clone(),
                    to_agent_id: agent_id.clone(),
                },
            )
            .await;
        }
        if transfer.by != transfer.from_agent_id {
            publish(
                deps,
                &agent_route(&transfer.by),
                &AgentEvent::Transferred {
                    conversation_id: conversation.id.clone(),
                    to_agent_id: agent_id.clone(),
                },
            )
            .await;
        }
        let history = deps.store.conversation_messages(&conversation.id).await?;
        let context = deps.store.task(&task_id).await?.and_then(|t| t.context);
        publish(
            deps,
            &agent_route(&agent_id),
            &AgentEvent::Assigned {
                task_id,
                conversation_id: conversation.id.clone(),
                customer: CustomerCard::from(&self.customer),
                history: history.iter().map(MessageView::from).collect(),
                context,
            },
        )
        .await;
        self.conversation = Some(conversation);
        Ok(())
    }

    /// Stores a note or a whisper (staff only: no delivery, never on the customer's route)
    /// and shows it to the agent who holds the conversation, to its writer and to monitors.
    async fn internal(
        &self,
        deps: &SessionDeps,
        conversation: &Conversation,
        from: Sender,
        by: AgentId,
        text: MessageText,
    ) -> Result<(), SessionError> {
        debug_assert!(from.is_internal());
        let message = Message {
            id: MessageId::generate(),
            conversation_id: conversation.id.clone(),
            customer_id: self.customer.id.clone(),
            channel: conversation.last_channel,
            from,
            text: text.as_str().to_owned(),
            client_id: None,
            external_id: None,
            agent_id: Some(by.clone()),
            sent_at: Utc::now(),
        };
        deps.store
            .commit_turn(Turn {
                inbound: None,
                replies: std::slice::from_ref(&message),
                conversation: None,
                outbox: &[],
                handoff: None,
            })
            .await?;
        let mut batch = staff_copies(conversation, &by, &message);
        batch.extend(self.monitor_copies(std::slice::from_ref(&message)));
        publish_batch(deps, batch).await;
        Ok(())
    }

    /// A supervisor or team lead joins the conversation: the customer is told, and their
    /// messages reach the customer from now on (until the conversation changes hands).
    async fn barge(
        &mut self,
        deps: &SessionDeps,
        conversation: &Conversation,
        by: AgentId,
        by_name: &str,
    ) -> Result<(), SessionError> {
        if self.barged.insert(by.clone()) {
            let notice = system_text(
                self.language,
                &format!("主管 {by_name} 已加入会话。"),
                &format!("Supervisor {by_name} joined the conversation."),
            );
            self.say(deps, conversation, Sender::System, notice, None)
                .await?;
        }
        publish(
            deps,
            &agent_route(&by),
            &AgentEvent::Barged {
                conversation_id: conversation.id.clone(),
            },
        )
        .await;
        Ok(())
    }

    /// Copies of `messages` for the supervisors monitoring the conversation, while a
    /// monitor's lease runs.
    fn monitor_copies(&self, messages: &[Message]) -> Vec<(Route, Vec<u8>)> {
        if self
            .monitored_until
            .is_none_or(|until| until < Instant::now())
        {
            return Vec::new();
        }
        messages
            .iter()
            .map(|m| {
                event(
                    &monitor_route(&m.conversation_id),
                    &AgentEvent::Message(m.into()),
                )
            })
            .collect()
    }

    /// The caller hung up: only a call waiting in the queue is abandoned; a chat continues.
    async fn call_ended(
        &mut self,
        deps: &SessionDeps,
        conversation: Conversation,
    ) -> Result<(), SessionError> {
        let waiting_call = deps
            .store
            .open_task_for(&conversation.id)
            .await?
            .is_some_and(|t| t.status == TaskStatus::Waiting && t.channel == Channel::Ivr);
        if conversation.status == ConversationStatus::Queued && waiting_call {
            return self.leave_queue(deps, conversation).await;
        }
        Ok(())
    }

    /// The conversation's task went to its queue's fallback: the customer is told, once.
    async fn task_fallback(
        &mut self,
        deps: &SessionDeps,
        mut conversation: Conversation,
        task_id: &TaskId,
        fallback: Fallback,
    ) -> Result<(), SessionError> {
        // Keyed on the task, not on the session's view: the store already expired it and gave
        // the conversation back to the bot (the session may have been passivated meanwhile,
        // or have seen the bot status when the customer wrote).
        let expired = deps
            .store
            .task(task_id)
            .await?
            .is_some_and(|t| t.status == TaskStatus::Expired);
        if !expired {
            return Ok(());
        }
        // Told once, even if the command is delivered again.
        let key = format!("fallback:{task_id}");
        if deps
            .store
            .find_message(self.reply_channel(&conversation), &key)
            .await?
            .is_some()
        {
            return Ok(());
        }
        if conversation.status == ConversationStatus::Queued {
            conversation.status = ConversationStatus::Bot;
            conversation.agent_id = None;
        }
        let (zh, en) = fallback_notice(fallback);
        let mut notice = self.message_to_customer(
            &conversation,
            Sender::System,
            system_text(self.language, zh, en),
            None,
        );
        notice.external_id = Some(key);
        self.deliver(deps, notice).await?;
        self.conversation = Some(conversation);
        Ok(())
    }

    async fn close(
        &mut self,
        deps: &SessionDeps,
        conversation: &mut Conversation,
        agent_id: &AgentId,
        resolution: Resolution,
    ) -> Result<(), SessionError> {
        let notice = system_text(
            self.language,
            "本次会话已结束，感谢您的耐心。如有新的问题，随时给我们留言。",
            "This conversation has been closed. Thank you! Write any time if you need more help.",
        );
        self.say(deps, conversation, Sender::System, notice, None)
            .await?;
        // The task first: if closing the conversation then fails, it is still open and the
        // agent's retry does it all again (the other order would strand an assigned task
        // behind a closed conversation).
        if let Some(task) = deps.store.open_task_for(&conversation.id).await? {
            deps.store
                .finish_task(&task.id, TaskStatus::Completed, Utc::now())
                .await?;
        }
        cancel_transfer(deps, &conversation.id).await?;
        conversation.status = ConversationStatus::Closed;
        conversation.closed_at = Some(Utc::now());
        conversation.resolution = Some(resolution);
        deps.store.update_conversation(conversation).await?;
        if resolution == Resolution::Resolved {
            deps.assist.mark_stale();
        }
        self.conversation = None;
        let_agent_go(
            deps,
            agent_id,
            &conversation.id,
            AgentEvent::WrappedUp {
                conversation_id: conversation.id.clone(),
                resolution,
            },
        )
        .await;
        Ok(())
    }

    /// The agent hands the conversation back to the bot: it stays open, the bot starts afresh
    /// (no half-done flow, no missed turns), the agent's capacity is free again.
    async fn give_back(
        &mut self,
        deps: &SessionDeps,
        mut conversation: Conversation,
        agent_id: &AgentId,
    ) -> Result<(), SessionError> {
        // The task first, as in `close`: a failure after it leaves the conversation with the
        // agent, and the retry completes the give-back.
        if let Some(task) = deps.store.open_task_for(&conversation.id).await? {
            deps.store
                .finish_task(&task.id, TaskStatus::Completed, Utc::now())
                .await?;
        }
        cancel_transfer(deps, &conversation.id).await?;
        conversation.status = ConversationStatus::Bot;
        conversation.agent_id = None;
        conversation.bot_state = serde_json::json!({});
        deps.store.update_conversation(&conversation).await?;
        self.conversation = Some(conversation.clone());
        let notice = system_text(
            self.language,
            "客服已将会话转回智能助手，您可以继续提问；需要人工时再说“人工”即可。",
            "The agent handed you back to the virtual assistant. Ask me anything, or say 'human' to reach an agent again.",
        );
        self.say(deps, &conversation, Sender::System, notice, None)
            .await?;
        let_agent_go(
            deps,
            agent_id,
            &conversation.id,
            AgentEvent::GivenBack {
                conversation_id: conversation.id.clone(),
            },
        )
        .await;
        Ok(())
    }

    /// A command that no longer matches the open conversation: tell the agent and, for an
    /// assignment, free the agent's capacity again.
    async fn reject_stale(
        &mut self,
        deps: &SessionDeps,
        command: SessionCommand,
    ) -> Result<(), SessionError> {
        match command {
            SessionCommand::AgentAssigned {
                agent_id,
                conversation_id,
                ..
            } => {
                publish(
                    deps,
                    &dispatch_route(),
                    &DispatchEvent::ConversationClosed {
                        agent_id,
                        conversation_id,
                    },
                )
                .await;
            }
            SessionCommand::AgentMessage { agent_id, .. }
            | SessionCommand::WrapUp { agent_id, .. }
            | SessionCommand::GiveBack { agent_id, .. }
            | SessionCommand::Transfer { by: agent_id, .. }
            | SessionCommand::Note { by: agent_id, .. }
            | SessionCommand::Whisper { by: agent_id, .. }
            | SessionCommand::Barge { by: agent_id, .. } => {
                publish(
                    deps,
                    &agent_route(&agent_id),
                    &AgentEvent::error(
                        "conversation_closed",
                        "This conversation is already closed.",
                    ),
                )
                .await;
            }
            SessionCommand::AgentTyping { .. }
            | SessionCommand::Monitor { .. }
            | SessionCommand::Reload { .. }
            | SessionCommand::TaskFallback { .. }
            | SessionCommand::CallEnded { .. } => {}
        }
        Ok(())
    }

    /// A message from the bot, an agent or the system in `conversation`, not stored yet.
    fn message_to_customer(
        &self,
        conversation: &Conversation,
        from: Sender,
        text: String,
        agent_id: Option<AgentId>,
    ) -> Message {
        Message {
            id: MessageId::generate(),
            conversation_id: conversation.id.clone(),
            customer_id: self.customer.id.clone(),
            channel: self.reply_channel(conversation),
            from,
            text,
            client_id: None,
            external_id: None,
            agent_id,
            sent_at: Utc::now(),
        }
    }

    /// Stores a message from the bot, an agent or the system (with its provider deliveries)
    /// and sends it to the customer.
    async fn say(
        &self,
        deps: &SessionDeps,
        conversation: &Conversation,
        from: Sender,
        text: String,
        agent_id: Option<AgentId>,
    ) -> Result<Message, SessionError> {
        let message = self.message_to_customer(conversation, from, text, agent_id);
        self.deliver(deps, message).await
    }

    /// Stores a message said to the customer (with its provider deliveries), then sends it.
    async fn deliver(&self, deps: &SessionDeps, message: Message) -> Result<Message, SessionError> {
        let outbox = deps.deliveries.deliveries(&message, Utc::now());
        deps.store
            .commit_turn(Turn {
                inbound: None,
                replies: std::slice::from_ref(&message),
                conversation: None,
                outbox: &outbox,
                handoff: None,
            })
            .await?;
        deps.metrics
            .messages_out
            .with_label_values(&[message.channel.as_str()])
            .inc();
        let mut batch = vec![self.to_customer(&message)];
        batch.extend(self.monitor_copies(std::slice::from_ref(&message)));
        let later = announce(&outbox, &mut batch, Utc::now());
        publish_batch(deps, batch).await;
        publish_later(deps, later).await;
        Ok(message)
    }

    /// The notification of `message` to the customer's open connections.
    fn to_customer(&self, message: &Message) -> (Route, Vec<u8>) {
        event(
            &customer_route(&self.customer.id),
            &CustomerEvent::Message(message.into()),
        )
    }
}

/// What the bot said in a turn, or the stored repeat of the message.
enum BotAnswer {
    Said {
        replies: Vec<Message>,
        handoff: Option<Handoff>,
    },
    Repeat(Message),
}

/// A customer turn's commit: written, or found to be a repeat of a stored message.
enum Committed {
    Turn(TurnWritten),
    Repeat(Message),
}

/// What a committed turn wrote besides the customer's message.
struct TurnWritten {
    replies: Vec<Message>,
    task: Option<Task>,
    outbox: Vec<OutboxItem>,
    at: DateTime<Utc>,
}

/// The answer to the edge for a committed turn.
fn accepted(message: &Message, turn: &TurnWritten) -> Accepted {
    Accepted {
        message_id: message.id.clone(),
        conversation_id: message.conversation_id.clone(),
        duplicate: false,
        replies: turn
            .replies
            .iter()
            .map(|r| Reply {
                message_id: r.id.clone(),
                text: r.text.clone(),
                channel: Some(r.channel),
            })
            .collect(),
        handoff: turn.task.is_some(),
    }
}

/// Counts a committed turn's messages in and out.
fn count(deps: &SessionDeps, message: &Message, replies: &[Message]) {
    deps.metrics
        .messages_in
        .with_label_values(&[message.channel.as_str()])
        .inc();
    for reply in replies {
        deps.metrics
            .messages_out
            .with_label_values(&[reply.channel.as_str()])
            .inc();
    }
}

/// Lines of a call transcript shown in a voice task's offer.
const CALL_SUMMARY_LINES: usize = 12;
/// Longest voice task summary, in characters.
const CALL_SUMMARY_CHARS: usize = 1_500;

/// The conversation left `agent_id` (closed or given back): the desk is told with `event`, and
/// the dispatcher frees the agent's capacity.
async fn let_agent_go(
    deps: &SessionDeps,
    agent_id: &AgentId,
    conversation_id: &ConversationId,
    event: AgentEvent,
) {
    publish(deps, &agent_route(agent_id), &event).await;
    publish(
        deps,
        &dispatch_route(),
        &DispatchEvent::ConversationClosed {
            agent_id: agent_id.clone(),
            conversation_id: conversation_id.clone(),
        },
    )
    .await;
}

/// Cancels the conversation's waiting transfer, if any (the conversation closed or went back
/// to the bot): the dispatcher drops it and its sender hears that it failed.
async fn cancel_transfer(
    deps: &SessionDeps,
    conversation: &ConversationId,
) -> Result<(), SessionError> {
    let Some(pending) = deps.store.pending_transfer(conversation).await? else {
        return Ok(());
    };
    if deps
        .store
        .finish_task(&pending.id, TaskStatus::Cancelled, Utc::now())
        .await?
    {
        publish(
            deps,
            &dispatch_route(),
            &DispatchEvent::TaskCancelled {
                task_id: pending.id.clone(),
            },
        )
        .await;
        if let Some(transfer) = pending.transfer {
            publish(
                deps,
                &agent_route(&transfer.by),
                &AgentEvent::TransferFailed {
                    conversation_id: conversation.clone(),
                    reason: "closed".to_owned(),
                },
            )
            .await;
        }
    }
    Ok(())
}

/// Tells a staff member their command could not be done (`code`, `message`).
async fn refuse(deps: &SessionDeps, agent_id: &AgentId, code: &str, message: &str) {
    publish(
        deps,
        &agent_route(agent_id),
        &AgentEvent::error(code, message),
    )
    .await;
}

/// Tells an agent that the conversation of their command is not theirs (any more).
async fn not_owner(deps: &SessionDeps, agent_id: &AgentId) {
    publish(
        deps,
        &agent_route(agent_id),
        &AgentEvent::error("not_owner", "This conversation is not assigned to you."),
    )
    .await;
}

/// Lines of the conversation a hand-off context carries (the newest).
const CONTEXT_LINES: usize = 20;

/// The agent's context card for a hand-off: why, what the bot understood and collected, who
/// the customer is, and the last lines of the conversation (customer, bot and system).
fn handoff_context(handoff: &Handoff, customer: &Customer, said: &[Message]) -> HandoffContext {
    let lines: Vec<&Message> = said
        .iter()
        .filter(|m| matches!(m.from, Sender::Customer | Sender::Bot | Sender::System))
        .collect();
    let skip = lines.len().saturating_sub(CONTEXT_LINES);
    HandoffContext {
        reason: handoff.reason.as_str().to_owned(),
        intent: handoff.intent.clone(),
        confidence: handoff.confidence,
        flow: handoff.flow.clone(),
        flow_title: handoff.flow_title.clone(),
        slots: handoff.slots.clone(),
        summary: handoff.summary.clone(),
        summaries: [("en", &handoff.summary), ("zh", &handoff.summary_zh)]
            .into_iter()
            .filter(|(_, s)| !s.is_empty())
            .map(|(lang, s)| (lang.to_owned(), s.clone()))
            .collect(),
        transcript: lines
            .into_iter()
            .skip(skip)
            .map(|m| TranscriptLine {
                from: m.from,
                channel: m.channel,
                text: m.text.clone(),
                sent_at: m.sent_at,
            })
            .collect(),
        tier: customer.tier,
        tags: customer.tags.clone(),
    }
}

/// A voice task's summary: the bot's hand-off summary, then the last lines of the
/// conversation (customer and bot turns, on any channel), newest last.
fn call_summary(handoff_summary: &str, said: &[Message]) -> String {
    let lines: Vec<String> = said
        .iter()
        .filter(|m| matches!(m.from, Sender::Customer | Sender::Bot))
        .map(|m| {
            let who = if m.from == Sender::Customer {
                "客户 Caller"
            } else {
                "机器人 Bot"
            };
            format!("[{}] {who}: {}", m.channel, m.text)
        })
        .collect();
    let tail = &lines[lines.len().saturating_sub(CALL_SUMMARY_LINES)..];
    let summary = format!("{handoff_summary}\n{}", tail.join("\n"));
    summary.chars().take(CALL_SUMMARY_CHARS).collect()
}

/// The answer to a repeated customer message: the first one, with the answers stored then.
async fn repeat(deps: &SessionDeps, existing: Message) -> Accepted {
    let mut replies = Vec::new();
    if let Some(external_id) = &existing.external_id {
        // A store failure here only costs the repeat its passive answer (it was sent, or is
        // in the outbox).
        if let Ok(Some(answer)) = deps
            .store
            .find_message(existing.channel, &reply_key(external_id, 0))
            .await
        {
            replies.push(Reply {
                message_id: answer.id,
                text: answer.text,
                channel: Some(answer.channel),
            });
        }
    }
    Accepted {
        message_id: existing.id,
        conversation_id: existing.conversation_id,
        duplicate: true,
        replies,
        handoff: false,
    }
}

/// Adds the announcements of deliveries due now to `batch`; returns those due later (after a
/// channel's passive-reply window), to publish with their delay.
fn announce(
    outbox: &[crate::store::OutboxItem],
    batch: &mut Vec<(Route, Vec<u8>)>,
    now: chrono::DateTime<Utc>,
) -> Vec<(String, Vec<u8>, Duration)> {
    let mut later = Vec::new();
    for item in outbox {
        let delay = (item.due_at - now).to_std().unwrap_or_default();
        let (route, payload) = DeliveryEnvelope::announce(item);
        match route {
            Route::Queue(queue) if delay > Duration::from_millis(50) => {
                later.push((queue, payload, delay));
            }
            route => batch.push((route, payload)),
        }
    }
    later
}

/// Publishes delayed announcements (the outbox relay covers a failure).
async fn publish_later(deps: &SessionDeps, later: Vec<(String, Vec<u8>, Duration)>) {
    for (queue, payload, delay) in later {
        if let Err(error) = deps.bus.publish_delayed(&queue, payload, delay).await {
            tracing::warn!(%queue, %error, "Publishing a delayed delivery failed; the relay will.");
        }
    }
}

/// A notification ready for [`publish_batch`].
fn event<T: Serialize>(route: &Route, event: &T) -> (Route, Vec<u8>) {
    (route.clone(), serde_json::to_vec(event).unwrap_or_default())
}

/// Publishes notifications in order, with one wait for all the broker's confirms. They are
/// derived from stored state (transcripts are re-sent on reconnect; outbox rows are relayed),
/// so a failure is logged, not fatal.
async fn publish_batch(deps: &SessionDeps, batch: Vec<(Route, Vec<u8>)>) {
    if let Err(error) = deps.bus.publish_all(batch).await {
        tracing::warn!(%error, "Publishing session events failed.");
    }
}

/// `message` for its writer's desk and, when someone else holds the conversation, the
/// holder's.
fn staff_copies(
    conversation: &Conversation,
    writer: &AgentId,
    message: &Message,
) -> Vec<(Route, Vec<u8>)> {
    let holder = conversation.agent_id.as_ref().filter(|h| *h != writer);
    std::iter::once(writer)
        .chain(holder)
        .map(|agent| event(&agent_route(agent), &AgentEvent::Message(message.into())))
        .collect()
}

/// Whether `id` is the open conversation and an agent holds it.
fn is_assigned(conversation: &Conversation, id: &ConversationId) -> bool {
    conversation.id == *id && conversation.status == ConversationStatus::Assigned
}

/// Tells a supervisor their whisper or barge found no agent holding the conversation.
async fn not_assigned(deps: &SessionDeps, agent_id: &AgentId) {
    refuse(
        deps,
        agent_id,
        "not_assigned",
        "No agent holds this conversation.",
    )
    .await;
}

fn owned_by(conversation: &Conversation, id: &ConversationId, agent: &AgentId) -> bool {
    conversation.id == *id
        && conversation.status == ConversationStatus::Assigned
        && conversation.agent_id.as_ref() == Some(agent)
}

/// Publishes a notification. Notifications are derived from stored state (the transcript is
/// in the store and is re-sent on reconnect), so a failed publish is logged, not fatal.
async fn publish<T: Serialize>(deps: &SessionDeps, route: &Route, event: &T) {
    if let Err(error) = publish_json(deps.bus.as_ref(), route, event).await {
        tracing::warn!(?route, %error, "Publishing a session event failed.");
    }
}

/// What a customer is told when no agent could take their conversation in time.
fn fallback_notice(fallback: Fallback) -> (&'static str, &'static str) {
    match fallback {
        Fallback::Callback => (
            "抱歉，目前客服繁忙。我们已为您登记回电，客服会尽快与您联系。您也可以继续向我提问。",
            "Sorry, all our agents are busy. We have booked a call back and an agent will contact you soon. You can keep asking me in the meantime.",
        ),
        Fallback::Ticket => (
            "抱歉，目前客服繁忙。我们已为您创建工单，处理进展会通过消息通知您。",
            "Sorry, all our agents are busy. We opened a ticket for you and will keep you posted by message.",
        ),
        Fallback::BotMessage => (
            "抱歉，目前没有客服可以接待。我会继续为您服务，您也可以稍后再联系人工客服。",
            "Sorry, no agent is free right now. I will keep helping you, and you can ask for an agent again later.",
        ),
    }
}

#[cfg(test)]
mod tests {
    //! The session actor on its own: a real SQLite store in a temporary folder, the
    //! in-process bus, the demo bot; no router, no HTTP.
    use std::time::Duration;

    use futures_util::StreamExt;

    use super::*;
    use crate::actors::delivery::NoDeliveries;
    use crate::bot::actions::NoActions;
    use crate::bot::KbBot;
    use crate::bus::memory::MemoryBus;
    use crate::bus::Subscription;
    use crate::domain::ClientId;
    use crate::store::sqlite::SqliteStore;
    use crate::store::CustomerStore;

    struct Harness {
        session: Addr<CustomerSession>,
        deps: Arc<SessionDeps>,
        customer: CustomerId,
        _dir: tempfile::TempDir,
    }

    async fn harness() -> Harness {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Arc::new(SqliteStore::open(&dir.path().join("session.db")).expect("store"));
        let customer = Customer {
            id: CustomerId::generate(),
            display_name: "Test".to_owned(),
            tier: Tier::Standard,
            tags: vec![],
            created_at: Utc::now(),
        };
        store.insert_customer(&customer).await.expect("customer");
        let deps = Arc::new(SessionDeps {
            store,
            bus: Arc::new(MemoryBus::new()),
            bot: Arc::new(KbBot::demo().expect("demo bot")),
            assist: Default::default(),
            actions: Arc::new(NoActions),
            metrics: Arc::new(Metrics::new().expect("metrics")),
            deliveries: Arc::new(NoDeliveries),
            reply_channel: None,
            idle_timeout: Duration::from_secs(600),
            reply_timeout: Duration::from_secs(30),
        });
        let session =
            CustomerSession::new(customer.id.clone(), Arc::clone(&deps), Arc::default()).start();
        Harness {
            session,
            deps,
            customer: customer.id,
            _dir: dir,
        }
    }

    impl Harness {
        async fn say(&self, text: &str, client_id: &str) -> Accepted {
            let inbound = Inbound {
                channel: Channel::Web,
                external_id: format!("{}/{client_id}", self.customer),
                client_id: Some(ClientId::parse(client_id).expect("client id")),
                text: MessageText::parse(text).expect("text"),
            };
            self.session
                .send(inbound)
                .await
                .expect("mailbox")
                .expect("accepted")
        }

        async fn command(&self, command: SessionCommand) {
            self.session
                .send(command)
                .await
                .expect("mailbox")
                .expect("handled");
        }

        /// A staff account in the store (assignments refer to it).
        async fn agent(&self, username: &str) -> AgentId {
            let agent = crate::domain::Agent {
                id: AgentId::generate(),
                username: username.to_owned(),
                display_name: username.to_owned(),
                role: crate::domain::Role::Agent,
                skills: vec![],
                languages: vec![Language::Zh],
                capacity: 3,
                voice_capacity: None,
                ticket_capacity: None,
                password_hash: String::new(),
            };
            self.deps.store.upsert_agent(&agent).await.expect("agent")
        }

        async fn stored(&self, conversation: &ConversationId) -> Vec<Message> {
            self.deps
                .store
                .conversation_messages(conversation)
                .await
                .expect("messages")
        }

        async fn subscribe(&self, route: &Route) -> Subscription {
            self.deps.bus.subscribe(route).await.expect("subscription")
        }
    }

    /// The next event of a subscription, decoded.
    async fn next<T: serde::de::DeserializeOwned>(sub: &mut Subscription) -> T {
        let delivery = tokio::time::timeout(Duration::from_secs(5), sub.next())
            .await
            .expect("an event in time")
            .expect("an open subscription");
        let event = delivery.json::<T>().expect("decodes");
        delivery.ack().await.expect("ack");
        event
    }

    /// Nothing more arrives on `sub` for a while.
    async fn quiet(sub: &mut Subscription) -> bool {
        tokio::time::timeout(Duration::from_millis(300), sub.next())
            .await
            .is_err()
    }

    #[actix::test]
    async fn a_message_is_stored_with_its_answer_echoed_and_a_repeat_writes_nothing() {
        let h = harness().await;
        let mut widget = h.subscribe(&customer_route(&h.customer)).await;

        let first = h.say("how do I get a refund?", "c-1").await;
        assert!(!first.duplicate && !first.handoff);
        assert_eq!(first.replies.len(), 1, "the bot answers");
        let stored = h.stored(&first.conversation_id).await;
        assert_eq!(
            stored.iter().map(|m| m.from).collect::<Vec<_>>(),
            [Sender::Customer, Sender::Bot]
        );
        // The customer's own message is echoed to their connections, then the answer.
        let echo: CustomerEvent = next(&mut widget).await;
        let answer: CustomerEvent = next(&mut widget).await;
        assert!(matches!(echo, CustomerEvent::Message(m) if m.id == first.message_id));
        assert!(matches!(answer, CustomerEvent::Message(m) if m.id == first.replies[0].message_id));

        let again = h.say("how do I get a refund?", "c-1").await;
        assert!(again.duplicate);
        assert_eq!(again.message_id, first.message_id);
        assert_eq!(
            again.replies, first.replies,
            "the first answer, not a new one"
        );
        assert_eq!(h.stored(&first.conversation_id).await.len(), 2);
    }

    #[actix::test]
    async fn a_request_for_a_person_commits_the_task_and_tells_the_dispatcher() {
        let h = harness().await;
        let mut dispatcher = h
            .deps
            .bus
            .consume(crate::actors::protocol::DISPATCH_QUEUE)
            .await
            .expect("queue");

        let accepted = h.say("转人工", "c-1").await;
        assert!(accepted.handoff);
        let conversation = h
            .deps
            .store
            .conversation(&accepted.conversation_id)
            .await
            .expect("read")
            .expect("stored");
        assert_eq!(conversation.status, ConversationStatus::Queued);
        let task = h
            .deps
            .store
            .open_task_for(&conversation.id)
            .await
            .expect("read")
            .expect("the task is stored with the turn");
        match next::<DispatchEvent>(&mut dispatcher).await {
            DispatchEvent::TaskCreated { task: told, .. } => assert_eq!(told.id, task.id),
            other => panic!("expected TaskCreated, got {other:?}"),
        }
    }

    #[actix::test]
    async fn an_assignment_tells_the_customer_once_and_the_agent_each_time() {
        let h = harness().await;
        let accepted = h.say("转人工", "c-1").await;
        let task = h
            .deps
            .store
            .open_task_for(&accepted.conversation_id)
            .await
            .expect("read")
            .expect("task");
        let agent = h.agent("alice").await;
        let mut desk = h.subscribe(&agent_route(&agent)).await;
        let assigned = || SessionCommand::AgentAssigned {
            customer_id: h.customer.clone(),
            conversation_id: accepted.conversation_id.clone(),
            task_id: task.id.clone(),
            agent_id: agent.clone(),
            agent_name: "Alice".to_owned(),
        };

        h.command(assigned()).await;
        // A redelivered acceptance: the desk gets its conversation again, the customer
        // hears "joined" once.
        h.command(assigned()).await;
        for _ in 0..2 {
            match next::<AgentEvent>(&mut desk).await {
                AgentEvent::Assigned { history, .. } => assert!(!history.is_empty()),
                other => panic!("expected Assigned, got {other:?}"),
            }
        }
        let system: Vec<Message> = h
            .stored(&accepted.conversation_id)
            .await
            .into_iter()
            .filter(|m| m.from == Sender::System)
            .collect();
        assert_eq!(system.len(), 1, "{system:?}");
        assert!(system[0].text.contains("Alice"));
    }

    #[actix::test]
    async fn only_the_owning_agent_may_write_to_the_customer() {
        let h = harness().await;
        let accepted = h.say("转人工", "c-1").await;
        let task = h
            .deps
            .store
            .open_task_for(&accepted.conversation_id)
            .await
            .expect("read")
            .expect("task");
        let (owner, stranger) = (h.agent("owner").await, h.agent("stranger").await);
        h.command(SessionCommand::AgentAssigned {
            customer_id: h.customer.clone(),
            conversation_id: accepted.conversation_id.clone(),
            task_id: task.id,
            agent_id: owner.clone(),
            agent_name: "Owner".to_owned(),
        })
        .await;
        let before = h.stored(&accepted.conversation_id).await.len();
        let mut stranger_desk = h.subscribe(&agent_route(&stranger)).await;
        let write = |agent: &AgentId, text: &str| SessionCommand::AgentMessage {
            customer_id: h.customer.clone(),
            conversation_id: accepted.conversation_id.clone(),
            agent_id: agent.clone(),
            text: MessageText::parse(text).expect("text"),
        };

        h.command(write(&stranger, "not mine")).await;
        match next::<AgentEvent>(&mut stranger_desk).await {
            AgentEvent::Error { code, .. } => assert_eq!(code, "not_owner"),
            other => panic!("expected an error, got {other:?}"),
        }
        assert_eq!(h.stored(&accepted.conversation_id).await.len(), before);

        h.command(write(&owner, "Hello, I can help.")).await;
        let after = h.stored(&accepted.conversation_id).await;
        assert_eq!(after.len(), before + 1);
        let last = after.last().expect("a message");
        assert_eq!(
            (last.from, last.agent_id.as_ref()),
            (Sender::Agent, Some(&owner))
        );
        assert!(
            quiet(&mut stranger_desk).await,
            "the stranger is told nothing more"
        );
    }

    #[actix::test]
    async fn a_reload_drops_what_the_session_cached() {
        let h = harness().await;
        let first = h.say("hello", "c-1").await;
        // The conversation is closed behind the session's back (as a merge's undo moves it).
        let mut conversation = h
            .deps
            .store
            .conversation(&first.conversation_id)
            .await
            .expect("read")
            .expect("stored");
        conversation.status = ConversationStatus::Closed;
        conversation.closed_at = Some(Utc::now());
        h.deps
            .store
            .update_conversation(&conversation)
            .await
            .expect("closed");

        h.command(SessionCommand::Reload {
            customer_id: h.customer.clone(),
        })
        .await;
        let next = h.say("hello again", "c-2").await;
        assert_ne!(
            next.conversation_id, first.conversation_id,
            "the session read the store again"
        );
    }
}
