//! Routing rules: the supervisors' rule-set document and its pure evaluation.
//!
//! A rule set is an ordered list of rules. Each rule has:
//! - a condition written in CEL (the Common Expression Language, through the `cel` crate)
//!   over the task's attributes ([`ATTRIBUTES`]);
//! - a target: a queue and the required skills with minimum levels;
//! - a static priority plus aging per minute waited;
//! - overflow steps that replace the target after a wait ("bullseye": experts first, then
//!   anyone with the skill, then a fallback queue);
//! - an agent-selection strategy and how long a returning customer's previous agent is
//!   preferred ("sticky").
//!
//! Queues may have opening hours, holidays, a maximum wait and a fallback (callback, ticket,
//! bot message). A rule whose queue is closed is passed over for the next matching one.
//! Supervisors' temporary [`Override`]s retarget a rule until they expire.
//!
//! [`compile`] validates a document and reports *every* problem at once, each with its place
//! (`rules[2].when`). [`CompiledRules::decide`] picks the first matching rule and applies the
//! overflow step reached at the task's wait. Both are pure: no clock, no I/O (the wait and the
//! time of day come in as facts), so the live dispatcher and a dry-run simulation give the same
//! answer for the same input.

use std::collections::{BTreeMap, BTreeSet};

use cel::{Context, Program, Value};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

pub use crate::domain::Problem;
pub use crate::routing::policy::Strategy;

/// The task attributes a condition may use.
pub const ATTRIBUTES: [&str; 9] = [
    "channel",   // "web", "app", "wechat", "sms", "ivr"
    "intent",    // the bot's intent, or null
    "language",  // "zh", "en"
    "tier",      // "standard", "vip"
    "tags",      // the customer's tags, a list of strings
    "wait_secs", // seconds the task has waited
    "hour",      // hour of day 0–23, UTC (queue calendars have their own UTC offset)
    "weekday",   // 1 = Monday … 7 = Sunday, UTC
    "queue",     // the queue the task is in now ("" before routing)
];

/// The longest wait a rule may speak of (overflow steps, maximum waits): seven days.
pub const MAX_WAIT_SECS: u64 = 7 * 24 * 3600;
/// The longest sticky window: an hour.
pub const MAX_STICKY_SECS: u64 = 3600;

/// Skill levels run from 1 (basic) to 5 (expert).
pub const SKILL_LEVELS: std::ops::RangeInclusive<u8> = 1..=5;

/// A rule-set document, as supervisors write it (JSON, or TOML for files).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = RuleSet)]
pub struct RuleSetDoc {
    /// Tried in order; the first whose condition holds routes the task.
    pub rules: Vec<RuleDoc>,
    /// Opening hours, maximum wait and fallback per queue (a queue not listed is always open
    /// and waits without limit).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub queues: BTreeMap<String, QueueDoc>,
}

/// A queue's calendar and patience.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QueueDoc {
    /// When the queue takes tasks (local time); empty: always.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(inline)]
    pub hours: Vec<OpenHours>,
    /// The queue's time zone as an offset from UTC in minutes (China: 480).
    #[serde(default)]
    #[schema(minimum = -840, maximum = 840)]
    pub utc_offset_minutes: i32,
    /// Days the queue is closed all day, `YYYY-MM-DD` (local).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<chrono::NaiveDate>)]
    pub holidays: Vec<String>,
    /// A task waiting longer leaves the queue for its fallback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, minimum = 1, maximum = 604_800)]
    pub max_wait_secs: Option<u64>,
    /// What happens to a task past its maximum wait, or routed here while closed.
    #[serde(default)]
    #[schema(default = json!("callback"))]
    pub fallback: Fallback,
}

/// One opening period: on these weekdays (1 = Monday … 7 = Sunday) from `from` to `to`
/// (`HH:MM`, local, `to` exclusive).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenHours {
    #[schema(schema_with = days_schema)]
    pub days: Vec<u8>,
    /// HH:MM, local
    #[schema(pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$")]
    pub from: String,
    /// HH:MM, local, exclusive, after from (24:00: midnight)
    #[schema(pattern = "^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$")]
    pub to: String,
}

/// The schema of [`OpenHours::days`] (OpenAPI): weekdays 1 to 7, at least one.
fn days_schema() -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(1))
                .maximum(Some(7)),
        )
        .min_items(Some(1))
        .description(Some("1 = Monday … 7 = Sunday"))
        .build()
}

/// Where a task goes when no agent can take it in time.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Fallback {
    /// Record a callback request; the customer is told someone will call back.
    #[default]
    Callback,
    /// Open a ticket; the customer is told they will be answered by message.
    Ticket,
    /// Back to the bot, with an apology.
    BotMessage,
}

impl Fallback {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Fallback::Callback => "callback",
            Fallback::Ticket => "ticket",
            Fallback::BotMessage => "bot_message",
        }
    }
}

/// A supervisor's temporary change of one rule's target ("overflow billing to general for
/// two hours"). It ends by itself at `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Override {
    pub id: String,
    /// The rule (by name) whose target is replaced.
    pub rule: String,
    pub target: OverrideTarget,
    pub expires_at: DateTime<Utc>,
}

/// The replacement target: a queue and/or skills (absent: unchanged).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(min_properties = 1)]
pub struct OverrideTarget {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, pattern = r"\S")]
    pub queue: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub skills: Option<Vec<SkillNeed>>,
}

/// One routing rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Rule)]
pub struct RuleDoc {
    /// Unique within the set; shown in routing explanations.
    #[schema(pattern = r"\S")]
    pub name: String,
    /// CEL condition over [`ATTRIBUTES`]; `true` (the default) matches every task.
    #[serde(default = "always")]
    pub when: String,
    /// The queue the task joins.
    #[schema(pattern = r"\S")]
    pub queue: String,
    /// Skills an agent needs, each at a minimum level. Absent: the skills the hand-off asked
    /// for (the bot's); `[]`: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub skills: Option<Vec<SkillNeed>>,
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
    #[schema(default = json!("least_occupied"))]
    pub strategy: Strategy,
    /// For this long, a task of a customer served before is offered only to their previous
    /// agent (absent: the `routing.sticky_agent_ms` setting).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, maximum = 3600)]
    pub sticky_secs: Option<u64>,
}

fn always() -> String {
    "true".to_owned()
}

/// A skill and its minimum level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SkillNeed {
    pub name: String,
    #[schema(minimum = 1, maximum = 5)]
    pub min_level: u8,
}

/// A widened target after a wait.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OverflowStep {
    /// Seconds of waiting after which this step applies.
    #[schema(maximum = 604_800)]
    pub after_secs: u64,
    /// The skills required from then on (empty: any agent speaking the language).
    #[serde(default)]
    pub skills: Vec<SkillNeed>,
    /// Another queue from then on; unchanged when absent.
    #[serde(default)]
    pub queue: Option<String>,
}

/// A validated rule set, ready to decide.
#[derive(Debug)]
pub struct CompiledRules {
    rules: Vec<CompiledRule>,
    queues: BTreeMap<String, CompiledQueue>,
    /// Some condition reads `wait_secs`: any second of waiting may change a decision.
    reads_wait: bool,
    /// Some condition reads `hour` or `weekday`, or some queue has a calendar: the time of
    /// day may change a decision.
    reads_clock: bool,
    /// Some condition reads `queue` (the task's queue so far): a new queue may change the
    /// next decision.
    reads_queue: bool,
}

/// When a decision may next change by itself (nothing else about the task changing): after
/// the task has waited `wait_secs`, or at `at`, whichever comes first. None for both: never.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Review {
    pub wait_secs: Option<u64>,
    pub at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
struct CompiledQueue {
    hours: Vec<(BTreeSet<u8>, NaiveTime, NaiveTime)>,
    offset: Duration,
    holidays: BTreeSet<NaiveDate>,
    max_wait_secs: Option<u64>,
    fallback: Fallback,
}

impl CompiledQueue {
    fn is_open(&self, at: DateTime<Utc>) -> bool {
        let local = at.naive_utc() + self.offset;
        if self.holidays.contains(&local.date()) {
            return false;
        }
        if self.hours.is_empty() {
            return true;
        }
        let day = u8::try_from(local.weekday().number_from_monday()).unwrap_or(0);
        let time = local.time();
        self.hours
            .iter()
            .any(|(days, from, to)| days.contains(&day) && *from <= time && time < *to)
    }
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
    /// The moment of the decision (for opening hours and overrides).
    pub at: DateTime<Utc>,
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
    /// None: the hand-off's own skills.
    pub skills: Option<Vec<SkillNeed>>,
    /// Static priority plus aging for the time waited.
    pub priority: i64,
    pub strategy: Strategy,
    /// The rule's sticky window, when it sets one.
    pub sticky_secs: Option<u64>,
    /// False when every matching rule's queue is closed at `facts.at`: the task goes to
    /// `fallback` at once.
    pub open: bool,
    /// The queue's maximum wait and what follows it.
    pub max_wait_secs: Option<u64>,
    pub fallback: Fallback,
    /// The supervisor's override in force, when one replaced the target.
    pub override_id: Option<String>,
}

/// The queue of tasks routed without a rule set (or matched by no rule).
pub const DEFAULT_QUEUE: &str = "default";

impl Decision {
    /// The required skills as the routing policy takes them: the decision's, or the
    /// hand-off's (`own`) when the rule names none.
    pub fn required_skills(
        &self,
        own: &[crate::domain::SkillRequirement],
    ) -> Vec<crate::domain::SkillRequirement> {
        match &self.skills {
            Some(skills) => skills
                .iter()
                .map(|need| crate::domain::SkillRequirement {
                    name: need.name.clone(),
                    min_level: need.min_level,
                })
                .collect(),
            None => own.to_vec(),
        }
    }

    /// The task's priority: its hand-off priority plus the rule's (with aging).
    pub fn priority_over(&self, base: crate::domain::Priority) -> crate::domain::Priority {
        let bonus = i32::try_from(self.priority).unwrap_or(if self.priority < 0 {
            i32::MIN
        } else {
            i32::MAX
        });
        crate::domain::Priority(base.0.saturating_add(bonus))
    }

    /// True when the task leaves for the fallback now: its queue is closed, or it waited
    /// past the queue's maximum. Never while an offer is out: the offer is let run (an agent
    /// may be accepting it), and the task is judged again when it ends.
    pub fn sends_to_fallback(&self, wait_secs: u64, offered: bool) -> bool {
        !offered && (!self.open || self.max_wait_secs.is_some_and(|max| wait_secs >= max))
    }

    /// The sticky window in milliseconds: the rule's, else `default_ms`.
    pub fn sticky_ms(&self, default_ms: u64) -> u64 {
        self.sticky_secs
            .map_or(default_ms, |secs| secs.saturating_mul(1000))
    }
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
            rule.skills.as_deref().unwrap_or_default(),
            &format!("{at}.skills"),
            known_skills,
            &mut problems,
        );
        if rule.sticky_secs.is_some_and(|s| s > MAX_STICKY_SECS) {
            problems.push(Problem::new(
                format!("{at}.sticky_secs"),
                format!("at most {MAX_STICKY_SECS} s (one hour)"),
            ));
        }
        check_overflow(rule, &at, known_skills, &mut problems);
        if let Some(rule) = compile_condition(rule, &at, &mut problems) {
            compiled.push(rule);
        }
    }
    let mut queues = BTreeMap::new();
    for (name, queue) in &doc.queues {
        if let Some(compiled) = check_queue(name, queue, &mut problems) {
            queues.insert(name.clone(), compiled);
        }
    }
    if problems.is_empty() {
        let reads = |names: &[&str]| {
            compiled.iter().any(|rule| {
                rule.condition
                    .references()
                    .variables()
                    .iter()
                    .any(|v| names.contains(v))
            })
        };
        let reads_wait = reads(&["wait_secs"]);
        let reads_queue = reads(&["queue"]);
        let reads_clock = reads(&["hour", "weekday"])
            || queues
                .values()
                .any(|q| !q.hours.is_empty() || !q.holidays.is_empty());
        Ok(CompiledRules {
            rules: compiled,
            queues,
            reads_wait,
            reads_clock,
            reads_queue,
        })
    } else {
        Err(problems)
    }
}

/// Checks a rule's overflow steps: each within the maximum wait and longer than the one
/// before, with known skills and no empty queue name.
fn check_overflow(
    rule: &RuleDoc,
    at: &str,
    known_skills: &BTreeSet<String>,
    problems: &mut Vec<Problem>,
) {
    let mut previous_after = 0;
    for (k, step) in rule.overflow.iter().enumerate() {
        if step.after_secs > MAX_WAIT_SECS {
            problems.push(Problem::new(
                format!("{at}.overflow[{k}].after_secs"),
                format!("at most {MAX_WAIT_SECS} s (seven days)"),
            ));
        }
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
            problems,
        );
        if step.queue.as_deref().is_some_and(|q| q.trim().is_empty()) {
            problems.push(Problem::new(
                format!("{step_at}.queue"),
                "an empty queue name",
            ));
        }
    }
}

/// Compiles a rule's CEL condition, reporting a condition that does not parse or reads an
/// attribute a task does not have.
fn compile_condition(
    rule: &RuleDoc,
    at: &str,
    problems: &mut Vec<Problem>,
) -> Option<CompiledRule> {
    let program = match Program::compile(&rule.when) {
        Ok(program) => program,
        Err(error) => {
            problems.push(Problem::new(
                format!("{at}.when"),
                format!("the condition does not parse: {error}"),
            ));
            return None;
        }
    };
    for name in program
        .references()
        .variables()
        .into_iter()
        .filter(|v| !ATTRIBUTES.contains(v))
    {
        problems.push(Problem::new(
            format!("{at}.when"),
            format!(
                "unknown attribute '{name}' (known: {})",
                ATTRIBUTES.join(", ")
            ),
        ));
    }
    Some(CompiledRule {
        doc: rule.clone(),
        condition: program,
    })
}

fn check_queue(name: &str, queue: &QueueDoc, problems: &mut Vec<Problem>) -> Option<CompiledQueue> {
    let at = format!("queues.{name}");
    let before = problems.len();
    if name.trim().is_empty() {
        problems.push(Problem::new(&at, "an empty queue name"));
    }
    let time = |text: &str, path: String, problems: &mut Vec<Problem>| {
        let parsed = NaiveTime::parse_from_str(text, "%H:%M").ok();
        if parsed.is_none() && text != "24:00" {
            problems.push(Problem::new(path, format!("'{text}' is not a time HH:MM")));
        }
        // "24:00" closes at midnight.
        Some(parsed.unwrap_or_else(|| {
            NaiveTime::from_hms_nano_opt(23, 59, 59, 999_999_999).unwrap_or_default()
        }))
    };
    let mut hours = Vec::new();
    for (k, period) in queue.hours.iter().enumerate() {
        let p = format!("{at}.hours[{k}]");
        if period.days.is_empty() {
            problems.push(Problem::new(
                format!("{p}.days"),
                "name at least one weekday (1 = Monday … 7 = Sunday)",
            ));
        }
        for (d, day) in period.days.iter().enumerate() {
            if !(1..=7).contains(day) {
                problems.push(Problem::new(
                    format!("{p}.days[{d}]"),
                    format!("weekdays run from 1 (Monday) to 7 (Sunday), not {day}"),
                ));
            }
        }
        let from = time(&period.from, format!("{p}.from"), problems);
        let to = time(&period.to, format!("{p}.to"), problems);
        if let (Some(from), Some(to)) = (from, to) {
            if from >= to {
                problems.push(Problem::new(
                    format!("{p}.to"),
                    format!("closes ({}) before it opens ({})", period.to, period.from),
                ));
            }
            hours.push((period.days.iter().copied().collect(), from, to));
        }
    }
    if !(-14 * 60..=14 * 60).contains(&queue.utc_offset_minutes) {
        problems.push(Problem::new(
            format!("{at}.utc_offset_minutes"),
            "an offset from UTC is between -840 and 840 minutes",
        ));
    }
    let mut holidays = BTreeSet::new();
    for (k, day) in queue.holidays.iter().enumerate() {
        match NaiveDate::parse_from_str(day, "%Y-%m-%d") {
            Ok(date) => {
                holidays.insert(date);
            }
            Err(_) => problems.push(Problem::new(
                format!("{at}.holidays[{k}]"),
                format!("'{day}' is not a date YYYY-MM-DD"),
            )),
        }
    }
    if queue.max_wait_secs.is_some_and(|m| m > MAX_WAIT_SECS) {
        problems.push(Problem::new(
            format!("{at}.max_wait_secs"),
            format!("at most {MAX_WAIT_SECS} s (seven days)"),
        ));
    }
    if queue.max_wait_secs == Some(0) {
        problems.push(Problem::new(
            format!("{at}.max_wait_secs"),
            "a maximum wait must be at least one second",
        ));
    }
    (problems.len() == before).then(|| CompiledQueue {
        hours,
        offset: Duration::minutes(i64::from(queue.utc_offset_minutes)),
        holidays,
        max_wait_secs: queue.max_wait_secs,
        fallback: queue.fallback,
    })
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
                .flatten()
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
    ///
    /// A rule whose (overflowed or overridden) queue is closed at `facts.at` is passed over;
    /// when every matching rule's queue is closed, the first of them is returned with
    /// `open: false`. `overrides` not yet expired at `facts.at` replace their rule's target.
    pub fn decide(&self, facts: &TaskFacts, overrides: &[Override]) -> Option<Decision> {
        let context = context_of(facts);
        let mut closed = None;
        for (index, rule) in self.rules.iter().enumerate() {
            if !matches!(rule.condition.execute(&context), Ok(Value::Bool(true))) {
                continue;
            }
            let mut decision = decision(index, &rule.doc, facts.wait_secs);
            // The newest override in force wins (overrides come oldest first).
            if let Some(found) = overrides
                .iter()
                .rev()
                .find(|o| o.rule == rule.doc.name && facts.at < o.expires_at)
            {
                if let Some(queue) = &found.target.queue {
                    decision.queue.clone_from(queue);
                }
                if let Some(skills) = &found.target.skills {
                    decision.skills = Some(skills.clone());
                }
                decision.override_id = Some(found.id.clone());
            }
            let queue = self.queues.get(&decision.queue);
            decision.max_wait_secs = queue.and_then(|q| q.max_wait_secs);
            decision.fallback = queue.map(|q| q.fallback).unwrap_or_default();
            if queue.is_none_or(|q| q.is_open(facts.at)) {
                return Some(decision);
            }
            if closed.is_none() {
                decision.open = false;
                closed = Some(decision);
            }
        }
        closed
    }

    /// The earliest moment at which `decision` (made with `facts`) can change without any new
    /// event: the next overflow step, the next minute of aging, the maximum wait, the end of
    /// the override in force, the next minute of the clock when conditions or calendars read
    /// it, the next second when conditions read the wait. The simulation re-decides a task
    /// then, instead of every tick.
    pub fn next_review(
        &self,
        decision: Option<&Decision>,
        facts: &TaskFacts,
        overrides: &[Override],
    ) -> Review {
        let wait = facts.wait_secs;
        let mut after: Vec<u64> = Vec::new();
        let queue_moved = decision.is_some_and(|d| d.queue != facts.queue);
        if self.reads_wait || (self.reads_queue && queue_moved) {
            after.push(wait + 1);
        }
        // The rules tried before the chosen one (passed over for a closed queue, they may
        // overflow to an open one) and the chosen one; every rule when none matched or all
        // were closed.
        let considered = match decision {
            Some(d) if d.open => self.rules.get(..=d.rule_index).unwrap_or(&self.rules),
            _ => &self.rules[..],
        };
        for rule in considered {
            let rule = &rule.doc;
            after.extend(
                rule.overflow
                    .iter()
                    .map(|s| s.after_secs)
                    .find(|a| *a > wait),
            );
        }
        if let Some(decision) = decision {
            if let Some(rule) = self.rules.get(decision.rule_index) {
                if rule.doc.aging_per_minute != 0 {
                    after.push((wait / 60 + 1) * 60);
                }
            }
            after.extend(decision.max_wait_secs.filter(|m| *m > wait));
        }
        let mut at: Vec<DateTime<Utc>> = overrides
            .iter()
            .filter(|o| considered.iter().any(|r| r.doc.name == o.rule))
            .map(|o| o.expires_at)
            .filter(|t| *t > facts.at)
            .collect();
        if self.reads_clock {
            let minute = facts.at.timestamp().div_euclid(60) + 1;
            at.extend(DateTime::from_timestamp(minute * 60, 0));
        }
        Review {
            wait_secs: after.into_iter().min(),
            at: at.into_iter().min(),
        }
    }

    /// True when `name` is a rule of this set.
    pub fn has_rule(&self, name: &str) -> bool {
        self.rules.iter().any(|r| r.doc.name == name)
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
            Some(s.skills.clone()),
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
        sticky_secs: rule.sticky_secs,
        open: true,
        max_wait_secs: None,
        fallback: Fallback::default(),
        override_id: None,
    }
}

/// How a rule or queue differs between two versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChangeOp {
    Added,
    Removed,
    /// Some fields differ (listed in `fields`; `position` when it also moved).
    Changed,
    /// Only its position in the order changed.
    Moved,
}

/// One difference between two rule sets: a rule (`rules.<name>`) or a queue
/// (`queues.<name>`), with its value before and after.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = RuleChange)]
pub struct Change {
    #[schema(inline)]
    pub op: ChangeOp,
    /// `rules.<name>` or `queues.<name>`
    pub path: String,
    /// The rule or queue before (null when added)
    #[schema(required = true)]
    pub before: Option<serde_json::Value>,
    /// The rule or queue after (null when removed)
    #[schema(required = true)]
    pub after: Option<serde_json::Value>,
    /// Top-level fields that differ (and `position` when it also moved)
    pub fields: Vec<String>,
}

/// What changed from `old` to `new`: rules matched by name (in `new`'s order, removed ones
/// last), then queues by name.
pub fn diff(old: &RuleSetDoc, new: &RuleSetDoc) -> Vec<Change> {
    let mut changes = Vec::new();
    let old_rules: BTreeMap<&str, (usize, &RuleDoc)> = old
        .rules
        .iter()
        .enumerate()
        .map(|(i, r)| (r.name.as_str(), (i, r)))
        .collect();
    let new_names: BTreeSet<&str> = new.rules.iter().map(|r| r.name.as_str()).collect();
    // Positions relative to the rules both versions have, so one insertion is not reported
    // as every later rule moving.
    let kept_old: Vec<&str> = old
        .rules
        .iter()
        .map(|r| r.name.as_str())
        .filter(|n| new_names.contains(n))
        .collect();
    let kept_new: Vec<&str> = new
        .rules
        .iter()
        .map(|r| r.name.as_str())
        .filter(|n| old_rules.contains_key(n))
        .collect();
    for rule in &new.rules {
        let path = format!("rules.{}", rule.name);
        match old_rules.get(rule.name.as_str()) {
            None => changes.push(Change {
                op: ChangeOp::Added,
                path,
                before: None,
                after: Some(value(rule)),
                fields: Vec::new(),
            }),
            Some((_, before)) => {
                let mut fields = changed_fields(&value(*before), &value(rule));
                let moved = kept_old.iter().position(|n| *n == rule.name)
                    != kept_new.iter().position(|n| *n == rule.name);
                let op = match (fields.is_empty(), moved) {
                    (true, false) => continue,
                    (true, true) => ChangeOp::Moved,
                    (false, moved) => {
                        if moved {
                            fields.push("position".to_owned());
                        }
                        ChangeOp::Changed
                    }
                };
                changes.push(Change {
                    op,
                    path,
                    before: Some(value(*before)),
                    after: Some(value(rule)),
                    fields,
                });
            }
        }
    }
    for rule in &old.rules {
        if !new_names.contains(rule.name.as_str()) {
            changes.push(Change {
                op: ChangeOp::Removed,
                path: format!("rules.{}", rule.name),
                before: Some(value(rule)),
                after: None,
                fields: Vec::new(),
            });
        }
    }
    let names: BTreeSet<&String> = old.queues.keys().chain(new.queues.keys()).collect();
    for name in names {
        let (before, after) = (old.queues.get(name), new.queues.get(name));
        let (op, fields) = match (before, after) {
            (None, Some(_)) => (ChangeOp::Added, Vec::new()),
            (Some(_), None) => (ChangeOp::Removed, Vec::new()),
            (Some(b), Some(a)) if b != a => {
                (ChangeOp::Changed, changed_fields(&value(b), &value(a)))
            }
            _ => continue,
        };
        changes.push(Change {
            op,
            path: format!("queues.{name}"),
            before: before.map(value),
            after: after.map(value),
            fields,
        });
    }
    changes
}

/// Top-level fields whose values differ between two JSON objects.
fn changed_fields(before: &serde_json::Value, after: &serde_json::Value) -> Vec<String> {
    let empty = serde_json::Map::new();
    let (b, a) = (
        before.as_object().unwrap_or(&empty),
        after.as_object().unwrap_or(&empty),
    );
    let keys: BTreeSet<&String> = b.keys().chain(a.keys()).collect();
    keys.into_iter()
        .filter(|k| b.get(*k) != a.get(*k))
        .cloned()
        .collect()
}

/// A document part as JSON (plain data: it always serialises).
fn value<T: Serialize>(part: &T) -> serde_json::Value {
    serde_json::to_value(part).unwrap_or(serde_json::Value::Null)
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
    use chrono::Timelike;
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
            at: "2026-11-24T02:00:00Z".parse().expect("time"),
        }
    }

    #[test]
    fn the_first_matching_rule_routes_the_task() {
        let rules = compile(&doc(), &skills()).expect("valid");
        let d = rules.decide(&facts(), &[]).expect("a rule matches");
        assert_eq!((d.rule.as_str(), d.rule_index), ("billing", 1));
        assert_eq!(d.queue, "billing");
        assert_eq!(d.skills, Some(vec![need("billing", 4)]));
        assert_eq!(d.strategy, Strategy::BestSkill);

        let vip = TaskFacts {
            tags: vec!["vip".to_owned()],
            ..facts()
        };
        assert_eq!(rules.decide(&vip, &[]).expect("match").rule, "vip");
        let english = TaskFacts {
            language: "en".to_owned(),
            ..facts()
        };
        assert_eq!(rules.decide(&english, &[]).expect("match").rule, "everyone");
        let no_intent = TaskFacts {
            intent: None,
            ..facts()
        };
        assert_eq!(
            rules.decide(&no_intent, &[]).expect("match").rule,
            "everyone"
        );
    }

    #[test]
    fn overflow_steps_widen_the_target_as_the_wait_grows() {
        let rules = compile(&doc(), &skills()).expect("valid");
        let at = |wait_secs| {
            rules
                .decide(
                    &TaskFacts {
                        wait_secs,
                        ..facts()
                    },
                    &[],
                )
                .expect("match")
        };
        assert_eq!(
            (at(29).overflow_step, at(29).skills),
            (None, Some(vec![need("billing", 4)]))
        );
        assert_eq!(
            (at(30).overflow_step, at(30).skills),
            (Some(0), Some(vec![need("billing", 2)]))
        );
        assert_eq!(at(90).skills, Some(vec![need("billing", 1)]));
        let last = at(300);
        assert_eq!(
            (last.overflow_step, last.queue.as_str()),
            (Some(2), "general")
        );
        assert_eq!(last.skills, Some(vec![]));
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
        let empty = RuleSetDoc {
            rules: vec![],
            queues: BTreeMap::new(),
        };
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
    fn a_closed_queue_passes_the_task_to_the_next_rule_or_to_its_fallback() {
        let doc: RuleSetDoc = serde_json::from_value(serde_json::json!({
            "rules": [
                {"name": "billing", "when": "intent == 'billing'", "queue": "billing"},
                {"name": "night", "when": "hour >= 12", "queue": "night"}
            ],
            "queues": {
                "billing": {"hours": [{"days": [1,2,3,4,5], "from": "09:00", "to": "18:00"}],
                            "utc_offset_minutes": 480, "holidays": ["2026-10-01"],
                            "max_wait_secs": 600, "fallback": "ticket"},
                "night": {"hours": [{"days": [1,2,3,4,5,6,7], "from": "18:00", "to": "24:00"}],
                          "utc_offset_minutes": 480}
            }
        }))
        .expect("document");
        let rules = compile(&doc, &skills()).expect("valid");
        let at = |utc: &str| {
            let at: DateTime<Utc> = utc.parse().expect("time");
            rules
                .decide(
                    &TaskFacts {
                        at,
                        hour: at.hour(),
                        ..facts()
                    },
                    &[],
                )
                .expect("a rule")
        };
        // Tuesday 10:00 in Beijing (02:00 UTC): billing is open.
        let open = at("2026-11-24T02:00:00Z");
        assert_eq!((open.queue.as_str(), open.open), ("billing", true));
        assert_eq!(
            (open.max_wait_secs, open.fallback),
            (Some(600), Fallback::Ticket)
        );
        // Tuesday 19:00 in Beijing (11:00 UTC... hour 11 fails 'night'): closed everywhere.
        let closed = at("2026-11-24T11:00:00Z");
        assert_eq!((closed.queue.as_str(), closed.open), ("billing", false));
        assert_eq!(closed.fallback, Fallback::Ticket);
        // Tuesday 20:30 in Beijing (12:30 UTC): billing closed, the night rule takes it.
        let night = at("2026-11-24T12:30:00Z");
        assert_eq!((night.queue.as_str(), night.open), ("night", true));
        // A holiday closes a weekday.
        assert!(!at("2026-10-01T02:00:00Z").open);
    }

    #[test]
    fn a_task_falls_back_past_its_maximum_wait_or_when_closed_but_never_during_an_offer() {
        let rules = compile(&doc(), &skills()).expect("valid");
        let mut d = rules.decide(&facts(), &[]).expect("match");
        d.max_wait_secs = Some(60);
        assert!(!d.sends_to_fallback(59, false));
        assert!(d.sends_to_fallback(60, false));
        assert!(!d.sends_to_fallback(600, true), "an offer out is let run");
        d.max_wait_secs = None;
        d.open = false;
        assert!(d.sends_to_fallback(0, false));
        assert!(!d.sends_to_fallback(0, true));
    }

    #[test]
    fn the_next_review_is_the_next_moment_a_decision_can_change() {
        let rules = compile(&doc(), &skills()).expect("valid");
        let at = |wait_secs| TaskFacts {
            wait_secs,
            ..facts()
        };
        let review = |wait_secs| {
            let f = at(wait_secs);
            rules.next_review(rules.decide(&f, &[]).as_ref(), &f, &[])
        };
        // Overflow steps at 30, 90, 300 s; aging every minute; nothing reads the clock.
        assert_eq!(
            review(10),
            Review {
                wait_secs: Some(30),
                at: None
            }
        );
        assert_eq!(review(45).wait_secs, Some(60));
        assert_eq!(review(61).wait_secs, Some(90));
        assert_eq!(review(400).wait_secs, Some(420));
        // A condition on the wait: every second; on the hour: the next minute of the clock.
        let mut by_wait = doc();
        by_wait.rules[0].when = "wait_secs > 100".to_owned();
        let rules = compile(&by_wait, &skills()).expect("valid");
        let f = TaskFacts {
            intent: None,
            ..at(7)
        };
        let d = rules.decide(&f, &[]).expect("match");
        assert_eq!(rules.next_review(Some(&d), &f, &[]).wait_secs, Some(8));
        let mut by_hour = doc();
        by_hour.rules[0].when = "hour >= 22".to_owned();
        let rules = compile(&by_hour, &skills()).expect("valid");
        let f = TaskFacts {
            intent: None,
            at: "2026-11-24T02:00:30Z".parse().expect("t"),
            ..at(0)
        };
        let d = rules.decide(&f, &[]).expect("match");
        assert_eq!(
            rules.next_review(Some(&d), &f, &[]).at,
            Some("2026-11-24T02:01:00Z".parse().expect("t"))
        );
    }

    #[test]
    fn an_override_retargets_its_rule_until_it_expires() {
        let rules = compile(&doc(), &skills()).expect("valid");
        let now = facts().at;
        let o = Override {
            id: "ovr_1".to_owned(),
            rule: "billing".to_owned(),
            target: OverrideTarget {
                queue: Some("general".to_owned()),
                skills: Some(vec![]),
            },
            expires_at: now + Duration::hours(2),
        };
        let d = rules
            .decide(&facts(), std::slice::from_ref(&o))
            .expect("match");
        assert_eq!((d.queue.as_str(), d.skills), ("general", Some(vec![])));
        assert_eq!(d.override_id.as_deref(), Some("ovr_1"));
        let later = TaskFacts {
            at: now + Duration::hours(2),
            ..facts()
        };
        let d = rules
            .decide(&later, std::slice::from_ref(&o))
            .expect("match");
        assert_eq!((d.queue.as_str(), d.override_id), ("billing", None));
        // An override of another rule changes nothing here.
        let other = Override {
            rule: "vip".to_owned(),
            ..o
        };
        assert_eq!(
            rules.decide(&facts(), &[other]).expect("m").queue,
            "billing"
        );
    }

    #[test]
    fn queue_calendars_are_validated_with_their_places() {
        let bad: RuleSetDoc = serde_json::from_value(serde_json::json!({
            "rules": [{"name": "all", "queue": "q"}],
            "queues": {"q": {"hours": [{"days": [0, 8], "from": "18:00", "to": "9am"},
                                       {"days": [1], "from": "12:00", "to": "11:00"}],
                             "holidays": ["01/10/2026"], "max_wait_secs": 0,
                             "utc_offset_minutes": 9999}}
        }))
        .expect("document");
        let problems = compile(&bad, &skills()).expect_err("invalid");
        let places: BTreeSet<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        for expected in [
            "queues.q.hours[0].days[0]",
            "queues.q.hours[0].days[1]",
            "queues.q.hours[0].to",
            "queues.q.hours[1].to",
            "queues.q.holidays[0]",
            "queues.q.max_wait_secs",
            "queues.q.utc_offset_minutes",
        ] {
            assert!(
                places.contains(expected),
                "{expected} missing from {problems:#?}"
            );
        }
    }

    #[test]
    fn times_are_bounded_so_nothing_overflows() {
        let bad: RuleSetDoc = serde_json::from_value(serde_json::json!({
            "rules": [{"name": "all", "queue": "q", "sticky_secs": 3601,
                       "overflow": [{"after_secs": 604_801}]}],
            "queues": {"q": {"max_wait_secs": 604_801}}
        }))
        .expect("document");
        let problems = compile(&bad, &skills()).expect_err("invalid");
        let places: BTreeSet<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            places,
            BTreeSet::from([
                "rules[0].sticky_secs",
                "rules[0].overflow[0].after_secs",
                "queues.q.max_wait_secs"
            ])
        );
    }

    #[test]
    fn the_newest_override_of_a_rule_wins() {
        let rules = compile(&doc(), &skills()).expect("valid");
        let until = facts().at + Duration::hours(1);
        let to = |id: &str, queue: &str| Override {
            id: id.to_owned(),
            rule: "billing".to_owned(),
            target: OverrideTarget {
                queue: Some(queue.to_owned()),
                skills: None,
            },
            expires_at: until,
        };
        let d = rules
            .decide(&facts(), &[to("old", "general"), to("new", "vip")])
            .expect("match");
        assert_eq!(
            (d.queue.as_str(), d.override_id.as_deref()),
            ("vip", Some("new"))
        );
    }

    #[test]
    fn diffs_name_added_removed_changed_and_moved_rules() {
        let old = doc();
        let mut new = doc();
        new.rules[1].priority = 20; // billing changed
        new.rules.remove(0); // vip removed
        new.rules.insert(
            0,
            RuleDoc {
                name: "sms".to_owned(),
                when: "channel == 'sms'".to_owned(),
                ..new.rules[1].clone()
            },
        );
        new.queues.insert(
            "general".to_owned(),
            QueueDoc {
                hours: vec![],
                utc_offset_minutes: 0,
                holidays: vec![],
                max_wait_secs: Some(60),
                fallback: Fallback::Callback,
            },
        );
        let changes = diff(&old, &new);
        let summary: Vec<(ChangeOp, &str)> =
            changes.iter().map(|c| (c.op, c.path.as_str())).collect();
        assert_eq!(
            summary,
            vec![
                (ChangeOp::Added, "rules.sms"),
                (ChangeOp::Changed, "rules.billing"),
                (ChangeOp::Removed, "rules.vip"),
                (ChangeOp::Added, "queues.general"),
            ]
        );
        assert_eq!(changes[1].fields, vec!["priority"]);
        assert_eq!(
            changes[1]
                .before
                .as_ref()
                .and_then(|b| b["priority"].as_i64()),
            Some(0)
        );
        assert!(diff(&old, &old).is_empty());
        let mut swapped = doc();
        swapped.rules.swap(0, 1);
        let moved: Vec<ChangeOp> = diff(&old, &swapped).iter().map(|c| c.op).collect();
        assert_eq!(moved, vec![ChangeOp::Moved, ChangeOp::Moved]);
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
                    skills: None,
                    priority: 0,
                    aging_per_minute: 0,
                    overflow: vec![],
                    strategy: Strategy::default(),
                    sticky_secs: None,
                }],
                queues: BTreeMap::new(),
            };
            if let Ok(rules) = compile(&doc, &skills()) {
                drop(rules.decide(&facts(), &[]));
            }
        }

        /// Waiting longer never lowers the priority nor narrows the target back.
        #[test]
        fn decisions_only_widen_and_rise_with_the_wait(a in 0u64..2_000, b in 0u64..2_000) {
            let rules = compile(&doc(), &skills()).expect("valid");
            let (short, long) = (a.min(b), a.max(b));
            let at = |wait_secs| rules.decide(&TaskFacts { wait_secs, ..facts() }, &[]).expect("match");
            let (d1, d2) = (at(short), at(long));
            prop_assert_eq!(d1.rule_index, d2.rule_index);
            prop_assert!(d2.priority >= d1.priority);
            prop_assert!(d2.overflow_step >= d1.overflow_step);
            let level = |d: &Decision| d.skills.iter().flatten().map(|s| s.min_level).max().unwrap_or(0);
            prop_assert!(level(&d2) <= level(&d1));
        }
    }
}
