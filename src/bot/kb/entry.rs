//! Knowledge-base entries: what supervisors write (a topic's questions, keywords and answers in
//! Chinese and English, with shorter answers per channel), their validation and rendering.
//!
//! Pure: no I/O, no store. [`KbDocument`] is the shape of a knowledge base on disk and in JSON
//! imports ([`super::io`] reads and writes it, and CSV). [`KbEntry::validate`] reports *every*
//! problem at once with its place (`questions.en[3]`), like [`crate::routing::rules::compile`], so an
//! editor can show them all next to their fields.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::domain::Problem;
use crate::domain::{Channel, Language};

/// Longest entry id, in characters.
pub const MAX_ID_CHARS: usize = 64;
/// Longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 80;
/// Most question variants of one entry (both languages together).
pub const MAX_QUESTIONS: usize = 200;
/// Longest question variant, in characters.
pub const MAX_QUESTION_CHARS: usize = 500;
/// Most keywords of one entry (both languages together).
pub const MAX_KEYWORDS: usize = 50;
/// Longest keyword, in characters.
pub const MAX_KEYWORD_CHARS: usize = 100;
/// Longest answer (or channel answer), in characters.
pub const MAX_ANSWER_CHARS: usize = 4000;
/// Most tags of one entry.
pub const MAX_TAGS: usize = 32;
/// Longest tag, in characters.
pub const MAX_TAG_CHARS: usize = 40;
/// Longest skill or intent name, in characters.
pub const MAX_NAME_CHARS: usize = 64;
/// Most out-of-scope examples of one document.
pub const MAX_OUT_OF_SCOPE: usize = 2000;

/// The general out-of-scope questions shipped with the binary (see [`builtin_out_of_scope`]).
const BUILTIN_OUT_OF_SCOPE: &str = include_str!("../../../config/kb_out_of_scope.json");

/// One text per language; either may be missing.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Texts {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub zh: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub en: Option<String>,
}

impl Texts {
    /// The text in `lang`, if any.
    pub fn get(&self, lang: Language) -> Option<&str> {
        match lang {
            Language::Zh => self.zh.as_deref(),
            Language::En => self.en.as_deref(),
        }
    }

    /// The text in `lang`, else in the other language.
    pub fn get_or_other(&self, lang: Language) -> Option<&str> {
        self.get(lang).or_else(|| self.get(other(lang)))
    }

    /// Neither language has a text.
    pub fn is_empty(&self) -> bool {
        self.zh.is_none() && self.en.is_none()
    }
}

/// Several texts per language (question variants, keywords).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Variants {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub zh: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub en: Vec<String>,
}

impl Variants {
    /// The texts in `lang`.
    pub fn get(&self, lang: Language) -> &[String] {
        match lang {
            Language::Zh => &self.zh,
            Language::En => &self.en,
        }
    }

    /// Texts in both languages together.
    pub fn len(&self) -> usize {
        self.zh.len() + self.en.len()
    }

    /// No text in either language.
    pub fn is_empty(&self) -> bool {
        self.zh.is_empty() && self.en.is_empty()
    }

    /// Chinese texts, then English ones.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.zh.iter().chain(&self.en).map(String::as_str)
    }
}

/// Where an entry is in its life: only published entries answer customers.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, Default, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum EntryStatus {
    /// Being written; not used by the bot.
    Draft,
    /// Answers customers.
    #[default]
    Published,
    /// Kept for history; not used by the bot.
    Archived,
}

impl EntryStatus {
    /// Every status, in a stable order.
    pub const ALL: [EntryStatus; 3] = [
        EntryStatus::Draft,
        EntryStatus::Published,
        EntryStatus::Archived,
    ];

    /// The stored name (`draft`, `published`, `archived`).
    pub fn as_str(self) -> &'static str {
        match self {
            EntryStatus::Draft => "draft",
            EntryStatus::Published => "published",
            EntryStatus::Archived => "archived",
        }
    }

    /// Parses a stored name.
    pub fn parse(value: &str) -> Option<Self> {
        EntryStatus::ALL.into_iter().find(|s| s.as_str() == value)
    }
}

/// One knowledge-base entry: a topic customers ask about and its answer.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct KbEntry {
    /// Stable id, 1–64 characters of `a-z`, `0-9`, `_` and `-`; the matcher's label.
    pub id: String,
    /// A short name of the topic, offered when the bot is unsure ("did you mean …?").
    #[serde(default, skip_serializing_if = "Texts::is_empty")]
    pub title: Texts,
    /// Ways customers ask this question: the matcher learns from them. At least one in total.
    pub questions: Variants,
    /// Exact keywords that pick this entry before any matching by meaning (Chinese ones match
    /// as substrings, English ones as whole words), so they must not collide across entries.
    #[serde(default, skip_serializing_if = "Variants::is_empty")]
    pub keywords: Variants,
    /// The answer, in at least one language.
    pub answer: Texts,
    /// Answers for one channel (key: `web`, `app`, `wechat`, `sms`, `ivr`), e.g. a shorter
    /// SMS answer; they win over [`KbEntry::answer`] on that channel.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub channel_answers: BTreeMap<String, Texts>,
    /// Free labels for supervisors (topic, campaign, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// The skill an agent needs when the customer asks for a human after this answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skill: Option<String>,
    /// The intent routing rules see (`intent == 'refund'`); the id when absent, so several
    /// entries of one topic can share the intent their rules expect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent: Option<String>,
    #[serde(default)]
    pub status: EntryStatus,
}

/// A knowledge base as stored on disk and imported as JSON.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
#[serde(deny_unknown_fields)]
pub struct KbDocument {
    /// Questions that are not for this knowledge base, beyond [`builtin_out_of_scope`]: the
    /// matcher's out-of-scope class, so the bot says it did not understand rather than answer
    /// with the nearest entry.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub out_of_scope: Vec<String>,
    pub entries: Vec<KbEntry>,
}

impl KbDocument {
    /// Every problem of the entries ([`validate_all`]) and of the out-of-scope examples.
    pub fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        if self.out_of_scope.len() > MAX_OUT_OF_SCOPE {
            problems.push(Problem::new(
                "out_of_scope",
                format!("at most {MAX_OUT_OF_SCOPE} out-of-scope examples"),
            ));
        }
        for (i, text) in self.out_of_scope.iter().enumerate() {
            check_text(
                text,
                MAX_QUESTION_CHARS,
                &format!("out_of_scope[{i}]"),
                &mut problems,
            );
        }
        problems.extend(validate_all(&self.entries));
        problems
    }
}

impl KbEntry {
    /// The entry without whitespace around its texts, list items and names (as a CSV round
    /// trip reads them back), so that what is stored is what an export gives back.
    pub fn trimmed(mut self) -> Self {
        fn text(t: &mut Option<String>) {
            if let Some(s) = t {
                trim(s);
            }
        }
        fn trim(s: &mut String) {
            let t = s.trim();
            if t.len() != s.len() {
                *s = t.to_owned();
            }
        }
        fn texts(t: &mut Texts) {
            text(&mut t.zh);
            text(&mut t.en);
        }
        fn variants(v: &mut Variants) {
            v.zh.iter_mut().chain(v.en.iter_mut()).for_each(trim);
        }
        trim(&mut self.id);
        texts(&mut self.title);
        texts(&mut self.answer);
        self.channel_answers.values_mut().for_each(texts);
        variants(&mut self.questions);
        variants(&mut self.keywords);
        self.tags.iter_mut().for_each(trim);
        text(&mut self.skill);
        text(&mut self.intent);
        self
    }
}

impl KbEntry {
    /// The intent routing rules see: [`KbEntry::intent`], else the id.
    pub fn intent(&self) -> &str {
        self.intent.as_deref().unwrap_or(&self.id)
    }

    /// Published: the bot answers with it.
    pub fn is_live(&self) -> bool {
        self.status == EntryStatus::Published
    }

    /// The title in `lang`, else in the other language.
    pub fn title_in(&self, lang: Language) -> Option<&str> {
        self.title.get_or_other(lang)
    }

    /// The matcher's training texts: questions (Chinese, English), then keywords.
    pub fn training_examples(&self) -> impl Iterator<Item = &str> {
        self.questions.iter().chain(self.keywords.iter())
    }

    /// The answer to send on `channel` to a customer speaking `lang`: the channel's own
    /// answer in `lang`, else the answer in `lang`, else the channel's answer in the other
    /// language, else the answer in the other language. On SMS a general answer has its
    /// line breaks and runs of spaces folded to single spaces (every character costs there).
    pub fn render(&self, lang: Language, channel: Channel) -> String {
        let own = self.channel_answers.get(channel.as_str());
        let pick = |l: Language| {
            own.and_then(|t| t.get(l))
                .map(|text| (text, true))
                .or_else(|| self.answer.get(l).map(|text| (text, false)))
        };
        match pick(lang).or_else(|| pick(other(lang))) {
            Some((text, false)) if channel == Channel::Sms => {
                text.split_whitespace().collect::<Vec<_>>().join(" ")
            }
            Some((text, _)) => text.to_owned(),
            None => String::new(),
        }
    }

    /// Every problem of this entry, with paths relative to it (`id`, `answer.zh`,
    /// `questions.en[3]`, `channel_answers.fax`, `tags[2]`).
    pub fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        let p = &mut problems;
        if let Some(message) = id_problem(&self.id) {
            p.push(Problem::new("id", message));
        }
        for lang in [Language::Zh, Language::En] {
            let code = lang.as_str();
            if let Some(title) = self.title.get(lang) {
                check_text(title, MAX_TITLE_CHARS, &format!("title.{code}"), p);
            }
            for (i, q) in self.questions.get(lang).iter().enumerate() {
                check_text(q, MAX_QUESTION_CHARS, &format!("questions.{code}[{i}]"), p);
            }
            for (i, k) in self.keywords.get(lang).iter().enumerate() {
                check_text(k, MAX_KEYWORD_CHARS, &format!("keywords.{code}[{i}]"), p);
            }
            if let Some(answer) = self.answer.get(lang) {
                check_text(answer, MAX_ANSWER_CHARS, &format!("answer.{code}"), p);
            }
        }
        if self.questions.is_empty() {
            p.push(Problem::new(
                "questions",
                "an entry needs at least one question",
            ));
        } else if self.questions.len() > MAX_QUESTIONS {
            p.push(Problem::new(
                "questions",
                format!("at most {MAX_QUESTIONS} questions"),
            ));
        }
        if self.keywords.len() > MAX_KEYWORDS {
            p.push(Problem::new(
                "keywords",
                format!("at most {MAX_KEYWORDS} keywords"),
            ));
        }
        if self.answer.is_empty() {
            p.push(Problem::new(
                "answer",
                "an answer in at least one language is needed",
            ));
        }
        for (name, texts) in &self.channel_answers {
            let at = format!("channel_answers.{name}");
            if Channel::parse(name).is_err() {
                p.push(Problem::new(
                    &at,
                    format!("'{name}' is not a channel (web, app, wechat, sms, ivr)"),
                ));
            }
            if texts.is_empty() {
                p.push(Problem::new(&at, "a channel answer needs a text"));
            }
            for lang in [Language::Zh, Language::En] {
                if let Some(text) = texts.get(lang) {
                    check_text(
                        text,
                        MAX_ANSWER_CHARS,
                        &format!("{at}.{}", lang.as_str()),
                        p,
                    );
                }
            }
        }
        if self.tags.len() > MAX_TAGS {
            p.push(Problem::new("tags", format!("at most {MAX_TAGS} tags")));
        }
        for (i, tag) in self.tags.iter().enumerate() {
            let at = format!("tags[{i}]");
            check_text(tag, MAX_TAG_CHARS, &at, p);
            // `|` separates list items in CSV; a tag with one could not be exported.
            if tag.contains('|') {
                p.push(Problem::new(at, "a tag cannot contain '|'"));
            }
        }
        if let Some(skill) = &self.skill {
            check_text(skill, MAX_NAME_CHARS, "skill", p);
        }
        if let Some(intent) = &self.intent {
            check_text(intent, MAX_NAME_CHARS, "intent", p);
        }
        problems
    }
}

/// Every problem of a list of entries: each entry's under `entries[i].…`, and ids used twice
/// (at the later entry's `entries[j].id`).
pub fn validate_all(entries: &[KbEntry]) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        for problem in entry.validate() {
            problems.push(Problem::new(
                format!("entries[{i}].{}", problem.path),
                problem.message,
            ));
        }
    }
    for (later, first) in duplicate_ids(entries) {
        problems.push(Problem::new(
            format!("entries[{later}].id"),
            format!(
                "id '{}' is already used by entries[{first}]",
                entries[later].id
            ),
        ));
    }
    problems
}

/// `(later, first)` index pairs of entries sharing an id.
pub(crate) fn duplicate_ids(entries: &[KbEntry]) -> Vec<(usize, usize)> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut duplicates = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        match seen.get(entry.id.as_str()) {
            Some(&first) => duplicates.push((i, first)),
            None => {
                seen.insert(&entry.id, i);
            }
        }
    }
    duplicates
}

/// General questions that are not customer-service questions (weather, jokes, trivia, …), in
/// Chinese and English: the matcher's out-of-scope class for every knowledge base, added to
/// the document's own [`KbDocument::out_of_scope`].
pub fn builtin_out_of_scope() -> Vec<String> {
    // The file is part of the binary and checked by a test; an empty list would only make
    // the bot answer unrelated questions with its nearest entry.
    serde_json::from_str(BUILTIN_OUT_OF_SCOPE).unwrap_or_default()
}

/// The other language.
fn other(lang: Language) -> Language {
    match lang {
        Language::Zh => Language::En,
        Language::En => Language::Zh,
    }
}

/// Why `id` is not a valid entry id, if it is not.
fn id_problem(id: &str) -> Option<String> {
    let len = id.chars().count();
    if len == 0 {
        Some("an entry needs an id".to_owned())
    } else if len > MAX_ID_CHARS {
        Some(format!("at most {MAX_ID_CHARS} characters"))
    } else if !id
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
    {
        Some("only lowercase letters a-z, digits, '_' and '-'".to_owned())
    } else {
        None
    }
}

/// A text must not be blank nor longer than `max` characters.
fn check_text(text: &str, max: usize, at: &str, problems: &mut Vec<Problem>) {
    if text.trim().is_empty() {
        problems.push(Problem::new(at, "must not be blank"));
    } else if text.chars().count() > max {
        problems.push(Problem::new(at, format!("at most {max} characters")));
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::bot::kb::matcher::{Matcher, TrainOptions, OUT_OF_SCOPE};

    const DEMO_KB: &str = include_str!("../../../config/demo/kb.json");

    fn entry() -> KbEntry {
        KbEntry {
            id: "refund".to_owned(),
            title: Texts {
                zh: Some("退款".to_owned()),
                en: Some("Refunds".to_owned()),
            },
            questions: Variants {
                zh: vec!["怎么退款".to_owned()],
                en: vec!["how do I get a refund".to_owned()],
            },
            keywords: Variants::default(),
            answer: Texts {
                zh: Some("第一步：打开订单。\n第二步：申请退款。".to_owned()),
                en: Some("Step 1: open the order.\n\nStep 2:   request a refund.".to_owned()),
            },
            channel_answers: BTreeMap::new(),
            tags: vec!["refunds".to_owned()],
            skill: Some("refunds".to_owned()),
            intent: None,
            status: EntryStatus::Published,
        }
    }

    fn paths(problems: &[Problem]) -> Vec<&str> {
        problems.iter().map(|p| p.path.as_str()).collect()
    }

    fn demo() -> KbDocument {
        serde_json::from_str(DEMO_KB).expect("the demo knowledge base parses")
    }

    #[test]
    fn a_complete_entry_has_no_problems() {
        assert_eq!(entry().validate(), vec![]);
    }

    #[test]
    fn ids_are_short_lowercase_names() {
        for bad in ["", "Refund", "退款", "a b", "a.b", &"x".repeat(65)] {
            let mut e = entry();
            e.id = bad.to_owned();
            assert_eq!(paths(&e.validate()), ["id"], "{bad:?}");
        }
        for good in ["a", "refund_time", "faq-2", &"x".repeat(64)] {
            let mut e = entry();
            e.id = good.to_owned();
            assert!(e.validate().is_empty(), "{good:?}");
        }
    }

    #[test]
    fn every_problem_is_reported_with_its_place() {
        let mut e = entry();
        e.title.en = Some("t".repeat(81));
        e.questions.en.push("  ".to_owned());
        e.questions.zh.push("问".repeat(501));
        e.keywords.zh.push(String::new());
        e.answer.zh = Some("答".repeat(4001));
        e.channel_answers.insert(
            "fax".to_owned(),
            Texts {
                zh: None,
                en: Some("short".to_owned()),
            },
        );
        e.channel_answers.insert("sms".to_owned(), Texts::default());
        e.tags = vec!["a".to_owned(), "b".to_owned(), "c|d".to_owned()];
        e.skill = Some(" ".to_owned());
        e.intent = Some("i".repeat(65));
        assert_eq!(
            paths(&e.validate()),
            [
                "questions.zh[1]",
                "keywords.zh[0]",
                "answer.zh",
                "title.en",
                "questions.en[1]",
                "channel_answers.fax",
                "channel_answers.sms",
                "tags[2]",
                "skill",
                "intent",
            ]
        );
    }

    #[test]
    fn an_entry_needs_a_question_and_an_answer() {
        let mut e = entry();
        e.questions = Variants::default();
        e.answer = Texts::default();
        assert_eq!(paths(&e.validate()), ["questions", "answer"]);
        let mut e = entry();
        e.questions.zh = Vec::new();
        e.answer.en = None;
        assert!(e.validate().is_empty(), "one language is enough");
    }

    #[test]
    fn lists_have_limits() {
        let mut e = entry();
        e.questions.en = vec!["why".to_owned(); MAX_QUESTIONS];
        e.keywords.en = vec!["k".to_owned(); MAX_KEYWORDS + 1];
        e.tags = vec!["t".to_owned(); MAX_TAGS + 1];
        e.tags.push("t".repeat(MAX_TAG_CHARS + 1));
        assert_eq!(
            paths(&e.validate()),
            ["questions", "keywords", "tags", "tags[33]"]
        );
    }

    #[test]
    fn validate_all_places_problems_under_their_entry_and_finds_duplicate_ids() {
        let mut bad = entry();
        bad.id = "other".to_owned();
        bad.answer = Texts::default();
        let entries = vec![entry(), bad, entry()];
        let problems = validate_all(&entries);
        assert_eq!(paths(&problems), ["entries[1].answer", "entries[2].id"]);
        assert!(problems[1].message.contains("entries[0]"), "{problems:?}");
    }

    #[test]
    fn a_document_checks_its_out_of_scope_examples() {
        let doc = KbDocument {
            out_of_scope: vec!["weather".to_owned(), " ".to_owned()],
            entries: vec![entry()],
        };
        assert_eq!(paths(&doc.validate()), ["out_of_scope[1]"]);
    }

    #[test]
    fn unknown_fields_are_refused() {
        let text = r#"{"id":"a","questions":{"en":["q"]},"answer":{"en":"a"},"anwser":{}}"#;
        assert!(serde_json::from_str::<KbEntry>(text).is_err());
        let text = r#"{"id":"a","questions":{"fr":["q"]},"answer":{"en":"a"}}"#;
        assert!(serde_json::from_str::<KbEntry>(text).is_err());
    }

    #[test]
    fn defaults_make_a_minimal_entry_published_with_its_id_as_intent() {
        let text = r#"{"id":"a","questions":{"en":["q"]},"answer":{"en":"a"}}"#;
        let e: KbEntry = serde_json::from_str(text).expect("parses");
        assert!(e.is_live());
        assert_eq!(e.intent(), "a");
        assert_eq!(e.title_in(Language::Zh), None);
        for status in ["draft", "archived"] {
            let text = format!(
                r#"{{"id":"a","questions":{{"en":["q"]}},"answer":{{"en":"a"}},"status":"{status}"}}"#
            );
            let e: KbEntry = serde_json::from_str(&text).expect("parses");
            assert!(!e.is_live());
            assert_eq!(e.status.as_str(), status);
            assert_eq!(EntryStatus::parse(status), Some(e.status));
        }
    }

    #[test]
    fn render_prefers_the_channel_answer_then_the_language() {
        let mut e = entry();
        e.channel_answers.insert(
            "wechat".to_owned(),
            Texts {
                zh: Some("微信版".to_owned()),
                en: None,
            },
        );
        assert_eq!(e.render(Language::Zh, Channel::Wechat), "微信版");
        // The general answer in the customer's language beats the channel's in the other.
        assert!(e
            .render(Language::En, Channel::Wechat)
            .starts_with("Step 1"));
        e.answer.en = None;
        assert_eq!(e.render(Language::En, Channel::Wechat), "微信版");
        assert!(e.render(Language::En, Channel::Web).starts_with("第一步"));
    }

    #[test]
    fn render_folds_whitespace_on_sms_unless_the_entry_has_an_sms_answer() {
        let mut e = entry();
        assert_eq!(
            e.render(Language::En, Channel::Sms),
            "Step 1: open the order. Step 2: request a refund."
        );
        assert_eq!(
            e.render(Language::Zh, Channel::Sms),
            "第一步：打开订单。 第二步：申请退款。"
        );
        assert!(e.render(Language::En, Channel::Web).contains("\n\n"));
        e.channel_answers.insert(
            "sms".to_owned(),
            Texts {
                zh: None,
                en: Some("Reply 1\nfor help".to_owned()),
            },
        );
        assert_eq!(e.render(Language::En, Channel::Sms), "Reply 1\nfor help");
        assert_eq!(
            e.render(Language::Zh, Channel::Sms),
            "第一步：打开订单。 第二步：申请退款。"
        );
    }

    #[test]
    fn titles_fall_back_to_the_other_language() {
        let mut e = entry();
        assert_eq!(e.title_in(Language::En), Some("Refunds"));
        e.title.en = None;
        assert_eq!(e.title_in(Language::En), Some("退款"));
        e.title.zh = None;
        assert_eq!(e.title_in(Language::En), None);
    }

    #[test]
    fn training_examples_are_questions_then_keywords() {
        let mut e = entry();
        e.keywords.en.push("refund".to_owned());
        e.keywords.zh.push("退款".to_owned());
        let examples: Vec<&str> = e.training_examples().collect();
        assert_eq!(
            examples,
            ["怎么退款", "how do I get a refund", "退款", "refund"]
        );
    }

    #[test]
    fn the_builtin_out_of_scope_questions_are_many_and_bilingual() {
        let oos = builtin_out_of_scope();
        assert!(oos.len() >= 100, "{}", oos.len());
        let zh = oos
            .iter()
            .filter(|q| Language::detect(q) == Language::Zh)
            .count();
        assert!(
            zh * 3 >= oos.len() && zh * 3 <= oos.len() * 2,
            "{zh} of {}",
            oos.len()
        );
        assert!(oos.iter().all(|q| !q.trim().is_empty()));
        let unique: BTreeSet<&String> = oos.iter().collect();
        assert_eq!(unique.len(), oos.len(), "no repeats");
    }

    #[test]
    fn the_demo_knowledge_base_is_valid_bilingual_and_covers_four_topics() {
        let doc = demo();
        assert_eq!(doc.validate(), vec![]);
        let live: Vec<&KbEntry> = doc.entries.iter().filter(|e| e.is_live()).collect();
        assert!(live.len() >= 16, "{}", live.len());
        for e in &doc.entries {
            for lang in [Language::Zh, Language::En] {
                let code = lang.as_str();
                assert!(e.title.get(lang).is_some(), "{} title.{code}", e.id);
                assert!(e.answer.get(lang).is_some(), "{} answer.{code}", e.id);
                let questions = e.questions.get(lang).len();
                assert!((6..=10).contains(&questions), "{} questions.{code}", e.id);
            }
        }
        for tag in ["refunds", "logistics", "invoices", "account"] {
            assert!(
                live.iter().any(|e| e.tags.iter().any(|t| t == tag)),
                "{tag}"
            );
        }
        assert!(doc.out_of_scope.len() >= 25);
    }

    #[test]
    fn the_demo_knowledge_base_keeps_the_faq_ids_intents_and_skills() {
        let doc = demo();
        for (id, intent, skill) in [
            ("refund", "refund", Some("refunds")),
            ("delivery", "logistics", Some("orders")),
            ("invoice", "invoice", Some("billing")),
            ("password", "account", Some("tech")),
            ("hours", "opening_hours", None),
        ] {
            let e = doc
                .entries
                .iter()
                .find(|e| e.id == id)
                .unwrap_or_else(|| panic!("{id}"));
            assert_eq!(e.intent(), intent, "{id}");
            assert_eq!(e.skill.as_deref(), skill, "{id}");
        }
    }

    #[test]
    fn demo_sms_answers_fit_one_message() {
        let doc = demo();
        for id in ["refund", "tracking", "password"] {
            let e = doc.entries.iter().find(|e| e.id == id).expect("entry");
            let sms = e.channel_answers.get("sms").expect("an sms answer");
            let zh = sms.zh.as_deref().expect("zh").chars().count();
            let en = sms.en.as_deref().expect("en").chars().count();
            assert!(zh <= 70 && en <= 160, "{id}: {zh} / {en}");
        }
    }

    /// Paraphrases written for this test, none of them in the knowledge base.
    const HELD_OUT: [(&str, &str); 40] = [
        // Chinese
        ("我想把买的东西退掉拿回钱，步骤是啥", "refund"),
        ("退款审核通过了，钱几天能回到支付宝", "refund_time"),
        ("一单买了三样，只想退其中一个可以吗", "refund_partial"),
        ("寄回去的快递费谁来出", "return_shipping"),
        ("商家不同意我的退款申请，我该怎么办", "refund_rejected"),
        ("付款以后多长时间能发出来", "delivery"),
        ("我想看看快递现在走到哪儿了", "tracking"),
        ("快递停在一个地方好几天不动了", "delivery_delayed"),
        ("打开箱子发现颜色发错了", "wrong_item"),
        ("可以让快递员放到小区门口的柜子里吗", "pickup_point"),
        ("公司报销要发票，在哪里申请", "invoice"),
        ("单位的纳税人识别号填错了一位", "invoice_change"),
        ("报销时发现发票弄丢了，还能补一张吗", "invoice_reissue"),
        ("登录密码想不起来了", "password"),
        ("旧手机号已经停用了，怎么换成新号码", "change_phone"),
        ("我不想用了，怎么把账户彻底注销", "delete_account"),
        ("手机一直收不到短信验证码", "login_code"),
        ("晚上十点还有客服在吗", "hours"),
        ("退款钱到账了吗，怎么还没看到", "refund_time"),
        ("换货的时候运费要我自己付吗", "return_shipping"),
        // English
        (
            "what are the steps to send something back for my money",
            "refund",
        ),
        (
            "it's been a week and the refund still isn't in my bank account",
            "refund_time",
        ),
        (
            "can I return only one of the items in my order",
            "refund_partial",
        ),
        (
            "who pays the postage when I send the item back",
            "return_shipping",
        ),
        (
            "my refund request got declined, what now",
            "refund_rejected",
        ),
        ("how many days before you dispatch my order", "delivery"),
        (
            "which company is delivering my parcel and where is it now",
            "tracking",
        ),
        (
            "the courier hasn't moved my parcel in days",
            "delivery_delayed",
        ),
        ("you sent me the wrong size", "wrong_item"),
        (
            "is it possible to have it dropped in one of those lockers",
            "pickup_point",
        ),
        (
            "my company needs a tax invoice for this purchase",
            "invoice",
        ),
        ("the tax ID on my invoice is wrong", "invoice_change"),
        (
            "I misplaced the invoice you sent me, can I get another copy",
            "invoice_reissue",
        ),
        ("I can't remember my password", "password"),
        (
            "switched carriers and my mobile changed, need to update it",
            "change_phone",
        ),
        (
            "please erase all the data you hold about me",
            "delete_account",
        ),
        ("the verification code text never arrives", "login_code"),
        ("are your agents available on Sunday", "hours"),
        ("half of my order is missing from the box", "wrong_item"),
        (
            "my package was supposed to arrive yesterday but it's late",
            "delivery_delayed",
        ),
    ];

    /// A second set, written after the first round of improvements. Its misses showed a
    /// general weakness (see the third set), fixed for every entry, never sentence by sentence.
    const FRESH_HELD_OUT: [(&str, &str); 30] = [
        ("这件衣服穿着不合身，想退掉", "refund"),
        ("退款成功三天了，信用卡上还是没看到", "refund_time"),
        ("两双鞋退一双，优惠怎么算", "refund_partial"),
        ("我退货用的顺丰，运费能给我报了吗", "return_shipping"),
        ("售后说不能退，我不认可这个结果", "refund_rejected"),
        ("今天下单明天能发出吗", "delivery"),
        ("帮我看看我的包裹现在在哪", "tracking"),
        ("物流信息三天都没变了", "delivery_delayed"),
        ("收到的杯子少了一个", "wrong_item"),
        ("快递放驿站了，可我出差了取不了", "pickup_point"),
        ("买东西可以开票吗，要报销用", "invoice"),
        ("抬头要改成我们公司的名字", "invoice_change"),
        ("发票的邮件被我删了，怎么再拿到", "invoice_reissue"),
        ("密码忘了登不进去", "password"),
        ("我换了新号码，账号上的号码也想换", "change_phone"),
        ("我要求删除你们保存的我的所有信息", "delete_account"),
        ("点了获取验证码但是没有短信", "login_code"),
        ("春节期间有客服吗", "hours"),
        ("I'd like to return these shoes and get refunded", "refund"),
        ("how soon will the money be back on my card", "refund_time"),
        (
            "only one of the two shirts needs to go back",
            "refund_partial",
        ),
        (
            "do I pay the courier fee for sending it back",
            "return_shipping",
        ),
        (
            "your team turned down my return, that's not fair",
            "refund_rejected",
        ),
        ("if I order today when will it be sent out", "delivery"),
        ("show me where my parcel is right now", "tracking"),
        ("my delivery is a week overdue", "delivery_delayed"),
        (
            "the package came without the charger I paid for",
            "wrong_item",
        ),
        (
            "can I collect the order myself from a nearby station",
            "pickup_point",
        ),
        (
            "I need to change the name on the invoice you issued",
            "invoice_change",
        ),
        ("the reset code is not coming to my phone", "login_code"),
    ];

    /// A third set, written after the variants were improved with what the second one showed
    /// (request phrasings like 帮我…/please… were only in the out-of-scope examples) and never
    /// used to improve them.
    const THIRD_HELD_OUT: [(&str, &str); 20] = [
        ("我收到货了但是不喜欢，怎么退", "refund"),
        ("退款退到哪里去了，我的余额没变", "refund_time"),
        ("只退套餐里的一个小件行不行", "refund_partial"),
        ("东西坏了寄回来，邮费你们出吧", "return_shipping"),
        ("我的售后单被拒了，想找平台评理", "refund_rejected"),
        ("下单的东西还没发出来，要等几天", "delivery"),
        ("我那个快递现在到哪个城市了", "tracking"),
        ("说是派送中，等了一整天也没人送", "delivery_delayed"),
        ("麻烦帮我查下我的登录为啥一直失败", "login_code"),
        ("不想让你们再用我的数据了", "delete_account"),
        (
            "I changed my mind about the jacket, how do I send it back",
            "refund",
        ),
        (
            "the money from my return still hasn't shown up",
            "refund_time",
        ),
        (
            "the parcel is sitting at the depot and not moving",
            "delivery_delayed",
        ),
        (
            "there was a completely different product in my box",
            "wrong_item",
        ),
        ("I'd rather pick the parcel up myself", "pickup_point"),
        ("how do I get a proper invoice for accounting", "invoice"),
        (
            "please send the invoice to my new email address",
            "invoice_reissue",
        ),
        ("I have no idea what my password is anymore", "password"),
        (
            "my number changed, please update it on my profile",
            "change_phone",
        ),
        ("is anyone answering chats at midnight", "hours"),
    ];

    fn demo_matcher() -> Matcher {
        let doc = demo();
        let mut examples: Vec<(String, String)> = Vec::new();
        for e in doc.entries.iter().filter(|e| e.is_live()) {
            for text in e.training_examples() {
                examples.push((text.to_owned(), e.id.clone()));
            }
        }
        for text in builtin_out_of_scope().into_iter().chain(doc.out_of_scope) {
            examples.push((text, OUT_OF_SCOPE.to_owned()));
        }
        Matcher::train(
            &examples,
            TrainOptions {
                epochs: 40,
                select_step: false,
                ..Default::default()
            },
        )
    }

    #[test]
    fn held_out_paraphrases_land_on_their_demo_entry() {
        let doc = demo();
        for (_, id) in HELD_OUT {
            assert!(doc.entries.iter().any(|e| e.id == id), "{id}");
            // Held out: not a question of the knowledge base.
        }
        for (text, _) in HELD_OUT {
            assert!(
                !doc.entries
                    .iter()
                    .any(|e| e.training_examples().any(|q| q == text)),
                "{text}"
            );
        }
        let matcher = demo_matcher();
        let misses: Vec<(&str, &str, String)> = HELD_OUT
            .iter()
            .filter_map(|&(text, id)| {
                let top = matcher.top(text, 1);
                let hit = top.first().is_some_and(|c| c.label == id);
                // The three best, to see what a miss was taken for.
                let got = matcher
                    .top(text, 3)
                    .iter()
                    .map(|c| format!("{} {:.2}", c.label, c.confidence))
                    .collect::<Vec<_>>()
                    .join(", ");
                (!hit).then_some((text, id, got))
            })
            .collect();
        let accuracy = 1.0 - misses.len() as f64 / HELD_OUT.len() as f64;
        eprintln!("held-out top-1 accuracy {accuracy:.3}; misses: {misses:#?}");
        // Every one of these must land: six or more per language.
        for text in [
            "我想看看快递现在走到哪儿了",
            "公司报销要发票，在哪里申请",
            "登录密码想不起来了",
            "寄回去的快递费谁来出",
            "手机一直收不到短信验证码",
            "我不想用了，怎么把账户彻底注销",
            "which company is delivering my parcel and where is it now",
            "I misplaced the invoice you sent me, can I get another copy",
            "I can't remember my password",
            "my refund request got declined, what now",
            "is it possible to have it dropped in one of those lockers",
            "please erase all the data you hold about me",
        ] {
            assert!(
                !misses.iter().any(|(t, _, _)| *t == text),
                "{text}: {misses:#?}"
            );
        }
        assert!(accuracy >= 0.8, "{accuracy}: {misses:#?}");

        let fresh_hits = FRESH_HELD_OUT
            .iter()
            .filter(|(text, id)| matcher.top(text, 1).first().is_some_and(|c| c.label == *id))
            .count();
        let fresh = fresh_hits as f64 / FRESH_HELD_OUT.len() as f64;
        eprintln!("fresh held-out top-1 accuracy {fresh:.3}");
        for (text, id) in FRESH_HELD_OUT {
            eprintln!("  {id:<16} {text} -> {:?}", matcher.top(text, 2));
        }
        let third_hits = THIRD_HELD_OUT
            .iter()
            .filter(|(text, id)| matcher.top(text, 1).first().is_some_and(|c| c.label == *id))
            .count();
        let third = third_hits as f64 / THIRD_HELD_OUT.len() as f64;
        eprintln!("third held-out top-1 accuracy {third:.3}");
        for (text, id) in THIRD_HELD_OUT {
            eprintln!("  {id:<16} {text} -> {:?}", matcher.top(text, 2));
        }
        assert!(fresh >= 0.6, "{fresh}");
        assert!(third >= 0.6, "{third}");
    }

    #[test]
    fn general_questions_are_out_of_scope_for_the_demo() {
        let matcher = demo_matcher();
        for text in ["明天北京会下雨吗", "who painted the mona lisa"] {
            let top = matcher.top(text, 1);
            assert_eq!(top[0].label, OUT_OF_SCOPE, "{text}: {top:?}");
        }
    }
}
