//! The knowledge-base API (issue 7): supervisors edit entries, import and export the whole
//! knowledge base as JSON or CSV; agents and supervisors read it and try questions against the
//! bot in force. Every change is validated (422 lists every problem), stored and audited in
//! one transaction, and hot-reloaded: this node retrains at once, the others at their next
//! poll (`bot.kb_poll_ms`).

use std::collections::HashMap;

use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType};
use actix_web::{delete, get, post, put, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;

use crate::bot::kb::entry::{KbDocument, KbEntry};
use crate::bot::kb::io;
use crate::channels::auth::Authenticated;
use crate::channels::state::AppState;
use crate::domain::Problem;
use crate::domain::{AgentId, Channel, Language, Permission};
use crate::error::{ApiError, ErrorKind};
use crate::services::kb::Deleted;
use crate::store::{KbWrite, StoredKbEntry};

/// Registers the routes (fixed paths before `{id}` ones).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/v1/kb/import")
            .app_data(web::PayloadConfig::new(io::MAX_IMPORT_BYTES))
            .route(web::post().to(import))
            .default_service(web::to(super::ops::no_route)),
    )
    .service(export)
    .service(try_match)
    .service(list)
    .service(create)
    .service(get_entry)
    .service(put_entry)
    .service(delete_entry)
    .service(customer_tickets);
}

/// The supervisor (or admin) making the call, or 403.
fn supervisor(who: Authenticated) -> Result<AgentId, ApiError> {
    who.require(Permission::ManageKnowledge)
        .map(|(agent_id, _)| agent_id)
}

/// 422 listing every problem with its place.
fn invalid(problems: &[Problem]) -> HttpResponse {
    HttpResponse::UnprocessableEntity().json(json!({
        "error": {
            "code": "invalid_kb",
            "message": format!("The knowledge base has {} problem(s); nothing was stored.", problems.len()),
        },
        "problems": problems,
    }))
}

/// An entry as the API shows it: the document plus who changed it last, and when.
fn entry_view(stored: &StoredKbEntry, names: &HashMap<String, String>) -> serde_json::Value {
    let mut view = stored.document.clone();
    if let Some(object) = view.as_object_mut() {
        object.insert("updated_at".to_owned(), json!(stored.updated_at));
        object.insert("updated_by".to_owned(), json!(stored.updated_by));
        if let Some(name) = names.get(&stored.updated_by) {
            object.insert("updated_by_name".to_owned(), json!(name));
        }
        object.insert("etag".to_owned(), json!(etag(stored.updated_at)));
    }
    view
}

/// An entry's version as an HTTP entity tag: its `updated_at` in microseconds, quoted.
fn etag(updated_at: DateTime<Utc>) -> String {
    format!("\"{}\"", updated_at.timestamp_micros())
}

/// What an `If-Match` header asks of a write.
#[derive(Debug, Clone, Copy, PartialEq)]
enum IfMatch {
    /// No header: the last write wins.
    Absent,
    /// `*`: the entry must exist.
    Any,
    /// The entry must still be this version (an ETag from GET or an earlier write).
    Version(DateTime<Utc>),
}

fn if_match(req: &HttpRequest) -> Result<IfMatch, ApiError> {
    let Some(value) = req.headers().get(header::IF_MATCH) else {
        return Ok(IfMatch::Absent);
    };
    let text = value.to_str().map(str::trim).unwrap_or_default();
    if text == "*" {
        return Ok(IfMatch::Any);
    }
    text.strip_prefix("W/")
        .unwrap_or(text)
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .and_then(|t| t.parse::<i64>().ok())
        .and_then(DateTime::from_timestamp_micros)
        .map(IfMatch::Version)
        .ok_or_else(|| {
            ApiError::invalid(
                "If-Match must be * or one entity tag of the entry (the ETag header or the etag field of GET /v1/kb/entries/{id}).",
            )
        })
}

/// 412: the entry changed (or went) since the client read it; nothing was written.
fn precondition_failed(current: Option<DateTime<Utc>>) -> HttpResponse {
    let message = if current.is_some() {
        "Someone saved this entry after you loaded it; nothing was stored. Reload it and apply your change again."
    } else {
        "This entry no longer exists; nothing was stored."
    };
    HttpResponse::PreconditionFailed().json(json!({
        "error": { "code": ErrorKind::PreconditionFailed.code(), "message": message },
        "etag": current.map(etag),
    }))
}

/// A write's answer: `{"id","revision"}` with the entry's new ETag.
fn written(
    mut response: actix_web::HttpResponseBuilder,
    id: &str,
    revision: i64,
    at: DateTime<Utc>,
) -> HttpResponse {
    response
        .insert_header((header::ETAG, etag(at)))
        .json(json!({ "id": id, "revision": revision, "etag": etag(at) }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only entries of this status
    #[param(inline, value_type = Option<crate::bot::kb::entry::EntryStatus>, nullable = false)]
    status: Option<String>,
    /// Only entries with this tag
    #[param(nullable = false)]
    tag: Option<String>,
}

/// `GET /v1/kb/entries[?status=published|draft|archived][&tag=…]`
#[utoipa::path(
    tag = "kb",
    operation_id = "listKbEntries",
    summary = "The knowledge base. Agents and supervisors (customer tokens: 403).",
    security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "Entries", body = inline(crate::channels::openapi::bodies::KbList), links(
            ("GetListedEntry" = (operation_id = "getKbEntry", parameters(("path.id" = "$response.body#/entries/0/id")))),
            ("PutListedEntry" = (operation_id = "putKbEntry", parameters(("path.id" = "$response.body#/entries/0/id"), ("header.If-Match" = "$response.body#/entries/0/etag")))),
            ("DeleteListedEntry" = (operation_id = "deleteKbEntry", parameters(("path.id" = "$response.body#/entries/0/id"), ("header.If-Match" = "$response.body#/entries/0/etag")))),
        )),
        (status = 401, response = crate::channels::openapi::errors::Unauthenticated),
        (status = 403, response = crate::channels::openapi::errors::Forbidden),
        (status = 422, response = crate::channels::openapi::errors::InvalidQuery),
        (status = 503, response = crate::channels::openapi::errors::NotReady),
    ),
)]
#[get("/v1/kb/entries")]
async fn list(
    state: web::Data<AppState>,
    who: Authenticated,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    who.staff()?;
    let revision = state.kb.revision().await?;
    let stored: Vec<StoredKbEntry> = state
        .kb
        .entries()
        .await?
        .into_iter()
        .filter(|e| query.status.as_deref().is_none_or(|s| e.status == s))
        .filter(|e| {
            query.tag.as_deref().is_none_or(|t| {
                e.document["tags"]
                    .as_array()
                    .is_some_and(|tags| tags.iter().any(|x| x == t))
            })
        })
        .collect();
    let names = state.kb.editor_names(&stored).await?;
    let entries: Vec<serde_json::Value> = stored.iter().map(|e| entry_view(e, &names)).collect();
    Ok(HttpResponse::Ok().json(json!({
        "revision": revision,
        "bot_revision": state.bot.revision(),
        "entries": entries,
    })))
}

#[utoipa::path(
    tag = "kb",
    operation_id = "getKbEntry",
    summary = "One entry, with its ETag. Agents and supervisors (customer tokens: 403).",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "An entry id"),
    ),
    responses(
        (status = 200, description = "The entry", body = crate::channels::openapi::bodies::KbEntryView, headers(("ETag" = String, description = "The entry's version")), links(
            ("PutBackEntry" = (operation_id = "putKbEntry", description = "What GET gave can be changed and put back (the read-only fields are ignored)", parameters(("path.id" = "$response.body#/id"), ("header.If-Match" = "$response.header.ETag")), request_body = "$response.body")),
            ("DeleteReadEntry" = (operation_id = "deleteKbEntry", parameters(("path.id" = "$response.body#/id"), ("header.If-Match" = "$response.header.ETag")))),
        )),
        (status = 401, response = crate::channels::openapi::errors::Unauthenticated),
        (status = 403, response = crate::channels::openapi::errors::Forbidden),
        (status = 404, description = "`not_found`: no such entry", body = crate::channels::openapi::errors::NotFoundError),
        (status = 503, response = crate::channels::openapi::errors::NotReady),
    ),
)]
#[get("/v1/kb/entries/{id}")]
async fn get_entry(
    state: web::Data<AppState>,
    who: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    who.staff()?;
    let stored = state
        .kb
        .entry(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("No such knowledge-base entry."))?;
    let names = state.kb.editor_names(std::slice::from_ref(&stored)).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(stored.updated_at)))
        .json(entry_view(&stored, &names)))
}

/// The fields a read adds to an entry (see [`entry_view`]); a write ignores them, so what
/// GET gave can be changed and PUT back.
const VIEW_FIELDS: [&str; 4] = ["updated_at", "updated_by", "updated_by_name", "etag"];

/// Parses and validates one entry.
fn parsed(mut body: serde_json::Value) -> Result<KbEntry, Vec<Problem>> {
    if let Some(object) = body.as_object_mut() {
        for field in VIEW_FIELDS {
            object.remove(field);
        }
    }
    let entry: KbEntry = serde_json::from_value::<KbEntry>(body)
        .map_err(|e| {
            vec![Problem::new(
                "entry",
                format!("not a knowledge-base entry: {e}"),
            )]
        })?
        .trimmed();
    let problems = entry.validate();
    if problems.is_empty() {
        Ok(entry)
    } else {
        Err(problems)
    }
}

/// `POST /v1/kb/entries`: a new entry (409 if the id exists).
#[utoipa::path(
    tag = "kb",
    operation_id = "createKbEntry",
    summary = "Create an entry (supervisors); hot-reloaded",
    security(("bearer" = [])),
    request_body(content = crate::channels::openapi::bodies::KbEntry, example = json!({"id": "opening_hours", "title": {"zh": "营业时间", "en": "Opening hours"}, "questions": {"zh": ["你们几点上班？"], "en": ["When are you open?"]}, "answer": {"zh": "我们每天 9:00–18:00 在线。", "en": "We are online every day from 9:00 to 18:00."}, "channel_answers": {"sms": {"en": "Open daily 9-18."}}, "tags": ["hours"], "status": "published"})),
    responses(
        (status = 201, description = "Created", body = crate::channels::openapi::bodies::KbWritten, headers(("ETag" = String, description = "The entry's version")), links(
            ("GetCreatedEntry" = (operation_id = "getKbEntry", parameters(("path.id" = "$response.body#/id")))),
            ("PutCreatedEntry" = (operation_id = "putKbEntry", parameters(("path.id" = "$response.body#/id"), ("header.If-Match" = "$response.body#/etag")))),
            ("DeleteCreatedEntry" = (operation_id = "deleteKbEntry", parameters(("path.id" = "$response.body#/id"), ("header.If-Match" = "$response.body#/etag")))),
        )),
        (status = 400, response = crate::channels::openapi::errors::BadRequest),
        (status = 401, response = crate::channels::openapi::errors::Unauthenticated),
        (status = 403, response = crate::channels::openapi::errors::Forbidden),
        (status = 409, description = "`conflict`: an entry with this id exists", body = crate::channels::openapi::errors::ConflictError),
        (status = 413, response = crate::channels::openapi::errors::PayloadTooLarge),
        (status = 415, response = crate::channels::openapi::errors::UnsupportedMediaType),
        (status = 422, response = crate::channels::openapi::errors::InvalidKb),
        (status = 503, response = crate::channels::openapi::errors::NotReady),
    ),
)]
#[post("/v1/kb/entries")]
async fn create(
    state: web::Data<AppState>,
    who: Authenticated,
    body: web::Json<serde_json::Value>,
) -> Result<HttpResponse, ApiError> {
    let by = supervisor(who)?;
    let entry = match parsed(body.into_inner()) {
        Ok(entry) => entry,
        Err(problems) => return Ok(invalid(&problems)),
    };
    if state.kb.entry(&entry.id).await?.is_some() {
        return Err(ApiError::new(
            ErrorKind::Conflict,
            format!(
                "An entry '{}' exists; change it with PUT /v1/kb/entries/{}.",
                entry.id, entry.id
            ),
        ));
    }
    let (revision, at) = state
        .kb
        .save(std::slice::from_ref(&entry), false, None, &by)
        .await?;
    Ok(written(HttpResponse::Created(), &entry.id, revision, at))
}

/// `PUT /v1/kb/entries/{id}`: creates or replaces the entry (the body's id must match).
#[utoipa::path(
    tag = "kb",
    operation_id = "putKbEntry",
    summary = "Create or replace an entry (supervisors); the body's id, if any, must be the path's; the read-only fields a GET adds are ignored",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "An entry id"),
        ("If-Match" = Option<String>, Header, nullable = false, description = "The entry's etag as read (optimistic concurrency), or * (the entry must exist). Anything else: 422"),
    ),
    request_body(content = crate::channels::openapi::bodies::KbEntryPut, example = json!({"title": {"zh": "营业时间", "en": "Opening hours"}, "questions": {"zh": ["你们几点上班？"], "en": ["When are you open?"]}, "answer": {"zh": "我们每天 9:00–18:00 在线。", "en": "We are online every day from 9:00 to 18:00."}, "channel_answers": {"sms": {"en": "Open daily 9-18."}}, "tags": ["hours"], "status": "published"})),
    responses(
        (status = 200, description = "Replaced", body = crate::channels::openapi::bodies::KbWritten, headers(("ETag" = String, description = "The entry's version"))),
        (status = 201, description = "Created", body = crate::channels::openapi::bodies::KbWritten, headers(("ETag" = String, description = "The entry's version"))),
        (status = 400, response = crate::channels::openapi::errors::BadRequest),
        (status = 401, response = crate::channels::openapi::errors::Unauthenticated),
        (status = 403, response = crate::channels::openapi::errors::Forbidden),
        (status = 412, description = "`precondition_failed`: the entry changed (or went) since the If-Match version; nothing was written", body = crate::channels::openapi::errors::PreconditionFailedErrorWithEtag),
        (status = 413, response = crate::channels::openapi::errors::PayloadTooLarge),
        (status = 415, response = crate::channels::openapi::errors::UnsupportedMediaType),
        (status = 422, description = "`invalid_kb` with problems (the entry is invalid, or its id is not the path's); `invalid_request`: a malformed If-Match", body = crate::channels::openapi::errors::InvalidKbOrInvalidRequestErrorWithProblems),
        (status = 503, response = crate::channels::openapi::errors::NotReady),
    ),
)]
#[put("/v1/kb/entries/{id}")]
async fn put_entry(
    state: web::Data<AppState>,
    who: Authenticated,
    id: web::Path<String>,
    body: web::Json<serde_json::Value>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let by = supervisor(who)?;
    let condition = if_match(&req)?;
    let mut body = body.into_inner();
    if let Some(object) = body.as_object_mut() {
        // The path names the entry; a body without an id takes it.
        object
            .entry("id".to_owned())
            .or_insert_with(|| json!(id.as_str()));
    }
    let entry = match parsed(body) {
        Ok(entry) if entry.id != *id => {
            return Ok(invalid(&[Problem::new(
                "id",
                format!("the body's id '{}' is not the path's '{}'", entry.id, id),
            )]))
        }
        Ok(entry) => entry,
        Err(problems) => return Ok(invalid(&problems)),
    };
    let existed = state.kb.entry(&entry.id).await?.is_some();
    match condition {
        IfMatch::Absent => {}
        IfMatch::Any if existed => {}
        IfMatch::Any => return Ok(precondition_failed(None)),
        IfMatch::Version(expected) => {
            let (outcome, at) = state.kb.save_if(&entry, expected, &by).await?;
            return Ok(match outcome {
                KbWrite::Done(revision) => written(HttpResponse::Ok(), &entry.id, revision, at),
                KbWrite::Missing => precondition_failed(None),
                KbWrite::Changed(current) => precondition_failed(Some(current)),
            });
        }
    }
    let (revision, at) = state
        .kb
        .save(std::slice::from_ref(&entry), false, None, &by)
        .await?;
    Ok(if existed {
        written(HttpResponse::Ok(), &entry.id, revision, at)
    } else {
        written(HttpResponse::Created(), &entry.id, revision, at)
    })
}

#[utoipa::path(
    tag = "kb",
    operation_id = "deleteKbEntry",
    summary = "Delete an entry (supervisors)",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "An entry id"),
        ("If-Match" = Option<String>, Header, nullable = false, description = "The entry's etag as read (optimistic concurrency), or * (the entry must exist). Anything else: 422"),
    ),
    responses(
        (status = 200, description = "Deleted", body = inline(crate::channels::openapi::bodies::KbDeleted)),
        (status = 401, response = crate::channels::openapi::errors::Unauthenticated),
        (status = 403, response = crate::channels::openapi::errors::Forbidden),
        (status = 404, description = "`not_found`: no such entry (without If-Match)", body = crate::channels::openapi::errors::NotFoundError),
        (status = 412, description = "`precondition_failed`: the entry changed (or went) since the If-Match version; nothing was written", body = crate::channels::openapi::errors::PreconditionFailedErrorWithEtag),
        (status = 422, description = "`invalid_request`: a malformed If-Match", body = crate::channels::openapi::errors::InvalidRequestError),
        (status = 503, response = crate::channels::openapi::errors::NotReady),
    ),
)]
#[delete("/v1/kb/entries/{id}")]
async fn delete_entry(
    state: web::Data<AppState>,
    who: Authenticated,
    id: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let by = supervisor(who)?;
    let condition = if_match(&req)?;
    let expected = match condition {
        IfMatch::Version(expected) => Some(expected),
        IfMatch::Any | IfMatch::Absent => None,
    };
    let revision = match (state.kb.delete(&id, expected, &by).await?, condition) {
        (Deleted::Done(revision), _) => revision,
        (Deleted::Changed(current), _) => return Ok(precondition_failed(Some(current))),
        // Without If-Match a missing entry is 404; with one (`*` only requires the entry to
        // exist), the precondition fails, as on PUT.
        (Deleted::Missing, IfMatch::Absent) => {
            return Err(ApiError::not_found("No such knowledge-base entry."))
        }
        (Deleted::Missing, _) => return Ok(precondition_failed(None)),
    };
    Ok(HttpResponse::Ok().json(json!({ "id": id.as_str(), "revision": revision })))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ImportQuery {
    /// `merge` (default): add and replace the given entries; `replace`: the given entries
    /// become the whole knowledge base.
    #[param(inline, value_type = Option<crate::channels::openapi::bodies::ImportMode>, nullable = false)]
    mode: Option<String>,
}

/// `POST /v1/kb/import[?mode=merge|replace]` with a JSON document (`{"entries": […],
/// "out_of_scope": […]}` or a bare array) or CSV (`text/csv`, see [`crate::bot::kb::io`]).
#[utoipa::path(
    post,
    path = "/v1/kb/import",
    tag = "kb",
    operation_id = "importKb",
    summary = "Import a knowledge base (supervisors): a JSON document (or a bare array of entries) or CSV, up to 5 MB and 5,000 entries",
    security(("bearer" = [])),
    params(ImportQuery),
    request_body(content(
        (inline(crate::channels::openapi::bodies::KbImport) = "application/json"),
        (inline(crate::channels::openapi::bodies::KbCsv) = "text/csv"),
    )),
    responses(
        (status = 200, description = "Imported", body = inline(crate::channels::openapi::bodies::KbImported)),
        (status = 400, description = "`malformed_body`: the body is not UTF-8, or could not be read", body = crate::channels::openapi::errors::MalformedBodyError),
        (status = 401, response = crate::channels::openapi::errors::Unauthenticated),
        (status = 403, response = crate::channels::openapi::errors::Forbidden),
        (status = 413, description = "`payload_too_large`: over 5 MB", body = crate::channels::openapi::errors::PayloadTooLargeError),
        (status = 415, description = "`unsupported_media_type`: neither application/json nor text/csv", body = crate::channels::openapi::errors::UnsupportedMediaTypeError),
        (status = 422, description = "`invalid_kb` with problems (including JSON that does not parse); `invalid_request`: an invalid query string", body = crate::channels::openapi::errors::InvalidKbOrInvalidRequestErrorWithProblems),
        (status = 503, response = crate::channels::openapi::errors::NotReady),
    ),
)]
async fn import(
    state: web::Data<AppState>,
    who: Authenticated,
    req: HttpRequest,
    query: web::Query<ImportQuery>,
    body: Result<web::Bytes, actix_web::Error>,
) -> Result<HttpResponse, ApiError> {
    let by = supervisor(who)?;
    let replace_all = match query.mode.as_deref() {
        None | Some("merge") => false,
        Some("replace") => true,
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "mode must be merge or replace, not '{other}'"
            )))
        }
    };
    let essence = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let csv = match essence.as_str() {
        "application/json" => false,
        "text/csv" => true,
        _ => {
            return Err(ApiError::new(
                ErrorKind::UnsupportedMediaType,
                "Send the knowledge base as application/json or text/csv.",
            ))
        }
    };
    let body = body.map_err(crate::channels::provider::body_error)?;
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::new(ErrorKind::MalformedBody, "The body is not UTF-8."))?;
    let doc = if csv {
        io::from_csv(text).map(|entries| KbDocument {
            out_of_scope: Vec::new(),
            entries,
        })
    } else {
        io::from_json(text)
    };
    let doc = match doc {
        Ok(doc) => doc,
        Err(problems) => return Ok(invalid(&problems)),
    };
    // The out-of-scope questions change with the entries, in the same transaction: a JSON
    // document that lists them replaces them, and so does a JSON `replace` (the knowledge
    // base becomes the document). CSV cannot carry them and leaves them alone.
    let out_of_scope = (!doc.out_of_scope.is_empty() || (replace_all && !csv))
        .then_some(doc.out_of_scope.as_slice());
    let (revision, _) = state
        .kb
        .save(&doc.entries, replace_all, out_of_scope, &by)
        .await?;
    Ok(HttpResponse::Ok().json(json!({
        "revision": revision,
        "imported": doc.entries.len(),
        "mode": if replace_all { "replace" } else { "merge" },
    })))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ExportQuery {
    #[param(value_type = Option<crate::channels::openapi::bodies::ExportFormat>, nullable = false, default = "json")]
    format: Option<String>,
}

/// `GET /v1/kb/export[?format=json|csv]`: the whole knowledge base, as a download that
/// `POST /v1/kb/import` takes back.
#[utoipa::path(
    tag = "kb",
    operation_id = "exportKb",
    summary = "Export the knowledge base as a download that the import takes back. Agents and supervisors (customer tokens: 403).",
    security(("bearer" = [])),
    params(ExportQuery),
    responses(
        (status = 200, description = "The knowledge base (Content-Disposition: attachment)", content(
            (inline(crate::channels::openapi::bodies::KbDocument) = "application/json"),
            (inline(crate::channels::openapi::bodies::KbCsvExport) = "text/csv"),
        ), headers(("Content-Disposition" = String)), links(
            ("ReimportExport" = (operation_id = "importKb", description = "The export is taken back unchanged", parameters(("query.mode" = "merge")), request_body = "$response.body")),
        )),
        (status = 401, response = crate::channels::openapi::errors::Unauthenticated),
        (status = 403, response = crate::channels::openapi::errors::Forbidden),
        (status = 422, description = "`invalid_request`: format neither json nor csv, or an invalid query string", body = crate::channels::openapi::errors::InvalidRequestError),
        (status = 503, response = crate::channels::openapi::errors::NotReady),
    ),
)]
#[get("/v1/kb/export")]
async fn export(
    state: web::Data<AppState>,
    who: Authenticated,
    query: web::Query<ExportQuery>,
) -> Result<HttpResponse, ApiError> {
    who.staff()?;
    let doc = state.kb.document().await?;
    let (body, content_type, file) = match query.format.as_deref().unwrap_or("json") {
        "json" => (io::to_json(&doc), "application/json", "knowledge-base.json"),
        "csv" => (
            io::to_csv(&doc.entries),
            "text/csv; charset=utf-8",
            "knowledge-base.csv",
        ),
        other => {
            return Err(ApiError::invalid(format!(
                "format must be json or csv, not '{other}'"
            )))
        }
    };
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename(file.to_owned())],
        })
        .body(body))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct MatchRequest {
    /// 1 to 4000 characters after trimming
    #[schema(min_length = 1, max_length = 4000)]
    text: String,
    #[schema(nullable = false)]
    language: Option<Language>,
    #[schema(nullable = false)]
    channel: Option<Channel>,
}

/// `POST /v1/kb/match` `{"text", "language"?, "channel"?}`: what the bot in force would
/// answer, and its best entries with their confidence (supervisors try their changes here).
#[utoipa::path(
    tag = "kb",
    operation_id = "matchKb",
    summary = "What the bot in force answers to a question, with its best entries. Agents and supervisors (customer tokens: 403).",
    security(("bearer" = [])),
    request_body(content = inline(MatchRequest), example = json!({"text": "I want a refund", "language": "en"})),
    responses(
        (status = 200, description = "The bot's answer", body = inline(crate::channels::openapi::bodies::KbMatch)),
        (status = 400, response = crate::channels::openapi::errors::BadRequest),
        (status = 401, response = crate::channels::openapi::errors::Unauthenticated),
        (status = 403, response = crate::channels::openapi::errors::Forbidden),
        (status = 413, response = crate::channels::openapi::errors::PayloadTooLarge),
        (status = 415, response = crate::channels::openapi::errors::UnsupportedMediaType),
        (status = 422, response = crate::channels::openapi::errors::InvalidRequest),
        (status = 503, response = crate::channels::openapi::errors::NotReady),
    ),
)]
#[post("/v1/kb/match")]
async fn try_match(
    state: web::Data<AppState>,
    who: Authenticated,
    body: web::Json<MatchRequest>,
) -> Result<HttpResponse, ApiError> {
    who.staff()?;
    let text = body.text.trim();
    if text.is_empty() || text.chars().count() > crate::domain::MessageText::MAX_CHARS {
        return Err(ApiError::invalid(format!(
            "text must have 1 to {} characters",
            crate::domain::MessageText::MAX_CHARS
        )));
    }
    let language = body.language.unwrap_or_else(|| Language::detect(text));
    let channel = body.channel.unwrap_or(Channel::Web);
    let bot = state.bot.current();
    let reply = crate::bot::Bot::respond(
        bot.as_ref(),
        &crate::bot::BotTurn {
            text,
            language,
            tier: crate::domain::Tier::Standard,
            channel,
            state: &json!({}),
        },
    );
    let candidates: Vec<serde_json::Value> =
        crate::bot::Bot::kb_candidates(bot.as_ref(), text, language, channel, 3)
            .into_iter()
            .map(|c| json!({ "id": c.entry_id, "title": c.title, "confidence": c.confidence }))
            .collect();
    let flow = reply.action.is_some() || reply.state.get("flow").is_some_and(|f| !f.is_null());
    // A turn that counted as a miss is one the bot could not answer.
    let missed = reply
        .state
        .get("misses")
        .and_then(serde_json::Value::as_u64)
        .is_some_and(|n| n > 0);
    let outcome = if reply.handoff.is_some() {
        "handoff"
    } else if flow {
        "flow"
    } else if reply.entry.is_some() {
        "answered"
    } else if !reply.suggested.is_empty() {
        "did_you_mean"
    } else if missed {
        "dont_know"
    } else {
        "small_talk"
    };
    Ok(HttpResponse::Ok().json(json!({
        "revision": state.bot.revision(),
        "outcome": outcome,
        "answer": reply.text,
        "entry_id": reply.entry,
        "suggested": reply.suggested,
        "intent": reply.intent,
        "confidence": reply.confidence,
        "handoff": reply.handoff.is_some(),
        "flow": flow,
        "candidates": candidates,
    })))
}

/// `GET /v1/customers/{id}/tickets`: the tickets flows opened for a customer.
#[utoipa::path(
    tag = "customers",
    operation_id = "customerTickets",
    summary = "Tickets opened by flows for a customer. Agents and supervisors (customer tokens: 403).",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "A customer id"),
    ),
    responses(
        (status = 200, description = "Tickets", body = inline(crate::channels::openapi::bodies::Tickets)),
        (status = 401, response = crate::channels::openapi::errors::Unauthenticated),
        (status = 403, response = crate::channels::openapi::errors::Forbidden),
        (status = 404, response = crate::channels::openapi::errors::NotFound),
        (status = 503, response = crate::channels::openapi::errors::NotReady),
    ),
)]
#[get("/v1/customers/{id}/tickets")]
async fn customer_tickets(
    state: web::Data<AppState>,
    who: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (me, role) = who.staff()?;
    let id = crate::domain::CustomerId::from_trusted(id.into_inner());
    state.customers.may_read(&me, role, &id).await?;
    let tickets = state.customers.tickets(&id).await?;
    Ok(HttpResponse::Ok().json(json!({ "tickets": tickets })))
}
