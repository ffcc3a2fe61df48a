//! Live supervision over HTTP: the board of open conversations and an agent's activity
//! timeline. Thin handlers over [`crate::services::supervision`] (which scopes a team lead to
//! the teams they lead). Monitor, whisper, barge and reassign are agent-socket commands.

use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::channels::auth::Authenticated;
use crate::channels::state::AppState;
use crate::domain::{AgentId, Permission};
use crate::error::ApiError;
use crate::services::staff::Caller;
use crate::services::supervision::{BoardEntry, BoardFilter};
use crate::store::ActivityEntry;

/// `GET /v1/conversations`.
#[derive(Serialize, utoipa::ToSchema)]
struct Board {
    conversations: Vec<BoardEntry>,
}

/// `GET /v1/staff/{id}/activity`.
#[derive(Serialize, utoipa::ToSchema)]
struct Activity {
    entries: Vec<ActivityEntry>,
}

/// The window of `GET /v1/staff/{id}/activity` (default: the last 24 hours).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct Window {
    /// RFC 3339; default `to` minus 24 hours
    from: Option<DateTime<Utc>>,
    /// RFC 3339; default now; at most 31 days after `from`
    to: Option<DateTime<Utc>>,
}

fn supervisor(who: Authenticated) -> Result<Caller, ApiError> {
    who.require(Permission::Supervise)
        .map(|(id, role)| Caller { id, role })
}

#[utoipa::path(
    tag = "supervision",
    operation_id = "liveConversations",
    summary = "The live board: open conversations (queued and assigned first, then the bot's; at most 500 read), filtered by status, queue, team, agent and waiting time. A team lead sees the conversations of the agents of the teams they lead.",
    security(("bearer" = [])),
    params(BoardFilter),
    responses(
        (status = 200, description = "Open conversations", body = inline(Board)),
        (status = 401, response = crate::channels::openapi::errors::Unauthenticated),
        (status = 403, response = crate::channels::openapi::errors::Forbidden),
        (status = 404, response = crate::channels::openapi::errors::NotFound),
        (status = 422, response = crate::channels::openapi::errors::InvalidQuery),
        (status = 503, response = crate::channels::openapi::errors::NotReady),
    ),
)]
#[get("/v1/conversations")]
pub(super) async fn live_conversations(
    state: web::Data<AppState>,
    who: Authenticated,
    filter: web::Query<BoardFilter>,
) -> Result<HttpResponse, ApiError> {
    let caller = supervisor(who)?;
    let conversations = state.supervision.conversations(&caller, &filter).await?;
    Ok(HttpResponse::Ok().json(Board { conversations }))
}

#[utoipa::path(
    tag = "supervision",
    operation_id = "agentActivity",
    summary = "An agent's activity timeline: their state when the window opens, then every change (available, away with its reason, offline), oldest first. A team lead reads the agents of the teams they lead.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Staff id"), Window),
    responses(
        (status = 200, description = "The timeline", body = inline(Activity)),
        (status = 401, response = crate::channels::openapi::errors::Unauthenticated),
        (status = 403, response = crate::channels::openapi::errors::Forbidden),
        (status = 404, response = crate::channels::openapi::errors::NotFound),
        (status = 422, response = crate::channels::openapi::errors::InvalidQuery),
        (status = 503, response = crate::channels::openapi::errors::NotReady),
    ),
)]
#[get("/v1/staff/{id}/activity")]
pub(super) async fn agent_activity(
    state: web::Data<AppState>,
    who: Authenticated,
    path: web::Path<String>,
    window: web::Query<Window>,
) -> Result<HttpResponse, ApiError> {
    let caller = supervisor(who)?;
    let id = AgentId::from_trusted(path.into_inner());
    let entries = state
        .supervision
        .activity(&caller, &id, window.from, window.to)
        .await?;
    Ok(HttpResponse::Ok().json(Activity { entries }))
}
