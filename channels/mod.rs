//! Channel edges. Each channel owns its wire format and nothing else: authentication or
//! signature check, parsing, size limits, the dedup key, normalising to
//! [`crate::actors::protocol::Inbound`], and rendering outbound events back to its
//! format. A channel never decides anything about routing or answering.
//!
//! - [`web`]: the web widget and agent desk (REST + WebSockets of API.md), login, and the
//!   customer views for agents and supervisors.
//! - [`supervisor`]: supervisors' routing rules (versions, validation, activation).
//! - [`webhook`]: the integrators' event webhook (signed Standard Webhooks), the first
//!   outbound provider behind [`crate::actors::delivery`].
//! - [`wechat`], [`sms`]: WeChat Official Account and Twilio-compatible SMS (issue 6, the
//!   wire-format pieces so far).
//! - [`ivr`]: the phone IVR's signed call events, answered with call instructions.
//! - [`ops`]: liveness, readiness, metrics; [`openapi`]: the OpenAPI document, generated
//!   from the handlers' `#[utoipa::path]` attributes and their types.
//! - [`permissions`]: who may call which route, enforced before any handler runs.

pub mod app;
pub mod auth;
pub mod ivr;
pub mod kb;
pub mod openapi;
pub mod ops;
pub mod parsers;
pub mod permissions;
pub mod provider;
pub mod sms;
pub mod staff;
pub mod state;
pub mod supervisor;
pub mod web;
pub mod webhook;
pub mod wechat;
