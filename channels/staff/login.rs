//! Staff and customer sign-in: `POST /v1/auth/login` (staff accounts, argon2id, the same
//! answer for an unknown user and a wrong password), `POST /v1/auth/logout` (any token stops
//! working, on every node) and `GET /v1/me` (who a token speaks for).

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use crate::channels::auth::{bearer_token, Authenticated};
use crate::channels::state::AppState;
use crate::domain::{Channel, Role};
use crate::error::ApiError;
use crate::store::Principal;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct LoginRequest {
    username: String,
    password: String,
}

#[derive(Serialize, utoipa::ToSchema)]
struct LoginResponse {
    token: String,
    role: Role,
    /// Agents only
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    agent_id: Option<String>,
}

#[utoipa::path(
    tag = "staff",
    operation_id = "login",
    summary = "Agent/supervisor login. Unknown user and wrong password get the same 401.",
    security(),
    request_body(
        content = inline(LoginRequest),
        example = json!({"username": "sam", "password": "demo"}),
    ),
    responses(
        (status = 200, description = "Token", body = inline(LoginResponse)),
        (status = 400, response = crate::channels::openapi::errors::BadRequest),
        (status = 401, description = "`invalid_credentials`: unknown username or wrong password", body = crate::channels::openapi::errors::InvalidCredentialsError),
        (status = 413, response = crate::channels::openapi::errors::PayloadTooLarge),
        (status = 415, response = crate::channels::openapi::errors::UnsupportedMediaType),
        (status = 422, response = crate::channels::openapi::errors::InvalidRequest),
        (status = 429, description = "`too_many_attempts`: 10 failed logins for this username, or from this address, within 15 minutes; refused (even with the right password) until the window passes", body = crate::channels::openapi::errors::TooManyAttemptsError, headers(
            ("Retry-After" = crate::channels::openapi::errors::RetryAfterSeconds, description = "Seconds to wait before retrying"),
        )),
        (status = 503, description = "`not_ready`: the store is unavailable, or the node is busy checking other sign-ins (256 waiting, or 5 s waited; with Retry-After)", body = crate::channels::openapi::errors::NotReadyError),
    ),
)]
#[post("/v1/auth/login")]
pub(super) async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let LoginRequest { username, password } = body.into_inner();
    let source = req.peer_addr().map(|a| a.ip());
    let (token, agent) = state.access.login(&username, password, source).await?;
    Ok(HttpResponse::Ok().json(LoginResponse {
        token,
        role: agent.role,
        agent_id: (agent.role == Role::Agent).then(|| agent.id.to_string()),
    }))
}

/// Who a token speaks for: the desk and the console learn their own id and name from it
/// (the login answer carries no id for supervisors).
#[derive(Serialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Me {
    Staff {
        agent_id: String,
        username: String,
        name: String,
        role: Role,
        skills: Vec<crate::domain::Skill>,
        languages: Vec<crate::domain::Language>,
    },
    Customer {
        customer_id: String,
        #[schema(schema_with = crate::channels::openapi::bodies::web_or_app)]
        channel: Channel,
    },
}

#[utoipa::path(
    tag = "staff",
    operation_id = "me",
    summary = "Who the token speaks for: staff or customer (web visitor or app user)",
    security(("bearer" = []), ("appToken" = [])),
    responses(
        (status = 200, description = "The token holder", body = inline(Me)),
        (status = 401, response = crate::channels::openapi::errors::Unauthenticated),
        (status = 503, response = crate::channels::openapi::errors::NotReady),
    ),
)]
#[get("/v1/me")]
pub(super) async fn me(
    state: web::Data<AppState>,
    who: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let me = match who.0 {
        Principal::Staff { agent_id, .. } => {
            let agent = state.access.staff_member(&agent_id).await?;
            Me::Staff {
                agent_id: agent.id.to_string(),
                username: agent.username,
                name: agent.display_name,
                role: agent.role,
                skills: agent.skills,
                languages: agent.languages,
            }
        }
        Principal::Customer(id) => Me::Customer {
            customer_id: id.to_string(),
            channel: Channel::Web,
        },
        Principal::AppUser(id) => Me::Customer {
            customer_id: id.to_string(),
            channel: Channel::App,
        },
    };
    Ok(HttpResponse::Ok().json(me))
}

#[utoipa::path(
    tag = "staff",
    operation_id = "logout",
    summary = "Sign out: the token stops working at once on every node (staff, web visitor or app user token). A staff sign-out is audited and closes a desk opened with the token.",
    security(("bearer" = []), ("appToken" = [])),
    responses(
        (status = 204, description = "Signed out"),
        (status = 401, response = crate::channels::openapi::errors::Unauthenticated),
        (status = 503, response = crate::channels::openapi::errors::NotReady),
    ),
)]
#[post("/v1/auth/logout")]
pub(super) async fn logout(
    req: HttpRequest,
    state: web::Data<AppState>,
    _who: Authenticated,
) -> Result<HttpResponse, ApiError> {
    state.access.sign_out(bearer_token(&req)).await?;
    Ok(HttpResponse::NoContent().finish())
}
