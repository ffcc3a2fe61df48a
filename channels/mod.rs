//! Channel edges. Each channel owns its wire format and nothing else: authentication or
//! signature check, parsing, size limits, the dedup key, normalising to
//! [`crate::actors::customer_session::Inbound`], and rendering outbound events back to its
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

pub mod app;
pub mod ivr;
pub mod kb;
pub mod parsers;
pub mod provider;
pub mod sms;
pub mod supervisor;
pub mod web;
pub mod webhook;
pub mod wechat;

/// Equality of two secrets' encodings that takes as long whatever the first difference (for
/// signatures), so a timing side channel tells nothing.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
