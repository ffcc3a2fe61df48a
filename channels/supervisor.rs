//! The supervisors' API for routing rules (API.md "Supervisors"): read the rule set in force,
//! store a new version (validated, every problem reported at once), activate a version (or an
//! older one: rollback). Versions are immutable and every change is audited by the store.
//! Also the explanation of a task's routing (`/v1/tasks/{id}/routing`).
//!
//! Activation is one store transaction; the dispatcher is told at once over the bus and loads
//! the version in force from the store, so the next routing decision uses it (a standby that
//! takes over later loads it too).

use actix_web::{get, post, web, HttpResponse};
use chrono::Utc;
use serde_json::json;

use crate::actors::dispatch_route;
use crate::actors::dispatcher::DispatchEvent;
use crate::auth::Authenticated;
use crate::bus::publish_json;
use crate::domain::{AgentId, Role, TaskId};
use crate::error::ApiError;
use crate::rules::{self, Problem, RuleSetDoc};
use crate::startup::AppState;
use crate::store::Activation;

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(active_rules)
        .service(create_rules)
        .service(activate_rules)
        .service(task_routing);
}

/// The supervisor making the call, or 403.
fn supervisor(who: Authenticated) -> Result<AgentId, ApiError> {
    match who.staff()? {
        (agent_id, Role::Supervisor) => Ok(agent_id),
        _ => Err(ApiError::forbidden("Routing rules are for supervisors.")),
    }
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

#[get("/v1/routing/rules")]
async fn active_rules(
    state: web::Data<AppState>,
    who: Authenticated,
) -> Result<HttpResponse, ApiError> {
    supervisor(who)?;
    let body = match state.store.active_rule_set().await? {
        Some(active) => json!({
            "version": active.rule_set.version,
            "rules": active.rule_set.document.get("rules").cloned().unwrap_or_else(|| json!([])),
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

#[post("/v1/routing/rules")]
async fn create_rules(
    state: web::Data<AppState>,
    who: Authenticated,
    body: web::Json<serde_json::Value>,
) -> Result<HttpResponse, ApiError> {
    let by = supervisor(who)?;
    let doc: RuleSetDoc = match serde_json::from_value(body.into_inner()) {
        Ok(doc) => doc,
        Err(error) => {
            return Ok(invalid_rules(&[Problem::new(
                "document",
                format!("not a rule set: {error}"),
            )]))
        }
    };
    let known = state.store.skill_names().await?;
    if let Err(problems) = rules::compile(&doc, &known) {
        return Ok(invalid_rules(&problems));
    }
    let document = serde_json::to_value(&doc).map_err(ApiError::internal)?;
    let version = state
        .store
        .insert_rule_set(&document, by.as_str(), Utc::now())
        .await?;
    Ok(HttpResponse::Created().json(json!({ "version": version })))
}

#[post("/v1/routing/rules/{version}/activate")]
async fn activate_rules(
    state: web::Data<AppState>,
    who: Authenticated,
    version: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let by = supervisor(who)?;
    let version = version.into_inner();
    match state
        .store
        .activate_rule_set(version, by.as_str(), Utc::now())
        .await?
    {
        Activation::UnknownVersion => Err(ApiError::not_found(format!(
            "There is no rule set version {version}."
        ))),
        Activation::Activated { previous } => {
            // Stored and audited; if this notice is lost the dispatcher still finds the
            // version in force when it reconciles with the store.
            if let Err(error) = publish_json(
                state.bus.as_ref(),
                &dispatch_route(),
                &DispatchEvent::RulesActivated { version },
            )
            .await
            {
                tracing::warn!(%error, version, "Could not tell the dispatcher about new rules.");
            }
            Ok(HttpResponse::Ok().json(json!({ "version": version, "previous": previous })))
        }
    }
}

/// Why a task went where it went: the rule and overflow step in force, the target, and every
/// agent at the last offer with their load or the reasons they were out (agents and
/// supervisors).
#[get("/v1/tasks/{id}/routing")]
async fn task_routing(
    state: web::Data<AppState>,
    who: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    who.staff()?;
    let id = TaskId::from_trusted(id.into_inner());
    let task = state
        .store
        .task(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("No such task."))?;
    let routing = state.store.task_routing(&id).await?;
    Ok(HttpResponse::Ok().json(json!({
        "task_id": task.id,
        "status": task.status,
        "agent_id": task.agent_id,
        "created_at": task.created_at,
        "assigned_at": task.assigned_at,
        "last_offer": routing,
    })))
}
