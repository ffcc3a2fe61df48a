//! SMS text: how a message is split into segments, and the keywords a carrier-grade SMS
//! channel must honour. Pure functions.
//!
//! A text made only of GSM 03.38 characters is sent as GSM-7: 160 septets in one SMS, 153 per
//! segment of a long (concatenated) message, the extension characters (`€ [ ] { } \ ^ ~ |`,
//! form feed) taking two septets and never split from their escape. Anything else (Chinese,
//! most emoji, …) is sent as UCS-2: 70 UTF-16 units in one SMS, 67 per segment, a surrogate
//! pair never split.

/// How a text is encoded on the air.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    Gsm7,
    Ucs2,
}

/// The GSM 03.38 basic character set (one septet each).
const GSM7_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// The extension table (escape + one septet each).
const GSM7_EXTENSION: &str = "\u{0C}^{}\\[~]|€";

/// Septets a character takes in GSM-7, or None when it has none.
fn septets(c: char) -> Option<usize> {
    if GSM7_BASIC.contains(c) {
        Some(1)
    } else if GSM7_EXTENSION.contains(c) {
        Some(2)
    } else {
        None
    }
}

/// The encoding a text needs.
pub fn encoding(text: &str) -> Encoding {
    if text.chars().all(|c| septets(c).is_some()) {
        Encoding::Gsm7
    } else {
        Encoding::Ucs2
    }
}

/// The segments `text` is sent as, in order (one for a short text, none for an empty one).
pub fn split(text: &str) -> (Encoding, Vec<String>) {
    let encoding = encoding(text);
    let (single, part): (usize, usize) = match encoding {
        Encoding::Gsm7 => (160, 153),
        Encoding::Ucs2 => (70, 67),
    };
    let size = |c: char| match encoding {
        Encoding::Gsm7 => septets(c).unwrap_or(1),
        Encoding::Ucs2 => c.len_utf16(),
    };
    let total: usize = text.chars().map(size).sum();
    if total == 0 {
        return (encoding, Vec::new());
    }
    if total <= single {
        return (encoding, vec![text.to_owned()]);
    }
    let mut segments = Vec::new();
    let mut current = String::new();
    let mut used = 0;
    for c in text.chars() {
        let n = size(c);
        if used + n > part {
            segments.push(std::mem::take(&mut current));
            used = 0;
        }
        current.push(c);
        used += n;
    }
    if !current.is_empty() {
        segments.push(current);
    }
    (encoding, segments)
}

/// A keyword an SMS channel acts on itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Keyword {
    /// Stop all messages to this number (recorded; nothing is sent until an opt-in).
    OptOut,
    /// Messages may be sent again.
    OptIn,
    Help,
}

/// The keyword a whole message is, if any (case and surrounding spaces or punctuation do not
/// matter; "stop the order" is a message, not an opt-out). Chinese carriers' convention
/// (回复 TD 退订) is honoured too.
pub fn keyword(text: &str) -> Option<Keyword> {
    let word = text
        .trim()
        .trim_matches(|c: char| c.is_ascii_punctuation() || "。！，".contains(c))
        .to_uppercase();
    match word.as_str() {
        "STOP" | "STOPALL" | "UNSUBSCRIBE" | "CANCEL" | "END" | "QUIT" | "OPTOUT" | "REVOKE"
        | "TD" | "退订" | "取消订阅" => Some(Keyword::OptOut),
        "START" | "UNSTOP" | "YES" | "订阅" => Some(Keyword::OptIn),
        "HELP" | "INFO" | "帮助" => Some(Keyword::Help),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn short_texts_are_one_segment_in_the_right_encoding() {
        assert_eq!(
            split("Your order has shipped."),
            (Encoding::Gsm7, vec!["Your order has shipped.".to_owned()])
        );
        let (encoding, parts) = split("您的订单已发货");
        assert_eq!((encoding, parts.len()), (Encoding::Ucs2, 1));
        assert_eq!(split(""), (Encoding::Gsm7, vec![]));
        // Exactly at the limits.
        assert_eq!(split(&"a".repeat(160)).1.len(), 1);
        assert_eq!(split(&"好".repeat(70)).1.len(), 1);
    }

    #[test]
    fn long_texts_split_at_153_septets_or_67_units() {
        let (_, parts) = split(&"a".repeat(161));
        assert_eq!(parts.iter().map(String::len).collect::<Vec<_>>(), [153, 8]);
        let (_, parts) = split(&"好".repeat(71));
        assert_eq!(
            parts.iter().map(|p| p.chars().count()).collect::<Vec<_>>(),
            [67, 4]
        );
        // An extension character takes two septets and is not split from its escape.
        let text = format!("{}€b", "a".repeat(152));
        let (encoding, parts) = split(&format!("{text}{}", "c".repeat(20)));
        assert_eq!(encoding, Encoding::Gsm7);
        assert_eq!(
            parts[0],
            "a".repeat(152),
            "€ would need septets 153 and 154"
        );
        // A surrogate pair (an emoji) is never cut in half.
        let emoji = format!("{}😀x", "好".repeat(66));
        let (_, parts) = split(&format!("{emoji}{}", "好".repeat(10)));
        assert_eq!(parts[0], "好".repeat(66));
        assert!(parts[1].starts_with('😀'));
    }

    #[test]
    fn opt_out_keywords_in_english_and_chinese() {
        for stop in [
            "STOP",
            "stop",
            " Stop! ",
            "unsubscribe",
            "退订",
            "TD",
            "td。",
        ] {
            assert_eq!(keyword(stop), Some(Keyword::OptOut), "{stop}");
        }
        assert_eq!(keyword("start"), Some(Keyword::OptIn));
        assert_eq!(keyword("HELP"), Some(Keyword::Help));
        for message in ["stop the order", "please stop", "我要退订单", "hello"] {
            assert_eq!(keyword(message), None, "{message}");
        }
    }

    proptest! {
        /// Splitting loses and reorders nothing, and every segment fits.
        #[test]
        fn segments_concatenate_back_and_fit(text in "[a-z €\\[\\]好😀]{0,400}") {
            let (encoding, parts) = split(&text);
            prop_assert_eq!(parts.concat(), text.clone());
            let limit = if parts.len() > 1 { (153, 67) } else { (160, 70) };
            for part in &parts {
                let size: usize = match encoding {
                    Encoding::Gsm7 => part.chars().map(|c| septets(c).unwrap_or(1)).sum(),
                    Encoding::Ucs2 => part.chars().map(char::len_utf16).sum(),
                };
                let max = if encoding == Encoding::Gsm7 { limit.0 } else { limit.1 };
                prop_assert!(size <= max, "{} > {}", size, max);
            }
        }
    }
}
