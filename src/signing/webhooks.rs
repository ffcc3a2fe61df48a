//! Standard Webhooks signing (`webhook-id`, `webhook-timestamp`,
//! `webhook-signature: v1,<base64 HMAC-SHA256>`): the signature the integrators' event webhook
//! and app pushes send, and the one the IVR channel verifies on inbound events. Pure: the
//! caller passes the time.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Why a Standard Webhooks secret is unusable.
#[derive(Debug, thiserror::Error)]
#[error("a webhook secret is `whsec_` followed by base64 of at least 16 bytes")]
pub struct SecretError;

/// The HMAC key of a Standard Webhooks secret (`whsec_` + base64; the prefix is optional).
pub fn secret_key(secret: &str) -> Result<Vec<u8>, SecretError> {
    let encoded = secret
        .trim()
        .strip_prefix("whsec_")
        .unwrap_or(secret.trim());
    let key = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|_| SecretError)?;
    if key.len() < 16 {
        return Err(SecretError);
    }
    Ok(key)
}

/// The `webhook-signature` value for one message: `v1,` + base64 of
/// HMAC-SHA256(key, "{id}.{timestamp}.{body}").
pub fn sign(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    // HMAC takes keys of any length, so this cannot fail.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return String::new();
    };
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// Why a signed request is refused (the IVR channel's inbound webhooks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("webhook-id, webhook-timestamp and webhook-signature are required")]
    Missing,
    #[error("the webhook timestamp is outside the tolerance (a replay, or a clock far off)")]
    Stale,
    #[error("no webhook signature matches")]
    BadSignature,
}

/// Verifies a Standard Webhooks request: the timestamp (Unix seconds) within
/// `tolerance_secs` of `now`, and one of the space-separated `v1,…` signatures matching.
/// Replays inside the tolerance are the caller's to refuse, by `id`.
pub fn verify(
    key: &[u8],
    id: &str,
    timestamp: &str,
    signatures: &str,
    body: &[u8],
    now: i64,
    tolerance_secs: i64,
) -> Result<(), VerifyError> {
    if id.trim().is_empty() || signatures.trim().is_empty() {
        return Err(VerifyError::Missing);
    }
    let at: i64 = timestamp.trim().parse().map_err(|_| VerifyError::Missing)?;
    if now.abs_diff(at) > tolerance_secs.unsigned_abs() {
        return Err(VerifyError::Stale);
    }
    let expected = sign(key, id, at, body);
    let matches = signatures
        .split_whitespace()
        .any(|given| super::constant_time_eq(given.as_bytes(), expected.as_bytes()));
    if matches {
        Ok(())
    } else {
        Err(VerifyError::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_reproduce_the_standard_webhooks_test_vector() {
        // The published example of the Standard Webhooks specification and its libraries.
        let key = secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").expect("valid secret");
        assert_eq!(
            sign(
                &key,
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1_614_265_330,
                br#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn inbound_requests_verify_within_the_tolerance_only() {
        let key = secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").expect("valid secret");
        let (id, at, body) = (
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            "1614265330",
            br#"{"test": 2432232314}"#.as_slice(),
        );
        let good = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
        assert_eq!(verify(&key, id, at, good, body, 1_614_265_330, 300), Ok(()));
        // Key rotation: any of several signatures may match.
        let rotated = format!("v1,AAAA {good}");
        assert_eq!(
            verify(&key, id, at, &rotated, body, 1_614_265_600, 300),
            Ok(())
        );
        assert_eq!(
            verify(&key, id, at, good, body, 1_614_265_631, 300),
            Err(VerifyError::Stale),
            "five minutes and a second later"
        );
        assert_eq!(
            verify(&key, id, at, good, b"{\"test\": 1}", 1_614_265_330, 300),
            Err(VerifyError::BadSignature)
        );
        assert_eq!(
            verify(&key, "msg_other", at, good, body, 1_614_265_330, 300),
            Err(VerifyError::BadSignature)
        );
        assert_eq!(
            verify(&key, id, "soon", good, body, 0, 300),
            Err(VerifyError::Missing)
        );
        assert_eq!(
            verify(&key, "", at, good, body, 1_614_265_330, 300),
            Err(VerifyError::Missing)
        );
    }

    #[test]
    fn secrets_must_be_base64_of_enough_bytes() {
        assert!(secret_key("whsec_not base64!").is_err());
        assert!(
            secret_key("whsec_c2hvcnQ=").is_err(),
            "5 bytes is too short"
        );
        assert!(
            secret_key("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_ok(),
            "prefix optional"
        );
    }
}
