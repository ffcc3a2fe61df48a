//! The error bodies of the document and the responses many operations share.
//!
//! Every error is `{"error": {"code", "message"}}` ([`crate::error::ErrorBody`]); each schema
//! here narrows `code` to the [`ErrorKind`]s one status can carry, read from
//! [`ErrorKind::code`], so a renamed code changes the document too. A few add a field
//! (`problems`, `etag`, `failing`).

use std::borrow::Cow;

use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::{Content, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{PartialSchema, ToResponse, ToSchema};

use crate::error::ErrorKind;

/// `{"error": {"code": <one of kinds>, "message"}}` with `extra` fields after `error`.
fn error_schema(codes: &[&str], extra: Extra) -> RefOr<Schema> {
    let detail = ObjectBuilder::new()
        .required("code")
        .required("message")
        .property(
            "code",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(codes.to_vec())),
        )
        .property("message", ObjectBuilder::new().schema_type(Type::String));
    let mut body = ObjectBuilder::new()
        .required("error")
        .property("error", detail);
    match extra {
        Extra::None => {}
        Extra::Problems { required } => {
            if required {
                body = body.required("problems");
            }
            body = body.property(
                "problems",
                ArrayBuilder::new()
                    .items(crate::domain::Problem::schema_ref())
                    .description(Some("Every problem, each with its place")),
            );
        }
        Extra::ImportProblems => {
            body = body.property(
                "problems",
                ArrayBuilder::new()
                    .items(crate::services::staff_import::ImportProblem::schema_ref())
                    .description(Some("Every problem of every row, by row then column")),
            );
        }
        Extra::Etag => {
            body = body.required("etag").property(
                "etag",
                ObjectBuilder::new()
                    .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
                    .description(Some("The current version (null: the entry is gone)")),
            );
        }
        Extra::Failing => {
            body = body.required("failing").property(
                "failing",
                ArrayBuilder::new()
                    .items(
                        ObjectBuilder::new()
                            .schema_type(Type::String)
                            .enum_values(Some(["store", "bus"])),
                    )
                    .min_items(Some(1)),
            );
        }
    }
    let codes = codes
        .iter()
        .map(|c| format!("`{c}`"))
        .collect::<Vec<_>>()
        .join(" or ");
    body.description(Some(format!("Error body: code {codes}")))
        .into()
}

/// The code of a rule set with problems (`channels::supervisor`).
const INVALID_RULES: &str = "invalid_rules";
/// The code of a knowledge-base document with problems (`channels::kb`).
const INVALID_KB: &str = "invalid_kb";
/// The code of a staff account, a change of one, or a team with problems
/// (`channels::staff::admin`).
const INVALID: &str = "invalid";

/// What an error body adds to `error`.
enum Extra {
    None,
    /// `problems`: every problem of a document, each with its place.
    Problems {
        required: bool,
    },
    /// `problems`: every problem of a CSV file of staff accounts, each with its row and column.
    ImportProblems,
    /// `etag`: the current version of a knowledge-base entry (412).
    Etag,
    /// `failing`: what `/readyz` could not reach.
    Failing,
}

/// A reference to a schema of [`ToSchema`] type `T` (`#/components/schemas/<name>`).
trait SchemaRef {
    fn schema_ref() -> RefOr<Schema>;
}

impl<T: ToSchema> SchemaRef for T {
    fn schema_ref() -> RefOr<Schema> {
        Ref::from_schema_name(T::name()).into()
    }
}

macro_rules! error_bodies {
    ($($(#[$doc:meta])* $name:ident: [$($code:expr),+] $extra:expr;)+) => {$(
        $(#[$doc])*
        pub struct $name;

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                error_schema(&[$($code),+], $extra)
            }
        }

        impl ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }

            fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
                schemas.push((
                    crate::domain::Problem::name().into_owned(),
                    crate::domain::Problem::schema(),
                ));
            }
        }
    )+};
}

error_bodies! {
    /// 409.
    ConflictError: [ErrorKind::Conflict.code()] Extra::None;
    /// 403.
    ForbiddenError: [ErrorKind::Forbidden.code()] Extra::None;
    /// 401 of the login.
    InvalidCredentialsError: [ErrorKind::InvalidCredentials.code()] Extra::None;
    /// 422 of a staff account, a change of one, or a team (or the shape of the request).
    InvalidOrInvalidRequestErrorWithProblems: [INVALID, ErrorKind::InvalidRequest.code()]
        Extra::Problems { required: false };
    /// 422 of a knowledge-base document.
    InvalidKbErrorWithProblems: [INVALID_KB] Extra::Problems { required: true };
    /// 422 of a knowledge-base write (the document, or the request around it).
    InvalidKbOrInvalidRequestErrorWithProblems: [INVALID_KB, ErrorKind::InvalidRequest.code()]
        Extra::Problems { required: false };
    /// 422.
    InvalidRequestError: [ErrorKind::InvalidRequest.code()] Extra::None;
    /// 422 of a dry-run (the window, or the rule set).
    InvalidRequestOrInvalidRulesErrorWithProblems: [ErrorKind::InvalidRequest.code(), INVALID_RULES]
        Extra::Problems { required: false };
    /// 422 of a rule-set document.
    InvalidRulesErrorWithProblems: [INVALID_RULES] Extra::Problems { required: true };
    /// 422 of an override (its target, or the request).
    InvalidRulesOrInvalidRequestErrorWithProblems: [INVALID_RULES, ErrorKind::InvalidRequest.code()]
        Extra::Problems { required: false };
    /// 400 of a body that is not well-formed XML or form data.
    MalformedBodyError: [ErrorKind::MalformedBody.code()] Extra::None;
    /// 400 of a body that is not JSON.
    MalformedJsonError: [ErrorKind::MalformedJson.code()] Extra::None;
    /// 400 of a body that may be JSON or CSV.
    MalformedJsonOrMalformedBodyError: [ErrorKind::MalformedJson.code(), ErrorKind::MalformedBody.code()] Extra::None;
    /// 409 of a new team.
    NameTakenError: [ErrorKind::NameTaken.code()] Extra::None;
    /// 404.
    NotFoundError: [ErrorKind::NotFound.code()] Extra::None;
    /// 503.
    NotReadyError: [ErrorKind::NotReady.code()] Extra::None;
    /// 503 of `/readyz`.
    NotReadyErrorWithFailing: [ErrorKind::NotReady.code()] Extra::Failing;
    /// 413.
    PayloadTooLargeError: [ErrorKind::PayloadTooLarge.code()] Extra::None;
    /// 412 of a knowledge-base write.
    PreconditionFailedErrorWithEtag: [ErrorKind::PreconditionFailed.code()] Extra::Etag;
    /// 429.
    RateLimitedError: [ErrorKind::RateLimited.code()] Extra::None;
    /// 429 of the login.
    TooManyAttemptsError: [ErrorKind::TooManyAttempts.code()] Extra::None;
    /// 401.
    UnauthenticatedError: [ErrorKind::Unauthenticated.code()] Extra::None;
    /// 415.
    UnsupportedMediaTypeError: [ErrorKind::UnsupportedMediaType.code()] Extra::None;
    /// 409 of a new staff account.
    UsernameTakenError: [ErrorKind::UsernameTaken.code()] Extra::None;
    /// 409 of a change of a staff account.
    UsernameTakenOrConflictError: [ErrorKind::UsernameTaken.code(), ErrorKind::Conflict.code()] Extra::None;
    /// 400 of plain HTTP on a WebSocket route.
    WebsocketUpgradeRequiredError: [ErrorKind::UpgradeRequired.code()] Extra::None;
}

/// 422 of a staff import: every problem of the file (or the query string).
pub struct InvalidImportOrInvalidRequestErrorWithProblems;

impl PartialSchema for InvalidImportOrInvalidRequestErrorWithProblems {
    fn schema() -> RefOr<Schema> {
        error_schema(
            &[INVALID, ErrorKind::InvalidRequest.code()],
            Extra::ImportProblems,
        )
    }
}

impl ToSchema for InvalidImportOrInvalidRequestErrorWithProblems {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("InvalidImportOrInvalidRequestErrorWithProblems")
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        use crate::services::staff_import::ImportProblem;
        schemas.push((ImportProblem::name().into_owned(), ImportProblem::schema()));
    }
}

/// `Retry-After` of a 429: whole seconds to wait, at least one.
#[derive(utoipa::ToSchema)]
#[schema(minimum = 1)]
pub struct RetryAfterSeconds(pub u64);

/// The response `name` (`#/components/responses/<name>`): `description`, and a JSON body of
/// error schema `T`.
fn error_response<T: ToSchema>(description: &str) -> RefOr<Response> {
    ResponseBuilder::new()
        .description(description)
        .content("application/json", Content::new(Some(T::schema_ref())))
        .build()
        .into()
}

macro_rules! shared_responses {
    ($($(#[$doc:meta])* $name:ident: $body:ident, $description:expr;)+) => {$(
        $(#[$doc])*
        pub struct $name;

        impl<'r> ToResponse<'r> for $name {
            fn response() -> (&'r str, RefOr<Response>) {
                (stringify!($name), error_response::<$body>($description))
            }
        }
    )+};
}

shared_responses! {
    /// 400 of a JSON body.
    BadRequest: MalformedJsonError,
        "`malformed_json`: the body is not JSON (or could not be read)";
    /// 401.
    Unauthenticated: UnauthenticatedError,
        "`unauthenticated`: missing, unknown or expired bearer token";
    /// 403.
    Forbidden: ForbiddenError,
        "`forbidden`: a customer token on a staff endpoint, a staff token on a customer \
         endpoint, or a role that may not do this (agents on supervisor endpoints)";
    /// 404.
    NotFound: NotFoundError, "`not_found`: no such resource";
    /// 409.
    Conflict: ConflictError, "`conflict`";
    /// 413.
    PayloadTooLarge: PayloadTooLargeError,
        "`payload_too_large`: body over `http.body_limit_bytes` (64 KiB)";
    /// 415.
    UnsupportedMediaType: UnsupportedMediaTypeError,
        "`unsupported_media_type`: send `Content-Type: application/json`";
    /// 422 of a JSON body.
    InvalidRequest: InvalidRequestError,
        "`invalid_request`: JSON of the wrong shape or invalid values (unknown fields \
         included), or an invalid query string";
    /// 422 of a query string.
    InvalidQuery: InvalidRequestError,
        "`invalid_request`: an invalid query string (a value of the wrong type, an unknown or \
         missing parameter)";
    /// 422 of a rule set.
    InvalidRules: InvalidRulesErrorWithProblems,
        "`invalid_rules` listing every problem (nothing was stored)";
    /// 422 of a knowledge-base document.
    InvalidKb: InvalidKbErrorWithProblems,
        "`invalid_kb` listing every problem (nothing was stored)";
    /// 422 of a staff account, a change of one, or a team.
    InvalidStaff: InvalidOrInvalidRequestErrorWithProblems,
        "`invalid` listing every problem (nothing was stored); `invalid_request`: a body of \
         the wrong shape (a field of the wrong type, an unknown field)";
    /// 503.
    NotReady: NotReadyError, "`not_ready`: the store or bus is unavailable; retry";
    /// 400 of plain HTTP on a WebSocket route.
    UpgradeRequired: WebsocketUpgradeRequiredError,
        "`websocket_upgrade_required`: plain HTTP (no WebSocket handshake) on a WebSocket \
         route";
}
