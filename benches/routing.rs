//! Routing decision time with 10k waiting tasks and 2k agents (goal: p99 under 1 ms).
//!
//! Two decisions the dispatcher takes on every event:
//! - `agent_frees_up`: 10k tasks wait, every agent is busy but one, who just finished;
//! - `task_arrives`: 10k tasks wait for skills no free agent has, 200 agents are free, one new
//!   task arrives that some of them can take;
//! - `many_classes_with_declines`: the adversarial version: the 10k tasks spread over ~660
//!   skill/level/language classes, each with an active decline.
//!
//! - `fifty_rules_then_task_arrives`: as `task_arrives`, but first a 50-rule set decides the
//!   arriving task's target, matching only at the last rule (every condition evaluated).
//!
//! Run: `cargo bench --bench routing`. Besides criterion's mean, it prints p50/p99 over
//! individually timed decisions.
// Benchmarks, like tests, may panic on setup failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::time::Instant;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use switchboard::domain::{AgentId, AgentStatus, Language, Priority, SkillRequirement, TaskId};
use switchboard::routing::policy::{plan, AgentState, QueuedTask, Slots, Strategy, TaskQueue};
use switchboard::routing::rules::{compile, RuleSetDoc, TaskFacts};

const SKILLS: [&str; 12] = [
    "billing",
    "refunds",
    "tech",
    "orders",
    "vip",
    "returns",
    "loans",
    "cards",
    "travel",
    "insurance",
    "mobile",
    "fraud",
];

/// Deterministic pseudo-random numbers (no RNG state shared between runs).
fn mix(i: u64) -> u64 {
    let mut x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^= x >> 31;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^ (x >> 29)
}

fn agents(n: usize, free: usize) -> Vec<AgentState> {
    (0..n)
        .map(|i| {
            let r = mix(i as u64);
            let skills: BTreeMap<String, u8> = (0..3)
                .map(|k| {
                    (
                        SKILLS[((r >> (k * 8)) % 12) as usize].to_owned(),
                        1 + ((r >> (k * 4 + 40)) % 5) as u8,
                    )
                })
                .collect();
            AgentState {
                id: AgentId::from_trusted(format!("a{i:05}")),
                status: AgentStatus::Available,
                skills,
                languages: if r.is_multiple_of(3) {
                    vec![Language::En]
                } else {
                    vec![Language::Zh, Language::En]
                },
                capacity: Slots::chats(3),
                load: Slots::chats(if i < free { 1 } else { 3 }),
                idle_since: r % 10_000,
                wrap_up_until: 0,
            }
        })
        .collect()
}

fn task(i: usize, skill: &str, level: u8) -> QueuedTask {
    let r = mix(1_000_000 + i as u64);
    let mut t = QueuedTask::new(
        TaskId::from_trusted(format!("t{i:06}")),
        Priority(match r % 10 {
            0 => 100,
            1 | 2 => 50,
            _ => 0,
        }),
        if r.is_multiple_of(4) {
            Language::En
        } else {
            Language::Zh
        },
        vec![SkillRequirement {
            name: skill.to_owned(),
            min_level: level,
        }],
        i as u64,
        0,
    );
    t.strategy = [
        Strategy::LeastOccupied,
        Strategy::LongestIdle,
        Strategy::BestSkill,
    ][(r % 3) as usize];
    t
}

/// 10k tasks over every skill; all agents full but one.
fn agent_frees_up() -> (TaskQueue, Vec<AgentState>) {
    let mut queue = TaskQueue::default();
    for i in 0..10_000 {
        let r = mix(i as u64 + 7);
        queue.insert(task(i, SKILLS[(r % 12) as usize], 1 + (r % 3) as u8));
    }
    (queue, agents(2_000, 1))
}

/// 10k tasks needing a skill nobody has at level 5+ ... plus one new task someone can take.
fn task_arrives() -> (TaskQueue, Vec<AgentState>) {
    let mut queue = TaskQueue::default();
    for i in 0..10_000 {
        let mut t = task(i, "unstaffed", 1);
        t.priority = Priority(100);
        queue.insert(t);
    }
    queue.insert(task(10_000, "billing", 1));
    (queue, agents(2_000, 200))
}

/// Adversarial: 10k waiting tasks spread over ~660 skill/level/language classes, each with an
/// active decline, none of which the 200 free agents can serve, plus one task they can.
fn many_classes_with_declines() -> (TaskQueue, Vec<AgentState>) {
    let mut queue = TaskQueue::default();
    for i in 0..10_000 {
        let r = mix(i as u64 + 99);
        let a = (r % 12) as usize;
        let b = (a + 1 + ((r >> 8) % 11) as usize) % 12;
        let mut t = task(i, SKILLS[a], 5);
        t.required_skills.push(SkillRequirement {
            name: format!("{}-expert", SKILLS[b]),
            min_level: 1 + ((r >> 16) % 5) as u8,
        });
        t.priority = Priority(100);
        t.declined_by
            .insert(AgentId::from_trusted("a00000"), u64::MAX);
        queue.insert(t);
    }
    queue.insert(task(10_000, "billing", 1));
    (queue, agents(2_000, 200))
}

/// 50 rules; the arriving task matches only the last one, so every condition is evaluated.
fn fifty_rules() -> switchboard::routing::rules::CompiledRules {
    let strategies = ["least_occupied", "longest_idle", "best_skill"];
    let mut rules: Vec<serde_json::Value> = (0..49)
        .map(|i| {
            let skill = SKILLS[i % 12];
            let strategy = strategies[i % 3];
            serde_json::json!({
                "name": format!("rule-{i}"),
                "when": format!("intent == 'intent-{i}' && channel in ['web', 'app'] && (tier == 'vip' || wait_secs > {i})"),
                "queue": format!("queue-{}", i % 7),
                "skills": [{"name": skill, "min_level": 1 + (i % 5)}],
                "priority": i,
                "aging_per_minute": 1,
                "overflow": [{"after_secs": 30, "skills": [{"name": skill, "min_level": 1}]}, {"after_secs": 120, "queue": "general"}],
                "strategy": strategy,
            })
        })
        .collect();
    rules.push(serde_json::json!({"name": "rest", "queue": "general", "skills": [{"name": "billing", "min_level": 1}]}));
    let doc: RuleSetDoc = serde_json::from_value(serde_json::json!({"rules": rules})).unwrap();
    let known = SKILLS.iter().map(|s| (*s).to_owned()).collect();
    compile(&doc, &known).unwrap()
}

fn arriving_facts() -> TaskFacts {
    TaskFacts {
        channel: "web".to_owned(),
        intent: Some("nothing-matches".to_owned()),
        language: "zh".to_owned(),
        tier: "standard".to_owned(),
        tags: vec!["returning".to_owned()],
        wait_secs: 0,
        hour: 10,
        weekday: 3,
        queue: String::new(),
        at: "2026-11-25T02:00:00Z".parse().unwrap(),
    }
}

/// One full decision for an arriving task: the rule set picks its target (50 conditions),
/// then the policy plans over 10k waiting tasks and 2k agents.
fn decide_and_plan(
    rules: &switchboard::routing::rules::CompiledRules,
    facts: &TaskFacts,
    queue: &TaskQueue,
    agents: &[AgentState],
) -> usize {
    let decision = rules.decide(facts, &[]).unwrap();
    black_box(decision.required_skills(&[]));
    plan(queue, agents, 0).len()
}

fn percentiles(label: &str, queue: &TaskQueue, agents: &[AgentState]) {
    let mut samples: Vec<u128> = (0..500)
        .map(|_| {
            let start = Instant::now();
            black_box(plan(queue, agents, 0));
            start.elapsed().as_nanos()
        })
        .collect();
    samples.sort_unstable();
    let p = |q: f64| samples[((samples.len() as f64 - 1.0) * q) as usize] as f64 / 1000.0;
    println!(
        "{label}: p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs (500 decisions)",
        p(0.5),
        p(0.99),
        p(1.0)
    );
}

fn routing(c: &mut Criterion) {
    let (q1, a1) = agent_frees_up();
    let (q2, a2) = task_arrives();
    assert!(
        !plan(&q1, &a1, 0).is_empty(),
        "scenario must produce an offer"
    );
    assert_eq!(
        plan(&q2, &a2, 0).len(),
        1,
        "scenario must produce exactly one offer"
    );
    let (q3, a3) = many_classes_with_declines();
    assert_eq!(
        plan(&q3, &a3, 0).len(),
        1,
        "scenario must produce exactly one offer"
    );
    let mut group = c.benchmark_group("routing_decision_10k_tasks_2k_agents");
    group.bench_function("agent_frees_up", |b| {
        b.iter(|| plan(black_box(&q1), black_box(&a1), 0))
    });
    group.bench_function("task_arrives", |b| {
        b.iter(|| plan(black_box(&q2), black_box(&a2), 0))
    });
    group.bench_function("many_classes_with_declines", |b| {
        b.iter(|| plan(black_box(&q3), black_box(&a3), 0))
    });
    let rules = fifty_rules();
    let facts = arriving_facts();
    assert_eq!(rules.decide(&facts, &[]).unwrap().rule, "rest");
    group.bench_function("fifty_rules_then_task_arrives", |b| {
        b.iter(|| decide_and_plan(black_box(&rules), black_box(&facts), &q2, &a2))
    });
    group.finish();
    let mut samples: Vec<u128> = (0..500)
        .map(|_| {
            let start = Instant::now();
            black_box(decide_and_plan(&rules, &facts, &q2, &a2));
            start.elapsed().as_nanos()
        })
        .collect();
    samples.sort_unstable();
    let p = |q: f64| samples[((samples.len() as f64 - 1.0) * q) as usize] as f64 / 1000.0;
    println!(
        "fifty_rules_then_task_arrives: p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs (500 decisions)",
        p(0.5),
        p(0.99),
        p(1.0)
    );
    // Baseline from the same run: the same decision without a rule set.
    let mut plain: Vec<u128> = (0..500)
        .map(|_| {
            let start = Instant::now();
            black_box(plan(&q2, &a2, 0));
            start.elapsed().as_nanos()
        })
        .collect();
    plain.sort_unstable();
    println!(
        "fifty rules cost {:.2}× the decision without rules (p50 {:.1} µs vs {:.1} µs)",
        p(0.5) / (plain[plain.len() / 2] as f64 / 1000.0),
        p(0.5),
        plain[plain.len() / 2] as f64 / 1000.0
    );
    percentiles("many_classes_with_declines", &q3, &a3);
    percentiles("agent_frees_up", &q1, &a1);
    percentiles("task_arrives", &q2, &a2);
}

criterion_group!(benches, routing);
criterion_main!(benches);
