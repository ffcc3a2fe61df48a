//! The SMS channel's HTTP edge: the provider's inbound-message webhook and its delivery
//! status callbacks, both Twilio-compatible forms signed with `X-Twilio-Signature`.
//!
//! - `POST /v1/channels/sms`: a customer's text. Opt-out and opt-in keywords ([`Keyword`])
//!   are handled here and answered with a TwiML confirmation (never shown to the bot); any
//!   other text is stored as the customer's message (deduplicated by `MessageSid`) before the
//!   empty TwiML answer, and the answers go out through the REST API (the outbox).
//! - `POST /v1/channels/sms/status`: records the provider's delivery status on the delivery
//!   it names (`MessageSid` = the delivery's provider ref); always 200, so the provider does
//!   not retry a callback for a delivery this server does not know.
//!
//! Refusals: 503 while no auth token is configured, 415 for another content type, 413 for
//! an oversized body, 401 without a signature, 400 for a body that is not a form, 403 for a
//! signature that does not match, 422 for missing or invalid fields. Nothing is stored then.

use actix_web::http::header;
use actix_web::{post, web, HttpRequest, HttpResponse};
use chrono::Utc;
use secrecy::ExposeSecret;

use super::segments::{self, Keyword};
use super::signature;
use crate::channels::provider;
use crate::channels::state::AppState;
use crate::domain::Channel;
use crate::error::{ApiError, ErrorKind};
use crate::identity;
use crate::signing::app_token::is_e164;

/// The channel name of webhook receipts and outbox rows.
pub const CHANNEL: &str = "sms";

/// The TwiML answer that sends nothing back in the response.
pub const EMPTY_TWIML: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Response></Response>"#;

/// The confirmation of an opt-out (the carrier-grade wording, in English and Chinese).
pub const OPT_OUT_CONFIRMATION: &str = "You have been unsubscribed and will receive no more messages from us. Reply START to subscribe again. 您已退订，将不再收到我们的短信。回复 START 可重新订阅。";

/// The confirmation of an opt-in.
pub const OPT_IN_CONFIRMATION: &str = "You have subscribed again and will receive our messages. Reply STOP to unsubscribe. 您已重新订阅。回复 STOP 或 退订 可随时退订。";

/// The delivery statuses a status callback may carry.
pub const STATUSES: [&str; 10] = [
    "queued",
    "sending",
    "sent",
    "delivered",
    "undelivered",
    "failed",
    "read",
    "accepted",
    "scheduled",
    "canceled",
];

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(inbound).service(status_callback);
}

/// Why a body is not a form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the body is not a valid form: {0}")]
pub struct MalformedForm(&'static str);

/// Parses an `application/x-www-form-urlencoded` body strictly: a `%` must start a two-digit
/// hex escape and the decoded names and values must be UTF-8 (a lossy decoding would sign
/// and store something else than was sent).
pub fn parse_form(body: &[u8]) -> Result<Vec<(String, String)>, MalformedForm> {
    let mut pairs = Vec::new();
    for piece in body.split(|b| *b == b'&') {
        if piece.is_empty() {
            continue;
        }
        let (name, value) = match piece.iter().position(|b| *b == b'=') {
            Some(i) => (&piece[..i], &piece[i + 1..]),
            None => (piece, &piece[piece.len()..]),
        };
        pairs.push((decode(name)?, decode(value)?));
    }
    Ok(pairs)
}

fn decode(raw: &[u8]) -> Result<String, MalformedForm> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let byte = raw
                    .get(i + 1..i + 3)
                    .filter(|hex| hex.iter().all(u8::is_ascii_hexdigit))
                    .and_then(|hex| std::str::from_utf8(hex).ok())
                    .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                    .ok_or(MalformedForm(
                        "a '%' is not followed by two hexadecimal digits",
                    ))?;
                out.push(byte);
                i += 2;
            }
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| MalformedForm("a name or value is not UTF-8"))
}

/// The first value of `name`, if any.
pub fn field<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

/// The URL the provider signed: the configured public URL base (trailing `/` dropped) and
/// the request's path and query, or the request's own scheme and host when no public URL is
/// configured.
pub fn signed_url(public_url: &str, scheme: &str, host: &str, path_and_query: &str) -> String {
    let base = public_url.trim().trim_end_matches('/');
    if base.is_empty() {
        format!("{scheme}://{host}{path_and_query}")
    } else {
        format!("{base}{path_and_query}")
    }
}

/// A customer's text, as the provider posts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundSms {
    /// The provider's id of the message (`MessageSid`): the dedup key.
    pub sid: String,
    /// The sender's number (E.164).
    pub from: String,
    /// Our number it was sent to, when given.
    pub to: Option<String>,
    /// The text (empty for a picture-only message).
    pub body: String,
    /// Attached media (not stored; the text is).
    pub num_media: u32,
}

/// A provider message id: 1 to 64 ASCII letters and digits (Twilio's are `SM` + 32 hex).
fn valid_sid(sid: &str) -> bool {
    (1..=64).contains(&sid.len()) && sid.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The inbound message of a verified form, or what is wrong with it (422).
pub fn inbound_sms(params: &[(String, String)]) -> Result<InboundSms, String> {
    let sid = field(params, "MessageSid")
        .or_else(|| field(params, "SmsSid"))
        .map(str::trim)
        .unwrap_or_default();
    if !valid_sid(sid) {
        return Err("MessageSid is required (1 to 64 letters and digits)".to_owned());
    }
    let from = field(params, "From").map(str::trim).unwrap_or_default();
    if !is_e164(from) {
        return Err("From must be a phone number in E.164 form (+ and 8 to 15 digits)".to_owned());
    }
    let body = field(params, "Body").ok_or("Body is required (it may be empty)")?;
    let num_media = match field(params, "NumMedia").map(str::trim) {
        None | Some("") => 0,
        Some(n) => n
            .parse()
            .map_err(|_| "NumMedia must be a non-negative number".to_owned())?,
    };
    Ok(InboundSms {
        sid: sid.to_owned(),
        from: from.to_owned(),
        to: field(params, "To")
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned),
        body: body.to_owned(),
        num_media,
    })
}

/// A delivery status callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusCallback {
    pub sid: String,
    pub status: String,
    pub error_code: Option<String>,
}

/// The status callback of a verified form, or what is wrong with it (422).
pub fn status_callback_of(params: &[(String, String)]) -> Result<StatusCallback, String> {
    let sid = field(params, "MessageSid")
        .or_else(|| field(params, "SmsSid"))
        .map(str::trim)
        .unwrap_or_default();
    if !valid_sid(sid) {
        return Err("MessageSid is required (1 to 64 letters and digits)".to_owned());
    }
    let status = field(params, "MessageStatus")
        .or_else(|| field(params, "SmsStatus"))
        .map(|s| s.trim().to_ascii_lowercase())
        .unwrap_or_default();
    if !STATUSES.contains(&status.as_str()) {
        return Err(format!(
            "MessageStatus must be one of {}",
            STATUSES.join(", ")
        ));
    }
    let error_code = field(params, "ErrorCode")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|c| c.chars().take(16).collect());
    Ok(StatusCallback {
        sid: sid.to_owned(),
        status,
        error_code,
    })
}

/// Escapes text for an XML element.
fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// TwiML that answers with one message.
pub fn twiml_message(text: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><Response><Message>{}</Message></Response>"#,
        xml_escape(text)
    )
}

fn twiml(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/xml; charset=utf-8")
        .body(body)
}

/// True when the request says it carries a form.
fn is_form(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| {
            essence
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// The parameters of a request the provider signed, or why it is refused (see the module).
fn verified_form(
    state: &AppState,
    req: &HttpRequest,
    body: Result<web::Bytes, actix_web::Error>,
) -> Result<Vec<(String, String)>, ApiError> {
    let settings = &state.settings.sms;
    let token = settings.auth_token.expose_secret();
    if token.is_empty() {
        return Err(ApiError::new(
            ErrorKind::NotReady,
            "The SMS channel is not configured on this server.",
        ));
    }
    if !is_form(req) {
        return Err(ApiError::new(
            ErrorKind::UnsupportedMediaType,
            "Send the body as Content-Type: application/x-www-form-urlencoded.",
        ));
    }
    let body = body.map_err(crate::channels::provider::body_error)?;
    let given = req
        .headers()
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            ApiError::new(
                ErrorKind::Unauthenticated,
                "The X-Twilio-Signature header is required.",
            )
        })?;
    let params =
        parse_form(&body).map_err(|e| ApiError::new(ErrorKind::MalformedBody, e.to_string()))?;
    let url = {
        let info = req.connection_info();
        let path = req
            .uri()
            .path_and_query()
            .map_or_else(|| req.path(), |p| p.as_str());
        signed_url(&settings.public_url, info.scheme(), info.host(), path)
    };
    if !signature::validate(token, &url, &params, given) {
        tracing::warn!(%url, "An SMS webhook's signature does not match.");
        return Err(ApiError::forbidden(
            "The X-Twilio-Signature does not match this request.",
        ));
    }
    Ok(params)
}

/// `POST /v1/channels/sms`: a customer's text (see the module).
#[utoipa::path(
    tag = "sms",
    operation_id = "smsInbound",
    summary = "An inbound SMS (Twilio-compatible form): stored as the customer's message (deduplicated by MessageSid), or an opt-out/opt-in keyword answered with a confirmation",
    security(),
    params(
        ("X-Twilio-Signature" = String, Header, description = "base64(HMAC-SHA1(sms.auth_token, URL + the parameters sorted by name, each name + value)); URL = sms.public_url + path (+ query) when set, else the request's own URL; accepted with and without the port"),
    ),
    request_body(content = inline(crate::channels::openapi::bodies::SmsInbound), content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "TwiML", body = inline(crate::channels::openapi::bodies::TwimlReply), content_type = "text/xml"),
        (status = 400, description = "`malformed_body`: the body is not a valid form (bad % escape, not UTF-8) or could not be read", body = crate::channels::openapi::errors::MalformedBodyError),
        (status = 401, description = "`unauthenticated`: no X-Twilio-Signature", body = crate::channels::openapi::errors::UnauthenticatedError),
        (status = 403, description = "`forbidden`: the signature does not match", body = crate::channels::openapi::errors::ForbiddenError),
        (status = 409, description = "`conflict`: an opt-out/opt-in MessageSid already used for another text", body = crate::channels::openapi::errors::ConflictError),
        (status = 413, response = crate::channels::openapi::errors::PayloadTooLarge),
        (status = 415, description = "`unsupported_media_type`: not application/x-www-form-urlencoded", body = crate::channels::openapi::errors::UnsupportedMediaTypeError),
        (status = 422, description = "`invalid_request`: MessageSid missing or not 1–64 letters and digits, From not E.164, Body missing, NumMedia not a number", body = crate::channels::openapi::errors::InvalidRequestError),
        (status = 503, description = "`not_ready`: no sms.auth_token configured; or the message could not be stored yet", body = crate::channels::openapi::errors::NotReadyError),
    ),
)]
#[post("/v1/channels/sms")]
async fn inbound(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Result<web::Bytes, actix_web::Error>,
) -> Result<HttpResponse, ApiError> {
    let params = verified_form(&state, &req, body)?;
    let sms = inbound_sms(&params).map_err(ApiError::invalid)?;
    let text = sms.body.trim();
    if text.is_empty() {
        // A picture-only message: nothing to store or answer (media is not kept).
        tracing::info!(sid = %sms.sid, num_media = sms.num_media, "An SMS without text; ignored.");
        return Ok(twiml(EMPTY_TWIML.to_owned()));
    }
    match segments::keyword(text) {
        Some(Keyword::OptOut) => return Ok(twiml(keyword_answer(&state, &sms, true).await?)),
        Some(Keyword::OptIn) => return Ok(twiml(keyword_answer(&state, &sms, false).await?)),
        // HELP is a question like any other: the bot answers it.
        Some(Keyword::Help) | None => {}
    }
    let customer =
        identity::customer_for_phone(state.identities(), Channel::Sms, &sms.from).await?;
    let accepted = provider::submit(
        &state,
        &customer,
        Channel::Sms,
        sms.sid.clone(),
        &provider::clip(text),
    )
    .await?;
    tracing::info!(
        sid = %sms.sid,
        from = %identity::masked_phone(&sms.from),
        message_id = %accepted.message_id,
        duplicate = accepted.duplicate,
        "SMS received."
    );
    Ok(twiml(EMPTY_TWIML.to_owned()))
}

/// Records an opt-out (`opt_out`) or an opt-in once per `MessageSid` and answers its confirmation; a retry
/// gets the first answer, the same id with another text is refused (409).
async fn keyword_answer(
    state: &AppState,
    sms: &InboundSms,
    opt_out: bool,
) -> Result<String, ApiError> {
    let hash = provider::request_hash(&[
        b"sms-keyword",
        sms.sid.as_bytes(),
        sms.from.as_bytes(),
        sms.body.as_bytes(),
    ]);
    let first = |(stored_hash, response): (String, String)| {
        if stored_hash == hash {
            Ok(response)
        } else {
            Err(ApiError::new(
                ErrorKind::Conflict,
                "This MessageSid was used for another message.",
            ))
        }
    };
    if let Some(stored) = state
        .receipts()
        .find_webhook_receipt(CHANNEL, &sms.sid)
        .await?
    {
        return first(stored);
    }
    let now = Utc::now();
    let word: String = sms.body.trim().chars().take(32).collect();
    let answer = if opt_out {
        state
            .identities()
            .opt_out(Channel::Sms, &sms.from, &word, now)
            .await?;
        tracing::info!(from = %identity::masked_phone(&sms.from), keyword = %word, "SMS opt-out recorded.");
        twiml_message(OPT_OUT_CONFIRMATION)
    } else {
        let was_out = state.identities().opt_in(Channel::Sms, &sms.from).await?;
        tracing::info!(from = %identity::masked_phone(&sms.from), was_out, "SMS opt-in recorded.");
        twiml_message(OPT_IN_CONFIRMATION)
    };
    let stored = state
        .receipts()
        .webhook_receipt(CHANNEL, &sms.sid, &hash, &answer, now)
        .await?;
    first(stored)
}

/// `POST /v1/channels/sms/status`: a delivery status callback (see the module).
#[utoipa::path(
    tag = "sms",
    operation_id = "smsStatus",
    summary = "A delivery status callback: recorded on the outbound delivery whose provider ref is MessageSid (an unknown sid is answered 200 too)",
    security(),
    params(
        ("X-Twilio-Signature" = String, Header, description = "base64(HMAC-SHA1(sms.auth_token, URL + the parameters sorted by name, each name + value)); URL = sms.public_url + path (+ query) when set, else the request's own URL; accepted with and without the port"),
    ),
    request_body(content = inline(crate::channels::openapi::bodies::SmsStatusCallback), content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "TwiML <Response></Response>", body = String, content_type = "text/xml"),
        (status = 400, description = "`malformed_body`: the body is not a valid form (bad % escape, not UTF-8) or could not be read", body = crate::channels::openapi::errors::MalformedBodyError),
        (status = 401, description = "`unauthenticated`: no X-Twilio-Signature", body = crate::channels::openapi::errors::UnauthenticatedError),
        (status = 403, description = "`forbidden`: the signature does not match", body = crate::channels::openapi::errors::ForbiddenError),
        (status = 413, response = crate::channels::openapi::errors::PayloadTooLarge),
        (status = 415, description = "`unsupported_media_type`: not application/x-www-form-urlencoded", body = crate::channels::openapi::errors::UnsupportedMediaTypeError),
        (status = 422, description = "`invalid_request`: MessageSid missing or not 1–64 letters and digits, an unknown MessageStatus", body = crate::channels::openapi::errors::InvalidRequestError),
        (status = 503, description = "`not_ready`: no sms.auth_token configured; or the message could not be stored yet", body = crate::channels::openapi::errors::NotReadyError),
    ),
)]
#[post("/v1/channels/sms/status")]
async fn status_callback(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Result<web::Bytes, actix_web::Error>,
) -> Result<HttpResponse, ApiError> {
    let params = verified_form(&state, &req, body)?;
    let callback = status_callback_of(&params).map_err(ApiError::invalid)?;
    let known = state
        .receipts()
        .record_provider_status(CHANNEL, &callback.sid, &callback.status, Utc::now())
        .await?;
    let error_code = callback.error_code.as_deref().unwrap_or_default();
    if !known {
        // Answered 200 all the same: the provider would retry an error forever.
        tracing::warn!(sid = %callback.sid, status = %callback.status, "SMS status for a delivery this server does not know.");
    } else if matches!(callback.status.as_str(), "failed" | "undelivered") {
        tracing::warn!(sid = %callback.sid, status = %callback.status, error_code, "SMS not delivered.");
    } else {
        tracing::debug!(sid = %callback.sid, status = %callback.status, "SMS status recorded.");
    }
    Ok(twiml(EMPTY_TWIML.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn forms_decode_strictly() {
        assert_eq!(
            parse_form(
                b"MessageSid=SM1&From=%2B8613800138000&Body=%E4%BD%A0%E5%A5%BD+there&Empty=&Flag"
            ),
            Ok(pairs(&[
                ("MessageSid", "SM1"),
                ("From", "+8613800138000"),
                ("Body", "你好 there"),
                ("Empty", ""),
                ("Flag", ""),
            ]))
        );
        assert_eq!(parse_form(b""), Ok(Vec::new()));
        assert!(parse_form(b"Body=%ZZ").is_err(), "not hex");
        assert!(parse_form(b"Body=%4").is_err(), "cut short");
        assert!(parse_form(b"Body=%+1").is_err(), "a sign is no digit");
        assert!(parse_form(b"Body=%FF").is_err(), "not UTF-8");
        assert!(parse_form(b"Body=\xff").is_err(), "raw bytes not UTF-8");
    }

    #[test]
    fn inbound_forms_need_a_sid_an_e164_sender_and_a_body() {
        let form = pairs(&[
            ("MessageSid", "SM0123456789abcdef0123456789abcdef"),
            ("From", "+8613800138000"),
            ("To", "+15005550006"),
            ("Body", "Where is my parcel?"),
            ("NumMedia", "0"),
        ]);
        assert_eq!(
            inbound_sms(&form),
            Ok(InboundSms {
                sid: "SM0123456789abcdef0123456789abcdef".to_owned(),
                from: "+8613800138000".to_owned(),
                to: Some("+15005550006".to_owned()),
                body: "Where is my parcel?".to_owned(),
                num_media: 0,
            })
        );
        let without = |name: &str| -> Vec<(String, String)> {
            form.iter().filter(|(k, _)| k != name).cloned().collect()
        };
        assert!(inbound_sms(&without("MessageSid")).is_err());
        assert!(inbound_sms(&without("From")).is_err());
        assert!(inbound_sms(&without("Body")).is_err());
        assert!(inbound_sms(&without("To")).is_ok(), "To is optional");
        let mut local = form.clone();
        local[1].1 = "13800138000".to_owned();
        assert!(inbound_sms(&local).is_err(), "not E.164");
        let mut odd_sid = form.clone();
        odd_sid[0].1 = "SM 1/../x".to_owned();
        assert!(inbound_sms(&odd_sid).is_err());
    }

    #[test]
    fn status_callbacks_name_a_known_status() {
        let callback = status_callback_of(&pairs(&[
            ("MessageSid", "SM1"),
            ("MessageStatus", "undelivered"),
            ("ErrorCode", "30003"),
        ]));
        assert_eq!(
            callback,
            Ok(StatusCallback {
                sid: "SM1".to_owned(),
                status: "undelivered".to_owned(),
                error_code: Some("30003".to_owned()),
            })
        );
        assert!(
            status_callback_of(&pairs(&[("MessageSid", "SM1"), ("MessageStatus", "lost")]))
                .is_err()
        );
        assert!(status_callback_of(&pairs(&[("MessageStatus", "sent")])).is_err());
    }

    #[test]
    fn the_signed_url_is_the_public_one_when_configured() {
        assert_eq!(
            signed_url(
                "https://cc.example.com/",
                "http",
                "10.0.0.5:8080",
                "/v1/channels/sms?x=1"
            ),
            "https://cc.example.com/v1/channels/sms?x=1"
        );
        assert_eq!(
            signed_url("  ", "http", "127.0.0.1:8080", "/v1/channels/sms/status"),
            "http://127.0.0.1:8080/v1/channels/sms/status"
        );
    }

    #[test]
    fn twiml_answers_escape_their_text() {
        assert_eq!(
            twiml_message("a<b & \"c\""),
            r#"<?xml version="1.0" encoding="UTF-8"?><Response><Message>a&lt;b &amp; &quot;c&quot;</Message></Response>"#
        );
        assert!(twiml_message(OPT_OUT_CONFIRMATION).contains("您已退订"));
    }
}
