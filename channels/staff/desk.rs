//! The agent desk's WebSocket (`/v1/ws/agent`): authenticates the agent and hands the socket
//! to an [`crate::actors::agent_session::AgentSession`].

use std::sync::Arc;

use actix_web::{get, web, HttpRequest, HttpResponse};

use crate::actors::agent_session::AgentSession;
use crate::channels::auth::{authenticate, bearer_token, Authenticated};
use crate::channels::state::AppState;
use crate::domain::Role;
use crate::error::ApiError;
use crate::socket;

#[get("/v1/ws/agent")]
pub(super) async fn agent_ws(
    req: HttpRequest,
    stream: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, actix_web::Error> {
    let principal = authenticate(&state, bearer_token(&req)).await?;
    let (agent_id, role) = Authenticated(principal).staff()?;
    if role != Role::Agent {
        return Err(ApiError::forbidden("Only agents can open the agent desk.").into());
    }
    let agent = state
        .store
        .agent(&agent_id)
        .await
        .map_err(ApiError::from)?
        .ok_or_else(ApiError::unauthenticated)?;
    let frame_size = state.settings.http.body_limit_bytes;
    socket::start(&req, stream, frame_size, |socket| {
        AgentSession::new(
            agent,
            socket,
            Arc::clone(&state.store),
            Arc::clone(&state.bus),
            Arc::clone(&state.metrics),
        )
    })
}
