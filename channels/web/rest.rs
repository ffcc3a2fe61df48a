//! The widget's and the app's REST API: anonymous visitors (`POST /v1/visitors`), customer
//! messages (`POST /v1/messages`, idempotent by `client_id`) and the customer's open
//! conversation (`GET /v1/conversations/current`).

use actix_web::{get, post, web, HttpResponse};
use chrono::Duration;
use governor::clock::{Clock, DefaultClock};
use serde::Deserialize;
use serde_json::json;

use crate::actors::protocol::{Inbound, SessionError};
use crate::channels::auth::Authenticated;
use crate::channels::state::{AppState, CustomerLimiter};
use crate::domain::{Channel, ClientId, CustomerId, MessageText};
use crate::error::{ApiError, ErrorKind};
use crate::views::MessageView;

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct VisitorRequest {
    /// 1 to 64 characters after trimming; default: a generated name
    #[serde(default)]
    #[schema(nullable = false)]
    name: Option<String>,
}

const VISITOR_NAMES: [&str; 8] = [
    "Maple", "Harbor", "Willow", "Comet", "Jade", "Lotus", "River", "Pine",
];

#[utoipa::path(
    tag = "web",
    operation_id = "createVisitor",
    summary = "Create an anonymous web visitor (the body is optional: nothing, {} or {\"name\"}; any content type)",
    security(),
    request_body(
        content = inline(Option<VisitorRequest>),
        example = json!({"name": "Ada"}),
    ),
    responses(
        (status = 201, description = "Visitor token", body = inline(crate::channels::openapi::bodies::Visitor), links(
            ("GetVisitorCustomer" = (operation_id = "getCustomer", parameters(("path.id" = "$response.body#/customer_id")))),
            ("GetVisitorMessages" = (operation_id = "customerMessages", parameters(("path.id" = "$response.body#/customer_id")))),
            ("GetVisitorTickets" = (operation_id = "customerTickets", parameters(("path.id" = "$response.body#/customer_id")))),
            ("LookUpVisitor" = (operation_id = "lookupCustomer", parameters(("query.channel" = "web"), ("query.external_id" = "$response.body#/visitor_id")))),
            ("MergeIntoVisitor" = (operation_id = "mergeCustomers", parameters(("path.id" = "$response.body#/customer_id")))),
        )),
        (status = 400, response = crate::channels::openapi::errors::BadRequest),
        (status = 413, response = crate::channels::openapi::errors::PayloadTooLarge),
        (status = 422, response = crate::channels::openapi::errors::InvalidRequest),
        (status = 503, response = crate::channels::openapi::errors::NotReady),
    ),
)]
#[post("/v1/visitors")]
pub(super) async fn create_visitor(
    state: web::Data<AppState>,
    body: Result<web::Bytes, actix_web::Error>,
) -> Result<HttpResponse, ApiError> {
    let body = body.map_err(crate::channels::provider::body_error)?;
    // The body is optional: nothing, `{}` or `{"name": "..."}`.
    let request: VisitorRequest = if body.iter().all(u8::is_ascii_whitespace) {
        VisitorRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            if e.is_data() {
                ApiError::invalid(format!("The body does not match the expected shape: {e}"))
            } else {
                ApiError::new(
                    ErrorKind::MalformedJson,
                    format!("The body is not valid JSON: {e}"),
                )
            }
        })?
    };
    let name = match request
        .name
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty())
    {
        Some(n) if n.chars().count() > 64 => {
            return Err(ApiError::invalid("name is longer than 64 characters"))
        }
        Some(n) => n,
        None => {
            let pick = usize::from(rand::random::<u8>()) % VISITOR_NAMES.len();
            format!(
                "Visitor {} {:04}",
                VISITOR_NAMES[pick],
                rand::random::<u16>() % 10_000
            )
        }
    };
    let ttl = Duration::hours(i64::from(state.settings.auth.visitor_token_ttl_hours));
    let visitor = state.customers.create_visitor(name, ttl).await?;
    Ok(HttpResponse::Created().json(json!({
        "visitor_token": visitor.token,
        "customer_id": visitor.customer.id,
        "visitor_id": visitor.visitor_id,
    })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct SendMessage {
    /// 1 to 4000 characters after trimming
    #[schema(min_length = 1)]
    text: String,
    #[schema(pattern = "^[A-Za-z0-9._:-]{1,128}$")]
    client_id: String,
}

/// Validates a customer message from the web widget or the app into an [`Inbound`].
pub(super) fn web_inbound(
    customer: &CustomerId,
    channel: Channel,
    text: &str,
    client_id: &str,
) -> Result<Inbound, crate::domain::ParseError> {
    let client_id = ClientId::parse(client_id)?;
    let text = MessageText::parse(text)?;
    Ok(Inbound {
        channel,
        // Client ids are chosen by clients: scope them to the customer.
        external_id: format!("{customer}/{}", client_id.as_str()),
        client_id: Some(client_id),
        text,
    })
}

/// Applies the per-customer flood limit; the error carries the wait in whole seconds.
pub(super) fn check_rate(limiter: &CustomerLimiter, customer: &CustomerId) -> Result<(), u64> {
    limiter.check_key(customer).map_err(|not_until| {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
    })
}

pub(super) fn session_error(e: SessionError) -> ApiError {
    match e {
        SessionError::UnknownCustomer(_) => ApiError::unauthenticated(),
        SessionError::Store(e) => e.into(),
        SessionError::Busy => ApiError::new(
            ErrorKind::NotReady,
            "The conversation is busy; please retry.",
        ),
    }
}

#[utoipa::path(
    tag = "web",
    operation_id = "postMessage",
    summary = "Send a customer message (web visitor token or app token; idempotent by client_id)",
    security(("bearer" = []), ("appToken" = [])),
    request_body(
        content = inline(SendMessage),
        example = json!({"text": "Where is my parcel?", "client_id": "c-1"}),
    ),
    responses(
        (status = 202, description = "Stored (a repeated client_id gets the first answer)", body = inline(crate::channels::openapi::bodies::Accepted)),
        (status = 400, response = crate::channels::openapi::errors::BadRequest),
        (status = 401, response = crate::channels::openapi::errors::Unauthenticated),
        (status = 403, description = "`forbidden`: a staff token (this endpoint is for customers)", body = crate::channels::openapi::errors::ForbiddenError),
        (status = 413, response = crate::channels::openapi::errors::PayloadTooLarge),
        (status = 415, response = crate::channels::openapi::errors::UnsupportedMediaType),
        (status = 422, response = crate::channels::openapi::errors::InvalidRequest),
        (status = 429, description = "`rate_limited`: per-customer flood limit", body = crate::channels::openapi::errors::RateLimitedError, headers(
            ("Retry-After" = crate::channels::openapi::errors::RetryAfterSeconds, description = "Seconds to wait before retrying"),
        )),
        (status = 503, response = crate::channels::openapi::errors::NotReady),
    ),
)]
#[post("/v1/messages")]
pub(super) async fn post_message(
    state: web::Data<AppState>,
    who: Authenticated,
    body: web::Json<SendMessage>,
) -> Result<HttpResponse, ApiError> {
    let (customer, channel) = who.customer_on()?;
    let inbound = web_inbound(&customer, channel, &body.text, &body.client_id)?;
    if let Err(wait) = check_rate(&state.limiter, &customer) {
        state
            .metrics
            .rate_limited
            .with_label_values(&[channel.as_str()])
            .inc();
        return Err(ApiError::rate_limited(wait));
    }
    let accepted = state
        .sessions
        .inbound(&customer, inbound)
        .await
        .map_err(session_error)?;
    Ok(HttpResponse::Accepted().json(json!({
        "message_id": accepted.message_id,
        "conversation_id": accepted.conversation_id,
    })))
}

#[utoipa::path(
    tag = "web",
    operation_id = "currentConversation",
    summary = "The customer's open conversation",
    security(("bearer" = []), ("appToken" = [])),
    responses(
        (status = 200, description = "Conversation with messages", body = inline(crate::channels::openapi::bodies::CurrentConversation)),
        (status = 401, response = crate::channels::openapi::errors::Unauthenticated),
        (status = 403, description = "`forbidden`: a staff token (this endpoint is for customers)", body = crate::channels::openapi::errors::ForbiddenError),
        (status = 404, description = "`not_found`: no open conversation", body = crate::channels::openapi::errors::NotFoundError),
        (status = 503, response = crate::channels::openapi::errors::NotReady),
    ),
)]
#[get("/v1/conversations/current")]
pub(super) async fn current_conversation(
    state: web::Data<AppState>,
    who: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let customer = who.customer()?;
    let Some(current) = state.customers.current_conversation(&customer).await? else {
        return Err(ApiError::not_found("You have no open conversation."));
    };
    let (conversation, messages, agent_name) =
        (current.conversation, current.messages, current.agent_name);
    Ok(HttpResponse::Ok().json(json!({
        "id": conversation.id,
        "customer_id": conversation.customer_id,
        "status": conversation.status,
        "channel": conversation.last_channel,
        "agent_name": agent_name,
        "opened_at": conversation.opened_at,
        "messages": messages.iter().map(MessageView::from).collect::<Vec<_>>(),
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn web_client_ids_are_scoped_to_the_customer() {
        let a = CustomerId::from_trusted("cus_a");
        let b = CustomerId::from_trusted("cus_b");
        let ia = web_inbound(&a, Channel::Web, "hi", "1").expect("valid");
        let ib = web_inbound(&b, Channel::Web, "hi", "1").expect("valid");
        assert_ne!(ia.external_id, ib.external_id);
        assert_eq!(
            web_inbound(&a, Channel::App, "hi", "1").map(|i| i.channel),
            Ok(Channel::App)
        );
        assert!(web_inbound(&a, Channel::Web, "  ", "1").is_err());
        assert!(web_inbound(&a, Channel::Web, "hi", "bad id").is_err());
    }
}
