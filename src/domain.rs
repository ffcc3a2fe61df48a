//! Domain model: the plain types every layer speaks (customers, identities, conversations,
//! messages, tasks, agents, skills, priorities). No I/O lives here; values that come from the
//! outside world are built through `parse` so that an invalid one cannot exist.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Declares an opaque string id newtype with `new()` (random, time-ordered), `as_str` and
/// `Display`. Ids are opaque to integrators (API.md), so the format may change freely.
macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// A fresh, time-ordered id (UUIDv7 with a type prefix, so logs are readable).
            pub fn generate() -> Self {
                Self(format!("{}_{}", $prefix, uuid::Uuid::now_v7().simple()))
            }

            /// Wraps an id read from storage or from a trusted peer.
            pub fn from_trusted(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(
    /// One customer across every channel ("one ID").
    CustomerId,
    "cus"
);
id_type!(
    /// One conversation: from the first customer message until wrap-up.
    ConversationId,
    "cnv"
);
id_type!(
    /// One stored message.
    MessageId,
    "msg"
);
id_type!(
    /// One human agent (or supervisor) account.
    AgentId,
    "agt"
);
id_type!(
    /// One unit of work for the dispatcher: a conversation waiting for a human.
    TaskId,
    "tsk"
);
id_type!(
    /// One team of staff: its leads supervise its members.
    TeamId,
    "team"
);

/// A problem with a value that came from outside.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("{field} must not be empty")]
    Empty { field: &'static str },
    #[error("{field} is longer than {max} characters")]
    TooLong { field: &'static str, max: usize },
    #[error("{field} contains characters that are not allowed")]
    BadCharacters { field: &'static str },
    #[error("unknown {field} '{value}'")]
    Unknown { field: &'static str, value: String },
    #[error("{field} must be between {min} and {max}")]
    OutOfRange {
        field: &'static str,
        min: i64,
        max: i64,
    },
}

/// The channels a customer can reach us on.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Web,
    App,
    Wechat,
    Sms,
    Ivr,
}

impl Channel {
    /// Every channel, in a stable order (used for metrics labels).
    pub const ALL: [Channel; 5] = [
        Channel::Web,
        Channel::App,
        Channel::Wechat,
        Channel::Sms,
        Channel::Ivr,
    ];

    /// The wire name, as in API.md.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Web => "web",
            Channel::App => "app",
            Channel::Wechat => "wechat",
            Channel::Sms => "sms",
            Channel::Ivr => "ivr",
        }
    }

    /// Parses a wire name.
    pub fn parse(value: &str) -> Result<Self, ParseError> {
        Channel::ALL
            .into_iter()
            .find(|c| c.as_str() == value)
            .ok_or_else(|| ParseError::Unknown {
                field: "channel",
                value: value.chars().take(32).collect(),
            })
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who wrote a message (`from` on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Sender {
    Customer,
    Bot,
    Agent,
    System,
    /// An internal note by staff: every staff history shows it, no customer ever sees it.
    Note,
    /// A supervisor's or team lead's word to the assigned agent: never shown to the customer.
    Whisper,
}

impl Sender {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Sender::Customer => "customer",
            Sender::Bot => "bot",
            Sender::Agent => "agent",
            Sender::System => "system",
            Sender::Note => "note",
            Sender::Whisper => "whisper",
        }
    }

    /// Whether only staff may see the message (a note or a whisper): customer histories,
    /// sockets and channel deliveries leave it out.
    pub fn is_internal(self) -> bool {
        matches!(self, Sender::Note | Sender::Whisper)
    }

    /// Parses a stored name.
    pub fn parse(value: &str) -> Result<Self, ParseError> {
        match value {
            "customer" => Ok(Sender::Customer),
            "bot" => Ok(Sender::Bot),
            "agent" => Ok(Sender::Agent),
            "system" => Ok(Sender::System),
            "note" => Ok(Sender::Note),
            "whisper" => Ok(Sender::Whisper),
            other => Err(ParseError::Unknown {
                field: "from",
                value: other.to_owned(),
            }),
        }
    }
}

/// The languages people read in Switchboard.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
pub enum Language {
    #[serde(rename = "zh")]
    Zh,
    #[serde(rename = "en")]
    En,
}

impl Language {
    /// The short code used in config and on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Language::Zh => "zh",
            Language::En => "en",
        }
    }

    /// Parses `zh`, `zh-CN`, `en`, `en-US`, ...
    pub fn parse(value: &str) -> Result<Self, ParseError> {
        let lower = value.to_ascii_lowercase();
        if lower == "zh" || lower.starts_with("zh-") {
            Ok(Language::Zh)
        } else if lower == "en" || lower.starts_with("en-") {
            Ok(Language::En)
        } else {
            Err(ParseError::Unknown {
                field: "language",
                value: value.chars().take(16).collect(),
            })
        }
    }

    /// Guesses the language of a customer's text: any CJK ideograph means Chinese.
    pub fn detect(text: &str) -> Self {
        if text.chars().any(is_cjk) {
            Language::Zh
        } else {
            Language::En
        }
    }
}

/// True for CJK unified ideographs (the ranges Simplified Chinese text uses).
pub fn is_cjk(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '\u{F900}'..='\u{FAFF}')
}

/// Text of one message: trimmed, non-empty, at most [`MessageText::MAX_CHARS`] characters,
/// without control characters other than newlines and tabs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MessageText(String);

impl MessageText {
    /// Longest message we accept (characters, not bytes).
    pub const MAX_CHARS: usize = 4000;

    /// Validates customer- or agent-provided text.
    pub fn parse(value: &str) -> Result<Self, ParseError> {
        let trimmed = value.trim();
        if trimmed.is_empty() {
            return Err(ParseError::Empty { field: "text" });
        }
        if trimmed.chars().count() > Self::MAX_CHARS {
            return Err(ParseError::TooLong {
                field: "text",
                max: Self::MAX_CHARS,
            });
        }
        if trimmed
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
        {
            return Err(ParseError::BadCharacters { field: "text" });
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// Text we wrote ourselves (bot answers, system notices).
    pub fn from_trusted(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The client's idempotency key for a message: 1 to 128 characters of `[A-Za-z0-9._:-]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ClientId(String);

impl ClientId {
    /// Longest client id accepted.
    pub const MAX_LEN: usize = 128;

    /// Validates a client-chosen id.
    pub fn parse(value: &str) -> Result<Self, ParseError> {
        if value.is_empty() {
            return Err(ParseError::Empty { field: "client_id" });
        }
        if value.len() > Self::MAX_LEN {
            return Err(ParseError::TooLong {
                field: "client_id",
                max: Self::MAX_LEN,
            });
        }
        if !value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-'))
        {
            return Err(ParseError::BadCharacters { field: "client_id" });
        }
        Ok(Self(value.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Customer tier: VIPs are served first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    #[default]
    Standard,
    Vip,
}

impl Tier {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Standard => "standard",
            Tier::Vip => "vip",
        }
    }

    /// Parses a stored name; unknown tiers are an error, not a silent default.
    pub fn parse(value: &str) -> Result<Self, ParseError> {
        match value {
            "standard" => Ok(Tier::Standard),
            "vip" => Ok(Tier::Vip),
            other => Err(ParseError::Unknown {
                field: "tier",
                value: other.to_owned(),
            }),
        }
    }
}

/// A customer: the person behind every identity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    pub id: CustomerId,
    /// What agents see; visitors get a friendly generated name.
    pub display_name: String,
    pub tier: Tier,
    pub tags: Vec<String>,
    pub created_at: DateTime<Utc>,
}

/// One way of reaching a customer: `(channel, external_id)` (visitor id, app user id,
/// WeChat openid, E.164 phone number).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub channel: Channel,
    pub external_id: String,
    pub customer_id: CustomerId,
    pub created_at: DateTime<Utc>,
}

/// Where a conversation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConversationStatus {
    /// The bot is answering.
    Bot,
    /// Handed off, waiting for an agent.
    Queued,
    /// An agent owns it.
    Assigned,
    /// Wrapped up.
    Closed,
}

impl ConversationStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ConversationStatus::Bot => "bot",
            ConversationStatus::Queued => "queued",
            ConversationStatus::Assigned => "assigned",
            ConversationStatus::Closed => "closed",
        }
    }

    /// Parses a stored name.
    pub fn parse(value: &str) -> Result<Self, ParseError> {
        match value {
            "bot" => Ok(ConversationStatus::Bot),
            "queued" => Ok(ConversationStatus::Queued),
            "assigned" => Ok(ConversationStatus::Assigned),
            "closed" => Ok(ConversationStatus::Closed),
            other => Err(ParseError::Unknown {
                field: "conversation status",
                value: other.to_owned(),
            }),
        }
    }
}

/// How an agent closed a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    Resolved,
    Unresolved,
    Transferred,
}

impl Resolution {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Resolution::Resolved => "resolved",
            Resolution::Unresolved => "unresolved",
            Resolution::Transferred => "transferred",
        }
    }

    /// Parses a stored name.
    pub fn parse(value: &str) -> Result<Self, ParseError> {
        match value {
            "resolved" => Ok(Resolution::Resolved),
            "unresolved" => Ok(Resolution::Unresolved),
            "transferred" => Ok(Resolution::Transferred),
            other => Err(ParseError::Unknown {
                field: "resolution",
                value: other.to_owned(),
            }),
        }
    }
}

/// A conversation: one customer, one thread of messages across channels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    pub id: ConversationId,
    pub customer_id: CustomerId,
    pub status: ConversationStatus,
    /// The channel the customer used last: replies go there.
    pub last_channel: Channel,
    pub agent_id: Option<AgentId>,
    /// The bot's memory for this conversation (opaque JSON owned by the bot).
    pub bot_state: serde_json::Value,
    pub opened_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub resolution: Option<Resolution>,
}

/// A stored message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    pub customer_id: CustomerId,
    pub channel: Channel,
    pub from: Sender,
    pub text: String,
    /// The customer's idempotency key (web/app `client_id`).
    pub client_id: Option<String>,
    /// The provider's or client's unique id; `(channel, external_id)` is unique.
    pub external_id: Option<String>,
    pub agent_id: Option<AgentId>,
    pub sent_at: DateTime<Utc>,
}

/// A skill with a proficiency level (1 = novice .. 5 = expert).
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
pub struct Skill {
    pub name: String,
    #[schema(minimum = 1, maximum = 5)]
    pub level: u8,
}

impl Skill {
    /// Highest proficiency level.
    pub const MAX_LEVEL: u8 = 5;

    /// Validates a skill name (lowercase ASCII words) and level.
    pub fn parse(name: &str, level: u8) -> Result<Self, ParseError> {
        if name.is_empty() {
            return Err(ParseError::Empty { field: "skill" });
        }
        if name.len() > 64
            || !name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
        {
            return Err(ParseError::BadCharacters { field: "skill" });
        }
        if !(1..=Self::MAX_LEVEL).contains(&level) {
            return Err(ParseError::OutOfRange {
                field: "skill level",
                min: 1,
                max: i64::from(Self::MAX_LEVEL),
            });
        }
        Ok(Self {
            name: name.to_owned(),
            level,
        })
    }
}

/// What a task needs from an agent: a skill at a minimum level.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SkillRequirement {
    pub name: String,
    pub min_level: u8,
}

/// Task priority: higher is more urgent. Standard 0, urgent +50, VIP +100.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Priority(pub i32);

impl Priority {
    pub const STANDARD: Priority = Priority(0);
    pub const URGENT_BONUS: i32 = 50;
    pub const VIP_BONUS: i32 = 100;
}

/// Where a task stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    Waiting,
    Assigned,
    Completed,
    Cancelled,
    /// Waited past its queue's maximum (or its queue was closed) and went to the queue's
    /// fallback: a callback request, a ticket or the bot.
    Expired,
    /// Its agent handed the conversation on: a transfer task was accepted by another agent.
    Transferred,
}

impl TaskStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Waiting => "waiting",
            TaskStatus::Assigned => "assigned",
            TaskStatus::Completed => "completed",
            TaskStatus::Cancelled => "cancelled",
            TaskStatus::Expired => "expired",
            TaskStatus::Transferred => "transferred",
        }
    }

    /// Parses a stored name.
    pub fn parse(value: &str) -> Result<Self, ParseError> {
        match value {
            "waiting" => Ok(TaskStatus::Waiting),
            "assigned" => Ok(TaskStatus::Assigned),
            "completed" => Ok(TaskStatus::Completed),
            "cancelled" => Ok(TaskStatus::Cancelled),
            "expired" => Ok(TaskStatus::Expired),
            "transferred" => Ok(TaskStatus::Transferred),
            other => Err(ParseError::Unknown {
                field: "task status",
                value: other.to_owned(),
            }),
        }
    }
}

/// A conversation handed off to humans, waiting for (or owned by) an agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    pub id: TaskId,
    pub conversation_id: ConversationId,
    pub customer_id: CustomerId,
    pub channel: Channel,
    pub language: Language,
    pub required_skills: Vec<SkillRequirement>,
    pub priority: Priority,
    pub intent: Option<String>,
    /// One or two sentences for the agent's offer card.
    pub summary: String,
    pub status: TaskStatus,
    pub agent_id: Option<AgentId>,
    pub created_at: DateTime<Utc>,
    pub assigned_at: Option<DateTime<Utc>>,
    /// The agent who last served this customer, offered the task first for a while
    /// ("sticky" routing); set at hand-off.
    #[serde(default)]
    pub preferred_agent: Option<AgentId>,
    /// What the bot knew when it handed over (the agent's context card); `None` for tasks
    /// created before schema v9 or by other means.
    #[serde(default)]
    pub context: Option<Box<HandoffContext>>,
    /// Set on a transfer: the conversation is handed on from an agent who keeps it until
    /// someone accepts this task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer: Option<Box<Transfer>>,
}

/// A transfer of a conversation from the agent who holds it to a named agent or to whoever
/// has the skills (the task's required skills).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transfer {
    /// The agent who holds the conversation until the transfer is accepted.
    pub from_agent_id: AgentId,
    /// Who asked: the holder, or a supervisor or team lead reassigning it.
    pub by: AgentId,
    /// The named agent it goes to (None: anyone with the task's skills).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_agent_id: Option<AgentId>,
    /// The sender's note for the next agent (staff only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Everything an agent needs so the customer never repeats themselves: why the bot handed
/// over, what it understood, what it collected, and what was said.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HandoffContext {
    /// Why: `requested`, `not_understood`, `complaint`, `vip`, `flow`.
    pub reason: String,
    pub intent: Option<String>,
    /// The matcher's confidence in `intent` (0–1), when a match decided it.
    pub confidence: Option<f32>,
    /// The flow the customer was in, if any, and the slots it filled.
    #[serde(default)]
    pub flow: Option<String>,
    /// The flow's title by language (`zh`, `en`), for the desk.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub flow_title: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub slots: std::collections::BTreeMap<String, String>,
    /// One or two sentences, in English.
    pub summary: String,
    /// The summary by language (`zh`, `en`), for the desk.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub summaries: std::collections::BTreeMap<String, String>,
    /// The conversation with the bot so far, oldest first (the last lines only).
    #[serde(default)]
    pub transcript: Vec<TranscriptLine>,
    pub tier: Tier,
    #[serde(default)]
    pub tags: Vec<String>,
}

/// One line of a hand-off transcript.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TranscriptLine {
    pub from: Sender,
    pub channel: Channel,
    pub text: String,
    pub sent_at: DateTime<Utc>,
}

/// What an account may do: the permission table of docs/permissions.md (`Role::may`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Handles conversations and tickets.
    Agent,
    /// Supervises the agents and conversations of the teams they lead.
    TeamLead,
    /// Routing, knowledge base, all operations.
    Supervisor,
    /// Staff accounts and settings; everything a supervisor can.
    Admin,
}

impl Role {
    /// Every role, least powerful first.
    pub const ALL: [Role; 4] = [Role::Agent, Role::TeamLead, Role::Supervisor, Role::Admin];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::TeamLead => "team_lead",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
        }
    }

    /// Parses a stored name.
    pub fn parse(value: &str) -> Result<Self, ParseError> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == value)
            .ok_or_else(|| ParseError::Unknown {
                field: "role",
                value: value.to_owned(),
            })
    }

    /// Whether this role grants `permission`: the permission table of `docs/permissions.md`.
    pub fn may(self, permission: Permission) -> bool {
        use Permission::*;
        match self {
            Role::Agent => matches!(permission, ServeCustomers | HandleConversations),
            Role::TeamLead => matches!(permission, ServeCustomers | Supervise),
            Role::Supervisor => !matches!(permission, HandleConversations | ManageStaff),
            Role::Admin => permission != HandleConversations,
        }
    }
}

/// What a route or socket command needs of its caller; [`Role::may`] says who has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Read customers, their messages and tickets, merge two customers (and undo it), read
    /// queue figures, routing explanations, the knowledge base and the teams.
    ServeCustomers,
    /// Take offers and handle conversations at the agent desk.
    HandleConversations,
    /// Watch and help live conversations and agents; read staff accounts and set agents'
    /// skills, languages and capacity (team leads: their teams').
    Supervise,
    /// Change routing rules and overrides, replay them (dry-run), read routing history.
    ManageRouting,
    /// Change the knowledge base.
    ManageKnowledge,
    /// Create, change (every field) and deactivate staff accounts; create teams.
    ManageStaff,
}

impl Permission {
    /// The refusal a caller without this permission gets.
    pub fn refusal(self) -> &'static str {
        match self {
            Permission::ServeCustomers => "This endpoint is for staff.",
            Permission::HandleConversations => "Only agents can open the agent desk.",
            Permission::Supervise => "This is for team leads, supervisors and admins.",
            Permission::ManageRouting => "Routing rules are for supervisors.",
            Permission::ManageKnowledge => "Only supervisors change the knowledge base.",
            Permission::ManageStaff => "Staff accounts are for admins.",
        }
    }
}

/// An agent or supervisor account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Agent {
    pub id: AgentId,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub skills: Vec<Skill>,
    pub languages: Vec<Language>,
    /// How many chat conversations the agent handles at once.
    pub capacity: u32,
    /// Calls at once (a call excludes chats); None: the deployment's `routing.voice_capacity`.
    #[serde(default)]
    pub voice_capacity: Option<u32>,
    /// Tickets at once; None: the deployment's `routing.ticket_capacity`.
    #[serde(default)]
    pub ticket_capacity: Option<u32>,
    /// Argon2 PHC string; never leaves the server.
    #[serde(skip_serializing)]
    pub password_hash: String,
}

/// How a staff member belongs to a team: a lead supervises the team's members (a team lead
/// sees and changes the routing profile of the agents of the teams they lead).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum TeamRole {
    Lead,
    Member,
}

impl TeamRole {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            TeamRole::Lead => "lead",
            TeamRole::Member => "member",
        }
    }

    /// Parses a stored name.
    pub fn parse(value: &str) -> Result<Self, ParseError> {
        match value {
            "lead" => Ok(TeamRole::Lead),
            "member" => Ok(TeamRole::Member),
            other => Err(ParseError::Unknown {
                field: "team role",
                value: other.to_owned(),
            }),
        }
    }
}

/// Agent presence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AgentStatus {
    Available,
    Away,
    Offline,
}

impl AgentStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            AgentStatus::Available => "available",
            AgentStatus::Away => "away",
            AgentStatus::Offline => "offline",
        }
    }
}

/// One thing wrong with a document (a rule set, a knowledge-base entry, a flow), and where:
/// validation reports every problem at once, each with its place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// Where: `rules[1].when`, `questions.en[3]`, `flows[0].slots[2].prompt`, …
    pub path: String,
    pub message: String,
}

impl Problem {
    /// A problem at `path`.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_text_is_trimmed_and_must_not_be_empty() {
        assert_eq!(
            MessageText::parse("  hi  ").map(|t| t.as_str().to_owned()),
            Ok("hi".to_owned())
        );
        assert_eq!(
            MessageText::parse("   "),
            Err(ParseError::Empty { field: "text" })
        );
    }

    #[test]
    fn message_text_rejects_overlong_and_control_characters() {
        let long = "字".repeat(MessageText::MAX_CHARS + 1);
        assert!(matches!(
            MessageText::parse(&long),
            Err(ParseError::TooLong { .. })
        ));
        assert!(MessageText::parse(&"字".repeat(MessageText::MAX_CHARS)).is_ok());
        assert!(matches!(
            MessageText::parse("a\u{0007}b"),
            Err(ParseError::BadCharacters { .. })
        ));
        assert!(MessageText::parse("line one\nline two").is_ok());
    }

    #[test]
    fn client_id_accepts_uuids_and_rejects_spaces() {
        assert!(ClientId::parse("3f2b6c1e-9d7a-4f0e-8a55-0c1d2e3f4a5b").is_ok());
        assert!(ClientId::parse("a b").is_err());
        assert!(ClientId::parse("").is_err());
        assert!(ClientId::parse(&"x".repeat(129)).is_err());
    }

    #[test]
    fn language_is_detected_from_chinese_characters() {
        assert_eq!(Language::detect("我要退款"), Language::Zh);
        assert_eq!(Language::detect("refund please"), Language::En);
        assert_eq!(Language::parse("zh-CN"), Ok(Language::Zh));
        assert!(Language::parse("fr").is_err());
    }

    #[test]
    fn channel_names_round_trip() {
        for channel in Channel::ALL {
            assert_eq!(Channel::parse(channel.as_str()), Ok(channel));
        }
        assert!(Channel::parse("fax").is_err());
    }

    #[test]
    fn skill_levels_are_bounded() {
        assert!(Skill::parse("billing", 3).is_ok());
        assert!(Skill::parse("billing", 0).is_err());
        assert!(Skill::parse("billing", 6).is_err());
        assert!(Skill::parse("Billing!", 3).is_err());
    }
}
