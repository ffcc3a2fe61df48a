//! Schemas of the answers that handlers build as JSON values (`json!`), field for field as
//! the handler writes them, and helpers for the small constant schemas they use.
//!
//! These types are never built: they describe. When a handler's answer changes, change its
//! type here (the conformance run, deploy/api-conformance.sh, checks real answers against
//! them).

#![allow(dead_code)]

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::openapi::schema::{Object, ObjectBuilder, Type};
use utoipa::ToSchema;

use crate::bot::kb::entry::{EntryStatus, Texts, Variants};
use crate::domain::{Channel, ConversationStatus, Language, Sender, TaskStatus, Tier};
use crate::routing::policy::{Candidate, Media, Strategy};
use crate::routing::rules::{Change, OverrideTarget, QueueDoc, RuleDoc};
use crate::routing::simulate::DryRun;
use crate::store::Ticket;
use crate::views::MessageView;

/// A string schema of exactly these values.
fn strings(values: &[&str]) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values.to_vec()))
        .build()
}

pub(crate) fn const_ok() -> Object {
    strings(&["ok"])
}

pub(crate) fn const_ready() -> Object {
    strings(&["ready"])
}

/// `web` or `app`: the channels of a customer token.
pub(crate) fn web_or_app() -> Object {
    strings(&["web", "app"])
}

/// `GET /healthz`.
#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(schema_with = const_ok)]
    pub status: String,
}

/// `GET /readyz`.
#[derive(Serialize, ToSchema)]
pub struct Ready {
    #[schema(schema_with = const_ready)]
    pub status: String,
    #[schema(schema_with = const_ok)]
    pub store: String,
    #[schema(schema_with = const_ok)]
    pub bus: String,
}

/// `GET /v1/openapi.json`: an OpenAPI document.
#[derive(Serialize, ToSchema)]
pub struct OpenApiDocument {
    pub openapi: String,
    #[schema(value_type = Object)]
    pub info: serde_json::Value,
    #[schema(value_type = Object)]
    pub paths: serde_json::Value,
}

/// `GET /v1/customers/lookup`.
#[derive(Serialize, ToSchema)]
pub struct LookupAnswer {
    pub customer_id: String,
    /// The customer's profile, as `GET /v1/customers/{id}` answers it
    pub customer: CustomerProfile,
}

/// `GET /v1/customers/{id}`.
#[derive(Serialize, ToSchema)]
pub struct CustomerProfile {
    pub id: String,
    pub name: String,
    #[schema(inline)]
    pub tier: Tier,
    pub tags: Vec<String>,
    pub created_at: DateTime<Utc>,
    #[schema(inline)]
    pub identities: Vec<LinkedIdentity>,
    #[schema(required = true)]
    pub open_conversation_id: Option<String>,
}

/// One identity of [`CustomerProfile`].
#[derive(Serialize, ToSchema)]
pub struct LinkedIdentity {
    pub channel: Channel,
    pub external_id: String,
    pub linked_at: DateTime<Utc>,
}

/// A merge of two customers (`POST /v1/customers/{id}/merge` and its undo).
#[derive(Serialize, ToSchema)]
pub struct CustomerMerge {
    pub merge_id: String,
    /// The customer merged into (the path's id)
    pub customer_id: String,
    /// The customer whose identities and history moved
    pub from_customer_id: String,
    #[schema(inline)]
    pub moved: MergeMoved,
    /// Agent id of the staff member
    pub merged_by: String,
    pub merged_at: DateTime<Utc>,
    /// null until undone
    #[schema(required = true)]
    pub undone_by: Option<String>,
    /// null until undone
    #[schema(required = true)]
    pub undone_at: Option<DateTime<Utc>>,
}

/// What a merge moved.
#[derive(Serialize, ToSchema)]
pub struct MergeMoved {
    #[schema(inline)]
    pub identities: Vec<MovedIdentity>,
    /// How many conversations moved
    pub conversations: usize,
    /// How many messages moved
    pub messages: usize,
}

/// One identity a merge moved.
#[derive(Serialize, ToSchema)]
pub struct MovedIdentity {
    pub channel: Channel,
    pub external_id: String,
}

/// One message of `GET /v1/customers/{id}/messages`.
#[derive(Serialize, ToSchema)]
pub struct CustomerMessage {
    pub id: String,
    pub conversation_id: String,
    pub channel: Channel,
    #[schema(inline)]
    pub from: Sender,
    pub text: String,
    /// The client's id (web/app customer messages)
    #[schema(required = true)]
    pub client_id: Option<String>,
    /// The provider's message id (provider channels)
    #[schema(required = true)]
    pub external_id: Option<String>,
    #[schema(required = true)]
    pub agent_id: Option<String>,
    pub sent_at: DateTime<Utc>,
}

/// `POST /v1/visitors`.
#[derive(Serialize, ToSchema)]
pub struct Visitor {
    pub visitor_token: String,
    pub customer_id: String,
    /// The web identity's external id (lookup with channel=web)
    pub visitor_id: String,
}

/// `POST /v1/messages`.
#[derive(Serialize, ToSchema)]
pub struct Accepted {
    pub message_id: String,
    pub conversation_id: String,
}

/// `GET /v1/conversations/current`.
#[derive(Serialize, ToSchema)]
pub struct CurrentConversation {
    pub id: String,
    pub customer_id: String,
    #[schema(inline)]
    pub status: ConversationStatus,
    /// The channel the customer used last
    pub channel: Channel,
    /// The owning agent's name (null unless assigned)
    #[schema(required = true)]
    pub agent_name: Option<String>,
    pub opened_at: DateTime<Utc>,
    pub messages: Vec<MessageView>,
}

pub(crate) fn const_zero() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .enum_values(Some([0]))
        .build()
}

pub(crate) fn const_true() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::Boolean)
        .enum_values(Some([true]))
        .build()
}

/// `GET /v1/routing/rules`: the version in force, or the built-in routing.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum ActiveRules {
    /// The version in force with its metadata. To edit it, POST {rules, queues} (the metadata
    /// fields are not part of a rule set).
    Version {
        #[schema(minimum = 1)]
        version: i64,
        rules: Vec<RuleDoc>,
        queues: BTreeMap<String, QueueDoc>,
        created_by: String,
        created_at: DateTime<Utc>,
        activated_by: String,
        activated_at: DateTime<Utc>,
    },
    /// No version was activated: built-in routing
    Builtin {
        #[schema(schema_with = const_zero)]
        version: i64,
        #[schema(max_items = 0)]
        rules: Vec<RuleDoc>,
        #[schema(schema_with = const_true)]
        builtin: bool,
        description: String,
    },
}

/// `POST /v1/routing/rules`.
#[derive(Serialize, ToSchema)]
pub struct StoredVersion {
    #[schema(minimum = 1)]
    pub version: i64,
}

/// `POST /v1/routing/rules/validate`.
#[derive(Serialize, ToSchema)]
pub struct Valid {
    #[schema(schema_with = const_true)]
    pub valid: bool,
}

/// `GET /v1/routing/rules/versions`.
#[derive(Serialize, ToSchema)]
pub struct RuleVersions {
    /// The version in force (null: built-in)
    #[schema(required = true)]
    pub active: Option<i64>,
    #[schema(inline)]
    pub versions: Vec<RuleVersionSummary>,
}

/// One version of [`RuleVersions`].
#[derive(Serialize, ToSchema)]
pub struct RuleVersionSummary {
    pub version: i64,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub active: bool,
    pub rule_names: Vec<String>,
    /// Against the version stored before it (null for the first)
    #[schema(required = true)]
    pub diff: Option<Vec<Change>>,
}

/// `GET /v1/routing/rules/{version}`.
#[derive(Serialize, ToSchema)]
pub struct RuleVersion {
    pub version: i64,
    pub rules: Vec<RuleDoc>,
    pub queues: BTreeMap<String, QueueDoc>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub active: bool,
}

/// `POST /v1/routing/rules/{version}/activate`.
#[derive(Serialize, ToSchema)]
pub struct Activated {
    pub version: i64,
    /// null: the built-in defaults were in force
    #[schema(required = true)]
    pub previous: Option<i64>,
}

/// `POST /v1/routing/rules/{version}/dry-run`: the [`DryRun`] with its window and versions.
#[derive(Serialize, ToSchema)]
pub struct DryRunAnswer {
    pub version: i64,
    #[schema(required = true)]
    pub baseline_version: Option<i64>,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    #[serde(flatten)]
    pub run: DryRun,
}

/// `GET /v1/routing/history`.
#[derive(Serialize, ToSchema)]
pub struct History {
    #[schema(inline)]
    pub entries: Vec<HistoryEntry>,
}

/// One entry of [`History`].
#[derive(Serialize, ToSchema)]
pub struct HistoryEntry {
    pub at: DateTime<Utc>,
    pub actor: String,
    /// routing.rules.created, routing.rules.activated, routing.override.created,
    /// routing.override.ended
    pub action: String,
    pub subject: String,
    /// What the action recorded (JSON)
    pub detail: serde_json::Value,
    #[schema(required = true)]
    pub diff: Option<Vec<Change>>,
}

/// `POST /v1/routing/overrides`.
#[derive(Serialize, ToSchema)]
pub struct OverrideCreated {
    pub id: String,
    pub expires_at: DateTime<Utc>,
}

/// `GET /v1/routing/overrides`.
#[derive(Serialize, ToSchema)]
pub struct Overrides {
    #[schema(inline)]
    pub overrides: Vec<ListedOverride>,
}

/// One override of [`Overrides`].
#[derive(Serialize, ToSchema)]
pub struct ListedOverride {
    pub id: String,
    pub rule: String,
    pub target: OverrideTarget,
    pub reason: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// `DELETE /v1/routing/overrides/{id}`.
#[derive(Serialize, ToSchema)]
pub struct OverrideEnded {
    pub id: String,
    #[schema(schema_with = const_true)]
    pub ended: bool,
}

/// `GET /v1/tasks/{id}/routing`.
#[derive(Serialize, ToSchema)]
pub struct TaskRouting {
    pub task_id: String,
    #[schema(inline)]
    pub status: TaskStatus,
    #[schema(required = true)]
    pub agent_id: Option<String>,
    pub created_at: DateTime<Utc>,
    #[schema(required = true)]
    pub assigned_at: Option<DateTime<Utc>>,
    /// null before the first offer
    #[schema(inline, required = true)]
    pub last_offer: Option<LastOffer>,
}

/// The last offer of a task, as the dispatcher recorded it.
#[derive(Serialize, ToSchema)]
pub struct LastOffer {
    pub offered_to: String,
    pub at: DateTime<Utc>,
    #[schema(required = true)]
    pub rules_version: Option<i64>,
    /// null: built-in routing
    #[schema(inline, required = true)]
    pub rule: Option<OfferRule>,
    pub queue: String,
    #[schema(inline)]
    pub target: OfferTarget,
    /// Eligible agents first, in the order the strategy prefers them
    pub candidates: Vec<Candidate>,
}

/// The rule (and overflow step) that routed the task.
#[derive(Serialize, ToSchema)]
pub struct OfferRule {
    #[schema(nullable = false)]
    pub name: Option<String>,
    #[schema(nullable = false)]
    pub index: Option<usize>,
    pub overflow_step: Option<i64>,
    #[schema(nullable = false)]
    pub queue: Option<String>,
    /// The override in force, if any
    #[serde(rename = "override")]
    pub override_id: Option<String>,
}

/// The target at the offer.
#[derive(Serialize, ToSchema)]
pub struct OfferTarget {
    #[schema(inline, nullable = false)]
    pub skills: Option<Vec<OfferSkill>>,
    #[schema(nullable = false)]
    pub language: Option<Language>,
    #[schema(nullable = false)]
    pub priority: Option<i64>,
    #[schema(inline, nullable = false)]
    pub media: Option<Media>,
    #[schema(inline, nullable = false)]
    pub strategy: Option<Strategy>,
    pub preferred_agent: Option<String>,
}

/// A required skill at the offer.
#[derive(Serialize, ToSchema)]
pub struct OfferSkill {
    pub name: String,
    pub min_level: i64,
}

// The knowledge base. Entries are validated in code (`crate::bot::kb::entry`, every problem
// at once, 422 `invalid_kb`); the schemas below state the same limits for clients.

/// A knowledge-base entry as written (`bot::kb::entry::KbEntry`). Unknown fields are refused;
/// validated on every write (422 invalid_kb).
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KbEntry {
    #[schema(pattern = "^[a-z0-9_-]{1,64}$")]
    pub id: String,
    #[serde(default)]
    #[schema(nullable = false)]
    pub title: Option<Title>,
    pub questions: Questions,
    #[serde(default)]
    #[schema(nullable = false)]
    pub keywords: Option<Keywords>,
    pub answer: Answer,
    /// The answer on one channel instead of the general one
    #[serde(default)]
    #[schema(nullable = false)]
    pub channel_answers: Option<BTreeMap<Channel, Answer>>,
    /// Up to 32, 40 characters each, no |
    #[serde(default)]
    #[schema(nullable = false, inline, max_items = 32)]
    pub tags: Option<Vec<KbTag>>,
    #[serde(default)]
    #[schema(nullable = false, pattern = r"\S", max_length = 64)]
    pub skill: Option<String>,
    /// The intent routing rules see (default: the id)
    #[serde(default)]
    #[schema(nullable = false, pattern = r"\S", max_length = 64)]
    pub intent: Option<String>,
    /// Only published entries answer customers
    #[serde(default)]
    #[schema(nullable = false, default = json!("published"))]
    pub status: Option<EntryStatus>,
}

/// An entry as PUT takes it: id may be left out (the path's); updated_at, updated_by,
/// updated_by_name and etag, as a GET gives them, are ignored, so what GET gave can be changed
/// and put back.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KbEntryPut {
    /// The path's id
    #[serde(default)]
    #[schema(nullable = false, pattern = "^[a-z0-9_-]{1,64}$")]
    pub id: Option<String>,
    #[serde(default)]
    #[schema(nullable = false)]
    pub title: Option<Title>,
    pub questions: Questions,
    #[serde(default)]
    #[schema(nullable = false)]
    pub keywords: Option<Keywords>,
    pub answer: Answer,
    /// The answer on one channel instead of the general one
    #[serde(default)]
    #[schema(nullable = false)]
    pub channel_answers: Option<BTreeMap<Channel, Answer>>,
    /// Up to 32, 40 characters each, no |
    #[serde(default)]
    #[schema(nullable = false, inline, max_items = 32)]
    pub tags: Option<Vec<KbTag>>,
    #[serde(default)]
    #[schema(nullable = false, pattern = r"\S", max_length = 64)]
    pub skill: Option<String>,
    /// The intent routing rules see (default: the id)
    #[serde(default)]
    #[schema(nullable = false, pattern = r"\S", max_length = 64)]
    pub intent: Option<String>,
    /// Only published entries answer customers
    #[serde(default)]
    #[schema(nullable = false, default = json!("published"))]
    pub status: Option<EntryStatus>,
    /// Ignored
    #[serde(default)]
    pub updated_at: Option<serde_json::Value>,
    /// Ignored
    #[serde(default)]
    pub updated_by: Option<serde_json::Value>,
    /// Ignored
    #[serde(default)]
    pub updated_by_name: Option<serde_json::Value>,
    /// Ignored
    #[serde(default)]
    pub etag: Option<serde_json::Value>,
}

/// A tag of an entry.
#[derive(Serialize, ToSchema)]
#[schema(pattern = r"^[^|]*\S[^|]*$", max_length = 40)]
pub struct KbTag(pub String);

/// Up to 80 characters per language
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Title {
    #[serde(default)]
    #[schema(nullable = false, pattern = r"\S", max_length = 80)]
    pub zh: Option<String>,
    #[serde(default)]
    #[schema(nullable = false, pattern = r"\S", max_length = 80)]
    pub en: Option<String>,
}

/// In at least one language, up to 4000 characters each
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(min_properties = 1)]
pub struct Answer {
    #[serde(default)]
    #[schema(nullable = false, pattern = r"\S", max_length = 4000)]
    pub zh: Option<String>,
    #[serde(default)]
    #[schema(nullable = false, pattern = r"\S", max_length = 4000)]
    pub en: Option<String>,
}

/// A question variant.
#[derive(Serialize, ToSchema)]
#[schema(pattern = r"\S", max_length = 500)]
pub struct QuestionText(pub String);

/// Question variants per language (at least one in all: see [`Questions`]).
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuestionVariants {
    #[serde(default)]
    #[schema(nullable = false, inline, max_items = 200)]
    pub zh: Option<Vec<QuestionText>>,
    #[serde(default)]
    #[schema(nullable = false, inline, max_items = 200)]
    pub en: Option<Vec<QuestionText>>,
}

/// Question variants per language: at least one, at most 200 in all, up to 500 characters
/// each.
#[derive(Serialize)]
pub struct Questions;

impl utoipa::PartialSchema for Questions {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{AllOfBuilder, AnyOfBuilder};
        // Some language has a question: one of the two lists is present and not empty.
        let non_empty = |language: &str| {
            ObjectBuilder::new().required(language).property(
                language,
                utoipa::openapi::schema::ArrayBuilder::new()
                    .items(ObjectBuilder::new().schema_type(Type::String))
                    .min_items(Some(1)),
            )
        };
        AllOfBuilder::new()
            .description(Some(
                "Question variants per language: at least one, at most 200 in all, up to 500 \
                 characters each",
            ))
            .item(<QuestionVariants as utoipa::PartialSchema>::schema())
            .item(
                AnyOfBuilder::new()
                    .item(non_empty("zh"))
                    .item(non_empty("en")),
            )
            .into()
    }
}

impl ToSchema for Questions {}

/// A keyword.
#[derive(Serialize, ToSchema)]
#[schema(pattern = r"\S", max_length = 100)]
pub struct KeywordText(pub String);

/// Keywords per language (an exact keyword answers with confidence 1): at most 50 in all, up
/// to 100 characters each
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Keywords {
    #[serde(default)]
    #[schema(nullable = false, inline, max_items = 50)]
    pub zh: Option<Vec<KeywordText>>,
    #[serde(default)]
    #[schema(nullable = false, inline, max_items = 50)]
    pub en: Option<Vec<KeywordText>>,
}

/// An entry as read: the entry plus who changed it last, when, and its version
#[derive(Serialize, ToSchema)]
pub struct KbEntryView {
    pub id: String,
    #[serde(default)]
    #[schema(nullable = false)]
    pub title: Option<Texts>,
    pub questions: Variants,
    #[serde(default)]
    #[schema(nullable = false)]
    pub keywords: Option<Variants>,
    pub answer: Texts,
    #[serde(default)]
    #[schema(nullable = false)]
    pub channel_answers: Option<BTreeMap<String, Texts>>,
    #[serde(default)]
    #[schema(nullable = false)]
    pub tags: Option<Vec<String>>,
    #[serde(default)]
    #[schema(nullable = false)]
    pub skill: Option<String>,
    #[serde(default)]
    #[schema(nullable = false)]
    pub intent: Option<String>,
    #[schema(inline, nullable = false)]
    pub status: Option<EntryStatus>,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
    /// The editor's display name when updated_by is a staff account
    #[serde(default)]
    #[schema(nullable = false)]
    pub updated_by_name: Option<String>,
    /// The version, as an entity tag ("<microseconds>")
    pub etag: String,
}

/// A write's answer (`POST`, `PUT /v1/kb/entries…`).
#[derive(Serialize, ToSchema)]
pub struct KbWritten {
    pub id: String,
    pub revision: i64,
    pub etag: String,
}

/// `GET /v1/kb/entries`.
#[derive(Serialize, ToSchema)]
pub struct KbList {
    pub revision: i64,
    pub bot_revision: i64,
    pub entries: Vec<KbEntryView>,
}

/// `DELETE /v1/kb/entries/{id}`.
#[derive(Serialize, ToSchema)]
pub struct KbDeleted {
    pub id: String,
    pub revision: i64,
}

/// How an import treats the knowledge base in place.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImportMode {
    /// Add and replace the given entries (the default).
    Merge,
    /// The given entries become the whole knowledge base.
    Replace,
}

/// The format of an export.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    Json,
    Csv,
}

/// A knowledge base as JSON (`bot::kb::entry::KbDocument`): what the export gives and the
/// import takes.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KbDocument {
    /// Questions the bot should not answer
    #[serde(default)]
    #[schema(nullable = false)]
    pub out_of_scope: Option<Vec<String>>,
    pub entries: Vec<KbEntry>,
}

/// `POST /v1/kb/import` as JSON: a document, or a bare array of entries.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum KbImport {
    Document(#[schema(inline)] KbDocument),
    Entries(Vec<KbEntry>),
}

/// Header id,status,intent,skill,tags,title_zh,title_en,questions_zh,questions_en,
/// keywords_zh,keywords_en,answer_zh,answer_en,answer_sms_zh,answer_sms_en (any order, plus
/// answer_<channel>_<lang>); list cells separated by |
#[derive(Serialize, ToSchema)]
pub struct KbCsv(pub String);

/// Starts with a UTF-8 BOM
#[derive(Serialize, ToSchema)]
pub struct KbCsvExport(pub String);

/// UTF-8 (a BOM is skipped); a header row naming the columns in any order: username,
/// display_name, role, password (required), skills (`billing:4;refunds:2`), languages
/// (`zh;en`), chat_capacity, voice_capacity, ticket_capacity, teams (team names, `;`-separated),
/// extension; then one account per row (an empty cell: the default). At most 1,000 rows.
#[derive(Serialize, ToSchema)]
pub struct StaffCsv(pub String);

/// `POST /v1/kb/import`.
#[derive(Serialize, ToSchema)]
pub struct KbImported {
    pub revision: i64,
    pub imported: usize,
    #[schema(inline)]
    pub mode: ImportMode,
}

/// `POST /v1/kb/match`.
#[derive(Serialize, ToSchema)]
pub struct KbMatch {
    pub revision: i64,
    #[schema(inline)]
    pub outcome: MatchOutcome,
    pub answer: String,
    /// The entry that answered
    #[schema(required = true)]
    pub entry_id: Option<String>,
    /// did_you_mean: the entries suggested, best first
    pub suggested: Vec<String>,
    #[schema(required = true)]
    pub intent: Option<String>,
    #[schema(required = true)]
    pub confidence: Option<f64>,
    pub handoff: bool,
    pub flow: bool,
    #[schema(inline)]
    pub candidates: Vec<MatchCandidate>,
}

/// What the bot did with the question.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MatchOutcome {
    Answered,
    DidYouMean,
    DontKnow,
    SmallTalk,
    Flow,
    Handoff,
}

/// One of the best entries for the question.
#[derive(Serialize, ToSchema)]
pub struct MatchCandidate {
    pub id: String,
    pub title: String,
    pub confidence: f64,
}

/// `GET /v1/customers/{id}/tickets`.
#[derive(Serialize, ToSchema)]
pub struct Tickets {
    pub tickets: Vec<Ticket>,
}

// Provider webhooks: their bodies are parsed by hand (XML, forms, signed JSON), so their
// schemas are written here from the parsers (`channels::wechat::xml`, `channels::sms::edge`).

/// One <xml> element with flat fields (DTDs, entities beyond XML's five, nested elements and
/// more than 64 fields are refused). Plain mode: the message itself. Safe mode:
/// <xml><ToUserName/><Encrypt/></xml>, Encrypt being the AES-256-CBC message (base64)
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
#[schema(xml(name = "xml"))]
pub struct WechatMessage {
    /// The Official Account
    pub to_user_name: String,
    /// The user's openid (1 to 128 characters)
    pub from_user_name: String,
    /// Unix seconds
    pub create_time: i64,
    #[schema(inline)]
    pub msg_type: WechatMsgType,
    /// text (cut at 4000 characters)
    #[schema(nullable = false)]
    pub content: Option<String>,
    /// The dedup key (events: openid and CreateTime)
    #[schema(nullable = false)]
    pub msg_id: Option<String>,
    /// image
    #[schema(nullable = false)]
    pub pic_url: Option<String>,
    /// image, voice
    #[schema(nullable = false)]
    pub media_id: Option<String>,
    /// voice: WeChat's speech recognition
    #[schema(nullable = false)]
    pub recognition: Option<String>,
    #[schema(inline, nullable = false)]
    pub event: Option<WechatEvent>,
    /// CLICK: the menu key (its text is the customer's message)
    #[schema(nullable = false)]
    pub event_key: Option<String>,
    /// Safe mode
    #[schema(nullable = false)]
    pub encrypt: Option<String>,
}

/// `MsgType` of a WeChat message.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum WechatMsgType {
    Text,
    Image,
    Voice,
    Video,
    Shortvideo,
    Location,
    Link,
    Event,
}

/// `Event` of a WeChat event message.
#[derive(Serialize, ToSchema)]
pub enum WechatEvent {
    #[serde(rename = "subscribe")]
    Subscribe,
    #[serde(rename = "unsubscribe")]
    Unsubscribe,
    #[serde(rename = "CLICK")]
    Click,
    #[serde(rename = "VIEW")]
    View,
    #[serde(rename = "SCAN")]
    Scan,
    #[serde(rename = "LOCATION")]
    Location,
}

/// <xml><ToUserName/><FromUserName/><CreateTime/><MsgType>text</MsgType><Content/></xml>;
/// safe mode: <xml><Encrypt/><MsgSignature/><TimeStamp/><Nonce/></xml>
#[derive(Serialize, ToSchema)]
pub struct WechatReply(pub String);

/// What WeChat takes for "received, nothing to reply".
#[derive(Serialize, ToSchema)]
pub enum WechatSuccess {
    #[serde(rename = "success")]
    Success,
}

/// An inbound SMS as the provider posts it (form fields).
#[derive(Serialize, ToSchema)]
pub struct SmsInbound {
    /// Or SmsSid; the dedup key
    #[serde(rename = "MessageSid")]
    #[schema(pattern = "^[A-Za-z0-9]{1,64}$")]
    pub message_sid: String,
    /// The sender, E.164
    #[serde(rename = "From")]
    #[schema(pattern = r"^\+[1-9][0-9]{7,14}$")]
    pub from: String,
    #[serde(rename = "To")]
    #[schema(nullable = false)]
    pub to: Option<String>,
    /// May be empty (picture only: nothing stored)
    #[serde(rename = "Body")]
    pub body: String,
    #[serde(rename = "NumMedia")]
    #[schema(nullable = false)]
    pub num_media: Option<u32>,
}

/// A delivery status callback (form fields).
#[derive(Serialize, ToSchema)]
pub struct SmsStatusCallback {
    /// Or SmsSid
    #[serde(rename = "MessageSid")]
    #[schema(pattern = "^[A-Za-z0-9]{1,64}$")]
    pub message_sid: String,
    #[serde(rename = "MessageStatus")]
    #[schema(inline)]
    pub message_status: SmsStatus,
    #[serde(rename = "ErrorCode")]
    #[schema(nullable = false)]
    pub error_code: Option<String>,
}

/// The provider's delivery statuses (`MessageStatus`, or `SmsStatus`; any case).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SmsStatus {
    Queued,
    Sending,
    Sent,
    Delivered,
    Undelivered,
    Failed,
    Read,
    Accepted,
    Scheduled,
    Canceled,
}

/// <?xml version="1.0" encoding="UTF-8"?><Response></Response>, or
/// <Response><Message>confirmation</Message></Response> for an opt-out/opt-in keyword
#[derive(Serialize, ToSchema)]
pub struct TwimlReply(pub String);

/// Body POSTed to app.push_url when an app user has had no open WebSocket for 45 s; headers
/// webhook-id ({message_id}.app_push), webhook-timestamp, webhook-signature (Standard
/// Webhooks, app.push_secret). Retried through the outbox (408, 425, 429, 5xx, network
/// errors). Built by `channels::app`.
#[derive(Serialize, ToSchema)]
pub struct AppPush {
    #[schema(schema_with = const_message_push)]
    pub r#type: String,
    /// The app token's sub
    pub app_user_id: String,
    pub message: MessageView,
}

pub(crate) fn const_message_push() -> Object {
    strings(&["message.push"])
}

/// `zh` or `en`.
pub(crate) fn language_code() -> Object {
    strings(&["zh", "en"])
}

/// `zh-CN` or `en-US` (the TTS voice).
pub(crate) fn voice_code() -> Object {
    strings(&["zh-CN", "en-US"])
}

/// `aes`: WeChat's safe mode.
pub(crate) fn aes() -> Object {
    strings(&["aes"])
}
