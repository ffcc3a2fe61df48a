//! Who may act: staff login (username and password, answered alike and at the same cost
//! for an unknown user and a wrong password), and the resolution of a bearer token to its
//! holder — an opaque token (web visitor, staff) through the store, or an app token (HS256
//! JWT of the app backend) by its signature, finding or creating the app user's customer.
//! A verdict is cached for a short while ([`TokenCache`]).

use std::sync::Arc;
use std::time::Instant;

use chrono::{Duration, Utc};
use secrecy::{ExposeSecret, SecretString};

use crate::auth::{self, looks_like_jwt, token_hash, TokenCache};
use crate::domain::{Agent, AgentId};
use crate::error::{ApiError, ErrorKind};
use crate::store::{Principal, Store};

/// Longest app token (JWT) accepted.
const MAX_APP_TOKEN_LEN: usize = 4096;
/// Longest opaque token accepted.
const MAX_OPAQUE_TOKEN_LEN: usize = 256;
/// Clock leeway for app tokens' `exp`/`nbf`.
const APP_TOKEN_LEEWAY_SECS: i64 = 30;

/// The access service.
#[derive(Clone)]
pub struct AccessService {
    store: Arc<dyn Store>,
    tokens: Arc<TokenCache>,
    /// The app backend's HS256 secret (empty: app tokens are refused).
    app_secret: SecretString,
    /// How long a staff login lasts.
    staff_token_ttl: Duration,
}

fn wrong_credentials() -> ApiError {
    ApiError::new(
        ErrorKind::InvalidCredentials,
        "Unknown username or wrong password.",
    )
}

impl AccessService {
    pub fn new(store: Arc<dyn Store>, app_secret: SecretString, staff_token_ttl: Duration) -> Self {
        Self {
            store,
            tokens: Arc::new(TokenCache::default()),
            app_secret,
            staff_token_ttl,
        }
    }

    /// Checks a staff member's password and issues a token: the token and the staff member.
    pub async fn login(
        &self,
        username: &str,
        password: String,
    ) -> Result<(String, Agent), ApiError> {
        if username.len() > 128 || password.len() > 1024 {
            return Err(wrong_credentials());
        }
        let agent = self.store.agent_by_username(username).await?;
        // Verify against a dummy hash for unknown users: same answer, same cost.
        let hash = agent
            .as_ref()
            .map_or(auth::dummy_hash(), |a| a.password_hash.as_str())
            .to_owned();
        let verified = tokio::task::spawn_blocking(move || auth::verify_password(&password, &hash))
            .await
            .map_err(ApiError::internal)?;
        let Some(agent) = agent.filter(|_| verified) else {
            return Err(wrong_credentials());
        };
        let (token, hash) = auth::new_token();
        let principal = Principal::Staff {
            agent_id: agent.id.clone(),
            role: agent.role,
        };
        self.store
            .insert_token(&hash, &principal, Utc::now() + self.staff_token_ttl)
            .await?;
        tracing::info!(agent = %agent.id, role = agent.role.as_str(), "Staff login.");
        Ok((token, agent))
    }

    /// A staff member's account (401 when it no longer exists).
    pub async fn staff_member(&self, id: &AgentId) -> Result<Agent, ApiError> {
        self.store.agent(id).await?.ok_or_else(|| {
            ApiError::new(ErrorKind::Unauthenticated, "This account no longer exists.")
        })
    }

    /// Resolves a token to its holder, or 401.
    pub async fn authenticate(&self, token: Option<String>) -> Result<Principal, ApiError> {
        let token = token.ok_or_else(ApiError::unauthenticated)?;
        let app_token = looks_like_jwt(&token);
        let longest = if app_token {
            MAX_APP_TOKEN_LEN
        } else {
            MAX_OPAQUE_TOKEN_LEN
        };
        if token.len() > longest {
            return Err(ApiError::unauthenticated());
        }
        let hash = token_hash(&token);
        // Taken before the look-up: the cached verdict is never younger than the store's
        // answer.
        let checked = Instant::now();
        if let Some(principal) = self.tokens.get(&hash, checked) {
            return Ok(principal);
        }
        let principal = if app_token {
            self.app_principal(&token).await?
        } else {
            self.store
                .token_principal(&hash, Utc::now())
                .await?
                .ok_or_else(ApiError::unauthenticated)?
        };
        self.tokens.put(hash, principal.clone(), checked);
        Ok(principal)
    }

    /// Verifies an app token and finds its customer.
    async fn app_principal(&self, token: &str) -> Result<Principal, ApiError> {
        let secret = self.app_secret.expose_secret();
        if secret.is_empty() {
            return Err(ApiError::unauthenticated());
        }
        let claims = crate::signing::app_token::verify(
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
            self.store.as_ref(),
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
}
