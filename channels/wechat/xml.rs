//! WeChat's XML wire format: inbound messages and events, the safe-mode envelope, and passive
//! replies. Pure functions.
//!
//! WeChat sends one flat `<xml>` element whose children carry text or CDATA. The parser
//! refuses what WeChat never sends and attackers like: a document type declaration (so no
//! DTD and no entity definitions), entity references other than XML's five predefined ones,
//! nesting deeper than one level below the root, and more than [`MAX_FIELDS`] fields.

use quick_xml::events::Event;
use quick_xml::Reader;

/// The most fields a message may have (WeChat's richest event has about a dozen).
pub const MAX_FIELDS: usize = 64;

/// Why a body is not a WeChat message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmlError {
    #[error("the body is not well-formed XML: {0}")]
    Malformed(String),
    #[error("document type declarations and entities are not accepted")]
    Doctype,
    #[error("the root element must be <xml> with flat fields")]
    Shape,
    #[error("the field {0} is missing")]
    Missing(&'static str),
}

/// The flat fields of a WeChat `<xml>` document, in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Fields(Vec<(String, String)>);

impl Fields {
    /// The value of the first field named `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn require(&self, name: &'static str) -> Result<&str, XmlError> {
        self.get(name).ok_or(XmlError::Missing(name))
    }
}

/// Parses a WeChat document into its fields.
pub fn fields(body: &str) -> Result<Fields, XmlError> {
    let mut reader = Reader::from_str(body);
    let config = reader.config_mut();
    config.trim_text(true);
    config.expand_empty_elements = true;
    let mut fields = Vec::new();
    let mut depth = 0usize;
    let mut current: Option<(String, String)> = None;
    let mut seen_root = false;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| XmlError::Malformed(e.to_string()))?;
        match event {
            Event::DocType(_) => return Err(XmlError::Doctype),
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) => {}
            Event::Start(start) => {
                depth += 1;
                let name = String::from_utf8(start.name().as_ref().to_vec())
                    .map_err(|_| XmlError::Shape)?;
                match depth {
                    1 if name == "xml" && !seen_root => seen_root = true,
                    2 => {
                        if fields.len() >= MAX_FIELDS {
                            return Err(XmlError::Shape);
                        }
                        current = Some((name, String::new()));
                    }
                    _ => return Err(XmlError::Shape),
                }
            }
            Event::End(_) => {
                if depth == 2 {
                    if let Some(field) = current.take() {
                        fields.push(field);
                    }
                }
                depth = depth.checked_sub(1).ok_or(XmlError::Shape)?;
            }
            Event::Text(text) => {
                let value = text.unescape().map_err(|e| match e {
                    quick_xml::Error::Escape(_) => XmlError::Doctype,
                    other => XmlError::Malformed(other.to_string()),
                })?;
                match (&mut current, depth) {
                    (Some((_, v)), 2) => v.push_str(&value),
                    (_, 0 | 1) if value.trim().is_empty() => {}
                    _ => return Err(XmlError::Shape),
                }
            }
            Event::CData(data) => {
                let value =
                    std::str::from_utf8(&data).map_err(|e| XmlError::Malformed(e.to_string()))?;
                match (&mut current, depth) {
                    (Some((_, v)), 2) => v.push_str(value),
                    _ => return Err(XmlError::Shape),
                }
            }
            Event::Empty(_) => return Err(XmlError::Shape),
            Event::Eof => break,
        }
    }
    if !seen_root || depth != 0 {
        return Err(XmlError::Shape);
    }
    Ok(Fields(fields))
}

/// What a WeChat user sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    Text {
        content: String,
    },
    Image {
        pic_url: String,
        media_id: String,
    },
    /// `recognition` is WeChat's speech-to-text, when the account has it enabled.
    Voice {
        media_id: String,
        recognition: Option<String>,
    },
    Subscribe,
    Unsubscribe,
    /// A menu button.
    Click {
        key: String,
    },
    /// Another message type or event, kept by name.
    Other {
        kind: String,
    },
}

/// An inbound message or event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inbound {
    /// The official account (`gh_…`).
    pub to: String,
    /// The user's openid.
    pub from: String,
    pub create_time: i64,
    /// `MsgId` for messages; events have none.
    pub msg_id: Option<String>,
    pub payload: Payload,
}

impl Inbound {
    /// The key WeChat's retries share: the `MsgId`, or for events the sender and time.
    pub fn dedup_key(&self) -> String {
        match &self.msg_id {
            Some(id) => format!("msg:{id}"),
            None => format!("event:{}:{}", self.from, self.create_time),
        }
    }
}

/// Parses a plain-mode message (or a decrypted safe-mode one).
pub fn inbound(body: &str) -> Result<Inbound, XmlError> {
    let f = fields(body)?;
    let text = |name: &'static str| f.require(name).map(str::to_owned);
    let kind = f.require("MsgType")?.to_owned();
    let payload = match kind.as_str() {
        "text" => Payload::Text {
            content: text("Content")?,
        },
        "image" => Payload::Image {
            pic_url: text("PicUrl")?,
            media_id: text("MediaId")?,
        },
        "voice" => Payload::Voice {
            media_id: text("MediaId")?,
            recognition: f
                .get("Recognition")
                .filter(|r| !r.trim().is_empty())
                .map(str::to_owned),
        },
        "event" => match f.require("Event")?.to_ascii_lowercase().as_str() {
            "subscribe" => Payload::Subscribe,
            "unsubscribe" => Payload::Unsubscribe,
            "click" => Payload::Click {
                key: f.get("EventKey").unwrap_or_default().to_owned(),
            },
            other => Payload::Other {
                kind: format!("event:{other}"),
            },
        },
        other => Payload::Other {
            kind: other.to_owned(),
        },
    };
    let create_time = f
        .require("CreateTime")?
        .trim()
        .parse()
        .map_err(|_| XmlError::Missing("CreateTime"))?;
    Ok(Inbound {
        to: text("ToUserName")?,
        from: text("FromUserName")?,
        create_time,
        msg_id: f.get("MsgId").map(str::to_owned),
        payload,
    })
}

/// The `<Encrypt>` value of a safe-mode envelope.
pub fn encrypted(body: &str) -> Result<String, XmlError> {
    fields(body)?.require("Encrypt").map(str::to_owned)
}

/// `text` as CDATA content; `]]>` cannot appear inside one section, so it is split.
fn cdata(text: &str) -> String {
    format!("<![CDATA[{}]]>", text.replace("]]>", "]]]]><![CDATA[>"))
}

/// A passive text reply from the account `from` to the user `to`.
pub fn text_reply(to: &str, from: &str, create_time: i64, content: &str) -> String {
    format!(
        "<xml><ToUserName>{}</ToUserName><FromUserName>{}</FromUserName><CreateTime>{create_time}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content>{}</Content></xml>",
        cdata(to),
        cdata(from),
        cdata(content)
    )
}

/// The safe-mode envelope of an encrypted reply.
pub fn encrypted_reply(encrypt: &str, msg_signature: &str, timestamp: &str, nonce: &str) -> String {
    format!(
        "<xml><Encrypt>{}</Encrypt><MsgSignature>{}</MsgSignature><TimeStamp>{}</TimeStamp><Nonce>{}</Nonce></xml>",
        cdata(encrypt),
        cdata(msg_signature),
        cdata(timestamp),
        cdata(nonce)
    )
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    // The text message example of WeChat's documentation.
    const TEXT: &str = "<xml>
  <ToUserName><![CDATA[toUser]]></ToUserName>
  <FromUserName><![CDATA[fromUser]]></FromUserName>
  <CreateTime>1348831860</CreateTime>
  <MsgType><![CDATA[text]]></MsgType>
  <Content><![CDATA[this is a test]]></Content>
  <MsgId>1234567890123456</MsgId>
</xml>";

    #[test]
    fn the_documented_text_message_parses() {
        let message = inbound(TEXT).expect("parses");
        assert_eq!(
            message,
            Inbound {
                to: "toUser".to_owned(),
                from: "fromUser".to_owned(),
                create_time: 1_348_831_860,
                msg_id: Some("1234567890123456".to_owned()),
                payload: Payload::Text {
                    content: "this is a test".to_owned()
                },
            }
        );
        assert_eq!(message.dedup_key(), "msg:1234567890123456");
    }

    #[test]
    fn voice_with_recognition_and_events_parse() {
        let voice = "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[o_u]]></FromUserName><CreateTime>1357290913</CreateTime><MsgType><![CDATA[voice]]></MsgType><MediaId><![CDATA[m1]]></MediaId><Format><![CDATA[amr]]></Format><Recognition><![CDATA[我要退款]]></Recognition><MsgId>1234567890123457</MsgId></xml>";
        assert_eq!(
            inbound(voice).expect("voice").payload,
            Payload::Voice {
                media_id: "m1".to_owned(),
                recognition: Some("我要退款".to_owned())
            }
        );
        let subscribe = "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[o_u]]></FromUserName><CreateTime>123456789</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event></xml>";
        let event = inbound(subscribe).expect("event");
        assert_eq!(event.payload, Payload::Subscribe);
        assert_eq!(event.dedup_key(), "event:o_u:123456789");
        let click = subscribe.replace(
            "subscribe]]></Event>",
            "CLICK]]></Event><EventKey><![CDATA[HUMAN]]></EventKey>",
        );
        assert_eq!(
            inbound(&click).expect("click").payload,
            Payload::Click {
                key: "HUMAN".to_owned()
            }
        );
        // Plain text (no CDATA) with the predefined entities is fine.
        let plain = TEXT.replace("<![CDATA[this is a test]]>", "fish &amp; chips &lt;3");
        assert_eq!(
            inbound(&plain).expect("plain").payload,
            Payload::Text {
                content: "fish & chips <3".to_owned()
            }
        );
    }

    #[test]
    fn dtds_entities_nesting_and_garbage_are_refused() {
        let xxe = "<?xml version=\"1.0\"?><!DOCTYPE xml [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><xml><ToUserName>&x;</ToUserName></xml>";
        assert_eq!(fields(xxe), Err(XmlError::Doctype));
        let entity = TEXT.replace("<![CDATA[this is a test]]>", "&lol;");
        assert_eq!(fields(&entity), Err(XmlError::Doctype));
        assert_eq!(fields("<xml><a><b>1</b></a></xml>"), Err(XmlError::Shape));
        assert_eq!(fields("<root><a>1</a></root>"), Err(XmlError::Shape));
        assert!(matches!(
            fields("<xml><a>1</xml>"),
            Err(XmlError::Malformed(_))
        ));
        assert_eq!(fields(""), Err(XmlError::Shape));
        assert_eq!(
            inbound("<xml><MsgType>text</MsgType></xml>"),
            Err(XmlError::Missing("Content"))
        );
        let many: String = (0..=MAX_FIELDS)
            .map(|i| format!("<f{i}>x</f{i}>"))
            .collect();
        assert_eq!(fields(&format!("<xml>{many}</xml>")), Err(XmlError::Shape));
    }

    #[test]
    fn the_safe_mode_envelope_and_replies_render_and_parse_back() {
        let envelope = "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><Encrypt><![CDATA[abc+/=]]></Encrypt></xml>";
        assert_eq!(encrypted(envelope).expect("envelope"), "abc+/=");
        let reply = text_reply("o_u", "gh_1", 42, "a ]]> b & <c>");
        let back = inbound(&format!(
            "{}<MsgId>1</MsgId></xml>",
            reply.trim_end_matches("</xml>")
        ))
        .expect("reply parses");
        assert_eq!(
            back.payload,
            Payload::Text {
                content: "a ]]> b & <c>".to_owned()
            }
        );
        let sealed = encrypted_reply("E", "S", "T", "N");
        let f = fields(&sealed).expect("sealed");
        assert_eq!((f.get("Encrypt"), f.get("Nonce")), (Some("E"), Some("N")));
    }

    proptest! {
        /// Any body is an answer, never a panic; any reply content survives the round trip.
        #[test]
        fn arbitrary_bodies_never_panic_and_replies_round_trip(body in ".{0,300}", content in ".{0,200}") {
            let _ = inbound(&body);
            let reply = text_reply("o", "g", 1, &content);
            let f = fields(&reply).expect("a reply is well-formed");
            prop_assert_eq!(f.get("Content").unwrap_or_default(), content.as_str());
        }
    }
}
