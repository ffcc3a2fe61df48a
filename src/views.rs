//! Wire views shared by actors and channels: what customers, agents and integrators see of
//! the domain types (API.md field names).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{
    Channel, ConversationId, Customer, CustomerId, Message, MessageId, Sender, Tier,
};

/// A message as sent over WebSockets and listed by the API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = Message)]
pub struct MessageView {
    #[schema(value_type = String)]
    pub id: MessageId,
    #[schema(value_type = String)]
    pub conversation_id: ConversationId,
    pub from: Sender,
    pub channel: Channel,
    pub text: String,
    pub sent_at: DateTime<Utc>,
    /// Present on the customer's web/app messages
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub client_id: Option<String>,
}

impl From<&Message> for MessageView {
    fn from(m: &Message) -> Self {
        Self {
            id: m.id.clone(),
            conversation_id: m.conversation_id.clone(),
            from: m.from,
            channel: m.channel,
            text: m.text.clone(),
            sent_at: m.sent_at,
            client_id: m.client_id.clone(),
        }
    }
}

/// What an agent sees of a customer on an offer or assignment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CustomerCard {
    #[schema(value_type = String)]
    pub id: CustomerId,
    pub name: String,
    pub tier: Tier,
    pub tags: Vec<String>,
}

impl From<&Customer> for CustomerCard {
    fn from(c: &Customer) -> Self {
        Self {
            id: c.id.clone(),
            name: c.display_name.clone(),
            tier: c.tier,
            tags: c.tags.clone(),
        }
    }
}

/// An error event on a WebSocket: `{"type":"error","code","message"}`. The connection stays
/// open.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WsError {
    #[serde(rename = "type")]
    kind: &'static str,
    pub code: String,
    pub message: String,
}

impl WsError {
    /// An error event with a machine code and a human message.
    pub fn new(code: &str, message: &str) -> Self {
        Self {
            kind: "error",
            code: code.to_owned(),
            message: message.to_owned(),
        }
    }
}

/// Parses a client → server WebSocket frame of an internally tagged command type, telling
/// apart malformed JSON, an unknown `type`, and a known type with bad fields.
pub fn parse_ws_command<T: serde::de::DeserializeOwned>(
    text: &str,
    known_types: &[&str],
) -> Result<T, WsError> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        WsError::new(
            "malformed_json",
            &format!("The frame is not valid JSON: {e}"),
        )
    })?;
    let kind = value.get("type").and_then(|t| t.as_str());
    match kind {
        None => {
            return Err(WsError::new(
                "invalid_request",
                "Every frame needs a string field \"type\".",
            ))
        }
        Some(kind) if !known_types.contains(&kind) => {
            return Err(WsError::new(
                "unknown_type",
                &format!(
                    "Unknown message type \"{}\"; expected one of: {}.",
                    kind.chars().take(40).collect::<String>(),
                    known_types.join(", ")
                ),
            ))
        }
        Some(_) => {}
    }
    serde_json::from_value(value)
        .map_err(|e| WsError::new("invalid_request", &format!("Invalid message: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize, PartialEq)]
    #[serde(tag = "type", rename_all = "snake_case")]
    enum Cmd {
        Message { text: String },
    }

    #[test]
    fn ws_commands_distinguish_malformed_unknown_and_invalid() {
        let parse = |t: &str| parse_ws_command::<Cmd>(t, &["message"]);
        assert_eq!(
            parse(r#"{"type":"message","text":"hi"}"#),
            Ok(Cmd::Message { text: "hi".into() })
        );
        assert_eq!(
            parse("{nope").map_err(|e| e.code),
            Err("malformed_json".to_owned())
        );
        assert_eq!(
            parse(r#"{"type":"dance"}"#).map_err(|e| e.code),
            Err("unknown_type".to_owned())
        );
        assert_eq!(
            parse(r#"{"type":"message"}"#).map_err(|e| e.code),
            Err("invalid_request".to_owned())
        );
        assert_eq!(
            parse(r#"{"text":"x"}"#).map_err(|e| e.code),
            Err("invalid_request".to_owned())
        );
    }
}
