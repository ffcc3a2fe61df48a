//! Customers seen by agents and supervisors: look-up by channel identity, the profile, every
//! message across channels, merges of two customers (and their undo), and live queue figures.

use actix_web::{get, post, web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use crate::actors::dispatcher::Snapshot;
use crate::channels::auth::Authenticated;
use crate::channels::state::AppState;
use crate::domain::{Channel, CustomerId};
use crate::error::ApiError;
use crate::store::CustomerMerge;

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct LookupQuery {
    #[param(inline, value_type = Channel)]
    channel: String,
    /// 1 to 256 characters; phone numbers in E.164
    #[param(min_length = 1, max_length = 256)]
    external_id: String,
}

#[utoipa::path(
    tag = "customers",
    operation_id = "lookupCustomer",
    summary = "Find a customer by identity. Agents and supervisors (customer tokens: 403).",
    security(("bearer" = [])),
    params(LookupQuery),
    responses(
        (status = 200, description = "Found", body = inline(crate::channels::openapi::bodies::LookupAnswer)),
        (status = 401, response = crate::channels::openapi::errors::Unauthenticated),
        (status = 403, response = crate::channels::openapi::errors::Forbidden),
        (status = 404, description = "`not_found`: no customer has that identity", body = crate::channels::openapi::errors::NotFoundError),
        (status = 422, response = crate::channels::openapi::errors::InvalidQuery),
        (status = 503, response = crate::channels::openapi::errors::NotReady),
    ),
)]
#[get("/v1/customers/lookup")]
pub(super) async fn lookup_customer(
    state: web::Data<AppState>,
    who: Authenticated,
    query: web::Query<LookupQuery>,
) -> Result<HttpResponse, ApiError> {
    who.staff()?;
    let channel = Channel::parse(&query.channel)?;
    if query.external_id.is_empty() || query.external_id.len() > 256 {
        return Err(ApiError::invalid("external_id must be 1 to 256 characters"));
    }
    // Whoever knows the exact identity may see whose it is (an agent linking a customer who
    // proved it), so the answer carries the profile, as `GET /v1/customers/{id}` would.
    match state.customers.lookup(channel, &query.external_id).await? {
        Some(customer_id) => {
            let profile = state.customers.profile(&customer_id).await?;
            Ok(HttpResponse::Ok().json(json!({
                "customer_id": customer_id,
                "customer": profile_json(profile),
            })))
        }
        None => Err(ApiError::not_found("No customer has that identity.")),
    }
}

#[utoipa::path(
    tag = "customers",
    operation_id = "getCustomer",
    summary = "Customer profile, identities, tags. Agents and supervisors (customer tokens: 403).",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "A customer id"),
    ),
    responses(
        (status = 200, description = "Profile", body = inline(crate::channels::openapi::bodies::CustomerProfile)),
        (status = 401, response = crate::channels::openapi::errors::Unauthenticated),
        (status = 403, response = crate::channels::openapi::errors::Forbidden),
        (status = 404, response = crate::channels::openapi::errors::NotFound),
        (status = 503, response = crate::channels::openapi::errors::NotReady),
    ),
)]
#[get("/v1/customers/{id}")]
pub(super) async fn get_customer(
    state: web::Data<AppState>,
    who: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (me, role) = who.staff()?;
    let id = CustomerId::from_trusted(id.into_inner());
    state.customers.may_read(&me, role, &id).await?;
    let profile = state.customers.profile(&id).await?;
    Ok(HttpResponse::Ok().json(profile_json(profile)))
}

/// The JSON of a customer's profile (`GET /v1/customers/{id}`, and the lookup's `customer`).
fn profile_json(profile: crate::services::customers::Profile) -> serde_json::Value {
    let (customer, identities, open) = (
        profile.customer,
        profile.identities,
        profile.open_conversation,
    );
    json!({
        "id": customer.id,
        "name": customer.display_name,
        "tier": customer.tier,
        "tags": customer.tags,
        "created_at": customer.created_at,
        "identities": identities.iter().map(|i| json!({
            "channel": i.channel, "external_id": i.external_id, "linked_at": i.created_at,
        })).collect::<Vec<_>>(),
        "open_conversation_id": open.map(|c| c.id),
    })
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct MergeRequest {
    /// The customer merged into the one of the path (their identities and history move).
    from_customer_id: String,
}

/// The JSON of a merge.
fn merge_view(merge: &CustomerMerge) -> serde_json::Value {
    json!({
        "merge_id": merge.id,
        "customer_id": merge.into,
        "from_customer_id": merge.from,
        "moved": {
            "identities": merge.moved.identities.iter().map(|(c, e)| json!({"channel": c, "external_id": e})).collect::<Vec<_>>(),
            "conversations": merge.moved.conversations.len(),
            "messages": merge.moved.messages.len(),
        },
        "merged_by": merge.merged_by,
        "merged_at": merge.merged_at,
        "undone_by": merge.undone_by,
        "undone_at": merge.undone_at,
    })
}

/// An agent's explicit merge of two customers ("one ID" from a verified conversation):
/// audited, and reversible with `POST /v1/customers/merges/{merge_id}/undo`.
#[utoipa::path(
    tag = "customers",
    operation_id = "mergeCustomers",
    summary = "Merge another customer into this one (agents and supervisors; audited, reversible)",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "A customer id"),
    ),
    request_body = inline(MergeRequest),
    responses(
        (status = 201, description = "Merged", body = crate::channels::openapi::bodies::CustomerMerge, links(
            ("UndoMerge" = (operation_id = "undoMerge", parameters(("path.merge_id" = "$response.body#/merge_id")))),
        )),
        (status = 400, response = crate::channels::openapi::errors::BadRequest),
        (status = 401, response = crate::channels::openapi::errors::Unauthenticated),
        (status = 403, response = crate::channels::openapi::errors::Forbidden),
        (status = 404, description = "`not_found`: either customer is unknown", body = crate::channels::openapi::errors::NotFoundError),
        (status = 409, description = "`conflict`: both are the same customer, the merged customer has nothing left (a repeated request), or both have an open conversation", body = crate::channels::openapi::errors::ConflictError),
        (status = 413, response = crate::channels::openapi::errors::PayloadTooLarge),
        (status = 415, response = crate::channels::openapi::errors::UnsupportedMediaType),
        (status = 422, response = crate::channels::openapi::errors::InvalidRequest),
        (status = 503, response = crate::channels::openapi::errors::NotReady),
    ),
)]
#[post("/v1/customers/{id}/merge")]
pub(super) async fn merge_customers(
    state: web::Data<AppState>,
    who: Authenticated,
    id: web::Path<String>,
    body: web::Json<MergeRequest>,
) -> Result<HttpResponse, ApiError> {
    let (staff, role) = who.staff()?;
    let into = CustomerId::from_trusted(id.into_inner());
    let from = CustomerId::from_trusted(body.into_inner().from_customer_id);
    // Into a customer the caller serves (or may read); the other is found by its identity.
    state.customers.may_read(&staff, role, &into).await?;
    let merge = state.customers.merge(&into, &from, staff.as_str()).await?;
    Ok(HttpResponse::Created().json(merge_view(&merge)))
}

#[utoipa::path(
    tag = "customers",
    operation_id = "undoMerge",
    summary = "Undo a merge: what it moved goes back (agents and supervisors; audited; no body)",
    security(("bearer" = [])),
    params(
        ("merge_id" = String, Path),
    ),
    responses(
        (status = 200, description = "Undone (undone_by, undone_at set)", body = crate::channels::openapi::bodies::CustomerMerge),
        (status = 401, response = crate::channels::openapi::errors::Unauthenticated),
        (status = 403, response = crate::channels::openapi::errors::Forbidden),
        (status = 404, description = "`not_found`: no such merge", body = crate::channels::openapi::errors::NotFoundError),
        (status = 409, description = "`conflict`: undone already, or the merged customer has an open conversation again", body = crate::channels::openapi::errors::ConflictError),
        (status = 503, response = crate::channels::openapi::errors::NotReady),
    ),
)]
#[post("/v1/customers/merges/{merge_id}/undo")]
pub(super) async fn undo_merge(
    state: web::Data<AppState>,
    who: Authenticated,
    merge_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (staff, _) = who.staff()?;
    let merge = state
        .customers
        .undo_merge(&merge_id, staff.as_str())
        .await?;
    Ok(HttpResponse::Ok().json(merge_view(&merge)))
}

#[utoipa::path(
    tag = "customers",
    operation_id = "customerMessages",
    summary = "Every message of the customer across channels, oldest first. Agents and supervisors (customer tokens: 403).",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "A customer id"),
    ),
    responses(
        (status = 200, description = "Messages", body = Vec<crate::channels::openapi::bodies::CustomerMessage>),
        (status = 401, response = crate::channels::openapi::errors::Unauthenticated),
        (status = 403, response = crate::channels::openapi::errors::Forbidden),
        (status = 404, response = crate::channels::openapi::errors::NotFound),
        (status = 503, response = crate::channels::openapi::errors::NotReady),
    ),
)]
#[get("/v1/customers/{id}/messages")]
pub(super) async fn customer_messages(
    state: web::Data<AppState>,
    who: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (me, role) = who.staff()?;
    let id = CustomerId::from_trusted(id.into_inner());
    state.customers.may_read(&me, role, &id).await?;
    let messages = state.customers.messages(&id).await?;
    let body: Vec<_> = messages
        .iter()
        .map(|m| {
            json!({
                "id": m.id,
                "conversation_id": m.conversation_id,
                "channel": m.channel,
                "from": m.from,
                "text": m.text,
                "client_id": m.client_id,
                // Web/app messages are keyed by the client's id; the provider's own id is
                // the external id on provider channels.
                "external_id": if matches!(m.channel, Channel::Web | Channel::App) { None } else { m.external_id.as_deref() },
                "agent_id": m.agent_id,
                "sent_at": m.sent_at,
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(body))
}

#[utoipa::path(
    tag = "customers",
    operation_id = "queues",
    summary = "Live queue and agent figures from the active dispatcher. Agents and supervisors (customer tokens: 403).",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Figures", body = inline(crate::actors::dispatcher::QueueFigures), links(
            ("ExplainWaitingTask" = (operation_id = "taskRouting", parameters(("path.id" = "$response.body#/tasks/0/task_id")))),
        )),
        (status = 401, response = crate::channels::openapi::errors::Unauthenticated),
        (status = 403, response = crate::channels::openapi::errors::Forbidden),
        (status = 503, response = crate::channels::openapi::errors::NotReady),
    ),
)]
#[get("/v1/queues")]
pub(super) async fn queues(
    state: web::Data<AppState>,
    who: Authenticated,
) -> Result<HttpResponse, ApiError> {
    who.staff()?;
    let figures = state
        .dispatcher
        .send(Snapshot)
        .await
        .map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok().json(figures))
}
