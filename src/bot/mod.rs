//! The bot: knowledge-base answers, multi-turn flows, and hand-off with context (issue 7).
//!
//! [`Bot`] is what the customer session calls for every customer turn while no agent owns the
//! conversation. A bot is a pure function of (text, language, channel, its own state): it
//! returns an answer, the new state, and optionally a hand-off or an action for the session
//! to perform (an order look-up, a ticket), whose outcome it then gets back through
//! [`Bot::resume`]. No I/O, no clock.
//!
//! [`KbBot`] answers from the knowledge base ([`crate::bot::kb`]: keywords first, then the trained
//! matcher with its out-of-scope class and confidence, "did you mean …?" when unsure) and runs
//! the declarative flows of [`crate::bot::flows`], answering FAQ questions asked in the middle of
//! a flow (digressions) and resuming the flow after them. [`SharedBot`] holds the bot in force
//! and swaps it when supervisors change the knowledge base (hot reload).
//!
//! # Layout
//! - this file: the bot's turn ([`KbBot`], [`SharedBot`]): greetings, requests for a person,
//!   knowledge-base answers, digressions, hand-offs. A new kind of bot answer goes here.
//! - [`kb`]: knowledge-base entries, features (jieba for Chinese), the trained matcher and its
//!   evaluation; [`flows`]: declarative multi-turn flows (schema, engine, validators,
//!   templates); [`actions`]: the I/O of flow actions (order look-ups, tickets);
//!   [`service`]: loads the knowledge base from the store, trains and hot-swaps the bot;
//!   [`assist`]: agent-assist suggestions; [`redact`]: masking of personal data in texts.
//!
//! Only [`actions`], [`service`] and [`assist`] touch the store; the rest is pure.

pub mod actions;
pub mod assist;
pub mod flows;
pub mod kb;
pub mod redact;
pub mod service;

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use serde::{Deserialize, Serialize};

use crate::bot::flows::{
    ActionOutcome, ActionRequest, Flow, FlowSet, FlowState, Input, Step, StepKind,
};
use crate::bot::kb::entry::{KbDocument, KbEntry};
use crate::bot::kb::matcher::{self, Matcher, TrainOptions, OUT_OF_SCOPE};
use crate::domain::{Channel, Language, SkillRequirement, Tier};

/// One customer turn as the bot sees it.
#[derive(Debug, Clone)]
pub struct BotTurn<'a> {
    pub text: &'a str,
    pub language: Language,
    pub tier: Tier,
    /// The channel the answer goes to (answers may be rendered shorter for SMS).
    pub channel: Channel,
    /// The state the bot returned last time in this conversation (`{}` at first).
    pub state: &'a serde_json::Value,
}

/// Why the bot hands a conversation to humans.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HandoffReason {
    /// The customer asked for a person.
    Requested,
    /// The bot did not understand twice in a row (or a flow's question three times).
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
    /// One line for the agent's offer card, in English.
    pub summary: String,
    /// The same line in Simplified Chinese.
    pub summary_zh: String,
    /// The matcher's confidence in `intent`, when a match decided it.
    pub confidence: Option<f32>,
    /// The flow the customer was in (its id and title by language) and what it collected.
    pub flow: Option<String>,
    pub flow_title: BTreeMap<String, String>,
    pub slots: BTreeMap<String, String>,
}

/// The bot's answer to one turn.
#[derive(Debug, Clone, PartialEq)]
pub struct BotReply {
    pub text: String,
    pub intent: Option<String>,
    /// The matcher's confidence in `intent` (1.0 for a keyword match).
    pub confidence: Option<f32>,
    pub handoff: Option<Handoff>,
    /// An action for the session to perform before answering; its outcome goes to
    /// [`Bot::resume`] with this reply's state.
    pub action: Option<ActionRequest>,
    pub state: serde_json::Value,
    /// The knowledge-base entry that answered, if one did.
    pub entry: Option<String>,
    /// The entries offered as "did you mean …?", best first (an unsure turn).
    pub suggested: Vec<String>,
}

/// Anything that can answer customers.
pub trait Bot: Send + Sync + 'static {
    /// Answers one customer turn.
    fn respond(&self, turn: &BotTurn<'_>) -> BotReply;

    /// Continues after the action the last reply asked for (`turn.state` is that reply's
    /// state; `turn.text` is the customer's message that led to it).
    fn resume(&self, turn: &BotTurn<'_>, _outcome: ActionOutcome) -> BotReply {
        BotReply {
            entry: None,
            suggested: Vec::new(),
            text: String::new(),
            intent: None,
            confidence: None,
            handoff: None,
            action: None,
            state: turn.state.clone(),
        }
    }

    /// Up to `k` knowledge-base answers for `text`, best first, rendered for `channel` (agent
    /// assist). A bot without a knowledge base has none.
    fn kb_candidates(
        &self,
        _text: &str,
        _language: Language,
        _channel: Channel,
        _k: usize,
    ) -> Vec<crate::bot::assist::KbCandidate> {
        Vec::new()
    }
}

/// Least confidence for an entry to be offered as "did you mean …?" when the bot is unsure.
const SUGGESTION_FLOOR: f32 = 0.3;

/// Least confidence for an answer found by meaning rather than by keyword. On the demo
/// knowledge base, paraphrases of an entry's questions score well above it and unrelated text
/// below it (the out-of-scope class takes the probability); `switchboard kb-eval --dev` tunes
/// the threshold for larger knowledge bases.
pub const SEMANTIC_THRESHOLD: f32 = 0.45;

pub use flows::MAX_ACTIONS_PER_TURN;

/// What the bot remembers per conversation (inside the conversation's `bot_state`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct BotState {
    /// Consecutive turns not understood.
    #[serde(default)]
    misses: u32,
    /// The last intent the customer asked about (carried into a hand-off).
    #[serde(default)]
    last_intent: Option<String>,
    #[serde(default)]
    last_skill: Option<String>,
    #[serde(default)]
    last_confidence: Option<f32>,
    /// A complaint was voiced in this conversation.
    #[serde(default)]
    urgent: bool,
    /// The flow in progress, if any.
    #[serde(default)]
    flow: Option<FlowState>,
}

/// Asking for a person, anywhere in a message.
const HANDOFF_ZH: [&str; 10] = [
    "转人工",
    "人工客服",
    "人工服务",
    "人工坐席",
    "找人工",
    "要人工",
    "接人工",
    "转真人",
    "真人客服",
    "找真人",
];
/// Asking for a person in a short message of its own ("人工！", "真人吧"); in a longer one
/// the word means something else ("安装人工费", "人工湖路 88 号").
const HANDOFF_ZH_SHORT: [&str; 2] = ["人工", "真人"];
/// Longest "short message" for [`HANDOFF_ZH_SHORT`], in characters without punctuation.
const HANDOFF_ZH_SHORT_CHARS: usize = 5;
/// Asking for a person, wherever the word stands.
const HANDOFF_EN: [&str; 3] = ["human", "representative", "live agent"];
/// A person, but only asked for with a request word ([`REQUEST_EN`]) or in a message of
/// at most [`SHORT_WORDS`] words: "the delivery person left it at the door" asks for nobody.
const HANDOFF_EN_ASKED: [&str; 4] = ["agent", "person", "operator", "someone"];
const REQUEST_EN: [&str; 15] = [
    "talk", "speak", "connect", "transfer", "chat", "want", "need", "get", "real", "call",
    "contact", "reach", "give", "put", "through",
];
const SHORT_WORDS: usize = 4;
const COMPLAINT_ZH: [&str; 6] = ["投诉", "紧急", "太差", "骗子", "垃圾", "气死"];
const COMPLAINT_EN: [&str; 6] = [
    "complaint",
    "complain",
    "urgent",
    "terrible",
    "scam",
    "furious",
];
const GREETING_ZH: [&str; 4] = ["你好", "您好", "在吗", "哈喽"];
const GREETING_EN: [&str; 5] = ["hi", "hello", "hey", "good morning", "good evening"];
const THANKS_ZH: [&str; 2] = ["谢谢", "感谢"];
const THANKS_EN: [&str; 3] = ["thanks", "thank you", "thx"];

/// The knowledge-base bot: FAQ keywords and trained matching in zh-CN and en, flows, greetings,
/// hand-off on request, on complaint, for VIPs, or after two turns it did not understand.
#[derive(Debug)]
pub struct KbBot {
    /// Published entries only.
    entries: Vec<KbEntry>,
    /// Trained on the entries' questions and keywords, with an out-of-scope class.
    matcher: Matcher,
    flows: FlowSet,
}

/// The demo knowledge base shipped with the binary (seeded by `demo` and `serve --demo-data`).
pub const DEMO_KB: &str = include_str!("../../config/demo/kb.json");

/// A knowledge-base entry the customer's text names or means.
#[derive(Debug, Clone, Copy)]
struct Match<'a> {
    entry: &'a KbEntry,
    confidence: f32,
}

impl KbBot {
    /// An answer from the knowledge base, a flow the question starts, or a reply to small
    /// talk; `None` when the bot did not understand.
    fn answered(&self, state: &mut BotState, turn: &BotTurn<'_>, quoted: &str) -> Option<BotReply> {
        let lang = turn.language;
        // A message of greetings and thanks only is not a question for the matcher; with
        // anything more ("您好，我的包裹一周没动了") the rest is the question.
        let small_talk = only_small_talk(turn.text);
        let found = if small_talk {
            self.keyword_entry(turn.text).map(|entry| Match {
                entry,
                confidence: 1.0,
            })
        } else {
            self.matched(turn.text)
        };
        let intent = found.map(|m| m.entry.intent().to_owned());
        let flow = self
            .flows
            .triggered_by(intent.as_deref(), turn.text)
            .or_else(|| (!small_talk).then(|| self.flow_meant(turn.text)).flatten());
        if let Some(flow) = flow {
            state.misses = 0;
            state.last_intent = Some(intent.unwrap_or_else(|| flow.id().to_owned()));
            state.last_skill = found
                .and_then(|m| m.entry.skill.clone())
                .or_else(|| flow.handoff_skills().first().map(|s| s.name.clone()));
            state.last_confidence = found.map(|m| m.confidence);
            let step = flows::start(flow, turn.text, lang);
            return Some(self.step_reply(std::mem::take(state), flow.id(), step, lang, quoted));
        }
        if let Some(found) = found {
            state.misses = 0;
            state.last_intent = Some(found.entry.intent().to_owned());
            state.last_skill = found.entry.skill.clone();
            state.last_confidence = Some(found.confidence);
            return Some(BotReply {
                entry: Some(found.entry.id.clone()),
                suggested: Vec::new(),
                text: found.entry.render(lang, turn.channel),
                intent: Some(found.entry.intent().to_owned()),
                confidence: Some(found.confidence),
                handoff: None,
                action: None,
                state: to_value(state),
            });
        }
        if small_talk && mentions(turn.text, &THANKS_ZH, &THANKS_EN) {
            state.misses = 0;
            return Some(plain(
                state,
                pick(
                    lang,
                    "不客气！还有其他可以帮您的吗？",
                    "You're welcome! Anything else I can help with?",
                ),
            ));
        }
        if small_talk && mentions(turn.text, &GREETING_ZH, &GREETING_EN) {
            return Some(plain(
                state,
                pick(
                    lang,
                    "您好！我是智能助手，可以解答退款、物流、发票、账号等问题，也能帮您查订单、申请退款、修改收货地址；需要人工服务请输入“人工”。",
                    "Hi! I'm the virtual assistant. Ask me about refunds, delivery, invoices or your account; I can also check an order, request a refund or change a delivery address. Type 'human' to reach an agent.",
                ),
            ));
        }
        None
    }

    /// A turn the bot did not understand: a hand-off for VIPs and after the second miss in a
    /// row, else "did you mean …?" or a request to rephrase.
    fn not_understood(&self, mut state: BotState, turn: &BotTurn<'_>, quoted: &str) -> BotReply {
        let lang = turn.language;
        state.misses += 1;
        if turn.tier == Tier::Vip {
            // VIPs are not asked to rephrase: the first turn the bot cannot answer goes to a
            // person.
            return self.handoff(state, lang, HandoffReason::Vip, quoted);
        }
        if state.misses >= 2 {
            return self.handoff(state, lang, HandoffReason::NotUnderstood, quoted);
        }
        let suggestions = self.suggestions(turn.text, lang);
        if !suggestions.is_empty() {
            let titles: Vec<&str> = suggestions.iter().map(|(_, t)| t.as_str()).collect();
            let text = match lang {
                Language::Zh => format!(
                    "我不太确定您的意思，您是想了解：{}？请再说具体一些，或输入“人工”转接客服。",
                    titles.join("、")
                ),
                Language::En => format!(
                    "I'm not sure I understood. Did you mean: {}? Tell me a bit more, or type 'human' for an agent.",
                    titles.join(", ")
                ),
            };
            return BotReply {
                suggested: suggestions.into_iter().map(|(id, _)| id).collect(),
                ..plain(&state, text)
            };
        }
        plain(
            &state,
            pick(
                lang,
                "抱歉，我没太明白。可以换个说法吗？比如“怎么退款”“快递到哪了”，或输入“人工”转接客服。",
                "Sorry, I didn't quite get that. Could you rephrase — e.g. 'how do I get a refund' or 'where is my parcel'? Or type 'human' for an agent.",
            ),
        )
    }

    /// Trains the matcher on the published entries of `doc` (their questions and keywords)
    /// and the flows' example questions (each flow one class), with the document's and the
    /// built-in out-of-scope questions as the out-of-scope class.
    pub fn new(doc: &KbDocument, flows: FlowSet) -> Self {
        let entries: Vec<KbEntry> = doc
            .entries
            .iter()
            .filter(|e| e.is_live())
            .cloned()
            .collect();
        let mut examples: Vec<(String, String)> = Vec::new();
        for entry in &entries {
            for text in entry.training_examples() {
                examples.push((text.to_owned(), entry.id.clone()));
            }
        }
        for flow in flows.iter() {
            for text in flow.examples() {
                examples.push((text.clone(), flows::flow_label(flow.id())));
            }
        }
        for text in doc
            .out_of_scope
            .iter()
            .cloned()
            .chain(crate::bot::kb::entry::builtin_out_of_scope())
        {
            examples.push((text, OUT_OF_SCOPE.to_owned()));
        }
        // A knowledge base has few examples per entry: more passes sharpen the model. The step
        // stays fixed: the answer threshold and the "did you mean" floor are calibrated for
        // it, and a retrain after each edit stays one fit (cross-validation is 16).
        let options = TrainOptions {
            epochs: 40,
            select_step: false,
            ..Default::default()
        };
        let matcher = Matcher::train(&examples, options);
        Self {
            entries,
            matcher,
            flows,
        }
    }

    /// The demo knowledge base and flows.
    pub fn demo() -> anyhow::Result<Self> {
        let doc = crate::bot::kb::io::from_json(DEMO_KB)
            .map_err(|p| anyhow::anyhow!("the demo knowledge base is invalid: {p:?}"))?;
        let flows =
            FlowSet::demo().map_err(|p| anyhow::anyhow!("the demo flows are invalid: {p:?}"))?;
        Ok(Self::new(&doc, flows))
    }

    /// How many entries answer customers.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the knowledge base has no published entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn entry(&self, id: &str) -> Option<&KbEntry> {
        self.entries.iter().find(|e| e.id == id)
    }

    /// The entry whose keywords cover the most of the text, counted in characters, so the
    /// specific entry wins over the general one ("退款到账" over "退款"); ties: the first entry.
    fn keyword_entry(&self, text: &str) -> Option<&KbEntry> {
        let lower = text.to_lowercase();
        let words = words(&lower);
        self.entries
            .iter()
            .map(|e| {
                let zh: usize = e
                    .keywords
                    .zh
                    .iter()
                    .map(|k| k.to_lowercase())
                    .filter(|k| !k.is_empty() && lower.contains(k.as_str()))
                    .map(|k| k.chars().count())
                    .sum();
                let en: usize = e
                    .keywords
                    .en
                    .iter()
                    .map(|k| k.to_lowercase())
                    .filter(|k| contains_phrase(&words, k))
                    .map(|k| k.chars().count())
                    .sum();
                (zh + en, e)
            })
            .filter(|(score, _)| *score > 0)
            // max_by_key keeps the last maximum; reverse so the first entry wins ties.
            .rev()
            .max_by_key(|(score, _)| *score)
            .map(|(_, e)| e)
    }

    /// The entry the text means (the matcher, confident enough and not out of scope), else
    /// the one it names (keywords). Meaning comes first: a general keyword ("退款") inside a
    /// specific question ("退款多久能到账") must not pick the general entry; keywords catch
    /// what the matcher is unsure of (a bare "refund").
    fn matched(&self, text: &str) -> Option<Match<'_>> {
        self.matched_by_meaning(text).or_else(|| {
            self.keyword_entry(text).map(|entry| Match {
                entry,
                confidence: 1.0,
            })
        })
    }

    /// The entry the matcher is confident the text means (no keyword fallback).
    fn matched_by_meaning(&self, text: &str) -> Option<Match<'_>> {
        let top = self.matcher.top(text, 1);
        if top
            .first()
            .is_some_and(|c| c.label.starts_with(flows::FLOW_LABEL_PREFIX))
            && matcher::decide(&top, SEMANTIC_THRESHOLD).is_some()
        {
            // The question means a flow (see `flow_meant`): no entry answers it.
            return None;
        }
        let best = matcher::decide(&top, SEMANTIC_THRESHOLD)?;
        self.entry(&best.label).map(|entry| Match {
            entry,
            confidence: best.confidence,
        })
    }

    /// The flow the question means, when the matcher is confident its best class is one of
    /// the flows' example questions.
    fn flow_meant(&self, text: &str) -> Option<&Flow> {
        let top = self.matcher.top(text, 1);
        let best = matcher::decide(&top, SEMANTIC_THRESHOLD)?;
        let id = best.label.strip_prefix(flows::FLOW_LABEL_PREFIX)?;
        self.flows.get(id)
    }

    /// Up to three entries the question may mean (each at least [`SUGGESTION_FLOOR`]), when
    /// none is confident enough to answer; their titles in `lang`.
    /// The entries to offer as "did you mean …?": their ids and titles in `lang`.
    fn suggestions(&self, text: &str, lang: Language) -> Vec<(String, String)> {
        self.matcher
            .top(text, 4)
            .into_iter()
            .filter(|c| c.confidence >= SUGGESTION_FLOOR && c.label != OUT_OF_SCOPE)
            .filter_map(|c| self.entry(&c.label))
            .filter_map(|e| Some((e.id.clone(), e.title_in(lang)?.to_owned())))
            .take(3)
            .collect()
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

/// True when the customer asks for a person: "转人工", "人工", "I want to talk to an agent",
/// "human please"; not "安装人工费怎么算" or "the delivery person left it at the door".
fn asks_for_a_person(text: &str) -> bool {
    if mentions(text, &HANDOFF_ZH, &HANDOFF_EN) {
        return true;
    }
    let lower = text.to_lowercase();
    let words = words(&lower);
    let short_zh = lower.chars().filter(|c| c.is_alphanumeric()).count() <= HANDOFF_ZH_SHORT_CHARS;
    if short_zh && HANDOFF_ZH_SHORT.iter().any(|k| lower.contains(k)) {
        return true;
    }
    HANDOFF_EN_ASKED.iter().any(|k| words.contains(k))
        && (words.len() <= SHORT_WORDS || words.iter().any(|w| REQUEST_EN.contains(w)))
}

/// True when the text greets or thanks and says nothing else ("您好", "hi there",
/// "谢谢亲", "thanks a lot"): what is left without those words and filler is empty.
fn only_small_talk(text: &str) -> bool {
    const FILLER_ZH: [&str; 14] = [
        "请问",
        "有人吗",
        "在不在",
        "亲",
        "啊",
        "呀",
        "哦",
        "嗯",
        "哈",
        "呢",
        "了",
        "非常",
        "你们",
        "您",
    ];
    const FILLER_EN: [&str; 24] = [
        "hi",
        "hello",
        "hey",
        "good",
        "morning",
        "evening",
        "afternoon",
        "thanks",
        "thank",
        "you",
        "thx",
        "there",
        "so",
        "much",
        "very",
        "a",
        "lot",
        "again",
        "ok",
        "okay",
        "all",
        "many",
        "great",
        "dear",
    ];
    if !mentions(text, &THANKS_ZH, &THANKS_EN) && !mentions(text, &GREETING_ZH, &GREETING_EN) {
        return false;
    }
    let mut rest = text.to_lowercase();
    for phrase in GREETING_ZH.iter().chain(&THANKS_ZH).chain(&FILLER_ZH) {
        rest = rest.replace(phrase, " ");
    }
    words(&rest).iter().all(|w| FILLER_EN.contains(w))
}

fn pick(language: Language, zh: &str, en: &str) -> String {
    match language {
        Language::Zh => zh.to_owned(),
        Language::En => en.to_owned(),
    }
}

impl Bot for KbBot {
    fn respond(&self, turn: &BotTurn<'_>) -> BotReply {
        let mut state: BotState = serde_json::from_value(turn.state.clone()).unwrap_or_default();
        let lang = turn.language;
        let quoted: String = turn.text.chars().take(120).collect();

        let complaint = mentions(turn.text, &COMPLAINT_ZH, &COMPLAINT_EN);
        let requested = asks_for_a_person(turn.text);
        if complaint || requested {
            state.urgent |= complaint;
            let reason = if complaint {
                HandoffReason::Complaint
            } else {
                HandoffReason::Requested
            };
            return self.handoff(state, lang, reason, &quoted);
        }
        if let Some(flow_state) = state.flow.take() {
            if let Some(flow) = self.flows.get(flow_state.flow_id()) {
                return self.in_flow(state, flow, flow_state, turn);
            }
            // The flow was removed since: the customer's message is a fresh question.
        }
        // "算了" / "never mind" with nothing in progress: nothing to cancel, and not a turn the
        // bot failed to understand (two of those hand the customer over).
        if flows::is_cancel(turn.text) {
            state.misses = 0;
            return plain(
                &state,
                pick(
                    lang,
                    "好的。还有其他可以帮您的吗？",
                    "OK. Anything else I can help with?",
                ),
            );
        }
        if let Some(reply) = self.answered(&mut state, turn, &quoted) {
            return reply;
        }
        self.not_understood(state, turn, &quoted)
    }

    fn resume(&self, turn: &BotTurn<'_>, outcome: ActionOutcome) -> BotReply {
        let mut state: BotState = serde_json::from_value(turn.state.clone()).unwrap_or_default();
        let quoted: String = turn.text.chars().take(120).collect();
        let Some(flow_state) = state.flow.take() else {
            return plain(&state, String::new());
        };
        let Some(flow) = self.flows.get(flow_state.flow_id()) else {
            return plain(&state, String::new());
        };
        let step = flows::advance(flow, flow_state, Input::Outcome(outcome), turn.language);
        self.step_reply(state, flow.id(), step, turn.language, &quoted)
    }

    fn kb_candidates(
        &self,
        text: &str,
        language: Language,
        channel: Channel,
        k: usize,
    ) -> Vec<crate::bot::assist::KbCandidate> {
        let mut out: Vec<crate::bot::assist::KbCandidate> = Vec::new();
        let keyword = self.keyword_entry(text);
        for (entry, confidence) in keyword.map(|e| (e, 1.0)).into_iter().chain(
            self.matcher
                .top(text, k + 1)
                .into_iter()
                .filter_map(|c| Some((self.entry(&c.label)?, c.confidence))),
        ) {
            if out.len() == k || out.iter().any(|c| c.entry_id == entry.id) {
                continue;
            }
            out.push(crate::bot::assist::KbCandidate {
                entry_id: entry.id.clone(),
                title: entry.title_in(language).unwrap_or(&entry.id).to_owned(),
                text: entry.render(language, channel),
                confidence,
            });
        }
        out
    }
}

impl KbBot {
    /// A customer turn while a flow waits for an answer: a cancel word or an answer moves the
    /// flow on; a confident FAQ question is answered and the flow's question asked again
    /// (digression); anything else is the flow's to re-ask (or give up on).
    fn in_flow(
        &self,
        mut state: BotState,
        flow: &flows::Flow,
        mut flow_state: FlowState,
        turn: &BotTurn<'_>,
    ) -> BotReply {
        let lang = turn.language;
        let quoted: String = turn.text.chars().take(120).collect();
        if !flows::is_cancel(turn.text)
            && !flows::accepts(flow, &flow_state, turn.text)
            && !flows::attempts(flow, &flow_state, turn.text)
        {
            // Only a question the matcher is sure of is a digression (a keyword is not enough),
            // and a try at the answer ("手机号是1380013800") is re-asked and counted instead.
            if let Some(found) = self
                .matched_by_meaning(turn.text)
                .filter(|_| flow_state.digress())
            {
                let resume = flows::resume_prompt(flow, &flow_state, lang);
                state.flow = Some(flow_state);
                return BotReply {
                    entry: None,
                    suggested: Vec::new(),
                    text: format!("{}\n\n{resume}", found.entry.render(lang, turn.channel)),
                    intent: Some(found.entry.intent().to_owned()),
                    confidence: Some(found.confidence),
                    handoff: None,
                    action: None,
                    state: to_value(&state),
                };
            }
        }
        let step = flows::advance(flow, flow_state, Input::Text(turn.text), lang);
        self.step_reply(state, flow.id(), step, lang, &quoted)
    }

    /// A flow step as the bot's reply: what it says, the action it asks for, its hand-off.
    fn step_reply(
        &self,
        mut state: BotState,
        flow_id: &str,
        step: Step,
        lang: Language,
        quoted: &str,
    ) -> BotReply {
        state.flow = step.state;
        let mut text = step.say.join("\n");
        let handoff = step.handoff.map(|h| {
            let reason = if step.outcome == StepKind::GaveUp {
                HandoffReason::NotUnderstood
            } else {
                HandoffReason::Flow
            };
            Handoff {
                reason,
                intent: state
                    .last_intent
                    .clone()
                    .or_else(|| Some(flow_id.to_owned())),
                required_skills: h.skills,
                urgent: h.urgent || state.urgent,
                summary: if h.summary.is_empty() {
                    format!("Flow {flow_id}: “{quoted}”")
                } else {
                    h.summary
                },
                summary_zh: if h.summary_zh.is_empty() {
                    format!("流程 {flow_id}：“{quoted}”")
                } else {
                    h.summary_zh
                },
                confidence: state.last_confidence,
                flow: Some(flow_id.to_owned()),
                flow_title: self.flow_title(flow_id),
                slots: h.slots,
            }
        });
        if handoff.is_some() {
            state.misses = 0;
            if text.is_empty() {
                text = handoff_text(lang);
            }
        }
        BotReply {
            entry: None,
            suggested: Vec::new(),
            text,
            intent: state.last_intent.clone(),
            confidence: state.last_confidence,
            handoff,
            action: step.action,
            state: to_value(&state),
        }
    }

    fn handoff(
        &self,
        mut state: BotState,
        lang: Language,
        reason: HandoffReason,
        quoted: &str,
    ) -> BotReply {
        state.misses = 0;
        // A hand-off in the middle of a flow carries what the flow collected, and goes to the
        // people the flow's own hand-off names (refunds for a refund request), not to the
        // topic before it.
        let (flow, slots) = match state.flow.take() {
            Some(f) => (Some(f.flow_id().to_owned()), f.slots().clone()),
            None => (None, BTreeMap::new()),
        };
        let flow_skills = flow
            .as_deref()
            .and_then(|id| self.flows.get(id))
            .map(|f| f.handoff_skills().to_vec())
            .unwrap_or_default();
        let required_skills = if flow_skills.is_empty() {
            state
                .last_skill
                .iter()
                .map(|name| SkillRequirement {
                    name: name.clone(),
                    min_level: 1,
                })
                .collect()
        } else {
            flow_skills
        };
        let (summary, summary_zh) = handoff_summary(reason, quoted);
        let handoff = Handoff {
            reason,
            intent: state.last_intent.clone(),
            required_skills,
            urgent: state.urgent,
            summary,
            summary_zh,
            confidence: state.last_confidence,
            flow_title: flow
                .as_deref()
                .map(|f| self.flow_title(f))
                .unwrap_or_default(),
            flow,
            slots,
        };
        BotReply {
            entry: None,
            suggested: Vec::new(),
            text: handoff_text(lang),
            intent: state.last_intent.clone(),
            confidence: state.last_confidence,
            handoff: Some(handoff),
            action: None,
            state: to_value(&state),
        }
    }
}

impl KbBot {
    /// A flow's title in both languages (empty for an unknown flow).
    fn flow_title(&self, flow_id: &str) -> BTreeMap<String, String> {
        self.flows
            .get(flow_id)
            .map(|f| {
                [
                    ("zh".to_owned(), f.title(Language::Zh)),
                    ("en".to_owned(), f.title(Language::En)),
                ]
                .into()
            })
            .unwrap_or_default()
    }
}

fn handoff_text(lang: Language) -> String {
    pick(
        lang,
        "好的，正在为您转接人工客服，请稍候。您之前的对话记录会同步给客服，无需重复说明。",
        "Sure — I'm connecting you to an agent now. They will see our conversation, so you won't need to repeat anything.",
    )
}

/// A reply that only says something.
fn plain(state: &BotState, text: String) -> BotReply {
    BotReply {
        entry: None,
        suggested: Vec::new(),
        text,
        intent: None,
        confidence: None,
        handoff: None,
        action: None,
        state: to_value(state),
    }
}

fn to_value(state: &BotState) -> serde_json::Value {
    serde_json::to_value(state).unwrap_or_else(|_| serde_json::json!({}))
}

/// The bot in force on this node. Sessions hold this; a knowledge-base change trains a new
/// [`KbBot`] off the session path and swaps it in ([`SharedBot::replace`]): turns in progress
/// finish with the bot they started with.
pub struct SharedBot {
    current: RwLock<Arc<KbBot>>,
    /// The knowledge-base revision the bot in force was trained on.
    revision: std::sync::atomic::AtomicI64,
}

impl SharedBot {
    /// Starts with `bot`, trained on `revision`.
    pub fn new(bot: KbBot, revision: i64) -> Self {
        Self {
            current: RwLock::new(Arc::new(bot)),
            revision: std::sync::atomic::AtomicI64::new(revision),
        }
    }

    /// The bot in force.
    pub fn current(&self) -> Arc<KbBot> {
        match self.current.read() {
            Ok(guard) => Arc::clone(&guard),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// The revision the bot in force was trained on.
    pub fn revision(&self) -> i64 {
        self.revision.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Puts `bot` (trained on `revision`) in force, unless a newer revision already is.
    pub fn replace(&self, bot: KbBot, revision: i64) -> bool {
        let mut guard = match self.current.write() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        if revision < self.revision() {
            return false;
        }
        *guard = Arc::new(bot);
        self.revision
            .store(revision, std::sync::atomic::Ordering::Release);
        true
    }
}

impl Bot for SharedBot {
    fn respond(&self, turn: &BotTurn<'_>) -> BotReply {
        self.current().respond(turn)
    }

    fn resume(&self, turn: &BotTurn<'_>, outcome: ActionOutcome) -> BotReply {
        self.current().resume(turn, outcome)
    }

    fn kb_candidates(
        &self,
        text: &str,
        language: Language,
        channel: Channel,
        k: usize,
    ) -> Vec<crate::bot::assist::KbCandidate> {
        self.current().kb_candidates(text, language, channel, k)
    }
}

/// The agent's one-line summary of a hand-off, in English and in Simplified Chinese.
fn handoff_summary(reason: HandoffReason, quoted: &str) -> (String, String) {
    match reason {
        HandoffReason::Requested => (
            format!("Asked for an agent: “{quoted}”"),
            format!("客户要求转人工：“{quoted}”"),
        ),
        HandoffReason::NotUnderstood => (
            format!("Bot did not understand twice; last: “{quoted}”"),
            format!("机器人连续两次未能理解，最后一句：“{quoted}”"),
        ),
        HandoffReason::Complaint => (
            format!("Complaint: “{quoted}”"),
            format!("投诉：“{quoted}”"),
        ),
        HandoffReason::Vip => (
            format!("VIP customer the bot could not answer: “{quoted}”"),
            format!("VIP 客户，机器人未能解答：“{quoted}”"),
        ),
        HandoffReason::Flow => (
            format!("Handed over by a flow: “{quoted}”"),
            format!("由流程转人工：“{quoted}”"),
        ),
    }
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
            channel: Channel::Web,
            state,
        }
    }

    fn bot() -> KbBot {
        KbBot::demo().expect("demo knowledge base and flows load")
    }

    #[test]
    fn answers_a_chinese_refund_question_in_chinese() {
        let empty = serde_json::json!({});
        let b = bot();
        let reply = b.respond(&turn("我想退款，怎么操作？", &empty));
        assert_eq!(reply.intent.as_deref(), Some("refund"));
        // The answer is the named entry's.
        let entry = b.entry(reply.entry.as_deref().expect("an entry answered"));
        assert_eq!(entry.map(|e| e.intent()), Some("refund"));
        assert!(reply.suggested.is_empty());
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
    fn a_paraphrase_without_a_keyword_starts_the_flow_it_means() {
        let b = bot();
        let empty = serde_json::json!({});
        // None of these contains a trigger keyword, and none is one of the flow's examples.
        for (text, flow) in [
            ("我想查查我订的东西现在到什么状态了", "order_status"),
            (
                "could you tell me what is going on with my order",
                "order_status",
            ),
            ("送货的地址我写得不对，想换一个", "change_address"),
            ("please send my order to another address", "change_address"),
        ] {
            assert!(
                b.flows.triggered_by(None, text).is_none(),
                "{text}: no keyword"
            );
            let reply = b.respond(&turn(text, &empty));
            let state: BotState = serde_json::from_value(reply.state.clone()).unwrap();
            assert_eq!(
                state.flow.as_ref().map(|f| f.flow_id().to_owned()),
                Some(flow.to_owned()),
                "{text}: {:?}",
                b.matcher.top(text, 3)
            );
            assert_eq!(reply.entry, None, "{text}: no entry answers it");
        }
        // Questions about entries still get their entries.
        let invoice = b.respond(&turn("how do I get an invoice for my purchase", &empty));
        assert_eq!(invoice.intent.as_deref(), Some("invoice"), "{invoice:?}");
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
        assert!(
            handoff.summary.contains("let me talk to a human"),
            "{handoff:?}"
        );
        let zh = b.respond(&turn("转人工", &empty));
        assert!(zh.text.contains("人工客服"));
        // The agent's summary is in both languages, quoting the customer.
        let zh = zh.handoff.expect("hand-off");
        assert!(zh.summary.starts_with("Asked for an agent"), "{zh:?}");
        assert!(zh.summary_zh.starts_with("客户要求转人工"), "{zh:?}");
        assert!(zh.summary_zh.contains("“转人工”"), "{zh:?}");
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
        let reply = b.respond(&turn("退回的钱多久能到", &empty));
        assert_eq!(reply.intent.as_deref(), Some("refund"), "{}", reply.text);
        let reply = b.respond(&turn("my parcel hasn't moved for days", &empty));
        assert_eq!(reply.intent.as_deref(), Some("logistics"), "{}", reply.text);
        // Out of scope: not forced onto an entry.
        let reply = b.respond(&turn("what's the weather like in Paris", &empty));
        assert_eq!(reply.intent, None, "{}", reply.text);
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

    fn vip_turn<'a>(text: &'a str, state: &'a serde_json::Value) -> BotTurn<'a> {
        BotTurn {
            tier: Tier::Vip,
            ..turn(text, state)
        }
    }

    fn order_found(status: &str) -> ActionOutcome {
        ActionOutcome::Done {
            status: 200,
            fields: [
                ("order_no".to_owned(), "SB20261125001".to_owned()),
                ("status".to_owned(), status.to_owned()),
                ("eta".to_owned(), "2026-11-27".to_owned()),
            ]
            .into(),
        }
    }

    #[test]
    fn unsure_questions_get_did_you_mean_and_count_as_misses() {
        let b = bot();
        let empty = serde_json::json!({});
        // Find an unsure question among a few vague ones (the exact scores depend on the
        // knowledge base); at least one must be unsure, or the feature is dead.
        let question = [
            "钱和发票",
            "账号和快递",
            "money and parcel",
            "invoice or refund",
            "我买的东西有问题",
            "钱的事",
            "东西还没有",
            "收到的东西不对劲",
            "账单问题",
            "my purchase",
            "money stuff",
            "about my order",
            "something with my account",
        ]
        .into_iter()
        .find(|q| {
            let top = b.matcher.top(q, 1);
            b.keyword_entry(q).is_none()
                && b.entry(&top[0].label).is_some()
                && (SUGGESTION_FLOOR..SEMANTIC_THRESHOLD).contains(&top[0].confidence)
        })
        .expect("one of the vague questions is unsure");
        let unsure = b.respond(&turn(question, &empty));
        assert!(
            unsure.text.contains("您是想了解") || unsure.text.contains("Did you mean"),
            "{}",
            unsure.text
        );
        assert!(unsure.handoff.is_none());
        // The offered entries are named, best first, and their titles are in the text.
        assert!(!unsure.suggested.is_empty() && unsure.suggested.len() <= 3);
        assert_eq!(unsure.suggested[0], b.matcher.top(question, 1)[0].label);
        assert_eq!(unsure.entry, None);
        for id in &unsure.suggested {
            let entry = b.entry(id).expect("a suggested entry exists");
            let lang = Language::detect(question);
            assert!(unsure.text.contains(entry.title_in(lang).unwrap_or("?")));
        }
        let again = b.respond(&turn(question, &unsure.state));
        assert_eq!(
            again.handoff.map(|h| h.reason),
            Some(HandoffReason::NotUnderstood),
            "two unsure turns in a row hand off"
        );
    }

    #[test]
    fn a_vip_is_handed_over_at_the_first_turn_the_bot_cannot_answer() {
        let b = bot();
        let empty = serde_json::json!({});
        let answered = b.respond(&vip_turn("怎么退款", &empty));
        assert!(
            answered.handoff.is_none(),
            "a VIP's FAQ question is answered"
        );
        let reply = b.respond(&vip_turn("qwerty zxcv", &answered.state));
        let handoff = reply.handoff.expect("hand-off");
        assert_eq!(handoff.reason, HandoffReason::Vip);
        assert_eq!(
            handoff.intent.as_deref(),
            Some("refund"),
            "the last topic goes along"
        );
    }

    #[test]
    fn sms_gets_the_short_answer() {
        let empty = serde_json::json!({});
        let web = bot().respond(&turn("怎么退款", &empty));
        let sms = bot().respond(&BotTurn {
            channel: Channel::Sms,
            ..turn("怎么退款", &empty)
        });
        assert_eq!(web.intent, sms.intent);
        assert!(
            sms.text.chars().count() < web.text.chars().count(),
            "{}",
            sms.text
        );
    }

    #[test]
    fn order_status_flow_asks_for_the_number_looks_it_up_and_answers() {
        let b = bot();
        let empty = serde_json::json!({});
        let asked = b.respond(&turn("帮我查订单", &empty));
        assert!(asked.text.contains("订单号"), "{}", asked.text);
        assert!(asked.action.is_none() && asked.handoff.is_none());
        let looked_up = b.respond(&turn("sb20261125001", &asked.state));
        let Some(ActionRequest::Http { service, path, .. }) = &looked_up.action else {
            panic!("an order look-up: {looked_up:?}");
        };
        assert_eq!(service, "orders");
        assert!(path.ends_with("/orders/SB20261125001"), "{path}");
        let done = b.resume(
            &turn("sb20261125001", &looked_up.state),
            order_found("已发货"),
        );
        assert!(
            done.text.contains("已发货") && done.text.contains("SB20261125001"),
            "{}",
            done.text
        );
        assert!(done.action.is_none() && done.handoff.is_none());
        // The flow is over: the next message is a fresh question.
        let next = b.respond(&turn("怎么开发票", &done.state));
        assert_eq!(next.intent.as_deref(), Some("invoice"), "{}", next.text);
    }

    #[test]
    fn the_order_number_in_the_first_message_is_not_asked_again() {
        let b = bot();
        let empty = serde_json::json!({});
        let reply = b.respond(&turn("Where is my order SB20261125001?", &empty));
        assert!(
            matches!(&reply.action, Some(ActionRequest::Http { path, .. }) if path.ends_with("SB20261125001")),
            "{reply:?}"
        );
    }

    #[test]
    fn an_invalid_order_number_is_asked_again_then_handed_over() {
        let b = bot();
        let empty = serde_json::json!({});
        let mut reply = b.respond(&turn("查订单", &empty));
        let mut handed = None;
        for _ in 0..5 {
            reply = b.respond(&turn("12345", &reply.state));
            assert!(reply.action.is_none());
            if let Some(h) = reply.handoff.clone() {
                handed = Some(h);
                break;
            }
            assert!(
                reply.text.contains("订单号") || reply.text.contains("order number"),
                "re-asked: {}",
                reply.text
            );
        }
        let handoff = handed.expect("gives up after the retries");
        assert_eq!(handoff.reason, HandoffReason::NotUnderstood);
        assert_eq!(handoff.flow.as_deref(), Some("order_status"));
    }

    #[test]
    fn a_faq_question_inside_a_flow_is_answered_and_the_flow_resumes() {
        let b = bot();
        let empty = serde_json::json!({});
        let asked = b.respond(&turn("查订单", &empty));
        let digression = b.respond(&turn("怎么开发票？", &asked.state));
        assert_eq!(
            digression.intent.as_deref(),
            Some("invoice"),
            "{}",
            digression.text
        );
        assert!(
            digression.text.contains("回到刚才的问题"),
            "{}",
            digression.text
        );
        assert!(digression.action.is_none());
        let resumed = b.respond(&turn("SB20261125001", &digression.state));
        assert!(resumed.action.is_some(), "the flow goes on: {resumed:?}");
    }

    #[test]
    fn cancel_leaves_the_flow() {
        let b = bot();
        let empty = serde_json::json!({});
        let asked = b.respond(&turn("change my address", &empty));
        let cancelled = b.respond(&turn("never mind", &asked.state));
        assert!(cancelled.action.is_none() && cancelled.handoff.is_none());
        assert!(
            cancelled.text.to_lowercase().contains("cancel"),
            "{}",
            cancelled.text
        );
        let after = b.respond(&turn("SB20261125001", &cancelled.state));
        assert!(
            after.action.is_none(),
            "no flow is waiting any more: {after:?}"
        );
    }

    #[test]
    fn a_failed_look_up_hands_over_with_the_slots() {
        let b = bot();
        let empty = serde_json::json!({});
        let looking = b.respond(&turn("查订单 SB20261125001", &empty));
        assert!(looking.action.is_some());
        let failed = b.resume(
            &turn("查订单 SB20261125001", &looking.state),
            ActionOutcome::Failed {
                reason: "connection refused".to_owned(),
            },
        );
        let handoff = failed.handoff.expect("hand-off");
        assert_eq!(handoff.reason, HandoffReason::Flow);
        assert_eq!(
            handoff.slots.get("order_no").map(String::as_str),
            Some("SB20261125001")
        );
        assert!(handoff.required_skills.iter().any(|s| s.name == "orders"));
        assert!(!failed.text.is_empty());
    }

    #[test]
    fn asking_for_a_person_inside_a_flow_carries_the_collected_slots() {
        let b = bot();
        let empty = serde_json::json!({});
        let asked = b.respond(&turn("我要退款", &empty));
        let reason = b.respond(&turn("SB20261125001", &asked.state));
        let human = b.respond(&turn("转人工", &reason.state));
        let handoff = human.handoff.expect("hand-off");
        assert_eq!(handoff.flow.as_deref(), Some("refund_request"));
        assert!(!handoff.flow_title["zh"].is_empty() && !handoff.flow_title["en"].is_empty());
        assert_eq!(
            handoff.slots.get("order_no").map(String::as_str),
            Some("SB20261125001")
        );
    }

    #[test]
    fn a_hand_off_inside_a_flow_goes_to_the_flows_people_not_the_topic_before() {
        let b = bot();
        let empty = serde_json::json!({});
        let invoice = b.respond(&turn("怎么开发票", &empty));
        assert_eq!(invoice.intent.as_deref(), Some("invoice"));
        let asked = b.respond(&turn("我要退款", &invoice.state));
        assert!(asked.text.contains("订单号"), "{}", asked.text);
        let human = b.respond(&turn("转人工", &asked.state));
        let handoff = human.handoff.expect("hand-off");
        let skills: Vec<&str> = handoff
            .required_skills
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        assert_eq!(skills, ["refunds"], "{handoff:?}");
    }

    #[test]
    fn a_wrong_answer_with_a_keyword_in_it_is_asked_again_not_answered() {
        let b = bot();
        let empty = serde_json::json!({});
        let mut state = b.respond(&turn("改地址 SB20261125001", &empty)).state;
        state = b
            .respond(&turn("上海市浦东新区世纪大道100号8楼", &state))
            .state;
        // Ten digits: not a mobile number, though "手机号" names an FAQ entry.
        let wrong = b.respond(&turn("手机号是1380013800", &state));
        assert!(
            wrong.text.contains("请输入有效的 11 位手机号码"),
            "{}",
            wrong.text
        );
        assert!(!wrong.text.contains("回到刚才的问题"), "{}", wrong.text);
        // And the retries count: the customer cannot loop forever.
        let mut state = wrong.state;
        let mut gave_up = false;
        for _ in 0..4 {
            let reply = b.respond(&turn("手机号是1380013800", &state));
            state = reply.state;
            if reply.handoff.is_some() {
                gave_up = true;
                break;
            }
        }
        assert!(gave_up, "the flow gives up after its retries");
    }

    #[test]
    fn faq_questions_inside_a_flow_are_answered_a_few_times_then_taken_as_answers() {
        let b = bot();
        let empty = serde_json::json!({});
        let mut state = b.respond(&turn("查订单", &empty)).state;
        for n in 0..crate::bot::flows::MAX_DIGRESSIONS {
            let reply = b.respond(&turn("怎么开发票？", &state));
            assert!(reply.text.contains("回到刚才的问题"), "{n}: {}", reply.text);
            state = reply.state;
        }
        let reply = b.respond(&turn("怎么开发票？", &state));
        assert!(!reply.text.contains("回到刚才的问题"), "{}", reply.text);
        assert!(reply.text.contains("订单号"), "re-asked: {}", reply.text);
    }

    #[test]
    fn a_greeting_does_not_hide_the_question_after_it() {
        let b = bot();
        let empty = serde_json::json!({});
        let greeting = b.respond(&turn("你好", &empty)).text;
        for text in ["您好，我想退款，怎么操作？", "hi, where is my package?"] {
            let reply = b.respond(&turn(text, &empty));
            assert_ne!(reply.text, greeting, "{text}");
            assert!(reply.entry.is_some(), "{text}: {}", reply.text);
        }
        for text in [
            "您好",
            "hi there",
            "Hello!",
            "谢谢亲",
            "thanks a lot",
            "你好，在吗",
        ] {
            let reply = b.respond(&turn(text, &empty));
            assert!(reply.entry.is_none() && reply.handoff.is_none(), "{text}");
            assert!(
                reply.text.starts_with("您好")
                    || reply.text.starts_with("Hi")
                    || reply.text.starts_with("不客气")
                    || reply.text.starts_with("You're welcome"),
                "{text}: {}",
                reply.text
            );
        }
    }

    #[test]
    fn only_requests_for_a_person_hand_off_as_requested() {
        for asked in [
            "转人工",
            "人工",
            "人工！",
            "我还是想找人工处理",
            "人工客服在吗",
            "human please",
            "I want to talk to a person",
            "agent",
            "can I speak to someone",
            "let me talk to a human",
            "representative",
        ] {
            assert!(asks_for_a_person(asked), "{asked}");
        }
        for not in [
            "安装人工费怎么算",
            "上海市人工湖路88号",
            "the delivery person left it at the wrong door",
            "my travel agent booked this order for me last week",
            "谢谢",
        ] {
            assert!(!asks_for_a_person(not), "{not}");
        }
    }

    #[test]
    fn never_mind_with_nothing_in_progress_is_not_a_miss() {
        let b = bot();
        let empty = serde_json::json!({});
        let first = b.respond(&turn("算了", &empty));
        let second = b.respond(&turn("算了", &first.state));
        assert!(second.handoff.is_none(), "{second:?}");
        assert!(second.text.starts_with("好的"), "{}", second.text);
    }

    #[test]
    fn assist_candidates_are_ranked_entries_rendered_for_the_channel() {
        let b = bot();
        let c = b.kb_candidates("发票抬头开错了能改吗", Language::Zh, Channel::Web, 3);
        assert!(!c.is_empty() && c.len() <= 3);
        assert!(c.iter().any(|c| c.entry_id.contains("invoice")), "{c:?}");
        let ids: std::collections::BTreeSet<&str> = c.iter().map(|c| c.entry_id.as_str()).collect();
        assert_eq!(ids.len(), c.len(), "no entry twice");
    }

    #[test]
    fn a_shared_bot_swaps_in_a_newer_knowledge_base_only() {
        let shared = SharedBot::new(bot(), 3);
        let empty = serde_json::json!({});
        assert_eq!(
            shared.respond(&turn("怎么退款", &empty)).intent.as_deref(),
            Some("refund")
        );
        let only_hours = crate::bot::kb::io::from_json(
            r#"{"entries":[{"id":"hours","questions":{"zh":["你们几点上班"]},"keywords":{"zh":["营业时间"]},"answer":{"zh":"每天 9:00–21:00。"}}]}"#,
        )
        .expect("valid");
        assert!(
            !shared.replace(KbBot::new(&only_hours, FlowSet::default()), 2),
            "older revision"
        );
        assert!(shared.replace(KbBot::new(&only_hours, FlowSet::default()), 4));
        assert_eq!(shared.revision(), 4);
        let reply = shared.respond(&turn("营业时间是几点", &empty));
        assert_eq!(reply.intent.as_deref(), Some("hours"), "{}", reply.text);
    }

    #[test]
    fn the_bot_answers_the_demo_entries_own_questions_with_those_entries() {
        let b = bot();
        let doc = crate::bot::kb::io::from_json(DEMO_KB).expect("demo knowledge base");
        let (mut right, mut total, mut wrong) = (0, 0, Vec::new());
        for entry in &doc.entries {
            for q in entry.questions.iter() {
                total += 1;
                match b.matched(q) {
                    Some(m) if m.entry.id == entry.id => right += 1,
                    other => wrong.push(format!("{q} → {:?}", other.map(|m| &m.entry.id))),
                }
            }
        }
        // General keywords (a bare "退款") must not steal the specific entries' questions.
        assert!(
            right as f64 >= 0.95 * total as f64,
            "{right}/{total} right; wrong: {wrong:#?}"
        );
    }

    #[test]
    fn only_published_entries_answer() {
        let doc = crate::bot::kb::io::from_json(
            r#"{"entries":[
                {"id":"hours","questions":{"zh":["你们几点上班"]},"keywords":{"zh":["营业时间"]},"answer":{"zh":"每天 9:00–21:00。"},"status":"draft"},
                {"id":"gifts","questions":{"zh":["可以包装成礼物吗"]},"keywords":{"zh":["礼品包装"]},"answer":{"zh":"下单时勾选礼品包装即可。"},"status":"archived"},
                {"id":"invoice","questions":{"zh":["怎么开发票"]},"keywords":{"zh":["发票"]},"answer":{"zh":"在订单详情里申请发票。"}}
            ]}"#,
        )
        .expect("valid");
        let b = KbBot::new(&doc, FlowSet::default());
        assert_eq!(b.len(), 1);
        let empty = serde_json::json!({});
        assert_eq!(b.respond(&turn("营业时间是几点", &empty)).intent, None);
        assert_eq!(b.respond(&turn("能礼品包装吗", &empty)).intent, None);
        assert_eq!(
            b.respond(&turn("我要开发票", &empty)).intent.as_deref(),
            Some("invoice")
        );
    }
}
