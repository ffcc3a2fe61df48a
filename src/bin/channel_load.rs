//! `switchboard-channel-load`: drives a running Switchboard's provider webhooks (WeChat, SMS,
//! IVR) at a sustained rate, as the providers would, and reports how fast they are
//! acknowledged, against a baseline measured in the same run.
//!
//! For each channel, an open-loop run sends `--rate` signed requests per second for
//! `--seconds` (request `i` is due at `i / rate`, whatever the earlier ones are doing), each a
//! new message of one of `--customers` simulated customers, signed with the demo secrets of
//! API.md (or the ones given). The acknowledgement latency (request sent → response read) is
//! reported as p50/p99, and divided by the same percentiles of `GET /healthz` at the same
//! rate just before (the HTTP floor of this machine in this run). For WeChat it also counts
//! the answers that were passive replies (the bot's answer in the response) and those that
//! came within WeChat's 5-second window.
//!
//! Afterwards it checks completeness: `messages_in_total{channel}` on `/metrics` must have
//! grown by exactly the number of acknowledged messages (each stored once).
//!
//! Traffic goes only to a loopback URL, bounded in count (`rate × seconds`, at most 100 000)
//! and time (`seconds` ≤ 300 plus a 30 s request bound); the process stops by itself.
//!
//! Example: `switchboard-channel-load --node http://127.0.0.1:8080 --rate 100 --seconds 20`
#![allow(clippy::expect_used)]

use std::time::{Duration, Instant};

use anyhow::{ensure, Context};
use chrono::Utc;
use clap::Parser;
use serde_json::{json, Value};
use switchboard::channels::{sms::signature, wechat::crypto};
use switchboard::signing::webhooks;

/// Provider-webhook load generator for Switchboard.
#[derive(Parser, Debug)]
#[command(name = "switchboard-channel-load", version)]
struct Args {
    /// Base URL of the node (loopback only).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    node: String,
    /// Requests per second, per channel.
    #[arg(long, default_value_t = 50.0)]
    rate: f64,
    /// Seconds of traffic per channel (at most 300).
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Simulated customers per channel.
    #[arg(long, default_value_t = 50)]
    customers: usize,
    /// Channels to drive, in order.
    #[arg(long, value_delimiter = ',', default_value = "wechat,sms,ivr")]
    channels: Vec<String>,
    /// WeChat Token (URL and message signatures).
    #[arg(long, default_value = "switchboard-demo")]
    wechat_token: String,
    /// SMS auth token and the public URL base the provider signs.
    #[arg(long, default_value = "demo-sms-token")]
    sms_token: String,
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    sms_public_url: String,
    /// IVR Standard Webhooks secret.
    #[arg(long, default_value = "whsec_Q+Y4HW9jMm/YeDWkA7QytT1wLnz/UBYZ")]
    ivr_secret: String,
}

/// Bound of any one request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Most requests of one run.
const MAX_REQUESTS: u64 = 100_000;
/// WeChat waits this long for an answer.
const WECHAT_WINDOW: Duration = Duration::from_secs(5);

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// One request of a run: what to send.
struct Request {
    method: reqwest::Method,
    url: String,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

/// What one request did: latency in ms, success, and (WeChat) whether it was a passive reply.
struct Outcome {
    ms: f64,
    ok: bool,
    passive: bool,
}

/// Builds request number `i` of `channel`.
fn request(args: &Args, run: &str, channel: &str, i: u64) -> anyhow::Result<Request> {
    let customer = i % args.customers.max(1) as u64;
    let node = args.node.trim_end_matches('/');
    let now = Utc::now().timestamp();
    Ok(match channel {
        "baseline" => Request {
            method: reqwest::Method::GET,
            url: format!("{node}/healthz"),
            headers: Vec::new(),
            body: Vec::new(),
        },
        "wechat" => {
            let nonce = format!("{}-{i}", run_number(run));
            let signature = crypto::signature(&args.wechat_token, &now.to_string(), &nonce);
            let body = format!(
                "<xml><ToUserName><![CDATA[gh_load]]></ToUserName><FromUserName><![CDATA[oLoad_{run}_{customer}]]></FromUserName><CreateTime>{now}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[退款怎么办 {i}]]></Content><MsgId>{}</MsgId></xml>",
                run_number(run) * 10_000_000 + i
            );
            Request {
                method: reqwest::Method::POST,
                url: format!(
                    "{node}/v1/channels/wechat?signature={signature}&timestamp={now}&nonce={nonce}"
                ),
                headers: vec![("content-type", "text/xml".to_owned())],
                body: body.into_bytes(),
            }
        }
        "sms" => {
            let path = "/v1/channels/sms";
            let form: Vec<(String, String)> = vec![
                ("MessageSid".into(), format!("SMload{run}{i:012}")),
                (
                    "From".into(),
                    format!("+861390{:07}", run_number(run) % 100 * 10_000 + customer),
                ),
                ("To".into(), "+15005550006".into()),
                ("Body".into(), format!("退款怎么办 {i}")),
            ];
            let signature = signature::compute(
                &args.sms_token,
                &format!("{}{path}", args.sms_public_url.trim_end_matches('/')),
                &form,
            );
            let body = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(&form)
                .finish();
            Request {
                method: reqwest::Method::POST,
                url: format!("{node}{path}"),
                headers: vec![
                    (
                        "content-type",
                        "application/x-www-form-urlencoded".to_owned(),
                    ),
                    ("x-twilio-signature", signature),
                ],
                body: body.into_bytes(),
            }
        }
        "ivr" => {
            let key = webhooks::secret_key(&args.ivr_secret)
                .map_err(|_| anyhow::anyhow!("--ivr-secret must be whsec_ followed by base64"))?;
            let id = format!("msg_load_{run}_{i}");
            let body = json!({
                "type": "transcript",
                "call_id": format!("call-load-{run}-{customer}"),
                "from": format!("+861380{:07}", run_number(run) % 100 * 10_000 + customer),
                "text": format!("退款怎么办 {i}"),
                "confidence": 0.95,
                "final": true,
            })
            .to_string()
            .into_bytes();
            let signature = webhooks::sign(&key, &id, now, &body);
            Request {
                method: reqwest::Method::POST,
                url: format!("{node}/v1/channels/ivr/events"),
                headers: vec![
                    ("content-type", "application/json".to_owned()),
                    ("webhook-id", id),
                    ("webhook-timestamp", now.to_string()),
                    ("webhook-signature", signature),
                ],
                body,
            }
        }
        other => anyhow::bail!("unknown channel {other} (wechat, sms, ivr)"),
    })
}

/// A number for this run (distinct ids across runs on one data file).
fn run_number(run: &str) -> u64 {
    run.parse().unwrap_or(0)
}

/// Sends `rate × seconds` requests of `channel`, open loop; returns every outcome.
async fn drive(
    client: &reqwest::Client,
    args: &Args,
    run: &str,
    channel: &str,
) -> anyhow::Result<(Vec<Outcome>, f64)> {
    let total = ((args.rate * args.seconds as f64) as u64).min(MAX_REQUESTS);
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(total as usize);
    for i in 0..total {
        let due = started + Duration::from_secs_f64(i as f64 / args.rate);
        tokio::time::sleep_until(due.into()).await;
        let req = request(args, run, channel, i)?;
        let client = client.clone();
        let wechat = channel == "wechat";
        tasks.push(tokio::spawn(async move {
            let mut builder = client.request(req.method, &req.url).body(req.body);
            for (name, value) in req.headers {
                builder = builder.header(name, value);
            }
            let sent = Instant::now();
            let result = match builder.send().await {
                Ok(response) => {
                    let ok = response.status().is_success();
                    let text = response.text().await.unwrap_or_default();
                    (ok, wechat && text.contains("<Content>"))
                }
                Err(_) => (false, false),
            };
            Outcome {
                ms: sent.elapsed().as_secs_f64() * 1000.0,
                ok: result.0,
                passive: result.1,
            }
        }));
    }
    let mut outcomes = Vec::with_capacity(tasks.len());
    for task in tasks {
        outcomes.push(task.await.context("request task")?);
    }
    let achieved = outcomes.len() as f64 / started.elapsed().as_secs_f64();
    Ok((outcomes, achieved))
}

/// `messages_in_total{channel="…"}` from `/metrics`.
async fn messages_in(client: &reqwest::Client, node: &str, channel: &str) -> anyhow::Result<u64> {
    let text = client
        .get(format!("{}/metrics", node.trim_end_matches('/')))
        .send()
        .await?
        .text()
        .await?;
    let needle = format!("messages_in_total{{channel=\"{channel}\"}} ");
    Ok(text
        .lines()
        .find_map(|l| l.split_once(&needle).map(|(_, value)| value))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .unwrap_or(0.0) as u64)
}

fn summary(outcomes: &[Outcome]) -> (Value, f64, f64) {
    let mut ms: Vec<f64> = outcomes.iter().filter(|o| o.ok).map(|o| o.ms).collect();
    ms.sort_by(f64::total_cmp);
    let (p50, p99) = (percentile(&ms, 0.5), percentile(&ms, 0.99));
    (json!({"p50": round(p50), "p99": round(p99)}), p50, p99)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let host = args
        .node
        .trim_start_matches("http://")
        .split([':', '/'])
        .next()
        .unwrap_or_default();
    ensure!(
        matches!(host, "127.0.0.1" | "localhost" | "[::1]"),
        "refusing to send load to {}: only loopback targets are allowed",
        args.node
    );
    ensure!(
        args.rate > 0.0 && args.rate <= 5_000.0,
        "--rate must be in (0, 5000]"
    );
    ensure!(
        args.seconds > 0 && args.seconds <= 300,
        "--seconds must be in 1..=300"
    );
    let client = reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .pool_max_idle_per_host(1024)
        .build()?;
    let run = format!("{}", Utc::now().timestamp() % 1_000_000);
    let mut report = serde_json::Map::new();
    let mut complete = true;
    for channel in &args.channels {
        let (baseline, _) = drive(&client, &args, &run, "baseline").await?;
        let (base_json, base_p50, base_p99) = summary(&baseline);
        let before = messages_in(&client, &args.node, channel).await?;
        let (outcomes, achieved) = drive(&client, &args, &run, channel).await?;
        let acknowledged = outcomes.iter().filter(|o| o.ok).count() as u64;
        // Stored before acknowledged: the count is final when the last answer came.
        let stored = messages_in(&client, &args.node, channel).await? - before;
        complete &= stored == acknowledged;
        let (ack_json, p50, p99) = summary(&outcomes);
        let mut entry = json!({
            "sent": outcomes.len(),
            "acknowledged": acknowledged,
            "errors": outcomes.len() as u64 - acknowledged,
            "stored": stored,
            "target_rate": args.rate,
            "achieved_rate": round(achieved),
            "ack_ms": ack_json,
            "baseline_healthz_ms": base_json,
            "ratio_p50": round(p50 / base_p50.max(0.001)),
            "ratio_p99": round(p99 / base_p99.max(0.001)),
        });
        if channel == "wechat" {
            let passive = outcomes.iter().filter(|o| o.ok && o.passive).count();
            let in_window = outcomes
                .iter()
                .filter(|o| o.ok && o.ms < WECHAT_WINDOW.as_secs_f64() * 1000.0)
                .count();
            entry["passive_replies"] = json!(passive);
            entry["passive_reply_rate"] =
                json!(round(passive as f64 / outcomes.len().max(1) as f64));
            entry["answered_within_5s_rate"] =
                json!(round(in_window as f64 / outcomes.len().max(1) as f64));
        }
        eprintln!("{channel}: {entry}");
        report.insert(channel.clone(), entry);
    }
    println!("{}", serde_json::to_string_pretty(&Value::Object(report))?);
    ensure!(
        complete,
        "a channel stored a different number of messages than it acknowledged"
    );
    Ok(())
}
