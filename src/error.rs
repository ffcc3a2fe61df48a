//! The one HTTP error type. Every error leaves the server as
//! `{"error": {"code": "<machine_code>", "message": "<human text>"}}` (API.md) with a fitting
//! status; 5xx bodies stay opaque and the cause goes to the log only.

use std::fmt;

use actix_web::error::{JsonPayloadError, PayloadError, QueryPayloadError};
use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde::Serialize;

use crate::domain::ParseError;
use crate::store::StoreError;

/// What went wrong, as a machine-readable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    MalformedJson,
    /// A body that is not well-formed XML or form data.
    MalformedBody,
    UpgradeRequired,
    InvalidRequest,
    Unauthenticated,
    InvalidCredentials,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    Conflict,
    /// A new or changed staff account's username belongs to another account.
    UsernameTaken,
    /// A new team's name belongs to another team.
    NameTaken,
    /// An `If-Match` that no longer names the current version.
    PreconditionFailed,
    PayloadTooLarge,
    UnsupportedMediaType,
    RateLimited,
    /// Too many failed logins for a username or a source address.
    TooManyAttempts,
    NotReady,
    Internal,
}

impl ErrorKind {
    /// The `code` field.
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::MalformedJson => "malformed_json",
            ErrorKind::MalformedBody => "malformed_body",
            ErrorKind::UpgradeRequired => "websocket_upgrade_required",
            ErrorKind::InvalidRequest => "invalid_request",
            ErrorKind::Unauthenticated => "unauthenticated",
            ErrorKind::InvalidCredentials => "invalid_credentials",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::NotFound => "not_found",
            ErrorKind::MethodNotAllowed => "method_not_allowed",
            ErrorKind::Conflict => "conflict",
            ErrorKind::UsernameTaken => "username_taken",
            ErrorKind::NameTaken => "name_taken",
            ErrorKind::PreconditionFailed => "precondition_failed",
            ErrorKind::PayloadTooLarge => "payload_too_large",
            ErrorKind::UnsupportedMediaType => "unsupported_media_type",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::TooManyAttempts => "too_many_attempts",
            ErrorKind::NotReady => "not_ready",
            ErrorKind::Internal => "internal_error",
        }
    }

    fn status(self) -> StatusCode {
        match self {
            ErrorKind::MalformedJson | ErrorKind::MalformedBody | ErrorKind::UpgradeRequired => {
                StatusCode::BAD_REQUEST
            }
            ErrorKind::InvalidRequest => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorKind::Unauthenticated | ErrorKind::InvalidCredentials => StatusCode::UNAUTHORIZED,
            ErrorKind::Forbidden => StatusCode::FORBIDDEN,
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ErrorKind::Conflict | ErrorKind::UsernameTaken | ErrorKind::NameTaken => {
                StatusCode::CONFLICT
            }
            ErrorKind::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            ErrorKind::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorKind::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorKind::RateLimited | ErrorKind::TooManyAttempts => StatusCode::TOO_MANY_REQUESTS,
            ErrorKind::NotReady => StatusCode::SERVICE_UNAVAILABLE,
            ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// An error answered to an HTTP client.
pub struct ApiError {
    pub kind: ErrorKind,
    pub message: String,
    /// Seconds, for 429.
    pub retry_after: Option<u64>,
    /// The cause, logged for 5xx and never sent.
    pub source: Option<anyhow::Error>,
}

impl ApiError {
    /// An error with a message for the client.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            retry_after: None,
            source: None,
        }
    }

    /// A 500 whose cause is logged but not shown.
    pub fn internal(source: impl Into<anyhow::Error>) -> Self {
        Self {
            kind: ErrorKind::Internal,
            message: "Something went wrong on our side; nothing you sent was lost.".to_owned(),
            retry_after: None,
            source: Some(source.into()),
        }
    }

    /// 429 with a `Retry-After`.
    pub fn rate_limited(retry_after_secs: u64) -> Self {
        Self {
            retry_after: Some(retry_after_secs.max(1)),
            ..Self::new(
                ErrorKind::RateLimited,
                "Too many messages; please wait a moment. 发送太频繁，请稍候再试。",
            )
        }
    }

    /// 429 with a `Retry-After`, for work the node does one at a time.
    pub fn busy(message: impl Into<String>, retry_after_secs: u64) -> Self {
        Self {
            retry_after: Some(retry_after_secs.max(1)),
            ..Self::new(ErrorKind::RateLimited, message)
        }
    }

    /// 401 for a missing, unknown or expired token.
    pub fn unauthenticated() -> Self {
        Self::new(
            ErrorKind::Unauthenticated,
            "A valid bearer token is required (it may have expired).",
        )
    }

    /// 403.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Forbidden, message)
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }

    /// 422.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidRequest, message)
    }

    /// The JSON body.
    pub fn body(&self) -> ErrorBody<'_> {
        ErrorBody {
            error: ErrorDetail {
                code: self.kind.code(),
                message: &self.message,
            },
        }
    }
}

/// `{"error": {...}}`.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(
    as = Error,
    description = "Every error: `{\"error\":{\"code\",\"message\"}}` (some add fields: `problems` on \
        422 `invalid_rules`/`invalid_kb`, `etag` on 412, `failing` on 503 from /readyz)"
)]
pub struct ErrorBody<'a> {
    #[schema(inline)]
    error: ErrorDetail<'a>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct ErrorDetail<'a> {
    code: &'static str,
    message: &'a str,
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.code(), self.message)?;
        if let Some(source) = &self.source {
            write!(f, "\nCaused by: {source:?}")?;
        }
        Ok(())
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.kind.status()
    }

    fn error_response(&self) -> HttpResponse {
        if let Some(source) = &self.source {
            tracing::error!(error = ?source, code = self.kind.code(), "Request failed.");
        }
        let mut response = HttpResponse::build(self.status_code());
        if let Some(secs) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        response.json(self.body())
    }
}

impl From<ParseError> for ApiError {
    fn from(e: ParseError) -> Self {
        ApiError::invalid(e.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(_) => Self {
                source: Some(e.into()),
                ..ApiError::new(
                    ErrorKind::NotReady,
                    "The store is unavailable; please retry.",
                )
            },
            StoreError::Conflict(message) => ApiError::new(ErrorKind::Conflict, message),
            other => ApiError::internal(other),
        }
    }
}

/// Maps actix's JSON extractor errors onto typed errors (400 malformed, 413, 415, 422).
pub fn json_error(err: JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let api = match &err {
        JsonPayloadError::Overflow { limit }
        | JsonPayloadError::OverflowKnownLength { limit, .. } => ApiError::new(
            ErrorKind::PayloadTooLarge,
            format!("The body is larger than {limit} bytes."),
        ),
        JsonPayloadError::ContentType => ApiError::new(
            ErrorKind::UnsupportedMediaType,
            "Send the body as Content-Type: application/json.",
        ),
        JsonPayloadError::Deserialize(e) if e.is_data() => {
            ApiError::invalid(format!("The body does not match the expected shape: {e}"))
        }
        JsonPayloadError::Deserialize(e) => ApiError::new(
            ErrorKind::MalformedJson,
            format!("The body is not valid JSON: {e}"),
        ),
        JsonPayloadError::Payload(PayloadError::Overflow) => {
            ApiError::new(ErrorKind::PayloadTooLarge, "The body is too large.")
        }
        other => ApiError::new(
            ErrorKind::MalformedJson,
            format!("Could not read the body: {other}"),
        ),
    };
    api.into()
}

/// Maps query-string errors onto 422.
pub fn query_error(err: QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::invalid(format!("Invalid query string: {err}")).into()
}

/// Maps path errors onto 404 (an id that cannot exist).
pub fn path_error(err: actix_web::error::PathError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::not_found(format!("No such resource: {err}")).into()
}
