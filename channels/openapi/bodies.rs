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

use crate::domain::{Channel, ConversationStatus, Language, Sender, TaskStatus, Tier};
use crate::routing::policy::{Candidate, Media, Strategy};
use crate::routing::rules::{Change, OverrideTarget, QueueDoc, RuleDoc};
use crate::routing::simulate::DryRun;
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
