//! `AgentSession`: one actor per connected agent desk (a WebSocket).
//!
//! It translates the desk protocol of API.md into bus events: presence, accept and reject go
//! to the dispatcher; replies, typing and wrap-up go to the customer's session. It forwards
//! everything published on `agent.{id}` (offers, assignments, messages) to the desk. A newer
//! desk of the same agent replaces an older one. A change of the agent's routing profile is
//! reported from then on; a sign-in that ends (deactivation, role change, password reset, or a
//! sign-out of the desk's own token) closes the desk.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use actix::prelude::*;
use serde::{Deserialize, Serialize};

use super::protocol::{
    agent_route, agents_broadcast_route, dispatch_route, monitor_route, AgentEvent, DispatchEvent,
    RoutingProfile, SessionCommand, TransferTarget,
};
use super::session_router::command_envelope;
use crate::bus::{publish_json, Bus, Delivery, Route};
use crate::domain::{
    Agent, AgentId, AgentStatus, ConversationId, ConversationStatus, CustomerId, HandoffContext,
    MessageText, Permission, Resolution, Role, SkillRequirement, TaskId,
};
use crate::socket::{self, CloseCode, CloseReason, Frame, Socket, Writer};
use crate::store::Store;
use crate::telemetry::Metrics;
use crate::views::{parse_ws_command, CustomerCard, MessageView, WsError};

/// What the desk sends.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum AgentCommand {
    Status {
        status: AgentStatus,
        /// Why the agent is away (one of `routing.away_reasons`).
        #[serde(default)]
        reason: Option<String>,
    },
    Accept {
        task_id: TaskId,
    },
    Reject {
        task_id: TaskId,
    },
    Message {
        conversation_id: ConversationId,
        text: String,
        /// The assist suggestion the text came from, if the agent used one.
        #[serde(default)]
        suggestion_id: Option<String>,
    },
    Typing {
        conversation_id: ConversationId,
    },
    WrapUp {
        conversation_id: ConversationId,
        resolution: Resolution,
    },
    GiveBack {
        conversation_id: ConversationId,
    },
    Transfer {
        conversation_id: ConversationId,
        to: WireTarget,
        #[serde(default)]
        note: Option<String>,
    },
    Note {
        conversation_id: ConversationId,
        text: String,
    },
    Monitor {
        conversation_id: ConversationId,
    },
    Unmonitor {
        conversation_id: ConversationId,
    },
    Whisper {
        conversation_id: ConversationId,
        text: String,
    },
    Barge {
        conversation_id: ConversationId,
    },
}

const COMMAND_TYPES: [&str; 13] = [
    "status",
    "accept",
    "reject",
    "message",
    "typing",
    "wrap_up",
    "give_back",
    "transfer",
    "note",
    "monitor",
    "unmonitor",
    "whisper",
    "barge",
];

/// Where a transfer goes, as the desk says it.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum WireTarget {
    Agent { agent_id: AgentId },
    Skills { skills: Vec<WireSkill> },
}

#[derive(Debug, Deserialize)]
struct WireSkill {
    name: String,
    #[serde(default)]
    level: Option<u8>,
}

/// Skills of a transfer: 1 to 10 names of at most 64 characters, levels 1–5 (default 1).
fn transfer_skills(skills: Vec<WireSkill>) -> Result<Vec<SkillRequirement>, &'static str> {
    if skills.is_empty() || skills.len() > 10 {
        return Err("A transfer names one to ten skills.");
    }
    skills
        .into_iter()
        .map(|s| {
            let name = s.name.trim().to_owned();
            let level = s.level.unwrap_or(1);
            if name.is_empty() || name.chars().count() > 64 {
                return Err("A skill name has 1 to 64 characters.");
            }
            if !(1..=5).contains(&level) {
                return Err("A skill level is 1 to 5.");
            }
            Ok(SkillRequirement {
                name,
                min_level: level,
            })
        })
        .collect()
}

/// The longest transfer note, note or whisper (characters).
const MAX_NOTE_CHARS: usize = 2000;
/// Conversations one desk may monitor at once.
const MAX_MONITORED: usize = 20;
/// How often a monitoring desk renews its lease with the conversation's session.
const MONITOR_RENEWAL: std::time::Duration = std::time::Duration::from_secs(30);

/// A copy of a monitored conversation's message (`monitor.{conversation}`).
struct Monitored(Delivery);

/// Why a supervising command was refused: `code`, message.
type Refusal = (&'static str, &'static str);

const UNAVAILABLE: Refusal = (
    "not_ready",
    "The conversation could not be read; try again.",
);
const CLOSED: Refusal = (
    "conversation_closed",
    "This conversation is closed or unknown.",
);

/// An open conversation `me` may supervise: a supervisor or admin any, a team lead one held by
/// an agent of a team they lead; an agent none (`not_owner`).
async fn supervised_conversation(
    store: &dyn Store,
    me: &Agent,
    id: &ConversationId,
) -> Result<crate::domain::Conversation, Refusal> {
    if !me.role.may(Permission::Supervise) {
        return Err(("not_owner", "This conversation is not assigned to you."));
    }
    let conversation = store
        .conversation(id)
        .await
        .map_err(|_| UNAVAILABLE)?
        .filter(|c| c.status != ConversationStatus::Closed)
        .ok_or(CLOSED)?;
    if me.role == Role::TeamLead {
        let teams = store.teams().await.map_err(|_| UNAVAILABLE)?;
        let led = crate::store::agents_led_by(&teams, &me.id);
        if !conversation
            .agent_id
            .as_ref()
            .is_some_and(|a| led.contains(a))
        {
            return Err((
                "forbidden",
                "This conversation is not with an agent of a team you lead.",
            ));
        }
    }
    Ok(conversation)
}

/// Conversation the desk restores on connect.
#[derive(Debug, Serialize)]
struct OpenConversation {
    conversation_id: ConversationId,
    task_id: Option<TaskId>,
    customer: CustomerCard,
    history: Vec<MessageView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    context: Option<Box<HandoffContext>>,
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename = "hello")]
struct Hello<'a> {
    agent_id: &'a str,
    name: &'a str,
    status: AgentStatus,
    skills: &'a [crate::domain::Skill],
    role: Role,
    away_reasons: &'a [String],
    conversations: Vec<OpenConversation>,
}

/// The actor behind one agent desk WebSocket.
pub struct AgentSession {
    agent: Agent,
    /// The hash of the token the desk was opened with (a sign-out of it closes the desk).
    token_hash: String,
    connection_id: String,
    status: AgentStatus,
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
    metrics: Arc<Metrics>,
    /// Conversations this agent owns → their customer (to address the customer's session).
    conversations: HashMap<ConversationId, CustomerId>,
    /// Conversations a supervisor or team lead barged into → their customer.
    barged: HashMap<ConversationId, CustomerId>,
    /// Conversations this desk monitors → their customer and the lease renewal and copies.
    monitoring: HashMap<ConversationId, (CustomerId, SpawnHandle, SpawnHandle)>,
    /// Why the agent is away, if they are.
    reason: Option<String>,
    away_reasons: Vec<String>,
    heartbeat: Instant,
    socket: Writer,
}

impl AgentSession {
    /// A session for an agent authenticated by the token of `token_hash`, on the desk socket
    /// that `socket` writes to.
    pub fn new(
        agent: Agent,
        token_hash: String,
        socket: Writer,
        store: Arc<dyn Store>,
        bus: Arc<dyn Bus>,
        metrics: Arc<Metrics>,
        away_reasons: Vec<String>,
    ) -> Self {
        Self {
            agent,
            token_hash,
            connection_id: uuid::Uuid::new_v4().to_string(),
            status: AgentStatus::Offline,
            store,
            bus,
            metrics,
            conversations: HashMap::new(),
            barged: HashMap::new(),
            monitoring: HashMap::new(),
            reason: None,
            away_reasons,
            heartbeat: Instant::now(),
            socket,
        }
    }

    fn send_json<T: Serialize>(&self, value: &T) {
        self.socket.json(value);
    }

    /// Sends a command to a customer's session, wherever it runs (see
    /// [`super::session_router`]).
    fn command(&mut self, ctx: &mut Context<Self>, command: SessionCommand) {
        let (route, envelope) = command_envelope(command);
        self.publish(ctx, route, envelope);
    }

    /// Publishes in order: the actor waits for each publish before handling the next frame.
    fn publish<T: Serialize + 'static>(&mut self, ctx: &mut Context<Self>, route: Route, event: T) {
        let bus = Arc::clone(&self.bus);
        ctx.wait(
            async move {
                if let Err(error) = publish_json(bus.as_ref(), &route, &event).await {
                    tracing::warn!(?route, %error, "Publishing a desk event failed.");
                }
            }
            .into_actor(self),
        );
    }

    fn state_event(&self) -> DispatchEvent {
        DispatchEvent::AgentState {
            agent_id: self.agent.id.clone(),
            name: self.agent.display_name.clone(),
            connection_id: self.connection_id.clone(),
            status: self.status,
            skills: self.agent.skills.clone(),
            languages: self.agent.languages.clone(),
            capacity: self.agent.capacity,
            voice_capacity: self.agent.voice_capacity,
            ticket_capacity: self.agent.ticket_capacity,
            active: self.conversations.keys().cloned().collect(),
            reason: self.reason.clone(),
        }
    }

    /// Takes the agent's new routing profile and reports it (while not offline).
    fn profile_changed(&mut self, ctx: &mut Context<Self>, profile: &RoutingProfile) {
        self.agent.display_name.clone_from(&profile.name);
        self.agent.skills.clone_from(&profile.skills);
        self.agent.languages.clone_from(&profile.languages);
        self.agent.capacity = profile.capacity;
        self.agent.voice_capacity = profile.voice_capacity;
        self.agent.ticket_capacity = profile.ticket_capacity;
        if self.status != AgentStatus::Offline {
            let event = self.state_event();
            self.publish(ctx, dispatch_route(), event);
        }
    }

    /// The desk's sign-in ended: the browser is told why, and the desk closes (its offers are
    /// withdrawn as for any disconnect).
    fn signed_out(&mut self, ctx: &mut Context<Self>, code: &str) {
        let message = if code == "account_deactivated" {
            "This account was deactivated."
        } else {
            "You were signed out; sign in again."
        };
        self.send_json(&WsError::new(code, message));
        self.socket.close(Some(CloseReason {
            code: CloseCode::Policy,
            description: Some("signed out".to_owned()),
        }));
        ctx.stop();
    }

    fn handle_command(&mut self, ctx: &mut Context<Self>, command: AgentCommand) {
        let agent_id = self.agent.id.clone();
        let routed = self.agent.role.may(Permission::HandleConversations);
        match command {
            AgentCommand::Status { .. }
            | AgentCommand::Accept { .. }
            | AgentCommand::Reject { .. }
                if !routed =>
            {
                self.send_json(&WsError::new(
                    "forbidden",
                    "Only agents take offers; supervisors and team leads stay offline.",
                ));
            }
            AgentCommand::Status { status, reason } => {
                let reason = reason.filter(|_| status == AgentStatus::Away);
                if reason
                    .as_ref()
                    .is_some_and(|r| !self.away_reasons.contains(r))
                {
                    return self.send_json(&WsError::new(
                        "invalid_request",
                        "Unknown away reason; see away_reasons in hello.",
                    ));
                }
                self.status = status;
                self.reason = reason;
                let event = self.state_event();
                self.publish(ctx, dispatch_route(), event);
                let mut ack = serde_json::json!({"type": "status", "status": status});
                if let Some(reason) = &self.reason {
                    ack["reason"] = serde_json::Value::String(reason.clone());
                }
                self.send_json(&ack);
            }
            AgentCommand::Accept { task_id } => {
                self.publish(
                    ctx,
                    dispatch_route(),
                    DispatchEvent::Accept { task_id, agent_id },
                );
            }
            AgentCommand::Reject { task_id } => {
                self.publish(
                    ctx,
                    dispatch_route(),
                    DispatchEvent::Reject { task_id, agent_id },
                );
            }
            AgentCommand::Message {
                conversation_id,
                text,
                suggestion_id,
            } => {
                let text = match MessageText::parse(&text) {
                    Ok(text) => text,
                    Err(e) => {
                        return self.send_json(&WsError::new("invalid_request", &e.to_string()))
                    }
                };
                let Some(customer_id) = self.held_or_refuse(&conversation_id) else {
                    return;
                };
                self.command(
                    ctx,
                    SessionCommand::AgentMessage {
                        customer_id,
                        conversation_id: conversation_id.clone(),
                        agent_id: agent_id.clone(),
                        text,
                    },
                );
                if let Some(suggestion) = suggestion_id {
                    self.record_assist_use(suggestion, agent_id, conversation_id);
                }
            }
            AgentCommand::Typing { conversation_id } => {
                // Typing in a conversation that is not the agent's is not worth an error.
                if let Some(customer_id) = self.conversations.get(&conversation_id).cloned() {
                    self.command(
                        ctx,
                        SessionCommand::AgentTyping {
                            customer_id,
                            conversation_id,
                            agent_id,
                        },
                    );
                }
            }
            AgentCommand::WrapUp {
                conversation_id,
                resolution,
            } => {
                if let Some(customer_id) = self.held_or_refuse(&conversation_id) {
                    self.command(
                        ctx,
                        SessionCommand::WrapUp {
                            customer_id,
                            conversation_id,
                            agent_id,
                            resolution,
                        },
                    );
                }
            }
            AgentCommand::GiveBack { conversation_id } => {
                if let Some(customer_id) = self.held_or_refuse(&conversation_id) {
                    self.command(
                        ctx,
                        SessionCommand::GiveBack {
                            customer_id,
                            conversation_id,
                            agent_id,
                        },
                    );
                }
            }
            AgentCommand::Transfer {
                conversation_id,
                to,
                note,
            } => self.transfer(ctx, conversation_id, to, note),
            AgentCommand::Note {
                conversation_id,
                text,
            } => {
                let Some(text) = self.note_text(&text) else {
                    return;
                };
                if let Some(customer_id) = self.conversations.get(&conversation_id).cloned() {
                    return self.command(
                        ctx,
                        SessionCommand::Note {
                            customer_id,
                            conversation_id,
                            by: agent_id,
                            supervising: false,
                            text,
                        },
                    );
                }
                self.supervise(ctx, conversation_id, move |act, ctx, conversation| {
                    act.command(
                        ctx,
                        SessionCommand::Note {
                            customer_id: conversation.customer_id,
                            conversation_id: conversation.id,
                            by: agent_id,
                            supervising: true,
                            text,
                        },
                    );
                });
            }
            AgentCommand::Whisper {
                conversation_id,
                text,
            } => {
                let Some(text) = self.note_text(&text) else {
                    return;
                };
                self.supervise(ctx, conversation_id, move |act, ctx, conversation| {
                    act.command(
                        ctx,
                        SessionCommand::Whisper {
                            customer_id: conversation.customer_id,
                            conversation_id: conversation.id,
                            by: agent_id,
                            text,
                        },
                    );
                });
            }
            AgentCommand::Barge { conversation_id } => {
                let by_name = self.agent.display_name.clone();
                self.supervise(ctx, conversation_id, move |act, ctx, conversation| {
                    act.barged
                        .insert(conversation.id.clone(), conversation.customer_id.clone());
                    act.command(
                        ctx,
                        SessionCommand::Barge {
                            customer_id: conversation.customer_id,
                            conversation_id: conversation.id,
                            by: agent_id,
                            by_name,
                        },
                    );
                });
            }
            AgentCommand::Monitor { conversation_id } => self.monitor(ctx, conversation_id),
            AgentCommand::Unmonitor { conversation_id } => {
                if let Some((_, renewal, copies)) = self.monitoring.remove(&conversation_id) {
                    ctx.cancel_future(renewal);
                    ctx.cancel_future(copies);
                }
                self.send_json(&serde_json::json!({
                    "type": "unmonitored",
                    "conversation_id": conversation_id,
                }));
            }
        }
    }

    /// A note's or whisper's text, or None after telling the desk what is wrong with it.
    fn note_text(&self, text: &str) -> Option<MessageText> {
        if text.chars().count() > MAX_NOTE_CHARS {
            self.send_json(&WsError::new(
                "invalid_request",
                "A note has at most 2000 characters.",
            ));
            return None;
        }
        match MessageText::parse(text) {
            Ok(text) => Some(text),
            Err(e) => {
                self.send_json(&WsError::new("invalid_request", &e.to_string()));
                None
            }
        }
    }

    /// Hands a conversation on: the agent who holds it, or a supervisor or team lead (in
    /// their scope) reassigning it. A named target must be an active agent.
    fn transfer(
        &mut self,
        ctx: &mut Context<Self>,
        conversation_id: ConversationId,
        to: WireTarget,
        note: Option<String>,
    ) {
        let note = match note.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
            None => None,
            Some(note) => match self.note_text(note) {
                Some(note) => Some(note),
                None => return,
            },
        };
        let target = match to {
            WireTarget::Agent { agent_id } => TransferTarget::Agent { agent_id },
            WireTarget::Skills { skills } => match transfer_skills(skills) {
                Ok(skills) => TransferTarget::Skills { skills },
                Err(problem) => {
                    return self.send_json(&WsError::new("invalid_request", problem));
                }
            },
        };
        let held = self.conversations.contains_key(&conversation_id);
        let me = self.agent.clone();
        let store = Arc::clone(&self.store);
        let named = match &target {
            TransferTarget::Agent { agent_id } => Some(agent_id.clone()),
            TransferTarget::Skills { .. } => None,
        };
        ctx.wait(
            async move {
                let conversation = if held {
                    store
                        .conversation(&conversation_id)
                        .await
                        .map_err(|_| UNAVAILABLE)?
                        .ok_or(CLOSED)?
                } else {
                    supervised_conversation(store.as_ref(), &me, &conversation_id).await?
                };
                if let Some(agent_id) = named {
                    let agent = store.agent(&agent_id).await.map_err(|_| UNAVAILABLE)?;
                    if agent.is_none_or(|a| a.role != Role::Agent) {
                        return Err(("unknown_agent", "No active agent has this id."));
                    }
                }
                Ok(conversation)
            }
            .into_actor(self)
            .map(move |result, act, ctx| match result {
                Ok(conversation) => {
                    let by = act.agent.id.clone();
                    act.command(
                        ctx,
                        SessionCommand::Transfer {
                            customer_id: conversation.customer_id,
                            conversation_id: conversation.id,
                            by,
                            supervising: !held,
                            to: target,
                            note,
                        },
                    );
                }
                Err((code, message)) => act.send_json(&WsError::new(code, message)),
            }),
        );
    }

    /// Runs `then` with an open conversation this supervisor or team lead may act on (a team
    /// lead: one held by an agent of a team they lead), or tells the desk why not.
    fn supervise<F>(&mut self, ctx: &mut Context<Self>, conversation_id: ConversationId, then: F)
    where
        F: FnOnce(&mut Self, &mut Context<Self>, crate::domain::Conversation) + 'static,
    {
        let me = self.agent.clone();
        let store = Arc::clone(&self.store);
        ctx.wait(
            async move { supervised_conversation(store.as_ref(), &me, &conversation_id).await }
                .into_actor(self)
                .map(move |result, act, ctx| match result {
                    Ok(conversation) => then(act, ctx, conversation),
                    Err((code, message)) => act.send_json(&WsError::new(code, message)),
                }),
        );
    }

    /// Starts copying a conversation's messages to this desk (`monitoring`, then `message`
    /// events with `"monitor": true`), renewing the lease with its session meanwhile.
    fn monitor(&mut self, ctx: &mut Context<Self>, conversation_id: ConversationId) {
        if self.monitoring.len() >= MAX_MONITORED && !self.monitoring.contains_key(&conversation_id)
        {
            return self.send_json(&WsError::new(
                "too_many_monitors",
                "Stop monitoring another conversation first (20 at most).",
            ));
        }
        if let Some((_, renewal, copies)) = self.monitoring.remove(&conversation_id) {
            ctx.cancel_future(renewal);
            ctx.cancel_future(copies);
        }
        let me = self.agent.clone();
        let store = Arc::clone(&self.store);
        let bus = Arc::clone(&self.bus);
        ctx.wait(
            async move {
                let conversation =
                    supervised_conversation(store.as_ref(), &me, &conversation_id).await?;
                // Subscribed before the history is read: nothing falls between the two.
                let copies = bus
                    .subscribe(&monitor_route(&conversation.id))
                    .await
                    .map_err(|_| UNAVAILABLE)?;
                let history = store
                    .conversation_messages(&conversation.id)
                    .await
                    .map_err(|_| UNAVAILABLE)?;
                let customer = store
                    .customer(&conversation.customer_id)
                    .await
                    .map_err(|_| UNAVAILABLE)?;
                Ok((conversation, copies, history, customer))
            }
            .into_actor(self)
            .map(|result, act, ctx| match result {
                Ok((conversation, copies, history, customer)) => {
                    use futures_util::StreamExt as _;
                    let copies = ctx.add_stream(copies.map(Monitored));
                    let (customer_id, id) =
                        (conversation.customer_id.clone(), conversation.id.clone());
                    let lease = SessionCommand::Monitor {
                        customer_id: customer_id.clone(),
                        conversation_id: id.clone(),
                    };
                    let renewal = ctx.run_interval(MONITOR_RENEWAL, {
                        let lease = lease.clone();
                        move |act, ctx| act.command(ctx, lease.clone())
                    });
                    act.command(ctx, lease);
                    act.monitoring
                        .insert(id.clone(), (customer_id, renewal, copies));
                    act.send_json(&serde_json::json!({
                        "type": "monitoring",
                        "conversation_id": id,
                        "customer": customer.as_ref().map(CustomerCard::from),
                        "agent_id": conversation.agent_id,
                        "status": conversation.status,
                        "history": history.iter().map(MessageView::from).collect::<Vec<_>>(),
                    }));
                }
                Err((code, message)) => act.send_json(&WsError::new(code, message)),
            }),
        );
    }

    /// The customer of a conversation this desk holds, or None after telling the desk it is
    /// not the agent's.
    fn held_or_refuse(&self, conversation_id: &ConversationId) -> Option<CustomerId> {
        let customer = self
            .conversations
            .get(conversation_id)
            .or_else(|| self.barged.get(conversation_id))
            .cloned();
        if customer.is_none() {
            self.send_json(&WsError::new(
                "not_owner",
                "This conversation is not assigned to you.",
            ));
        }
        customer
    }

    /// Records that the agent sent an assist suggestion. Whether assist helped is a
    /// statistic: a failure is logged, never the agent's problem.
    fn record_assist_use(
        &self,
        suggestion: String,
        agent_id: AgentId,
        conversation_id: ConversationId,
    ) {
        let store = Arc::clone(&self.store);
        actix::spawn(async move {
            match store
                .use_assist(&suggestion, &agent_id, &conversation_id, chrono::Utc::now())
                .await
            {
                Ok(true) => {}
                Ok(false) => {
                    tracing::debug!(%suggestion, "Assist suggestion unknown or used already.")
                }
                Err(error) => {
                    tracing::warn!(%error, %suggestion, "Could not record an assist suggestion's use.")
                }
            }
        });
    }

    /// Loads the agent's open conversations and subscribes to `agent.{id}`, then greets.
    fn connect(&mut self, ctx: &mut Context<Self>) {
        let store = Arc::clone(&self.store);
        let bus = Arc::clone(&self.bus);
        let agent_id = self.agent.id.clone();
        ctx.wait(
            async move {
                // Subscribe first so nothing published while we load is missed.
                let deliveries = bus.subscribe(&agent_route(&agent_id)).await?;
                let broadcast = bus.subscribe(&agents_broadcast_route()).await?;
                let mut open = Vec::new();
                for conversation in store.agent_conversations(&agent_id).await? {
                    let Some(customer) = store.customer(&conversation.customer_id).await? else {
                        continue;
                    };
                    let history = store.conversation_messages(&conversation.id).await?;
                    let task = store.open_task_for(&conversation.id).await?;
                    let (task_id, context) = match task {
                        Some(t) => (Some(t.id), t.context),
                        None => (None, None),
                    };
                    open.push(OpenConversation {
                        conversation_id: conversation.id,
                        task_id,
                        customer: CustomerCard::from(&customer),
                        history: history.iter().map(MessageView::from).collect(),
                        context,
                    });
                }
                anyhow::Ok((deliveries, broadcast, open))
            }
            .into_actor(self)
            .map(|result, act, ctx| match result {
                Ok((deliveries, broadcast, open)) => {
                    ctx.add_stream(deliveries);
                    ctx.add_stream(broadcast);
                    for c in &open {
                        act.conversations
                            .insert(c.conversation_id.clone(), c.customer.id.clone());
                    }
                    act.send_json(&Hello {
                        agent_id: act.agent.id.as_str(),
                        name: &act.agent.display_name,
                        status: act.status,
                        skills: &act.agent.skills,
                        role: act.agent.role,
                        away_reasons: &act.away_reasons,
                        conversations: open,
                    });
                    let replaced = AgentEvent::Replaced {
                        connection_id: act.connection_id.clone(),
                    };
                    act.publish(ctx, agent_route(&act.agent.id), replaced);
                }
                Err(error) => {
                    tracing::error!(error = ?error, "Could not open an agent desk session.");
                    act.send_json(&WsError::new(
                        "not_ready",
                        "The desk could not load; retrying helps.",
                    ));
                    ctx.stop();
                }
            }),
        );
    }
}

impl Actor for AgentSession {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.metrics.connected_agents.inc();
        self.connect(ctx);
    }

    fn stopping(&mut self, _: &mut Self::Context) -> Running {
        // Fire and forget: the actor is going away. The dispatcher withdraws this desk's
        // offers so they are re-offered to someone else.
        let bus = Arc::clone(&self.bus);
        let event = DispatchEvent::AgentDisconnected {
            agent_id: self.agent.id.clone(),
            connection_id: self.connection_id.clone(),
        };
        actix::spawn(async move {
            if let Err(error) = publish_json(bus.as_ref(), &dispatch_route(), &event).await {
                tracing::warn!(%error, "Could not report an agent disconnect.");
            }
        });
        Running::Stop
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        self.metrics.connected_agents.dec();
    }
}

impl StreamHandler<Frame> for AgentSession {
    fn handle(&mut self, item: Frame, ctx: &mut Self::Context) {
        let Some(text) = socket::read_frame(self, ctx, item) else {
            return;
        };
        match parse_ws_command::<AgentCommand>(&text, &COMMAND_TYPES) {
            Ok(command) => self.handle_command(ctx, command),
            Err(error) => self.send_json(&error),
        }
    }
}

impl Socket for AgentSession {
    const NAME: &'static str = "agent desk";

    fn last_heard(&mut self) -> &mut Instant {
        &mut self.heartbeat
    }

    fn writer(&self) -> &Writer {
        &self.socket
    }
}

impl StreamHandler<Delivery> for AgentSession {
    fn handle(&mut self, delivery: Delivery, ctx: &mut Self::Context) {
        let event = delivery.json::<AgentEvent>();
        // Topic copies for a live desk: settle at once; the desk re-syncs from the store on
        // reconnect (hello), so nothing is lost if this connection dies.
        actix::spawn(async move {
            if let Err(error) = delivery.ack().await {
                tracing::debug!(%error, "Ack of a desk event failed.");
            }
        });
        let event = match event {
            Ok(event) => event,
            Err(error) => return tracing::warn!(%error, "Dropped an undecodable desk event."),
        };
        match &event {
            AgentEvent::Resync => {
                if self.status != AgentStatus::Offline {
                    let event = self.state_event();
                    self.publish(ctx, dispatch_route(), event);
                }
                return;
            }
            AgentEvent::ProfileChanged { profile } => {
                self.profile_changed(ctx, profile);
            }
            AgentEvent::SignedOut { token_hash, code } => {
                if token_hash.as_ref().is_none_or(|h| *h == self.token_hash) {
                    self.signed_out(ctx, code);
                }
                return;
            }
            AgentEvent::Replaced { connection_id } => {
                if *connection_id != self.connection_id {
                    self.send_json(&WsError::new(
                        "replaced",
                        "This desk was opened in another window.",
                    ));
                    self.socket.close(Some(CloseReason {
                        code: CloseCode::Policy,
                        description: Some("replaced by a newer desk".to_owned()),
                    }));
                    ctx.stop();
                }
                return;
            }
            AgentEvent::Assigned {
                conversation_id,
                customer,
                ..
            } => {
                self.conversations
                    .insert(conversation_id.clone(), customer.id.clone());
            }
            AgentEvent::WrappedUp {
                conversation_id, ..
            }
            | AgentEvent::GivenBack { conversation_id }
            | AgentEvent::Transferred {
                conversation_id, ..
            } => {
                self.conversations.remove(conversation_id);
                self.barged.remove(conversation_id);
            }
            _ => {}
        }
        self.send_json(&event);
    }

    fn finished(&mut self, ctx: &mut Self::Context) {
        // The bus ended (shutdown): close the desk so it reconnects elsewhere.
        ctx.stop();
    }
}

impl StreamHandler<Monitored> for AgentSession {
    fn handle(&mut self, Monitored(delivery): Monitored, _: &mut Self::Context) {
        let event = delivery.json::<AgentEvent>();
        actix::spawn(async move {
            if let Err(error) = delivery.ack().await {
                tracing::debug!(%error, "Ack of a monitored message failed.");
            }
        });
        match event {
            Ok(AgentEvent::Message(message))
                if self.monitoring.contains_key(&message.conversation_id) =>
            {
                let mut frame =
                    serde_json::to_value(AgentEvent::Message(message)).unwrap_or_default();
                if let Some(fields) = frame.as_object_mut() {
                    fields.insert("monitor".to_owned(), serde_json::Value::Bool(true));
                }
                self.send_json(&frame);
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "Dropped an undecodable monitored message."),
        }
    }

    fn finished(&mut self, _: &mut Self::Context) {
        // One conversation's copies ended (the bus went away): the desk stays open.
    }
}
