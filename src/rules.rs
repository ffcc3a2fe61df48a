//! Routing rules (issue 5, first part): the supervisors' rule-set document and its pure
//! evaluation. Not wired into the dispatcher yet.
//!
//! A rule set is an ordered list of rules. Each rule has:
//! - a condition written in CEL (the Common Expression Language, through the `cel` crate)
//!   over the task's attributes ([`ATTRIBUTES`]);
//! - a target: a queue and the required skills with minimum levels;
//! - a static priority plus aging per minute waited;
//! - overflow steps that replace the target after a wait ("bullseye": experts first, then
//!   anyone with the skill, then a fallback queue);
//! - an agent-selection strategy.
//!
//! [`compile`] validates a document and reports *every* problem at once, each with its place
//! (`rules[2].when`). [`CompiledRules::decide`] picks the first matching rule and applies the
//! overflow step reached at the task's wait. Both are pure: no clock, no I/O (the wait and the
//! time of day come in as facts), so the live dispatcher and a dry-run simulation give the same
//! answer for the same input.

use std::collections::{BTreeMap, BTreeSet};

use cel::{Context, Program, Value};
use serde::{Deserialize, Serialize};

/// The task attributes a condition may use.
pub const ATTRIBUTES: [&str; 9] = [
    "channel",   // "web", "app", "wechat", "sms", "ivr"
    "intent",    // the bot's intent, or null
    "language",  // "zh", "en"
    "tier",      // "standard", "vip"
    "tags",      // the customer's tags, a list of strings
    "wait_secs", // seconds the task has waited
    "hour",      // hour of day 0–23, in the contact center's time zone
    "weekday",   // 1 = Monday … 7 = Sunday
    "queue",     // the queue the task is in now ("" before routing)
];

/// Skill levels run from 1 (basic) to 5 (expert).
pub const SKILL_LEVELS: std::ops::RangeInclusive<u8> = 1..=5;

/// A rule-set document, as supervisors write it (JSON, or TOML for files).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSetDoc {
    /// Tried in order; the first whose condition holds routes the task.
    pub rules: Vec<RuleDoc>,
}

/// One routing rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleDoc {
    /// Unique within the set; shown in routing explanations.
    pub name: String,
    /// CEL condition over [`ATTRIBUTES`]; `true` (the default) matches every task.
    #[serde(default = "always")]
    pub when: String,
    /// The queue the task joins.
    pub queue: String,
    /// Skills an agent needs, each at a minimum level.
    #[serde(default)]
    pub skills: Vec<SkillNeed>,
    /// Static priority (higher first).
    #[serde(default)]
    pub priority: i64,
    /// Priority gained per minute of waiting (aging), so nobody starves.
    #[serde(default)]
    pub aging_per_minute: i64,
    /// Targets that replace this rule's after a wait, in increasing `after_secs`.
    #[serde(default)]
    pub overflow: Vec<OverflowStep>,
    /// How an agent is chosen among the eligible ones.
    #[serde(default)]
    pub strategy: Strategy,
}

fn always() -> String {
    "true".to_owned()
}

/// A skill and its minimum level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkillNeed {
    pub name: String,
    pub min_level: u8,
}

/// A widened target after a wait.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverflowStep {
    /// Seconds of waiting after which this step applies.
    pub after_secs: u64,
    /// The skills required from then on (empty: any agent speaking the language).
    #[serde(default)]
    pub skills: Vec<SkillNeed>,
    /// Another queue from then on; unchanged when absent.
    #[serde(default)]
    pub queue: Option<String>,
}

/// Agent selection among eligible agents (ties broken by agent id).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// The agent with the fewest conversations relative to capacity.
    #[default]
    LeastOccupied,
    /// The agent idle the longest.
    LongestIdle,
    /// The agent with the highest levels in the required skills.
    BestSkill,
}

/// One thing wrong with a document, and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Where: `rules`, `rules[1].when`, `rules[0].overflow[2].after_secs`, …
    pub path: String,
    pub message: String,
}

impl Problem {
    /// A problem at `path`.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// A validated rule set, ready to decide.
#[derive(Debug)]
pub struct CompiledRules {
    rules: Vec<CompiledRule>,
}

#[derive(Debug)]
struct CompiledRule {
    doc: RuleDoc,
    condition: Program,
}

/// What a task knows about itself, for the conditions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskFacts {
    pub channel: String,
    pub intent: Option<String>,
    pub language: String,
    pub tier: String,
    pub tags: Vec<String>,
    pub wait_secs: u64,
    pub hour: u32,
    pub weekday: u32,
    pub queue: String,
}

/// Where a task goes, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The rule that matched (its name and position).
    pub rule: String,
    pub rule_index: usize,
    /// The overflow step in force (index into the rule's `overflow`), if any.
    pub overflow_step: Option<usize>,
    pub queue: String,
    pub skills: Vec<SkillNeed>,
    /// Static priority plus aging for the time waited.
    pub priority: i64,
    pub strategy: Strategy,
}

/// Validates `doc` against the skills agents can have; every problem is reported.
pub fn compile(
    doc: &RuleSetDoc,
    known_skills: &BTreeSet<String>,
) -> Result<CompiledRules, Vec<Problem>> {
    let mut problems = Vec::new();
    if doc.rules.is_empty() {
        problems.push(Problem::new("rules", "a rule set needs at least one rule"));
    }
    let mut names: BTreeMap<&str, usize> = BTreeMap::new();
    let mut catch_all: Option<&str> = None;
    let mut seen_conditions: BTreeMap<String, &str> = BTreeMap::new();
    let mut compiled = Vec::with_capacity(doc.rules.len());
    for (i, rule) in doc.rules.iter().enumerate() {
        let at = format!("rules[{i}]");
        if rule.name.trim().is_empty() {
            problems.push(Problem::new(format!("{at}.name"), "a rule needs a name"));
        } else if let Some(first) = names.insert(rule.name.as_str(), i) {
            problems.push(Problem::new(
                format!("{at}.name"),
                format!("'{}' is already the name of rules[{first}]", rule.name),
            ));
        }
        if rule.queue.trim().is_empty() {
            problems.push(Problem::new(format!("{at}.queue"), "a rule needs a queue"));
        }
        if let Some(earlier) = catch_all {
            problems.push(Problem::new(
                format!("{at}.when"),
                format!("unreachable: rule '{earlier}' before it matches every task"),
            ));
        }
        let condition = normalise(&rule.when);
        if let Some(earlier) = seen_conditions.get(&condition) {
            problems.push(Problem::new(
                format!("{at}.when"),
                format!("unreachable: rule '{earlier}' before it has the same condition"),
            ));
        } else {
            seen_conditions.insert(condition.clone(), &rule.name);
        }
        if condition == "true" && catch_all.is_none() {
            catch_all = Some(&rule.name);
        }
        check_skills(
            &rule.skills,
            &format!("{at}.skills"),
            known_skills,
            &mut problems,
        );
        let mut previous_after = 0;
        for (k, step) in rule.overflow.iter().enumerate() {
            let step_at = format!("{at}.overflow[{k}]");
            if step.after_secs <= previous_after {
                problems.push(Problem::new(
                    format!("{step_at}.after_secs"),
                    format!(
                        "overflow steps must wait longer one after another (this one: {} s, before it: {previous_after} s)",
                        step.after_secs
                    ),
                ));
            }
            previous_after = previous_after.max(step.after_secs);
            check_skills(
                &step.skills,
                &format!("{step_at}.skills"),
                known_skills,
                &mut problems,
            );
            if step.queue.as_deref().is_some_and(|q| q.trim().is_empty()) {
                problems.push(Problem::new(
                    format!("{step_at}.queue"),
                    "an empty queue name",
                ));
            }
        }
        match Program::compile(&rule.when) {
            Ok(program) => {
                let unknown: Vec<String> = program
                    .references()
                    .variables()
                    .into_iter()
                    .filter(|v| !ATTRIBUTES.contains(v))
                    .map(str::to_owned)
                    .collect();
                for name in unknown {
                    problems.push(Problem::new(
                        format!("{at}.when"),
                        format!(
                            "unknown attribute '{name}' (known: {})",
                            ATTRIBUTES.join(", ")
                        ),
                    ));
                }
                compiled.push(CompiledRule {
                    doc: rule.clone(),
                    condition: program,
                });
            }
            Err(error) => problems.push(Problem::new(
                format!("{at}.when"),
                format!("the condition does not parse: {error}"),
            )),
        }
    }
    if problems.is_empty() {
        Ok(CompiledRules { rules: compiled })
    } else {
        Err(problems)
    }
}

/// Compiles a version that was validated when it was stored. Its skills are taken as known
/// (an agent may have lost a skill since; the task then waits for its overflow steps).
pub fn compile_stored(doc: &RuleSetDoc) -> Result<CompiledRules, Vec<Problem>> {
    let skills = doc
        .rules
        .iter()
        .flat_map(|r| {
            r.skills
                .iter()
                .chain(r.overflow.iter().flat_map(|s| s.skills.iter()))
        })
        .map(|need| need.name.clone())
        .collect();
    compile(doc, &skills)
}

/// A condition's text with white space folded, to spot copies.
fn normalise(condition: &str) -> String {
    condition.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn check_skills(
    skills: &[SkillNeed],
    at: &str,
    known: &BTreeSet<String>,
    problems: &mut Vec<Problem>,
) {
    for (j, need) in skills.iter().enumerate() {
        if !known.contains(&need.name) {
            problems.push(Problem::new(
                format!("{at}[{j}].name"),
                format!("no agent has the skill '{}'", need.name),
            ));
        }
        if !SKILL_LEVELS.contains(&need.min_level) {
            problems.push(Problem::new(
                format!("{at}[{j}].min_level"),
                format!("levels run from 1 to 5, not {}", need.min_level),
            ));
        }
    }
}

impl CompiledRules {
    /// The first rule whose condition holds for `facts`, with the overflow step reached at
    /// `facts.wait_secs`. A condition that cannot be evaluated for these facts (a type error)
    /// does not match. None when no rule matches.
    pub fn decide(&self, facts: &TaskFacts) -> Option<Decision> {
        let context = context_of(facts);
        self.rules.iter().enumerate().find_map(|(index, rule)| {
            let matched = matches!(rule.condition.execute(&context), Ok(Value::Bool(true)));
            matched.then(|| decision(index, &rule.doc, facts.wait_secs))
        })
    }

    /// The rules, in order.
    pub fn rules(&self) -> impl Iterator<Item = &RuleDoc> {
        self.rules.iter().map(|r| &r.doc)
    }
}

fn decision(index: usize, rule: &RuleDoc, wait_secs: u64) -> Decision {
    let step = rule
        .overflow
        .iter()
        .rposition(|s| s.after_secs <= wait_secs);
    let (queue, skills) = match step.map(|k| &rule.overflow[k]) {
        Some(s) => (
            s.queue.clone().unwrap_or_else(|| rule.queue.clone()),
            s.skills.clone(),
        ),
        None => (rule.queue.clone(), rule.skills.clone()),
    };
    let minutes = i64::try_from(wait_secs / 60).unwrap_or(i64::MAX);
    Decision {
        rule: rule.name.clone(),
        rule_index: index,
        overflow_step: step,
        queue,
        skills,
        priority: rule
            .priority
            .saturating_add(rule.aging_per_minute.saturating_mul(minutes)),
        strategy: rule.strategy,
    }
}

fn context_of(facts: &TaskFacts) -> Context<'static, 'static> {
    let mut context = Context::default();
    let text = |s: &str| Value::from(s.to_owned());
    context.add_variable_from_value("channel", text(&facts.channel));
    context.add_variable_from_value("intent", facts.intent.as_deref().map_or(Value::Null, text));
    context.add_variable_from_value("language", text(&facts.language));
    context.add_variable_from_value("tier", text(&facts.tier));
    context.add_variable_from_value(
        "tags",
        Value::List(std::sync::Arc::new(
            facts.tags.iter().map(|t| text(t)).collect(),
        )),
    );
    context.add_variable_from_value(
        "wait_secs",
        Value::Int(i64::try_from(facts.wait_secs).unwrap_or(i64::MAX)),
    );
    context.add_variable_from_value("hour", Value::Int(i64::from(facts.hour)));
    context.add_variable_from_value("weekday", Value::Int(i64::from(facts.weekday)));
    context.add_variable_from_value("queue", text(&facts.queue));
    context
}

#[cfg(test)]
mod tests {
    use proptest::prelude::{prop_assert, prop_assert_eq, proptest, ProptestConfig};

    use super::*;

    fn skills() -> BTreeSet<String> {
        ["billing", "refunds", "tech", "vip"]
            .into_iter()
            .map(str::to_owned)
            .collect()
    }

    fn need(name: &str, min_level: u8) -> SkillNeed {
        SkillNeed {
            name: name.to_owned(),
            min_level,
        }
    }

    /// The bullseye example of the issue, plus a VIP rule and a catch-all.
    fn doc() -> RuleSetDoc {
        serde_json::from_value(serde_json::json!({
            "rules": [
                {"name": "vip", "when": "tier == 'vip' || 'vip' in tags", "queue": "vip",
                 "skills": [{"name": "vip", "min_level": 3}], "priority": 100},
                {"name": "billing", "when": "intent == 'billing' && language == 'zh'",
                 "queue": "billing", "skills": [{"name": "billing", "min_level": 4}],
                 "aging_per_minute": 2,
                 "overflow": [
                    {"after_secs": 30, "skills": [{"name": "billing", "min_level": 2}]},
                    {"after_secs": 90, "skills": [{"name": "billing", "min_level": 1}]},
                    {"after_secs": 300, "queue": "general"}
                 ],
                 "strategy": "best_skill"},
                {"name": "everyone", "queue": "general"}
            ]
        }))
        .expect("document")
    }

    fn facts() -> TaskFacts {
        TaskFacts {
            channel: "web".to_owned(),
            intent: Some("billing".to_owned()),
            language: "zh".to_owned(),
            tier: "standard".to_owned(),
            tags: vec![],
            wait_secs: 0,
            hour: 10,
            weekday: 2,
            queue: String::new(),
        }
    }

    #[test]
    fn the_first_matching_rule_routes_the_task() {
        let rules = compile(&doc(), &skills()).expect("valid");
        let d = rules.decide(&facts()).expect("a rule matches");
        assert_eq!((d.rule.as_str(), d.rule_index), ("billing", 1));
        assert_eq!(d.queue, "billing");
        assert_eq!(d.skills, vec![need("billing", 4)]);
        assert_eq!(d.strategy, Strategy::BestSkill);

        let vip = TaskFacts {
            tags: vec!["vip".to_owned()],
            ..facts()
        };
        assert_eq!(rules.decide(&vip).expect("match").rule, "vip");
        let english = TaskFacts {
            language: "en".to_owned(),
            ..facts()
        };
        assert_eq!(rules.decide(&english).expect("match").rule, "everyone");
        let no_intent = TaskFacts {
            intent: None,
            ..facts()
        };
        assert_eq!(rules.decide(&no_intent).expect("match").rule, "everyone");
    }

    #[test]
    fn overflow_steps_widen_the_target_as_the_wait_grows() {
        let rules = compile(&doc(), &skills()).expect("valid");
        let at = |wait_secs| {
            rules
                .decide(&TaskFacts {
                    wait_secs,
                    ..facts()
                })
                .expect("match")
        };
        assert_eq!(
            (at(29).overflow_step, at(29).skills),
            (None, vec![need("billing", 4)])
        );
        assert_eq!(
            (at(30).overflow_step, at(30).skills),
            (Some(0), vec![need("billing", 2)])
        );
        assert_eq!(at(90).skills, vec![need("billing", 1)]);
        let last = at(300);
        assert_eq!(
            (last.overflow_step, last.queue.as_str()),
            (Some(2), "general")
        );
        assert!(last.skills.is_empty());
        // Aging: 2 per minute waited.
        assert_eq!(at(0).priority, 0);
        assert_eq!(at(300).priority, 10);
    }

    #[test]
    fn every_problem_is_reported_at_once_with_its_place() {
        let bad: RuleSetDoc = serde_json::from_value(serde_json::json!({
            "rules": [
                {"name": "a", "when": "colour == 'red'", "queue": "q"},
                {"name": "a", "when": "intent ==", "queue": "",
                 "skills": [{"name": "juggling", "min_level": 7}]},
                {"name": "all", "queue": "q",
                 "overflow": [{"after_secs": 60}, {"after_secs": 30}]},
                {"name": "late", "when": "tier == 'vip'", "queue": "q"}
            ]
        }))
        .expect("document");
        let problems = compile(&bad, &skills()).expect_err("invalid");
        let places: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        for expected in [
            "rules[0].when",
            "rules[1].name",
            "rules[1].queue",
            "rules[1].when",
            "rules[1].skills[0].name",
            "rules[1].skills[0].min_level",
            "rules[2].overflow[1].after_secs",
            "rules[3].when",
        ] {
            assert!(
                places.contains(&expected),
                "{expected} missing from {problems:#?}"
            );
        }
        let text = |path: &str| {
            problems
                .iter()
                .filter(|p| p.path == path)
                .map(|p| p.message.clone())
                .collect::<Vec<_>>()
                .join(" | ")
        };
        assert!(text("rules[0].when").contains("unknown attribute 'colour'"));
        assert!(text("rules[1].when").contains("does not parse"));
        assert!(text("rules[3].when").contains("unreachable"));
        assert!(text("rules[1].skills[0].name").contains("juggling"));
    }

    #[test]
    fn an_empty_set_and_a_copied_condition_are_refused() {
        let empty = RuleSetDoc { rules: vec![] };
        assert_eq!(
            compile(&empty, &skills()).expect_err("empty")[0].path,
            "rules"
        );
        let copies: RuleSetDoc = serde_json::from_value(serde_json::json!({
            "rules": [
                {"name": "one", "when": "channel == 'sms'", "queue": "q"},
                {"name": "two", "when": "channel ==  'sms'", "queue": "r"}
            ]
        }))
        .expect("document");
        let problems = compile(&copies, &skills()).expect_err("copy");
        assert!(
            problems[0].message.contains("same condition"),
            "{problems:?}"
        );
    }

    #[test]
    fn documents_refuse_unknown_fields() {
        let typo = serde_json::json!({"rules": [{"name": "x", "queue": "q", "priorty": 3}]});
        assert!(serde_json::from_value::<RuleSetDoc>(typo).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        /// A supervisor's condition, however broken, is an answer, never a crash.
        #[test]
        fn any_condition_text_is_accepted_or_refused_without_panicking(
            when in r#"[a-z_ 0-9'"=!<>&|()\[\].,+*/%?:-]{0,40}"#
        ) {
            let doc = RuleSetDoc {
                rules: vec![RuleDoc {
                    name: "r".to_owned(),
                    when,
                    queue: "q".to_owned(),
                    skills: vec![],
                    priority: 0,
                    aging_per_minute: 0,
                    overflow: vec![],
                    strategy: Strategy::default(),
                }],
            };
            if let Ok(rules) = compile(&doc, &skills()) {
                drop(rules.decide(&facts()));
            }
        }

        /// Waiting longer never lowers the priority nor narrows the target back.
        #[test]
        fn decisions_only_widen_and_rise_with_the_wait(a in 0u64..2_000, b in 0u64..2_000) {
            let rules = compile(&doc(), &skills()).expect("valid");
            let (short, long) = (a.min(b), a.max(b));
            let at = |wait_secs| rules.decide(&TaskFacts { wait_secs, ..facts() }).expect("match");
            let (d1, d2) = (at(short), at(long));
            prop_assert_eq!(d1.rule_index, d2.rule_index);
            prop_assert!(d2.priority >= d1.priority);
            prop_assert!(d2.overflow_step >= d1.overflow_step);
            let level = |d: &Decision| d.skills.iter().map(|s| s.min_level).max().unwrap_or(0);
            prop_assert!(level(&d2) <= level(&d1));
        }
    }
}
