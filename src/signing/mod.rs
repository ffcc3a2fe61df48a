//! Signatures and signed tokens shared by the channel edges and the layers below them:
//! Standard Webhooks ([`webhooks`]), the app backend's HS256 user tokens ([`app_token`]),
//! and a constant-time comparison for every signature check. Pure functions, no I/O: the
//! caller passes the time.

pub mod app_token;
pub mod webhooks;

/// Equality of two secrets' encodings that takes as long whatever the first difference (for
/// signatures), so a timing side channel tells nothing.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
