//! The flows document as written (TOML) and its validation into [`Flow`]s.
//!
//! Structural mistakes (an unknown field, a wrong type) are TOML errors and come back as one
//! problem at `flows`; everything else is checked here and reported all at once, each with
//! its place (`flow[1].slots[0].validator`).

use std::collections::{BTreeMap, BTreeSet};

use regex::RegexBuilder;
use serde::Deserialize;

use super::template::{Scope, Template};
use super::validators::Validator;
use super::{
    Action, Exit, Flow, HandoffAction, HandoffSpec, HttpAction, Slot, Texts, TicketAction,
};
use crate::domain::Problem;
use crate::domain::{Skill, SkillRequirement};

/// Invalid answers allowed before giving up, when a slot does not say.
const DEFAULT_MAX_RETRIES: u32 = 2;
/// A flow that asks the same question more often than this is badly written.
const MAX_RETRIES_LIMIT: u32 = 10;
/// Bounds of a `text` slot when it does not say.
const DEFAULT_MIN_CHARS: usize = 1;
const DEFAULT_MAX_CHARS: usize = 500;
/// The longest answer a `text` slot may ask for (the answer is kept in the bot's state).
const MAX_CHARS_LIMIT: usize = 2000;
/// Compiled size limit of a slot's pattern (the regex crate's default is 10 MiB).
const REGEX_SIZE_LIMIT: usize = 256 * 1024;
const METHODS: [&str; 4] = ["GET", "POST", "PUT", "PATCH"];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDoc {
    #[serde(default)]
    flow: Vec<FlowDoc>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FlowDoc {
    id: String,
    title: LocalizedDoc,
    #[serde(default)]
    triggers: TriggersDoc,
    #[serde(default)]
    slots: Vec<SlotDoc>,
    #[serde(default)]
    actions: Vec<ActionDoc>,
    done: LocalizedDoc,
    #[serde(default)]
    on_failure: Option<ExitDoc>,
    #[serde(default)]
    handoff_message: Option<LocalizedDoc>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LocalizedDoc {
    #[serde(default)]
    zh: Option<String>,
    #[serde(default)]
    en: Option<String>,
}

/// A text agents read: one for both languages (`"退款申请 {order_no}"`) or one per language
/// (`{ zh = "退款申请 {order_no}", en = "Refund request {order_no}" }`).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum AgentTextDoc {
    Same(String),
    Localized(LocalizedDoc),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TriggersDoc {
    #[serde(default)]
    intents: Vec<String>,
    #[serde(default)]
    keywords_zh: Vec<String>,
    #[serde(default)]
    keywords_en: Vec<String>,
    /// Ways customers ask for the flow, learnt by the knowledge-base matcher so that a
    /// paraphrase without any keyword starts it too.
    #[serde(default)]
    examples: Vec<String>,
}

/// Most example questions a flow may have, and their longest.
const MAX_EXAMPLES: usize = 100;
const MAX_EXAMPLE_CHARS: usize = 200;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SlotDoc {
    name: String,
    validator: String,
    prompt: LocalizedDoc,
    #[serde(default)]
    reprompt: Option<LocalizedDoc>,
    #[serde(default)]
    max_retries: Option<u32>,
    #[serde(default)]
    min_chars: Option<usize>,
    #[serde(default)]
    max_chars: Option<usize>,
    #[serde(default)]
    pattern: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
enum ActionDoc {
    Http {
        service: String,
        method: String,
        path: String,
        #[serde(default)]
        body: Option<toml::Table>,
        #[serde(default)]
        expect: Vec<u16>,
        #[serde(default)]
        on_status: BTreeMap<String, ExitDoc>,
    },
    Ticket {
        kind: String,
        subject: AgentTextDoc,
    },
    Handoff {
        #[serde(default)]
        skills: Vec<SkillDoc>,
        #[serde(default)]
        urgent: bool,
        #[serde(default)]
        summary: Option<AgentTextDoc>,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExitDoc {
    message: LocalizedDoc,
    #[serde(default)]
    handoff: Option<HandoffDoc>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HandoffDoc {
    #[serde(default)]
    skills: Vec<SkillDoc>,
    #[serde(default)]
    urgent: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SkillDoc {
    name: String,
    #[serde(default = "one")]
    min_level: u8,
}

fn one() -> u8 {
    1
}

/// Parses and validates a flows document.
pub(super) fn load(text: &str) -> Result<Vec<Flow>, Vec<Problem>> {
    let doc: FileDoc =
        toml::from_str(text).map_err(|e| vec![Problem::new("flows", e.to_string())])?;
    let mut problems = Vec::new();
    if doc.flow.is_empty() {
        problems.push(Problem::new("flow", "the document has no [[flow]]"));
    }
    let mut ids = BTreeSet::new();
    let mut flows = Vec::new();
    for (i, flow) in doc.flow.into_iter().enumerate() {
        let at = format!("flow[{i}]");
        if !ids.insert(flow.id.clone()) {
            problems.push(Problem::new(
                format!("{at}.id"),
                format!("flow id '{}' is used twice", flow.id),
            ));
        }
        if let Some(flow) = check_flow(&at, flow, &mut problems) {
            flows.push(flow);
        }
    }
    if problems.is_empty() {
        Ok(flows)
    } else {
        Err(problems)
    }
}

/// A lowercase identifier: `order_no`, `refund_request`.
fn identifier(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn check_flow(at: &str, doc: FlowDoc, problems: &mut Vec<Problem>) -> Option<Flow> {
    let before = problems.len();
    if !identifier(&doc.id) {
        problems.push(Problem::new(
            format!("{at}.id"),
            format!(
                "'{}' is not an id (lowercase letters, digits and '_', starting with a letter)",
                doc.id
            ),
        ));
    }
    check_triggers(at, &doc.triggers, problems);

    let names: Vec<String> = doc.slots.iter().map(|s| s.name.clone()).collect();
    let no_slots = Scope {
        all_slots: &names,
        filled: 0,
        ticket: false,
        result: false,
    };
    let all_slots = Scope {
        filled: names.len(),
        ..no_slots
    };
    let title = texts(&format!("{at}.title"), &doc.title, no_slots, problems);

    let slots = check_slots(at, &doc.slots, no_slots, problems);

    let (actions, done_scope) = check_actions(at, &doc.actions, all_slots, problems);
    let done = texts(&format!("{at}.done"), &doc.done, done_scope, problems);
    let on_failure = doc
        .on_failure
        .as_ref()
        .and_then(|e| exit(&format!("{at}.on_failure"), e, all_slots, problems));
    let handoff_message = doc
        .handoff_message
        .as_ref()
        .and_then(|m| texts(&format!("{at}.handoff_message"), m, all_slots, problems));

    if problems.len() > before {
        return None;
    }
    Some(Flow {
        id: doc.id,
        title: title?,
        intents: doc.triggers.intents.clone(),
        keywords_zh: lower(&doc.triggers.keywords_zh),
        keywords_en: lower(&doc.triggers.keywords_en),
        examples: doc.triggers.examples.clone(),
        slots,
        actions,
        done: done?,
        on_failure,
        handoff_message,
    })
}

/// Checks that something starts the flow, and the triggers' sizes.
fn check_triggers(at: &str, triggers: &TriggersDoc, problems: &mut Vec<Problem>) {
    if triggers.intents.is_empty()
        && triggers.keywords_zh.is_empty()
        && triggers.keywords_en.is_empty()
        && triggers.examples.is_empty()
    {
        problems.push(Problem::new(
            format!("{at}.triggers"),
            "a flow needs at least one intent or keyword to start it",
        ));
    }
    if triggers.examples.len() > MAX_EXAMPLES {
        problems.push(Problem::new(
            format!("{at}.triggers.examples"),
            format!("at most {MAX_EXAMPLES} examples"),
        ));
    }
    for (k, example) in triggers.examples.iter().enumerate() {
        if example.chars().count() > MAX_EXAMPLE_CHARS {
            problems.push(Problem::new(
                format!("{at}.triggers.examples[{k}]"),
                format!("at most {MAX_EXAMPLE_CHARS} characters"),
            ));
        }
    }
    for (list, values) in [
        ("intents", &triggers.intents),
        ("keywords_zh", &triggers.keywords_zh),
        ("keywords_en", &triggers.keywords_en),
        ("examples", &triggers.examples),
    ] {
        for (k, value) in values.iter().enumerate() {
            if value.trim().is_empty() {
                problems.push(Problem::new(
                    format!("{at}.triggers.{list}[{k}]"),
                    "an empty trigger",
                ));
            }
        }
    }
}

/// Checks the slots in order (each prompt may use the slots before it); the valid ones.
fn check_slots(
    at: &str,
    docs: &[SlotDoc],
    no_slots: Scope<'_>,
    problems: &mut Vec<Problem>,
) -> Vec<Slot> {
    let mut slots = Vec::new();
    for (s, slot) in docs.iter().enumerate() {
        let slot_at = format!("{at}.slots[{s}]");
        if no_slots.all_slots[..s].contains(&slot.name) {
            problems.push(Problem::new(
                format!("{slot_at}.name"),
                format!("slot '{}' is defined twice", slot.name),
            ));
        } else if !identifier(&slot.name) {
            problems.push(Problem::new(
                format!("{slot_at}.name"),
                format!(
                    "'{}' is not a slot name (lowercase letters, digits and '_')",
                    slot.name
                ),
            ));
        } else if slot.name == "ticket_id" || slot.name == "result" {
            problems.push(Problem::new(
                format!("{slot_at}.name"),
                format!("'{}' is reserved", slot.name),
            ));
        }
        let scope = Scope {
            filled: s,
            ..no_slots
        };
        let prompt = texts(&format!("{slot_at}.prompt"), &slot.prompt, scope, problems);
        let reprompt = slot
            .reprompt
            .as_ref()
            .map(|r| texts(&format!("{slot_at}.reprompt"), r, scope, problems));
        let validator = check_validator(&slot_at, slot, problems);
        let max_retries = slot.max_retries.unwrap_or(DEFAULT_MAX_RETRIES);
        if max_retries > MAX_RETRIES_LIMIT {
            problems.push(Problem::new(
                format!("{slot_at}.max_retries"),
                format!("at most {MAX_RETRIES_LIMIT}"),
            ));
        }
        // A None here has its problem recorded already: the flow is dropped below.
        if let (Some(prompt), Some(validator)) = (prompt, validator) {
            slots.push(Slot {
                name: slot.name.clone(),
                validator,
                prompt,
                reprompt: reprompt.flatten(),
                max_retries,
            });
        }
    }
    slots
}

/// Checks the actions in order (each may use the ticket or result of those before it); the
/// valid ones, and the scope after the last (what the closing message may use).
fn check_actions<'a>(
    at: &str,
    docs: &[ActionDoc],
    all_slots: Scope<'a>,
    problems: &mut Vec<Problem>,
) -> (Vec<Action>, Scope<'a>) {
    // All of a flow's actions run in the customer's turn that completes it.
    if docs.len() > super::MAX_ACTIONS_PER_TURN {
        problems.push(Problem::new(
            format!("{at}.actions"),
            format!(
                "at most {} actions (they all run in one customer turn)",
                super::MAX_ACTIONS_PER_TURN
            ),
        ));
    }
    let mut actions = Vec::new();
    let mut ticket = false;
    let mut result = false;
    for (a, action) in docs.iter().enumerate() {
        let action_at = format!("{at}.actions[{a}]");
        let scope = Scope {
            ticket,
            result,
            ..all_slots
        };
        if let Some(action) = check_action(&action_at, action, scope, problems) {
            match action {
                Action::Http(_) => result = true,
                Action::Ticket(_) => ticket = true,
                Action::Handoff(_) => {}
            }
            actions.push(action);
        }
    }
    let done_scope = Scope {
        ticket,
        result,
        ..all_slots
    };
    (actions, done_scope)
}

fn lower(values: &[String]) -> Vec<String> {
    values.iter().map(|v| v.trim().to_lowercase()).collect()
}

/// A localized text: each language parsed and checked; a missing one falls back to the other.
fn texts(
    at: &str,
    doc: &LocalizedDoc,
    scope: Scope<'_>,
    problems: &mut Vec<Problem>,
) -> Option<Texts> {
    let mut parse = |lang: &str, text: &Option<String>| -> Option<Template> {
        let text = text.as_ref().filter(|t| !t.trim().is_empty())?;
        let place = format!("{at}.{lang}");
        match Template::parse(text) {
            Ok(template) => {
                for message in template.check(scope) {
                    problems.push(Problem::new(&place, message));
                }
                Some(template)
            }
            Err(message) => {
                problems.push(Problem::new(&place, message));
                None
            }
        }
    };
    let zh = parse("zh", &doc.zh);
    let en = parse("en", &doc.en);
    match (zh, en) {
        (Some(zh), Some(en)) => Some(Texts { zh, en }),
        (Some(one), None) | (None, Some(one)) => Some(Texts {
            zh: one.clone(),
            en: one,
        }),
        (None, None) => {
            let blank = |t: &Option<String>| t.as_ref().is_none_or(|t| t.trim().is_empty());
            if blank(&doc.zh) && blank(&doc.en) {
                problems.push(Problem::new(at, "a text needs zh or en"));
            }
            None
        }
    }
}

/// A text for agents, in both languages (the same template twice when one is given).
fn agent_text(
    at: &str,
    doc: &AgentTextDoc,
    scope: Scope<'_>,
    problems: &mut Vec<Problem>,
) -> Option<Texts> {
    match doc {
        AgentTextDoc::Same(text) => {
            let one = template(at, text, scope, problems)?;
            Some(Texts {
                zh: one.clone(),
                en: one,
            })
        }
        AgentTextDoc::Localized(doc) => texts(at, doc, scope, problems),
    }
}

/// A template outside any language (paths).
fn template(
    at: &str,
    text: &str,
    scope: Scope<'_>,
    problems: &mut Vec<Problem>,
) -> Option<Template> {
    match Template::parse(text) {
        Ok(t) => {
            for message in t.check(scope) {
                problems.push(Problem::new(at, message));
            }
            Some(t)
        }
        Err(message) => {
            problems.push(Problem::new(at, message));
            None
        }
    }
}

fn check_validator(at: &str, slot: &SlotDoc, problems: &mut Vec<Problem>) -> Option<Validator> {
    let is_text = slot.validator == "text";
    let is_regex = slot.validator == "regex";
    if !is_text && (slot.min_chars.is_some() || slot.max_chars.is_some()) {
        problems.push(Problem::new(
            at,
            "min_chars and max_chars are for text slots only",
        ));
    }
    if !is_regex && slot.pattern.is_some() {
        problems.push(Problem::new(
            format!("{at}.pattern"),
            "a pattern is for regex slots only",
        ));
    }
    match slot.validator.as_str() {
        "order_number" => Some(Validator::OrderNumber),
        "phone" => Some(Validator::Phone),
        "date" => Some(Validator::Date),
        "yes_no" => Some(Validator::YesNo),
        "text" => {
            let min_chars = slot.min_chars.unwrap_or(DEFAULT_MIN_CHARS);
            let max_chars = slot.max_chars.unwrap_or(DEFAULT_MAX_CHARS);
            if max_chars == 0 || min_chars > max_chars || max_chars > MAX_CHARS_LIMIT {
                problems.push(Problem::new(
                    at,
                    format!("need 0 ≤ min_chars ≤ max_chars ≤ {MAX_CHARS_LIMIT}, max_chars > 0"),
                ));
                return None;
            }
            Some(Validator::Text {
                min_chars,
                max_chars,
            })
        }
        "regex" => {
            let Some(pattern) = slot.pattern.as_deref() else {
                problems.push(Problem::new(
                    format!("{at}.pattern"),
                    "a regex slot needs a pattern",
                ));
                return None;
            };
            match RegexBuilder::new(pattern)
                .size_limit(REGEX_SIZE_LIMIT)
                .build()
            {
                Ok(regex) => Some(Validator::Pattern(regex)),
                Err(error) => {
                    problems.push(Problem::new(
                        format!("{at}.pattern"),
                        format!("not a valid pattern: {error}"),
                    ));
                    None
                }
            }
        }
        other => {
            problems.push(Problem::new(
                format!("{at}.validator"),
                format!(
                    "unknown validator '{other}' (order_number, phone, date, yes_no, text, regex)"
                ),
            ));
            None
        }
    }
}

fn check_action(
    at: &str,
    doc: &ActionDoc,
    scope: Scope<'_>,
    problems: &mut Vec<Problem>,
) -> Option<Action> {
    match doc {
        ActionDoc::Http {
            service,
            method,
            path,
            body,
            expect,
            on_status,
        } => {
            let before = problems.len();
            if service.trim().is_empty() {
                problems.push(Problem::new(format!("{at}.service"), "a service is needed"));
            }
            if !METHODS.contains(&method.as_str()) {
                problems.push(Problem::new(
                    format!("{at}.method"),
                    format!("'{method}' is not one of {}", METHODS.join(", ")),
                ));
            }
            if !path.starts_with('/') {
                problems.push(Problem::new(format!("{at}.path"), "a path starts with '/'"));
            }
            let path = template(&format!("{at}.path"), path, scope, problems);
            let body = body.as_ref().map(|b| {
                let value = json(&toml::Value::Table(b.clone()));
                check_body(&format!("{at}.body"), &value, scope, problems);
                value
            });
            if expect.is_empty() {
                problems.push(Problem::new(
                    format!("{at}.expect"),
                    "list the statuses that mean success",
                ));
            }
            for (k, status) in expect.iter().enumerate() {
                if !(100..=599).contains(status) {
                    problems.push(Problem::new(
                        format!("{at}.expect[{k}]"),
                        format!("{status} is not an HTTP status"),
                    ));
                }
            }
            let mut statuses = BTreeMap::new();
            for (key, exit_doc) in on_status {
                let place = format!("{at}.on_status.{key}");
                match key.parse::<u16>() {
                    Ok(status) if (100..=599).contains(&status) => {
                        if expect.contains(&status) {
                            problems
                                .push(Problem::new(&place, format!("{status} is also in expect")));
                        }
                        if let Some(e) = exit(&place, exit_doc, scope, problems) {
                            statuses.insert(status, e);
                        }
                    }
                    _ => problems.push(Problem::new(&place, "not an HTTP status")),
                }
            }
            if problems.len() > before {
                return None;
            }
            Some(Action::Http(HttpAction {
                service: service.clone(),
                method: method.clone(),
                path: path?,
                body,
                expect: expect.clone(),
                on_status: statuses,
            }))
        }
        ActionDoc::Ticket { kind, subject } => {
            if kind.trim().is_empty() {
                problems.push(Problem::new(format!("{at}.kind"), "a ticket needs a kind"));
            }
            let subject = agent_text(&format!("{at}.subject"), subject, scope, problems)?;
            (!kind.trim().is_empty()).then(|| {
                Action::Ticket(TicketAction {
                    kind: kind.clone(),
                    subject,
                })
            })
        }
        ActionDoc::Handoff {
            skills,
            urgent,
            summary,
        } => {
            let skills = check_skills(&format!("{at}.skills"), skills, problems)?;
            let summary = match summary {
                Some(s) => Some(agent_text(&format!("{at}.summary"), s, scope, problems)?),
                None => None,
            };
            Some(Action::Handoff(HandoffAction {
                handoff: HandoffSpec {
                    skills,
                    urgent: *urgent,
                },
                summary,
            }))
        }
    }
}

fn exit(at: &str, doc: &ExitDoc, scope: Scope<'_>, problems: &mut Vec<Problem>) -> Option<Exit> {
    let message = texts(&format!("{at}.message"), &doc.message, scope, problems);
    let handoff = match &doc.handoff {
        Some(h) => Some(HandoffSpec {
            skills: check_skills(&format!("{at}.handoff.skills"), &h.skills, problems)?,
            urgent: h.urgent,
        }),
        None => None,
    };
    Some(Exit {
        message: message?,
        handoff,
    })
}

fn check_skills(
    at: &str,
    skills: &[SkillDoc],
    problems: &mut Vec<Problem>,
) -> Option<Vec<SkillRequirement>> {
    let before = problems.len();
    let mut out = Vec::new();
    for (k, skill) in skills.iter().enumerate() {
        match Skill::parse(&skill.name, skill.min_level) {
            Ok(s) => out.push(SkillRequirement {
                name: s.name,
                min_level: s.level,
            }),
            Err(error) => problems.push(Problem::new(format!("{at}[{k}]"), error.to_string())),
        }
    }
    (problems.len() == before).then_some(out)
}

/// TOML to JSON (dates become their text).
fn json(value: &toml::Value) -> serde_json::Value {
    match value {
        toml::Value::String(s) => serde_json::Value::String(s.clone()),
        toml::Value::Integer(i) => serde_json::Value::from(*i),
        toml::Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null),
        toml::Value::Boolean(b) => serde_json::Value::Bool(*b),
        toml::Value::Datetime(d) => serde_json::Value::String(d.to_string()),
        toml::Value::Array(items) => serde_json::Value::Array(items.iter().map(json).collect()),
        toml::Value::Table(table) => {
            serde_json::Value::Object(table.iter().map(|(k, v)| (k.clone(), json(v))).collect())
        }
    }
}

/// Checks every string of a body as a template.
fn check_body(at: &str, value: &serde_json::Value, scope: Scope<'_>, problems: &mut Vec<Problem>) {
    match value {
        serde_json::Value::String(s) => {
            template(at, s, scope, problems);
        }
        serde_json::Value::Array(items) => {
            for (k, item) in items.iter().enumerate() {
                check_body(&format!("{at}[{k}]"), item, scope, problems);
            }
        }
        serde_json::Value::Object(map) => {
            for (k, item) in map {
                check_body(&format!("{at}.{k}"), item, scope, problems);
            }
        }
        _ => {}
    }
}
