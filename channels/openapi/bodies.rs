//! Schemas of the answers that handlers build as JSON values (`json!`), field for field as
//! the handler writes them, and helpers for the small constant schemas they use.
//!
//! These types are never built: they describe. When a handler's answer changes, change its
//! type here (the conformance run, deploy/api-conformance.sh, checks real answers against
//! them).

#![allow(dead_code)]

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::openapi::schema::{Object, ObjectBuilder, Type};
use utoipa::ToSchema;

use crate::domain::{Channel, ConversationStatus, Sender, Tier};
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
