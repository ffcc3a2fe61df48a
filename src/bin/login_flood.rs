//! `switchboard-login-flood`: a bounded flood of concurrent wrong logins against a running
//! node on loopback, measuring what it costs the node: resident memory before, at its peak and
//! after (from `/proc/<pid>/status`), and CPU time per attempt (from `/proc/<pid>/stat`). The
//! figures are relative to the node's own state at the start of the run.
//!
//! Each round sends `--concurrency` logins at once with made-up usernames and a wrong
//! password; `--rounds` rounds, bounded by `--max-seconds`. Prints one JSON report: answers by
//! status (401 checked and wrong, 429 locked by the throttle, 503 refused while other checks
//! ran), memory in MiB and CPU in ms.
//!
//! Example (see `benches/login_flood.sh`): `switchboard-login-flood --node
//! http://127.0.0.1:8080 --pid 1234 --concurrency 96 --rounds 3`
#![allow(clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context};
use clap::Parser;
use serde_json::json;

/// Bounded login flood on loopback.
#[derive(Parser, Debug)]
#[command(name = "switchboard-login-flood", version)]
struct Args {
    /// The node's base URL (loopback only).
    #[arg(long)]
    node: String,
    /// The node's process id, for its memory and CPU figures.
    #[arg(long)]
    pid: u32,
    /// Logins sent at once per round.
    #[arg(long, default_value_t = 96)]
    concurrency: usize,
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// The whole run stops after this many seconds.
    #[arg(long, default_value_t = 120)]
    max_seconds: u64,
}

/// Resident memory of `pid` in KiB.
fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .context("no VmRSS")
}

/// CPU time (user + system) of `pid` in clock ticks.
fn cpu_ticks(pid: u32) -> anyhow::Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name (which may hold spaces) in parentheses.
    let rest = stat.rsplit_once(')').context("stat")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11).context("utime")?.parse()?;
    let stime: u64 = fields.get(12).context("stime")?.parse()?;
    Ok(utime + stime)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let url = reqwest::Url::parse(&args.node)?;
    ensure!(
        matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "::1")),
        "refusing to flood {}: only loopback targets are allowed",
        args.node
    );
    ensure!(
        args.concurrency > 0 && args.concurrency <= 1000,
        "--concurrency 1..=1000"
    );
    ensure!(args.rounds > 0 && args.rounds <= 100, "--rounds 1..=100");
    let login = format!("{}/v1/auth/login", args.node.trim_end_matches('/'));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(args.concurrency)
        .build()?;
    // 100 ticks per second on Linux.
    let tick_ms = 1000.0 / 100.0;

    let rss_before = rss_kib(args.pid)?;
    let cpu_before = cpu_ticks(args.pid)?;
    let peak = Arc::new(AtomicU64::new(rss_before));
    let sampler = {
        let peak = Arc::clone(&peak);
        let pid = args.pid;
        tokio::spawn(async move {
            loop {
                if let Ok(rss) = rss_kib(pid) {
                    peak.fetch_max(rss, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };

    let deadline = Instant::now() + Duration::from_secs(args.max_seconds);
    let started = Instant::now();
    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    let mut sent = 0usize;
    for round in 0..args.rounds {
        if Instant::now() >= deadline {
            break;
        }
        let attempts = (0..args.concurrency).map(|n| {
            let (client, login) = (client.clone(), login.clone());
            async move {
                client
                    .post(&login)
                    .json(&json!({"username": format!("flood{round}x{n}"), "password": "not the password"}))
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
                    .unwrap_or(0)
            }
        });
        for status in futures_util::future::join_all(attempts).await {
            *statuses.entry(status).or_default() += 1;
        }
        sent += args.concurrency;
    }
    let elapsed = started.elapsed();
    // Let the node settle (blocking threads finish, allocator returns memory).
    tokio::time::sleep(Duration::from_secs(2)).await;
    sampler.abort();
    let rss_after = rss_kib(args.pid)?;
    let cpu_after = cpu_ticks(args.pid)?;
    let mib = |kib: u64| kib as f64 / 1024.0;
    let checked = statuses.get(&401).copied().unwrap_or(0);
    let cpu_ms = (cpu_after - cpu_before) as f64 * tick_ms;
    let report = json!({
        "attempts": sent,
        "concurrency": args.concurrency,
        "rounds": args.rounds,
        "seconds": elapsed.as_secs_f64(),
        "answers": statuses.iter().map(|(s, n)| (s.to_string(), json!(n))).collect::<serde_json::Map<_, _>>(),
        "rss_mib": {
            "before": mib(rss_before),
            "peak": mib(peak.load(Ordering::Relaxed)),
            "after": mib(rss_after),
            "peak_growth": mib(peak.load(Ordering::Relaxed).saturating_sub(rss_before)),
        },
        "node_cpu_ms": {
            "total": cpu_ms,
            "per_attempt": cpu_ms / sent.max(1) as f64,
            "per_password_check": if checked > 0 { json!(cpu_ms / checked as f64) } else { json!(null) },
        },
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
