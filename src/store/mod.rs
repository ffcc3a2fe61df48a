//! Durable state behind one trait, [`Store`], with one implementation per deployment:
//! SQLite (embedded default, [`sqlite::SqliteStore`]) and PostgreSQL (production backbone).
//!
//! Everything that must survive a crash goes through here before it is acknowledged. The
//! contract is split by aggregate: [`Store`] is the sum of [`CustomerStore`],
//! [`AccountStore`], [`ConversationStore`], [`RoutingStore`], [`OutboxStore`], [`KbStore`],
//! [`TicketStore`], [`AssistStore`] and [`AuditStore`], and each backend implements each of
//! them in a module of the same name, with its statements in
//! `src/store/sql/<backend>/<aggregate>/`. The contract every implementation must honour is
//! written down as executable checks in `conformance` (behind the `test-support` feature),
//! which the test suite runs against each implementation.

#[cfg(any(test, feature = "test-support"))]
pub mod conformance;
pub mod postgres;
pub mod sqlite;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{
    Agent, AgentId, AgentStatus, Channel, Conversation, ConversationId, ConversationStatus,
    Customer, CustomerId, Identity, Message, MessageId, Role, Task, TaskId, TaskStatus, TeamId,
    TeamRole, Tier,
};

/// Who a bearer token belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// A customer with a visitor token (web).
    Customer(CustomerId),
    /// A customer with an app token (the app backend's signed JWT; never stored).
    AppUser(CustomerId),
    /// An agent or supervisor account.
    Staff { agent_id: AgentId, role: Role },
}

/// Result of an idempotent insert.
#[derive(Debug, Clone, PartialEq)]
pub enum Inserted<T> {
    /// Stored now.
    New(T),
    /// An equal key was already stored; this is the stored row.
    Duplicate(T),
}

impl<T> Inserted<T> {
    /// The stored row, whichever way it got there.
    pub fn into_inner(self) -> T {
        match self {
            Inserted::New(v) | Inserted::Duplicate(v) => v,
        }
    }

    /// True when the row already existed.
    pub fn is_duplicate(&self) -> bool {
        matches!(self, Inserted::Duplicate(_))
    }
}

/// What one customer turn (or one message said to the customer) writes, all or nothing, in
/// one transaction: one commit on the hot path instead of one per row.
#[derive(Debug, Clone, Copy)]
pub struct Turn<'a> {
    /// A customer message, deduplicated by `(channel, external_id)`: when it is stored
    /// already, nothing of the turn is written.
    pub inbound: Option<&'a Message>,
    /// Messages said in answer (bot, system, agent), in order.
    pub replies: &'a [Message],
    /// The conversation whose `last_channel` and `bot_state` the turn moved on. Its status and
    /// agent are not written here: those change through hand-off, assignment and wrap-up only,
    /// so a turn can never undo a concurrent assignment.
    pub conversation: Option<&'a Conversation>,
    /// Provider deliveries of these messages (transactional outbox).
    pub outbox: &'a [OutboxItem],
    /// A hand-off decided in this turn: the task is stored (unless the conversation already
    /// has an open one) and the conversation moves from `bot` to `queued`, in the same
    /// transaction as the message that asked for it, so a crash cannot accept the message and
    /// lose the hand-off.
    pub handoff: Option<&'a Task>,
}

/// Where an outbox row stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxStatus {
    /// Waiting for (another) attempt at `due_at`.
    Pending,
    /// Claimed by a delivery worker until its lease ends.
    Sending,
    /// The provider took it.
    Delivered,
    /// Given up (permanent error or too many attempts); kept for operators.
    Parked,
}

impl OutboxStatus {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Sending => "sending",
            OutboxStatus::Delivered => "delivered",
            OutboxStatus::Parked => "parked",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "pending" => Ok(OutboxStatus::Pending),
            "sending" => Ok(OutboxStatus::Sending),
            "delivered" => Ok(OutboxStatus::Delivered),
            "parked" => Ok(OutboxStatus::Parked),
            other => Err(format!("unknown outbox status '{other}'")),
        }
    }
}

/// One delivery to a provider (webhook, WeChat, SMS, app push), kept until settled.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OutboxItem {
    /// Unique per message and target (`{message_id}.{channel}`): a delivery is made once.
    pub id: String,
    /// The outbound channel; its queue is `outbound.{channel}`.
    pub channel: String,
    /// What the channel's deliverer sends (its own JSON).
    pub payload: serde_json::Value,
    pub status: OutboxStatus,
    /// Attempts made so far.
    pub attempts: u32,
    /// When the next attempt is due (pending rows).
    pub due_at: DateTime<Utc>,
    /// The last provider error, for operators.
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    /// The provider's id of the delivered message (Twilio `MessageSid`, WeChat `msgid`).
    #[serde(default)]
    pub provider_ref: Option<String>,
    /// The last delivery status the provider reported (`queued`, `delivered`, `failed`...).
    #[serde(default)]
    pub provider_status: Option<String>,
}

impl OutboxItem {
    /// A new delivery, due now.
    pub fn new(id: String, channel: &str, payload: serde_json::Value, now: DateTime<Utc>) -> Self {
        Self {
            id,
            channel: channel.to_owned(),
            payload,
            status: OutboxStatus::Pending,
            attempts: 0,
            due_at: now,
            last_error: None,
            created_at: now,
            provider_ref: None,
            provider_status: None,
        }
    }

    /// The same delivery, first due at `due_at` (e.g. after WeChat's passive-reply window).
    pub fn due_at(mut self, due_at: DateTime<Utc>) -> Self {
        self.due_at = due_at;
        self
    }
}

/// How a delivery attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settlement {
    /// The provider took it (under its own id, when it gives one).
    Delivered { provider_ref: Option<String> },
    /// Try again at `due_at`.
    Retry {
        error: String,
        due_at: DateTime<Utc>,
    },
    /// Give up.
    Park { error: String },
}

/// What an agent's merge of two customers moved from one to the other (to move it back).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MergeMoved {
    /// `(channel, external_id)` of each identity.
    pub identities: Vec<(String, String)>,
    pub conversations: Vec<String>,
    pub messages: Vec<String>,
    pub tasks: Vec<String>,
    /// Hashes of the customer tokens (web visitors) of the merged customer.
    pub tokens: Vec<String>,
}

/// An agent's merge of customer `from` into customer `into` (audited, reversible).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CustomerMerge {
    pub id: String,
    pub into: CustomerId,
    pub from: CustomerId,
    pub moved: MergeMoved,
    pub merged_by: String,
    pub merged_at: DateTime<Utc>,
    pub undone_by: Option<String>,
    pub undone_at: Option<DateTime<Utc>>,
}

/// A knowledge-base entry as stored: its JSON document (see `crate::bot::kb::entry::KbEntry`; the
/// store does not interpret it beyond the id and status).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredKbEntry {
    pub id: String,
    pub document: serde_json::Value,
    pub status: String,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
}

/// What a conditional knowledge-base write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KbWrite {
    /// Written; the knowledge base's new revision.
    Done(i64),
    /// The entry is gone.
    Missing,
    /// The entry was saved since, at this time: nothing was written.
    Changed(DateTime<Utc>),
}

/// A ticket (work order) opened by a flow. `source_key` identifies what opened it, so a retried
/// turn opens no second ticket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Ticket {
    pub id: String,
    #[schema(value_type = String)]
    pub customer_id: CustomerId,
    #[schema(value_type = Option<String>, required = true)]
    pub conversation_id: Option<ConversationId>,
    pub kind: String,
    pub subject: String,
    pub fields: std::collections::BTreeMap<String, String>,
    pub status: String,
    #[serde(skip)]
    pub source_key: String,
    pub created_at: DateTime<Utc>,
}

/// One agent-assist suggestion shown on a desk; `used_at` once the agent used it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AssistRecord {
    pub id: String,
    pub conversation_id: ConversationId,
    pub message_id: MessageId,
    pub agent_id: AgentId,
    /// `kb` or `conversation`.
    pub kind: String,
    /// The KB entry id or the past conversation's id.
    pub reference: String,
    pub rank: u32,
    pub score: f32,
    pub shown_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
}

/// A resolved conversation, as agent assist compares it with a new one.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedSample {
    pub conversation_id: ConversationId,
    /// What the customer wrote, in order, one message per line.
    pub customer_text: String,
    /// What the agents wrote, in order, one message per line.
    pub agent_text: String,
    pub closed_at: DateTime<Utc>,
}

/// A resolved conversation's sample for agent assist, from its messages.
pub fn resolved_sample(
    conversation_id: ConversationId,
    said: &[Message],
    closed_at: DateTime<Utc>,
) -> ResolvedSample {
    let lines = |who: crate::domain::Sender| {
        said.iter()
            .filter(|m| m.from == who)
            .map(|m| m.text.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    };
    ResolvedSample {
        conversation_id,
        customer_text: lines(crate::domain::Sender::Customer),
        agent_text: lines(crate::domain::Sender::Agent),
        closed_at,
    }
}

/// How far along a provider's delivery status is (Twilio's message statuses): a callback
/// that arrives late with an earlier status ("sent" after "delivered") does not overwrite the
/// later one. Final statuses share a rank, and the last of them to arrive is kept. Unknown
/// statuses rank lowest.
pub const PROVIDER_STATUS_RANKS: [(&str, i32); 12] = [
    ("accepted", 1),
    ("scheduled", 1),
    ("queued", 1),
    ("sending", 2),
    ("sent", 3),
    ("receiving", 3),
    ("received", 4),
    ("delivered", 4),
    ("undelivered", 4),
    ("failed", 4),
    ("canceled", 4),
    ("read", 5),
];

/// The rank of a provider status (see [`PROVIDER_STATUS_RANKS`]).
pub fn provider_status_rank(status: &str) -> i32 {
    PROVIDER_STATUS_RANKS
        .iter()
        .find(|(s, _)| *s == status)
        .map_or(0, |(_, rank)| *rank)
}

/// [`provider_status_rank`] of `column` as an SQL expression. Both stores' statements that
/// record a provider status (`record_provider_status.sql`) spell it out for `provider_status`;
/// their tests check that they do.
pub fn provider_status_rank_sql(column: &str) -> String {
    let cases: String = PROVIDER_STATUS_RANKS
        .iter()
        .map(|(s, rank)| format!(" WHEN '{s}' THEN {rank}"))
        .collect();
    format!("(CASE {column}{cases} ELSE 0 END)")
}

/// The audit subject of a knowledge-base entry.
pub fn kb_subject(id: &str) -> String {
    format!("kb_entries/{id}")
}

/// A stored rule-set version; versions are immutable.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRuleSet {
    pub version: i64,
    /// The document as the supervisor sent it (validated before it was stored).
    pub document: serde_json::Value,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

/// The rule set in force and who put it there.
#[derive(Debug, Clone, PartialEq)]
pub struct ActiveRuleSet {
    pub rule_set: StoredRuleSet,
    pub activated_by: String,
    pub activated_at: DateTime<Utc>,
}

/// Result of [`RoutingStore::activate_rule_set`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// In force now; `previous` was before (None: the built-in defaults).
    Activated { previous: Option<i64> },
    /// No such version; nothing changed.
    UnknownVersion,
}

/// One audited change: who did what to which subject, when.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    /// `routing.rules.created`, `routing.rules.activated`, …
    pub action: String,
    /// `routing_rules/{version}`, …
    pub subject: String,
    pub detail: serde_json::Value,
}

/// A supervisor's temporary override of one rule's target (see
/// [`crate::routing::rules::Override`]).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredOverride {
    /// `ovr_…`
    pub id: String,
    /// The rule (by name) it retargets.
    pub rule: String,
    /// A [`crate::routing::rules::OverrideTarget`] as JSON.
    pub target: serde_json::Value,
    pub reason: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// Set when a supervisor ended it early.
    pub ended_at: Option<DateTime<Utc>>,
}

/// How a waiting task leaves the queue without an agent (see [`RoutingStore::leave_queue`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueExit<'a> {
    /// Past its queue's maximum wait, or its queue was closed: `expired`, with the fallback
    /// (`callback`, `ticket`, `bot_message`).
    Fallback { queue: &'a str, fallback: &'a str },
    /// The customer gave up waiting: `cancelled` (an abandonment).
    Abandoned,
}

impl QueueExit<'_> {
    /// The task's final status, queue (None: unchanged) and fallback.
    pub fn columns(&self) -> (TaskStatus, Option<&str>, Option<&str>) {
        match self {
            QueueExit::Fallback { queue, fallback } => {
                (TaskStatus::Expired, Some(queue), Some(fallback))
            }
            QueueExit::Abandoned => (TaskStatus::Cancelled, None, None),
        }
    }
}

/// A task as recorded, with what routing needs to replay it (see [`RoutingStore::traffic`]).
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedTask {
    pub task: Task,
    /// The customer's tier and tags now (they are not versioned).
    pub tier: Tier,
    pub tags: Vec<String>,
    /// The queue it was routed to, when routing recorded one.
    pub queue: Option<String>,
    /// When it reached a final status (completed, cancelled, expired).
    pub finished_at: Option<DateTime<Utc>>,
    /// `callback`, `ticket` or `bot_message` for an expired task.
    pub fallback: Option<String>,
}

/// An agent's presence change, as the dispatcher saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresenceEvent {
    pub agent_id: AgentId,
    pub status: AgentStatus,
    pub at: DateTime<Utc>,
}

/// One entry of an agent's activity timeline: a presence change and why (away reasons).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ActivityEntry {
    pub at: DateTime<Utc>,
    /// `available`, `away` or `offline`.
    #[schema(value_type = String)]
    pub state: AgentStatus,
    /// The away reason (`agents.away_reasons`), if any.
    pub reason: Option<String>,
}

/// The recorded traffic of a time window, for a dry-run.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Traffic {
    /// Tasks created in the window, oldest first.
    pub tasks: Vec<RecordedTask>,
    /// Presence changes in the window, oldest first, preceded by each agent's last change
    /// before the window (their state when it opens).
    pub presence: Vec<PresenceEvent>,
    /// Every active account with the agent role (skills, languages, capacity as they are now).
    pub agents: Vec<Agent>,
}

/// Result of [`ConversationStore::commit_turn`].
#[derive(Debug, Clone, PartialEq)]
pub enum TurnOutcome {
    /// Everything was written.
    Committed,
    /// The customer message was stored before (this is it); nothing was written.
    Duplicate(Message),
}

/// Store failures. `Unavailable` is what `/readyz` reports; `Corrupt` means a stored value
/// no longer parses (a bug or a manual edit), never user input.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the store is unavailable")]
    Unavailable(#[source] anyhow::Error),
    #[error("conflicting write: {0}")]
    Conflict(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

/// Shorthand for store results.
pub type StoreResult<T> = Result<T, StoreError>;

/// Durable state of a Switchboard deployment: the store of every aggregate (see the
/// supertraits), and a round trip. Callers hold an `Arc<dyn Store>` and call any method on it;
/// code holding a concrete store imports the aggregate traits it uses.
#[async_trait]
pub trait Store:
    CustomerStore
    + AccountStore
    + ConversationStore
    + RoutingStore
    + OutboxStore
    + KbStore
    + TicketStore
    + AssistStore
    + AuditStore
    + Send
    + Sync
    + 'static
{
    /// Cheap round trip, for `/readyz`.
    async fn ping(&self) -> StoreResult<()>;
}

/// Customers and their identities on every channel: first contact, agents' merges (and their undo),
/// opt-outs and the app connections they hold open.
#[async_trait]
pub trait CustomerStore: Send + Sync {
    /// Stores a new customer.
    async fn insert_customer(&self, customer: &Customer) -> StoreResult<()>;
    /// A customer by id.
    async fn customer(&self, id: &CustomerId) -> StoreResult<Option<Customer>>;
    /// Links `(channel, external_id)` to `customer`. If the identity already belongs to a
    /// customer, nothing changes and that customer's id is returned.
    async fn link_identity(
        &self,
        channel: Channel,
        external_id: &str,
        customer: &CustomerId,
    ) -> StoreResult<CustomerId>;
    /// The customer behind `(channel, external_id)`.
    async fn find_identity(
        &self,
        channel: Channel,
        external_id: &str,
    ) -> StoreResult<Option<CustomerId>>;
    /// Every identity of a customer, oldest first.
    async fn identities(&self, customer: &CustomerId) -> StoreResult<Vec<Identity>>;
    /// The customer behind `(channel, external_id)`, creating `customer` with that identity
    /// in one transaction when nobody has it yet. Concurrent first contacts of one identity
    /// all get the same customer, and no customer is created without its identity.
    async fn customer_for_identity(
        &self,
        channel: Channel,
        external_id: &str,
        customer: &Customer,
    ) -> StoreResult<CustomerId>;
    /// Merges customer `from` into `into` in one transaction: identities, conversations,
    /// messages, tasks and visitor tokens move, the merge is recorded and audited. `Conflict`
    /// when either customer is unknown, they are the same, or both have an open
    /// conversation (one must be closed first).
    async fn merge_customers(
        &self,
        id: &str,
        into: &CustomerId,
        from: &CustomerId,
        by: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<CustomerMerge>;
    /// Moves back what a merge moved (audited). None for an unknown merge; `Conflict` when
    /// it was undone already or the merged customer has opened a conversation meanwhile.
    async fn undo_merge(
        &self,
        id: &str,
        by: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<CustomerMerge>>;
    /// Records an opt-out (idempotent: the first keyword and time stay).
    async fn opt_out(
        &self,
        channel: Channel,
        external_id: &str,
        keyword: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Removes an opt-out (the address opted in again). True when there was one.
    async fn opt_in(&self, channel: Channel, external_id: &str) -> StoreResult<bool>;
    /// Whether `(channel, external_id)` opted out.
    async fn opted_out(&self, channel: Channel, external_id: &str) -> StoreResult<bool>;
    /// Records that an app connection of `customer` is open at `at` (refreshed while open).
    async fn touch_presence(
        &self,
        connection: &str,
        customer: &CustomerId,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Forgets a closed app connection, and any row not refreshed since `stale_before`.
    async fn drop_presence(&self, connection: &str, stale_before: DateTime<Utc>)
        -> StoreResult<()>;
    /// Whether `customer` has an app connection refreshed at or after `since`.
    async fn present_since(&self, customer: &CustomerId, since: DateTime<Utc>)
        -> StoreResult<bool>;
}

/// Staff accounts (agents and supervisors) and the bearer tokens of every principal.
#[async_trait]
pub trait AccountStore: Send + Sync {
    /// Inserts an account, or updates the one with the same username (keeping its id, whether
    /// it is active and, when `password_hash` is empty, its password). Returns the stored id.
    async fn upsert_agent(&self, agent: &Agent) -> StoreResult<AgentId>;
    /// An active account by id (None for a deactivated one: see [`AccountStore::staff_member`]).
    async fn agent(&self, id: &AgentId) -> StoreResult<Option<Agent>>;
    /// An active account by login name (None for a deactivated one, so it cannot sign in).
    async fn agent_by_username(&self, username: &str) -> StoreResult<Option<Agent>>;
    /// Every skill name some account has (rule sets may only require these).
    async fn skill_names(&self) -> StoreResult<std::collections::BTreeSet<String>>;
    /// Stores the hash of a bearer token. A staff token is stored only while its account is
    /// active and has the token's role: a login that raced a deactivation or a role change
    /// (which delete the account's tokens) gets a token that never works.
    async fn insert_token(
        &self,
        token_hash: &str,
        principal: &Principal,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Stores a staff sign-in's token, as [`AccountStore::insert_token`] does (only while the
    /// account is active and has `role`), and audits the sign-in in the same transaction
    /// (`staff.login`, subject [`staff_subject`], actor the staff member, `detail`). False when
    /// the token was not stored (the account changed meanwhile): then nothing is audited.
    async fn insert_staff_login(
        &self,
        token_hash: &str,
        agent_id: &AgentId,
        role: Role,
        expires_at: DateTime<Utc>,
        detail: &serde_json::Value,
        at: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Audits a refused sign-in (`staff.login_failed`, actor [`ANONYMOUS_ACTOR`], `detail`):
    /// subject [`staff_subject`] of `account` when the username tried is an active account's,
    /// else [`UNKNOWN_STAFF_SUBJECT`]. One statement either way, so that writing it costs the
    /// same whether the username exists or not.
    async fn audit_failed_login(
        &self,
        account: Option<&AgentId>,
        detail: &serde_json::Value,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Who holds a token that has not expired at `now`.
    async fn token_principal(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Principal>>;
    /// Deletes one token (a sign-out) and returns who held it (None: no such token). A staff
    /// member's sign-out is audited (`staff.signed_out`, subject [`staff_subject`], actor the
    /// staff member) in the same transaction.
    async fn delete_token(
        &self,
        token_hash: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<Principal>>;
    /// Records that an app token (the app backend's JWT, never stored as a token) is signed
    /// out until it expires at `expires_at`; forgets the ones that expired before `now`.
    async fn revoke_app_token(
        &self,
        token_hash: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Whether an app token was signed out (and has not expired at `now`).
    async fn app_token_revoked(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<bool>;
    /// Every staff account, active or not, by username.
    async fn staff(&self) -> StoreResult<Vec<StaffMember>>;
    /// One staff account, active or not.
    async fn staff_member(&self, id: &AgentId) -> StoreResult<Option<StaffMember>>;
    /// Creates an account (active, revision 1) with its team memberships, and audits it
    /// (`staff.created`, subject [`staff_subject`], `detail`), in one transaction. `Conflict`
    /// when its username is taken, whatever its case.
    async fn insert_staff(
        &self,
        member: &StaffMember,
        detail: &serde_json::Value,
        by: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Creates accounts as [`AccountStore::insert_staff`] creates one (each with its team
    /// memberships and its `staff.created` entry with its `detail`), all in one transaction:
    /// every one of them or, on any failure, none. `Conflict` when a username is taken
    /// (by a stored account or another of the batch), whatever its case.
    async fn insert_staff_batch(
        &self,
        batch: &[(StaffMember, serde_json::Value)],
        by: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Writes an account as `member` says (username, display name, role, skills, languages,
    /// capacities, extension, team memberships; the password only when `password_hash` is not
    /// empty), only while its stored revision is still `member.revision` (which then moves on),
    /// and in the same transaction: deletes every token of the account when
    /// `change.revoke_tokens`, routes the conversations it holds again when `change.requeue`
    /// (as [`AccountStore::deactivate_staff`] does), and audits `staff.updated` with
    /// `change.detail`. `Conflict` when the new username is taken.
    async fn update_staff(
        &self,
        member: &StaffMember,
        change: StaffChange<'_>,
    ) -> StoreResult<StaffWrite>;
    /// Deactivates an account, in one transaction: it can no longer sign in (and
    /// [`AccountStore::agent`] no longer finds it), every token of it is deleted, the
    /// conversations it holds are routed again — each assigned task is completed, a new waiting
    /// task with the same target (no preferred agent) is stored and the conversation goes back
    /// to `queued` (one it holds without an open task goes back to the bot) — and it is
    /// audited (`staff.deactivated`, with the conversations routed again).
    /// None for an unknown account; an account already inactive is left as it is
    /// (`was_active` false, nothing written).
    async fn deactivate_staff(
        &self,
        id: &AgentId,
        by: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<Deactivation>>;
    /// Every team with its leads and members, by name.
    async fn teams(&self) -> StoreResult<Vec<Team>>;
    /// Creates a team with its leads and members and audits it (`team.created`, subject
    /// [`team_subject`]) in one transaction. `Conflict` when its name is taken, whatever its
    /// case.
    async fn insert_team(&self, team: &Team, by: &str, at: DateTime<Utc>) -> StoreResult<()>;
}

/// A staff account as administered: the account, whether it may sign in, its phone extension
/// and its teams.
#[derive(Debug, Clone, PartialEq)]
pub struct StaffMember {
    pub agent: Agent,
    /// False once deactivated: it cannot sign in and is no longer routed to.
    pub active: bool,
    /// Its phone extension, if it has one.
    pub extension: Option<String>,
    /// The teams it is in and how, by team id.
    pub teams: Vec<(TeamId, TeamRole)>,
    /// Moves on with every change of the account (see [`AccountStore::update_staff`]).
    pub revision: i64,
}

/// What else an account change does, in its transaction (see [`AccountStore::update_staff`]).
#[derive(Debug, Clone, Copy)]
pub struct StaffChange<'a> {
    /// Delete every token of the account (role change, password reset).
    pub revoke_tokens: bool,
    /// Route the conversations it holds again (it leaves the agent role).
    pub requeue: bool,
    /// The audit entry's detail: the changed fields before and after, never a password.
    pub detail: &'a serde_json::Value,
    pub by: &'a str,
    pub at: DateTime<Utc>,
}

/// The conversations of an account that left routing (deactivated, or no longer an agent).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rerouted {
    /// The new waiting tasks of the conversations it held (the dispatcher is to be told).
    pub tasks: Vec<Task>,
    /// Customers whose conversation it held without an open task (a wrap-up or give-back
    /// half done): that conversation went back to the bot.
    pub released: Vec<CustomerId>,
}

impl Rerouted {
    /// Every customer whose conversation moved (their sessions are to reload).
    pub fn customers(&self) -> Vec<CustomerId> {
        let mut customers: Vec<CustomerId> = self
            .tasks
            .iter()
            .map(|t| t.customer_id.clone())
            .chain(self.released.iter().cloned())
            .collect();
        customers.sort();
        customers.dedup();
        customers
    }
}

/// What [`AccountStore::update_staff`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum StaffWrite {
    /// Written; the account's new revision, how many tokens were deleted, and the
    /// conversations routed again.
    Done {
        revision: i64,
        tokens_revoked: u64,
        rerouted: Rerouted,
    },
    /// No such account.
    Missing,
    /// The account changed since it was read (its revision moved): nothing was written.
    Changed,
}

/// What [`AccountStore::deactivate_staff`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct Deactivation {
    /// False when the account was inactive already (then nothing was written).
    pub was_active: bool,
    pub tokens_revoked: u64,
    /// The conversations the account held, routed again.
    pub rerouted: Rerouted,
}

/// A team: its leads supervise its members.
#[derive(Debug, Clone, PartialEq)]
pub struct Team {
    pub id: TeamId,
    pub name: String,
    pub leads: Vec<AgentId>,
    pub members: Vec<AgentId>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

/// An open conversation as the live board shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveConversation {
    pub id: ConversationId,
    pub customer: Customer,
    pub status: ConversationStatus,
    pub channel: Channel,
    pub agent_id: Option<AgentId>,
    pub opened_at: DateTime<Utc>,
    /// The hand-off task's priority and queue, and since when it waits (queued or assigned).
    pub priority: Option<i32>,
    pub queue: Option<String>,
    pub task_created_at: Option<DateTime<Utc>>,
    pub last_message_at: Option<DateTime<Utc>>,
}

/// The agents of the teams `lead` leads (a team lead's scope).
pub fn agents_led_by(teams: &[Team], lead: &AgentId) -> std::collections::BTreeSet<AgentId> {
    teams
        .iter()
        .filter(|team| team.leads.contains(lead))
        .flat_map(|team| team.members.iter().cloned())
        .collect()
}

/// The audit subject of a staff account.
pub fn staff_subject(id: &AgentId) -> String {
    format!("staff/{id}")
}

/// The audit subject of refused sign-ins whose username is no active account's.
pub const UNKNOWN_STAFF_SUBJECT: &str = "staff/unknown";

/// The actor of an audit entry nobody signed in made (a refused sign-in).
pub const ANONYMOUS_ACTOR: &str = "anonymous";

/// The subject of a refused sign-in's audit entry: the account's, or
/// [`UNKNOWN_STAFF_SUBJECT`].
pub fn failed_login_subject(account: Option<&AgentId>) -> String {
    account.map_or_else(|| UNKNOWN_STAFF_SUBJECT.to_owned(), staff_subject)
}

/// The audit subject of a team.
pub fn team_subject(id: &TeamId) -> String {
    format!("teams/{id}")
}

/// Conversations and their messages, and the customer turn that writes them together.
#[async_trait]
pub trait ConversationStore: Send + Sync {
    /// Stores a new conversation. A customer has at most one open conversation: a second
    /// open one is a `Conflict`.
    async fn insert_conversation(&self, conversation: &Conversation) -> StoreResult<()>;
    /// Overwrites the mutable fields (status, channel, agent, bot state, closing).
    async fn update_conversation(&self, conversation: &Conversation) -> StoreResult<()>;
    /// A conversation by id.
    async fn conversation(&self, id: &ConversationId) -> StoreResult<Option<Conversation>>;
    /// The customer's conversation that is not closed, if any.
    async fn open_conversation(&self, customer: &CustomerId) -> StoreResult<Option<Conversation>>;
    /// Conversations an agent currently owns.
    async fn agent_conversations(&self, agent: &AgentId) -> StoreResult<Vec<Conversation>>;
    /// The open conversations for the live board (see [`LiveConversation`]): queued and
    /// assigned first, then the bot's, oldest first, at most `limit`.
    async fn live_conversations(&self, limit: u32) -> StoreResult<Vec<LiveConversation>>;
    /// Whether `agent` serves or has served `customer` (a task of theirs, or a conversation
    /// they hold): an agent reads only the customers they serve or served.
    async fn served_customer(&self, customer: &CustomerId, agent: &AgentId) -> StoreResult<bool>;
    /// Stores a message unless `(channel, external_id)` is already stored, in which case the
    /// stored message is returned as `Duplicate` (safe under concurrent duplicates).
    async fn insert_message(&self, message: &Message) -> StoreResult<Inserted<Message>>;
    /// A message by id.
    async fn message(&self, id: &MessageId) -> StoreResult<Option<Message>>;
    /// The message stored under `(channel, external_id)`, if any (the dedup key).
    async fn find_message(
        &self,
        channel: Channel,
        external_id: &str,
    ) -> StoreResult<Option<Message>>;
    /// Writes a [`Turn`] in one transaction (see there).
    async fn commit_turn(&self, turn: Turn<'_>) -> StoreResult<TurnOutcome>;
    /// A conversation's messages, oldest first.
    async fn conversation_messages(&self, id: &ConversationId) -> StoreResult<Vec<Message>>;
    /// Every message of a customer across channels and conversations, oldest first.
    async fn customer_messages(&self, id: &CustomerId) -> StoreResult<Vec<Message>>;
    /// When the customer last wrote on `channel` (e.g. WeChat's 48-hour window).
    async fn last_inbound_at(
        &self,
        customer: &CustomerId,
        channel: Channel,
    ) -> StoreResult<Option<DateTime<Utc>>>;
}

/// Tasks and how they are routed: assignment, queue exits, supervisors' rule sets and overrides,
/// and the recorded traffic a dry-run replays.
#[async_trait]
pub trait RoutingStore: Send + Sync {
    /// Stores a new task. A conversation has at most one waiting or assigned task.
    async fn insert_task(&self, task: &Task) -> StoreResult<Inserted<Task>>;
    /// A task by id.
    async fn task(&self, id: &TaskId) -> StoreResult<Option<Task>>;
    /// Tasks still waiting for an agent, oldest first (the dispatcher rebuilds from these).
    async fn waiting_tasks(&self) -> StoreResult<Vec<Task>>;
    /// Atomically moves a waiting task to `assigned` for `agent`, and its conversation to
    /// `assigned` with that agent, in one transaction. Returns false (and changes nothing)
    /// when the task is not waiting any more (a task is never assigned twice), or `agent` is
    /// not an active account with the agent role (a deactivation or role change in progress
    /// routes the agent's conversations again: none may be added behind it).
    async fn assign_task(
        &self,
        id: &TaskId,
        agent: &AgentId,
        at: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Moves a waiting or assigned task to a final status at `at` (its `finished_at`).
    /// Returns false when it was final.
    async fn finish_task(
        &self,
        id: &TaskId,
        status: TaskStatus,
        at: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// A *waiting* task leaves the queue without an agent ([`QueueExit`]): to `expired` with
    /// the fallback it went to and the queue it waited in, or to `cancelled` when the customer
    /// gave up; `finished_at = at`; its conversation goes back to the bot (`status = 'bot'`, no
    /// agent) unless closed; one transaction. False (nothing changed) when it is not waiting.
    async fn leave_queue(
        &self,
        id: &TaskId,
        exit: QueueExit<'_>,
        at: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// The agent of this customer's most recently assigned task, if any.
    async fn last_agent_of(&self, customer: &CustomerId) -> StoreResult<Option<AgentId>>;
    /// The waiting or assigned task of a conversation.
    async fn open_task_for(&self, conversation: &ConversationId) -> StoreResult<Option<Task>>;
    /// The conversation's transfer that waits for an agent, if any (see
    /// [`crate::domain::Transfer`]). Accepting it ([`RoutingStore::assign_task`]) ends the
    /// sender's task as `transferred` in the same transaction.
    async fn pending_transfer(&self, conversation: &ConversationId) -> StoreResult<Option<Task>>;
    /// Records the queue a task was routed to and why it was offered where it was
    /// (overwriting the previous explanation).
    async fn set_task_routing(
        &self,
        id: &TaskId,
        queue: &str,
        routing: &serde_json::Value,
    ) -> StoreResult<()>;
    /// The last recorded explanation of a task's routing.
    async fn task_routing(&self, id: &TaskId) -> StoreResult<Option<serde_json::Value>>;
    /// Stores a new rule-set version (numbers only grow) and audits it
    /// (`routing.rules.created`) in the same transaction. Returns the version.
    async fn insert_rule_set(
        &self,
        document: &serde_json::Value,
        by: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<i64>;
    /// A rule-set version.
    async fn rule_set(&self, version: i64) -> StoreResult<Option<StoredRuleSet>>;
    /// Puts a version in force and audits it (`routing.rules.activated`, with the previous
    /// version) in one transaction; re-activating an older version is a rollback.
    async fn activate_rule_set(
        &self,
        version: i64,
        by: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Activation>;
    /// The version in force, if any was ever activated.
    async fn active_rule_set(&self) -> StoreResult<Option<ActiveRuleSet>>;
    /// Every rule-set version, oldest first.
    async fn rule_sets(&self) -> StoreResult<Vec<StoredRuleSet>>;
    /// Stores an override and audits it (`routing.override.created`, subject
    /// [`override_subject`], detail: rule, target, reason, expires_at) in one transaction.
    async fn insert_override(&self, item: &StoredOverride) -> StoreResult<()>;
    /// Ends an override early and audits it (`routing.override.ended`). False when it is
    /// unknown, already ended or expired at `at`.
    async fn end_override(&self, id: &str, by: &str, at: DateTime<Utc>) -> StoreResult<bool>;
    /// Overrides in force at `now` (not ended, `expires_at > now`), oldest first.
    async fn overrides_in_force(&self, now: DateTime<Utc>) -> StoreResult<Vec<StoredOverride>>;
    /// Records an agent's presence change.
    async fn record_presence(
        &self,
        agent: &AgentId,
        status: AgentStatus,
        reason: Option<&str>,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// An agent's activity timeline: their state when `[from, to)` opens, then every change
    /// in it, oldest first (at most 1,001 entries).
    async fn agent_activity(
        &self,
        agent: &AgentId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<ActivityEntry>>;
    /// The recorded traffic of `[from, to)` (see [`Traffic`]).
    async fn traffic(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> StoreResult<Traffic>;
}

/// Deliveries to providers (the transactional outbox), their status callbacks, and the stored
/// answers to providers' webhook events.
#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// An outbox row by id.
    async fn outbox_item(&self, id: &str) -> StoreResult<Option<OutboxItem>>;
    /// Claims a delivery for one attempt: a `pending` row due by `due_by`, or a `sending`
    /// row whose lease ended before `now` (its worker died), becomes `sending` until
    /// `lease_until`. None when the row is settled, not due yet (a copy of its envelope came
    /// early: the back-off holds), or another worker holds it: then there is nothing to do.
    /// `lease_until` is also the claim's fencing token for [`OutboxStore::settle_outbox`].
    async fn claim_outbox(
        &self,
        id: &str,
        now: DateTime<Utc>,
        due_by: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<Option<OutboxItem>>;
    /// Records the end of an attempt (counting it), if the claim made with `lease_until` still
    /// holds. False when it does not (the lease ran out and another worker took the row over):
    /// then nothing is written and the caller must not schedule anything.
    async fn settle_outbox(
        &self,
        id: &str,
        lease_until: DateTime<Utc>,
        settlement: &Settlement,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Rows whose queue message seems lost: `pending` and due before `stale_before`, or
    /// `sending` with a lease that ended before it (that attempt counts: a delivery that
    /// keeps hanging its worker is parked in the end). Each returned row becomes `pending`,
    /// due `now`, in the same statement, so nodes relaying at the same time do not pick it
    /// twice.
    async fn relay_outbox(
        &self,
        stale_before: DateTime<Utc>,
        now: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<OutboxItem>>;
    /// Counts of outbox rows not delivered, by status (for metrics).
    async fn outbox_counts(&self) -> StoreResult<Vec<(OutboxStatus, u64)>>;
    /// Adds a delivery outside a customer turn (e.g. an SMS fallback for a WeChat message
    /// whose window closed). False when a row with that id exists (nothing changes).
    async fn enqueue_outbox(&self, item: &OutboxItem) -> StoreResult<bool>;
    /// Settles a pending delivery that was made another way (a WeChat passive reply) before
    /// any worker claimed it. False when a worker holds it or it was settled already.
    async fn take_outbox(&self, id: &str, now: DateTime<Utc>) -> StoreResult<bool>;
    /// Records a provider's delivery status callback on the delivery it names. False when no
    /// delivery of `channel` has that provider id.
    async fn record_provider_status(
        &self,
        channel: &str,
        provider_ref: &str,
        status: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Stores the answer to a provider's webhook event once; returns the first stored
    /// `(request_hash, response)` (this one's when it is the first).
    async fn webhook_receipt(
        &self,
        channel: &str,
        event_id: &str,
        request_hash: &str,
        response: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<(String, String)>;
    /// Deletes the webhook receipts received before `before`; returns how many.
    async fn purge_webhook_receipts(&self, before: DateTime<Utc>) -> StoreResult<u64>;
    /// The stored answer to a provider's webhook event, if any.
    async fn find_webhook_receipt(
        &self,
        channel: &str,
        event_id: &str,
    ) -> StoreResult<Option<(String, String)>>;
}

/// The knowledge base: entries, out-of-scope questions and the revision every change moves on.
#[async_trait]
pub trait KbStore: Send + Sync {
    /// Every knowledge-base entry (any status), by id.
    async fn kb_entries(&self) -> StoreResult<Vec<StoredKbEntry>>;
    /// One knowledge-base entry.
    async fn kb_entry(&self, id: &str) -> StoreResult<Option<StoredKbEntry>>;
    /// Inserts or replaces `entries` (and with `replace_all`, deletes every other entry), with
    /// `out_of_scope` replaces the out-of-scope questions, bumps the revision and audits each
    /// change (`kb.entry.saved` / `kb.entry.deleted` / `kb.out_of_scope.saved`, subject
    /// [`kb_subject`]), all in one transaction. Returns the new revision.
    async fn save_kb_entries(
        &self,
        entries: &[StoredKbEntry],
        replace_all: bool,
        out_of_scope: Option<&[String]>,
        by: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<i64>;
    /// [`KbStore::save_kb_entries`] for one existing entry, only while it is still the version
    /// saved at `expected` (its `updated_at`); otherwise nothing changes (optimistic
    /// concurrency: two supervisors editing one entry).
    async fn save_kb_entry_if(
        &self,
        entry: &StoredKbEntry,
        expected: DateTime<Utc>,
        by: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<KbWrite>;
    /// [`KbStore::delete_kb_entry`], only while the entry is still the version saved at
    /// `expected`.
    async fn delete_kb_entry_if(
        &self,
        id: &str,
        expected: DateTime<Utc>,
        by: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<KbWrite>;
    /// Deletes an entry, bumps the revision and audits it; `None` when there is no such entry.
    async fn delete_kb_entry(
        &self,
        id: &str,
        by: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<i64>>;
    /// The knowledge base's revision: it moves with every change.
    async fn kb_revision(&self) -> StoreResult<i64>;
    /// The knowledge base's own out-of-scope questions.
    async fn kb_out_of_scope(&self) -> StoreResult<Vec<String>>;
    /// Replaces the out-of-scope questions, bumps the revision and audits it
    /// (`kb.out_of_scope.saved`). Returns the new revision.
    async fn set_kb_out_of_scope(
        &self,
        questions: &[String],
        by: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<i64>;
}

/// Tickets (work orders) opened by flows.
#[async_trait]
pub trait TicketStore: Send + Sync {
    /// Opens a ticket; a ticket with the same `source_key` is returned as a duplicate.
    async fn open_ticket(&self, ticket: &Ticket) -> StoreResult<Inserted<Ticket>>;
    /// A customer's tickets, oldest first.
    async fn customer_tickets(&self, customer: &CustomerId) -> StoreResult<Vec<Ticket>>;
}

/// Agent assist: the suggestions shown to agents and the resolved conversations they are drawn
/// from.
#[async_trait]
pub trait AssistStore: Send + Sync {
    /// Records suggestions shown to an agent.
    async fn record_assist(&self, shown: &[AssistRecord]) -> StoreResult<()>;
    /// Marks a suggestion as used by `agent` in `conversation` (first use only). False when
    /// unknown, another agent's or another conversation's, or already used.
    async fn use_assist(
        &self,
        id: &str,
        agent: &AgentId,
        conversation: &ConversationId,
        at: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// The suggestions shown in a conversation, oldest first.
    async fn assist_records(&self, conversation: &ConversationId)
        -> StoreResult<Vec<AssistRecord>>;
    /// Up to `limit` conversations closed as resolved, newest first, with what was said.
    async fn resolved_samples(&self, limit: u32) -> StoreResult<Vec<ResolvedSample>>;
}

/// The audit log: who changed what, when. Entries are appended by the writes they record, in the
/// same transaction; this reads them.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Audit entries whose subject starts with `subject_prefix`, newest first.
    async fn audit_log(&self, subject_prefix: &str, limit: u32) -> StoreResult<Vec<AuditEntry>>;
}

/// The audit subject of an override.
pub fn override_subject(id: &str) -> String {
    format!("routing_overrides/{id}")
}

/// The audit subject of a rule-set version.
pub fn rule_set_subject(version: i64) -> String {
    format!("routing_rules/{version}")
}

/// Formats a time the way every store keeps it (sortable RFC 3339, microseconds, `Z`).
pub fn format_time(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// Parses a stored time.
pub fn parse_time(s: &str) -> StoreResult<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt(format!("time '{s}': {e}")))
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    /// Every statement file of a dialect, `src/store/sql/{dialect}/{aggregate}/{name}.sql`, with
    /// its aggregate (the migrations, directly under `src/store/sql/{dialect}/`, are not
    /// statements).
    pub(super) fn statement_files(dialect: &str) -> Vec<(String, PathBuf)> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src/store/sql")
            .join(dialect);
        let mut files = Vec::new();
        for aggregate in std::fs::read_dir(&root).expect("sql dir") {
            let aggregate = aggregate.expect("entry").path();
            if !aggregate.is_dir() {
                continue;
            }
            let name = aggregate
                .file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned();
            for file in std::fs::read_dir(&aggregate).expect("aggregate dir") {
                files.push((name.clone(), file.expect("entry").path()));
            }
        }
        files.sort();
        files
    }

    /// A statement nobody includes is dead SQL, and one included from another aggregate's
    /// module is in the wrong folder.
    #[test]
    fn every_statement_file_is_included_by_the_module_of_its_aggregate() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        for dialect in ["sqlite", "postgres"] {
            let files = statement_files(dialect);
            assert!(files.len() > 100, "{dialect}: {} statements", files.len());
            for (aggregate, file) in files {
                let module = root.join(format!("src/store/{dialect}/{aggregate}.rs"));
                let source = std::fs::read_to_string(&module).expect("the aggregate's module");
                let name = file
                    .file_name()
                    .expect("name")
                    .to_string_lossy()
                    .into_owned();
                let include = format!("include_str!(\"../sql/{dialect}/{aggregate}/{name}\")");
                assert!(
                    source.contains(&include),
                    "{} is not included by {}",
                    file.display(),
                    module.display()
                );
            }
        }
    }

    /// One statement per file, after a comment saying what it does.
    #[test]
    fn every_statement_file_is_one_statement_after_a_comment() {
        for dialect in ["sqlite", "postgres"] {
            for (_, file) in statement_files(dialect) {
                let text = std::fs::read_to_string(&file).expect("statement");
                assert!(text.starts_with("-- "), "{}: no comment", file.display());
                let statement: String = text
                    .lines()
                    .filter(|line| !line.starts_with("--"))
                    .collect::<Vec<_>>()
                    .join("\n");
                assert!(!statement.trim().is_empty(), "{}: empty", file.display());
                assert!(
                    !statement.contains(';'),
                    "{}: more than one",
                    file.display()
                );
            }
        }
    }
}
