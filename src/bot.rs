//! The bot seam and the first bot.
//!
//! [`Bot`] is what the customer session calls for every customer turn while no agent owns the
//! conversation; the full knowledge-base bot replaces [`KeywordBot`] behind the same trait.
//! A bot is a pure function of (text, language, its own state): it returns an answer, the new
//! state, and optionally a hand-off. No I/O, no clock.

use serde::{Deserialize, Serialize};

use crate::domain::{Language, SkillRequirement, Tier};

/// One customer turn as the bot sees it.
#[derive(Debug, Clone)]
pub struct BotTurn<'a> {
    pub text: &'a str,
    pub language: Language,
    pub tier: Tier,
    /// The state the bot returned last time in this conversation (`{}` at first).
    pub state: &'a serde_json::Value,
}

/// Why the bot hands a conversation to humans.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HandoffReason {
    /// The customer asked for a person.
    Requested,
    /// The bot did not understand twice in a row.
    NotUnderstood,
    /// A complaint or strong negative words.
    Complaint,
    /// A VIP customer the bot could not help at once.
    Vip,
    /// A flow's action (a look-up that failed, a case only a person can decide).
    Flow,
}

impl HandoffReason {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            HandoffReason::Requested => "requested",
            HandoffReason::NotUnderstood => "not_understood",
            HandoffReason::Complaint => "complaint",
            HandoffReason::Vip => "vip",
            HandoffReason::Flow => "flow",
        }
    }
}

/// A request to route the conversation to an agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Handoff {
    pub reason: HandoffReason,
    pub intent: Option<String>,
    pub required_skills: Vec<SkillRequirement>,
    pub urgent: bool,
    /// One line for the agent's offer card.
    pub summary: String,
    /// The matcher's confidence in `intent`, when a match decided it.
    pub confidence: Option<f32>,
    /// The flow the customer was in and what it collected.
    pub flow: Option<String>,
    pub slots: std::collections::BTreeMap<String, String>,
}

/// The bot's answer to one turn.
#[derive(Debug, Clone, PartialEq)]
pub struct BotReply {
    pub text: String,
    pub intent: Option<String>,
    pub handoff: Option<Handoff>,
    pub state: serde_json::Value,
}

/// Anything that can answer customers.
pub trait Bot: Send + Sync + 'static {
    /// Answers one customer turn.
    fn respond(&self, turn: &BotTurn<'_>) -> BotReply;

    /// Up to `k` knowledge-base answers for `text`, best first, rendered for `channel` (agent
    /// assist). A bot without a knowledge base has none.
    fn kb_candidates(
        &self,
        _text: &str,
        _language: Language,
        _channel: crate::domain::Channel,
        _k: usize,
    ) -> Vec<crate::assist::KbCandidate> {
        Vec::new()
    }
}

/// One FAQ entry of the keyword bot.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaqEntry {
    pub id: String,
    pub intent: String,
    /// Skill an agent needs for this topic, if any.
    #[serde(default)]
    pub skill: Option<String>,
    pub keywords_zh: Vec<String>,
    pub keywords_en: Vec<String>,
    /// Ways customers ask this question: the semantic matcher learns from them (and from
    /// the keywords).
    #[serde(default)]
    pub questions_zh: Vec<String>,
    #[serde(default)]
    pub questions_en: Vec<String>,
    pub answer_zh: String,
    pub answer_en: String,
    /// A short name of the topic, offered when the bot is unsure ("did you mean …?").
    #[serde(default)]
    pub title_zh: Option<String>,
    #[serde(default)]
    pub title_en: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FaqFile {
    faq: Vec<FaqEntry>,
    /// Questions that are not for this knowledge base: the matcher's out-of-scope class.
    #[serde(default)]
    out_of_scope: Vec<String>,
}

/// Least confidence for an entry to be offered as "did you mean …?" when the bot is unsure.
const SUGGESTION_FLOOR: f32 = 0.3;

/// Least confidence for an answer found by meaning rather than by keyword. On the demo
/// knowledge base, questions of an entry score 0.5–0.6 and unrelated text 0.2–0.3 (six
/// classes share the probability); `switchboard kb-eval --dev` tunes it for larger ones.
const SEMANTIC_THRESHOLD: f32 = 0.45;

/// What the keyword bot remembers per conversation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct KeywordState {
    /// Consecutive turns not understood.
    #[serde(default)]
    misses: u32,
    /// The last FAQ intent the customer asked about (carried into a hand-off).
    #[serde(default)]
    last_intent: Option<String>,
    #[serde(default)]
    last_skill: Option<String>,
    /// A complaint was voiced in this conversation.
    #[serde(default)]
    urgent: bool,
}

const HANDOFF_ZH: [&str; 3] = ["转人工", "人工", "真人"];
const HANDOFF_EN: [&str; 5] = ["human", "agent", "person", "representative", "operator"];
const COMPLAINT_ZH: [&str; 4] = ["投诉", "紧急", "太差", "骗子"];
const COMPLAINT_EN: [&str; 5] = ["complaint", "complain", "urgent", "terrible", "scam"];
const GREETING_ZH: [&str; 4] = ["你好", "您好", "在吗", "哈喽"];
const GREETING_EN: [&str; 5] = ["hi", "hello", "hey", "good morning", "good evening"];
const THANKS_ZH: [&str; 2] = ["谢谢", "感谢"];
const THANKS_EN: [&str; 3] = ["thanks", "thank you", "thx"];

/// The first bot: FAQ keywords in zh-CN and en, greetings, hand-off on request, on complaint,
/// or after two turns it did not understand.
#[derive(Debug, Clone)]
pub struct KeywordBot {
    entries: Vec<FaqEntry>,
    /// Trained on the entries' questions and keywords, with an out-of-scope class.
    matcher: crate::kb::matcher::Matcher,
}

/// The demo FAQ shipped with the binary.
pub const DEMO_FAQ: &str = include_str!("../config/demo/faq.toml");

impl KeywordBot {
    /// Loads entries from TOML text (`[[faq]]` tables).
    pub fn from_toml(text: &str) -> anyhow::Result<Self> {
        let file: FaqFile = toml::from_str(text)?;
        for entry in &file.faq {
            anyhow::ensure!(
                !entry.keywords_zh.is_empty() || !entry.keywords_en.is_empty(),
                "FAQ entry {} has no keywords",
                entry.id
            );
        }
        let mut examples: Vec<(String, String)> = Vec::new();
        for entry in &file.faq {
            for text in entry
                .questions_zh
                .iter()
                .chain(&entry.questions_en)
                .chain(&entry.keywords_zh)
                .chain(&entry.keywords_en)
            {
                examples.push((text.clone(), entry.id.clone()));
            }
        }
        for text in &file.out_of_scope {
            examples.push((text.clone(), crate::kb::matcher::OUT_OF_SCOPE.to_owned()));
        }
        // A small knowledge base has few examples per entry: more passes sharpen the model.
        let options = crate::kb::matcher::TrainOptions {
            epochs: 40,
            ..Default::default()
        };
        let matcher = crate::kb::matcher::Matcher::train(&examples, options);
        Ok(Self {
            entries: file.faq,
            matcher,
        })
    }

    /// Up to three entries the question may mean (each at least [`SUGGESTION_FLOOR`]), when
    /// none is confident enough to answer; their titles in `lang`.
    fn suggestions(&self, text: &str, lang: Language) -> Vec<String> {
        self.matcher
            .top(text, 4)
            .into_iter()
            .filter(|c| {
                c.confidence >= SUGGESTION_FLOOR && c.label != crate::kb::matcher::OUT_OF_SCOPE
            })
            .filter_map(|c| self.entries.iter().find(|e| e.id == c.label))
            .filter_map(|e| match lang {
                Language::Zh => e.title_zh.clone(),
                Language::En => e.title_en.clone(),
            })
            .take(3)
            .collect()
    }

    /// The entry a question means, when no keyword names one: the matcher's best entry, if
    /// confident enough and not out of scope.
    fn meant_entry(&self, text: &str) -> Option<&FaqEntry> {
        let top = self.matcher.top(text, 1);
        let best = crate::kb::matcher::decide(&top, SEMANTIC_THRESHOLD)?;
        self.entries.iter().find(|e| e.id == best.label)
    }

    /// The demo knowledge base.
    pub fn demo() -> anyhow::Result<Self> {
        Self::from_toml(DEMO_FAQ)
    }

    fn best_entry(&self, text: &str) -> Option<&FaqEntry> {
        let lower = text.to_lowercase();
        let words = words(&lower);
        self.entries
            .iter()
            .map(|e| {
                let score = e
                    .keywords_zh
                    .iter()
                    .filter(|k| lower.contains(k.as_str()))
                    .count()
                    + e.keywords_en
                        .iter()
                        .filter(|k| contains_phrase(&words, k))
                        .count();
                (score, e)
            })
            .filter(|(score, _)| *score > 0)
            // max_by_key keeps the last maximum; reverse so the first entry wins ties.
            .rev()
            .max_by_key(|(score, _)| *score)
            .map(|(_, e)| e)
    }
}

/// True when a customer waiting for an agent says, in a message of its own, that they no
/// longer want to wait ("cancel", "取消排队", …). Only whole short messages count: "I want to
/// cancel my order" is a question for the agent, not a wish to leave the queue.
pub fn leaves_queue(text: &str) -> bool {
    const PHRASES: [&str; 14] = [
        "cancel",
        "never mind",
        "nevermind",
        "stop waiting",
        "leave the queue",
        "leave queue",
        "forget it",
        "取消",
        "取消排队",
        "退出排队",
        "不等了",
        "不用了",
        "算了",
        "不需要了",
    ];
    let lower = text.to_lowercase();
    let folded = words(&lower).join(" ");
    let folded = folded.trim_matches(|c: char| !c.is_alphanumeric());
    PHRASES.contains(&folded)
}

fn words(lower: &str) -> Vec<&str> {
    lower
        .split(|c: char| !c.is_alphanumeric() && c != '\'')
        .filter(|w| !w.is_empty())
        .collect()
}

/// True when the words of `phrase` appear consecutively in `words` (whole-word match, so
/// "agent" does not match "agents'" prefixes like "agentic" and "hi" does not match "this").
fn contains_phrase(words: &[&str], phrase: &str) -> bool {
    let needle: Vec<&str> = phrase.split_whitespace().collect();
    !needle.is_empty() && words.windows(needle.len()).any(|w| w == needle.as_slice())
}

fn mentions(text: &str, zh: &[&str], en: &[&str]) -> bool {
    let lower = text.to_lowercase();
    let words = words(&lower);
    zh.iter().any(|k| lower.contains(k)) || en.iter().any(|k| contains_phrase(&words, k))
}

fn pick(language: Language, zh: &str, en: &str) -> String {
    match language {
        Language::Zh => zh.to_owned(),
        Language::En => en.to_owned(),
    }
}

impl Bot for KeywordBot {
    fn respond(&self, turn: &BotTurn<'_>) -> BotReply {
        let mut state: KeywordState =
            serde_json::from_value(turn.state.clone()).unwrap_or_default();
        let lang = turn.language;
        let quoted: String = turn.text.chars().take(120).collect();

        let complaint = mentions(turn.text, &COMPLAINT_ZH, &COMPLAINT_EN);
        let requested = mentions(turn.text, &HANDOFF_ZH, &HANDOFF_EN);
        if complaint || requested {
            state.urgent |= complaint;
            let reason = if complaint {
                HandoffReason::Complaint
            } else {
                HandoffReason::Requested
            };
            return self.handoff(state, lang, reason, &quoted);
        }
        let entry = self.best_entry(turn.text).or_else(|| {
            // Greetings and thanks are not questions for the knowledge base.
            let small_talk = mentions(turn.text, &THANKS_ZH, &THANKS_EN)
                || mentions(turn.text, &GREETING_ZH, &GREETING_EN);
            (!small_talk).then(|| self.meant_entry(turn.text)).flatten()
        });
        if let Some(entry) = entry {
            state.misses = 0;
            state.last_intent = Some(entry.intent.clone());
            state.last_skill = entry.skill.clone();
            return BotReply {
                text: pick(lang, &entry.answer_zh, &entry.answer_en),
                intent: Some(entry.intent.clone()),
                handoff: None,
                state: to_value(&state),
            };
        }
        if mentions(turn.text, &THANKS_ZH, &THANKS_EN) {
            state.misses = 0;
            return BotReply {
                text: pick(
                    lang,
                    "不客气！还有其他可以帮您的吗？",
                    "You're welcome! Anything else I can help with?",
                ),
                intent: None,
                handoff: None,
                state: to_value(&state),
            };
        }
        if mentions(turn.text, &GREETING_ZH, &GREETING_EN) {
            return BotReply {
                text: pick(
                    lang,
                    "您好！我是智能助手，可以解答退款、物流、发票、账号等问题；需要人工服务请输入“人工”。",
                    "Hi! I'm the virtual assistant. Ask me about refunds, delivery, invoices or your account — or type 'human' to reach an agent.",
                ),
                intent: None,
                handoff: None,
                state: to_value(&state),
            };
        }
        state.misses += 1;
        if state.misses >= 2 {
            return self.handoff(state, lang, HandoffReason::NotUnderstood, &quoted);
        }
        let suggestions = self.suggestions(turn.text, lang);
        if !suggestions.is_empty() {
            let text = match lang {
                Language::Zh => format!(
                    "我不太确定您的意思，您是想了解：{}？请再说具体一些，或输入“人工”转接客服。",
                    suggestions.join("、")
                ),
                Language::En => format!(
                    "I'm not sure I understood. Did you mean: {}? Tell me a bit more, or type 'human' for an agent.",
                    suggestions.join(", ")
                ),
            };
            return BotReply {
                text,
                intent: None,
                handoff: None,
                state: to_value(&state),
            };
        }
        BotReply {
            text: pick(
                lang,
                "抱歉，我没太明白。可以换个说法吗？比如“怎么退款”“快递到哪了”，或输入“人工”转接客服。",
                "Sorry, I didn't quite get that. Could you rephrase — e.g. 'how do I get a refund' or 'where is my parcel'? Or type 'human' for an agent.",
            ),
            intent: None,
            handoff: None,
            state: to_value(&state),
        }
    }
}

impl KeywordBot {
    fn handoff(
        &self,
        mut state: KeywordState,
        lang: Language,
        reason: HandoffReason,
        quoted: &str,
    ) -> BotReply {
        state.misses = 0;
        let summary = match reason {
            HandoffReason::Requested => format!("Asked for an agent: “{quoted}”"),
            HandoffReason::NotUnderstood => {
                format!("Bot did not understand twice; last: “{quoted}”")
            }
            HandoffReason::Complaint => format!("Complaint: “{quoted}”"),
            HandoffReason::Vip => format!("VIP customer the bot could not help: “{quoted}”"),
            HandoffReason::Flow => format!("Flow handed over: “{quoted}”"),
        };
        let handoff = Handoff {
            reason,
            intent: state.last_intent.clone(),
            required_skills: state
                .last_skill
                .iter()
                .map(|name| SkillRequirement {
                    name: name.clone(),
                    min_level: 1,
                })
                .collect(),
            urgent: state.urgent,
            summary,
            confidence: None,
            flow: None,
            slots: Default::default(),
        };
        BotReply {
            text: pick(
                lang,
                "好的，正在为您转接人工客服，请稍候。您之前的对话记录会同步给客服，无需重复说明。",
                "Sure — I'm connecting you to an agent now. They will see our conversation, so you won't need to repeat anything.",
            ),
            intent: state.last_intent.clone(),
            handoff: Some(handoff),
            state: to_value(&state),
        }
    }
}

fn to_value(state: &KeywordState) -> serde_json::Value {
    serde_json::to_value(state).unwrap_or_else(|_| serde_json::json!({}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_short_message_of_its_own_leaves_the_queue() {
        for yes in [
            "cancel",
            "Cancel!",
            " never mind ",
            "取消排队",
            "算了。",
            "不等了",
        ] {
            assert!(leaves_queue(yes), "{yes}");
        }
        for no in [
            "I want to cancel my order",
            "取消订单",
            "cancel my subscription",
            "hello",
            "",
        ] {
            assert!(!leaves_queue(no), "{no}");
        }
    }

    fn turn<'a>(text: &'a str, state: &'a serde_json::Value) -> BotTurn<'a> {
        BotTurn {
            text,
            language: Language::detect(text),
            tier: Tier::Standard,
            state,
        }
    }

    fn bot() -> KeywordBot {
        KeywordBot::demo().expect("demo FAQ parses")
    }

    #[test]
    fn answers_a_chinese_refund_question_in_chinese() {
        let empty = serde_json::json!({});
        let reply = bot().respond(&turn("我想退款，怎么操作？", &empty));
        assert_eq!(reply.intent.as_deref(), Some("refund"));
        assert!(reply.text.contains("退款流程"), "{}", reply.text);
        assert!(reply.handoff.is_none());
    }

    #[test]
    fn answers_an_english_delivery_question_in_english() {
        let empty = serde_json::json!({});
        let reply = bot().respond(&turn("Where is my package?", &empty));
        assert_eq!(reply.intent.as_deref(), Some("logistics"));
        assert!(reply.text.contains("ship"), "{}", reply.text);
    }

    #[test]
    fn hands_off_when_asked_and_carries_the_last_topic() {
        let b = bot();
        let empty = serde_json::json!({});
        let first = b.respond(&turn("I need an invoice", &empty));
        let second = b.respond(&turn("let me talk to a human", &first.state));
        let handoff = second.handoff.expect("hand-off");
        assert_eq!(handoff.reason, HandoffReason::Requested);
        assert_eq!(handoff.intent.as_deref(), Some("invoice"));
        assert_eq!(handoff.required_skills[0].name, "billing");
        let zh = b.respond(&turn("转人工", &empty));
        assert!(zh.handoff.is_some());
        assert!(zh.text.contains("人工客服"));
    }

    #[test]
    fn hands_off_after_two_misunderstood_turns_in_a_row() {
        let b = bot();
        let empty = serde_json::json!({});
        let first = b.respond(&turn("qwerty zxcv", &empty));
        assert!(first.handoff.is_none());
        let second = b.respond(&turn("asdf jkl", &first.state));
        assert_eq!(
            second.handoff.map(|h| h.reason),
            Some(HandoffReason::NotUnderstood)
        );
    }

    #[test]
    fn an_understood_turn_resets_the_miss_count() {
        let b = bot();
        let empty = serde_json::json!({});
        let miss = b.respond(&turn("qwerty", &empty));
        let hit = b.respond(&turn("refund", &miss.state));
        let miss_again = b.respond(&turn("zxcv", &hit.state));
        assert!(miss_again.handoff.is_none());
    }

    #[test]
    fn complaints_hand_off_as_urgent() {
        let empty = serde_json::json!({});
        let reply = bot().respond(&turn("我要投诉你们的快递", &empty));
        let handoff = reply.handoff.expect("hand-off");
        assert_eq!(handoff.reason, HandoffReason::Complaint);
        assert!(handoff.urgent);
    }

    #[test]
    fn whole_words_only_for_english_keywords() {
        let empty = serde_json::json!({});
        // "this" contains "hi", "agentic" contains "agent": neither may trigger.
        let reply = bot().respond(&turn("this agentic thing", &empty));
        assert!(reply.handoff.is_none());
        assert!(reply.text.starts_with("Sorry"));
    }

    #[test]
    fn questions_without_a_keyword_are_matched_by_meaning() {
        let empty = serde_json::json!({});
        let b = bot();
        let reply = b.respond(&turn("钱什么时候能回到我卡里", &empty));
        assert_eq!(reply.intent.as_deref(), Some("refund"), "{}", reply.text);
        let reply = b.respond(&turn("how long until my stuff shows up", &empty));
        assert_eq!(reply.intent.as_deref(), Some("logistics"), "{}", reply.text);
        // Out of scope: not forced onto an entry.
        let reply = b.respond(&turn("what's the weather like in Paris", &empty));
        assert_eq!(reply.intent, None, "{}", reply.text);
    }

    #[test]
    fn unsure_questions_get_did_you_mean_and_count_as_misses() {
        let b = bot();
        let empty = serde_json::json!({});
        let question = "我的订单";
        let top = b.matcher.top(question, 1);
        assert!(
            (SUGGESTION_FLOOR..SEMANTIC_THRESHOLD).contains(&top[0].confidence),
            "the example must be an unsure one: {top:?}"
        );
        let unsure = b.respond(&turn(question, &empty));
        assert!(unsure.text.contains("您是想了解"), "{}", unsure.text);
        assert!(unsure.handoff.is_none());
        let again = b.respond(&turn(question, &unsure.state));
        assert_eq!(
            again.handoff.map(|h| h.reason),
            Some(HandoffReason::NotUnderstood),
            "two unsure turns in a row hand off"
        );
    }

    #[test]
    fn greets_back() {
        let empty = serde_json::json!({});
        assert!(bot()
            .respond(&turn("你好", &empty))
            .text
            .starts_with("您好"));
        assert!(bot().respond(&turn("hello", &empty)).text.starts_with("Hi"));
    }
}
