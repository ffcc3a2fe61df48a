//! Flow scenarios on the demo flows, load problems, and a property test of the engine.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;

fn demo() -> FlowSet {
    FlowSet::demo().expect("the demo flows are valid")
}

fn flow<'s>(set: &'s FlowSet, id: &str) -> &'s Flow {
    set.get(id).expect("a demo flow")
}

fn text(flow: &Flow, step: Step, input: &str) -> Step {
    advance(
        flow,
        step.state.expect("a running flow"),
        Input::Text(input),
        Language::Zh,
    )
}

fn outcome(flow: &Flow, step: Step, outcome: ActionOutcome) -> Step {
    advance(
        flow,
        step.state.expect("a running flow"),
        Input::Outcome(outcome),
        Language::Zh,
    )
}

fn done(status: u16, fields: &[(&str, &str)]) -> ActionOutcome {
    ActionOutcome::Done {
        status,
        fields: fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    }
}

fn problems(toml: &str) -> Vec<Problem> {
    FlowSet::from_toml(toml).expect_err("an invalid document")
}

fn has_problem(problems: &[Problem], path: &str, words: &str) -> bool {
    problems
        .iter()
        .any(|p| p.path == path && p.message.contains(words))
}

#[test]
fn the_demo_flows_are_valid() {
    let set = demo();
    let ids: Vec<&str> = set.iter().map(Flow::id).collect();
    assert_eq!(ids, ["order_status", "refund_request", "change_address"]);
    assert_eq!(
        flow(&set, "refund_request").title(Language::En),
        "Refund request"
    );
    let slots: Vec<&str> = flow(&set, "change_address").slot_names().collect();
    assert_eq!(slots, ["order_no", "address", "phone", "confirm"]);
}

#[test]
fn flows_are_triggered_by_intent_then_by_keywords() {
    let set = demo();
    let id = |intent: Option<&str>, text: &str| set.triggered_by(intent, text).map(Flow::id);
    assert_eq!(id(Some("order_status"), "hm"), Some("order_status"));
    assert_eq!(id(Some("refund_request"), ""), Some("refund_request"));
    assert_eq!(id(None, "帮我查订单"), Some("order_status"));
    assert_eq!(id(None, "我要退款，东西坏了"), Some("refund_request"));
    assert_eq!(id(None, "Where is my order?"), Some("order_status"));
    assert_eq!(id(None, "I want a REFUND"), Some("refund_request"));
    assert_eq!(id(None, "can I change my address"), Some("change_address"));
    assert_eq!(id(None, "我的订单地址写错了"), Some("change_address"));
    // Whole words only in English.
    assert_eq!(id(None, "the order statuses page"), None);
    assert_eq!(id(Some("refund"), "你好"), None);
    assert_eq!(id(None, "hello"), None);
}

#[test]
fn order_status_happy_path() {
    let set = demo();
    let f = flow(&set, "order_status");
    let step = start(f, "查订单", Language::Zh);
    assert_eq!(step.outcome, StepKind::Prompted);
    assert_eq!(
        step.say,
        ["请提供您的订单号（以 SB 开头，例如 SB20261125001）。"]
    );
    let step = text(f, step, "我的订单是sb20261125001");
    assert_eq!(step.outcome, StepKind::AwaitingAction);
    assert!(step.say.is_empty());
    assert_eq!(
        step.action,
        Some(ActionRequest::Http {
            service: "orders".to_owned(),
            method: "GET".to_owned(),
            path: "/orders/SB20261125001".to_owned(),
            body: None,
            expect: vec![200],
        })
    );
    let step = outcome(
        f,
        step,
        done(
            200,
            &[
                ("order_no", "SB20261125001"),
                ("status", "运输中"),
                ("eta", "11月27日"),
                ("carrier", "顺丰"),
            ],
        ),
    );
    assert_eq!(step.outcome, StepKind::Completed);
    assert_eq!(
        step.say,
        ["订单 SB20261125001 当前状态：运输中，预计 11月27日 送达。"]
    );
    assert_eq!(step.state, None);
    assert_eq!(step.handoff, None);
}

#[test]
fn a_slot_is_pre_filled_from_the_trigger_message() {
    let set = demo();
    let f = flow(&set, "order_status");
    let step = start(f, "查一下订单SB20261125001", Language::En);
    assert_eq!(step.outcome, StepKind::AwaitingAction);
    let state = step.state.clone().expect("running");
    assert_eq!(state.slots()["order_no"], "SB20261125001");
    let step = advance(
        f,
        state,
        Input::Outcome(done(200, &[("status", "shipped"), ("eta", "Nov 27")])),
        Language::En,
    );
    assert_eq!(
        step.say,
        ["Order SB20261125001 is shipped; expected delivery: Nov 27."]
    );

    // Text slots are never pre-filled; the order number is.
    let refund = flow(&set, "refund_request");
    let step = start(refund, "我要退款 SB20261125001 质量问题", Language::Zh);
    assert_eq!(step.outcome, StepKind::Prompted);
    let state = step.state.expect("running");
    assert_eq!(state.awaiting(), Some("reason"));
    assert_eq!(state.slots().len(), 1);
}

#[test]
fn refund_request_happy_path_with_a_ticket() {
    let set = demo();
    let f = flow(&set, "refund_request");
    let step = start(f, "我要退款", Language::Zh);
    let step = text(f, step, "SB20261125001");
    assert_eq!(step.outcome, StepKind::Prompted);
    let step = text(f, step, "收到的杯子有裂痕");
    assert_eq!(step.say, ["确认为订单 SB20261125001 申请退款吗？（是/否）"]);
    let step = text(f, step, "是的");
    assert_eq!(step.outcome, StepKind::AwaitingAction);
    assert_eq!(
        step.action,
        Some(ActionRequest::Http {
            service: "orders".to_owned(),
            method: "POST".to_owned(),
            path: "/orders/SB20261125001/refunds".to_owned(),
            body: Some(serde_json::json!({ "reason": "收到的杯子有裂痕" })),
            expect: vec![200, 201],
        })
    );
    let step = outcome(f, step, done(201, &[("refund_id", "r1")]));
    assert_eq!(step.outcome, StepKind::AwaitingAction);
    let Some(ActionRequest::Ticket {
        kind,
        subject,
        fields,
    }) = step.action.clone()
    else {
        panic!("a ticket request: {step:?}");
    };
    assert_eq!(kind, "refund");
    assert_eq!(subject, "退款申请 SB20261125001");
    assert_eq!(fields["reason"], "收到的杯子有裂痕");
    assert_eq!(fields["confirm"], "yes");
    let step = outcome(
        f,
        step,
        ActionOutcome::Ticket {
            id: "T-1001".to_owned(),
        },
    );
    assert_eq!(step.outcome, StepKind::Completed);
    assert_eq!(
        step.say,
        ["已为订单 SB20261125001 提交退款申请（工单号 T-1001），审核通过后 1–3 个工作日原路退回。"]
    );
}

#[test]
fn change_address_happy_path_in_english() {
    let set = demo();
    let f = flow(&set, "change_address");
    let en = |step: Step, input: &str| {
        advance(
            f,
            step.state.expect("running"),
            Input::Text(input),
            Language::En,
        )
    };
    let step = start(f, "I need to change my address", Language::En);
    assert_eq!(
        step.state.as_ref().and_then(|s| s.awaiting()),
        Some("order_no")
    );
    let step = en(step, "SB20261125001");
    let step = en(step, "Room 801, 100 Century Avenue, Pudong, Shanghai");
    assert_eq!(step.say, ["What mobile number should the courier call?"]);
    let step = en(step, "+86 138-0013-8000");
    assert_eq!(
        step.say,
        ["Change the delivery address of order SB20261125001 to Room 801, 100 Century Avenue, Pudong, Shanghai, phone +8613800138000? (yes/no)"]
    );
    let step = en(step, "yes");
    let Some(ActionRequest::Http { path, body, .. }) = step.action.clone() else {
        panic!("an http request: {step:?}");
    };
    assert_eq!(path, "/orders/SB20261125001/address");
    assert_eq!(
        body,
        Some(serde_json::json!({
            "address": "Room 801, 100 Century Avenue, Pudong, Shanghai",
            "phone": "+8613800138000",
        }))
    );
    let step = advance(
        f,
        step.state.expect("running"),
        Input::Outcome(done(200, &[])),
        Language::En,
    );
    assert_eq!(step.outcome, StepKind::Completed);
    assert_eq!(
        step.say,
        ["Done: order SB20261125001 will now be delivered to Room 801, 100 Century Avenue, Pudong, Shanghai (phone +8613800138000)."]
    );
}

#[test]
fn an_invalid_answer_is_reprompted_then_accepted() {
    let set = demo();
    let f = flow(&set, "order_status");
    let step = start(f, "查订单", Language::Zh);
    let step = text(f, step, "我不记得了");
    assert_eq!(step.outcome, StepKind::Reprompted);
    assert!(step.say[0].starts_with("这好像不是有效的订单号"));
    assert_eq!(step.state.as_ref().map(FlowState::retries), Some(1));
    let step = text(f, step, "SB20261125001");
    assert_eq!(step.outcome, StepKind::AwaitingAction);
    assert_eq!(step.state.as_ref().map(FlowState::retries), Some(0));
}

#[test]
fn too_many_invalid_answers_give_up_with_a_handoff() {
    let set = demo();
    let f = flow(&set, "change_address");
    let mut step = start(f, "改地址 SB20261125001", Language::Zh);
    step = text(f, step, "上海市浦东新区世纪大道100号");
    for _ in 0..2 {
        step = text(f, step, "12345");
        assert_eq!(step.outcome, StepKind::Reprompted);
    }
    let step = text(f, step, "不知道");
    assert_eq!(step.outcome, StepKind::GaveUp);
    assert_eq!(step.state, None);
    let handoff = step.handoff.expect("a hand-off");
    assert_eq!(
        handoff.skills,
        [SkillRequirement {
            name: "orders".to_owned(),
            min_level: 1
        }]
    );
    assert!(
        handoff.summary.contains("change_address"),
        "{}",
        handoff.summary
    );
    assert!(handoff.summary.contains("phone"), "{}", handoff.summary);
    assert!(handoff.summary.contains("order_no=SB20261125001"));
    // The same summary for a Chinese-speaking agent: the flow's Chinese title, why it gave up
    // and the answers.
    let zh = &handoff.summary_zh;
    assert!(zh.starts_with("流程 change_address（"), "{zh}");
    assert!(zh.contains("询问 phone 时连续 3 次回答无效"), "{zh}");
    assert!(zh.contains("order_no=SB20261125001"), "{zh}");
    assert!(!zh.contains("Flow "), "{zh}");
    assert_eq!(handoff.slots.len(), 2);
}

#[test]
fn cancel_in_the_middle_ends_politely() {
    let set = demo();
    let f = flow(&set, "refund_request");
    let step = start(f, "申请退款", Language::Zh);
    let step = text(f, step, "SB20261125001");
    let step = text(f, step, "算了");
    assert_eq!(step.outcome, StepKind::Cancelled);
    assert_eq!(step.say, ["好的，已取消。还有其他可以帮您的吗？"]);
    assert_eq!(step.state, None);
    assert_eq!(step.handoff, None);

    let step = start(f, "I want a refund", Language::En);
    let step = advance(
        f,
        step.state.expect("running"),
        Input::Text("never mind"),
        Language::En,
    );
    assert_eq!(step.say, ["OK, cancelled. Anything else I can help with?"]);
}

#[test]
fn no_at_the_confirmation_cancels() {
    let set = demo();
    let f = flow(&set, "refund_request");
    let step = start(f, "申请退款 SB20261125001", Language::Zh);
    let step = text(f, step, "不想要了");
    let step = text(f, step, "否");
    assert_eq!(step.outcome, StepKind::Cancelled);
    assert_eq!(step.action, None);
    assert_eq!(step.state, None);
}

#[test]
fn a_failed_action_hands_off_with_the_flow_message() {
    let set = demo();
    let f = flow(&set, "order_status");
    let step = start(f, "查订单 SB20261125001", Language::Zh);
    let step = outcome(
        f,
        step,
        ActionOutcome::Failed {
            reason: "timeout".to_owned(),
        },
    );
    assert_eq!(step.outcome, StepKind::Failed);
    assert_eq!(step.say, ["订单系统暂时无法查询，我为您转接人工客服。"]);
    let handoff = step.handoff.expect("a hand-off");
    assert_eq!(handoff.skills[0].name, "orders");
    assert!(
        handoff.summary.contains("failed: GET orders: timeout"),
        "{}",
        handoff.summary
    );
    // The Chinese summary says in Chinese which service failed; the technical detail stays.
    let zh = &handoff.summary_zh;
    assert!(
        zh.contains("操作失败：调用 orders 服务失败（timeout）"),
        "{zh}"
    );

    // An unexpected status fails the same way, and says so in both languages.
    let step = start(f, "查订单 SB20261125001", Language::Zh);
    let step = outcome(f, step, done(500, &[]));
    assert_eq!(step.outcome, StepKind::Failed);
    let handoff = step.handoff.expect("a hand-off");
    assert!(
        handoff.summary.contains("GET orders answered 500"),
        "{}",
        handoff.summary
    );
    let zh = &handoff.summary_zh;
    assert!(
        zh.contains("调用 orders 服务（GET）返回了意外的状态 500"),
        "{zh}"
    );
    assert!(!zh.contains("answered"), "{zh}");
}

#[test]
fn ticket_subjects_and_handoff_summaries_speak_the_agents_language() {
    let set = FlowSet::from_toml(
        r#"
[[flow]]
id = "claim"
title = { zh = "理赔", en = "Claim" }
done = { zh = "好", en = "OK" }
triggers = { keywords_zh = ["理赔"], keywords_en = ["claim"] }
[[flow.slots]]
name = "order_no"
validator = "order_number"
prompt = { zh = "订单号？", en = "Order number?" }
[[flow.actions]]
type = "ticket"
kind = "claim"
subject = { zh = "理赔 {order_no}", en = "Claim {order_no}" }
[[flow.actions]]
type = "handoff"
summary = { zh = "理赔工单 {ticket_id}", en = "Claim ticket {ticket_id}" }
"#,
    )
    .expect("valid");
    let f = set.get("claim").expect("a flow");
    for (lang, text, subject_wanted) in [
        (Language::Zh, "理赔 SB20261125001", "理赔 SB20261125001"),
        (Language::En, "claim SB20261125001", "Claim SB20261125001"),
    ] {
        let step = start(f, text, lang);
        let Some(ActionRequest::Ticket { subject, .. }) = step.action.clone() else {
            panic!("a ticket request: {step:?}");
        };
        assert_eq!(subject, subject_wanted);
        let step = advance(
            f,
            step.state.expect("awaiting the ticket"),
            Input::Outcome(ActionOutcome::Ticket {
                id: "T-7".to_owned(),
            }),
            lang,
        );
        let handoff = step.handoff.expect("handed over");
        assert_eq!(handoff.summary, "Claim ticket T-7");
        assert_eq!(handoff.summary_zh, "理赔工单 T-7");
    }
    // One template still serves both languages.
    let same = FlowSet::from_toml(
        r#"
[[flow]]
id = "c"
title = { en = "C" }
done = { en = "OK" }
triggers = { keywords_en = ["c"] }
[[flow.actions]]
type = "ticket"
kind = "k"
subject = "Ticket"
"#,
    );
    assert!(same.is_ok(), "{same:?}");
}

#[test]
fn a_404_says_not_found_without_a_handoff() {
    let set = demo();
    let f = flow(&set, "order_status");
    let step = start(f, "查订单 SB20261125009", Language::Zh);
    let step = outcome(f, step, done(404, &[]));
    assert_eq!(step.outcome, StepKind::StatusHandled);
    assert_eq!(
        step.say,
        ["没有找到订单 SB20261125009，请核对后再试，或输入“人工”联系客服。"]
    );
    assert_eq!(step.handoff, None);
    assert_eq!(step.state, None);
}

#[test]
fn a_409_says_why_and_hands_off_to_the_right_skill() {
    let set = demo();
    let f = flow(&set, "change_address");
    let step = start(f, "修改地址", Language::Zh);
    let step = text(f, step, "SB20261125001");
    let step = text(f, step, "北京市海淀区中关村大街1号");
    let step = text(f, step, "13800138000");
    let step = text(f, step, "确认");
    let step = outcome(f, step, done(409, &[]));
    assert_eq!(step.outcome, StepKind::StatusHandled);
    assert_eq!(
        step.say,
        ["订单 SB20261125001 已发货，无法直接修改地址，我为您转接物流专员处理。"]
    );
    let handoff = step.handoff.expect("a hand-off");
    assert_eq!(handoff.skills[0].name, "orders");
    assert_eq!(handoff.slots["phone"], "+8613800138000");

    let refund = flow(&set, "refund_request");
    let step = start(refund, "我要退款 SB20261125001", Language::Zh);
    let step = text(refund, step, "坏了");
    let step = text(refund, step, "好的");
    let step = outcome(refund, step, done(409, &[]));
    assert_eq!(step.handoff.expect("a hand-off").skills[0].name, "refunds");
}

#[test]
fn accepts_tells_answers_from_digressions() {
    let set = demo();
    let f = flow(&set, "change_address");
    let state = start(f, "改地址", Language::Zh).state.expect("running");
    assert!(accepts(f, &state, "SB20261125001"));
    assert!(!accepts(f, &state, "运费怎么算？"));
    assert_eq!(
        resume_prompt(f, &state, Language::Zh),
        "回到刚才的问题：请提供需要修改地址的订单号（以 SB 开头，例如 SB20261125001）。"
    );
    assert!(
        resume_prompt(f, &state, Language::En).starts_with("Back to where we were: Which order")
    );
    // A digression leaves the state as it was: the bot answers and re-asks.
    let step = advance(f, state.clone(), Input::Text("SB20261125001"), Language::Zh);
    let state = step.state.expect("running");
    assert!(accepts(f, &state, "上海市浦东新区世纪大道100号"));
    assert!(!accepts(f, &state, "退款"));
    assert!(!accepts(f, &state, "never mind"));

    // Nothing is accepted while an action is awaited.
    let awaiting = start(
        flow(&set, "order_status"),
        "查订单 SB20261125001",
        Language::Zh,
    )
    .state
    .expect("running");
    assert!(!accepts(
        flow(&set, "order_status"),
        &awaiting,
        "SB20261125001"
    ));
    assert_eq!(
        resume_prompt(flow(&set, "order_status"), &awaiting, Language::Zh),
        ""
    );
}

#[test]
fn inputs_that_do_not_apply_are_ignored() {
    let set = demo();
    let f = flow(&set, "order_status");
    let awaiting_action = start(f, "查订单 SB20261125001", Language::Zh);
    let before = awaiting_action.state.clone();
    let step = text(f, awaiting_action, "还在吗");
    assert_eq!(step.outcome, StepKind::Ignored);
    assert!(step.say.is_empty());
    assert_eq!(step.state, before);

    let awaiting_slot = start(f, "查订单", Language::Zh);
    let before = awaiting_slot.state.clone();
    let step = outcome(f, awaiting_slot, done(200, &[]));
    assert_eq!(step.outcome, StepKind::Ignored);
    assert_eq!(step.state, before);
}

#[test]
fn a_state_of_another_flow_fails_with_a_handoff() {
    let set = demo();
    let state = start(flow(&set, "order_status"), "查订单", Language::Zh)
        .state
        .expect("running");
    let step = advance(
        flow(&set, "refund_request"),
        state,
        Input::Text("SB20261125001"),
        Language::Zh,
    );
    assert_eq!(step.outcome, StepKind::Failed);
    assert!(step.handoff.is_some());
}

#[test]
fn the_state_round_trips_through_json() {
    let set = demo();
    let state = start(
        flow(&set, "refund_request"),
        "我要退款 SB20261125001",
        Language::Zh,
    )
    .state
    .expect("running");
    let json = serde_json::to_value(&state).expect("serializable");
    assert_eq!(json["flow"], "refund_request");
    assert_eq!(json["awaiting"], "reason");
    let back: FlowState = serde_json::from_value(json).expect("deserializable");
    assert_eq!(back, state);
}

#[test]
fn result_fields_keep_top_level_scalars() {
    let body = serde_json::json!({
        "order_no": "SB20261125001", "eta": "11-27", "weight": 1.5, "paid": true,
        "items": [1], "address": { "city": "上海" }, "note": null
    });
    let fields = result_fields(&body);
    assert_eq!(
        fields,
        BTreeMap::from([
            ("eta".to_owned(), "11-27".to_owned()),
            ("order_no".to_owned(), "SB20261125001".to_owned()),
            ("paid".to_owned(), "true".to_owned()),
            ("weight".to_owned(), "1.5".to_owned()),
        ])
    );
    assert!(result_fields(&serde_json::json!([1, 2])).is_empty());
}

#[test]
fn a_handoff_action_and_a_one_language_flow() {
    let set = FlowSet::from_toml(
        r#"
[[flow]]
id = "callback"
title = { zh = "预约回电" }
done = { zh = "不会说到这里。" }
[flow.triggers]
keywords_zh = ["回电"]
keywords_en = ["call me back"]
[[flow.slots]]
name = "phone"
validator = "phone"
prompt = { zh = "请留下您的手机号码。" }
[[flow.slots]]
name = "day"
validator = "date"
prompt = { zh = "哪天方便？" }
[[flow.actions]]
type = "handoff"
skills = [{ name = "sales", min_level = 2 }]
urgent = true
summary = "Call back {phone} on {day}"
"#,
    )
    .expect("valid");
    let f = set
        .triggered_by(None, "please call me back")
        .expect("triggered");
    let step = start(f, "call me back at 13900139000 tomorrow", Language::En);
    assert_eq!(step.outcome, StepKind::HandedOff);
    assert_eq!(
        step.say,
        ["Sure — I'm connecting you to an agent now. Please hold on."]
    );
    let handoff = step.handoff.expect("a hand-off");
    assert_eq!(handoff.summary, "Call back +8613900139000 on tomorrow");
    assert!(handoff.urgent);
    assert_eq!(handoff.skills[0].min_level, 2);

    // English falls back to the Chinese text, and the default reprompt repeats the prompt.
    let step = start(f, "回电", Language::En);
    assert_eq!(step.say, ["请留下您的手机号码。"]);
    let step = advance(
        f,
        step.state.expect("running"),
        Input::Text("x"),
        Language::En,
    );
    assert_eq!(
        step.say,
        ["Sorry, I couldn't make that out. 请留下您的手机号码。"]
    );
}

#[test]
fn a_flow_without_on_failure_hands_off_without_skills() {
    let set = FlowSet::from_toml(
        r#"
[[flow]]
id = "ping"
title = { en = "Ping" }
done = { en = "{result.pong}" }
triggers = { intents = ["ping"] }
[[flow.actions]]
type = "http"
service = "pinger"
method = "GET"
path = "/ping"
expect = [200]
"#,
    )
    .expect("valid");
    let f = set.get("ping").expect("a flow");
    let step = start(f, "", Language::Zh);
    let step = outcome(
        f,
        step,
        ActionOutcome::Ticket {
            id: "nonsense".to_owned(),
        },
    );
    assert_eq!(step.outcome, StepKind::Failed);
    assert!(step.handoff.expect("a hand-off").skills.is_empty());
}

const VALID_FLOW: &str = r#"
[[flow]]
id = "f"
title = { zh = "流程", en = "Flow" }
done = { zh = "好", en = "OK" }
triggers = { keywords_zh = ["流程"] }
[[flow.slots]]
name = "a"
validator = "text"
prompt = { zh = "a?", en = "a?" }
"#;

#[test]
fn the_minimal_test_flow_is_valid() {
    assert!(FlowSet::from_toml(VALID_FLOW).is_ok());
}

#[test]
fn load_problems_are_reported_with_their_place() {
    let unknown_validator = VALID_FLOW.replace("\"text\"", "\"colour\"");
    assert!(has_problem(
        &problems(&unknown_validator),
        "flow[0].slots[0].validator",
        "unknown validator 'colour'"
    ));

    let bad_regex = VALID_FLOW.replace(
        "validator = \"text\"",
        "validator = \"regex\"\npattern = \"([a-z\"",
    );
    assert!(has_problem(
        &problems(&bad_regex),
        "flow[0].slots[0].pattern",
        "not a valid pattern"
    ));

    let no_pattern = VALID_FLOW.replace("\"text\"", "\"regex\"");
    assert!(has_problem(
        &problems(&no_pattern),
        "flow[0].slots[0].pattern",
        "needs a pattern"
    ));

    let unknown_placeholder = VALID_FLOW.replace("done = { zh = \"好\"", "done = { zh = \"{b}\"");
    assert!(has_problem(
        &problems(&unknown_placeholder),
        "flow[0].done.zh",
        "not a slot of this flow"
    ));

    let later_slot = format!(
        "{VALID_FLOW}[[flow.slots]]\nname = \"b\"\nvalidator = \"yes_no\"\nprompt = {{ en = \"ok?\" }}\n"
    )
    .replace("prompt = { zh = \"a?\", en = \"a?\" }", "prompt = { zh = \"{b}?\" }");
    assert!(has_problem(
        &problems(&later_slot),
        "flow[0].slots[0].prompt.zh",
        "not filled yet"
    ));

    // Example questions: not empty, not too long; with examples alone a flow has a trigger.
    let long = "很".repeat(201);
    let bad_examples = VALID_FLOW.replace(
        "triggers = { keywords_zh = [\"流程\"] }",
        &format!("triggers = {{ examples = [\"\", \"{long}\"] }}"),
    );
    let found = problems(&bad_examples);
    assert!(has_problem(
        &found,
        "flow[0].triggers.examples[0]",
        "an empty trigger"
    ));
    assert!(has_problem(
        &found,
        "flow[0].triggers.examples[1]",
        "at most 200"
    ));
    assert!(
        !found.iter().any(|p| p.path == "flow[0].triggers"),
        "{found:?}"
    );
    let examples_only = VALID_FLOW.replace(
        "triggers = { keywords_zh = [\"流程\"] }",
        "triggers = { examples = [\"我想走这个流程\"] }",
    );
    let set = FlowSet::from_toml(&examples_only).expect("examples alone start a flow");
    assert_eq!(set.get("f").map(|f| f.examples().len()), Some(1));

    let duplicate_flow = format!("{VALID_FLOW}{VALID_FLOW}");
    assert!(has_problem(
        &problems(&duplicate_flow),
        "flow[1].id",
        "used twice"
    ));

    let duplicate_slot = format!(
        "{VALID_FLOW}[[flow.slots]]\nname = \"a\"\nvalidator = \"date\"\nprompt = {{ en = \"when?\" }}\n"
    );
    assert!(has_problem(
        &problems(&duplicate_slot),
        "flow[0].slots[1].name",
        "defined twice"
    ));

    let no_triggers = VALID_FLOW.replace("triggers = { keywords_zh = [\"流程\"] }\n", "");
    assert!(has_problem(
        &problems(&no_triggers),
        "flow[0].triggers",
        "at least one intent or keyword"
    ));
    let empty_triggers = VALID_FLOW.replace("keywords_zh = [\"流程\"]", "intents = []");
    assert!(has_problem(
        &problems(&empty_triggers),
        "flow[0].triggers",
        "at least one"
    ));
}

#[test]
fn action_and_template_problems_are_reported() {
    let with_actions = |actions: &str, done: &str| {
        format!(
            "{}{actions}",
            VALID_FLOW.replace("zh = \"好\", en = \"OK\"", done)
        )
    };
    let ticket_id_without_ticket = with_actions("", "en = \"{ticket_id}\"");
    assert!(has_problem(
        &problems(&ticket_id_without_ticket),
        "flow[0].done.en",
        "no ticket action"
    ));
    let result_without_http = with_actions(
        "[[flow.actions]]\ntype = \"ticket\"\nkind = \"k\"\nsubject = \"{result.x} {ticket_id}\"\n",
        "en = \"{ticket_id}\"",
    );
    let found = problems(&result_without_http);
    assert!(has_problem(
        &found,
        "flow[0].actions[0].subject",
        "no http action"
    ));
    assert!(has_problem(
        &found,
        "flow[0].actions[0].subject",
        "no ticket action"
    ));
    assert_eq!(found.len(), 2, "{found:?}");

    let bad_http = with_actions(
        "[[flow.actions]]\ntype = \"http\"\nservice = \"\"\nmethod = \"DELETE\"\npath = \"x/{zzz}\"\nbody = { q = \"{nope}\" }\n[flow.actions.on_status.abc]\nmessage = { en = \"x\" }\n",
        "en = \"ok\"",
    );
    let found = problems(&bad_http);
    for (path, words) in [
        ("flow[0].actions[0].service", "a service"),
        ("flow[0].actions[0].method", "'DELETE'"),
        ("flow[0].actions[0].path", "starts with '/'"),
        ("flow[0].actions[0].path", "{zzz}"),
        ("flow[0].actions[0].body.q", "{nope}"),
        ("flow[0].actions[0].expect", "statuses"),
        ("flow[0].actions[0].on_status.abc", "not an HTTP status"),
    ] {
        assert!(has_problem(&found, path, words), "{path}: {found:?}");
    }

    let ticket = "[[flow.actions]]\ntype = \"ticket\"\nkind = \"k\"\nsubject = \"s\"\n";
    let five = with_actions(&ticket.repeat(5), "en = \"ok\"");
    assert!(has_problem(
        &problems(&five),
        "flow[0].actions",
        "at most 4 actions"
    ));
    assert!(FlowSet::from_toml(&with_actions(&ticket.repeat(4), "en = \"ok\"")).is_ok());

    let bad_skill = with_actions(
        "[[flow.actions]]\ntype = \"handoff\"\nskills = [{ name = \"Sales Team\" }, { name = \"x\", min_level = 9 }]\n",
        "en = \"ok\"",
    );
    let found = problems(&bad_skill);
    assert!(has_problem(&found, "flow[0].actions[0].skills[0]", "skill"));
    assert!(has_problem(
        &found,
        "flow[0].actions[0].skills[1]",
        "between"
    ));

    let unclosed = VALID_FLOW.replace("en = \"OK\"", "en = \"OK {a\"");
    assert!(has_problem(
        &problems(&unclosed),
        "flow[0].done.en",
        "not closed"
    ));

    let no_text = VALID_FLOW.replace(
        "done = { zh = \"好\", en = \"OK\" }",
        "done = { zh = \" \" }",
    );
    assert!(has_problem(&problems(&no_text), "flow[0].done", "zh or en"));
}

#[test]
fn unknown_fields_and_empty_documents_are_refused() {
    let typo = VALID_FLOW.replace("validator =", "validtor = \"x\"\nvalidator =");
    assert!(problems(&typo)[0].message.contains("validtor"));
    let action_typo = format!(
        "{VALID_FLOW}[[flow.actions]]\ntype = \"ticket\"\nkind = \"k\"\nsubject = \"s\"\npriority = 1\n"
    );
    assert!(problems(&action_typo)[0].message.contains("priority"));
    assert!(has_problem(&problems(""), "flow", "no [[flow]]"));
    assert_eq!(problems("not toml [")[0].path, "flows");
}

/// Random answers: words from the demo's vocabulary, valid values, cancel words and noise.
fn answer() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("SB20261125001".to_owned()),
        Just("13800138000".to_owned()),
        Just("上海市浦东新区世纪大道100号".to_owned()),
        Just("是".to_owned()),
        Just("no".to_owned()),
        Just("取消".to_owned()),
        Just("运费怎么算".to_owned()),
        Just(String::new()),
        "\\PC{0,40}",
        "[a-zA-Z0-9 ]{0,20}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn any_texts_keep_the_flow_awaiting_a_slot_or_end_it(
        which in 0usize..3,
        opening in answer(),
        texts in proptest::collection::vec(answer(), 0..12),
    ) {
        let set = demo();
        let f = set.iter().nth(which).expect("three demo flows");
        let mut step = start(f, &opening, Language::Zh);
        for t in &texts {
            let Some(state) = step.state.clone() else { break };
            if state.awaiting().is_none() {
                // An action is awaited: a text is ignored, an outcome moves on.
                let ignored = advance(f, state.clone(), Input::Text(t), Language::Zh);
                prop_assert_eq!(ignored.outcome, StepKind::Ignored);
                prop_assert_eq!(ignored.state, Some(state.clone()));
                step = advance(f, state, Input::Outcome(done(200, &[])), Language::Zh);
                continue;
            }
            step = advance(f, state, Input::Text(t), Language::Zh);
            match &step.state {
                Some(next) => {
                    match next.awaiting() {
                        Some(awaited) => {
                            let slot = f.slots.iter().find(|s| s.name == awaited);
                            let max = slot.expect("a slot of the flow").max_retries;
                            prop_assert!(next.retries() <= max);
                        }
                        None => prop_assert_eq!(step.outcome, StepKind::AwaitingAction),
                    }
                    prop_assert!(!step.say.is_empty() || step.action.is_some());
                }
                None => prop_assert!(matches!(
                    step.outcome,
                    StepKind::Completed | StepKind::Cancelled | StepKind::GaveUp
                )),
            }
        }
    }
}
