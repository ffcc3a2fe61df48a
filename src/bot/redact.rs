//! Masking of personal data in texts shown to people other than the customer they belong to
//! (PIPL): agent assist offers resolved conversations as answers for other customers, and
//! what one customer or their agent wrote must not reach the next customer.
//!
//! Pure and conservative: phone and other long numbers, order numbers, e-mail addresses,
//! street numbers and rooms, and a surname before 先生/女士/小姐 or after Mr/Ms are masked;
//! the advice around them ("1–3 个工作日到账", "2-5 days") stays. Names without such a title
//! cannot be told from other words and are not masked, so the assist index keeps only what the
//! agents answered in general terms (see `assist`).

use std::sync::LazyLock;

use regex::{Captures, Regex};

/// What stands in for a masked value.
pub const MASK: &str = "***";

fn regex(pattern: &str) -> Regex {
    Regex::new(pattern).unwrap_or_else(|e| panic!("redaction pattern {pattern}: {e}"))
}

static EMAIL: LazyLock<Regex> =
    LazyLock::new(|| regex(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"));
/// Order numbers (`SB` + 8–14 digits) before the generic numbers, so the prefix stays readable.
static ORDER: LazyLock<Regex> = LazyLock::new(|| regex(r"(?i)(SB)[0-9]{8,14}"));
/// Seven digits or more, single spaces or dashes between them allowed: phones (+86 138 0013
/// 8000), ID card numbers (with a final X), bank cards, parcel numbers.
static NUMBER: LazyLock<Regex> = LazyLock::new(|| regex(r"\+?[0-9](?:[ \-]?[0-9]){6,}[Xx]?"));
/// A Chinese street number: the street's kind stays, its number goes ("建国路88号" →
/// "建国路***").
static STREET_ZH: LazyLock<Regex> = LazyLock::new(|| {
    regex(&format!(
        r"(大道|路|街|道|巷|弄|胡同)\s*[0-9]+\s*号(?:院)?(?:\s*{ROOM})*"
    ))
});
/// One building, unit, floor or room: "3号楼", "2单元", "1502室".
const ROOM: &str = r"[0-9]+\s*(?:号楼|栋|幢|单元|室|层|楼)";
/// Buildings, units, floors and rooms without a street: "3号楼2单元1502室".
static ROOM_ZH: LazyLock<Regex> = LazyLock::new(|| regex(&format!(r"{ROOM}(?:\s*{ROOM})*")));
/// An English street address: "88 Jianguo Road", "12 Baker St".
static STREET_EN: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)\b[0-9]{1,5}\s+(?:[a-z]+\s+){0,3}(?:street|st|road|rd|avenue|ave|lane|ln|boulevard|blvd|drive|dr)\b\.?",
    )
});
/// A surname before a title: "张先生" → "先生"; not "这位先生".
static TITLE_ZH: LazyLock<Regex> =
    LazyLock::new(|| regex(r"[\p{Han}&&[^位的好您这那该各此诸]](先生|女士|小姐)"));
/// A name after a title: "Mr. Smith" → "Mr. ***".
static TITLE_EN: LazyLock<Regex> =
    LazyLock::new(|| regex(r"\b(Mr|Mrs|Ms|Miss|Dr)(\.?)\s+[A-Z][A-Za-z'\-]+"));

/// `text` with the personal data it holds masked (see the module's notes).
pub fn personal_data(text: &str) -> String {
    let text = EMAIL.replace_all(text, MASK);
    let text = ORDER.replace_all(&text, |c: &Captures<'_>| format!("{}{MASK}", &c[1]));
    let text = NUMBER.replace_all(&text, MASK);
    let text = STREET_ZH.replace_all(&text, |c: &Captures<'_>| format!("{}{MASK}", &c[1]));
    let text = ROOM_ZH.replace_all(&text, MASK);
    let text = STREET_EN.replace_all(&text, MASK);
    let text = TITLE_ZH.replace_all(&text, "$1");
    let text = TITLE_EN.replace_all(&text, |c: &Captures<'_>| {
        format!("{}{} {MASK}", &c[1], &c[2])
    });
    text.into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn personal_data_is_masked_and_the_advice_stays() {
        for (text, want) in [
            (
                "张先生您好，已改为建国路88号3号楼1502室，电话13812345678",
                "先生您好，已改为建国路***，电话***",
            ),
            ("请拨打 +86 138 0013 8000 联系我", "请拨打 *** 联系我"),
            ("身份证 11010519491231002X 已核验", "身份证 *** 已核验"),
            ("订单SB20261125001已发货", "订单SB***已发货"),
            ("mail me at li.lei@example.com", "mail me at ***"),
            (
                "Dear Mr. Smith, we sent it to 12 Baker Street.",
                "Dear Mr. ***, we sent it to ***",
            ),
            (
                "退款已原路退回，银行卡一般 1–3 个工作日到账，请留意银行短信。",
                "退款已原路退回，银行卡一般 1–3 个工作日到账，请留意银行短信。",
            ),
            (
                "Customs checks take 2-5 days; call 400 820 8820 if not.",
                "Customs checks take 2-5 days; call *** if not.",
            ),
            ("这位先生的订单", "这位先生的订单"),
            ("", ""),
        ] {
            assert_eq!(personal_data(text), want, "{text}");
        }
    }

    #[test]
    fn masking_twice_changes_nothing_more() {
        let once = personal_data("王女士，SB20261125001 寄到人民路 5 号，电话 021-6888 1234");
        assert_eq!(personal_data(&once), once);
        assert!(!once.contains("6888") && !once.contains("王"), "{once}");
    }
}
