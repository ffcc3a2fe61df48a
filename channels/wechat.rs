//! WeChat Official Account channel (issue 6, in progress): the provider's wire format.
//!
//! Done so far, tested against WeChat's published samples:
//! - [`crypto`]: the message security WeChat documents (URL-verification and message
//!   signatures, safe-mode AES-256-CBC);
//! - [`xml`]: inbound messages and events, the safe-mode envelope and passive replies, with a
//!   parser that refuses DTDs and entities.
//!
//! The endpoints of API.md (`GET`/`POST /v1/channels/wechat`), the 5-second passive-reply
//! window and the customer-service message API follow.

pub mod crypto;
pub mod xml;

#[cfg(test)]
mod tests {
    use super::*;

    /// WeChat's published safe-mode sample, decrypted and parsed end to end.
    #[test]
    fn the_published_encrypted_sample_is_a_text_message() {
        let crypto = crypto::MessageCrypto::new(
            "QDG6eK",
            "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
            "wx5823bf96d3bd56c7",
        )
        .expect("key");
        let envelope = format!(
            "<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName><Encrypt><![CDATA[{}]]></Encrypt></xml>",
            crypto::tests_support::SAMPLE_ENCRYPT
        );
        let encrypt = xml::encrypted(&envelope).expect("envelope");
        let message = xml::inbound(&crypto.decrypt(&encrypt).expect("decrypts")).expect("parses");
        assert_eq!(
            (
                message.from.as_str(),
                message.msg_id.as_deref(),
                message.create_time
            ),
            ("mycreate", Some("4561255354251345929"), 1_409_659_813)
        );
        assert_eq!(
            message.payload,
            xml::Payload::Text {
                content: "hello".to_owned()
            }
        );
    }
}
