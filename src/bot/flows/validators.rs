//! Slot validators: what counts as an answer to a flow's question, and its normal form.
//!
//! Built-in validators are hand-written scanners (no regexes to compile at run time, nothing
//! that can panic). Full-width characters, which Chinese input methods often produce
//! ("ＳＢ２０２６…"), are folded to ASCII before scanning.

use chrono::NaiveDate;
use regex::Regex;

/// Order numbers (demo format): `SB` and this many digits.
const ORDER_DIGITS: std::ops::RangeInclusive<usize> = 8..=14;
/// A yes/no answer longer than this is a sentence, not an answer.
const MAX_YES_NO_CHARS: usize = 20;

/// How a slot's answer is recognised.
#[derive(Debug, Clone)]
pub(crate) enum Validator {
    /// `SB` + 8–14 digits anywhere in the text → `SB20261125001`.
    OrderNumber,
    /// A mainland mobile number (optionally +86/0086, spaces, dashes) → `+8613800138000`.
    Phone,
    /// `2026-11-25`, `2026/11/25`, `2026年11月25日`, `Nov 25 2026` → `2026-11-25`; without a
    /// year (`11月25日`, `25 Nov`) → `11-25`; today/今天, tomorrow/明天 → `today`/`tomorrow`.
    Date,
    /// A short yes or no → `yes` / `no`.
    YesNo,
    /// Any text of this many characters (trimmed).
    Text { min_chars: usize, max_chars: usize },
    /// The first match of a pattern: its first capture group if it has one, else the match.
    Pattern(Regex),
}

impl Validator {
    /// The value `text` gives when it answers this slot's question.
    pub(crate) fn accept(&self, text: &str) -> Option<String> {
        match self {
            Validator::YesNo => yes_no(text),
            Validator::Text {
                min_chars,
                max_chars,
            } => {
                let trimmed = text.trim();
                let n = trimmed.chars().count();
                (n >= *min_chars && n <= *max_chars && n > 0).then(|| trimmed.to_owned())
            }
            _ => self.find(text),
        }
    }

    /// The value found inside a longer message (the one that started the flow); None for
    /// validators that need the whole message to be the answer (text, yes/no).
    pub(crate) fn find(&self, text: &str) -> Option<String> {
        match self {
            Validator::OrderNumber => order_number(text),
            Validator::Phone => phone(text),
            Validator::Date => date(text),
            Validator::Pattern(regex) => pattern(regex, text),
            Validator::YesNo | Validator::Text { .. } => None,
        }
    }
}

/// Folds full-width ASCII (U+FF01–U+FF5E) and the ideographic space to ASCII.
pub(crate) fn fold_width(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            c => c,
        })
        .collect()
}

/// The words of a lower-cased text: runs of letters, digits (CJK characters count as
/// letters) and apostrophes.
pub(crate) fn words(lower: &str) -> Vec<&str> {
    lower
        .split(|c: char| !c.is_alphanumeric() && c != '\'')
        .filter(|w| !w.is_empty())
        .collect()
}

fn order_number(text: &str) -> Option<String> {
    let chars: Vec<char> = fold_width(text).chars().collect();
    for i in 0..chars.len().saturating_sub(1) {
        let starts = chars[i].eq_ignore_ascii_case(&'s')
            && chars[i + 1].eq_ignore_ascii_case(&'b')
            && (i == 0 || !chars[i - 1].is_ascii_alphanumeric());
        if !starts {
            continue;
        }
        let mut j = i + 2;
        if matches!(chars.get(j), Some(' ' | '-')) {
            j += 1;
        }
        let digits: String = chars[j.min(chars.len())..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .collect();
        let after = chars.get(j + digits.len());
        if ORDER_DIGITS.contains(&digits.len()) && !after.is_some_and(|c| c.is_ascii_alphabetic()) {
            return Some(format!("SB{digits}"));
        }
    }
    None
}

fn phone(text: &str) -> Option<String> {
    let folded = fold_width(text);
    let chars: Vec<char> = folded.chars().collect();
    let in_run = |c: char| c.is_ascii_digit() || matches!(c, ' ' | '-' | '+' | '(' | ')' | '\t');
    let mut i = 0;
    while i < chars.len() {
        if !in_run(chars[i]) {
            i += 1;
            continue;
        }
        let mut start = i;
        while i < chars.len() && in_run(chars[i]) {
            i += 1;
        }
        let mut end = i;
        while start < end && chars[start].is_whitespace() {
            start += 1;
        }
        while end > start && chars[end - 1].is_whitespace() {
            end -= 1;
        }
        // Digits glued to letters belong to something else (an order number "SB1380…").
        let glued = (start > 0 && chars[start - 1].is_ascii_alphabetic())
            || chars.get(end).is_some_and(|c| c.is_ascii_alphabetic());
        if glued {
            continue;
        }
        let run: String = chars[start..end].iter().collect();
        if let Some(number) = mobile(&run).or_else(|| run.split_whitespace().find_map(mobile)) {
            return Some(number);
        }
    }
    None
}

/// `run` (digits and separators) as an E.164 mainland mobile number.
fn mobile(run: &str) -> Option<String> {
    let digits: String = run.chars().filter(char::is_ascii_digit).collect();
    let national = match digits.len() {
        11 => digits.as_str(),
        13 => digits.strip_prefix("86")?,
        15 => digits.strip_prefix("0086")?,
        _ => return None,
    };
    let mut it = national.chars();
    let valid = it.next() == Some('1') && it.next().is_some_and(|c| ('3'..='9').contains(&c));
    valid.then(|| format!("+86{national}"))
}

/// A piece of a date-like text.
#[derive(Debug, Clone, PartialEq)]
enum Token {
    Number(String),
    Word(String),
    Mark(char),
}

fn tokens(text: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_ascii_digit() {
            let mut n = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                n.push(d);
                chars.next();
            }
            out.push(Token::Number(n));
        } else if c.is_ascii_alphabetic() {
            let mut w = String::new();
            while let Some(&l) = chars.peek().filter(|l| l.is_ascii_alphabetic()) {
                w.push(l.to_ascii_lowercase());
                chars.next();
            }
            out.push(Token::Word(w));
        } else {
            if !c.is_whitespace() {
                out.push(Token::Mark(c));
            }
            chars.next();
        }
    }
    out
}

fn number(token: Option<&Token>, max_len: usize) -> Option<u32> {
    match token {
        Some(Token::Number(n)) if n.len() <= max_len => n.parse().ok(),
        _ => None,
    }
}

/// A four-digit year.
fn year(token: Option<&Token>) -> Option<u32> {
    match token {
        Some(Token::Number(n)) if n.len() == 4 => n.parse().ok(),
        _ => None,
    }
}

fn month_name(token: Option<&Token>) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    let Some(Token::Word(w)) = token else {
        return None;
    };
    if w == "sept" {
        return Some(9);
    }
    let month = MONTHS
        .iter()
        .position(|m| m == w || (w.len() == 3 && m.starts_with(w.as_str())))?;
    u32::try_from(month + 1).ok()
}

fn full_date(year: u32, month: u32, day: u32) -> Option<String> {
    let year = i32::try_from(year)
        .ok()
        .filter(|y| (1900..2200).contains(y))?;
    NaiveDate::from_ymd_opt(year, month, day).map(|d| d.format("%Y-%m-%d").to_string())
}

fn month_day(month: u32, day: u32) -> Option<String> {
    // 2000 is a leap year: 2月29日 is a real date in some years.
    NaiveDate::from_ymd_opt(2000, month, day).map(|d| d.format("%m-%d").to_string())
}

fn date(text: &str) -> Option<String> {
    let folded = fold_width(text);
    let t = tokens(&folded);
    let get = |i: usize| t.get(i);
    for i in 0..t.len() {
        // 2026-11-25, 2026/11/25, 2026.11.25
        if let (Some(y), Some(Token::Mark(sep)), Some(m), Some(Token::Mark(sep2)), Some(d)) = (
            year(get(i)),
            get(i + 1),
            number(get(i + 2), 2),
            get(i + 3),
            number(get(i + 4), 2),
        ) {
            if matches!(sep, '-' | '/' | '.') && sep == sep2 {
                if let Some(found) = full_date(y, m, d) {
                    return Some(found);
                }
            }
        }
        // 2026年11月25日 (日/号 optional)
        if let (Some(y), Some(Token::Mark('年')), Some(m), Some(Token::Mark('月')), Some(d)) = (
            year(get(i)),
            get(i + 1),
            number(get(i + 2), 2),
            get(i + 3),
            number(get(i + 4), 2),
        ) {
            if let Some(found) = full_date(y, m, d) {
                return Some(found);
            }
        }
        // 11月25日 / 11月25号 (not preceded by a year)
        if let (Some(m), Some(Token::Mark('月')), Some(d)) =
            (number(get(i), 2), get(i + 1), number(get(i + 2), 2))
        {
            let after_year = i > 0 && get(i - 1) == Some(&Token::Mark('年'));
            if !after_year {
                if let Some(found) = month_day(m, d) {
                    return Some(found);
                }
            }
        }
        // Nov 25 [2026], November 25th, 2026
        if let (Some(m), Some(d)) = (month_name(get(i)), number(get(i + 1), 2)) {
            let mut k = i + 2;
            if matches!(get(k), Some(Token::Word(w)) if ["st", "nd", "rd", "th"].contains(&w.as_str()))
            {
                k += 1;
            }
            if get(k) == Some(&Token::Mark(',')) {
                k += 1;
            }
            let found = match year(get(k)) {
                Some(y) => full_date(y, m, d),
                None => month_day(m, d),
            };
            if found.is_some() {
                return found;
            }
        }
        // 25 Nov [2026]
        if let (Some(d), Some(m)) = (number(get(i), 2), month_name(get(i + 1))) {
            let found = match year(get(i + 2)) {
                Some(y) => full_date(y, m, d),
                None => month_day(m, d),
            };
            if found.is_some() {
                return found;
            }
        }
    }
    let lower = folded.to_lowercase();
    let words = words(&lower);
    if lower.contains("今天") || lower.contains("今日") || words.contains(&"today") {
        return Some("today".to_owned());
    }
    if lower.contains("明天") || lower.contains("明日") || words.contains(&"tomorrow") {
        return Some("tomorrow".to_owned());
    }
    None
}

fn yes_no(text: &str) -> Option<String> {
    const YES: [&str; 30] = [
        "是",
        "是的",
        "好",
        "好的",
        "确认",
        "确定",
        "对",
        "对的",
        "嗯",
        "嗯嗯",
        "可以",
        "行",
        "没问题",
        "yes",
        "y",
        "ok",
        "okay",
        "sure",
        "yep",
        "yeah",
        "yup",
        "confirm",
        "confirmed",
        "correct",
        "right",
        "yes please",
        "of course",
        "go ahead",
        "please do",
        "that's right",
    ];
    const NO: [&str; 17] = [
        "不",
        "否",
        "不是",
        "不要",
        "不用",
        "不对",
        "不行",
        "不确认",
        "不可以",
        "no",
        "n",
        "nope",
        "nah",
        "no thanks",
        "no thank you",
        "don't",
        "do not",
    ];
    const YES_FIRST: [&str; 9] = [
        "yes", "y", "ok", "okay", "sure", "yep", "yeah", "yup", "confirm",
    ];
    const NO_FIRST: [&str; 4] = ["no", "n", "nope", "nah"];
    const YES_ZH: [&str; 9] = [
        "是",
        "好",
        "确认",
        "确定",
        "对",
        "可以",
        "行",
        "嗯",
        "没问题",
    ];
    const NO_ZH: [&str; 3] = ["不", "否", "别"];

    let folded = fold_width(text).to_lowercase();
    // A question is not an answer: "yes?" or "是否包邮？" is asked back, not confirmed.
    if folded.chars().count() > MAX_YES_NO_CHARS || folded.contains(['?', '？']) {
        return None;
    }
    let words = words(&folded);
    let joined = words.join(" ");
    let answer = |yes: bool| Some(if yes { "yes" } else { "no" }.to_owned());
    if YES.contains(&joined.as_str()) {
        return answer(true);
    }
    if NO.contains(&joined.as_str()) {
        return answer(false);
    }
    let negated = words
        .iter()
        .any(|w| ["no", "not", "don't", "dont", "cancel"].contains(w));
    let first = words.first().copied().unwrap_or_default();
    if NO_FIRST.contains(&first) {
        return answer(false);
    }
    if YES_FIRST.contains(&first) && !negated && words.len() <= 4 {
        return answer(true);
    }
    // Short Chinese answers: "好的谢谢", "确认退款", "不用退了". A question or a doubt is
    // not an answer ("可以部分退款吗", "好像地址写错了"), and after the "yes" only filler
    // may follow, so "是否包邮" or "对了，还有个问题" do not confirm anything.
    if first.chars().next().is_some_and(crate::domain::is_cjk) {
        if ["吗", "么", "是否", "好像", "对了"]
            .iter()
            .any(|q| joined.contains(q))
        {
            return None;
        }
        if NO_ZH.iter().any(|p| joined.starts_with(p)) {
            return answer(false);
        }
        let confirmed = YES_ZH
            .iter()
            .filter_map(|p| joined.strip_prefix(p))
            .any(only_filler);
        if confirmed && !joined.contains('不') {
            return answer(true);
        }
    }
    None
}

/// True when `rest` (what follows a Chinese "yes") is only politeness and repetition:
/// "的", "，谢谢", "确认退款", "帮我改一下".
fn only_filler(rest: &str) -> bool {
    const FILLER: [&str; 36] = [
        "没问题",
        "麻烦了",
        "辛苦了",
        "就这样",
        "麻烦",
        "谢谢",
        "确认",
        "确定",
        "可以",
        "提交",
        "办理",
        "退款",
        "修改",
        "帮我",
        "一下",
        "的",
        "吧",
        "啊",
        "呀",
        "哦",
        "嗯",
        "了",
        "滴",
        "哈",
        "好",
        "是",
        "对",
        "行",
        "请",
        "改",
        "退",
        "办",
        "谢",
        "您",
        "你",
        "呢",
    ];
    let mut rest = rest.trim_start();
    while !rest.is_empty() {
        match FILLER.iter().find_map(|f| rest.strip_prefix(f)) {
            Some(after) => rest = after.trim_start(),
            None => return false,
        }
    }
    true
}

fn pattern(regex: &Regex, text: &str) -> Option<String> {
    let captures = regex.captures(text)?;
    let value = captures
        .get(1)
        .filter(|m| !m.as_str().is_empty())
        .or_else(|| captures.get(0))?
        .as_str();
    (!value.is_empty()).then(|| value.to_owned())
}

/// True when the whole message asks to stop the flow ("取消", "never mind", …). Only short
/// messages of their own count: "cancel my order" is a request, not a wish to stop.
pub fn is_cancel(text: &str) -> bool {
    const PHRASES: [&str; 19] = [
        "取消",
        "取消吧",
        "算了",
        "算了吧",
        "不用了",
        "不用了谢谢",
        "不要了",
        "退出",
        "不办了",
        "cancel",
        "cancel it",
        "cancel that",
        "never mind",
        "nevermind",
        "stop",
        "stop it",
        "forget it",
        "quit",
        "exit",
    ];
    let lower = fold_width(text).to_lowercase();
    let folded = words(&lower).join(" ");
    PHRASES.contains(&folded.as_str()) || PHRASES.contains(&folded.replace(' ', "").as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_numbers_are_found_anywhere_and_normalized() {
        let cases: &[(&str, Option<&str>)] = &[
            ("SB20261125001", Some("SB20261125001")),
            ("我的订单是sb20261125001", Some("SB20261125001")),
            ("查一下订单SB20261125001谢谢", Some("SB20261125001")),
            ("order Sb12345678 please", Some("SB12345678")),
            ("ＳＢ２０２６１１２５００１", Some("SB20261125001")),
            ("SB-20261125001", Some("SB20261125001")),
            ("sb 20261125001", Some("SB20261125001")),
            ("SB12345678901234", Some("SB12345678901234")),
            ("SB1234567", None),
            ("SB123456789012345", None),
            ("ASB20261125001", None),
            ("SB20261125001X", None),
            ("20261125001", None),
            ("我没有订单号", None),
            ("", None),
            ("sb", None),
        ];
        for (input, want) in cases {
            assert_eq!(
                Validator::OrderNumber.accept(input).as_deref(),
                *want,
                "{input}"
            );
        }
    }

    #[test]
    fn mainland_mobiles_are_normalized_to_e164() {
        let cases: &[(&str, Option<&str>)] = &[
            ("13800138000", Some("+8613800138000")),
            ("+86 138 0013 8000", Some("+8613800138000")),
            ("+86-138-0013-8000", Some("+8613800138000")),
            ("0086 13800138000", Some("+8613800138000")),
            ("8613800138000", Some("+8613800138000")),
            ("电话：199 1234 5678", Some("+8619912345678")),
            ("我的手机是１３９００１３９０００", Some("+8613900139000")),
            (
                "call me at (+86) 15012345678 thanks",
                Some("+8615012345678"),
            ),
            ("13800138000 13900139000", Some("+8613800138000")),
            ("12800138000", None),
            ("1380013800", None),
            ("138001380001", None),
            ("SB13800138000", None),
            ("010-12345678", None),
            ("no phone", None),
        ];
        for (input, want) in cases {
            assert_eq!(Validator::Phone.accept(input).as_deref(), *want, "{input}");
        }
    }

    #[test]
    fn dates_in_literal_forms_are_recognised() {
        let cases: &[(&str, Option<&str>)] = &[
            ("2026-11-25", Some("2026-11-25")),
            ("2026/11/25", Some("2026-11-25")),
            ("2026.1.5", Some("2026-01-05")),
            ("2026年11月25日", Some("2026-11-25")),
            ("2026年11月25号送到", Some("2026-11-25")),
            ("11月25日", Some("11-25")),
            ("11月25号下午", Some("11-25")),
            ("２０２６－１１－２５", Some("2026-11-25")),
            ("Nov 25", Some("11-25")),
            ("November 25th, 2026", Some("2026-11-25")),
            ("25 Nov 2026", Some("2026-11-25")),
            ("on 2 sept", Some("09-02")),
            ("2月29日", Some("02-29")),
            ("today", Some("today")),
            ("Today please", Some("today")),
            ("今天", Some("today")),
            ("明天下午", Some("tomorrow")),
            ("tomorrow", Some("tomorrow")),
            ("2026-13-01", None),
            ("2026-02-30", None),
            ("2026-11/25", None),
            ("13月1日", None),
            ("next week", None),
            ("todays", None),
            ("", None),
        ];
        for (input, want) in cases {
            assert_eq!(Validator::Date.accept(input).as_deref(), *want, "{input}");
        }
    }

    #[test]
    fn yes_and_no_in_both_languages() {
        let cases: &[(&str, Option<&str>)] = &[
            ("是", Some("yes")),
            ("是的", Some("yes")),
            ("好的", Some("yes")),
            ("好的，谢谢", Some("yes")),
            ("确认", Some("yes")),
            ("确认退款", Some("yes")),
            ("对", Some("yes")),
            ("没问题！", Some("yes")),
            ("Yes", Some("yes")),
            ("y", Some("yes")),
            ("OK", Some("yes")),
            ("ok thanks", Some("yes")),
            ("Sure.", Some("yes")),
            ("yes please", Some("yes")),
            ("ｙｅｓ", Some("yes")),
            ("不", Some("no")),
            ("否", Some("no")),
            ("不是", Some("no")),
            ("不用退了", Some("no")),
            ("别", Some("no")),
            ("no", Some("no")),
            ("N", Some("no")),
            ("No thanks", Some("no")),
            ("nope", Some("no")),
            ("ok but do not refund", None),
            ("好不好", None),
            // questions and doubts at a confirmation are not a "yes"
            ("好像地址写错了", None),
            ("是否包邮？", None),
            ("可以部分退款吗", None),
            ("对了，运费谁出", None),
            ("好的，那发什么快递", None),
            ("yes?", None),
            ("好的帮我改一下", Some("yes")),
            ("是的，确认", Some("yes")),
            ("maybe", None),
            ("我想问一下运费是多少钱呢能告诉我吗谢谢你们", None),
            ("", None),
        ];
        for (input, want) in cases {
            assert_eq!(Validator::YesNo.accept(input).as_deref(), *want, "{input}");
            assert_eq!(Validator::YesNo.find(input), None, "{input}");
        }
    }

    #[test]
    fn text_counts_characters_not_bytes() {
        let v = Validator::Text {
            min_chars: 2,
            max_chars: 4,
        };
        assert_eq!(v.accept("  坏了  ").as_deref(), Some("坏了"));
        assert_eq!(v.accept("坏了坏了").as_deref(), Some("坏了坏了"));
        assert_eq!(v.accept("坏"), None);
        assert_eq!(v.accept("坏了坏了坏"), None);
        assert_eq!(v.accept("   "), None);
        assert_eq!(v.find("坏了"), None);
    }

    #[test]
    fn a_pattern_gives_its_first_group_or_the_match() {
        let grouped = Validator::Pattern(Regex::new(r"(?i)coupon\s*([A-Z0-9]{6})").unwrap());
        assert_eq!(
            grouped.accept("my coupon ABC123 failed").as_deref(),
            Some("ABC123")
        );
        let whole = Validator::Pattern(Regex::new(r"[0-9]{6}").unwrap());
        assert_eq!(whole.find("验证码 123456").as_deref(), Some("123456"));
        assert_eq!(whole.accept("nothing"), None);
    }

    #[test]
    fn cancel_means_a_whole_short_message() {
        for yes in [
            "取消",
            "算了",
            "算了。",
            "不用了",
            "不要了",
            "退出",
            "Cancel",
            "cancel!",
            "never mind",
            "Nevermind.",
            "stop it",
            "forget it",
            "quit",
            "取消 ",
        ] {
            assert!(is_cancel(yes), "{yes}");
        }
        for no in [
            "cancel my order",
            "取消订单怎么操作",
            "I want to quit my subscription",
            "stop sending me emails",
            "no",
            "",
        ] {
            assert!(!is_cancel(no), "{no}");
        }
    }
}
