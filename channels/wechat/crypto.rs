//! WeChat Official Account message security, as WeChat documents it (the `WXBizMsgCrypt`
//! scheme): the URL-verification / plain-mode `signature`, the safe-mode `msg_signature`, and
//! AES-256-CBC message encryption keyed by the account's EncodingAESKey. Pure functions: no
//! clock, no I/O, no randomness (the caller passes the 16 random bytes of an encryption).
//!
//! The scheme:
//! - `signature = sha1(sort([token, timestamp, nonce]).concat())`, lowercase hex;
//! - `msg_signature = sha1(sort([token, timestamp, nonce, encrypt]).concat())`;
//! - AES key = base64(EncodingAESKey + "="), 32 bytes; IV = its first 16 bytes;
//! - plaintext = 16 random bytes ‖ message length (u32, big-endian) ‖ message ‖ appid,
//!   PKCS#7-padded to a multiple of 32 bytes, encrypted with AES-256-CBC, then base64.

use aes::cipher::{block_padding::NoPadding, BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use base64::alphabet::STANDARD;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use sha1::{Digest, Sha1};

type Encryptor = cbc::Encryptor<aes::Aes256>;
type Decryptor = cbc::Decryptor<aes::Aes256>;

/// WeChat's padding block (PKCS#7 over 32 bytes, not the cipher's 16).
const PAD_BLOCK: usize = 32;

/// Standard base64; EncodingAESKey's last character carries bits that a strict decoder
/// refuses, so trailing bits are allowed (as WeChat's own samples decode it).
const KEY_BASE64: GeneralPurpose = GeneralPurpose::new(
    &STANDARD,
    GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
);

/// What can be wrong with a key or a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("the EncodingAESKey must be 43 characters of base64 (a 32-byte key)")]
    BadKey,
    #[error("the encrypted message is not base64 of whole AES blocks")]
    NotCiphertext,
    #[error("the decrypted message is malformed")]
    Malformed,
    #[error("the message was encrypted for another account")]
    WrongAppId,
}

/// Lowercase hex SHA-1 of the parts, sorted, concatenated.
fn sorted_sha1(parts: &mut [&str]) -> String {
    parts.sort_unstable();
    let mut hasher = Sha1::new();
    for part in parts.iter() {
        hasher.update(part.as_bytes());
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The `signature` of URL verification and of plain-mode messages.
pub fn signature(token: &str, timestamp: &str, nonce: &str) -> String {
    sorted_sha1(&mut [token, timestamp, nonce])
}

/// True when `given` is the `signature` of these parameters.
pub fn verify_signature(token: &str, timestamp: &str, nonce: &str, given: &str) -> bool {
    constant_time_eq_str(
        &signature(token, timestamp, nonce),
        &given.to_ascii_lowercase(),
    )
}

/// One account's message security: its token, AES key and appid.
#[derive(Clone)]
pub struct MessageCrypto {
    token: String,
    key: [u8; 32],
    appid: String,
}

impl std::fmt::Debug for MessageCrypto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MessageCrypto")
            .field("appid", &self.appid)
            .finish_non_exhaustive()
    }
}

impl MessageCrypto {
    /// Checks the EncodingAESKey (43 characters) and keeps the derived key.
    pub fn new(token: &str, encoding_aes_key: &str, appid: &str) -> Result<Self, CryptoError> {
        if encoding_aes_key.len() != 43 {
            return Err(CryptoError::BadKey);
        }
        let bytes = KEY_BASE64
            .decode(format!("{encoding_aes_key}="))
            .map_err(|_| CryptoError::BadKey)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| CryptoError::BadKey)?;
        Ok(Self {
            token: token.to_owned(),
            key,
            appid: appid.to_owned(),
        })
    }

    /// The `msg_signature` of an encrypted message.
    pub fn msg_signature(&self, timestamp: &str, nonce: &str, encrypt: &str) -> String {
        sorted_sha1(&mut [&self.token, timestamp, nonce, encrypt])
    }

    /// True when `given` is the `msg_signature` of this encrypted message.
    pub fn verify_msg_signature(
        &self,
        timestamp: &str,
        nonce: &str,
        encrypt: &str,
        given: &str,
    ) -> bool {
        constant_time_eq_str(
            &self.msg_signature(timestamp, nonce, encrypt),
            &given.to_ascii_lowercase(),
        )
    }

    fn iv(&self) -> [u8; 16] {
        let mut iv = [0u8; 16];
        iv.copy_from_slice(&self.key[..16]);
        iv
    }

    /// Decrypts an `<Encrypt>` value and checks it was meant for this account's appid.
    pub fn decrypt(&self, encrypt: &str) -> Result<String, CryptoError> {
        let mut buffer = base64::engine::general_purpose::STANDARD
            .decode(encrypt.trim())
            .map_err(|_| CryptoError::NotCiphertext)?;
        if buffer.is_empty() || buffer.len() % 16 != 0 {
            return Err(CryptoError::NotCiphertext);
        }
        let plain = Decryptor::new(&self.key.into(), &self.iv().into())
            .decrypt_padded_mut::<NoPadding>(&mut buffer)
            .map_err(|_| CryptoError::NotCiphertext)?;
        let pad = usize::from(*plain.last().ok_or(CryptoError::Malformed)?);
        if !(1..=PAD_BLOCK).contains(&pad) || pad > plain.len() {
            return Err(CryptoError::Malformed);
        }
        let content = &plain[..plain.len() - pad];
        if content.len() < 20 {
            return Err(CryptoError::Malformed);
        }
        let length = u32::from_be_bytes([content[16], content[17], content[18], content[19]]);
        let length = usize::try_from(length).map_err(|_| CryptoError::Malformed)?;
        let rest = &content[20..];
        if length > rest.len() {
            return Err(CryptoError::Malformed);
        }
        let (message, appid) = rest.split_at(length);
        if appid != self.appid.as_bytes() {
            return Err(CryptoError::WrongAppId);
        }
        String::from_utf8(message.to_vec()).map_err(|_| CryptoError::Malformed)
    }

    /// Encrypts a reply for WeChat; `random` are the 16 random bytes the scheme starts with.
    pub fn encrypt(&self, message: &str, random: &[u8; 16]) -> String {
        let mut plain = Vec::with_capacity(20 + message.len() + self.appid.len() + PAD_BLOCK);
        plain.extend_from_slice(random);
        let length = u32::try_from(message.len()).unwrap_or(u32::MAX);
        plain.extend_from_slice(&length.to_be_bytes());
        plain.extend_from_slice(message.as_bytes());
        plain.extend_from_slice(self.appid.as_bytes());
        let pad = PAD_BLOCK - plain.len() % PAD_BLOCK;
        plain.extend(std::iter::repeat_n(u8::try_from(pad).unwrap_or(32), pad));
        let length = plain.len();
        let cipher = Encryptor::new(&self.key.into(), &self.iv().into())
            .encrypt_padded_mut::<NoPadding>(&mut plain, length)
            .map(<[u8]>::to_vec)
            .unwrap_or_default();
        base64::engine::general_purpose::STANDARD.encode(cipher)
    }
}

/// WeChat's published sample, shared with the channel's end-to-end test.
#[cfg(test)]
pub(crate) mod tests_support {
    pub const SAMPLE_ENCRYPT: &str = super::tests::SAMPLE_ENCRYPT;
}

fn constant_time_eq_str(a: &str, b: &str) -> bool {
    crate::signing::constant_time_eq(a.as_bytes(), b.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    // From WeChat's published C# sample (WXBizMsgCrypt `Sample.cs`): a real encrypted message.
    const SAMPLE_TOKEN: &str = "QDG6eK";
    const SAMPLE_APPID: &str = "wx5823bf96d3bd56c7";
    const SAMPLE_KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";
    const SAMPLE_SIGNATURE: &str = "477715d11cdb4164915debcba66cb864d751f3e6";
    const SAMPLE_TIMESTAMP: &str = "1409659813";
    const SAMPLE_NONCE: &str = "1372623149";
    pub(super) const SAMPLE_ENCRYPT: &str = "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q==";

    #[test]
    fn the_published_sample_verifies_and_decrypts() {
        let crypto = MessageCrypto::new(SAMPLE_TOKEN, SAMPLE_KEY, SAMPLE_APPID).expect("key");
        assert!(crypto.verify_msg_signature(
            SAMPLE_TIMESTAMP,
            SAMPLE_NONCE,
            SAMPLE_ENCRYPT,
            SAMPLE_SIGNATURE
        ));
        assert!(!crypto.verify_msg_signature(
            SAMPLE_TIMESTAMP,
            "1372623148",
            SAMPLE_ENCRYPT,
            SAMPLE_SIGNATURE
        ));
        let xml = crypto.decrypt(SAMPLE_ENCRYPT).expect("decrypts");
        assert!(xml.starts_with("<xml>") && xml.ends_with("</xml>"), "{xml}");
        assert!(
            xml.contains("<ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName>"),
            "{xml}"
        );
        // Meant for another account: refused.
        let other =
            MessageCrypto::new(SAMPLE_TOKEN, SAMPLE_KEY, "wx0000000000000000").expect("key");
        assert_eq!(other.decrypt(SAMPLE_ENCRYPT), Err(CryptoError::WrongAppId));
    }

    // From WeChat's published Java test (WXBizMsgCryptTest): a deterministic encryption.
    #[test]
    fn encryption_matches_the_published_vector_and_round_trips() {
        let crypto = MessageCrypto::new(
            "pamtest",
            "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
            "wxb11529c136998cb6",
        )
        .expect("key");
        let encrypted = crypto.encrypt("我是中文abcd123", b"aaaabbbbccccdddd");
        assert_eq!(
            encrypted,
            "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg=="
        );
        assert_eq!(
            crypto.decrypt(&encrypted).expect("round trip"),
            "我是中文abcd123"
        );
        // Exactly one whole padding block when the plaintext fills the blocks.
        let filler = "x".repeat(64 - 20 - "wxb11529c136998cb6".len());
        let full = crypto.encrypt(&filler, &[7; 16]);
        assert_eq!(crypto.decrypt(&full).expect("round trip"), filler);
    }

    #[test]
    fn url_verification_signature_is_the_sorted_sha1() {
        // sha1("1409659813" + "1372623149" + "QDG6eK") sorted lexicographically.
        let expected = {
            let mut h = Sha1::new();
            h.update(b"1372623149");
            h.update(b"1409659813");
            h.update(b"QDG6eK");
            h.finalize()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        };
        assert_eq!(
            signature(SAMPLE_TOKEN, SAMPLE_TIMESTAMP, SAMPLE_NONCE),
            expected
        );
        assert!(verify_signature(
            SAMPLE_TOKEN,
            SAMPLE_TIMESTAMP,
            SAMPLE_NONCE,
            &expected.to_uppercase()
        ));
        assert!(!verify_signature(
            SAMPLE_TOKEN,
            SAMPLE_TIMESTAMP,
            SAMPLE_NONCE,
            "0"
        ));
    }

    #[test]
    fn bad_keys_and_garbage_are_refused_without_panicking() {
        assert_eq!(
            MessageCrypto::new("t", "short", "a").err(),
            Some(CryptoError::BadKey)
        );
        assert_eq!(
            MessageCrypto::new("t", &"!".repeat(43), "a").err(),
            Some(CryptoError::BadKey)
        );
        let crypto = MessageCrypto::new(SAMPLE_TOKEN, SAMPLE_KEY, SAMPLE_APPID).expect("key");
        assert_eq!(
            crypto.decrypt("not base64!"),
            Err(CryptoError::NotCiphertext)
        );
        assert_eq!(crypto.decrypt("AAAA"), Err(CryptoError::NotCiphertext));
        // Whole blocks of zeros decrypt to garbage with a bad padding byte.
        let zeros = base64::engine::general_purpose::STANDARD.encode([0u8; 32]);
        assert!(crypto.decrypt(&zeros).is_err());
    }
}
