//! The agent desk's WebSocket (`/v1/ws/agent`): authenticates the agent and hands the socket
//! to an [`crate::actors::agent_session::AgentSession`].

use std::sync::Arc;

use actix_web::{get, web, HttpRequest, HttpResponse};

use crate::actors::agent_session::AgentSession;
use crate::channels::auth::{authenticate, bearer_token, Authenticated};
use crate::channels::state::AppState;
use crate::domain::Permission;
use crate::socket;

#[utoipa::path(
    tag = "staff",
    operation_id = "agentWebSocket",
    summary = "Agent desk WebSocket (agent token, as Authorization or ?token=; supervisors get 403); see docs/api.md for frames",
    security(("bearer" = [])),
    params(
        ("token" = Option<String>, Query, description = "The bearer token, for clients that cannot set Authorization (an Authorization header takes precedence)"),
    ),
    responses(
        (status = 101, description = "Switching protocols"),
        (status = 400, response = crate::channels::openapi::errors::UpgradeRequired),
        (status = 401, response = crate::channels::openapi::errors::Unauthenticated),
        (status = 403, description = "`forbidden`: not a staff token (customers)", body = crate::channels::openapi::errors::ForbiddenError),
        (status = 503, response = crate::channels::openapi::errors::NotReady),
    ),
)]
#[get("/v1/ws/agent")]
pub(super) async fn agent_ws(
    req: HttpRequest,
    stream: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, actix_web::Error> {
    let token = bearer_token(&req);
    let token_hash = token
        .as_deref()
        .map(crate::auth::token_hash)
        .unwrap_or_default();
    let principal = authenticate(&state, token).await?;
    let (agent_id, _) = Authenticated(principal).require(Permission::ServeCustomers)?;
    let agent = state.access.staff_member(&agent_id).await?;
    let (store, bus) = state.for_actors();
    let frame_size = state.settings.http.body_limit_bytes;
    socket::start(&req, stream, frame_size, |socket| {
        AgentSession::new(
            agent,
            token_hash,
            socket,
            store,
            bus,
            Arc::clone(&state.metrics),
            state.settings.routing.away_reasons.clone(),
        )
    })
}
