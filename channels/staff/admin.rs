//! Staff accounts and teams through the API (`/v1/staff`, `/v1/teams`): thin handlers over
//! [`crate::services::staff`], which scopes, validates, writes with the audit entry and sends
//! the notices a change owes (the dispatcher, the desks, every node's token cache).

use actix_web::http::header;
use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::channels::auth::Authenticated;
use crate::channels::state::AppState;
use crate::domain::{AgentId, Permission, Problem};
use crate::error::{ApiError, ErrorKind};
use crate::services::staff::{
    Caller, Imported, NewStaff, NewTeam, Refused, StaffPatch, StaffView, TeamView,
};
use crate::services::staff_import::{ImportProblem, PreviewRow};

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

/// `POST /v1/staff/import?dry_run=true`: the file checked.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ImportPreview {
    /// Account rows read (blank rows not counted)
    rows: usize,
    /// Rows without a problem
    valid: usize,
    /// Every problem of every row, by row then column (empty: the import would create every
    /// account)
    problems: Vec<ImportProblem>,
    /// The first 50 rows as they will be stored (a row with problems: as far as it was read)
    preview: Vec<PreviewRow>,
}

/// An account the import created.
#[derive(Serialize, utoipa::ToSchema)]
struct CreatedAccount {
    id: String,
    username: String,
}

/// `POST /v1/staff/import`: every account of the file, in file order.
#[derive(Serialize, utoipa::ToSchema)]
struct ImportCreated {
    created: Vec<CreatedAccount>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(super) struct ImportQuery {
    /// `true`: check the file and answer what an import would do (200), storing nothing
    #[param(nullable = false, default = false)]
    dry_run: Option<bool>,
}

/// `POST /v1/staff/import[?dry_run=true]` with a CSV file (`text/csv`, see
/// [`crate::services::staff_import`]).
#[utoipa::path(
    post,
    path = "/v1/staff/import",
    tag = "staff",
    operation_id = "importStaff",
    summary = "Create many staff accounts from a CSV file (admins only), all or none: up to 1,000 rows and 2 MiB. With dry_run=true the file is checked and nothing is stored. Every problem of every row is listed at once; each account is audited as a single creation.",
    security(("bearer" = [])),
    params(ImportQuery),
    request_body(
        content = inline(crate::channels::openapi::bodies::StaffCsv),
        content_type = "text/csv",
        example = json!("username,display_name,role,password,skills,languages,chat_capacity,teams,extension\nli.wei,Li Wei,agent,a long secret phrase,billing:4;refunds:2,zh;en,4,Refunds,4021\n"),
    ),
    responses(
        (status = 200, description = "dry_run=true: what the import would do", body = ImportPreview),
        (status = 201, description = "Every account of the file was created", body = inline(ImportCreated)),
        (status = 400, description = "`malformed_body`: the body is not UTF-8, or could not be read", body = crate::channels::openapi::errors::MalformedBodyError),
        (status = 401, response = crate::channels::openapi::errors::Unauthenticated),
        (status = 403, response = crate::channels::openapi::errors::Forbidden),
        (status = 409, description = "`username_taken`: an account took one of the file's usernames while it was imported; nothing was stored", body = crate::channels::openapi::errors::UsernameTakenError),
        (status = 413, description = "`payload_too_large`: over 2 MiB", body = crate::channels::openapi::errors::PayloadTooLargeError),
        (status = 415, description = "`unsupported_media_type`: not text/csv", body = crate::channels::openapi::errors::UnsupportedMediaTypeError),
        (status = 422, description = "`invalid` listing every problem of every row (nothing was stored); `invalid_request`: an invalid query string", body = crate::channels::openapi::errors::InvalidImportOrInvalidRequestErrorWithProblems),
        (status = 503, response = crate::channels::openapi::errors::NotReady),
    ),
)]
pub(super) async fn import_staff(
    state: web::Data<AppState>,
    who: Authenticated,
    req: HttpRequest,
    query: web::Query<ImportQuery>,
    body: Result<web::Bytes, actix_web::Error>,
) -> Result<HttpResponse, ApiError> {
    let caller = caller(who, Permission::ManageStaff)?;
    let essence = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    if essence != "text/csv" {
        return Err(ApiError::new(
            ErrorKind::UnsupportedMediaType,
            "Send the accounts as text/csv.",
        ));
    }
    let body = body.map_err(crate::channels::provider::body_error)?;
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::new(ErrorKind::MalformedBody, "The body is not UTF-8."))?;
    let dry_run = query.dry_run.unwrap_or(false);
    match state.staff.import(text, dry_run, &caller).await? {
        Imported::Checked(check) => Ok(HttpResponse::Ok().json(ImportPreview {
            rows: check.rows,
            valid: check.valid,
            problems: check.problems,
            preview: check.preview,
        })),
        Imported::Invalid(check) => {
            let rows: std::collections::BTreeSet<usize> =
                check.problems.iter().map(|p| p.row).collect();
            Ok(HttpResponse::UnprocessableEntity().json(json!({
                "error": {
                    "code": "invalid",
                    "message": format!(
                        "The file has {} problem(s) in {} row(s); nothing was stored.",
                        check.problems.len(),
                        rows.len()
                    ),
                },
                "problems": check.problems,
            })))
        }
        Imported::Created(created) => Ok(HttpResponse::Created().json(ImportCreated {
            created: created
                .into_iter()
                .map(|(id, username)| CreatedAccount {
                    id: id.to_string(),
                    username,
                })
                .collect(),
        })),
    }
}
