//! Dry-run speed: a day of recorded traffic at 100 agents, replayed with the demo rule set
//! and with the built-in routing (a dry-run does both). Prints simulated hours per second.
//!
//! The day: 100 agents in three overlapping shifts (presence changes recorded), ~9,600 tasks
//! arriving with a daytime peak, five intents, handling times of 2–12 minutes, a tenth of the
//! customers impatient.
//!
//! Run: `cargo bench --bench simulation`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use switchboard::demo::DEMO_ROUTING_RULES;
use switchboard::domain::{AgentId, AgentStatus, Language, Priority, SkillRequirement, TaskId};
use switchboard::routing::policy::{Media, Slots};
use switchboard::routing::rules::{compile_stored, RuleSetDoc};
use switchboard::routing::simulate::{
    dry_run, simulate, SimAgent, SimInput, SimPresence, SimSettings, SimTask,
};

const DAY_MS: u64 = 24 * 3_600_000;

fn mix(i: u64) -> u64 {
    let mut x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^= x >> 31;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^ (x >> 29)
}

fn day() -> SimInput {
    let skills = [
        vec![("billing", 4), ("refunds", 5)],
        vec![("tech", 4), ("orders", 3)],
        vec![("billing", 3), ("tech", 5), ("vip", 5)],
        vec![("refunds", 2), ("orders", 4)],
    ];
    let agents: Vec<SimAgent> = (0..100)
        .map(|i| SimAgent {
            id: AgentId::from_trusted(format!("agent-{i:03}")),
            skills: skills[i % 4]
                .iter()
                .map(|(s, l)| ((*s).to_owned(), *l))
                .collect(),
            languages: if i % 5 == 0 {
                vec![Language::En]
            } else {
                vec![Language::Zh, Language::En]
            },
            capacity: Slots::chats(3),
        })
        .collect();
    // Shifts: 00–09, 08–17, 16–24 (hours), a third of the agents each; a short break each.
    let mut presence = Vec::new();
    for (i, agent) in agents.iter().enumerate() {
        let start = [0, 8, 16][i % 3] * 3_600_000;
        let end = (start + 9 * 3_600_000).min(DAY_MS - 1);
        let break_at = start + 4 * 3_600_000;
        for (at, status) in [
            (start, AgentStatus::Available),
            (break_at, AgentStatus::Away),
            (break_at + 900_000, AgentStatus::Available),
            (end, AgentStatus::Offline),
        ] {
            presence.push(SimPresence {
                at,
                agent: agent.id.clone(),
                status,
            });
        }
    }
    presence.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.agent.cmp(&b.agent)));
    let intents = ["refund", "logistics", "invoice", "account", "opening_hours"];
    let skill_of = ["refunds", "orders", "billing", "tech", "tech"];
    let mut tasks = Vec::new();
    let mut at = 0u64;
    let mut i = 0u64;
    while at < DAY_MS {
        let hour = at / 3_600_000;
        // Busier in the day: a task every ~4.5 s at the peak, ~27 s at night.
        let gap = if (9..21).contains(&hour) {
            4_500
        } else {
            27_000
        };
        at += gap / 2 + mix(i) % gap;
        let r = mix(i + 17);
        let k = (r % 5) as usize;
        tasks.push(SimTask {
            id: TaskId::from_trusted(format!("task-{i:06}")),
            arrival: at.min(DAY_MS - 1),
            channel: ["web", "app", "wechat", "sms"][(r >> 8) as usize % 4].to_owned(),
            intent: Some(intents[k].to_owned()),
            language: if r.is_multiple_of(7) {
                Language::En
            } else {
                Language::Zh
            },
            tier: if r.is_multiple_of(20) {
                "vip"
            } else {
                "standard"
            }
            .to_owned(),
            tags: vec![],
            priority: Priority(if r.is_multiple_of(20) { 50 } else { 0 }),
            skills: vec![SkillRequirement {
                name: skill_of[k].to_owned(),
                min_level: 1,
            }],
            media: Media::Chat,
            preferred_agent: r
                .is_multiple_of(6)
                .then(|| AgentId::from_trusted(format!("agent-{:03}", r % 100))),
            handle_ms: 120_000 + (r >> 16) % 600_000,
            patience_ms: r.is_multiple_of(10).then_some(60_000 + (r >> 24) % 240_000),
        });
        i += 1;
    }
    SimInput {
        start: "2026-11-24T16:00:00Z".parse().unwrap(),
        length_ms: DAY_MS,
        tasks,
        agents,
        presence,
        settings: SimSettings {
            wrap_up_ms: 10_000,
            sticky_agent_ms: 20_000,
            service_level_ms: 20_000,
            overflow_after_ms: 60_000,
            voice_capacity: 1,
            ticket_capacity: 5,
            patience_ms: 300_000,
            default_handle_ms: 300_000,
            timeline_points: 200,
            review_all_every_ms: None,
        },
    }
}

fn simulation(c: &mut Criterion) {
    let input = day();
    let doc: RuleSetDoc = serde_json::from_str(DEMO_ROUTING_RULES).unwrap();
    let rules = compile_stored(&doc).unwrap();
    let report = simulate(&input, Some(&rules), &[]);
    println!(
        "a day: {} tasks, {} agents; answered {}, abandoned {}, fallbacks {}, service level {:?}",
        input.tasks.len(),
        input.agents.len(),
        report.overall.answered,
        report.overall.abandoned,
        report.overall.fallbacks,
        report.overall.service_level
    );
    let mut group = c.benchmark_group("dry_run_one_day_100_agents");
    group.sample_size(10);
    group.bench_function("simulate_with_rules", |b| {
        b.iter(|| simulate(black_box(&input), Some(&rules), &[]))
    });
    group.bench_function("dry_run_candidate_and_builtin", |b| {
        b.iter(|| dry_run(black_box(&input), &rules, None))
    });
    group.finish();
    let runs = 5;
    let start = Instant::now();
    for _ in 0..runs {
        black_box(simulate(&input, Some(&rules), &[]));
    }
    let secs = start.elapsed().as_secs_f64() / f64::from(runs);
    println!(
        "simulate_with_rules: {secs:.3} s per simulated day = {:.0} simulated hours per second",
        24.0 / secs
    );

    // Baseline from the same run: the same day re-deciding every waiting task every simulated
    // second, as the live dispatcher does on each tick (once: it is slow). The ratio is what
    // reviewing a task only when its decision can change buys.
    let mut every_second = input.clone();
    every_second.settings.review_all_every_ms = Some(1_000);
    let start = Instant::now();
    black_box(simulate(&every_second, Some(&rules), &[]));
    let slow = start.elapsed().as_secs_f64();
    println!(
        "the day re-deciding every second: {slow:.1} s; reviewing when due is {:.0}× faster (same decisions: see the cross-check property test)",
        slow / secs
    );
}

criterion_group!(benches, simulation);
criterion_main!(benches);
