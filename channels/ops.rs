//! Operations endpoints: liveness, readiness, Prometheus metrics and the OpenAPI document
//! (generated: [`crate::channels::openapi`]).

use actix_web::{get, web, HttpResponse};
use serde_json::json;

use crate::channels::state::AppState;
use crate::error::ApiError;

/// Registers the operations routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(healthz)
        .service(readyz)
        .service(metrics)
        .service(openapi);
}

/// The answer for a path or method no route serves: a typed JSON 404, like every error.
pub async fn no_route(req: actix_web::HttpRequest) -> HttpResponse {
    use actix_web::ResponseError;
    let kind = if req.method() == actix_web::http::Method::GET
        || req.method() == actix_web::http::Method::HEAD
    {
        crate::error::ErrorKind::NotFound
    } else {
        crate::error::ErrorKind::MethodNotAllowed
    };
    let message = format!("No route for {} {}.", req.method(), req.path());
    let error = if kind == crate::error::ErrorKind::NotFound {
        ApiError::not_found(message)
    } else {
        ApiError::new(crate::error::ErrorKind::NotFound, message)
    };
    error.error_response()
}

#[utoipa::path(
    tag = "ops",
    operation_id = "healthz",
    summary = "Liveness",
    security(),
    responses(
        (status = 200, description = "Process is running", body = inline(crate::channels::openapi::bodies::Health)),
    ),
)]
#[get("/healthz")]
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

#[utoipa::path(
    tag = "ops",
    operation_id = "readyz",
    summary = "Readiness: store and bus reachable",
    security(),
    responses(
        (status = 200, description = "Ready", body = inline(crate::channels::openapi::bodies::Ready)),
        (status = 503, description = "`not_ready` with what is unreachable", body = crate::channels::openapi::errors::NotReadyErrorWithFailing),
    ),
)]
#[get("/readyz")]
async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    match state.ping().await {
        (true, true) => {
            HttpResponse::Ok().json(json!({"status": "ready", "store": "ok", "bus": "ok"}))
        }
        (store, bus) => {
            let failing: Vec<&str> = [("store", !store), ("bus", !bus)]
                .into_iter()
                .filter(|(_, failed)| *failed)
                .map(|(name, _)| name)
                .collect();
            HttpResponse::ServiceUnavailable().json(json!({
                "error": {"code": "not_ready", "message": format!("Not ready: {} unreachable.", failing.join(" and "))},
                "failing": failing,
            }))
        }
    }
}

#[utoipa::path(
    tag = "ops",
    operation_id = "metrics",
    summary = "Prometheus metrics (see docs/operations.md)",
    security(),
    responses(
        (status = 200, description = "Prometheus text format 0.0.4", body = String, content_type = "text/plain"),
    ),
)]
#[get("/metrics")]
async fn metrics(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    // Broker-side figures are read at scrape time (a failure leaves the last value).
    if let Some(parked) = state.parked_count().await {
        state
            .metrics
            .bus_parked
            .set(i64::try_from(parked).unwrap_or(i64::MAX));
    }
    let body = state.metrics.render().map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(body))
}

#[utoipa::path(
    tag = "ops",
    operation_id = "openapi",
    summary = "This document",
    security(),
    responses(
        (status = 200, description = "OpenAPI 3.1", body = inline(crate::channels::openapi::bodies::OpenApiDocument)),
    ),
)]
#[get("/v1/openapi.json")]
async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(crate::channels::openapi::json())
}
