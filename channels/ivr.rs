//! Phone IVR channel (issue 6): the telephony platform's speech and keypad events in, call
//! instructions out.
//!
//! `POST /v1/channels/ivr/events` takes one JSON event per request, signed as Standard
//! Webhooks with the `[ivr] secret` (`webhook-id`, `webhook-timestamp`,
//! `webhook-signature: v1,<base64 HMAC-SHA256>`, see [`crate::signing::webhooks::verify`]):
//!
//! - `{"type":"call.started","call_id","from","to","language"?}`: the caller (`from`, E.164)
//!   is the customer behind that verified number (linked for SMS and IVR, [`crate::identity`]);
//!   answered with a greeting and a prompt to speak or press keys.
//! - `{"type":"transcript","call_id","from","text","confidence","final","language"?}`: an ASR
//!   segment. Partial segments (`final: false`) are acknowledged with no instruction; a final
//!   one below `[ivr] min_confidence` asks the caller to repeat (nothing is stored); otherwise
//!   the text is the customer's message (stored, answered by the bot) and the bot's answers are
//!   spoken, or the call is transferred to the voice queue when the message handed off.
//! - `{"type":"dtmf","call_id","from","digits","language"?}`: keys pressed. `0` asks for an
//!   agent (the text "人工" / "agent"); other digits are the customer's message as they are.
//! - `{"type":"call.ended","call_id","from","reason"?}`: acknowledged; a call still waiting
//!   for an agent leaves the queue (an abandonment in the queue figures).
//!
//! Every event carries the call and the caller, so nothing about a call is kept here. The
//! optional `language` (`zh`, `en`) chooses the language of our own prompts; without it a
//! transcript's text decides (Simplified Chinese by default).
//!
//! The answer is 200 `{"call_id","instructions":[…]}`, instructions being
//! `{"type":"say","text","language":"zh-CN|en-US"}`,
//! `{"type":"collect","input":["speech","dtmf"],"timeout_secs":8}`,
//! `{"type":"transfer","target":{"queue":"voice"},"task":{"conversation_id","customer_id"},
//! "context":{"transcript":[{"from","text"}…]}}` (the call waits in the voice queue for the
//! agent the dispatcher picks; the context is what the caller said so far) and
//! `{"type":"hangup"}`.
//!
//! Idempotency: the first 200 answer to a `webhook-id` is stored with the body's fingerprint.
//! A provider's retry (same id, same body, fresh timestamp and signature) gets that answer
//! byte for byte and stores nothing again; the same id with another body is a replay (403).
//! Missing signature headers are 401, a bad signature or a stale timestamp 403, an unreadable
//! body 400 `malformed_json`, a well-formed but invalid event 422, and without a secret the
//! channel is off (503 `not_ready`).

use actix_web::{post, web, HttpRequest, HttpResponse};
use chrono::Utc;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use super::provider;
use crate::channels::state::AppState;
use crate::domain::{Channel, ConversationStatus, CustomerId, Language, Sender};
use crate::error::{ApiError, ErrorKind};
use crate::signing::app_token::is_e164;
use crate::signing::webhooks::{self, VerifyError};

/// The channel's name in webhook receipts.
pub const RECEIPT_CHANNEL: &str = "ivr";
/// Longest `call_id` (characters).
pub const MAX_CALL_ID: usize = 128;
/// Longest `webhook-id` (characters).
pub const MAX_WEBHOOK_ID: usize = 256;
/// Most keys in one `dtmf` event.
pub const MAX_DIGITS: usize = 32;
/// Seconds the platform listens for speech or keys after our prompt.
pub const COLLECT_TIMEOUT_SECS: u32 = 8;
/// The queue a handed-off call waits in.
pub const VOICE_QUEUE: &str = "voice";

// ---------------------------------------------------------------------------------------
// Events (pure)

/// An event as the platform sends it, before validation.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", deny_unknown_fields)]
#[schema(as = IvrEvent)]
enum WireEvent {
    #[serde(rename = "call.started")]
    CallStarted {
        /// Not blank, no control characters
        #[schema(min_length = 1, max_length = 128)]
        call_id: String,
        /// The caller, E.164 (+ and 8 to 15 digits)
        #[schema(pattern = r"^\+[1-9][0-9]{7,14}$")]
        from: String,
        /// The dialled number: + optional, 3 to 15 digits (service numbers included)
        #[schema(pattern = r"^\+?[0-9]{3,15}$")]
        to: String,
        /// Language of our prompts
        #[serde(default)]
        #[schema(nullable = false, schema_with = crate::channels::openapi::bodies::language_code)]
        language: Option<String>,
    },
    #[serde(rename = "transcript")]
    Transcript {
        /// Not blank, no control characters
        #[schema(min_length = 1, max_length = 128)]
        call_id: String,
        /// The caller, E.164 (+ and 8 to 15 digits)
        #[schema(pattern = r"^\+[1-9][0-9]{7,14}$")]
        from: String,
        /// No control characters besides tab and line breaks
        text: String,
        #[schema(minimum = 0, maximum = 1)]
        confidence: f64,
        /// Partial segments (false) get no instructions
        #[serde(rename = "final")]
        is_final: bool,
        /// Language of our prompts
        #[serde(default)]
        #[schema(nullable = false, schema_with = crate::channels::openapi::bodies::language_code)]
        language: Option<String>,
    },
    #[serde(rename = "dtmf")]
    Dtmf {
        /// Not blank, no control characters
        #[schema(min_length = 1, max_length = 128)]
        call_id: String,
        /// The caller, E.164 (+ and 8 to 15 digits)
        #[schema(pattern = r"^\+[1-9][0-9]{7,14}$")]
        from: String,
        /// 0 alone asks for an agent
        #[schema(pattern = "^[0-9*#]{1,32}$")]
        digits: String,
        /// Language of our prompts
        #[serde(default)]
        #[schema(nullable = false, schema_with = crate::channels::openapi::bodies::language_code)]
        language: Option<String>,
    },
    #[serde(rename = "call.ended")]
    CallEnded {
        /// Not blank, no control characters
        #[schema(min_length = 1, max_length = 128)]
        call_id: String,
        /// The caller, E.164 (+ and 8 to 15 digits)
        #[schema(pattern = r"^\+[1-9][0-9]{7,14}$")]
        from: String,
        /// Printable characters
        #[serde(default)]
        #[schema(nullable = false, max_length = 128)]
        reason: Option<String>,
        /// Language of our prompts
        #[serde(default)]
        #[schema(nullable = false, schema_with = crate::channels::openapi::bodies::language_code)]
        language: Option<String>,
    },
}

/// A validated event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The platform's call id (1..=128 characters).
    pub call_id: String,
    /// The caller's number, E.164.
    pub from: String,
    /// The language the event names, if any.
    pub language: Option<Language>,
    pub kind: EventKind,
}

/// What happened on the call.
#[derive(Debug, Clone, PartialEq)]
pub enum EventKind {
    CallStarted {
        /// The dialled number (E.164 or a short service number).
        to: String,
    },
    Transcript {
        text: String,
        confidence: f64,
        is_final: bool,
    },
    Dtmf {
        digits: String,
    },
    CallEnded {
        reason: Option<String>,
    },
}

/// Why an event body is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    /// Not JSON at all (400 `malformed_json`).
    #[error("the body is not valid JSON: {0}")]
    Malformed(String),
    /// JSON of the wrong shape or with invalid values (422).
    #[error("{0}")]
    Invalid(String),
}

impl From<EventError> for ApiError {
    fn from(e: EventError) -> Self {
        match e {
            EventError::Malformed(_) => ApiError::new(ErrorKind::MalformedJson, e.to_string()),
            EventError::Invalid(message) => ApiError::invalid(message),
        }
    }
}

fn invalid(message: impl Into<String>) -> EventError {
    EventError::Invalid(message.into())
}

fn has_control(text: &str) -> bool {
    text.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
}

fn check_call_id(call_id: &str) -> Result<(), EventError> {
    if call_id.trim().is_empty() {
        return Err(invalid("call_id must not be empty"));
    }
    if call_id.chars().count() > MAX_CALL_ID {
        return Err(invalid(format!(
            "call_id is longer than {MAX_CALL_ID} characters"
        )));
    }
    if call_id.chars().any(char::is_control) {
        return Err(invalid("call_id contains control characters"));
    }
    Ok(())
}

fn check_phone(field: &str, phone: &str) -> Result<(), EventError> {
    if is_e164(phone) {
        Ok(())
    } else {
        Err(invalid(format!(
            "{field} must be a phone number in E.164 (+ and 8 to 15 digits)"
        )))
    }
}

/// The dialled number: E.164, or a short service number (95555, 10086) with an optional `+`.
fn check_dialled(to: &str) -> Result<(), EventError> {
    let digits = to.strip_prefix('+').unwrap_or(to);
    if (3..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(invalid("to must be a phone number (+ and 3 to 15 digits)"))
    }
}

fn check_language(language: Option<String>) -> Result<Option<Language>, EventError> {
    language
        .map(|l| Language::parse(&l).map_err(|_| invalid("language must be zh or en")))
        .transpose()
}

/// Parses and validates one event body.
pub fn parse_event(body: &[u8]) -> Result<Event, EventError> {
    let wire: WireEvent = serde_json::from_slice(body).map_err(|e| {
        if e.is_data() {
            invalid(format!("The body is not a valid IVR event: {e}"))
        } else {
            EventError::Malformed(e.to_string())
        }
    })?;
    let (call_id, from, language, kind) = match wire {
        WireEvent::CallStarted {
            call_id,
            from,
            to,
            language,
        } => {
            check_dialled(&to)?;
            (call_id, from, language, EventKind::CallStarted { to })
        }
        WireEvent::Transcript {
            call_id,
            from,
            text,
            confidence,
            is_final,
            language,
        } => {
            if !(0.0..=1.0).contains(&confidence) {
                return Err(invalid("confidence must be between 0 and 1"));
            }
            if has_control(&text) {
                return Err(invalid("text contains control characters"));
            }
            let kind = EventKind::Transcript {
                text,
                confidence,
                is_final,
            };
            (call_id, from, language, kind)
        }
        WireEvent::Dtmf {
            call_id,
            from,
            digits,
            language,
        } => {
            if digits.is_empty() || digits.len() > MAX_DIGITS {
                return Err(invalid(format!("digits must be 1 to {MAX_DIGITS} keys")));
            }
            if !digits
                .bytes()
                .all(|b| b.is_ascii_digit() || b == b'*' || b == b'#')
            {
                return Err(invalid("digits may only contain 0-9, * and #"));
            }
            (call_id, from, language, EventKind::Dtmf { digits })
        }
        WireEvent::CallEnded {
            call_id,
            from,
            reason,
            language,
        } => {
            if let Some(reason) = &reason {
                if reason.chars().count() > 128 || has_control(reason) {
                    return Err(invalid("reason must be at most 128 printable characters"));
                }
            }
            (call_id, from, language, EventKind::CallEnded { reason })
        }
    };
    check_call_id(&call_id)?;
    check_phone("from", &from)?;
    let language = check_language(language)?;
    Ok(Event {
        call_id,
        from,
        language,
        kind,
    })
}

impl Event {
    /// The language of our prompts: the one the event names, else that of a transcript's
    /// text, else Simplified Chinese.
    pub fn language(&self) -> Language {
        match (&self.language, &self.kind) {
            (Some(language), _) => *language,
            (None, EventKind::Transcript { text, .. }) if !text.trim().is_empty() => {
                Language::detect(text)
            }
            _ => Language::Zh,
        }
    }
}

/// What to do with a validated event (pure: decided from the event and the settings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// A new call: find or create the caller, greet them.
    Greet,
    /// Nothing to do (a partial transcript).
    Ack,
    /// The caller hung up: a call still waiting for an agent is abandoned.
    HangUp,
    /// Speech we are not sure of: ask again, store nothing.
    AskAgain,
    /// The customer's message, to store and answer.
    Submit(String),
}

/// Decides what an event asks for. Final transcripts below `min_confidence` (or empty ones)
/// are asked again; the `0` key asks for an agent.
pub fn action(event: &Event, min_confidence: f64) -> Action {
    match &event.kind {
        EventKind::CallStarted { .. } => Action::Greet,
        EventKind::CallEnded { .. } => Action::HangUp,
        EventKind::Transcript {
            is_final: false, ..
        } => Action::Ack,
        EventKind::Transcript {
            text, confidence, ..
        } => {
            if *confidence < min_confidence || text.trim().is_empty() {
                Action::AskAgain
            } else {
                Action::Submit(provider::clip(text.trim()))
            }
        }
        EventKind::Dtmf { digits } if digits == "0" => Action::Submit(
            match event.language() {
                Language::Zh => "人工",
                Language::En => "agent",
            }
            .to_owned(),
        ),
        EventKind::Dtmf { digits } => Action::Submit(digits.clone()),
    }
}

/// One line of what was said on the call, for the agent who takes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TranscriptLine {
    pub from: String,
    pub text: String,
}

/// How an event ended, to be turned into instructions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Acknowledged, nothing to say.
    Ack,
    /// The call started: greet.
    Greeted,
    /// Speech not understood well enough: ask again.
    AskAgain,
    /// The message is stored; the bot's answers (none while an agent owns the conversation).
    Answered { replies: Vec<String> },
    /// The message handed the conversation to the agents: transfer the call.
    Transfer {
        conversation_id: String,
        customer_id: String,
        transcript: Vec<TranscriptLine>,
        /// The agent who already owns the conversation (the call goes to them), else the
        /// voice queue.
        agent_id: Option<String>,
    },
}

/// A call instruction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
#[schema(as = IvrInstruction)]
pub enum Instruction {
    Say {
        text: String,
        /// `zh-CN` or `en-US` (the TTS voice).
        #[schema(schema_with = crate::channels::openapi::bodies::voice_code)]
        language: String,
    },
    Collect {
        /// `speech`, `dtmf`
        input: Vec<String>,
        timeout_secs: u32,
    },
    Transfer {
        /// The voice queue, or the agent who already owns the conversation
        target: TransferTarget,
        #[schema(inline)]
        task: TransferTask,
        /// What the customer said so far
        context: TransferContext,
    },
    Hangup,
}

/// Where a transferred call goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TransferTarget {
    /// The queue the call waits in for the agent the dispatcher picks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub queue: Option<String>,
    /// The agent who owns the conversation already.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub agent_id: Option<String>,
}

/// The task the transferred call belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TransferTask {
    pub conversation_id: String,
    pub customer_id: String,
}

/// What the agent sees of the call so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TransferContext {
    #[schema(inline)]
    pub transcript: Vec<TranscriptLine>,
}

/// The answer to an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Response {
    pub call_id: String,
    pub instructions: Vec<Instruction>,
}

/// The TTS voice of a language.
pub fn voice(language: Language) -> &'static str {
    match language {
        Language::Zh => "zh-CN",
        Language::En => "en-US",
    }
}

fn say(language: Language, zh: &str, en: &str) -> Instruction {
    Instruction::Say {
        text: match language {
            Language::Zh => zh,
            Language::En => en,
        }
        .to_owned(),
        language: voice(language).to_owned(),
    }
}

fn collect() -> Instruction {
    Instruction::Collect {
        input: vec!["speech".to_owned(), "dtmf".to_owned()],
        timeout_secs: COLLECT_TIMEOUT_SECS,
    }
}

/// The instructions for an outcome, with prompts in `language` (bot answers are spoken in
/// their own language).
pub fn instructions(language: Language, outcome: Outcome) -> Vec<Instruction> {
    match outcome {
        Outcome::Ack => Vec::new(),
        Outcome::Greeted => vec![
            say(
                language,
                "您好，这里是智能客服，请问有什么可以帮您？转人工服务请按0。",
                "Hello, this is the virtual assistant. How can I help you? For an agent, press 0.",
            ),
            collect(),
        ],
        Outcome::AskAgain => vec![
            say(
                language,
                "抱歉，我没有听清，请您再说一遍。",
                "Sorry, I didn't catch that. Could you please say it again?",
            ),
            collect(),
        ],
        Outcome::Answered { replies } => replies
            .into_iter()
            .map(|text| Instruction::Say {
                language: voice(Language::detect(&text)).to_owned(),
                text,
            })
            .chain(std::iter::once(collect()))
            .collect(),
        Outcome::Transfer {
            conversation_id,
            customer_id,
            transcript,
            agent_id,
        } => vec![
            if agent_id.is_some() {
                say(
                    language,
                    "正在为您接通正在处理您问题的客服，请稍候。",
                    "Connecting you to the agent handling your case, please hold.",
                )
            } else {
                say(
                    language,
                    "正在为您转接人工客服，请稍候。",
                    "Connecting you to an agent, please hold.",
                )
            },
            Instruction::Transfer {
                target: TransferTarget {
                    queue: agent_id.is_none().then(|| VOICE_QUEUE.to_owned()),
                    agent_id,
                },
                task: TransferTask {
                    conversation_id,
                    customer_id,
                },
                context: TransferContext { transcript },
            },
        ],
    }
}

// ---------------------------------------------------------------------------------------
// The edge (I/O)

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(events);
}

fn header<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// `POST /v1/channels/ivr/events`: one signed event, answered with call instructions.
#[utoipa::path(
    tag = "ivr",
    operation_id = "ivrEvent",
    summary = "One IVR event (call.started, transcript, dtmf, call.ended), signed as Standard Webhooks with ivr.secret (any Content-Type); answered with call instructions. A retried webhook-id with the same body gets the first answer",
    security(),
    params(
        ("webhook-id" = String, Header, description = "At most 256 characters; the idempotency key"),
        ("webhook-timestamp" = String, Header, description = "Unix seconds, within ivr.timestamp_tolerance_secs"),
        ("webhook-signature" = String, Header, description = "v1,<base64 HMAC-SHA256(key, \"{webhook-id}.{webhook-timestamp}.{body}\")>; several may be sent, space-separated"),
    ),
    request_body(content = WireEvent, example = json!({"type": "transcript", "call_id": "call-1", "from": "+8613800138000", "text": "我要退款", "confidence": 0.92, "final": true})),
    responses(
        (status = 200, description = "Instructions (empty for a partial transcript and call.ended)", body = inline(Response)),
        (status = 400, description = "`malformed_json`: the body is not JSON; `malformed_body`: it could not be read", body = crate::channels::openapi::errors::MalformedJsonOrMalformedBodyError),
        (status = 401, description = "`unauthenticated`: a webhook-* header missing or empty, or a timestamp that is not a number", body = crate::channels::openapi::errors::UnauthenticatedError),
        (status = 403, description = "`forbidden`: stale timestamp, no matching signature, or a webhook-id reused for another body", body = crate::channels::openapi::errors::ForbiddenError),
        (status = 413, response = crate::channels::openapi::errors::PayloadTooLarge),
        (status = 422, description = "`invalid_request`: webhook-id over 256 characters; unknown type, missing or unknown fields, invalid values", body = crate::channels::openapi::errors::InvalidRequestError),
        (status = 503, description = "`not_ready`: no ivr.secret configured; or the event could not be recorded yet", body = crate::channels::openapi::errors::NotReadyError),
    ),
)]
#[post("/v1/channels/ivr/events")]
async fn events(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Result<web::Bytes, actix_web::Error>,
) -> Result<HttpResponse, ApiError> {
    let settings = &state.settings.ivr;
    let secret = settings.secret.expose_secret();
    if secret.trim().is_empty() {
        return Err(ApiError::new(
            ErrorKind::NotReady,
            "The IVR channel is not configured on this server.",
        ));
    }
    let key = webhooks::secret_key(secret).map_err(|e| ApiError {
        source: Some(e.into()),
        ..ApiError::new(
            ErrorKind::NotReady,
            "The IVR channel is misconfigured on this server.",
        )
    })?;
    let body = body.map_err(crate::channels::provider::body_error)?;
    let (Some(id), Some(timestamp), Some(signatures)) = (
        header(&req, "webhook-id"),
        header(&req, "webhook-timestamp"),
        header(&req, "webhook-signature"),
    ) else {
        return Err(missing_signature());
    };
    webhooks::verify(
        &key,
        id,
        timestamp,
        signatures,
        &body,
        Utc::now().timestamp(),
        settings.timestamp_tolerance_secs,
    )
    .map_err(|e| match e {
        VerifyError::Missing => missing_signature(),
        VerifyError::Stale => ApiError::forbidden(
            "The webhook timestamp is too far from now (a replay, or a clock far off).",
        ),
        VerifyError::BadSignature => ApiError::forbidden("The webhook signature does not match."),
    })?;
    if id.chars().count() > MAX_WEBHOOK_ID {
        return Err(ApiError::invalid(format!(
            "webhook-id is longer than {MAX_WEBHOOK_ID} characters"
        )));
    }

    // A provider's retry gets the first answer; the same id with another body is a replay.
    let hash = provider::request_hash(&[&body]);
    if let Some((first_hash, response)) = state
        .receipts()
        .find_webhook_receipt(RECEIPT_CHANNEL, id)
        .await?
    {
        return answer_receipt(&hash, first_hash, response);
    }
    let event = parse_event(&body)?;
    let response = Response {
        call_id: event.call_id.clone(),
        instructions: instructions(event.language(), handle(&state, &event, id).await?),
    };
    let response = serde_json::to_string(&response).map_err(ApiError::internal)?;
    // Concurrent deliveries of one event agree on the first stored answer.
    let (first_hash, response) = state
        .receipts()
        .webhook_receipt(RECEIPT_CHANNEL, id, &hash, &response, Utc::now())
        .await?;
    answer_receipt(&hash, first_hash, response)
}

fn missing_signature() -> ApiError {
    ApiError::new(
        ErrorKind::Unauthenticated,
        "webhook-id, webhook-timestamp and webhook-signature are required.",
    )
}

/// The stored answer to an event id, if it was stored for this body.
fn answer_receipt(
    hash: &str,
    first_hash: String,
    response: String,
) -> Result<HttpResponse, ApiError> {
    if first_hash != hash {
        return Err(ApiError::forbidden(
            "This webhook-id was already used for another event (a replay).",
        ));
    }
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(response))
}

/// Carries out what the event asks for.
async fn handle(state: &AppState, event: &Event, webhook_id: &str) -> Result<Outcome, ApiError> {
    let text = match action(event, state.settings.ivr.min_confidence) {
        Action::Ack => return Ok(Outcome::Ack),
        Action::HangUp => {
            let known = state
                .identities()
                .find_identity(Channel::Ivr, &event.from)
                .await?;
            if let Some(customer_id) = known {
                state
                    .sessions
                    .command(crate::actors::protocol::SessionCommand::CallEnded { customer_id })
                    .await
                    .map_err(|_| {
                        ApiError::new(
                            ErrorKind::NotReady,
                            "The hang-up could not be recorded; retry.",
                        )
                    })?;
            }
            return Ok(Outcome::Ack);
        }
        Action::AskAgain => return Ok(Outcome::AskAgain),
        Action::Greet => {
            crate::identity::customer_for_phone(state.identities(), Channel::Ivr, &event.from)
                .await?;
            return Ok(Outcome::Greeted);
        }
        Action::Submit(text) => text,
    };
    let customer: CustomerId =
        crate::identity::customer_for_phone(state.identities(), Channel::Ivr, &event.from).await?;
    let external_id = format!("{}:{webhook_id}", event.call_id);
    let accepted = provider::submit(state, &customer, Channel::Ivr, external_id, &text).await?;
    // A conversation waiting for an agent (handed off earlier in the call, on another
    // channel, or by the first copy of a repeated event) takes the call to the queue too; one
    // an agent owns already takes it to that agent.
    let conversation = state
        .conversations()
        .conversation(&accepted.conversation_id)
        .await?;
    let waiting = !accepted.handoff
        && conversation
            .as_ref()
            .is_some_and(|c| c.status == ConversationStatus::Queued);
    let owner = conversation
        .filter(|c| !accepted.handoff && c.status == ConversationStatus::Assigned)
        .and_then(|c| c.agent_id);
    if !(accepted.handoff || waiting || owner.is_some()) {
        return Ok(Outcome::Answered {
            replies: accepted.replies.into_iter().map(|r| r.text).collect(),
        });
    }
    let transcript = state
        .conversations()
        .conversation_messages(&accepted.conversation_id)
        .await?
        .into_iter()
        .filter(|m| m.from == Sender::Customer)
        .map(|m| TranscriptLine {
            from: m.from.as_str().to_owned(),
            text: m.text,
        })
        .collect();
    Ok(Outcome::Transfer {
        conversation_id: accepted.conversation_id.to_string(),
        customer_id: customer.to_string(),
        transcript,
        agent_id: owner.map(|a| a.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn parse(value: Value) -> Result<Event, EventError> {
        parse_event(value.to_string().as_bytes())
    }

    fn transcript(text: &str, confidence: f64, is_final: bool) -> Event {
        parse(
            json!({"type": "transcript", "call_id": "c1", "from": "+8613800138000",
            "text": text, "confidence": confidence, "final": is_final}),
        )
        .expect("valid transcript")
    }

    #[test]
    fn every_event_type_parses() {
        let started = parse(json!({"type": "call.started", "call_id": "c1",
            "from": "+8613800138000", "to": "95555", "language": "en"}))
        .expect("call.started");
        assert_eq!(started.kind, EventKind::CallStarted { to: "95555".into() });
        assert_eq!(started.language, Some(Language::En));
        assert_eq!(
            transcript("我想退款", 0.9, true).kind,
            EventKind::Transcript {
                text: "我想退款".into(),
                confidence: 0.9,
                is_final: true
            }
        );
        let dtmf = parse(
            json!({"type": "dtmf", "call_id": "c1", "from": "+14155550100",
            "digits": "12*#"}),
        )
        .expect("dtmf");
        assert_eq!(
            dtmf.kind,
            EventKind::Dtmf {
                digits: "12*#".into()
            }
        );
        let ended = parse(json!({"type": "call.ended", "call_id": "c1",
            "from": "+14155550100"}))
        .expect("call.ended");
        assert_eq!(ended.kind, EventKind::CallEnded { reason: None });
    }

    #[test]
    fn broken_json_is_malformed_and_wrong_shapes_are_invalid() {
        assert!(matches!(
            parse_event(b"{\"type\": "),
            Err(EventError::Malformed(_))
        ));
        assert!(matches!(parse_event(b""), Err(EventError::Malformed(_))));
        let base = json!({"type": "dtmf", "call_id": "c1", "from": "+14155550100",
            "digits": "1"});
        let cases = [
            ("type", json!("call.transferred")),
            ("from", json!("13800138000")),
            ("from", json!("+0123456789")),
            ("digits", json!("")),
            ("digits", json!("12a")),
            ("digits", json!("1".repeat(33))),
            ("call_id", json!("")),
            ("call_id", json!("c".repeat(129))),
            ("language", json!("fr")),
            ("extra", json!(1)),
            ("digits", json!(1)),
        ];
        for (field, value) in cases {
            let mut body = base.clone();
            body[field] = value.clone();
            assert!(
                matches!(parse(body), Err(EventError::Invalid(_))),
                "{field} = {value}"
            );
        }
        for confidence in [-0.1, 1.5] {
            let body = json!({"type": "transcript", "call_id": "c1",
                "from": "+14155550100", "text": "hi", "confidence": confidence, "final": true});
            assert!(matches!(parse(body), Err(EventError::Invalid(_))));
        }
        let missing = json!({"type": "transcript", "call_id": "c1", "from": "+14155550100",
            "text": "hi", "final": true});
        assert!(matches!(parse(missing), Err(EventError::Invalid(_))));
        assert!(matches!(
            parse(json!({"call_id": "c1", "from": "+14155550100"})),
            Err(EventError::Invalid(_))
        ));
    }

    #[test]
    fn transcripts_are_acted_on_only_when_final_and_confident() {
        assert_eq!(action(&transcript("退款", 0.9, false), 0.6), Action::Ack);
        assert_eq!(
            action(&transcript("退款", 0.5, true), 0.6),
            Action::AskAgain
        );
        assert_eq!(action(&transcript("  ", 0.9, true), 0.6), Action::AskAgain);
        assert_eq!(
            action(&transcript(" 退款 ", 0.6, true), 0.6),
            Action::Submit("退款".into())
        );
        let long = "话".repeat(5000);
        let Action::Submit(clipped) = action(&transcript(&long, 1.0, true), 0.6) else {
            panic!("long speech is still the customer's message");
        };
        assert_eq!(
            clipped.chars().count(),
            crate::domain::MessageText::MAX_CHARS
        );
    }

    #[test]
    fn zero_asks_for_an_agent_in_the_callers_language() {
        let key = |digits: &str, language: Option<&str>| {
            let mut body = json!({"type": "dtmf", "call_id": "c1", "from": "+14155550100",
                "digits": digits});
            if let Some(language) = language {
                body["language"] = json!(language);
            }
            action(&parse(body).expect("dtmf"), 0.6)
        };
        assert_eq!(key("0", None), Action::Submit("人工".into()));
        assert_eq!(key("0", Some("en")), Action::Submit("agent".into()));
        assert_eq!(key("123#", None), Action::Submit("123#".into()));
    }

    #[test]
    fn prompts_follow_the_event_language_or_the_text() {
        assert_eq!(
            transcript("I want a refund", 0.9, true).language(),
            Language::En
        );
        assert_eq!(transcript("我要退款", 0.9, true).language(), Language::Zh);
        let started = parse(json!({"type": "call.started", "call_id": "c1",
            "from": "+8613800138000", "to": "+862112345678"}))
        .expect("call.started");
        assert_eq!(started.language(), Language::Zh);
        let greeting = instructions(Language::Zh, Outcome::Greeted);
        assert!(matches!(&greeting[0],
            Instruction::Say { text, language } if text.contains("您好") && language == "zh-CN"));
        let greeting = instructions(Language::En, Outcome::Greeted);
        assert!(matches!(&greeting[0],
            Instruction::Say { text, language } if text.contains("Hello") && language == "en-US"));
    }

    #[test]
    fn instructions_serialize_as_documented() {
        let answered = instructions(
            Language::Zh,
            Outcome::Answered {
                replies: vec!["退款会在3个工作日内到账。".into(), "Anything else?".into()],
            },
        );
        assert_eq!(
            serde_json::to_value(&answered).expect("json"),
            json!([
                {"type": "say", "text": "退款会在3个工作日内到账。", "language": "zh-CN"},
                {"type": "say", "text": "Anything else?", "language": "en-US"},
                {"type": "collect", "input": ["speech", "dtmf"], "timeout_secs": 8},
            ])
        );
        let transfer = instructions(
            Language::En,
            Outcome::Transfer {
                conversation_id: "cnv_1".into(),
                customer_id: "cus_1".into(),
                transcript: vec![TranscriptLine {
                    from: "customer".into(),
                    text: "agent".into(),
                }],
                agent_id: None,
            },
        );
        assert_eq!(
            serde_json::to_value(&transfer).expect("json"),
            json!([
                {"type": "say", "text": "Connecting you to an agent, please hold.",
                 "language": "en-US"},
                {"type": "transfer", "target": {"queue": "voice"},
                 "task": {"conversation_id": "cnv_1", "customer_id": "cus_1"},
                 "context": {"transcript": [{"from": "customer", "text": "agent"}]}},
            ])
        );
        assert!(instructions(Language::Zh, Outcome::Ack).is_empty());
        assert_eq!(
            serde_json::to_value(Instruction::Hangup).expect("json"),
            json!({"type": "hangup"})
        );
        let ask = instructions(Language::Zh, Outcome::AskAgain);
        assert!(matches!(&ask[0], Instruction::Say { text, .. } if text.contains("再说一遍")));
        assert!(matches!(ask[1], Instruction::Collect { .. }));
    }
}
