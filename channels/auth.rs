//! Who is calling: the bearer token of a request (header, or `?token=` for WebSockets),
//! resolved to its holder — a web visitor, an app user (HS256 JWT of the app backend) or a
//! staff member — and the [`Authenticated`] extractor every handler takes.

use std::future::Future;
use std::pin::Pin;
use std::time::Instant;

use actix_web::{dev::Payload, http::header, web, FromRequest, HttpRequest};
use chrono::Utc;

use crate::auth::{looks_like_jwt, token_hash};
use crate::channels::state::AppState;
use crate::domain::{AgentId, CustomerId, Role};
use crate::error::ApiError;
use crate::store::Principal;

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

/// Longest app token (JWT) accepted.
const MAX_APP_TOKEN_LEN: usize = 4096;
/// Clock leeway for app tokens' `exp`/`nbf`.
const APP_TOKEN_LEEWAY_SECS: i64 = 30;

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
