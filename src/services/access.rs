//! Who may act: staff login (username and password, answered alike and at the same cost
//! for an unknown user and a wrong password), and the resolution of a bearer token to its
//! holder — an opaque token (web visitor, staff) through the store, or an app token (HS256
//! JWT of the app backend) by its signature, finding or creating the app user's customer.
//! A verdict is cached for a short while ([`TokenCache`]).
//!
//! Sign-ins end: a sign-out ([`AccessService::sign_out`]) deletes its token, and a staff
//! account's deactivation, role change or password reset deletes all of its tokens (in the
//! store transaction of that change, see [`crate::services::staff`]). Every node caches
//! verdicts, so an ending is also broadcast on the bus topic `access.revoked`
//! ([`Revocation`]): every node's listener ([`AccessService::listen_for_revocations`]) drops
//! the ended tokens from its cache at once, and a verdict its own look-up reached before it
//! heard of the end is not cached. The node that made the change drops them before it
//! answers. The desk of an ended sign-in is told too (`agent.{id}`: it closes). A node that
//! cannot hear the topic for a while (its broker link down) clears its cache when it listens
//! again; a lost broadcast is bounded by the cache's 30 s.

use std::sync::Arc;
use std::time::Instant;

use chrono::{Duration, Utc};
use futures_util::StreamExt;
use secrecy::{ExposeSecret, SecretString};

use crate::actors::protocol::{agent_route, revocations_route, AgentEvent, Revocation};
use crate::auth::{self, looks_like_jwt, token_hash, TokenCache};
use crate::bus::{publish_json, Bus, Subscription};
use crate::domain::{Agent, AgentId};
use crate::error::{ApiError, ErrorKind};
use crate::store::{Principal, Store};

/// Longest app token (JWT) accepted.
const MAX_APP_TOKEN_LEN: usize = 4096;
/// Longest opaque token accepted.
const MAX_OPAQUE_TOKEN_LEN: usize = 256;
/// Clock leeway for app tokens' `exp`/`nbf`.
const APP_TOKEN_LEEWAY_SECS: i64 = 30;
/// Pause before the revocation listener subscribes again after losing the bus.
const LISTENER_RESTART_DELAY: std::time::Duration = std::time::Duration::from_secs(1);

/// Why a staff account's sign-ins ended: the `code` of the `error` its desk gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The account was deactivated (`account_deactivated`).
    Deactivated,
    /// Its role changed or its password was reset (`signed_out`).
    SignedOut,
}

impl Ended {
    fn code(self) -> &'static str {
        match self {
            Ended::Deactivated => "account_deactivated",
            Ended::SignedOut => "signed_out",
        }
    }
}

/// The access service.
#[derive(Clone)]
pub struct AccessService {
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
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
    pub fn new(
        store: Arc<dyn Store>,
        bus: Arc<dyn Bus>,
        app_secret: SecretString,
        staff_token_ttl: Duration,
    ) -> Self {
        Self {
            store,
            bus,
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
            self.app_principal(&token, &hash).await?
        } else {
            self.store
                .token_principal(&hash, Utc::now())
                .await?
                .ok_or_else(ApiError::unauthenticated)?
        };
        self.tokens.put(hash, principal.clone(), checked);
        Ok(principal)
    }

    /// Verifies an app token's signature and times (not whether it was signed out).
    fn app_claims(&self, token: &str) -> Result<crate::signing::app_token::AppClaims, ApiError> {
        let secret = self.app_secret.expose_secret();
        if secret.is_empty() {
            return Err(ApiError::unauthenticated());
        }
        crate::signing::app_token::verify(
            secret.as_bytes(),
            token,
            Utc::now().timestamp(),
            APP_TOKEN_LEEWAY_SECS,
        )
        .map_err(|error| {
            tracing::info!(%error, "App token refused.");
            ApiError::unauthenticated()
        })
    }

    /// Verifies an app token (of hash `hash`), checks it was not signed out, and finds its
    /// customer.
    async fn app_principal(&self, token: &str, hash: &str) -> Result<Principal, ApiError> {
        let claims = self.app_claims(token)?;
        if self.store.app_token_revoked(hash, Utc::now()).await? {
            return Err(ApiError::unauthenticated());
        }
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

impl AccessService {
    /// Signs a token out (any token: staff, web visitor, app user): it stops working on every
    /// node. A staff sign-out is audited with the deletion; a desk opened with the token
    /// closes. An app token (never stored) is recorded as signed out until it expires.
    pub async fn sign_out(&self, token: Option<String>) -> Result<(), ApiError> {
        let token = token.ok_or_else(ApiError::unauthenticated)?;
        let hash = token_hash(&token);
        if looks_like_jwt(&token) {
            let claims = self.app_claims(&token)?;
            let expires = chrono::DateTime::from_timestamp(claims.exp, 0).unwrap_or_else(Utc::now)
                + Duration::seconds(APP_TOKEN_LEEWAY_SECS);
            self.store
                .revoke_app_token(&hash, expires, Utc::now())
                .await?;
        } else if let Some(Principal::Staff { agent_id, .. }) =
            self.store.delete_token(&hash, Utc::now()).await?
        {
            tracing::info!(agent = %agent_id, "Staff sign-out.");
            let ended = AgentEvent::SignedOut {
                token_hash: Some(hash.clone()),
                code: Ended::SignedOut.code().to_owned(),
            };
            self.tell(&agent_route(&agent_id), &ended).await;
        }
        self.revoke(Revocation::Token { token_hash: hash }).await;
        Ok(())
    }

    /// Every sign-in of a staff account ended (its tokens are deleted from the store already):
    /// this node forgets them at once, the others hear it over the bus, and the account's
    /// desk closes.
    pub async fn end_sign_ins(&self, agent_id: &AgentId, why: Ended) {
        let ended = AgentEvent::SignedOut {
            token_hash: None,
            code: why.code().to_owned(),
        };
        self.tell(&agent_route(agent_id), &ended).await;
        self.revoke(Revocation::Account {
            agent_id: agent_id.clone(),
        })
        .await;
    }

    /// Applies a revocation to this node's cache, then tells every node. A broadcast that
    /// fails is logged: the store already refuses the tokens, and other nodes' caches trust
    /// them 30 s at most.
    async fn revoke(&self, revocation: Revocation) {
        apply(&self.tokens, &revocation);
        self.tell(&revocations_route(), &revocation).await;
    }

    async fn tell<T: serde::Serialize>(&self, route: &crate::bus::Route, event: &T) {
        if let Err(error) = publish_json(self.bus.as_ref(), route, event).await {
            tracing::warn!(?route, %error, "Could not broadcast the end of a sign-in.");
        }
    }

    /// Listens to `access.revoked` (every node): each revocation drops its tokens from this
    /// node's cache. Subscribed before this returns, so nothing is missed once the node
    /// serves; subscribes again (and clears the cache: news may have been missed) when the
    /// bus connection is lost.
    pub async fn listen_for_revocations(&self) -> anyhow::Result<()> {
        let subscription = self.bus.subscribe(&revocations_route()).await?;
        actix_web::rt::spawn(listen(
            Arc::clone(&self.bus),
            Arc::clone(&self.tokens),
            subscription,
        ));
        Ok(())
    }
}

/// Drops what `revocation` ended from `tokens`.
fn apply(tokens: &TokenCache, revocation: &Revocation) {
    let now = Instant::now();
    match revocation {
        Revocation::Token { token_hash } => tokens.revoke_token(token_hash, now),
        Revocation::Account { agent_id } => tokens.revoke_account(agent_id, now),
    }
}

async fn listen(bus: Arc<dyn Bus>, tokens: Arc<TokenCache>, mut subscription: Subscription) {
    loop {
        while let Some(delivery) = subscription.next().await {
            let revocation = delivery.json::<Revocation>();
            if let Err(error) = delivery.ack().await {
                tracing::debug!(%error, "Ack of a revocation failed.");
            }
            match revocation {
                Ok(revocation) => apply(&tokens, &revocation),
                Err(error) => tracing::warn!(%error, "Dropped an undecodable revocation."),
            }
        }
        tracing::warn!("The revocation subscription ended; subscribing again.");
        subscription = loop {
            tokio::time::sleep(LISTENER_RESTART_DELAY).await;
            match bus.subscribe(&revocations_route()).await {
                Ok(subscription) => break subscription,
                Err(error) => tracing::warn!(%error, "Revocation subscription failed; retrying."),
            }
        };
        // Revocations published meanwhile were missed: verify every token afresh.
        tokens.clear();
    }
}
