//! The flow engine: [`start`], [`advance`], [`accepts`] and [`resume_prompt`], pure
//! functions of a flow, its state and one input.

use std::collections::BTreeMap;

use super::template::{path_segment, plain};
use super::validators::{is_cancel, Validator};
use super::{
    Action, ActionOutcome, ActionRequest, Exit, Flow, FlowHandoff, FlowState, HandoffSpec, Input,
    Slot, Step, StepKind,
};
use crate::domain::Language;

/// At most this many `result.*` fields are kept from one answer (the state is stored).
const MAX_RESULT_FIELDS: usize = 32;
/// A longer field value is cut to this many characters.
const MAX_FIELD_CHARS: usize = 500;
/// Slot values in a hand-off summary are cut to this many characters.
const SUMMARY_VALUE_CHARS: usize = 60;

/// Starts `flow` from the message that triggered it: slots whose value the message already
/// contains are filled (see the module docs), then the first open slot is asked, or the
/// first action requested when none is open.
pub fn start(flow: &Flow, text: &str, lang: Language) -> Step {
    let mut state = FlowState::new(&flow.id);
    for slot in &flow.slots {
        if let Some(value) = slot.validator.find(text) {
            // One value fills one slot: two phone slots do not both take the same number.
            if !state.slots.values().any(|v| *v == value) {
                state.slots.insert(slot.name.clone(), value);
            }
        }
    }
    next(flow, state, lang, Vec::new())
}

/// Moves the flow on by one input.
///
/// - A text while a slot is awaited: a cancel word ([`is_cancel`]) cancels; a valid answer
///   fills the slot ("no" to a `yes_no` slot cancels) and the next slot is asked or the
///   first action requested; an invalid one is reprompted, and one invalid answer more than
///   the slot's `max_retries` gives up with a hand-off.
/// - An outcome while an action is awaited: see [`StepKind`].
/// - A text while an action is awaited, or an outcome while a slot is awaited, does not
///   apply: [`StepKind::Ignored`], nothing said, state unchanged (the runtime reports every
///   outcome before the next customer turn reaches the flow, so this should not happen).
/// - A state that does not fit the flow (another flow's, or the flow was edited since)
///   fails the flow with a hand-off.
pub fn advance(flow: &Flow, state: FlowState, input: Input<'_>, lang: Language) -> Step {
    if state.flow != flow.id {
        let why = Why::new(
            format!("state of flow '{}'", state.flow),
            format!("会话状态属于另一个流程 {}", state.flow),
        );
        return failed(flow, state, lang, None, &why);
    }
    match (state.awaiting.clone(), input) {
        (Some(awaited), Input::Text(text)) => {
            let Some(slot) = flow.slots.iter().find(|s| s.name == awaited) else {
                let why = Why::new(
                    format!("no slot '{awaited}' in the flow"),
                    format!("流程中没有信息项 {awaited}"),
                );
                return failed(flow, state, lang, None, &why);
            };
            answer(flow, slot, state, text, lang)
        }
        (None, Input::Outcome(outcome)) => outcome_of(flow, state, outcome, lang),
        (Some(_), Input::Outcome(_)) | (None, Input::Text(_)) => Step {
            say: Vec::new(),
            action: None,
            handoff: None,
            state: Some(state),
            outcome: StepKind::Ignored,
        },
    }
}

/// True when `text` answers the awaited slot (a cancel word never does, even for a `text`
/// slot). The bot asks this before advancing: a text that does not answer and is not a
/// cancel word ([`is_cancel`]) but is a confident FAQ question is a digression, answered
/// from the knowledge base and followed by [`resume_prompt`]; anything else goes to
/// [`advance`].
pub fn accepts(flow: &Flow, state: &FlowState, text: &str) -> bool {
    !is_cancel(text)
        && awaited_slot(flow, state).is_some_and(|slot| slot.validator.accept(text).is_some())
}

/// True when `text` looks like a try at the awaited slot's answer without being a valid one:
/// four digits or more while a number (order number, phone, date) is awaited
/// ("手机号是1380013800"). Such a text is re-asked and counts against the retries, even when
/// it reads like an FAQ question.
pub fn attempts(flow: &Flow, state: &FlowState, text: &str) -> bool {
    const DIGITS: usize = 4;
    awaited_slot(flow, state).is_some_and(|slot| {
        matches!(
            slot.validator,
            Validator::OrderNumber | Validator::Phone | Validator::Date
        ) && super::validators::fold_width(text)
            .chars()
            .filter(char::is_ascii_digit)
            .count()
            >= DIGITS
    })
}

/// The awaited slot's question again after a digression: "回到刚才的问题：…" / "Back to
/// where we were: …". Empty when no slot is awaited.
pub fn resume_prompt(flow: &Flow, state: &FlowState, lang: Language) -> String {
    let Some(slot) = awaited_slot(flow, state) else {
        return String::new();
    };
    let prompt = slot.prompt.render(lang, &state.slots, &state.vars);
    match lang {
        Language::Zh => format!("回到刚才的问题：{prompt}"),
        Language::En => format!("Back to where we were: {prompt}"),
    }
}

/// The top-level scalar fields of a service's JSON answer, as [`ActionOutcome::Done`]
/// carries them: strings as they are, numbers and booleans as text; nulls, arrays and
/// objects are left out.
pub fn result_fields(body: &serde_json::Value) -> BTreeMap<String, String> {
    let Some(object) = body.as_object() else {
        return BTreeMap::new();
    };
    object
        .iter()
        .filter_map(|(k, v)| {
            let value = match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                _ => return None,
            };
            Some((k.clone(), value))
        })
        .collect()
}

fn awaited_slot<'f>(flow: &'f Flow, state: &FlowState) -> Option<&'f Slot> {
    if state.flow != flow.id {
        return None;
    }
    let awaited = state.awaiting.as_deref()?;
    flow.slots.iter().find(|s| s.name == awaited)
}

/// A customer's text while `slot` is awaited.
fn answer(flow: &Flow, slot: &Slot, mut state: FlowState, text: &str, lang: Language) -> Step {
    if is_cancel(text) {
        return cancelled(lang);
    }
    match slot.validator.accept(text) {
        Some(value) if matches!(slot.validator, Validator::YesNo) && value == "no" => {
            cancelled(lang)
        }
        Some(value) => {
            state.slots.insert(slot.name.clone(), value);
            next(flow, state, lang, Vec::new())
        }
        None if state.retries >= slot.max_retries => gave_up(flow, slot, state, lang),
        None => {
            state.retries += 1;
            let prompt = slot.prompt.render(lang, &state.slots, &state.vars);
            let say = match &slot.reprompt {
                Some(reprompt) => reprompt.render(lang, &state.slots, &state.vars),
                None => match lang {
                    Language::Zh => format!("抱歉，我没能识别您的回答。{prompt}"),
                    Language::En => format!("Sorry, I couldn't make that out. {prompt}"),
                },
            };
            Step {
                say: vec![say],
                action: None,
                handoff: None,
                state: Some(state),
                outcome: StepKind::Reprompted,
            }
        }
    }
}

/// Asks the first open slot, or runs the actions when every slot is filled.
fn next(flow: &Flow, mut state: FlowState, lang: Language, mut say: Vec<String>) -> Step {
    state.retries = 0;
    state.digressions = 0;
    if let Some(slot) = flow
        .slots
        .iter()
        .find(|s| !state.slots.contains_key(&s.name))
    {
        state.awaiting = Some(slot.name.clone());
        say.push(slot.prompt.render(lang, &state.slots, &state.vars));
        return Step {
            say,
            action: None,
            handoff: None,
            state: Some(state),
            outcome: StepKind::Prompted,
        };
    }
    state.awaiting = None;
    run_action(flow, state, lang, say)
}

/// Requests the action at `state.next_action`, or completes the flow after the last.
fn run_action(flow: &Flow, state: FlowState, lang: Language, mut say: Vec<String>) -> Step {
    let Some(action) = flow.actions.get(state.next_action) else {
        say.push(flow.done.render(lang, &state.slots, &state.vars));
        return Step {
            say,
            action: None,
            handoff: None,
            state: None,
            outcome: StepKind::Completed,
        };
    };
    if let Action::Http(http) = action {
        if let Some(name) = http.path.unfit_path_value(&state.slots, &state.vars) {
            let why = Why::new(
                format!(
                    "the value of {name} cannot stand in the path of {}",
                    http.service
                ),
                format!("{name} 的值不能用于 {} 服务的地址", http.service),
            );
            return failed(flow, state, lang, flow.on_failure.as_ref(), &why);
        }
    }
    let request = match action {
        Action::Http(http) => ActionRequest::Http {
            service: http.service.clone(),
            method: http.method.clone(),
            path: http.path.render(&state.slots, &state.vars, path_segment),
            body: http.body.as_ref().map(|b| render_json(b, &state)),
            expect: http.expect.clone(),
        },
        Action::Ticket(ticket) => ActionRequest::Ticket {
            kind: ticket.kind.clone(),
            subject: ticket.subject.render(lang, &state.slots, &state.vars),
            fields: state.slots.clone(),
        },
        Action::Handoff(handoff) => {
            say.push(match &flow.handoff_message {
                Some(message) => message.render(lang, &state.slots, &state.vars),
                None => default_handoff_message(lang),
            });
            let summary = match &handoff.summary {
                Some(t) => Summary {
                    en: t.render(Language::En, &state.slots, &state.vars),
                    zh: t.render(Language::Zh, &state.slots, &state.vars),
                },
                None => summary(
                    flow,
                    &state,
                    &Why::new("handed over by the flow", "由流程转人工"),
                ),
            };
            return Step {
                say,
                action: None,
                handoff: Some(flow_handoff(&handoff.handoff, summary, &state)),
                state: None,
                outcome: StepKind::HandedOff,
            };
        }
    };
    Step {
        say,
        action: Some(request),
        handoff: None,
        state: Some(state),
        outcome: StepKind::AwaitingAction,
    }
}

/// What the runtime reported about the awaited action.
fn outcome_of(flow: &Flow, mut state: FlowState, outcome: ActionOutcome, lang: Language) -> Step {
    let Some(action) = flow.actions.get(state.next_action) else {
        let why = Why::new(
            format!("no action {} in the flow", state.next_action),
            format!("流程中没有第 {} 个操作", state.next_action + 1),
        );
        return failed(flow, state, lang, None, &why);
    };
    match (action, outcome) {
        (Action::Http(http), ActionOutcome::Done { status, fields }) => {
            if http.expect.contains(&status) {
                state.vars.retain(|k, _| !k.starts_with("result."));
                for (k, v) in fields.into_iter().take(MAX_RESULT_FIELDS) {
                    let v: String = v.chars().take(MAX_FIELD_CHARS).collect();
                    state.vars.insert(format!("result.{k}"), v);
                }
                state.next_action += 1;
                run_action(flow, state, lang, Vec::new())
            } else if let Some(exit) = http.on_status.get(&status) {
                let what = Why::new(
                    format!("{} {} answered {status}", http.method, http.service),
                    format!("{} {} 返回 {status}", http.method, http.service),
                );
                ended(flow, exit, state, lang, &what, StepKind::StatusHandled)
            } else {
                let why = Why::new(
                    format!("{} {} answered {status}", http.method, http.service),
                    format!(
                        "调用 {} 服务（{}）返回了意外的状态 {status}",
                        http.service, http.method
                    ),
                );
                failed(flow, state, lang, flow.on_failure.as_ref(), &why)
            }
        }
        (Action::Ticket(_), ActionOutcome::Ticket { id }) => {
            state.vars.insert("ticket_id".to_owned(), id);
            state.next_action += 1;
            run_action(flow, state, lang, Vec::new())
        }
        (action, ActionOutcome::Failed { reason }) => {
            let why = match action {
                Action::Http(http) => Why::new(
                    format!("{} {}: {reason}", http.method, http.service),
                    format!("调用 {} 服务失败（{reason}）", http.service),
                ),
                Action::Ticket(_) => Why::new(
                    format!("opening a ticket: {reason}"),
                    format!("创建工单失败（{reason}）"),
                ),
                _ => Why::new(reason.clone(), format!("操作未完成（{reason}）")),
            };
            failed(flow, state, lang, flow.on_failure.as_ref(), &why)
        }
        (_, other) => {
            let why = Why::new(
                format!("unexpected outcome {other:?}"),
                "操作返回了意外的结果",
            );
            failed(flow, state, lang, flow.on_failure.as_ref(), &why)
        }
    }
}

fn cancelled(lang: Language) -> Step {
    let say = match lang {
        Language::Zh => "好的，已取消。还有其他可以帮您的吗？",
        Language::En => "OK, cancelled. Anything else I can help with?",
    };
    Step {
        say: vec![say.to_owned()],
        action: None,
        handoff: None,
        state: None,
        outcome: StepKind::Cancelled,
    }
}

fn gave_up(flow: &Flow, slot: &Slot, state: FlowState, lang: Language) -> Step {
    let say = match lang {
        Language::Zh => "抱歉，我还是没能识别您提供的信息。正在为您转接人工客服，请稍候。",
        Language::En => {
            "Sorry, I still couldn't make sense of that. I'm connecting you to an agent — please hold on."
        }
    };
    let spec = flow
        .on_failure
        .as_ref()
        .and_then(|e| e.handoff.clone())
        .unwrap_or(HandoffSpec {
            skills: Vec::new(),
            urgent: false,
        });
    let why = Why::new(
        format!(
            "gave up asking for {} after {} invalid answers",
            slot.name,
            state.retries + 1
        ),
        format!(
            "询问 {} 时连续 {} 次回答无效，已放弃",
            slot.name,
            state.retries + 1
        ),
    );
    let summary = summary(flow, &state, &why);
    Step {
        say: vec![say.to_owned()],
        action: None,
        handoff: Some(flow_handoff(&spec, summary, &state)),
        state: None,
        outcome: StepKind::GaveUp,
    }
}

/// Ends the flow because an action failed: `exit`'s message and hand-off, or a default
/// message and a hand-off without skills when there is no `exit`.
fn failed(
    flow: &Flow,
    state: FlowState,
    lang: Language,
    exit: Option<&Exit>,
    reason: &Why,
) -> Step {
    let why = Why::new(
        format!("failed: {}", reason.en)
            .chars()
            .take(200)
            .collect::<String>(),
        format!("操作失败：{}", reason.zh)
            .chars()
            .take(200)
            .collect::<String>(),
    );
    match exit {
        Some(exit) => ended(flow, exit, state, lang, &why, StepKind::Failed),
        None => {
            let say = match lang {
                Language::Zh => "抱歉，系统暂时无法处理您的请求，正在为您转接人工客服，请稍候。",
                Language::En => {
                    "Sorry, I couldn't complete that just now. I'm connecting you to an agent — please hold on."
                }
            };
            let spec = HandoffSpec {
                skills: Vec::new(),
                urgent: false,
            };
            let summary = summary(flow, &state, &why);
            Step {
                say: vec![say.to_owned()],
                action: None,
                handoff: Some(flow_handoff(&spec, summary, &state)),
                state: None,
                outcome: StepKind::Failed,
            }
        }
    }
}

/// Ends the flow with `exit`'s message and its hand-off, if any.
fn ended(
    flow: &Flow,
    exit: &Exit,
    state: FlowState,
    lang: Language,
    why: &Why,
    outcome: StepKind,
) -> Step {
    let say = exit.message.render(lang, &state.slots, &state.vars);
    let handoff = exit
        .handoff
        .as_ref()
        .map(|spec| flow_handoff(spec, summary(flow, &state, why), &state));
    Step {
        say: vec![say],
        action: None,
        handoff,
        state: None,
        outcome,
    }
}

fn flow_handoff(spec: &HandoffSpec, summary: Summary, state: &FlowState) -> FlowHandoff {
    FlowHandoff {
        skills: spec.skills.clone(),
        urgent: spec.urgent,
        summary: summary.en,
        summary_zh: summary.zh,
        slots: state.slots.clone(),
    }
}

/// Why a flow handed over, in both languages.
struct Why {
    en: String,
    zh: String,
}

impl Why {
    fn new(en: impl Into<String>, zh: impl Into<String>) -> Self {
        Self {
            en: en.into(),
            zh: zh.into(),
        }
    }
}

/// A hand-off summary in both languages.
struct Summary {
    en: String,
    zh: String,
}

/// "Flow order_status (Order status): <why>; order_no=SB…, phone=+86…" for the agent, and
/// "流程 order_status（查询订单）：<why>；order_no=SB…" in Chinese.
fn summary(flow: &Flow, state: &FlowState, why: &Why) -> Summary {
    let filled: Vec<String> = flow
        .slots
        .iter()
        .filter_map(|s| {
            let value = state.slots.get(&s.name)?;
            let mut short: String = value.chars().take(SUMMARY_VALUE_CHARS).collect();
            if short.len() < value.len() {
                short.push('…');
            }
            Some(format!("{}={short}", s.name))
        })
        .collect();
    let (filled_en, filled_zh) = if filled.is_empty() {
        ("no answers yet".to_owned(), "尚未收集到信息".to_owned())
    } else {
        (filled.join(", "), filled.join("，"))
    };
    Summary {
        en: format!(
            "Flow {} ({}): {}; {filled_en}",
            flow.id,
            flow.title(Language::En),
            why.en
        ),
        zh: format!(
            "流程 {}（{}）：{}；{filled_zh}",
            flow.id,
            flow.title(Language::Zh),
            why.zh
        ),
    }
}

fn default_handoff_message(lang: Language) -> String {
    match lang {
        Language::Zh => "好的，正在为您转接人工客服，请稍候。".to_owned(),
        Language::En => "Sure — I'm connecting you to an agent now. Please hold on.".to_owned(),
    }
}

/// The body with every string rendered as a template (checked at load).
fn render_json(value: &serde_json::Value, state: &FlowState) -> serde_json::Value {
    match value {
        serde_json::Value::String(s) => match super::template::Template::parse(s) {
            Ok(t) => serde_json::Value::String(t.render(&state.slots, &state.vars, plain)),
            Err(_) => value.clone(),
        },
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.iter().map(|i| render_json(i, state)).collect())
        }
        serde_json::Value::Object(map) => serde_json::Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), render_json(v, state)))
                .collect(),
        ),
        other => other.clone(),
    }
}
