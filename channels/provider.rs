//! What every provider channel's edge (WeChat, SMS, IVR) does the same way: hand a verified,
//! parsed message to the customer's session and map the outcome to an HTTP answer, and
//! fingerprint requests for idempotent webhook receipts.

use sha2::{Digest, Sha256};

use crate::actors::protocol::{Accepted, Inbound, SessionError};
use crate::channels::state::AppState;
use crate::domain::{Channel, CustomerId, MessageText};
use crate::error::{ApiError, ErrorKind};

/// Hands a provider message to the customer's session; returns once it is stored (the
/// provider may be acknowledged then). A repeat of a stored message returns the first answer.
pub async fn submit(
    state: &AppState,
    customer: &CustomerId,
    channel: Channel,
    external_id: String,
    text: &str,
) -> Result<Accepted, ApiError> {
    let text = MessageText::parse(text).map_err(ApiError::from)?;
    let inbound = Inbound {
        channel,
        client_id: None,
        external_id,
        text,
    };
    state
        .sessions
        .inbound(customer, inbound)
        .await
        .map_err(|error| match error {
            SessionError::Store(e) => e.into(),
            SessionError::UnknownCustomer(_) | SessionError::Busy => {
                // The provider retries a webhook that failed; the store deduplicates.
                ApiError::new(
                    ErrorKind::NotReady,
                    "The message could not be stored yet; retry.",
                )
            }
        })
}

/// The error for a body that could not be read: 413 when over the limit, else 400.
pub fn body_error(error: actix_web::Error) -> ApiError {
    match error.as_error::<actix_web::error::PayloadError>() {
        Some(actix_web::error::PayloadError::Overflow) => {
            ApiError::new(ErrorKind::PayloadTooLarge, "The body is too large.")
        }
        _ => ApiError::new(
            ErrorKind::MalformedBody,
            format!("Could not read the body: {error}"),
        ),
    }
}

/// A request's fingerprint (SHA-256, hex): a provider's retry of an event carries the same
/// body; a replayed id with another body is a forgery.
pub fn request_hash(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    hex::encode(hasher.finalize())
}

/// Texts longer than a message may be (an IVR transcript, a WeChat text) are cut to the
/// longest valid message at a character boundary rather than refused: the customer said it.
pub fn clip(text: &str) -> String {
    text.chars()
        .take(crate::domain::MessageText::MAX_CHARS)
        .collect()
}

/// Purges webhook receipts (which only answer a provider's retries) older than `keep`, every
/// hour, for as long as the node runs.
pub async fn purge_receipts(
    store: std::sync::Arc<dyn crate::store::Store>,
    keep: chrono::Duration,
) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(3_600));
    loop {
        every.tick().await;
        match store
            .purge_webhook_receipts(chrono::Utc::now() - keep)
            .await
        {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, "Old webhook receipts purged."),
            Err(error) => tracing::warn!(%error, "Could not purge webhook receipts."),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_separate_their_parts() {
        assert_ne!(request_hash(&[b"ab", b"c"]), request_hash(&[b"a", b"bc"]));
        assert_eq!(request_hash(&[b"x"]), request_hash(&[b"x"]));
    }
}
