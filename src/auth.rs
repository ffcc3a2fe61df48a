//! Passwords (argon2id) and opaque bearer tokens.
//!
//! Tokens are 256 random bits, base64url; the store keeps only their SHA-256, so a leaked
//! database does not leak sessions. Tokens survive restarts (a customer keeps their
//! conversation after a crash) and expire by time. A node remembers a verified token for
//! [`TOKEN_CACHE_TTL`], so a customer's stream of messages costs one store look-up per half
//! minute, not one per message.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::{dev::Payload, http::header, web, FromRequest, HttpRequest};
use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use base64::Engine;
use chrono::Utc;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::domain::{AgentId, CustomerId, Role};
use crate::error::ApiError;
use crate::startup::AppState;
use crate::store::Principal;

/// Hashes a password with argon2id and a random salt (PHC string).
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing password: {e}"))
}

/// A valid hash of a password nobody knows, verified when the user does not exist so that
/// unknown users and wrong passwords take the same time.
pub fn dummy_hash() -> &'static str {
    "$argon2id$v=19$m=19456,t=2,p=1$c3dpdGNoYm9hcmRkdW1teQ$6yBJ9ORsKZtmvJP1zm0L3WEdvNnnp6OOpGSCPRMtqsA"
}

/// True when `password` matches the PHC `hash`. A malformed hash never matches.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A fresh token and the hash the store keeps.
pub fn new_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let hash = token_hash(&token);
    (token, hash)
}

/// The stored form of a token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The bearer token of a request: `Authorization: Bearer …`, else `?token=…` (WebSockets).
pub fn bearer_token(req: &HttpRequest) -> Option<String> {
    if let Some(value) = req.headers().get(header::AUTHORIZATION) {
        let value = value.to_str().ok()?;
        let (scheme, token) = value.split_once(' ')?;
        return scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim().to_owned())
            .filter(|t| !t.is_empty());
    }
    web::Query::<TokenQuery>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.into_inner().token)
        .filter(|t| !t.is_empty())
}

#[derive(serde::Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

/// How long a node trusts a token it verified in the store (tokens are only ever created or
/// expire; an expiring token is honoured at most this much longer).
pub const TOKEN_CACHE_TTL: Duration = Duration::from_secs(30);
/// Tokens remembered at most; past that the cache starts over.
const TOKEN_CACHE_CAPACITY: usize = 100_000;

/// Verified tokens (by hash) and when they were verified.
#[derive(Default)]
pub struct TokenCache {
    entries: Mutex<HashMap<String, (Principal, Instant)>>,
}

impl TokenCache {
    /// The holder of a token verified less than [`TOKEN_CACHE_TTL`] ago.
    pub fn get(&self, hash: &str, now: Instant) -> Option<Principal> {
        let entries = self.entries.lock().ok()?;
        let (principal, verified) = entries.get(hash)?;
        (now.duration_since(*verified) < TOKEN_CACHE_TTL).then(|| principal.clone())
    }

    /// Remembers a token verified at `now`.
    pub fn put(&self, hash: String, principal: Principal, now: Instant) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= TOKEN_CACHE_CAPACITY {
                entries.retain(|_, (_, verified)| now.duration_since(*verified) < TOKEN_CACHE_TTL);
                if entries.len() >= TOKEN_CACHE_CAPACITY {
                    entries.clear();
                }
            }
            entries.insert(hash, (principal, now));
        }
    }
}

/// Longest app token (JWT) accepted.
const MAX_APP_TOKEN_LEN: usize = 4096;
/// Clock leeway for app tokens' `exp`/`nbf`.
const APP_TOKEN_LEEWAY_SECS: i64 = 30;

/// True when a bearer token has the shape of a JWT (three base64url parts), i.e. is an app
/// token rather than one of our opaque tokens.
pub fn looks_like_jwt(token: &str) -> bool {
    token.split('.').count() == 3
}

/// Resolves a token to its holder, or 401: an opaque token (visitor, staff) through the
/// store, or an app token (HS256 JWT of the app backend) by its signature, finding or
/// creating the app user's customer (see [`crate::identity::app_user`]).
pub async fn authenticate(state: &AppState, token: Option<String>) -> Result<Principal, ApiError> {
    let token = token.ok_or_else(ApiError::unauthenticated)?;
    let app_token = looks_like_jwt(&token);
    if token.len() > if app_token { MAX_APP_TOKEN_LEN } else { 256 } {
        return Err(ApiError::unauthenticated());
    }
    let hash = token_hash(&token);
    // Taken before the look-up: the cached verdict is never younger than the store's answer.
    let checked = Instant::now();
    if let Some(principal) = state.tokens.get(&hash, checked) {
        return Ok(principal);
    }
    let principal = if app_token {
        app_principal(state, &token).await?
    } else {
        state
            .store
            .token_principal(&hash, Utc::now())
            .await?
            .ok_or_else(ApiError::unauthenticated)?
    };
    state.tokens.put(hash, principal.clone(), checked);
    Ok(principal)
}

/// Verifies an app token and finds its customer.
async fn app_principal(state: &AppState, token: &str) -> Result<Principal, ApiError> {
    use secrecy::ExposeSecret;
    let secret = state.settings.app.jwt_secret.expose_secret();
    if secret.is_empty() {
        return Err(ApiError::unauthenticated());
    }
    let claims = crate::channels::app::token::verify(
        secret.as_bytes(),
        token,
        Utc::now().timestamp(),
        APP_TOKEN_LEEWAY_SECS,
    )
    .map_err(|error| {
        tracing::info!(%error, "App token refused.");
        ApiError::unauthenticated()
    })?;
    let customer = crate::identity::app_user(
        state.store.as_ref(),
        &claims.sub,
        crate::identity::AppLinks {
            phone: claims.phone.as_deref(),
            wechat_openid: claims.wechat_openid.as_deref(),
            wechat_unionid: claims.wechat_unionid.as_deref(),
        },
        claims.name.as_deref(),
    )
    .await?;
    Ok(Principal::AppUser(customer))
}

/// Extractor: the authenticated holder of the request's token.
pub struct Authenticated(pub Principal);

impl Authenticated {
    /// The customer, or 403 for staff tokens.
    pub fn customer(self) -> Result<CustomerId, ApiError> {
        self.customer_on().map(|(id, _)| id)
    }

    /// The customer and the channel their token speaks for (web visitor or app user), or
    /// 403 for staff tokens.
    pub fn customer_on(self) -> Result<(CustomerId, crate::domain::Channel), ApiError> {
        use crate::domain::Channel;
        match self.0 {
            Principal::Customer(id) => Ok((id, Channel::Web)),
            Principal::AppUser(id) => Ok((id, Channel::App)),
            Principal::Staff { .. } => Err(ApiError::forbidden("This endpoint is for customers.")),
        }
    }

    /// The agent or supervisor, or 403 for customer tokens.
    pub fn staff(self) -> Result<(AgentId, Role), ApiError> {
        match self.0 {
            Principal::Staff { agent_id, role } => Ok((agent_id, role)),
            Principal::Customer(_) | Principal::AppUser(_) => Err(ApiError::forbidden(
                "This endpoint is for agents and supervisors.",
            )),
        }
    }
}

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer_token(req);
        Box::pin(async move {
            let state =
                state.ok_or_else(|| ApiError::internal(anyhow::anyhow!("AppState missing")))?;
            authenticate(&state, token).await.map(Authenticated)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_with_the_right_secret() {
        let hash = hash_password("demo").expect("hash");
        assert!(verify_password("demo", &hash));
        assert!(!verify_password("Demo", &hash));
        assert!(!verify_password("demo", "not a hash"));
    }

    #[test]
    fn dummy_hash_parses_and_matches_nothing_useful() {
        assert!(PasswordHash::new(dummy_hash()).is_ok());
        assert!(!verify_password("demo", dummy_hash()));
    }

    #[test]
    fn cached_tokens_are_trusted_only_for_the_ttl() {
        let cache = TokenCache::default();
        let start = Instant::now();
        let who = Principal::Customer(CustomerId::from_trusted("cus_1"));
        assert_eq!(cache.get("h", start), None);
        cache.put("h".to_owned(), who.clone(), start);
        assert_eq!(cache.get("h", start + Duration::from_secs(1)), Some(who));
        assert_eq!(cache.get("h", start + TOKEN_CACHE_TTL), None);
        assert_eq!(cache.get("other", start), None);
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let (a, ha) = new_token();
        let (b, _) = new_token();
        assert_ne!(a, b);
        assert_eq!(token_hash(&a), ha);
        assert_eq!(ha.len(), 64);
        assert!(!ha.contains(&a));
    }
}
