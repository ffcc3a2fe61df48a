//! `switchboard-loadgen`: drives a running Switchboard (one node or a cluster) with simulated
//! web customers, and optionally simulated agents, and checks that nothing was lost,
//! duplicated or reordered.
//!
//! Each customer is created on one node (round robin), then sends `--messages` messages one
//! after another to the nodes in turn over `POST /v1/messages`, timing each acknowledgement.
//! Afterwards a supervisor account reads every customer's messages back and checks them.
//!
//! - **Closed loop** (default): every customer sends its next message as soon as the previous
//!   one is acknowledged; the achieved rate is the saturating rate of this setup.
//! - **Open loop** (`--rate R`): messages are due at R per second in total, customers taking
//!   turns (message `n` of customer `i` of `C` is due at `(n·C + i) / R` s); a customer still
//!   sends its own messages one at a time, so a slow acknowledgement delays its next message
//!   (reported as `send_lag_ms`).
//! - **At a fraction of saturation** (`--at-saturation-fraction F`): a closed-loop run finds
//!   the saturating rate, then an open-loop run at F × that rate measures latency there.
//! - **Agents** (`--agents M`): M agent desks log in, open `/v1/ws/agent`, go available,
//!   accept every offer, answer every customer message and wrap up each conversation when its
//!   customer is done. Each customer first asks for a human and waits (polling
//!   `GET /v1/conversations/current`, bounded) until an agent owns the conversation, then
//!   sends. The report adds delivery to agents: every acknowledged message must reach the
//!   owning agent exactly once and in order, and the latency from just before the customer's
//!   POST to the agent's receipt (one process, one monotonic clock).
//! - With `--amqp`, it first measures the raw broker rate in the same run: publish with
//!   confirm + consume with ack of the same payload size on a quorum queue, with the same
//!   concurrency, and reports the ratio.
//!
//! Traffic goes only to the URLs given (refused unless they are loopback), bounded in count
//! (`--customers` × `--messages`) and in time (`--max-seconds` per run, plus bounded waits for
//! agents); the process stops by itself and exits non-zero if a completeness check fails.
//!
//! The agent desks speak WebSocket through `tokio-tungstenite` (JSON text frames; pings and
//! closes are answered by the library).
//!
//! Example: `switchboard-loadgen --nodes http://127.0.0.1:8081,http://127.0.0.1:8082 \
//!   --customers 40 --messages 25 --agents 5 --at-saturation-fraction 0.8`
#![allow(clippy::expect_used)]

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use clap::Parser;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Map, Value};
use switchboard::bus::{rabbitmq::RabbitBus, Bus, Route};
use tokio::net::TcpStream;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{connect_async_with_config, MaybeTlsStream, WebSocketStream};

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
    /// Stop sending after this long (per run), whatever is left.
    #[arg(long, default_value_t = 300)]
    max_seconds: u64,
    /// Supervisor login for the completeness check.
    #[arg(long, default_value = "sam")]
    staff_user: String,
    /// Password of the supervisor login.
    #[arg(long, default_value = "demo")]
    staff_password: String,
    /// Measure the raw RabbitMQ baseline on this broker too.
    #[arg(long)]
    amqp: Option<String>,
    /// Simulated agents that accept and answer; each customer first asks for a human and
    /// waits for an agent. Every customer holds an agent for its whole run, so keep
    /// `--customers` within the agents' total capacity (8 per load agent).
    #[arg(long, default_value_t = 0)]
    agents: usize,
    /// Agent accounts, comma-separated (default `load-agent-1` … `load-agent-M`, seeded by
    /// `SWITCHBOARD_DEMO__LOAD_AGENTS`). Given alone, `--agents` defaults to their number.
    #[arg(long, value_delimiter = ',')]
    agent_users: Vec<String>,
    /// Password of the agent accounts.
    #[arg(long, default_value = "demo")]
    agent_password: String,
    /// What a customer writes to ask for an agent (agent mode); "转人工" for Chinese.
    #[arg(long, default_value = "human")]
    handoff_text: String,
    /// How long a customer waits for an agent before it counts as unassigned (agent mode).
    #[arg(long, default_value_t = 60)]
    assign_timeout_seconds: u64,
    /// Open loop: messages per second in total (customers take turns).
    #[arg(long, conflicts_with = "at_saturation_fraction")]
    rate: Option<f64>,
    /// Find the saturating rate (closed loop) first, then run open loop at this fraction of
    /// it (0 < F ≤ 1, e.g. 0.8) and report the latency there.
    #[arg(long)]
    at_saturation_fraction: Option<f64>,
}

/// Attempts per message (other nodes, same `client_id`), as a real client would.
const SEND_ATTEMPTS: usize = 10;
/// Pause between attempts.
const RETRY_PAUSE: Duration = Duration::from_millis(200);
/// Bound of any one HTTP request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Pause between two polls of a customer's conversation while it waits for an agent.
const ASSIGN_POLL: Duration = Duration::from_millis(100);
/// Bound for an agent desk to log in, connect, say hello and confirm `available`.
const DESK_SETUP_TIMEOUT: Duration = Duration::from_secs(30);
/// After the customers are done: how long agents may take to receive what is still in flight.
const DELIVERY_DRAIN_TIMEOUT: Duration = Duration::from_secs(15);
/// After the customers are done: how long agents may take to wrap everything up.
const WRAP_UP_TIMEOUT: Duration = Duration::from_secs(10);
/// Pause between two checks while draining.
const DRAIN_POLL: Duration = Duration::from_millis(50);
/// Agent error frames printed to stderr at most (all are counted).
const PRINTED_AGENT_ERRORS: usize = 20;

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// `{"p50", "p99"}` of unsorted samples, in tenths of a millisecond.
fn percentiles(mut samples: Vec<f64>) -> Value {
    samples.sort_by(f64::total_cmp);
    json!({
        "p50": (percentile(&samples, 0.5) * 10.0).round() / 10.0,
        "p99": (percentile(&samples, 0.99) * 10.0).round() / 10.0,
    })
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

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

// ---------------------------------------------------------------------------------------
// Customers

/// What every run shares.
struct Load {
    client: reqwest::Client,
    nodes: Vec<String>,
    customers: usize,
    messages: usize,
    max_seconds: u64,
    /// Prefix of every `client_id` this process sends (`lg-<random>-`), so agents can tell
    /// this run's conversations from leftovers of earlier runs.
    client_prefix: String,
    /// Agent mode: what customers write to reach an agent, and how long they wait.
    handoff: Option<(String, Duration)>,
    /// Agent mode: what the agents saw.
    agents: Option<Arc<AgentShared>>,
    staff_token: String,
}

/// A customer ready to send.
struct Customer {
    index: usize,
    token: String,
    customer_id: String,
    /// Agent mode: the conversation the agent owns.
    conversation_id: Option<String>,
}

/// One acknowledged customer message.
struct Sent {
    text: String,
    client_id: String,
    conversation_id: String,
    /// Just before the first POST attempt.
    at: Instant,
}

/// What one customer did.
struct Outcome {
    customer_id: String,
    sent: Vec<Sent>,
    latencies_ms: Vec<f64>,
    /// Open loop: how late each message left after its due time.
    lags_ms: Vec<f64>,
}

/// Open-loop timetable of one customer.
#[derive(Clone, Copy)]
struct Schedule {
    start: Instant,
    rate: f64,
    position: usize,
    stride: usize,
}

impl Schedule {
    fn due(&self, n: usize) -> Instant {
        let slot = (n * self.stride + self.position) as f64;
        self.start + Duration::from_secs_f64(slot / self.rate)
    }
}

/// Posts one message, retrying other nodes with the same `client_id` (bounded); returns the
/// 202 body.
async fn post_message(
    client: &reqwest::Client,
    nodes: &[String],
    token: &str,
    text: &str,
    client_id: &str,
    first_node: usize,
) -> anyhow::Result<Value> {
    for attempt in 0..SEND_ATTEMPTS {
        let node = &nodes[(first_node + attempt) % nodes.len()];
        let response = client
            .post(format!("{node}/v1/messages"))
            .bearer_auth(token)
            .json(&json!({"text": text, "client_id": client_id}))
            .send()
            .await;
        if let Ok(response) = response {
            if response.status() == 202 {
                return response.json().await.context("202 body");
            }
        }
        tokio::time::sleep(RETRY_PAUSE).await;
    }
    bail!("message {client_id} was never acknowledged")
}

/// Creates the visitor; in agent mode asks for a human and waits (bounded) until an agent owns
/// the conversation. Returns the customer and whether it is ready to send.
async fn setup_customer(
    load: Arc<Load>,
    index: usize,
    deadline: Instant,
) -> anyhow::Result<(Customer, bool)> {
    let (client, nodes) = (&load.client, &load.nodes);
    let home = &nodes[index % nodes.len()];
    let visitor: Value = client
        .post(format!("{home}/v1/visitors"))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let mut customer = Customer {
        index,
        token: visitor["visitor_token"]
            .as_str()
            .context("token")?
            .to_owned(),
        customer_id: visitor["customer_id"]
            .as_str()
            .context("customer")?
            .to_owned(),
        conversation_id: None,
    };
    let Some((text, wait)) = &load.handoff else {
        return Ok((customer, true));
    };
    let client_id = format!("{}{index}-h", load.client_prefix);
    let accepted = post_message(client, nodes, &customer.token, text, &client_id, index)
        .await
        .with_context(|| format!("customer {index}: the hand-off request failed"))?;
    customer.conversation_id = accepted["conversation_id"].as_str().map(str::to_owned);
    let until = deadline.min(Instant::now() + *wait);
    let polls = wait.as_millis() / ASSIGN_POLL.as_millis() + 1;
    for _ in 0..polls {
        if Instant::now() >= until {
            break;
        }
        let response = client
            .get(format!("{home}/v1/conversations/current"))
            .bearer_auth(&customer.token)
            .send()
            .await;
        if let Ok(response) = response {
            if response.status() == 200 {
                let current: Value = response.json().await.unwrap_or(Value::Null);
                if current["status"] == "assigned" {
                    customer.conversation_id = current["id"].as_str().map(str::to_owned);
                    return Ok((customer, true));
                }
            }
        }
        tokio::time::sleep(ASSIGN_POLL).await;
    }
    Ok((customer, false))
}

/// Sends the customer's messages one after another (on a timetable in open loop), then tells
/// the agents the customer is done.
async fn send_messages(
    load: Arc<Load>,
    customer: Customer,
    schedule: Option<Schedule>,
    deadline: Instant,
) -> anyhow::Result<Outcome> {
    let index = customer.index;
    let mut outcome = Outcome {
        customer_id: customer.customer_id.clone(),
        sent: Vec::new(),
        latencies_ms: Vec::new(),
        lags_ms: Vec::new(),
    };
    for n in 0..load.messages {
        if let Some(schedule) = &schedule {
            let due = schedule.due(n);
            if due >= deadline {
                break;
            }
            tokio::time::sleep_until(tokio::time::Instant::from_std(due)).await;
            outcome.lags_ms.push(due.elapsed().as_secs_f64() * 1000.0);
        }
        if Instant::now() >= deadline {
            break;
        }
        let text = format!("refund question {n} from customer {index}");
        let client_id = format!("{}{index}-{n}", load.client_prefix);
        let at = Instant::now();
        let accepted = post_message(
            &load.client,
            &load.nodes,
            &customer.token,
            &text,
            &client_id,
            index + n,
        )
        .await
        .with_context(|| format!("customer {index}: message {n}"))?;
        outcome
            .latencies_ms
            .push(at.elapsed().as_secs_f64() * 1000.0);
        let conversation_id = accepted["conversation_id"]
            .as_str()
            .context("conversation_id in the 202 body")?
            .to_owned();
        outcome.sent.push(Sent {
            text,
            client_id,
            conversation_id,
            at,
        });
    }
    if let (Some(agents), Some(conversation)) = (&load.agents, &customer.conversation_id) {
        agents.customer_done(conversation, outcome.sent.len());
    }
    Ok(outcome)
}

/// Store completeness: every acknowledged message stored exactly once, in order. Returns
/// (lost, duplicated, customers reordered).
async fn check_store(load: &Load, outcomes: &[Outcome]) -> anyhow::Result<(usize, usize, usize)> {
    let (mut lost, mut duplicated, mut reordered) = (0usize, 0usize, 0usize);
    let node = &load.nodes[0];
    for outcome in outcomes {
        let messages: Value = load
            .client
            .get(format!(
                "{node}/v1/customers/{}/messages",
                outcome.customer_id
            ))
            .bearer_auth(&load.staff_token)
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
        let acked: Vec<&str> = outcome.sent.iter().map(|s| s.text.as_str()).collect();
        for text in &acked {
            match stored.iter().filter(|s| *s == text).count() {
                0 => lost += 1,
                1 => {}
                _ => duplicated += 1,
            }
        }
        if !same_order(&acked, &stored) {
            reordered += 1;
        }
    }
    Ok((lost, duplicated, reordered))
}

/// True if the items of `expected` that occur in `seen` occur there in the same order (first
/// occurrences; losses and repeats are counted elsewhere).
fn same_order(expected: &[&str], seen: &[&str]) -> bool {
    let wanted: HashSet<&str> = expected.iter().copied().collect();
    let mut first_seen = Vec::new();
    let mut met = HashSet::new();
    for item in seen {
        if wanted.contains(item) && met.insert(*item) {
            first_seen.push(*item);
        }
    }
    let expected_present: Vec<&str> = expected
        .iter()
        .copied()
        .filter(|e| met.contains(e))
        .collect();
    first_seen == expected_present
}

/// What a run found.
struct RunReport {
    fields: Map<String, Value>,
    complete: bool,
    messages_per_s: f64,
}

/// One run: set every customer up (and wait for agents), then send closed loop (`rate` None)
/// or open loop, then check the store and the agents.
async fn run(load: &Arc<Load>, rate: Option<f64>) -> anyhow::Result<RunReport> {
    let run_started = Instant::now();
    let deadline = run_started + Duration::from_secs(load.max_seconds);
    // The agents' counters run across runs; this run reports its own share.
    let counters_before = load.agents.as_ref().map(|a| lock(&a.log).counters());

    let mut setups = Vec::new();
    for index in 0..load.customers {
        setups.push(tokio::spawn(setup_customer(
            Arc::clone(load),
            index,
            deadline,
        )));
    }
    let mut ready = Vec::new();
    let mut unassigned = 0usize;
    for setup in setups {
        let (customer, is_ready) = setup.await??;
        if is_ready {
            ready.push(customer);
        } else {
            unassigned += 1;
            // Should an agent get it later, it wraps it up at once.
            if let (Some(agents), Some(c)) = (&load.agents, &customer.conversation_id) {
                agents.customer_done(c, 0);
            }
        }
    }
    if unassigned > 0 {
        eprintln!(
            "{unassigned} customers got no agent within the wait; are there enough agents (capacity) for --customers?"
        );
    }
    let setup_s = run_started.elapsed().as_secs_f64();

    let started = Instant::now();
    let stride = ready.len();
    let mut tasks = Vec::new();
    for (position, customer) in ready.into_iter().enumerate() {
        let schedule = rate.map(|rate| Schedule {
            start: started,
            rate,
            position,
            stride,
        });
        tasks.push(tokio::spawn(send_messages(
            Arc::clone(load),
            customer,
            schedule,
            deadline,
        )));
    }
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await??);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let sent: usize = outcomes.iter().map(|o| o.sent.len()).sum();
    let messages_per_s = if elapsed > 0.0 {
        sent as f64 / elapsed
    } else {
        0.0
    };

    let (lost, duplicated, reordered) = check_store(load, &outcomes).await?;
    let mut complete = lost == 0 && duplicated == 0 && reordered == 0;
    let mut fields = Map::new();
    fields.insert("messages_acknowledged".into(), json!(sent));
    fields.insert("elapsed_s".into(), json!((elapsed * 100.0).round() / 100.0));
    fields.insert("setup_s".into(), json!((setup_s * 100.0).round() / 100.0));
    fields.insert("messages_per_s".into(), json!(messages_per_s.round()));
    fields.insert(
        "ack_latency_ms".into(),
        percentiles(
            outcomes
                .iter()
                .flat_map(|o| o.latencies_ms.iter().copied())
                .collect(),
        ),
    );
    fields.insert("lost".into(), json!(lost));
    fields.insert("duplicated".into(), json!(duplicated));
    fields.insert("customers_reordered".into(), json!(reordered));
    match rate {
        Some(rate) => {
            fields.insert("mode".into(), json!("open_loop"));
            fields.insert(
                "target_rate_per_s".into(),
                json!((rate * 100.0).round() / 100.0),
            );
            fields.insert(
                "send_lag_ms".into(),
                percentiles(
                    outcomes
                        .iter()
                        .flat_map(|o| o.lags_ms.iter().copied())
                        .collect(),
                ),
            );
        }
        None => {
            fields.insert("mode".into(), json!("closed_loop"));
        }
    }

    if let Some(agents) = &load.agents {
        agents.wait_for_deliveries(&outcomes).await;
        agents.wait_for_wrap_ups().await;
        let figures = agents_figures(&outcomes, &lock(&agents.log));
        complete &= figures.complete() && unassigned == 0;
        fields.insert("customers_unassigned".into(), json!(unassigned));
        fields.insert("delivered_to_agent".into(), json!(figures.delivered));
        fields.insert("agent_lost".into(), json!(figures.lost));
        fields.insert("agent_duplicated".into(), json!(figures.duplicated));
        fields.insert("agent_reordered".into(), json!(figures.reordered));
        fields.insert("agent_misrouted".into(), json!(figures.misrouted));
        fields.insert("agent_latency_ms".into(), percentiles(figures.latencies_ms));
        let (replies, wrap_ups, errors) = lock(&agents.log).counters();
        let (replies_before, wrap_ups_before, errors_before) = counters_before.unwrap_or_default();
        fields.insert("agent_replies".into(), json!(replies - replies_before));
        fields.insert("agent_wrap_ups".into(), json!(wrap_ups - wrap_ups_before));
        fields.insert("agent_errors".into(), json!(errors - errors_before));
    }
    fields.insert("complete".into(), json!(complete));
    Ok(RunReport {
        fields,
        complete,
        messages_per_s,
    })
}

// ---------------------------------------------------------------------------------------
// Agents

/// A customer message as an agent desk received it.
struct Receipt {
    client_id: String,
    at: Instant,
    agent: usize,
}

/// What all agent desks saw, shared with the customers and the report.
#[derive(Default)]
struct AgentLog {
    /// Conversation → customer messages received, in arrival order.
    received: HashMap<String, Vec<Receipt>>,
    /// Conversation → the agents that were assigned it.
    owners: HashMap<String, Vec<usize>>,
    /// This run's conversations an agent holds and has not seen wrapped up yet.
    holding: HashSet<String>,
    /// Conversations whose customer is done → how many messages it had acknowledged.
    done: HashMap<String, usize>,
    replies: usize,
    wrap_ups: usize,
    errors: usize,
}

impl AgentLog {
    /// Replies, wrap-ups and errors so far.
    fn counters(&self) -> (usize, usize, usize) {
        (self.replies, self.wrap_ups, self.errors)
    }
}

/// The agents' shared state and the "customer done" notices.
struct AgentShared {
    log: Mutex<AgentLog>,
    done: broadcast::Sender<(String, usize)>,
}

impl AgentShared {
    /// The customer of `conversation` is done after `acknowledged` messages: its agent wraps
    /// up once it has received them all (or after a bounded wait).
    fn customer_done(&self, conversation: &str, acknowledged: usize) {
        lock(&self.log)
            .done
            .insert(conversation.to_owned(), acknowledged);
        // No receiver only means no agent is running any more; nothing to wrap up then.
        let _ = self.done.send((conversation.to_owned(), acknowledged));
    }

    fn all_delivered(&self, outcomes: &[Outcome]) -> bool {
        let log = lock(&self.log);
        outcomes.iter().flat_map(|o| &o.sent).all(|s| {
            log.received
                .get(&s.conversation_id)
                .is_some_and(|r| r.iter().any(|r| r.client_id == s.client_id))
        })
    }

    /// Waits (bounded) until every acknowledged message reached an agent.
    async fn wait_for_deliveries(&self, outcomes: &[Outcome]) {
        let polls = DELIVERY_DRAIN_TIMEOUT.as_millis() / DRAIN_POLL.as_millis();
        for _ in 0..polls {
            if self.all_delivered(outcomes) {
                return;
            }
            tokio::time::sleep(DRAIN_POLL).await;
        }
    }

    /// Waits (bounded) until the agents wrapped up every conversation of this run they hold.
    async fn wait_for_wrap_ups(&self) {
        let polls = WRAP_UP_TIMEOUT.as_millis() / DRAIN_POLL.as_millis();
        for _ in 0..polls {
            if lock(&self.log).holding.is_empty() {
                return;
            }
            tokio::time::sleep(DRAIN_POLL).await;
        }
    }
}

/// Delivery to agents, from the customers' acknowledged messages and the agents' receipts.
#[derive(Debug, Default, PartialEq)]
struct AgentFigures {
    /// Acknowledged messages that reached an agent.
    delivered: usize,
    lost: usize,
    /// Messages an agent received more than once.
    duplicated: usize,
    /// Conversations whose messages reached the agent out of order.
    reordered: usize,
    /// Receipts by an agent that was not the conversation's (single) owner.
    misrouted: usize,
    /// Customer send → first agent receipt.
    latencies_ms: Vec<f64>,
}

impl AgentFigures {
    fn complete(&self) -> bool {
        self.lost == 0 && self.duplicated == 0 && self.reordered == 0 && self.misrouted == 0
    }
}

fn agents_figures(outcomes: &[Outcome], log: &AgentLog) -> AgentFigures {
    let mut figures = AgentFigures::default();
    let mut conversations: HashMap<&str, Vec<&Sent>> = HashMap::new();
    for sent in outcomes.iter().flat_map(|o| &o.sent) {
        conversations
            .entry(sent.conversation_id.as_str())
            .or_default()
            .push(sent);
    }
    for (conversation, sent) in conversations {
        let receipts: &[Receipt] = log
            .received
            .get(conversation)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let owners = log.owners.get(conversation).map(Vec::as_slice);
        let owner = match owners {
            Some([only]) => Some(*only),
            _ => None,
        };
        for message in &sent {
            let mut copies = receipts.iter().filter(|r| r.client_id == message.client_id);
            match copies.next() {
                None => figures.lost += 1,
                Some(first) => {
                    figures.delivered += 1;
                    let latency = first.at.saturating_duration_since(message.at);
                    figures.latencies_ms.push(latency.as_secs_f64() * 1000.0);
                    if copies.next().is_some() {
                        figures.duplicated += 1;
                    }
                }
            }
        }
        let acked: HashSet<&str> = sent.iter().map(|s| s.client_id.as_str()).collect();
        figures.misrouted += receipts
            .iter()
            .filter(|r| acked.contains(r.client_id.as_str()) && Some(r.agent) != owner)
            .count();
        let expected: Vec<&str> = sent.iter().map(|s| s.client_id.as_str()).collect();
        let seen: Vec<&str> = receipts.iter().map(|r| r.client_id.as_str()).collect();
        if !same_order(&expected, &seen) {
            figures.reordered += 1;
        }
    }
    figures
}

/// The running agent desks.
struct AgentPool {
    shared: Arc<AgentShared>,
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

/// One simulated agent.
struct AgentSpec {
    index: usize,
    username: String,
    password: String,
    node: String,
}

impl AgentPool {
    /// Logs every agent in, opens the desks and waits (bounded) until all are available.
    async fn start(
        client: &reqwest::Client,
        nodes: &[String],
        users: &[String],
        password: &str,
        client_prefix: &str,
        notices: usize,
        until: Instant,
    ) -> anyhow::Result<AgentPool> {
        let (done, _) = broadcast::channel(notices.max(16));
        let shared = Arc::new(AgentShared {
            log: Mutex::default(),
            done,
        });
        let (stop, _) = watch::channel(false);
        let mut pool = AgentPool {
            shared,
            stop,
            tasks: Vec::new(),
        };
        let mut readiness = Vec::new();
        for (index, username) in users.iter().enumerate() {
            let (ready, is_ready) = oneshot::channel();
            let agent = Agent {
                spec: AgentSpec {
                    index,
                    username: username.clone(),
                    password: password.to_owned(),
                    node: nodes[index % nodes.len()].clone(),
                },
                shared: Arc::clone(&pool.shared),
                client_prefix: client_prefix.to_owned(),
                owned: HashSet::new(),
                early: HashMap::new(),
                seen: HashMap::new(),
                closing: HashMap::new(),
            };
            pool.tasks.push(tokio::spawn(agent.run(
                client.clone(),
                pool.shared.done.subscribe(),
                pool.stop.subscribe(),
                ready,
                until,
            )));
            readiness.push((username.clone(), is_ready));
        }
        for (i, (username, is_ready)) in readiness.into_iter().enumerate() {
            if tokio::time::timeout(DESK_SETUP_TIMEOUT, is_ready)
                .await
                .is_ok_and(|r| r.is_ok())
            {
                continue;
            }
            // The desk failed or hung: report why, after stopping the others.
            let task = pool.tasks.remove(i);
            task.abort();
            let why = match task.await {
                Ok(Err(error)) => format!("{error:#}"),
                _ => "it did not become available in time".to_owned(),
            };
            pool.stop().await;
            bail!("agent {username}: {why}");
        }
        Ok(pool)
    }

    /// Closes every desk (bounded).
    async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            match tokio::time::timeout(DESK_SETUP_TIMEOUT, task).await {
                Ok(Ok(Err(error))) => eprintln!("An agent desk ended with an error: {error:#}"),
                Ok(_) => {}
                Err(_) => eprintln!("An agent desk did not stop in time."),
            }
        }
    }
}

/// One agent desk's state.
struct Agent {
    spec: AgentSpec,
    shared: Arc<AgentShared>,
    client_prefix: String,
    /// This run's conversations this agent holds.
    owned: HashSet<String>,
    /// Customer messages that arrived before their `assigned` (answered once it comes).
    early: HashMap<String, Vec<String>>,
    /// This process's customer messages received, per conversation.
    seen: HashMap<String, HashSet<String>>,
    /// Owned conversations whose customer is done → messages to expect, and when to wrap up
    /// anyway.
    closing: HashMap<String, (usize, Instant)>,
}

impl Agent {
    async fn run(
        mut self,
        client: reqwest::Client,
        mut notices: broadcast::Receiver<(String, usize)>,
        mut stop: watch::Receiver<bool>,
        ready: oneshot::Sender<()>,
        until: Instant,
    ) -> anyhow::Result<()> {
        let (username, node) = (&self.spec.username, &self.spec.node);
        let login: Value = client
            .post(format!("{node}/v1/auth/login"))
            .json(&json!({"username": username, "password": self.spec.password}))
            .send()
            .await?
            .error_for_status()
            .context("login refused (seed load agents with SWITCHBOARD_DEMO__LOAD_AGENTS=N)")?
            .json()
            .await?;
        ensure!(
            login["role"] == "agent",
            "{username} is not an agent account"
        );
        let token = login["token"].as_str().context("agent token")?;
        let mut desk = Desk::connect(node, "/v1/ws/agent", token).await?;
        let hello = desk
            .wait_for(DESK_SETUP_TIMEOUT, |f| f["type"] == "hello")
            .await
            .context("the desk sent no hello")?;
        // Conversations still held from an earlier load run occupy capacity: wrap them up.
        for open in hello["conversations"].as_array().into_iter().flatten() {
            let conversation = open["conversation_id"].as_str().unwrap_or_default();
            if self.is_leftover(&open["history"]) {
                self.wrap_up(&desk, conversation, "unresolved").await?;
            }
        }
        desk.send(&json!({"type": "status", "status": "available"}))
            .await?;
        desk.wait_for(DESK_SETUP_TIMEOUT, |f| f["type"] == "status")
            .await
            .context("the desk did not confirm 'available'")?;
        let _ = ready.send(());

        let mut notices_open = true;
        let until = tokio::time::Instant::from_std(until);
        let mut overdue_check = tokio::time::interval(DRAIN_POLL);
        // Frames that arrived while waiting for hello/status first, then the live loop. It
        // ends on stop, at the hard deadline, or when the server closes the desk.
        while let Some(frame) = desk.kept.pop_front() {
            self.on_frame(&desk, frame).await?;
        }
        loop {
            tokio::select! {
                frame = desk.frames.recv() => match frame {
                    Some(text) => match serde_json::from_str::<Value>(&text) {
                        Ok(frame) => self.on_frame(&desk, frame).await?,
                        Err(_) => self.error(&format!("undecodable frame: {text}")),
                    },
                    None => {
                        self.error("the server closed the desk");
                        break;
                    }
                },
                notice = notices.recv(), if notices_open => match notice {
                    Ok((conversation, acknowledged)) => {
                        self.customer_done(&desk, &conversation, acknowledged).await?;
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        // Missed notices: the shared log has them all.
                        let done: Vec<(String, usize)> = {
                            let log = lock(&self.shared.log);
                            self.owned
                                .iter()
                                .filter_map(|c| log.done.get(c).map(|n| (c.clone(), *n)))
                                .collect()
                        };
                        for (conversation, acknowledged) in done {
                            self.customer_done(&desk, &conversation, acknowledged).await?;
                        }
                    }
                    Err(broadcast::error::RecvError::Closed) => notices_open = false,
                },
                _ = overdue_check.tick(), if !self.closing.is_empty() => {
                    let overdue: Vec<String> = self
                        .closing
                        .iter()
                        .filter(|(_, (_, by))| Instant::now() >= *by)
                        .map(|(c, _)| c.clone())
                        .collect();
                    for conversation in overdue {
                        self.wrap_up(&desk, &conversation, "resolved").await?;
                    }
                },
                _ = stop.changed() => break,
                () = tokio::time::sleep_until(until) => break,
            }
        }
        desk.close().await;
        Ok(())
    }

    /// True for a conversation an earlier load run left open (a `client_id` of the load
    /// generator, but not of this process).
    fn is_leftover(&self, history: &Value) -> bool {
        history.as_array().into_iter().flatten().any(|m| {
            m["client_id"]
                .as_str()
                .is_some_and(|c| c.starts_with("lg-") && !c.starts_with(&self.client_prefix))
        })
    }

    /// True for a conversation of this process's customers.
    fn is_ours(&self, history: &Value) -> bool {
        history.as_array().into_iter().flatten().any(|m| {
            m["client_id"]
                .as_str()
                .is_some_and(|c| c.starts_with(&self.client_prefix))
        })
    }

    fn error(&self, what: &str) {
        let mut log = lock(&self.shared.log);
        log.errors += 1;
        if log.errors <= PRINTED_AGENT_ERRORS {
            eprintln!("agent {}: {what}", self.spec.username);
        }
    }

    /// The customer is done: wrap up once its last messages arrived (bounded wait).
    async fn customer_done(
        &mut self,
        desk: &Desk,
        conversation: &str,
        acknowledged: usize,
    ) -> anyhow::Result<()> {
        if !self.owned.contains(conversation) {
            return Ok(()); // not ours, or `assigned` still on its way (it checks the log)
        }
        let by = Instant::now() + DELIVERY_DRAIN_TIMEOUT;
        self.closing
            .insert(conversation.to_owned(), (acknowledged, by));
        self.close_if_complete(desk, conversation).await
    }

    /// Wraps up a closing conversation once every acknowledged message was received.
    async fn close_if_complete(&mut self, desk: &Desk, conversation: &str) -> anyhow::Result<()> {
        let Some((expected, _)) = self.closing.get(conversation) else {
            return Ok(());
        };
        let received = self.seen.get(conversation).map_or(0, HashSet::len);
        if received >= *expected {
            self.wrap_up(desk, conversation, "resolved").await?;
        }
        Ok(())
    }

    async fn wrap_up(
        &mut self,
        desk: &Desk,
        conversation: &str,
        resolution: &str,
    ) -> anyhow::Result<()> {
        self.owned.remove(conversation);
        self.closing.remove(conversation);
        self.seen.remove(conversation);
        desk.send(&json!({
            "type": "wrap_up",
            "conversation_id": conversation,
            "resolution": resolution,
        }))
        .await?;
        lock(&self.shared.log).wrap_ups += 1;
        Ok(())
    }

    async fn reply(
        &mut self,
        desk: &Desk,
        conversation: &str,
        client_id: &str,
    ) -> anyhow::Result<()> {
        desk.send(&json!({
            "type": "message",
            "conversation_id": conversation,
            "text": format!("Answer to {client_id}"),
        }))
        .await?;
        lock(&self.shared.log).replies += 1;
        Ok(())
    }

    async fn on_frame(&mut self, desk: &Desk, frame: Value) -> anyhow::Result<()> {
        let conversation = frame["conversation_id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        match frame["type"].as_str().unwrap_or_default() {
            "offer" => {
                desk.send(&json!({"type": "accept", "task_id": frame["task_id"]}))
                    .await?;
            }
            "assigned" => {
                let early = self.early.remove(&conversation).unwrap_or_default();
                if self.is_leftover(&frame["history"]) {
                    return self.wrap_up(desk, &conversation, "unresolved").await;
                }
                if !self.is_ours(&frame["history"]) {
                    return Ok(()); // someone else's customer: leave it alone
                }
                let done = {
                    let mut log = lock(&self.shared.log);
                    log.owners
                        .entry(conversation.clone())
                        .or_default()
                        .push(self.spec.index);
                    log.holding.insert(conversation.clone());
                    log.done.get(&conversation).copied()
                };
                self.owned.insert(conversation.clone());
                for client_id in early {
                    self.reply(desk, &conversation, &client_id).await?;
                }
                if let Some(acknowledged) = done {
                    self.customer_done(desk, &conversation, acknowledged)
                        .await?;
                }
            }
            "message" if frame["from"] == "customer" => {
                let Some(client_id) = frame["client_id"].as_str() else {
                    return Ok(());
                };
                lock(&self.shared.log)
                    .received
                    .entry(conversation.clone())
                    .or_default()
                    .push(Receipt {
                        client_id: client_id.to_owned(),
                        at: Instant::now(),
                        agent: self.spec.index,
                    });
                if client_id.starts_with(&self.client_prefix) {
                    self.seen
                        .entry(conversation.clone())
                        .or_default()
                        .insert(client_id.to_owned());
                }
                if self.owned.contains(&conversation) {
                    self.reply(desk, &conversation, client_id).await?;
                    self.close_if_complete(desk, &conversation).await?;
                } else if client_id.starts_with(&self.client_prefix) {
                    // The customer saw the assignment in the store before this desk got its
                    // `assigned`: answer once it arrives.
                    self.early
                        .entry(conversation)
                        .or_default()
                        .push(client_id.to_owned());
                }
            }
            "wrapped_up" => {
                self.owned.remove(&conversation);
                lock(&self.shared.log).holding.remove(&conversation);
            }
            "error" => self.error(&frame.to_string()),
            // hello, status, offer_revoked, our own replies echoed, …
            _ => {}
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Broker baseline

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

// ---------------------------------------------------------------------------------------
// Main

/// The agent accounts to use: `--agent-users`, else `load-agent-1` … `load-agent-M`.
fn agent_users(args: &Args) -> anyhow::Result<Vec<String>> {
    let given: Vec<String> = args
        .agent_users
        .iter()
        .map(|u| u.trim().to_owned())
        .filter(|u| !u.is_empty())
        .collect();
    if given.is_empty() {
        return Ok((1..=args.agents)
            .map(|n| format!("{}{n}", switchboard::demo::LOAD_AGENT_PREFIX))
            .collect());
    }
    let wanted = if args.agents == 0 {
        given.len()
    } else {
        args.agents
    };
    ensure!(
        wanted <= given.len(),
        "--agents {wanted} needs at least as many --agent-users (got {})",
        given.len()
    );
    Ok(given.into_iter().take(wanted).collect())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    ensure!(!args.nodes.is_empty(), "give at least one --nodes URL");
    for url in args.nodes.iter().chain(args.amqp.iter()) {
        ensure_loopback(url)?;
    }
    if let Some(rate) = args.rate {
        ensure!(
            rate.is_finite() && rate > 0.0,
            "--rate must be a positive number of messages per second"
        );
    }
    if let Some(fraction) = args.at_saturation_fraction {
        ensure!(
            fraction > 0.0 && fraction <= 1.0,
            "--at-saturation-fraction must be in (0, 1]"
        );
    }
    let users = agent_users(&args)?;
    let nodes: Vec<String> = args
        .nodes
        .iter()
        .map(|n| n.trim_end_matches('/').to_owned())
        .collect();
    let client = reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .build()?;
    let total = args.customers * args.messages;

    let baseline = match &args.amqp {
        Some(url) => Some(broker_baseline(url, total.max(1000), args.customers, 200).await?),
        None => None,
    };

    let login: Value = client
        .post(format!("{}/v1/auth/login", nodes[0]))
        .json(&json!({"username": args.staff_user, "password": args.staff_password}))
        .send()
        .await?
        .error_for_status()
        .context("staff login for the completeness check")?
        .json()
        .await?;
    let staff_token = login["token"].as_str().context("staff token")?.to_owned();

    let runs: u32 = if args.at_saturation_fraction.is_some() {
        2
    } else {
        1
    };
    let assign_wait = Duration::from_secs(args.assign_timeout_seconds);
    let client_prefix = format!("lg-{}-", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let pool = if users.is_empty() {
        None
    } else {
        // Agents outlive every run; this bounds them even if a run misbehaves.
        let per_run = Duration::from_secs(args.max_seconds) + assign_wait + Duration::from_secs(60);
        let until = Instant::now() + per_run * runs + DESK_SETUP_TIMEOUT;
        let notices = args.customers * runs as usize;
        Some(
            AgentPool::start(
                &client,
                &nodes,
                &users,
                &args.agent_password,
                &client_prefix,
                notices,
                until,
            )
            .await?,
        )
    };
    let load = Arc::new(Load {
        client,
        nodes: nodes.clone(),
        customers: args.customers,
        messages: args.messages,
        max_seconds: args.max_seconds,
        client_prefix,
        handoff: pool
            .as_ref()
            .map(|_| (args.handoff_text.clone(), assign_wait)),
        agents: pool.as_ref().map(|p| Arc::clone(&p.shared)),
        staff_token,
    });

    let outcome = async {
        if let Some(fraction) = args.at_saturation_fraction {
            let saturation = run(&load, None).await?;
            let rate = saturation.messages_per_s * fraction;
            ensure!(rate > 0.0, "the closed-loop run acknowledged nothing");
            let reduced = run(&load, Some(rate)).await?;
            anyhow::Ok((reduced, Some((saturation, fraction))))
        } else {
            anyhow::Ok((run(&load, args.rate).await?, None))
        }
    }
    .await;
    if let Some(pool) = pool {
        pool.stop().await;
    }
    let (primary, saturation) = outcome?;

    let mut report = Map::new();
    report.insert("nodes".into(), json!(nodes.len()));
    report.insert("customers".into(), json!(args.customers));
    if !users.is_empty() {
        report.insert("agents".into(), json!(users.len()));
    }
    let mut complete = primary.complete;
    // Compared with the broker: the saturating (closed-loop) rate when one was measured.
    let mut closed_loop_rate = primary.messages_per_s;
    report.extend(primary.fields);
    if let Some((saturation, fraction)) = saturation {
        complete &= saturation.complete;
        closed_loop_rate = saturation.messages_per_s;
        report.insert("saturation_fraction".into(), json!(fraction));
        report.insert(
            "saturating_messages_per_s".into(),
            json!(saturation.messages_per_s.round()),
        );
        report.insert("saturation_run".into(), Value::Object(saturation.fields));
    }
    report.insert("complete".into(), json!(complete));
    report.insert(
        "broker_baseline_per_s".into(),
        json!(baseline.map(f64::round)),
    );
    report.insert(
        "ratio_to_broker".into(),
        json!(baseline.map(|b| (closed_loop_rate / b * 1000.0).round() / 1000.0)),
    );
    println!("{}", serde_json::to_string_pretty(&Value::Object(report))?);
    ensure!(complete, "completeness check failed");
    Ok(())
}

// ---------------------------------------------------------------------------------------
// The agent desks' WebSocket connection (tokio-tungstenite)

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The `ws://` URL of `path?token=…` on an `http://` node base URL, keeping its path prefix.
fn socket_url(node: &str, path: &str, token: &str) -> anyhow::Result<String> {
    ensure!(
        token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.~".contains(c)),
        "the token is not URL-safe"
    );
    let rest = node
        .strip_prefix("http://")
        .context("agent desks need an http:// node URL")?;
    Ok(format!(
        "ws://{}{path}?token={token}",
        rest.trim_end_matches('/')
    ))
}

/// A WebSocket connection speaking JSON text frames. A reader task hands text messages over
/// (tungstenite answers pings and the server's close by itself); frames read while waiting for
/// a particular one are kept.
struct Desk {
    sink: tokio::sync::Mutex<SplitSink<Socket, Message>>,
    frames: mpsc::UnboundedReceiver<String>,
    kept: VecDeque<Value>,
    reader: tokio::task::JoinHandle<()>,
}

impl Desk {
    /// Opens `path?token=…` on the node (bounded).
    async fn connect(node: &str, path: &str, token: &str) -> anyhow::Result<Desk> {
        let url = socket_url(node, path, token)?;
        // Nagle off, as the desks' latency is measured.
        let (socket, _) = tokio::time::timeout(
            DESK_SETUP_TIMEOUT,
            connect_async_with_config(url.as_str(), None, true),
        )
        .await
        .context("WebSocket handshake timed out")?
        .context("WebSocket upgrade refused")?;
        let (sink, stream) = socket.split();
        let (tx, frames) = mpsc::unbounded_channel();
        let reader = tokio::spawn(read_frames(stream, tx));
        Ok(Desk {
            sink: tokio::sync::Mutex::new(sink),
            frames,
            kept: VecDeque::new(),
            reader,
        })
    }

    async fn send(&self, value: &Value) -> anyhow::Result<()> {
        let mut sink = self.sink.lock().await;
        sink.send(Message::text(value.to_string())).await?;
        Ok(())
    }

    /// The first frame matching `wanted` within `limit`; others are kept for later.
    async fn wait_for(
        &mut self,
        limit: Duration,
        wanted: impl Fn(&Value) -> bool,
    ) -> Option<Value> {
        let until = tokio::time::Instant::now() + limit;
        loop {
            let text = tokio::time::timeout_at(until, self.frames.recv())
                .await
                .ok()??;
            let Ok(frame) = serde_json::from_str::<Value>(&text) else {
                continue;
            };
            if wanted(&frame) {
                return Some(frame);
            }
            self.kept.push_back(frame);
        }
    }

    /// Says goodbye and stops the reader.
    async fn close(self) {
        let mut sink = self.sink.into_inner();
        let goodbye = CloseFrame {
            code: CloseCode::Normal,
            reason: "".into(),
        };
        let _ = sink.send(Message::Close(Some(goodbye))).await;
        let _ = sink.close().await;
        self.reader.abort();
    }
}

/// Reads messages until the connection ends or the server closes: text goes to `tx`.
async fn read_frames(mut stream: SplitStream<Socket>, tx: mpsc::UnboundedSender<String>) {
    while let Some(Ok(message)) = stream.next().await {
        let text = match message {
            Message::Text(text) => text,
            Message::Close(_) => break,
            _ => continue, // ping (answered by tungstenite), pong, binary
        };
        if tx.send(text).is_err() {
            return;
        }
    }
    drop(tx);
    // Reading on lets tungstenite send its reply to the server's close; this ends with the
    // connection, or when the desk is closed.
    while let Some(Ok(_)) = stream.next().await {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_urls_give_the_agent_socket_url() {
        assert_eq!(
            socket_url("http://127.0.0.1:8080", "/v1/ws/agent", "t-1").expect("ok"),
            "ws://127.0.0.1:8080/v1/ws/agent?token=t-1"
        );
        assert_eq!(
            socket_url("http://localhost/sb/", "/v1/ws/agent", "t").expect("ok"),
            "ws://localhost/sb/v1/ws/agent?token=t"
        );
        assert!(socket_url("https://127.0.0.1", "/v1/ws/agent", "t").is_err());
        assert!(socket_url("http://127.0.0.1", "/v1/ws/agent", "a&b").is_err());
    }

    #[test]
    fn order_is_judged_on_first_deliveries_only() {
        assert!(same_order(&["a", "b", "c"], &["a", "x", "b", "c"]));
        assert!(same_order(&["a", "b", "c"], &["a", "c"]));
        assert!(same_order(&["a", "b"], &["a", "b", "a"]));
        assert!(!same_order(&["a", "b", "c"], &["b", "a", "c"]));
    }

    fn sent(client_id: &str, at: Instant) -> Sent {
        Sent {
            text: client_id.to_owned(),
            client_id: client_id.to_owned(),
            conversation_id: "c1".to_owned(),
            at,
        }
    }

    #[test]
    fn agent_figures_count_losses_repeats_reorders_and_strangers() {
        let t0 = Instant::now();
        let outcome = Outcome {
            customer_id: "k".to_owned(),
            sent: ["m1", "m2", "m3", "m4"].map(|c| sent(c, t0)).into(),
            latencies_ms: Vec::new(),
            lags_ms: Vec::new(),
        };
        let receipt = |client_id: &str, agent: usize| Receipt {
            client_id: client_id.to_owned(),
            at: t0 + Duration::from_millis(5),
            agent,
        };
        let mut log = AgentLog::default();
        log.owners.insert("c1".to_owned(), vec![0]);
        log.received.insert(
            "c1".to_owned(),
            vec![
                receipt("m2", 0),
                receipt("m1", 0),
                receipt("m2", 0),
                receipt("m4", 1),
            ],
        );
        let figures = agents_figures(&[outcome], &log);
        assert_eq!(figures.delivered, 3);
        assert_eq!(figures.lost, 1);
        assert_eq!(figures.duplicated, 1);
        assert_eq!(figures.reordered, 1);
        assert_eq!(figures.misrouted, 1);
        assert!(!figures.complete());
        assert!(figures.latencies_ms.iter().all(|l| *l >= 5.0));
    }

    #[test]
    fn an_open_loop_timetable_interleaves_customers() {
        let start = Instant::now();
        let schedule = |position| Schedule {
            start,
            rate: 10.0,
            position,
            stride: 2,
        };
        assert_eq!(schedule(0).due(0), start);
        assert_eq!(schedule(1).due(0), start + Duration::from_millis(100));
        assert_eq!(schedule(0).due(1), start + Duration::from_millis(200));
        assert_eq!(schedule(1).due(1), start + Duration::from_millis(300));
    }
}
