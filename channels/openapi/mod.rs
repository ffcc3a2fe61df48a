//! The OpenAPI 3.1 document of the HTTP API, generated from the code: every route handler
//! carries `#[utoipa::path]` (its operation: parameters, body, every status it answers,
//! security, links), the request and response types derive or implement `ToSchema`, and
//! [`ApiDoc`] below assembles them with the info, servers, tags and security schemes.
//!
//! Adding an endpoint: annotate its handler with `#[utoipa::path]` and add it to
//! `paths(...)` of [`ApiDoc`]; then `switchboard openapi --write docs/openapi.json`
//! regenerates the checked-in copy (the test `tests/openapi.rs` fails until it is current).
//!
//! - [`errors`]: the error bodies and the responses many operations share;
//! - [`bodies`]: schemas of answers that handlers build as JSON values, and of the documents
//!   whose validation (with every problem) lives in code rather than in a type.

pub mod bodies;
pub mod errors;

use std::sync::OnceLock;

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::OpenApi;

/// The document: `ApiDoc::openapi()`, or [`json`] for its text.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Switchboard API",
        version = "1",
        description = "Public contract of Switchboard (see docs/api.md). Errors are \
            {\"error\":{\"code\",\"message\"}}; every operation lists the statuses it answers. \
            Generated from the code (`switchboard openapi`); checked against the demo by \
            deploy/api-conformance.sh."
    ),
    servers((url = "http://127.0.0.1:8080", description = "The demo (`switchboard demo`)")),
    security(("bearer" = [])),
    tags(
        (name = "ops", description = "Liveness, readiness, metrics and this document"),
        (name = "staff", description = "Staff sign-in and sign-out, who a token speaks for, the agent desk's WebSocket, staff accounts and teams"),
        (name = "supervision", description = "The live board of open conversations and agents' activity timelines (monitor, whisper, barge and reassign are agent-socket commands)"),
        (name = "web", description = "The web widget's and the app's customer API and WebSocket"),
        (name = "customers", description = "Customers as agents and supervisors see them: look-up, profile, messages, merges, tickets, live queues"),
        (name = "routing", description = "Supervisors' routing rules: versions, validation, activation, dry-runs, history, overrides, explanations"),
        (name = "kb", description = "The knowledge base: entries, import and export, try a question"),
        (name = "wechat", description = "WeChat Official Account webhook (XML)"),
        (name = "sms", description = "Twilio-compatible SMS webhooks (forms)"),
        (name = "ivr", description = "The phone IVR's signed call events"),
    ),
    modifiers(&SecuritySchemes, &Refinements),
    paths(
        crate::channels::ops::healthz,
        crate::channels::ops::readyz,
        crate::channels::ops::metrics,
        crate::channels::ops::openapi,
        crate::channels::staff::login::login,
        crate::channels::staff::login::me,
        crate::channels::staff::login::logout,
        crate::channels::staff::admin::list_staff,
        crate::channels::staff::admin::create_staff,
        crate::channels::staff::admin::import_staff,
        crate::channels::staff::admin::patch_staff,
        crate::channels::staff::admin::deactivate_staff,
        crate::channels::staff::admin::list_teams,
        crate::channels::staff::admin::create_team,
        crate::channels::staff::supervision::live_conversations,
        crate::channels::staff::supervision::agent_activity,
        crate::channels::web::rest::create_visitor,
        crate::channels::web::rest::post_message,
        crate::channels::web::rest::current_conversation,
        crate::channels::web::socket::customer_ws,
        crate::channels::staff::desk::agent_ws,
        crate::channels::staff::customers::lookup_customer,
        crate::channels::staff::customers::get_customer,
        crate::channels::staff::customers::customer_messages,
        crate::channels::staff::customers::queues,
        crate::channels::staff::customers::merge_customers,
        crate::channels::staff::customers::undo_merge,
        crate::channels::supervisor::active_rules,
        crate::channels::supervisor::create_rules,
        crate::channels::supervisor::activate_rules,
        crate::channels::supervisor::task_routing,
        crate::channels::supervisor::validate_rules,
        crate::channels::supervisor::rule_versions,
        crate::channels::supervisor::rule_version,
        crate::channels::supervisor::dry_run,
        crate::channels::supervisor::history,
        crate::channels::supervisor::create_override,
        crate::channels::supervisor::list_overrides,
        crate::channels::supervisor::end_override,
        crate::channels::wechat::verify_url,
        crate::channels::wechat::receive,
        crate::channels::sms::edge::inbound,
        crate::channels::sms::edge::status_callback,
        crate::channels::ivr::events,
        crate::channels::kb::list,
        crate::channels::kb::create,
        crate::channels::kb::get_entry,
        crate::channels::kb::put_entry,
        crate::channels::kb::delete_entry,
        crate::channels::kb::import,
        crate::channels::kb::export,
        crate::channels::kb::try_match,
        crate::channels::kb::customer_tickets,
    ),
    components(
        schemas(
            crate::domain::Problem,
            crate::error::ErrorBody,
            bodies::AppPush,
            bodies::ExportFormat,
            errors::RetryAfterSeconds,
            errors::ConflictError,
            errors::ForbiddenError,
            errors::InvalidCredentialsError,
            errors::InvalidOrInvalidRequestErrorWithProblems,
            errors::InvalidImportOrInvalidRequestErrorWithProblems,
            errors::InvalidKbErrorWithProblems,
            errors::InvalidKbOrInvalidRequestErrorWithProblems,
            errors::InvalidRequestError,
            errors::InvalidRequestOrInvalidRulesErrorWithProblems,
            errors::InvalidRulesErrorWithProblems,
            errors::InvalidRulesOrInvalidRequestErrorWithProblems,
            errors::MalformedBodyError,
            errors::MalformedJsonError,
            errors::MalformedJsonOrMalformedBodyError,
            errors::NameTakenError,
            errors::NotFoundError,
            errors::NotReadyError,
            errors::NotReadyErrorWithFailing,
            errors::PayloadTooLargeError,
            errors::PreconditionFailedErrorWithEtag,
            errors::RateLimitedError,
            errors::UnauthenticatedError,
            errors::UnsupportedMediaTypeError,
            errors::UsernameTakenError,
            errors::UsernameTakenOrConflictError,
            errors::WebsocketUpgradeRequiredError,
        ),
        responses(
            errors::BadRequest,
            errors::Unauthenticated,
            errors::Forbidden,
            errors::NotFound,
            errors::Conflict,
            errors::PayloadTooLarge,
            errors::UnsupportedMediaType,
            errors::InvalidRequest,
            errors::InvalidQuery,
            errors::InvalidRules,
            errors::InvalidKb,
            errors::InvalidStaff,
            errors::NotReady,
            errors::UpgradeRequired,
        ),
    ),
)]
pub struct ApiDoc;

/// The two bearer schemes: opaque tokens of staff and web visitors, and app user JWTs.
struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "Opaque token: staff (POST /v1/auth/login) or web visitor \
                         (POST /v1/visitors)",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "appToken",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "App user token: HS256 JWT of the app backend signed with \
                         app.jwt_secret; claims sub (app user id, required), exp (required), \
                         nbf, iat, phone (E.164, verified), name, wechat_openid (verified), \
                         wechat_unionid (verified); 30 s leeway on exp/nbf. WebSockets take \
                         it as ?token=.",
                    ))
                    .build(),
            ),
        );
    }
}

/// What the macros cannot say, applied to every operation alike:
/// - a response header we document is always sent: `required: true` (utoipa 6's `Header` has
///   no such field, so it goes in through the header's extension map, which is flattened);
/// - an optional request body (`Option<T>`) is `T` with `required` left out, rather than
///   `oneOf: [T, null]` (no body is not a JSON `null`).
struct Refinements;

impl utoipa::Modify for Refinements {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::schema::{Schema, Type};
        use utoipa::openapi::RefOr;
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                for response in operation.responses.responses.values_mut() {
                    if let RefOr::T(response) = response {
                        for header in response.headers.values_mut() {
                            let RefOr::T(header) = header else { continue };
                            header
                                .extensions
                                .get_or_insert_with(Default::default)
                                .insert("required".to_owned(), true.into());
                        }
                    }
                }
                let Some(RefOr::T(body)) = operation.request_body.as_mut() else {
                    continue;
                };
                if body.required.is_some() {
                    continue;
                }
                for content in body.content.values_mut() {
                    let RefOr::T(content) = content else { continue };
                    let Some(RefOr::T(Schema::OneOf(one_of))) = content.schema.as_ref() else {
                        continue;
                    };
                    let is_null = |s: &RefOr<Schema>| matches!(s, RefOr::T(Schema::Object(o)) if o.schema_type == Type::Null.into());
                    let value = match one_of.items.as_slice() {
                        [value, null] | [null, value] if is_null(null) && !is_null(value) => {
                            value.clone()
                        }
                        _ => continue,
                    };
                    content.schema = Some(value);
                }
            }
        }
    }
}

/// The document as pretty JSON with a trailing newline: what `GET /v1/openapi.json` serves
/// and `docs/openapi.json` holds. Built once.
pub fn json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| {
        // Serialising a document of strings, maps and numbers cannot fail.
        let mut text = serde_json::to_string_pretty(&ApiDoc::openapi()).unwrap_or_default();
        text.push('\n');
        text
    })
}
