//! What actors and channel edges say to each other over the [`crate::bus::Bus`]: the routes,
//! and the messages that travel on them. Every actor and edge depends on this module and on
//! none of the other actors' internals, so the actors form no cycle.
//!
//! - `session.{shard}` (work queue): [`SessionCommand`]s and customer messages ([`Inbound`],
//!   answered with [`Accepted`]) for a customer's session, wrapped by
//!   [`super::session_router`];
//! - `dispatch` (work queue): [`DispatchEvent`]s for the dispatcher;
//! - `agent.{agent_id}` (topic): [`AgentEvent`]s for the desk(s) of one agent;
//! - `customer.{customer_id}` (topic): [`CustomerEvent`]s for a customer's open connections.

use actix::Message;
use serde::{Deserialize, Serialize};

use crate::bus::Route;
use crate::domain::{
    Agent, AgentId, AgentStatus, Channel, ClientId, ConversationId, CustomerId, HandoffContext,
    Language, MessageId, MessageText, Resolution, Sender, Skill, Task, TaskId,
};
use crate::routing::rules::Fallback;
use crate::store::StoreError;
use crate::views::{CustomerCard, MessageView};

/// The dispatcher's work queue.
pub const DISPATCH_QUEUE: &str = "dispatch";

/// Topic every agent desk listens to (e.g. "re-announce yourself" after a dispatcher
/// take-over).
pub const AGENTS_BROADCAST: &str = "agents.broadcast";

/// Route to every agent desk on every node.
pub fn agents_broadcast_route() -> Route {
    Route::Topic(AGENTS_BROADCAST.to_owned())
}

/// Route to every desk of one agent.
pub fn agent_route(agent: &AgentId) -> Route {
    Route::Topic(format!("agent.{agent}"))
}

/// Route to every open connection of one customer.
pub fn customer_route(customer: &CustomerId) -> Route {
    Route::Topic(format!("customer.{customer}"))
}

/// Session shards (`session.0` .. `session.15`). Part of the cluster's wire contract: every
/// node must agree, so it is a constant rather than a setting.
pub const SESSION_SHARDS: u32 = 16;

/// The shard of a customer: FNV-1a of the id, stable across processes and versions.
pub fn shard_of(customer: &CustomerId) -> u32 {
    let hash = customer
        .as_str()
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        });
    u32::try_from(hash % u64::from(SESSION_SHARDS)).unwrap_or(0)
}

/// The work queue of a shard.
pub fn shard_queue(shard: u32) -> String {
    format!("session.{shard}")
}

/// Route to a customer's session actor (through the customer's shard).
pub fn session_route(customer: &CustomerId) -> Route {
    Route::Queue(shard_queue(shard_of(customer)))
}

/// Route to the dispatcher.
pub fn dispatch_route() -> Route {
    Route::Queue(DISPATCH_QUEUE.to_owned())
}

/// A customer message arriving from a channel edge, already validated.
#[derive(Debug, Clone, Message, Serialize, Deserialize)]
#[rtype(result = "Result<Accepted, SessionError>")]
pub struct Inbound {
    pub channel: Channel,
    /// The customer's idempotency key (web/app `client_id`).
    pub client_id: Option<ClientId>,
    /// The provider's unique message id; `(channel, external_id)` is stored once.
    pub external_id: String,
    pub text: MessageText,
}

/// The answer to an [`Inbound`]: the message is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accepted {
    pub message_id: MessageId,
    pub conversation_id: ConversationId,
    /// True when this was a repeat of an already stored message.
    pub duplicate: bool,
    /// The bot's answer(s) stored with the message (also for a repeat), for channels that
    /// answer in the webhook's response (WeChat passive replies, IVR instructions).
    #[serde(default)]
    pub replies: Vec<Reply>,
    /// True when this message handed the conversation to the agents' queue.
    #[serde(default)]
    pub handoff: bool,
}

/// An answer stored in the same turn as a customer message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    pub message_id: MessageId,
    pub text: String,
    /// The channel the answer goes out on (`identity.reply_channel` may name another than
    /// the customer's); None from nodes that predate it.
    #[serde(default)]
    pub channel: Option<Channel>,
}

/// The external id of the `n`-th answer to the customer message with `external_id`: answers
/// are found again when a provider repeats the message.
pub fn reply_key(external_id: &str, n: usize) -> String {
    format!("{external_id}#r{n}")
}

/// Why a session could not take a message.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("unknown customer {0}")]
    UnknownCustomer(CustomerId),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the session is overloaded; retry")]
    Busy,
}

/// Commands for a session from agents and the dispatcher (bus route `session.{customer}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Message)]
#[rtype(result = "Result<(), SessionError>")]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SessionCommand {
    /// The dispatcher assigned the conversation's task to an agent.
    AgentAssigned {
        customer_id: CustomerId,
        conversation_id: ConversationId,
        task_id: TaskId,
        agent_id: AgentId,
        agent_name: String,
    },
    /// An agent wrote to the customer.
    AgentMessage {
        customer_id: CustomerId,
        conversation_id: ConversationId,
        agent_id: AgentId,
        text: MessageText,
    },
    /// An agent is typing.
    AgentTyping {
        customer_id: CustomerId,
        conversation_id: ConversationId,
        agent_id: AgentId,
    },
    /// An agent closed the conversation.
    WrapUp {
        customer_id: CustomerId,
        conversation_id: ConversationId,
        agent_id: AgentId,
        resolution: Resolution,
    },
    /// An agent gave the conversation back to the bot (it stays open).
    GiveBack {
        customer_id: CustomerId,
        conversation_id: ConversationId,
        agent_id: AgentId,
    },
    /// The customer hung up (phone IVR): a call still waiting for an agent is abandoned.
    CallEnded { customer_id: CustomerId },
    /// The customer's data changed outside the session (a merge of two customers, or its
    /// undo): the session drops what it cached and rebuilds from the store on its next
    /// message.
    Reload { customer_id: CustomerId },
    /// An agent hands the conversation on (or a supervisor or team lead reassigns it): a
    /// transfer task waits for the target while the holder keeps the conversation.
    Transfer {
        customer_id: CustomerId,
        conversation_id: ConversationId,
        /// Who asked (the holder, or a supervisor or team lead).
        by: AgentId,
        /// True when `by` may act on conversations they do not hold.
        supervising: bool,
        to: TransferTarget,
        note: Option<MessageText>,
    },
    /// Staff wrote an internal note (never shown to the customer).
    Note {
        customer_id: CustomerId,
        conversation_id: ConversationId,
        by: AgentId,
        supervising: bool,
        text: MessageText,
    },
    /// A supervisor or team lead whispered to the assigned agent.
    Whisper {
        customer_id: CustomerId,
        conversation_id: ConversationId,
        by: AgentId,
        text: MessageText,
    },
    /// A supervisor or team lead joins the conversation: their messages reach the customer.
    Barge {
        customer_id: CustomerId,
        conversation_id: ConversationId,
        by: AgentId,
        by_name: String,
    },
    /// A supervisor or team lead watches the conversation: for a while (renewed by their
    /// desk), every message of it is copied to `monitor.{conversation}`.
    Monitor {
        customer_id: CustomerId,
        conversation_id: ConversationId,
    },
    /// The dispatcher sent the conversation's task to its queue's fallback (maximum wait
    /// reached or queue closed); the store already gave the conversation back to the bot.
    TaskFallback {
        customer_id: CustomerId,
        conversation_id: ConversationId,
        task_id: TaskId,
        fallback: Fallback,
    },
}

impl SessionCommand {
    /// The command's kind, for logs (a command's text never reaches a log).
    pub fn kind(&self) -> &'static str {
        match self {
            SessionCommand::AgentAssigned { .. } => "agent_assigned",
            SessionCommand::AgentMessage { .. } => "agent_message",
            SessionCommand::AgentTyping { .. } => "agent_typing",
            SessionCommand::WrapUp { .. } => "wrap_up",
            SessionCommand::GiveBack { .. } => "give_back",
            SessionCommand::CallEnded { .. } => "call_ended",
            SessionCommand::TaskFallback { .. } => "task_fallback",
            SessionCommand::Reload { .. } => "reload",
            SessionCommand::Transfer { .. } => "transfer",
            SessionCommand::Note { .. } => "note",
            SessionCommand::Whisper { .. } => "whisper",
            SessionCommand::Barge { .. } => "barge",
            SessionCommand::Monitor { .. } => "monitor",
        }
    }

    /// The customer whose session handles this command.
    pub fn customer_id(&self) -> &CustomerId {
        match self {
            SessionCommand::AgentAssigned { customer_id, .. }
            | SessionCommand::AgentMessage { customer_id, .. }
            | SessionCommand::AgentTyping { customer_id, .. }
            | SessionCommand::WrapUp { customer_id, .. }
            | SessionCommand::GiveBack { customer_id, .. }
            | SessionCommand::TaskFallback { customer_id, .. }
            | SessionCommand::Transfer { customer_id, .. }
            | SessionCommand::Note { customer_id, .. }
            | SessionCommand::Whisper { customer_id, .. }
            | SessionCommand::Barge { customer_id, .. }
            | SessionCommand::Monitor { customer_id, .. }
            | SessionCommand::CallEnded { customer_id }
            | SessionCommand::Reload { customer_id } => customer_id,
        }
    }
}

/// What a customer's open connections receive (bus route `customer.{customer}`); the JSON is
/// the customer WebSocket protocol of API.md.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CustomerEvent {
    /// A message in the customer's conversation (including their own, echoed to every device).
    Message(MessageView),
    /// An agent is typing.
    Typing { from: Sender },
}

/// What routing knows of an agent beside their presence: name, skills, languages and capacity
/// per media (None: the deployment's `routing.*_capacity`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoutingProfile {
    pub name: String,
    pub skills: Vec<Skill>,
    pub languages: Vec<Language>,
    /// Chats at once.
    pub capacity: u32,
    #[serde(default)]
    pub voice_capacity: Option<u32>,
    #[serde(default)]
    pub ticket_capacity: Option<u32>,
}

impl RoutingProfile {
    /// The profile of an account.
    pub fn of(agent: &Agent) -> Self {
        Self {
            name: agent.display_name.clone(),
            skills: agent.skills.clone(),
            languages: agent.languages.clone(),
            capacity: agent.capacity,
            voice_capacity: agent.voice_capacity,
            ticket_capacity: agent.ticket_capacity,
        }
    }
}

/// The route every node's access service listens to: sign-ins that ended (see
/// [`crate::services::access`]), so each node drops them from its token cache.
pub const REVOCATIONS: &str = "access.revoked";

/// Route to every node's token cache.
pub fn revocations_route() -> Route {
    Route::Topic(REVOCATIONS.to_owned())
}

/// Sign-ins that ended (bus route `access.revoked`): every node forgets them at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Revocation {
    /// One token (a sign-out), by its hash.
    Token { token_hash: String },
    /// Every token of a staff account (deactivation, role change, password reset).
    Account { agent_id: AgentId },
}

/// What the desk receives (bus route `agent.{id}`); the JSON is the agent WebSocket protocol.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AgentEvent {
    /// A task is offered; accept or reject before it expires.
    Offer {
        task_id: TaskId,
        conversation_id: ConversationId,
        priority: i32,
        skills: Vec<String>,
        customer: CustomerCard,
        intent: Option<String>,
        summary: String,
        expires_in_ms: u64,
        /// The bot's hand-off context (intent, confidence, slots, transcript, tier, tags).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        context: Option<Box<HandoffContext>>,
        /// Set when a colleague hands the conversation on.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        transfer: Option<TransferOffer>,
    },
    /// The offer is gone (expired, rejected, taken by someone else).
    OfferRevoked { task_id: TaskId },
    /// The conversation is now the agent's, with everything said so far.
    Assigned {
        task_id: TaskId,
        conversation_id: ConversationId,
        customer: CustomerCard,
        history: Vec<MessageView>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        context: Option<Box<HandoffContext>>,
    },
    /// A message in one of the agent's conversations.
    Message(MessageView),
    /// Suggestions for the customer message `message_id` (knowledge base, past conversations).
    Assist {
        conversation_id: ConversationId,
        message_id: MessageId,
        suggestions: Vec<crate::bot::assist::Suggestion>,
    },
    /// A conversation was closed.
    WrappedUp {
        conversation_id: ConversationId,
        resolution: Resolution,
    },
    /// The agent gave a conversation back to the bot; it leaves the desk (still open).
    GivenBack { conversation_id: ConversationId },
    /// A newer desk of this agent connected; older ones close.
    Replaced { connection_id: String },
    /// Something the agent asked for could not be done.
    Error { code: String, message: String },
    /// A dispatcher took over: desks re-announce their state (not sent to the browser).
    Resync,
    /// An admin, supervisor or team lead changed the agent's routing profile: the desk reports
    /// it from now on (the dispatcher has it already).
    ProfileChanged {
        #[serde(flatten)]
        profile: RoutingProfile,
    },
    /// A transfer the desk asked for waits for an agent; the conversation stays meanwhile.
    TransferRequested {
        conversation_id: ConversationId,
        task_id: TaskId,
    },
    /// The conversation went to the agent who accepted the transfer: it leaves this desk.
    Transferred {
        conversation_id: ConversationId,
        to_agent_id: AgentId,
    },
    /// Nobody took the transfer (`declined`, `timeout`, `unavailable`, `closed`): the
    /// conversation stays with the agent who holds it.
    TransferFailed {
        conversation_id: ConversationId,
        reason: String,
    },
    /// A supervisor or team lead barged in: their messages now reach the customer.
    Barged { conversation_id: ConversationId },
    /// The agent's sign-in ended: every token of the account (`token_hash` None: deactivation,
    /// role change, password reset), or one (a sign-out). A desk opened with an ended token
    /// tells its browser (an `error` with `code`) and closes.
    SignedOut {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        token_hash: Option<String>,
        code: String,
    },
}

impl AgentEvent {
    /// An error event.
    pub fn error(code: &str, message: &str) -> Self {
        AgentEvent::Error {
            code: code.to_owned(),
            message: message.to_owned(),
        }
    }
}

/// What an offer of a transfer says about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferOffer {
    pub from_agent_id: AgentId,
    pub from_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Route of a conversation's live copy for supervisors who monitor it (`monitor.{id}`).
pub fn monitor_route(conversation: &ConversationId) -> Route {
    Route::Topic(format!("monitor.{conversation}"))
}

/// Where a transfer goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TransferTarget {
    /// A named agent.
    Agent { agent_id: AgentId },
    /// Anyone with these skills (at least these levels).
    Skills {
        skills: Vec<crate::domain::SkillRequirement>,
    },
}

/// Events for the dispatcher (work queue `dispatch`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DispatchEvent {
    /// A conversation was handed off and waits for an agent.
    TaskCreated { task: Task, customer: CustomerCard },
    /// An agent's desk reports presence, skills and the conversations it holds.
    AgentState {
        agent_id: AgentId,
        name: String,
        connection_id: String,
        status: AgentStatus,
        skills: Vec<Skill>,
        languages: Vec<Language>,
        /// Chats at once.
        capacity: u32,
        /// Calls and tickets at once (None: the deployment's `routing.*_capacity`).
        #[serde(default)]
        voice_capacity: Option<u32>,
        #[serde(default)]
        ticket_capacity: Option<u32>,
        active: Vec<ConversationId>,
        /// Why the agent is away (`routing.away_reasons`), if they are.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// An agent's desk connection went away.
    AgentDisconnected {
        agent_id: AgentId,
        connection_id: String,
    },
    /// An agent accepted an offer.
    Accept { task_id: TaskId, agent_id: AgentId },
    /// An agent rejected an offer.
    Reject { task_id: TaskId, agent_id: AgentId },
    /// A conversation an agent held is closed: capacity is free again.
    ConversationClosed {
        agent_id: AgentId,
        conversation_id: ConversationId,
    },
    /// A node's periodic nudge: it makes a standby that inherited the queue take over
    /// promptly. Carries nothing.
    Heartbeat,
    /// A supervisor activated a routing rule set: load the active one from the store.
    RulesActivated { version: i64 },
    /// A supervisor created or ended a temporary override: reload the overrides in force.
    OverridesChanged,
    /// The customer left the queue (the store has the task cancelled): an abandonment.
    TaskCancelled { task_id: TaskId },
    /// An account's routing profile changed (skills, languages, capacity, name): the agent's
    /// state takes it at once, so the next decision uses it.
    AgentProfile {
        agent_id: AgentId,
        #[serde(flatten)]
        profile: RoutingProfile,
    },
    /// An account left routing (deactivated, or no longer an agent): it is forgotten, its
    /// offers are withdrawn and offered to others, and its closing desk's reports are ignored.
    AgentRemoved { agent_id: AgentId },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_are_stable_and_spread() {
        let id = CustomerId::from_trusted("cus_0123456789abcdef");
        assert_eq!(shard_of(&id), shard_of(&id.clone()));
        let used: std::collections::BTreeSet<u32> = (0..400)
            .map(|i| shard_of(&CustomerId::from_trusted(format!("cus_{i}"))))
            .collect();
        assert_eq!(
            used.len(),
            SESSION_SHARDS as usize,
            "400 ids cover every shard"
        );
        assert!(used.iter().all(|s| *s < SESSION_SHARDS));
        // Pinned value: changing the hash would move live customers between shards.
        assert_eq!(shard_of(&CustomerId::from_trusted("cus_a")), SHARD_OF_CUS_A);
    }

    const SHARD_OF_CUS_A: u32 = 2;
}
