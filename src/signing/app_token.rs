//! The app backend's user tokens: JWTs signed with HS256 and a shared secret (API.md: `sub`
//! is the app user id, an optional `phone` claim a phone number the app verified — the
//! identity link for "one ID"). Pure functions: the caller passes the time.
//!
//! Only HS256 is accepted (never `none`, never another algorithm named by the token);
//! `exp` is required, `nbf` honoured, both with a small leeway for clock skew.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// What a valid token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppClaims {
    /// The app's user id.
    pub sub: String,
    /// A phone number the app verified, E.164 (`+8613800138000`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Expiry, Unix seconds.
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// The user's display name, if the app shares it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The user's openid of the Official Account, verified by the app backend (WeChat
    /// login): links the app user to their WeChat conversations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wechat_openid: Option<String>,
    /// The user's WeChat UnionID, verified by the app backend (WeChat login).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wechat_unionid: Option<String>,
}

/// Why a token is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("not a JWT")]
    Malformed,
    #[error("only HS256 tokens are accepted")]
    Algorithm,
    #[error("the signature does not match")]
    Signature,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token's claims are missing or invalid (sub, exp, phone)")]
    Claims,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
}

fn mac(secret: &[u8]) -> Hmac<Sha256> {
    // HMAC takes keys of any length.
    Hmac::<Sha256>::new_from_slice(secret).unwrap_or_else(|_| unreachable!("any key length"))
}

/// True when `token`'s HS256 signature is `secret`'s (claims not checked).
pub fn signature_valid(secret: &[u8], token: &str) -> Result<(), TokenError> {
    let token = token.trim();
    let (signed, signature) = token.rsplit_once('.').ok_or(TokenError::Malformed)?;
    let (header, payload) = signed.split_once('.').ok_or(TokenError::Malformed)?;
    if payload.contains('.') {
        return Err(TokenError::Malformed);
    }
    let header: Header = URL_SAFE_NO_PAD
        .decode(header)
        .ok()
        .and_then(|h| serde_json::from_slice(&h).ok())
        .ok_or(TokenError::Malformed)?;
    if header.alg != "HS256" {
        return Err(TokenError::Algorithm);
    }
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| TokenError::Malformed)?;
    let mut check = mac(secret);
    check.update(signed.as_bytes());
    check
        .verify_slice(&signature)
        .map_err(|_| TokenError::Signature)
}

/// Verifies `token` at `now` (Unix seconds) and returns its claims.
pub fn verify(
    secret: &[u8],
    token: &str,
    now: i64,
    leeway_secs: i64,
) -> Result<AppClaims, TokenError> {
    signature_valid(secret, token)?;
    let payload = token
        .trim()
        .split('.')
        .nth(1)
        .ok_or(TokenError::Malformed)?;
    let claims: AppClaims = URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
        .and_then(|p| serde_json::from_slice(&p).ok())
        .ok_or(TokenError::Claims)?;
    if claims.sub.trim().is_empty() || claims.sub.len() > 128 {
        return Err(TokenError::Claims);
    }
    if let Some(phone) = &claims.phone {
        if !is_e164(phone) {
            return Err(TokenError::Claims);
        }
    }
    for id in [&claims.wechat_openid, &claims.wechat_unionid]
        .into_iter()
        .flatten()
    {
        if id.trim().is_empty() || id.len() > 128 {
            return Err(TokenError::Claims);
        }
    }
    if now > claims.exp.saturating_add(leeway_secs) {
        return Err(TokenError::Expired);
    }
    if claims
        .nbf
        .is_some_and(|nbf| now < nbf.saturating_sub(leeway_secs))
    {
        return Err(TokenError::NotYetValid);
    }
    Ok(claims)
}

/// A phone number in E.164: `+`, then 8 to 15 digits, not starting with 0.
pub fn is_e164(phone: &str) -> bool {
    let Some(digits) = phone.strip_prefix('+') else {
        return false;
    };
    (8..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
}

/// Signs claims as the app backend does (for tests, the demo and load tools).
pub fn sign(secret: &[u8], claims: &AppClaims) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap_or_default());
    let signed = format!("{header}.{payload}");
    let mut m = mac(secret);
    m.update(signed.as_bytes());
    format!(
        "{signed}.{}",
        URL_SAFE_NO_PAD.encode(m.finalize().into_bytes())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    // The example token of RFC 7519's best-known demonstration (jwt.io): HS256 with the
    // secret "your-256-bit-secret"; it has no `exp`, so only its signature is valid here.
    const EXAMPLE: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";

    const SECRET: &[u8] = b"switchboard-demo-app-jwt-secret-2026";

    fn claims() -> AppClaims {
        AppClaims {
            sub: "user-42".to_owned(),
            phone: Some("+8613800138000".to_owned()),
            exp: 2_000,
            nbf: Some(1_000),
            iat: Some(1_000),
            name: None,
            wechat_openid: None,
            wechat_unionid: None,
        }
    }

    #[test]
    fn the_published_example_signature_verifies_but_lacks_an_expiry() {
        assert_eq!(signature_valid(b"your-256-bit-secret", EXAMPLE), Ok(()));
        assert_eq!(
            signature_valid(b"another-secret", EXAMPLE),
            Err(TokenError::Signature)
        );
        assert_eq!(
            verify(b"your-256-bit-secret", EXAMPLE, 0, 0),
            Err(TokenError::Claims)
        );
    }

    #[test]
    fn signed_tokens_verify_within_their_validity() {
        let token = sign(SECRET, &claims());
        assert_eq!(verify(SECRET, &token, 1_500, 30), Ok(claims()));
        assert_eq!(verify(SECRET, &token, 2_030, 30), Ok(claims()), "leeway");
        assert_eq!(verify(SECRET, &token, 2_031, 30), Err(TokenError::Expired));
        assert_eq!(
            verify(SECRET, &token, 969, 30),
            Err(TokenError::NotYetValid)
        );
        assert_eq!(
            verify(b"wrong", &token, 1_500, 30),
            Err(TokenError::Signature)
        );
    }

    #[test]
    fn forged_algorithms_and_bad_claims_are_refused() {
        let token = sign(SECRET, &claims());
        let payload = token.split('.').nth(1).expect("payload");
        let none = format!(
            "{}.{payload}.",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#)
        );
        assert_eq!(verify(SECRET, &none, 1_500, 30), Err(TokenError::Algorithm));
        let rs = format!(
            "{}.{payload}.c2ln",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256"}"#)
        );
        assert_eq!(verify(SECRET, &rs, 1_500, 30), Err(TokenError::Algorithm));
        for bad in ["", "a.b", "a.b.c.d", "!!.!!.!!"] {
            assert!(verify(SECRET, bad, 1_500, 30).is_err(), "{bad}");
        }
        let bad_phone = sign(
            SECRET,
            &AppClaims {
                phone: Some("13800138000".to_owned()),
                ..claims()
            },
        );
        assert_eq!(
            verify(SECRET, &bad_phone, 1_500, 30),
            Err(TokenError::Claims)
        );
        let no_sub = sign(
            SECRET,
            &AppClaims {
                sub: " ".to_owned(),
                ..claims()
            },
        );
        assert_eq!(verify(SECRET, &no_sub, 1_500, 30), Err(TokenError::Claims));
        assert!(is_e164("+14155552671") && !is_e164("+0123456789") && !is_e164("+1"));
    }
}
