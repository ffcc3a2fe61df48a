//! Text → sparse features for matching questions, in Chinese and English.
//!
//! - Chinese runs are segmented into words with jieba (its embedded dictionary), and also
//!   contribute character unigrams and bigrams (robust to segmentation errors and typos).
//! - Latin text is lower-cased and split into words; each word also contributes character
//!   n-grams (3 to 5, with word boundaries), so "refunds", "refunded" and "refund" share most
//!   features.
//! - Word bigrams keep a little order ("not working" vs "working").
//!
//! Pure and deterministic: the same text gives the same features.

use std::sync::OnceLock;

use jieba_rs::Jieba;

use crate::domain::is_cjk;

fn jieba() -> &'static Jieba {
    static JIEBA: OnceLock<Jieba> = OnceLock::new();
    JIEBA.get_or_init(Jieba::new)
}

/// A run of one script in a text.
#[derive(Debug, PartialEq, Eq)]
enum Run {
    Cjk(String),
    Latin(String),
}

/// Splits `text` into CJK runs and Latin/digit words; everything else separates.
fn runs(text: &str) -> Vec<Run> {
    let mut runs = Vec::new();
    let mut current = String::new();
    let mut cjk = false;
    let flush = |current: &mut String, cjk: bool, runs: &mut Vec<Run>| {
        if !current.is_empty() {
            let run = std::mem::take(current);
            runs.push(if cjk { Run::Cjk(run) } else { Run::Latin(run) });
        }
    };
    for c in text.chars() {
        if is_cjk(c) {
            if !cjk {
                flush(&mut current, cjk, &mut runs);
                cjk = true;
            }
            current.push(c);
        } else if c.is_alphanumeric() || c == '\'' {
            if cjk {
                flush(&mut current, cjk, &mut runs);
                cjk = false;
            }
            current.extend(c.to_lowercase());
        } else {
            flush(&mut current, cjk, &mut runs);
        }
    }
    flush(&mut current, cjk, &mut runs);
    runs
}

/// The words of a text: jieba words for Chinese, lower-cased words for the rest.
pub fn words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    for run in runs(text) {
        match run {
            Run::Cjk(run) => words.extend(
                jieba()
                    .cut(&run, true)
                    .into_iter()
                    .filter(|w| !w.trim().is_empty())
                    .map(str::to_owned),
            ),
            Run::Latin(word) => {
                let word = word.trim_matches('\'').to_owned();
                if !word.is_empty() {
                    words.push(word);
                }
            }
        }
    }
    words
}

/// Every feature of a text (with repeats: counts matter).
pub fn features(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let words = words(text);
    for word in &words {
        out.push(format!("w:{word}"));
        let chars: Vec<char> = word.chars().collect();
        if chars.iter().any(|c| is_cjk(*c)) {
            for c in &chars {
                out.push(format!("c:{c}"));
            }
        } else {
            let padded: Vec<char> = std::iter::once('<')
                .chain(chars.iter().copied())
                .chain(std::iter::once('>'))
                .collect();
            for n in 3..=5 {
                for gram in padded.windows(n) {
                    out.push(format!("g:{}", gram.iter().collect::<String>()));
                }
            }
        }
    }
    for pair in words.windows(2) {
        out.push(format!("b:{} {}", pair[0], pair[1]));
    }
    // Character bigrams across the Chinese text, whatever the segmentation.
    for run in runs(text) {
        if let Run::Cjk(run) = run {
            let chars: Vec<char> = run.chars().collect();
            for pair in chars.windows(2) {
                out.push(format!("cc:{}{}", pair[0], pair[1]));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_is_segmented_into_words_not_split_on_spaces() {
        let w = words("我想申请退款，订单号A10086");
        assert!(w.contains(&"退款".to_owned()), "{w:?}");
        assert!(w.contains(&"a10086".to_owned()), "{w:?}");
        assert!(!w.iter().any(|x| x.contains('，')));
    }

    #[test]
    fn english_words_share_character_ngrams_across_inflections() {
        let a: std::collections::BTreeSet<String> = features("refunds").into_iter().collect();
        let b: std::collections::BTreeSet<String> = features("refund").into_iter().collect();
        assert!(a.intersection(&b).count() >= 5);
        assert!(a.contains("g:<re"));
    }

    #[test]
    fn mixed_text_keeps_both_scripts_and_is_deterministic() {
        let f = features("VIP 客户 can't log in");
        assert!(f.contains(&"w:vip".to_owned()));
        assert!(f.contains(&"w:can't".to_owned()));
        assert!(f.iter().any(|x| x.starts_with("c:客")));
        assert_eq!(f, features("VIP 客户 can't log in"));
        assert!(features("  ，。!! ").is_empty());
    }
}
