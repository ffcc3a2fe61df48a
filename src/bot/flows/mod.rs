//! Multi-turn flows: declarative dialogues that collect a few answers ("slots") and then run
//! actions ("look the order up", "open a refund ticket", "hand over to an agent").
//!
//! Flows are written in TOML (`config/demo/flows.toml`) and validated at load
//! ([`FlowSet::from_toml`] reports every problem at once, as [`Problem`]s with their place).
//! The engine is pure, like the bot that calls it: [`start`] and [`advance`] take the flow,
//! the serializable [`FlowState`] and one [`Input`] (a customer text, or what the runtime
//! reports back about an action) and return a [`Step`]: what to say, which action the runtime
//! should perform next, an optional hand-off, and the new state. No I/O, no clock, no actors:
//! the runtime performs the [`ActionRequest`]s and feeds their [`ActionOutcome`]s back.
//!
//! # Schema (TOML)
//! ```toml
//! [[flow]]
//! id = "order_status"                       # lowercase letters, digits, '_'
//! title = { zh = "查询订单", en = "Order status" }
//! done = { zh = "订单 {order_no}：{result.status}", en = "…" }  # said when every action succeeded
//! handoff_message = { zh = "…", en = "…" }  # optional: said by a `handoff` action
//! [flow.triggers]                           # at least one of the three lists
//! intents = ["order_status"]                # the bot's KB intents that start the flow
//! keywords_zh = ["查订单"]                   # substrings
//! keywords_en = ["order status"]            # whole words, case-insensitive
//! [[flow.slots]]                            # asked in order
//! name = "order_no"
//! validator = "order_number"                # order_number | phone | date | yes_no | text | regex
//! prompt = { zh = "…", en = "…" }           # may use slots asked before this one
//! reprompt = { zh = "…", en = "…" }         # optional: after an invalid answer
//! max_retries = 2                           # optional: invalid answers before giving up
//! # min_chars / max_chars (text only, defaults 1 and 500), pattern (regex only)
//! [[flow.actions]]                          # run in order once every slot is filled
//! type = "http"                             # http | ticket | handoff
//! service = "orders"                        # the runtime knows its base URL
//! method = "GET"                            # GET | POST | PUT | PATCH
//! path = "/orders/{order_no}"               # values are percent-encoded
//! body = { reason = "{reason}" }            # optional JSON object; strings are templates
//! expect = [200]                            # success: top-level fields become {result.*}
//! [flow.actions.on_status.404]              # optional: a status with its own ending
//! message = { zh = "…", en = "…" }
//! handoff = { skills = [{ name = "orders", min_level = 1 }], urgent = false }  # optional
//! # type = "ticket": kind, subject; the ticket carries every slot; sets {ticket_id}
//! # type = "handoff": skills, urgent, summary (optional)
//! # subject and summary are for agents: one template, or { zh = "…", en = "…" } (the ticket
//! # is stored in the conversation's language; the hand-off summary carries both)
//! [flow.on_failure]                         # optional: an action failed
//! message = { zh = "…", en = "…" }
//! handoff = { skills = [{ name = "orders" }] }  # optional
//! ```
//! A text may have only one language; the other falls back to it. Every table refuses
//! unknown fields.
//!
//! # Conventions
//! - A `yes_no` slot is a confirmation: the answer "no" cancels the flow politely (as a
//!   cancel word does), "yes" goes on.
//! - Slots whose validator finds a value inside a longer text (order number, phone, date,
//!   regex) are pre-filled from the message that started the flow; `text` and `yes_no` slots
//!   are always asked.
//! - `{result.*}` holds the fields of the latest successful HTTP answer (an earlier answer's
//!   fields are dropped); a field the service did not return renders empty.

mod engine;
mod schema;
mod template;
mod validators;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use engine::{accepts, advance, attempts, result_fields, resume_prompt, start};
pub use validators::is_cancel;

use crate::domain::Problem;
use crate::domain::{Language, SkillRequirement};
use template::Template;
use validators::Validator;

/// The demo flows shipped with the binary.
pub const DEMO_FLOWS: &str = include_str!("../../../config/demo/flows.toml");

/// The most actions one customer turn may run (a flow's look-up, then its ticket, …).
pub const MAX_ACTIONS_PER_TURN: usize = 4;

/// Validated flows, in file order.
#[derive(Debug, Clone, Default)]
pub struct FlowSet {
    flows: Vec<Flow>,
}

impl FlowSet {
    /// Parses and validates a flows document; every problem at once when it is not valid.
    pub fn from_toml(text: &str) -> Result<FlowSet, Vec<Problem>> {
        schema::load(text).map(|flows| FlowSet { flows })
    }

    /// The demo flows ([`DEMO_FLOWS`]).
    pub fn demo() -> Result<FlowSet, Vec<Problem>> {
        Self::from_toml(DEMO_FLOWS)
    }

    /// The flow with this id.
    pub fn get(&self, id: &str) -> Option<&Flow> {
        self.flows.iter().find(|f| f.id == id)
    }

    /// The flow a customer message starts, if any: first a flow listing the bot's `intent`;
    /// else the flow whose keywords match the most characters of `text` (the first on a tie).
    pub fn triggered_by(&self, intent: Option<&str>, text: &str) -> Option<&Flow> {
        if let Some(intent) = intent {
            if let Some(flow) = self
                .flows
                .iter()
                .find(|f| f.intents.iter().any(|i| i == intent))
            {
                return Some(flow);
            }
        }
        let lower = validators::fold_width(text).to_lowercase();
        let words = validators::words(&lower);
        self.flows
            .iter()
            .map(|f| (f.keyword_score(&lower, &words), f))
            .filter(|(score, _)| *score > 0)
            // max_by_key keeps the last maximum; reverse so the first flow wins ties.
            .rev()
            .max_by_key(|(score, _)| *score)
            .map(|(_, f)| f)
    }

    /// Every flow, in file order.
    pub fn iter(&self) -> impl Iterator<Item = &Flow> {
        self.flows.iter()
    }
}

/// The matcher's label for a flow's example questions.
pub fn flow_label(flow_id: &str) -> String {
    format!("{FLOW_LABEL_PREFIX}{flow_id}")
}

/// What starts a matcher label that names a flow rather than a knowledge-base entry (entry
/// ids cannot contain `:`).
pub const FLOW_LABEL_PREFIX: &str = "flow:";

/// One validated flow.
#[derive(Debug, Clone)]
pub struct Flow {
    id: String,
    title: Texts,
    intents: Vec<String>,
    /// Lower-cased.
    keywords_zh: Vec<String>,
    /// Lower-cased.
    keywords_en: Vec<String>,
    /// Questions that mean the flow, for the matcher (see [`Flow::examples`]).
    examples: Vec<String>,
    slots: Vec<Slot>,
    actions: Vec<Action>,
    done: Texts,
    on_failure: Option<Exit>,
    handoff_message: Option<Texts>,
}

impl Flow {
    /// The flow's id (stored in [`FlowState`]).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The skills the flow's own hand-off asks for (`on_failure.handoff.skills`): the people
    /// for its topic, also when the customer asks for one in the middle of it.
    pub fn handoff_skills(&self) -> &[SkillRequirement] {
        self.on_failure
            .as_ref()
            .and_then(|e| e.handoff.as_ref())
            .map_or(&[], |h| h.skills.as_slice())
    }

    /// Ways customers ask for the flow: the bot trains its matcher on them (as the label
    /// [`flow_label`] of the flow), so a paraphrase without a keyword starts it.
    pub fn examples(&self) -> &[String] {
        &self.examples
    }

    /// The flow's title in `lang` (or the other language when it has only one).
    pub fn title(&self, lang: Language) -> String {
        self.title.render(lang, &BTreeMap::new(), &BTreeMap::new())
    }

    /// The names of the flow's slots, in the order they are asked.
    pub fn slot_names(&self) -> impl Iterator<Item = &str> {
        self.slots.iter().map(|s| s.name.as_str())
    }

    /// Matched keyword characters (0: no keyword matches).
    fn keyword_score(&self, lower: &str, words: &[&str]) -> usize {
        let zh: usize = self
            .keywords_zh
            .iter()
            .filter(|k| lower.contains(k.as_str()))
            .map(|k| k.chars().count())
            .sum();
        let en: usize = self
            .keywords_en
            .iter()
            .filter(|k| contains_phrase(words, k))
            .map(|k| k.chars().count())
            .sum();
        zh + en
    }
}

/// True when the words of `phrase` appear consecutively in `words`.
fn contains_phrase(words: &[&str], phrase: &str) -> bool {
    let needle = validators::words(phrase);
    !needle.is_empty() && words.windows(needle.len()).any(|w| w == needle.as_slice())
}

/// A text in both languages (a missing one was filled with the other at load).
#[derive(Debug, Clone)]
struct Texts {
    zh: Template,
    en: Template,
}

impl Texts {
    fn pick(&self, lang: Language) -> &Template {
        match lang {
            Language::Zh => &self.zh,
            Language::En => &self.en,
        }
    }

    fn render(
        &self,
        lang: Language,
        slots: &BTreeMap<String, String>,
        vars: &BTreeMap<String, String>,
    ) -> String {
        self.pick(lang).render(slots, vars, template::plain)
    }
}

/// One question of a flow.
#[derive(Debug, Clone)]
struct Slot {
    name: String,
    validator: Validator,
    prompt: Texts,
    reprompt: Option<Texts>,
    max_retries: u32,
}

/// One step the runtime performs for a flow.
#[derive(Debug, Clone)]
enum Action {
    Http(HttpAction),
    Ticket(TicketAction),
    Handoff(HandoffAction),
}

#[derive(Debug, Clone)]
struct HttpAction {
    service: String,
    method: String,
    path: Template,
    /// A JSON object whose strings are templates (checked at load).
    body: Option<serde_json::Value>,
    expect: Vec<u16>,
    on_status: BTreeMap<u16, Exit>,
}

#[derive(Debug, Clone)]
struct TicketAction {
    kind: String,
    /// Stored in the conversation's language: the people who read it speak it.
    subject: Texts,
}

#[derive(Debug, Clone)]
struct HandoffAction {
    handoff: HandoffSpec,
    summary: Option<Texts>,
}

/// How a flow ends on a failure or a special status: a message and maybe a hand-off.
#[derive(Debug, Clone)]
struct Exit {
    message: Texts,
    handoff: Option<HandoffSpec>,
}

#[derive(Debug, Clone)]
struct HandoffSpec {
    skills: Vec<SkillRequirement>,
    urgent: bool,
}

/// Where a conversation stands in a flow; kept inside the bot's JSON state between turns.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct FlowState {
    /// The flow's id.
    flow: String,
    /// Answers so far, by slot name (normalized values).
    #[serde(default)]
    slots: BTreeMap<String, String>,
    /// `ticket_id` and `result.<field>` from actions done so far.
    #[serde(default)]
    vars: BTreeMap<String, String>,
    /// The slot whose answer is awaited; None while an action's outcome is awaited.
    #[serde(default)]
    awaiting: Option<String>,
    /// Invalid answers to the awaited slot so far.
    #[serde(default)]
    retries: u32,
    /// The action performed now (None awaited) or next.
    #[serde(default)]
    next_action: usize,
    /// FAQ questions answered while the awaited slot waits (see [`FlowState::digress`]).
    #[serde(default)]
    digressions: u32,
}

/// FAQ questions answered in a row while one slot waits; the next text is taken as an answer
/// (re-asked, counted against the slot's retries), so a customer cannot loop forever.
pub const MAX_DIGRESSIONS: u32 = 3;

impl FlowState {
    fn new(flow: &str) -> Self {
        Self {
            flow: flow.to_owned(),
            slots: BTreeMap::new(),
            vars: BTreeMap::new(),
            awaiting: None,
            retries: 0,
            next_action: 0,
            digressions: 0,
        }
    }

    /// Records a digression (a FAQ question answered while a slot waits); false when
    /// [`MAX_DIGRESSIONS`] were already answered for this slot, and the text must be taken as
    /// an answer instead.
    pub fn digress(&mut self) -> bool {
        if self.digressions >= MAX_DIGRESSIONS {
            return false;
        }
        self.digressions += 1;
        true
    }

    /// The flow's id (for [`FlowSet::get`]).
    pub fn flow_id(&self) -> &str {
        &self.flow
    }

    /// Answers so far, by slot name.
    pub fn slots(&self) -> &BTreeMap<String, String> {
        &self.slots
    }

    /// `ticket_id` and `result.<field>` values from actions done so far.
    pub fn vars(&self) -> &BTreeMap<String, String> {
        &self.vars
    }

    /// The slot whose answer is awaited (None: an action's outcome is awaited).
    pub fn awaiting(&self) -> Option<&str> {
        self.awaiting.as_deref()
    }

    /// Invalid answers to the awaited slot so far.
    pub fn retries(&self) -> u32 {
        self.retries
    }
}

/// What moves a flow on.
#[derive(Debug, Clone, PartialEq)]
pub enum Input<'a> {
    /// The customer's message.
    Text(&'a str),
    /// What became of the action the last [`Step`] requested.
    Outcome(ActionOutcome),
}

/// What the runtime reports back about an [`ActionRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ActionOutcome {
    /// The service answered: its status, and the top-level scalar fields of its JSON body
    /// (see [`result_fields`]).
    Done {
        status: u16,
        fields: BTreeMap<String, String>,
    },
    /// The ticket was opened.
    Ticket { id: String },
    /// The action could not be performed (timeout, connection refused, bad JSON, …).
    Failed { reason: String },
}

/// An action the runtime should perform, then report with [`Input::Outcome`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ActionRequest {
    /// Call `method` `path` (percent-encoded, relative to the base URL of `service`) with the
    /// JSON `body`; `expect` lists the statuses that count as success.
    Http {
        service: String,
        method: String,
        path: String,
        body: Option<serde_json::Value>,
        expect: Vec<u16>,
    },
    /// Open a ticket of `kind` carrying every slot as `fields`.
    Ticket {
        kind: String,
        subject: String,
        fields: BTreeMap<String, String>,
    },
}

/// A flow's request to route the conversation to an agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowHandoff {
    pub skills: Vec<SkillRequirement>,
    pub urgent: bool,
    /// One line for the agent's offer card, in English.
    pub summary: String,
    /// The same line in Simplified Chinese.
    pub summary_zh: String,
    /// The answers collected so far, for the agent.
    pub slots: BTreeMap<String, String>,
}

/// What a step of a flow did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// A slot's question was asked (the first, or the next after an answer); the flow awaits
    /// the answer.
    Prompted,
    /// The answer did not fill the awaited slot; asked again (one more retry counted).
    Reprompted,
    /// `action` holds a request: perform it and call [`advance`] with its outcome.
    AwaitingAction,
    /// Every action succeeded; the done message was said. Flow over.
    Completed,
    /// The customer cancelled (a cancel word, or "no" to a `yes_no` slot). Flow over.
    Cancelled,
    /// Too many invalid answers to one slot: a message and a hand-off. Flow over.
    GaveUp,
    /// An action failed (or the service answered a status neither expected nor listed in
    /// `on_status`, or the state did not fit the flow): the `on_failure` message, and its
    /// hand-off if any (a default message and a hand-off without skills when the flow has
    /// no `on_failure`). Flow over.
    Failed,
    /// The service answered a status listed in the action's `on_status`: its message, and
    /// its hand-off if configured. Flow over.
    StatusHandled,
    /// A `handoff` action ran: the hand-off message and a hand-off. Flow over.
    HandedOff,
    /// The input did not apply (a text while an action's outcome is awaited, or an outcome
    /// while a slot's answer is awaited): nothing said, state unchanged.
    Ignored,
}

/// The result of one flow step.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// Messages for the customer, in order.
    pub say: Vec<String>,
    /// An action for the runtime to perform (with [`StepKind::AwaitingAction`]).
    pub action: Option<ActionRequest>,
    /// Route the conversation to an agent.
    pub handoff: Option<FlowHandoff>,
    /// The state to keep; None when the flow is over.
    pub state: Option<FlowState>,
    pub outcome: StepKind,
}
