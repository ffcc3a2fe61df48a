//! SMS channel, Twilio-compatible (issue 6).
//!
//! - [`signature`]: `X-Twilio-Signature` (tested against Twilio's published vectors);
//! - [`segments`]: GSM-7 / UCS-2 segmentation, opt-out keywords;
//! - [`edge`]: `POST /v1/channels/sms` (inbound texts, opt-out/opt-in keywords) and
//!   `POST /v1/channels/sms/status` (delivery status callbacks);
//! - [`outbound`]: answers to SMS customers (bot, agent, system) through the provider's REST
//!   API, as outbox deliveries ([`crate::actors::delivery`]).

pub mod edge;
pub mod outbound;
pub mod segments;
pub mod signature;

pub use edge::configure;
