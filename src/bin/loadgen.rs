//! `switchboard-loadgen`: drives a running Switchboard (one node or a cluster) with simulated
//! web customers and checks that nothing was lost, duplicated or reordered.
//!
//! Each customer is created on one node (round robin), then sends `--messages` messages one
//! after another to the nodes in turn over `POST /v1/messages`, timing each acknowledgement.
//! Afterwards a supervisor account reads every customer's messages back and checks them.
//! With `--amqp`, it first measures the raw broker rate in the same run: publish with
//! confirm + consume with ack of the same payload size on a quorum queue, with the same
//! concurrency, and reports the ratio.
//!
//! Traffic goes only to the URLs given (refused unless they are loopback), bounded in count
//! (`--customers` × `--messages`) and in time (`--max-seconds`).
//!
//! Example: `switchboard-loadgen --nodes http://127.0.0.1:8081,http://127.0.0.1:8082 \
//!   --customers 40 --messages 25 --amqp amqp://switchboard:switchboard@127.0.0.1:5672/switchboard`
#![allow(clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use clap::Parser;
use futures_util::StreamExt;
use serde_json::{json, Value};
use switchboard::bus::{rabbitmq::RabbitBus, Bus, Route};

/// Load generator for Switchboard.
#[derive(Parser, Debug)]
#[command(name = "switchboard-loadgen", version)]
struct Args {
    /// Comma-separated base URLs of the nodes (loopback only).
    #[arg(long, value_delimiter = ',')]
    nodes: Vec<String>,
    /// Simulated customers (concurrent).
    #[arg(long, default_value_t = 20)]
    customers: usize,
    /// Messages per customer.
    #[arg(long, default_value_t = 20)]
    messages: usize,
    /// Stop sending after this long, whatever is left.
    #[arg(long, default_value_t = 300)]
    max_seconds: u64,
    /// Supervisor login for the completeness check.
    #[arg(long, default_value = "sam")]
    staff_user: String,
    #[arg(long, default_value = "demo")]
    staff_password: String,
    /// Measure the raw RabbitMQ baseline on this broker too.
    #[arg(long)]
    amqp: Option<String>,
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn ensure_loopback(url: &str) -> anyhow::Result<()> {
    let host = url
        .trim_start_matches("http://")
        .trim_start_matches("amqp://")
        .rsplit('@')
        .next()
        .unwrap_or_default()
        .split([':', '/'])
        .next()
        .unwrap_or_default();
    ensure!(
        host == "127.0.0.1" || host == "localhost" || host == "[::1]",
        "refusing to send load to {url}: only loopback targets are allowed"
    );
    Ok(())
}

/// What one customer did.
struct Outcome {
    customer_id: String,
    acked: Vec<String>,
    latencies_ms: Vec<f64>,
}

async fn run_customer(
    client: reqwest::Client,
    nodes: Arc<Vec<String>>,
    index: usize,
    messages: usize,
    deadline: Instant,
) -> anyhow::Result<Outcome> {
    let home = &nodes[index % nodes.len()];
    let visitor: Value = client
        .post(format!("{home}/v1/visitors"))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let token = visitor["visitor_token"]
        .as_str()
        .context("token")?
        .to_owned();
    let customer_id = visitor["customer_id"]
        .as_str()
        .context("customer")?
        .to_owned();
    let mut acked = Vec::new();
    let mut latencies_ms = Vec::new();
    for n in 0..messages {
        if Instant::now() >= deadline {
            break;
        }
        let text = format!("refund question {n} from customer {index}");
        let client_id = format!("lg-{index}-{n}");
        let started = Instant::now();
        // Retry other nodes with the same client_id (bounded), as a real client would.
        let mut ok = false;
        for attempt in 0..10 {
            let node = &nodes[(index + n + attempt) % nodes.len()];
            let response = client
                .post(format!("{node}/v1/messages"))
                .bearer_auth(&token)
                .json(&json!({"text": text, "client_id": client_id}))
                .timeout(Duration::from_secs(30))
                .send()
                .await;
            if response.is_ok_and(|r| r.status() == 202) {
                ok = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        if !ok {
            bail!("customer {index}: message {n} was never acknowledged");
        }
        latencies_ms.push(started.elapsed().as_secs_f64() * 1000.0);
        acked.push(text);
    }
    Ok(Outcome {
        customer_id,
        acked,
        latencies_ms,
    })
}

/// Raw broker rate: `total` messages published with confirms by `concurrency` publishers and
/// consumed with acks, on a fresh quorum queue.
async fn broker_baseline(
    url: &str,
    total: usize,
    concurrency: usize,
    size: usize,
) -> anyhow::Result<f64> {
    let namespace = format!("sbload{}", uuid::Uuid::new_v4().simple());
    let bus = Arc::new(RabbitBus::connect(url, &namespace, 60_000).await?);
    let mut deliveries = bus.consume("baseline").await?;
    let payload = vec![b'x'; size];
    let started = Instant::now();
    let per_publisher = total / concurrency.max(1);
    let mut publishers = Vec::new();
    for _ in 0..concurrency.max(1) {
        let (bus, payload) = (Arc::clone(&bus), payload.clone());
        publishers.push(tokio::spawn(async move {
            for _ in 0..per_publisher {
                bus.publish(&Route::Queue("baseline".into()), payload.clone())
                    .await?;
            }
            anyhow::Ok(())
        }));
    }
    let expected = per_publisher * concurrency.max(1);
    let mut received = 0;
    while received < expected {
        let delivery = tokio::time::timeout(Duration::from_secs(30), deliveries.next())
            .await
            .context("baseline consumer stalled")?
            .context("baseline subscription ended")?;
        delivery.ack().await?;
        received += 1;
    }
    for p in publishers {
        p.await??;
    }
    Ok(expected as f64 / started.elapsed().as_secs_f64())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    ensure!(!args.nodes.is_empty(), "give at least one --nodes URL");
    for url in args.nodes.iter().chain(args.amqp.iter()) {
        ensure_loopback(url)?;
    }
    let nodes = Arc::new(
        args.nodes
            .iter()
            .map(|n| n.trim_end_matches('/').to_owned())
            .collect::<Vec<_>>(),
    );
    let client = reqwest::Client::new();
    let total = args.customers * args.messages;

    let baseline = match &args.amqp {
        Some(url) => Some(broker_baseline(url, total.max(1000), args.customers, 200).await?),
        None => None,
    };

    let deadline = Instant::now() + Duration::from_secs(args.max_seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for index in 0..args.customers {
        tasks.push(tokio::spawn(run_customer(
            client.clone(),
            Arc::clone(&nodes),
            index,
            args.messages,
            deadline,
        )));
    }
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await??);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let sent: usize = outcomes.iter().map(|o| o.acked.len()).sum();
    let mut latencies: Vec<f64> = outcomes
        .iter()
        .flat_map(|o| o.latencies_ms.iter().copied())
        .collect();
    latencies.sort_by(f64::total_cmp);

    // Completeness: every acknowledged message stored exactly once, in order.
    let login: Value = client
        .post(format!("{}/v1/auth/login", nodes[0]))
        .json(&json!({"username": args.staff_user, "password": args.staff_password}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let staff = login["token"].as_str().context("staff token")?.to_owned();
    let (mut lost, mut duplicated, mut reordered) = (0usize, 0usize, 0usize);
    for outcome in &outcomes {
        let messages: Value = client
            .get(format!(
                "{}/v1/customers/{}/messages",
                nodes[0], outcome.customer_id
            ))
            .bearer_auth(&staff)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let stored: Vec<&str> = messages
            .as_array()
            .context("messages")?
            .iter()
            .filter(|m| m["from"] == "customer")
            .filter_map(|m| m["text"].as_str())
            .collect();
        for text in &outcome.acked {
            match stored.iter().filter(|s| **s == text.as_str()).count() {
                0 => lost += 1,
                1 => {}
                _ => duplicated += 1,
            }
        }
        let in_order: Vec<&str> = stored
            .iter()
            .copied()
            .filter(|s| outcome.acked.iter().any(|a| a == s))
            .collect();
        if in_order != outcome.acked.iter().map(String::as_str).collect::<Vec<_>>()
            && lost == 0
            && duplicated == 0
        {
            reordered += 1;
        }
    }
    let rate = sent as f64 / elapsed;
    let report = json!({
        "nodes": nodes.len(),
        "customers": args.customers,
        "messages_acknowledged": sent,
        "elapsed_s": (elapsed * 100.0).round() / 100.0,
        "messages_per_s": rate.round(),
        "ack_latency_ms": {
            "p50": (percentile(&latencies, 0.5) * 10.0).round() / 10.0,
            "p99": (percentile(&latencies, 0.99) * 10.0).round() / 10.0,
        },
        "lost": lost,
        "duplicated": duplicated,
        "customers_reordered": reordered,
        "complete": lost == 0 && duplicated == 0 && reordered == 0,
        "broker_baseline_per_s": baseline.map(f64::round),
        "ratio_to_broker": baseline.map(|b| (rate / b * 1000.0).round() / 1000.0),
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    ensure!(report["complete"] == true, "completeness check failed");
    Ok(())
}
