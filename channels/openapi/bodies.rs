//! Schemas of the answers that handlers build as JSON values (`json!`), field for field as
//! the handler writes them, and helpers for the small constant schemas they use.
//!
//! These types are never built: they describe. When a handler's answer changes, change its
//! type here (the conformance run, deploy/api-conformance.sh, checks real answers against
//! them).

#![allow(dead_code)]

use serde::Serialize;
use utoipa::openapi::schema::{Object, ObjectBuilder, Type};
use utoipa::ToSchema;

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
