//! Who is calling: the bearer token of a request (header, or `?token=` for WebSockets),
//! resolved to its holder — a web visitor, an app user (HS256 JWT of the app backend) or a
//! staff member — and the [`Authenticated`] extractor every handler takes.

use std::future::Future;
use std::pin::Pin;

use actix_web::{dev::Payload, http::header, web, FromRequest, HttpRequest};

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

/// Resolves a token to its holder, or 401 (see [`crate::services::access`]).
pub async fn authenticate(state: &AppState, token: Option<String>) -> Result<Principal, ApiError> {
    state.access.authenticate(token).await
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
