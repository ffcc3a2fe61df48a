//! The supervisors' API for routing rules (API.md "Supervisors"): read the rule set in force,
//! store a new version (validated, every problem reported at once), activate a version (or an
//! older one: rollback). Versions are immutable and every change is audited by the store.
//! Also: validation without storing, the versions with their diffs, the audit history,
//! temporary overrides, the dry-run of a version on recorded traffic ([`crate::routing::simulate`]),
//! and the explanation of a task's routing (`/v1/tasks/{id}/routing`).
//!
//! Activation is one store transaction; the dispatcher is told at once over the bus and loads
//! the version in force from the store, so the next routing decision uses it (a standby that
//! takes over later loads it too).

use actix_web::{delete, get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;

use crate::channels::auth::Authenticated;
use crate::channels::state::AppState;
use crate::domain::Problem;
use crate::domain::{AgentId, Permission, TaskId};
use crate::error::ApiError;
use crate::routing::simulate::SimSettings;
use crate::services::routing::OverrideRequest;

/// Registers the routes (fixed paths before `{version}` ones).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(active_rules)
        .service(validate_rules)
        .service(rule_versions)
        .service(create_rules)
        .service(rule_version)
        .service(activate_rules)
        .service(dry_run)
        .service(history)
        .service(create_override)
        .service(list_overrides)
        .service(end_override)
        .service(task_routing);
}

/// The supervisor (or admin) making the call, or 403.
fn supervisor(who: Authenticated) -> Result<AgentId, ApiError> {
    who.require(Permission::ManageRouting)
        .map(|(agent_id, _)| agent_id)
}

/// 422 listing every problem with its place.
fn invalid_rules(problems: &[Problem]) -> HttpResponse {
    HttpResponse::UnprocessableEntity().json(json!({
        "error": {
            "code": "invalid_rules",
            "message": format!("The rule set has {} problem(s); nothing was stored.", problems.len()),
        },
        "problems": problems,
    }))
}

#[utoipa::path(
    tag = "routing",
    operation_id = "activeRules",
    summary = "The rule set in force (version 0: built-in defaults). Supervisors only (agents and customers: 403).",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Active rule set", body = inline(crate::channels::openapi::bodies::ActiveRules), links(
            ("GetActiveVersion" = (operation_id = "ruleVersion", parameters(("path.version" = "$response.body#/version")))),
            ("ResubmitActiveRules" = (operation_id = "createRules", description = "Edit the rule set in force and store it as a new version: send its rules and queues (not the metadata)", request_body = json!({"rules": "$response.body#/rules", "queues": "$response.body#/queues"}))),
        )),
        (status = 401, response = crate::channels::openapi::errors::Unauthenticated),
        (status = 403, response = crate::channels::openapi::errors::Forbidden),
        (status = 503, response = crate::channels::openapi::errors::NotReady),
    ),
)]
#[get("/v1/routing/rules")]
async fn active_rules(
    state: web::Data<AppState>,
    who: Authenticated,
) -> Result<HttpResponse, ApiError> {
    supervisor(who)?;
    let body = match state.routing.active().await? {
        Some(active) => json!({
            "version": active.rule_set.version,
            "rules": active.rule_set.document.get("rules").cloned().unwrap_or_else(|| json!([])),
            "queues": active.rule_set.document.get("queues").cloned().unwrap_or_else(|| json!({})),
            "created_by": active.rule_set.created_by,
            "created_at": active.rule_set.created_at,
            "activated_by": active.activated_by,
            "activated_at": active.activated_at,
        }),
        None => json!({
            "version": 0,
            "rules": [],
            "builtin": true,
            "description": "No rule set was activated: a task keeps the skills and priority of its hand-off and drops its skills after routing.overflow_after_ms.",
        }),
    };
    Ok(HttpResponse::Ok().json(body))
}

#[utoipa::path(
    tag = "routing",
    operation_id = "createRules",
    summary = "Store a new rule-set version (validated, every problem reported; not active). Supervisors only (agents and customers: 403).",
    security(("bearer" = [])),
    request_body(content = crate::routing::rules::RuleSetDoc, example = json!({"rules": [{"name": "refunds", "when": "intent == 'refund'", "queue": "refunds", "skills": [{"name": "refunds", "min_level": 4}], "aging_per_minute": 2, "overflow": [{"after_secs": 30, "skills": [{"name": "refunds", "min_level": 2}]}, {"after_secs": 300, "queue": "general"}], "strategy": "best_skill", "sticky_secs": 30}, {"name": "general", "queue": "general", "sticky_secs": 30}], "queues": {"refunds": {"hours": [{"days": [1, 2, 3, 4, 5], "from": "09:00", "to": "18:00"}], "utc_offset_minutes": 480, "max_wait_secs": 1200, "fallback": "ticket"}}})),
    responses(
        (status = 201, description = "Stored", body = inline(crate::channels::openapi::bodies::StoredVersion), links(
            ("GetCreatedVersion" = (operation_id = "ruleVersion", parameters(("path.version" = "$response.body#/version")))),
            ("ActivateCreatedVersion" = (operation_id = "activateRules", parameters(("path.version" = "$response.body#/version")))),
            ("DryRunCreatedVersion" = (operation_id = "dryRun", parameters(("path.version" = "$response.body#/version")))),
        )),
        (status = 400, response = crate::channels::openapi::errors::BadRequest),
        (status = 401, response = crate::channels::openapi::errors::Unauthenticated),
        (status = 403, response = crate::channels::openapi::errors::Forbidden),
        (status = 413, response = crate::channels::openapi::errors::PayloadTooLarge),
        (status = 415, response = crate::channels::openapi::errors::UnsupportedMediaType),
        (status = 422, response = crate::channels::openapi::errors::InvalidRules),
        (status = 503, response = crate::channels::openapi::errors::NotReady),
    ),
)]
#[post("/v1/routing/rules")]
async fn create_rules(
    state: web::Data<AppState>,
    who: Authenticated,
    body: web::Json<serde_json::Value>,
) -> Result<HttpResponse, ApiError> {
    let by = supervisor(who)?;
    Ok(match state.routing.create(body.into_inner(), &by).await? {
        Ok(version) => HttpResponse::Created().json(json!({ "version": version })),
        Err(problems) => invalid_rules(&problems),
    })
}

/// Validates without storing: 200 `{"valid": true}` or the 422 of `POST /v1/routing/rules`.
#[utoipa::path(
    tag = "routing",
    operation_id = "validateRules",
    summary = "Validate a rule set without storing it. Supervisors only (agents and customers: 403).",
    security(("bearer" = [])),
    request_body(content = crate::routing::rules::RuleSetDoc, example = json!({"rules": [{"name": "refunds", "when": "intent == 'refund'", "queue": "refunds", "skills": [{"name": "refunds", "min_level": 4}], "aging_per_minute": 2, "overflow": [{"after_secs": 30, "skills": [{"name": "refunds", "min_level": 2}]}, {"after_secs": 300, "queue": "general"}], "strategy": "best_skill", "sticky_secs": 30}, {"name": "general", "queue": "general", "sticky_secs": 30}], "queues": {"refunds": {"hours": [{"days": [1, 2, 3, 4, 5], "from": "09:00", "to": "18:00"}], "utc_offset_minutes": 480, "max_wait_secs": 1200, "fallback": "ticket"}}})),
    responses(
        (status = 200, description = "Valid", body = inline(crate::channels::openapi::bodies::Valid)),
        (status = 400, response = crate::channels::openapi::errors::BadRequest),
        (status = 401, response = crate::channels::openapi::errors::Unauthenticated),
        (status = 403, response = crate::channels::openapi::errors::Forbidden),
        (status = 413, response = crate::channels::openapi::errors::PayloadTooLarge),
        (status = 415, response = crate::channels::openapi::errors::UnsupportedMediaType),
        (status = 422, response = crate::channels::openapi::errors::InvalidRules),
        (status = 503, response = crate::channels::openapi::errors::NotReady),
    ),
)]
#[post("/v1/routing/rules/validate")]
async fn validate_rules(
    state: web::Data<AppState>,
    who: Authenticated,
    body: web::Json<serde_json::Value>,
) -> Result<HttpResponse, ApiError> {
    supervisor(who)?;
    Ok(match state.routing.validate(body.into_inner()).await? {
        Ok(_) => HttpResponse::Ok().json(json!({ "valid": true })),
        Err(problems) => invalid_rules(&problems),
    })
}

/// Every version, newest first, each with its diff against the version before it.
#[utoipa::path(
    tag = "routing",
    operation_id = "ruleVersions",
    summary = "Every version, newest first, each with its diff against the version before it. Supervisors only (agents and customers: 403).",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Versions", body = inline(crate::channels::openapi::bodies::RuleVersions), links(
            ("GetNewestVersion" = (operation_id = "ruleVersion", parameters(("path.version" = "$response.body#/versions/0/version")))),
            ("ActivateNewestVersion" = (operation_id = "activateRules", parameters(("path.version" = "$response.body#/versions/0/version")))),
            ("DryRunNewestVersion" = (operation_id = "dryRun", parameters(("path.version" = "$response.body#/versions/0/version")))),
        )),
        (status = 401, response = crate::channels::openapi::errors::Unauthenticated),
        (status = 403, response = crate::channels::openapi::errors::Forbidden),
        (status = 503, response = crate::channels::openapi::errors::NotReady),
    ),
)]
#[get("/v1/routing/rules/versions")]
async fn rule_versions(
    state: web::Data<AppState>,
    who: Authenticated,
) -> Result<HttpResponse, ApiError> {
    supervisor(who)?;
    let (active, versions) = state.routing.versions().await?;
    let versions: Vec<serde_json::Value> = versions
        .iter()
        .rev()
        .map(|version| {
            json!({
                "version": version.stored.version,
                "created_by": version.stored.created_by,
                "created_at": version.stored.created_at,
                "active": version.active,
                "rule_names": version.doc.rules.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
                "diff": version.diff,
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "active": active, "versions": versions })))
}

/// One version's document.
#[utoipa::path(
    tag = "routing",
    operation_id = "ruleVersion",
    summary = "One version's document. Supervisors only (agents and customers: 403).",
    security(("bearer" = [])),
    params(
        ("version" = i64, Path, description = "A rule-set version (not an integer: 404)"),
    ),
    responses(
        (status = 200, description = "The version", body = inline(crate::channels::openapi::bodies::RuleVersion), links(
            ("ResubmitVersion" = (operation_id = "validateRules", description = "A version's rules and queues are a valid rule set", request_body = json!({"rules": "$response.body#/rules", "queues": "$response.body#/queues"}))),
        )),
        (status = 401, response = crate::channels::openapi::errors::Unauthenticated),
        (status = 403, response = crate::channels::openapi::errors::Forbidden),
        (status = 404, response = crate::channels::openapi::errors::NotFound),
        (status = 503, response = crate::channels::openapi::errors::NotReady),
    ),
)]
#[get("/v1/routing/rules/{version}")]
async fn rule_version(
    state: web::Data<AppState>,
    who: Authenticated,
    version: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    supervisor(who)?;
    let version = state.routing.version(version.into_inner()).await?;
    Ok(HttpResponse::Ok().json(json!({
        "version": version.stored.version,
        "rules": version.doc.rules,
        "queues": version.doc.queues,
        "created_by": version.stored.created_by,
        "created_at": version.stored.created_at,
        "active": version.active,
    })))
}

#[utoipa::path(
    tag = "routing",
    operation_id = "activateRules",
    summary = "Put a version in force (an older one: rollback; audited). Supervisors only (agents and customers: 403).",
    security(("bearer" = [])),
    params(
        ("version" = i64, Path, description = "A rule-set version (not an integer: 404)"),
    ),
    responses(
        (status = 200, description = "In force", body = inline(crate::channels::openapi::bodies::Activated)),
        (status = 401, response = crate::channels::openapi::errors::Unauthenticated),
        (status = 403, response = crate::channels::openapi::errors::Forbidden),
        (status = 404, response = crate::channels::openapi::errors::NotFound),
        (status = 503, response = crate::channels::openapi::errors::NotReady),
    ),
)]
#[post("/v1/routing/rules/{version}/activate")]
async fn activate_rules(
    state: web::Data<AppState>,
    who: Authenticated,
    version: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let by = supervisor(who)?;
    let version = version.into_inner();
    let previous = state.routing.activate(version, &by).await?;
    Ok(HttpResponse::Ok().json(json!({ "version": version, "previous": previous })))
}

/// The window of a dry-run.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct DryRunRequest {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    /// How long a customer who did not abandon is assumed to wait at most (default 300 s).
    #[serde(default)]
    #[schema(nullable = false)]
    patience_secs: Option<u64>,
}

/// Replays the recorded traffic of `[from, to)` with this version and with the version in
/// force, and compares them (see [`crate::routing::simulate`]).
#[utoipa::path(
    tag = "routing",
    operation_id = "dryRun",
    summary = "Replay the recorded traffic of [from, to) with this version and with the version in force, and compare. One at a time per node. Supervisors only (agents and customers: 403).",
    security(("bearer" = [])),
    params(
        ("version" = i64, Path, description = "A rule-set version (not an integer: 404)"),
    ),
    request_body(
        content = inline(DryRunRequest),
        example = json!({"from": "2026-01-05T00:00:00Z", "to": "2026-01-06T00:00:00Z", "patience_secs": 300}),
    ),
    responses(
        (status = 200, description = "The comparison", body = inline(crate::channels::openapi::bodies::DryRunAnswer)),
        (status = 400, response = crate::channels::openapi::errors::BadRequest),
        (status = 401, response = crate::channels::openapi::errors::Unauthenticated),
        (status = 403, response = crate::channels::openapi::errors::Forbidden),
        (status = 404, description = "`not_found`: no such version", body = crate::channels::openapi::errors::NotFoundError),
        (status = 413, response = crate::channels::openapi::errors::PayloadTooLarge),
        (status = 415, response = crate::channels::openapi::errors::UnsupportedMediaType),
        (status = 422, description = "`invalid_request`: the body's shape, from not before to, a window over 31 days; `invalid_rules` (with problems): a stored version that no longer compiles", body = crate::channels::openapi::errors::InvalidRequestOrInvalidRulesErrorWithProblems),
        (status = 429, description = "`rate_limited`: a dry-run is already running on this node", body = crate::channels::openapi::errors::RateLimitedError, headers(
            ("Retry-After" = crate::channels::openapi::errors::RetryAfterSeconds, description = "Seconds to wait before retrying"),
        )),
        (status = 503, response = crate::channels::openapi::errors::NotReady),
    ),
)]
#[post("/v1/routing/rules/{version}/dry-run")]
async fn dry_run(
    state: web::Data<AppState>,
    who: Authenticated,
    version: web::Path<i64>,
    body: web::Json<DryRunRequest>,
) -> Result<HttpResponse, ApiError> {
    supervisor(who)?;
    let version = version.into_inner();
    let DryRunRequest {
        from,
        to,
        patience_secs,
    } = body.into_inner();
    let settings = SimSettings::from_routing(
        &state.settings.routing,
        patience_secs.unwrap_or(300).saturating_mul(1000),
    );
    let outcome = match state.routing.dry_run(version, settings, from, to).await? {
        Ok(outcome) => outcome,
        Err(problems) => return Ok(invalid_rules(&problems)),
    };
    let mut body = serde_json::to_value(&outcome.report).map_err(ApiError::internal)?;
    if let Some(object) = body.as_object_mut() {
        object.insert("version".to_owned(), json!(version));
        object.insert(
            "baseline_version".to_owned(),
            json!(outcome.baseline_version),
        );
        object.insert("from".to_owned(), json!(from));
        object.insert("to".to_owned(), json!(to));
    }
    Ok(HttpResponse::Ok().json(body))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct HistoryQuery {
    /// How many entries (default 50; values outside 1–500 are clamped; not a non-negative
    /// integer: 422)
    #[param(minimum = 1, maximum = 500, default = 50, nullable = false)]
    limit: Option<u32>,
}

/// The audit trail of routing: versions created and activated (with the diff an activation
/// made), overrides created and ended; newest first.
#[utoipa::path(
    tag = "routing",
    operation_id = "routingHistory",
    summary = "The routing audit trail, newest first, with the diff each version or activation made. Supervisors only (agents and customers: 403).",
    security(("bearer" = [])),
    params(HistoryQuery),
    responses(
        (status = 200, description = "Entries", body = inline(crate::channels::openapi::bodies::History)),
        (status = 401, response = crate::channels::openapi::errors::Unauthenticated),
        (status = 403, response = crate::channels::openapi::errors::Forbidden),
        (status = 422, response = crate::channels::openapi::errors::InvalidQuery),
        (status = 503, response = crate::channels::openapi::errors::NotReady),
    ),
)]
#[get("/v1/routing/history")]
async fn history(
    state: web::Data<AppState>,
    who: Authenticated,
    query: web::Query<HistoryQuery>,
) -> Result<HttpResponse, ApiError> {
    supervisor(who)?;
    let limit = query.limit.unwrap_or(50).clamp(1, 500);
    let entries: Vec<serde_json::Value> = state
        .routing
        .history(limit)
        .await?
        .into_iter()
        .map(|e| {
            json!({
                "at": e.entry.at,
                "actor": e.entry.actor,
                "action": e.entry.action,
                "subject": e.entry.subject,
                "detail": e.entry.detail,
                "diff": e.diff,
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "entries": entries })))
}

#[utoipa::path(
    tag = "routing",
    operation_id = "createOverride",
    summary = "Temporarily retarget one rule of the active set (expires by itself; audited). Supervisors only (agents and customers: 403).",
    security(("bearer" = [])),
    request_body(
        content = inline(OverrideRequest),
        example = json!({"rule": "general", "target": {"queue": "general"}, "minutes": 120, "reason": "billing team in training"}),
    ),
    responses(
        (status = 201, description = "In force", body = inline(crate::channels::openapi::bodies::OverrideCreated), links(
            ("EndCreatedOverride" = (operation_id = "endOverride", parameters(("path.id" = "$response.body#/id")))),
        )),
        (status = 400, response = crate::channels::openapi::errors::BadRequest),
        (status = 401, response = crate::channels::openapi::errors::Unauthenticated),
        (status = 403, response = crate::channels::openapi::errors::Forbidden),
        (status = 413, response = crate::channels::openapi::errors::PayloadTooLarge),
        (status = 415, response = crate::channels::openapi::errors::UnsupportedMediaType),
        (status = 422, description = "`invalid_rules` with problems (no active set, unknown rule or skill, minutes outside 1–10080), or `invalid_request` for a body of the wrong shape", body = crate::channels::openapi::errors::InvalidRulesOrInvalidRequestErrorWithProblems),
        (status = 503, response = crate::channels::openapi::errors::NotReady),
    ),
)]
#[post("/v1/routing/overrides")]
async fn create_override(
    state: web::Data<AppState>,
    who: Authenticated,
    body: web::Json<OverrideRequest>,
) -> Result<HttpResponse, ApiError> {
    let by = supervisor(who)?;
    Ok(
        match state.routing.add_override(body.into_inner(), &by).await? {
            Ok(item) => HttpResponse::Created()
                .json(json!({ "id": item.id, "expires_at": item.expires_at })),
            Err(problems) => invalid_rules(&problems),
        },
    )
}

#[utoipa::path(
    tag = "routing",
    operation_id = "listOverrides",
    summary = "Overrides in force. Supervisors only (agents and customers: 403).",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Overrides", body = inline(crate::channels::openapi::bodies::Overrides), links(
            ("EndListedOverride" = (operation_id = "endOverride", parameters(("path.id" = "$response.body#/overrides/0/id")))),
        )),
        (status = 401, response = crate::channels::openapi::errors::Unauthenticated),
        (status = 403, response = crate::channels::openapi::errors::Forbidden),
        (status = 503, response = crate::channels::openapi::errors::NotReady),
    ),
)]
#[get("/v1/routing/overrides")]
async fn list_overrides(
    state: web::Data<AppState>,
    who: Authenticated,
) -> Result<HttpResponse, ApiError> {
    supervisor(who)?;
    let overrides: Vec<serde_json::Value> = state
        .routing
        .overrides()
        .await?
        .into_iter()
        .map(|o| {
            json!({
                "id": o.id,
                "rule": o.rule,
                "target": o.target,
                "reason": o.reason,
                "created_by": o.created_by,
                "created_at": o.created_at,
                "expires_at": o.expires_at,
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "overrides": overrides })))
}

#[utoipa::path(
    tag = "routing",
    operation_id = "endOverride",
    summary = "End an override early (audited). Supervisors only (agents and customers: 403).",
    security(("bearer" = [])),
    params(
        ("id" = String, Path),
    ),
    responses(
        (status = 200, description = "Ended", body = inline(crate::channels::openapi::bodies::OverrideEnded)),
        (status = 401, response = crate::channels::openapi::errors::Unauthenticated),
        (status = 403, response = crate::channels::openapi::errors::Forbidden),
        (status = 404, description = "`not_found`: no override in force has this id (unknown, ended or expired)", body = crate::channels::openapi::errors::NotFoundError),
        (status = 503, response = crate::channels::openapi::errors::NotReady),
    ),
)]
#[delete("/v1/routing/overrides/{id}")]
async fn end_override(
    state: web::Data<AppState>,
    who: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let by = supervisor(who)?;
    let id = id.into_inner();
    state.routing.end_override(&id, &by).await?;
    Ok(HttpResponse::Ok().json(json!({ "id": id, "ended": true })))
}

/// Why a task went where it went: the rule and overflow step in force, the target, and every
/// agent at the last offer with their load or the reasons they were out (agents and
/// supervisors).
#[utoipa::path(
    tag = "routing",
    operation_id = "taskRouting",
    summary = "Why a task went where it went (last offer: rule, overflow step, target, candidates and exclusions). Agents and supervisors (customer tokens: 403).",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "A task id"),
    ),
    responses(
        (status = 200, description = "Explanation", body = inline(crate::channels::openapi::bodies::TaskRouting)),
        (status = 401, response = crate::channels::openapi::errors::Unauthenticated),
        (status = 403, response = crate::channels::openapi::errors::Forbidden),
        (status = 404, description = "`not_found`: no such task", body = crate::channels::openapi::errors::NotFoundError),
        (status = 503, response = crate::channels::openapi::errors::NotReady),
    ),
)]
#[get("/v1/tasks/{id}/routing")]
async fn task_routing(
    state: web::Data<AppState>,
    who: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    who.staff()?;
    let id = TaskId::from_trusted(id.into_inner());
    let (task, routing) = state.routing.task_routing(&id).await?;
    Ok(HttpResponse::Ok().json(json!({
        "task_id": task.id,
        "status": task.status,
        "agent_id": task.agent_id,
        "created_at": task.created_at,
        "assigned_at": task.assigned_at,
        "last_offer": routing,
    })))
}
