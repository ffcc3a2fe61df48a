//! Every parser of untrusted provider input, as one entry point each that takes raw bytes and
//! must never panic, whatever the bytes. The cargo-fuzz targets under `fuzz/` call these,
//! and `tests/fuzz_corpus.rs` replays the committed corpus through them in every test run.
//! Each entry point also checks what it can of its parser's contract (round trips, sizes).

use super::ivr;
use super::sms::{edge, segments, signature};
use super::wechat::{crypto, xml};
use crate::signing::app_token as token;
use crate::signing::webhooks;

/// A parser's entry point: any bytes, never a panic.
pub type Entry = fn(&[u8]);

/// The fuzz targets, by name (the folders of `fuzz/corpus/`).
pub const TARGETS: [(&str, Entry); 9] = [
    ("wechat_xml", wechat_xml),
    ("wechat_crypto", wechat_crypto),
    ("sms_signature", sms_signature),
    ("sms_segments", sms_segments),
    ("app_token", app_token),
    ("ivr_webhook", ivr_webhook),
    ("sms_form", sms_form),
    ("kb_csv", kb_csv),
    ("flows_toml", flows_toml),
];

fn text(data: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(data)
}

/// Splits input on `\n` into at most `n` fields (missing ones empty).
fn fields<const N: usize>(data: &[u8]) -> [String; N] {
    let text = text(data);
    let mut parts = text.splitn(N, '\n');
    std::array::from_fn(|_| parts.next().unwrap_or_default().to_owned())
}

/// WeChat XML: any body parses or is refused; a parsed text message renders back as a reply
/// that parses again with the same content.
pub fn wechat_xml(data: &[u8]) {
    let body = text(data);
    if let Ok(xml::Inbound {
        from,
        to,
        payload: xml::Payload::Text { content },
        ..
    }) = xml::inbound(&body)
    {
        let reply = xml::text_reply(&from, &to, 0, &content);
        let parsed = xml::fields(&reply).map(|f| f.get("Content").map(str::to_owned));
        assert_eq!(parsed, Ok(Some(content)), "a reply must parse back");
    }
    let _ = xml::encrypted(&body);
}

/// WeChat safe mode: any `<Encrypt>` value decrypts or is refused; encryption round-trips.
pub fn wechat_crypto(data: &[u8]) {
    let Ok(crypto) = crypto::MessageCrypto::new(
        "switchboard-demo",
        "qOsW1HsYIhsdWg1HFCTE2gau6yd1OgFqBsO33ZZkNQq",
        "wx5b1dem0a11ce0001",
    ) else {
        return;
    };
    let value = text(data);
    let _ = crypto.decrypt(&value);
    let _ = crypto.verify_msg_signature("1", "2", &value, &value);
    let mut random = [0u8; 16];
    for (slot, byte) in random.iter_mut().zip(data) {
        *slot = *byte;
    }
    let sealed = crypto.encrypt(&value, &random);
    assert_eq!(crypto.decrypt(&sealed).as_deref(), Ok(value.as_ref()));
}

/// Twilio signatures: URL `\n` signature `\n` form body, never a panic; a computed signature
/// always validates.
pub fn sms_signature(data: &[u8]) {
    let [url, given, body] = fields::<3>(data);
    let params: Vec<(String, String)> = form_urlencoded::parse(body.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let _ = signature::validate("demo-sms-token", &url, &params, &given);
    let _ = signature::validate_body("demo-sms-token", &url, body.as_bytes(), &given);
    let computed = signature::compute("demo-sms-token", &url, &params);
    assert!(signature::validate(
        "demo-sms-token",
        &url,
        &params,
        &computed
    ));
}

/// SMS text: segments concatenate back to the text; keywords never panic.
pub fn sms_segments(data: &[u8]) {
    let body = text(data);
    let (_, parts) = segments::split(&body);
    assert_eq!(parts.concat(), body, "segmentation loses nothing");
    let _ = segments::keyword(&body);
}

/// App tokens: any string verifies or is refused; a signed token verifies.
pub fn app_token(data: &[u8]) {
    let secret = b"switchboard-demo-app-jwt-secret-2026";
    let _ = token::verify(secret, &text(data), 1_700_000_000, 30);
    let _ = token::is_e164(&text(data));
}

/// IVR webhooks: id `\n` timestamp `\n` signatures `\n` body, verified or refused; the body
/// parses as an event or is refused, and a parsed event maps to instructions that serialize.
pub fn ivr_webhook(data: &[u8]) {
    let [id, timestamp, signatures, body] = fields::<4>(data);
    ivr_event(body.as_bytes());
    let Ok(key) = webhooks::secret_key("whsec_Q+Y4HW9jMm/YeDWkA7QytT1wLnz/UBYZ") else {
        return;
    };
    let _ = webhooks::verify(
        &key,
        &id,
        &timestamp,
        &signatures,
        body.as_bytes(),
        1_700_000_000,
        300,
    );
    if let Ok(at) = timestamp.trim().parse::<i64>() {
        let signed = webhooks::sign(&key, &id, at, body.as_bytes());
        if !id.trim().is_empty() {
            assert!(
                webhooks::verify(&key, &id, &timestamp, &signed, body.as_bytes(), at, 300).is_ok()
            );
        }
    }
}

/// An IVR event body: parsed or refused; what a parsed event asks for always has
/// instructions that serialize and parse back.
fn ivr_event(body: &[u8]) {
    let Ok(event) = ivr::parse_event(body) else {
        return;
    };
    let replies = match ivr::action(&event, 0.6) {
        ivr::Action::Submit(text) => {
            assert!(text.chars().count() <= crate::domain::MessageText::MAX_CHARS);
            vec![text]
        }
        _ => Vec::new(),
    };
    let outcomes = [
        ivr::Outcome::Ack,
        ivr::Outcome::Greeted,
        ivr::Outcome::AskAgain,
        ivr::Outcome::Answered { replies },
        ivr::Outcome::Transfer {
            conversation_id: event.call_id.clone(),
            customer_id: event.from.clone(),
            transcript: Vec::new(),
            agent_id: None,
        },
        ivr::Outcome::Transfer {
            conversation_id: event.call_id.clone(),
            customer_id: event.from.clone(),
            transcript: Vec::new(),
            agent_id: Some(event.call_id.clone()),
        },
    ];
    for outcome in outcomes {
        let response = ivr::Response {
            call_id: event.call_id.clone(),
            instructions: ivr::instructions(event.language(), outcome),
        };
        let json = serde_json::to_string(&response).unwrap_or_default();
        let back: Result<ivr::Response, _> = serde_json::from_str(&json);
        assert_eq!(
            back.ok().as_ref(),
            Some(&response),
            "instructions round-trip"
        );
    }
}

/// Twilio's inbound forms: any body parses or is refused; a parsed one re-encodes to the same
/// pairs, and the inbound message and status callback readers take it or refuse it.
pub fn sms_form(data: &[u8]) {
    let Ok(pairs) = edge::parse_form(data) else {
        return;
    };
    let encoded = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&pairs)
        .finish();
    assert_eq!(
        edge::parse_form(encoded.as_bytes()).ok().as_ref(),
        Some(&pairs),
        "a parsed form survives re-encoding"
    );
    let _ = edge::inbound_sms(&pairs);
    let _ = edge::status_callback_of(&pairs);
    let _ = edge::signed_url("http://127.0.0.1:8080", "http", "127.0.0.1", &text(data));
}

/// Knowledge-base CSV import (a supervisor's upload): any text fails with problems or gives
/// entries that export and import back unchanged.
pub fn kb_csv(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(entries) = crate::bot::kb::io::from_csv(text) {
        let again = crate::bot::kb::io::from_csv(&crate::bot::kb::io::to_csv(&entries));
        assert_eq!(again, Ok(entries), "CSV round trip");
    }
}

/// Flow definitions (an operator's file): any text loads or is refused with problems; a loaded
/// flow can be started and advanced with that same text.
pub fn flows_toml(data: &[u8]) {
    use crate::bot::flows::{advance, start, FlowSet, Input};
    use crate::domain::Language;
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(set) = FlowSet::from_toml(text) else {
        return;
    };
    for flow in set.iter() {
        let step = start(flow, text, Language::Zh);
        if let Some(state) = step.state {
            advance(flow, state, Input::Text(text), Language::En);
        }
    }
}
