//! Staff accounts and teams through the API (`/v1/staff`, `/v1/teams`): thin handlers over
//! [`crate::services::staff`], which scopes, validates, writes with the audit entry and sends
//! the notices a change owes (the dispatcher, the desks, every node's token cache).

use actix_web::{get, patch, post, web, HttpResponse};
use serde::Serialize;
use serde_json::json;

use crate::channels::auth::Authenticated;
use crate::channels::state::AppState;
use crate::domain::{AgentId, Permission, Problem};
use crate::error::ApiError;
use crate::services::staff::{Caller, NewStaff, NewTeam, Refused, StaffPatch, StaffView, TeamView};

/// The caller, if their role grants `permission` (403 otherwise).
fn caller(who: Authenticated, permission: Permission) -> Result<Caller, ApiError> {
    who.require(permission)
        .map(|(id, role)| Caller { id, role })
}

/// 422 `invalid` listing every problem with its place.
fn invalid(what: &str, problems: &[Problem]) -> HttpResponse {
    HttpResponse::UnprocessableEntity().json(json!({
        "error": {
            "code": "invalid",
            "message": format!("The {what} has {} problem(s); nothing was stored.", problems.len()),
        },
        "problems": problems,
    }))
}

/// The answer to a refused request: 422 with its problems, or the error.
fn refused(what: &str, refusal: Refused) -> Result<HttpResponse, ApiError> {
    match refusal {
        Refused::Invalid(problems) => Ok(invalid(what, &problems)),
        Refused::Api(error) => Err(error),
    }
}

/// `GET /v1/staff`.
#[derive(Serialize, utoipa::ToSchema)]
struct StaffList {
    staff: Vec<StaffView>,
}

/// `GET /v1/teams`.
#[derive(Serialize, utoipa::ToSchema)]
struct TeamList {
    teams: Vec<TeamView>,
}

/// The id of what was created.
#[derive(Serialize, utoipa::ToSchema)]
struct Created {
    id: String,
}

#[utoipa::path(
    tag = "staff",
    operation_id = "listStaff",
    summary = "Staff accounts, by username: every account for supervisors and admins, the members of the teams they lead for a team lead (agents: 403).",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The staff the caller may see", body = inline(StaffList)),
        (status = 401, response = crate::channels::openapi::errors::Unauthenticated),
        (status = 403, response = crate::channels::openapi::errors::Forbidden),
        (status = 503, response = crate::channels::openapi::errors::NotReady),
    ),
)]
#[get("/v1/staff")]
pub(super) async fn list_staff(
    state: web::Data<AppState>,
    who: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let caller = caller(who, Permission::Supervise)?;
    let staff = state.staff.list(&caller).await?;
    Ok(HttpResponse::Ok().json(StaffList { staff }))
}

#[utoipa::path(
    tag = "staff",
    operation_id = "createStaff",
    summary = "Create a staff account (admins only). Every problem is listed at once; the change is audited.",
    security(("bearer" = [])),
    request_body(
        content = NewStaff,
        example = json!({"username": "dora", "display_name": "Dora", "password": "a long secret phrase", "role": "agent", "skills": [{"name": "billing", "level": 3}], "languages": ["zh", "en"], "capacity": {"chat": 4}, "extension": "4021"}),
    ),
    responses(
        (status = 201, description = "Created", body = inline(Created)),
        (status = 400, response = crate::channels::openapi::errors::BadRequest),
        (status = 401, response = crate::channels::openapi::errors::Unauthenticated),
        (status = 403, response = crate::channels::openapi::errors::Forbidden),
        (status = 409, description = "`username_taken`: another account has this username (whatever its case)", body = crate::channels::openapi::errors::UsernameTakenError),
        (status = 413, response = crate::channels::openapi::errors::PayloadTooLarge),
        (status = 415, response = crate::channels::openapi::errors::UnsupportedMediaType),
        (status = 422, response = crate::channels::openapi::errors::InvalidStaff),
        (status = 503, response = crate::channels::openapi::errors::NotReady),
    ),
)]
#[post("/v1/staff")]
pub(super) async fn create_staff(
    state: web::Data<AppState>,
    who: Authenticated,
    body: web::Json<NewStaff>,
) -> Result<HttpResponse, ApiError> {
    let caller = caller(who, Permission::ManageStaff)?;
    match state.staff.create(body.into_inner(), &caller).await {
        Ok(id) => Ok(HttpResponse::Created().json(Created { id: id.to_string() })),
        Err(refusal) => refused("account", refusal),
    }
}

#[utoipa::path(
    tag = "staff",
    operation_id = "patchStaff",
    summary = "Change a staff account: admins every field; supervisors, and team leads for the agents of the teams they lead, only skills, languages and capacity (403 for other fields or accounts). A routing change reaches the dispatcher at once; a role change or password reset ends every sign-in of the account.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Staff id")),
    request_body(
        content = StaffPatch,
        example = json!({"skills": [{"name": "refunds", "level": 4}], "capacity": {"chat": 5}}),
    ),
    responses(
        (status = 200, description = "The account after the change", body = StaffView),
        (status = 400, response = crate::channels::openapi::errors::BadRequest),
        (status = 401, response = crate::channels::openapi::errors::Unauthenticated),
        (status = 403, response = crate::channels::openapi::errors::Forbidden),
        (status = 404, response = crate::channels::openapi::errors::NotFound),
        (status = 409, description = "`username_taken`: another account has the new username; `conflict`: the account kept changing meanwhile", body = crate::channels::openapi::errors::UsernameTakenOrConflictError),
        (status = 413, response = crate::channels::openapi::errors::PayloadTooLarge),
        (status = 415, response = crate::channels::openapi::errors::UnsupportedMediaType),
        (status = 422, response = crate::channels::openapi::errors::InvalidStaff),
        (status = 503, response = crate::channels::openapi::errors::NotReady),
    ),
)]
#[patch("/v1/staff/{id}")]
pub(super) async fn patch_staff(
    state: web::Data<AppState>,
    who: Authenticated,
    id: web::Path<String>,
    body: web::Json<StaffPatch>,
) -> Result<HttpResponse, ApiError> {
    let caller = caller(who, Permission::Supervise)?;
    let id = AgentId::from_trusted(id.into_inner());
    match state.staff.patch(&id, body.into_inner(), &caller).await {
        Ok(view) => Ok(HttpResponse::Ok().json(view)),
        Err(refusal) => refused("change", refusal),
    }
}

#[utoipa::path(
    tag = "staff",
    operation_id = "deactivateStaff",
    summary = "Deactivate a staff account (admins only): it cannot sign in any more, every token of it answers 401 at once on every node, its desk closes, its offers go to others and its open conversations are routed again. Audited; repeating it changes nothing.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Staff id")),
    responses(
        (status = 200, description = "The account, now inactive", body = StaffView),
        (status = 401, response = crate::channels::openapi::errors::Unauthenticated),
        (status = 403, response = crate::channels::openapi::errors::Forbidden),
        (status = 404, response = crate::channels::openapi::errors::NotFound),
        (status = 409, description = "`conflict`: an admin cannot deactivate their own account", body = crate::channels::openapi::errors::ConflictError),
        (status = 503, response = crate::channels::openapi::errors::NotReady),
    ),
)]
#[post("/v1/staff/{id}/deactivate")]
pub(super) async fn deactivate_staff(
    state: web::Data<AppState>,
    who: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let caller = caller(who, Permission::ManageStaff)?;
    let id = AgentId::from_trusted(id.into_inner());
    let view = state.staff.deactivate(&id, &caller).await?;
    Ok(HttpResponse::Ok().json(view))
}

#[utoipa::path(
    tag = "staff",
    operation_id = "listTeams",
    summary = "Teams with their leads and members, by name (any staff member).",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every team", body = inline(TeamList)),
        (status = 401, response = crate::channels::openapi::errors::Unauthenticated),
        (status = 403, response = crate::channels::openapi::errors::Forbidden),
        (status = 503, response = crate::channels::openapi::errors::NotReady),
    ),
)]
#[get("/v1/teams")]
pub(super) async fn list_teams(
    state: web::Data<AppState>,
    who: Authenticated,
) -> Result<HttpResponse, ApiError> {
    caller(who, Permission::ServeCustomers)?;
    let teams = state.staff.teams().await?;
    Ok(HttpResponse::Ok().json(TeamList { teams }))
}

#[utoipa::path(
    tag = "staff",
    operation_id = "createTeam",
    summary = "Create a team (admins only). Every problem is listed at once; the change is audited.",
    security(("bearer" = [])),
    request_body(
        content = NewTeam,
        example = json!({"name": "Refunds", "leads": ["agt_0190a3b2c4d5e6f7a8b9c0d1e2f3a4b5"], "members": ["agt_0190a3b2c4d5e6f7a8b9c0d1e2f3a4b6"]}),
    ),
    responses(
        (status = 201, description = "Created", body = inline(Created)),
        (status = 400, response = crate::channels::openapi::errors::BadRequest),
        (status = 401, response = crate::channels::openapi::errors::Unauthenticated),
        (status = 403, response = crate::channels::openapi::errors::Forbidden),
        (status = 409, description = "`name_taken`: another team has this name (whatever its case)", body = crate::channels::openapi::errors::NameTakenError),
        (status = 413, response = crate::channels::openapi::errors::PayloadTooLarge),
        (status = 415, response = crate::channels::openapi::errors::UnsupportedMediaType),
        (status = 422, response = crate::channels::openapi::errors::InvalidStaff),
        (status = 503, response = crate::channels::openapi::errors::NotReady),
    ),
)]
#[post("/v1/teams")]
pub(super) async fn create_team(
    state: web::Data<AppState>,
    who: Authenticated,
    body: web::Json<NewTeam>,
) -> Result<HttpResponse, ApiError> {
    let caller = caller(who, Permission::ManageStaff)?;
    match state.staff.create_team(body.into_inner(), &caller).await {
        Ok(id) => Ok(HttpResponse::Created().json(Created { id: id.to_string() })),
        Err(refusal) => refused("team", refusal),
    }
}
