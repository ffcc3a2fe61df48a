//! SMS channel, Twilio-compatible (issue 6, in progress): the provider's wire format.
//!
//! Done so far: [`signature`] (`X-Twilio-Signature`, tested against Twilio's published
//! vectors) and [`segments`] (GSM-7 / UCS-2 segmentation, opt-out keywords). The endpoints of
//! API.md (`POST /v1/channels/sms`, `/v1/channels/sms/status`) and the outbound provider
//! follow.

pub mod segments;
pub mod signature;
