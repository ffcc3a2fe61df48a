//! Logs (`tracing`, pretty or JSON) and Prometheus metrics.

use prometheus::{
    Encoder, Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};
use tracing_subscriber::{fmt, EnvFilter};

use crate::settings::{LogFormat, LogSettings};

/// Installs the global subscriber. `RUST_LOG` overrides the configured filter. Safe to call
/// more than once (later calls are ignored), which tests rely on.
pub fn init_tracing(settings: &LogSettings) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(settings.filter.clone()));
    let result = match settings.format {
        LogFormat::Json => fmt()
            .json()
            .with_env_filter(filter)
            .with_current_span(false)
            .try_init(),
        LogFormat::Pretty => fmt().with_env_filter(filter).with_target(false).try_init(),
    };
    // Err only means a subscriber is already installed.
    drop(result);
}

/// Every metric a node exports at `/metrics`.
pub struct Metrics {
    registry: Registry,
    /// Customer messages received, by channel.
    pub messages_in: IntCounterVec,
    /// Messages sent to customers (bot, agent, system), by channel.
    pub messages_out: IntCounterVec,
    /// Customer session actors alive on this node.
    pub active_sessions: IntGauge,
    /// Agent desks connected to this node.
    pub connected_agents: IntGauge,
    /// Tasks waiting for an agent (as seen by the active dispatcher).
    pub waiting_tasks: IntGauge,
    /// Offers by outcome: made, accepted, rejected, expired, revoked.
    pub offers: IntCounterVec,
    /// Tasks that left the queue without an agent: `abandoned` (the customer gave up), or
    /// the fallback they went to (`callback`, `ticket`, `bot_message`).
    pub tasks_unanswered: IntCounterVec,
    /// Seconds from task creation to agent acceptance.
    pub assignment_latency: Histogram,
    /// Requests refused by the per-customer rate limit.
    pub rate_limited: IntCounterVec,
    /// Answers to WeChat messages: `passive` (the reply in the webhook's response) or
    /// `success` (acknowledged; any answer goes through the API).
    pub wechat_replies: IntCounterVec,
    /// Agent-assist suggestions pushed to desks.
    pub assist_suggestions: IntCounter,
    /// Flow actions run by sessions, by kind (http, ticket) and outcome (ok, status, failed).
    pub flow_actions: IntCounterVec,
    /// Provider delivery attempts by channel and outcome (delivered, retried, parked).
    pub deliveries: IntCounterVec,
    /// Outbox rows by status (pending, sending, parked), refreshed by the relay.
    pub outbox_rows: IntGaugeVec,
    /// Deliveries republished from the outbox after their queue message was lost.
    pub outbox_relayed: IntCounter,
    /// Messages in the bus's parking queue (failed five deliveries), read at each scrape.
    pub bus_parked: IntGauge,
}

impl Metrics {
    /// Registers every metric in a fresh registry.
    pub fn new() -> anyhow::Result<Self> {
        let registry = Registry::new_custom(Some("switchboard".to_owned()), None)?;
        let messages_in = IntCounterVec::new(
            Opts::new(
                "messages_in_total",
                "Customer messages received, by channel.",
            ),
            &["channel"],
        )?;
        let messages_out = IntCounterVec::new(
            Opts::new(
                "messages_out_total",
                "Messages sent to customers, by channel.",
            ),
            &["channel"],
        )?;
        let active_sessions = IntGauge::new("active_sessions", "Customer session actors alive.")?;
        let connected_agents = IntGauge::new("connected_agents", "Agent desks connected.")?;
        let waiting_tasks = IntGauge::new("waiting_tasks", "Tasks waiting for an agent.")?;
        let offers = IntCounterVec::new(
            Opts::new("offers_total", "Offers to agents, by outcome."),
            &["outcome"],
        )?;
        let tasks_unanswered = IntCounterVec::new(
            Opts::new(
                "tasks_unanswered_total",
                "Tasks that left the queue without an agent: abandoned, or to a fallback.",
            ),
            &["outcome"],
        )?;
        let assignment_latency = Histogram::with_opts(
            HistogramOpts::new(
                "assignment_latency_seconds",
                "Seconds from hand-off to an agent accepting.",
            )
            .buckets(vec![
                0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0,
            ]),
        )?;
        let rate_limited = IntCounterVec::new(
            Opts::new(
                "rate_limited_total",
                "Customer messages refused by the rate limit, by channel.",
            ),
            &["channel"],
        )?;
        let wechat_replies = IntCounterVec::new(
            Opts::new(
                "wechat_replies_total",
                "Answers to WeChat webhooks: passive reply or plain success.",
            ),
            &["kind"],
        )?;
        let assist_suggestions = IntCounter::new(
            "assist_suggestions_total",
            "Agent-assist suggestions pushed to desks.",
        )?;
        let flow_actions = IntCounterVec::new(
            Opts::new(
                "flow_actions_total",
                "Flow actions (order look-ups, tickets) by kind and outcome.",
            ),
            &["kind", "outcome"],
        )?;
        let deliveries = IntCounterVec::new(
            Opts::new(
                "deliveries_total",
                "Provider delivery attempts, by channel and outcome.",
            ),
            &["channel", "outcome"],
        )?;
        let outbox_rows = IntGaugeVec::new(
            Opts::new("outbox_rows", "Outbox rows not delivered, by status."),
            &["status"],
        )?;
        let outbox_relayed = IntCounter::new(
            "outbox_relayed_total",
            "Deliveries republished from the outbox after their queue message was lost.",
        )?;
        let bus_parked = IntGauge::new(
            "bus_parked_messages",
            "Work-queue messages parked after five failed deliveries.",
        )?;
        registry.register(Box::new(bus_parked.clone()))?;
        registry.register(Box::new(deliveries.clone()))?;
        registry.register(Box::new(outbox_rows.clone()))?;
        registry.register(Box::new(outbox_relayed.clone()))?;
        registry.register(Box::new(messages_in.clone()))?;
        registry.register(Box::new(messages_out.clone()))?;
        registry.register(Box::new(active_sessions.clone()))?;
        registry.register(Box::new(connected_agents.clone()))?;
        registry.register(Box::new(waiting_tasks.clone()))?;
        registry.register(Box::new(offers.clone()))?;
        registry.register(Box::new(tasks_unanswered.clone()))?;
        for outcome in ["abandoned", "callback", "ticket", "bot_message"] {
            tasks_unanswered.with_label_values(&[outcome]);
        }
        registry.register(Box::new(assignment_latency.clone()))?;
        registry.register(Box::new(rate_limited.clone()))?;
        registry.register(Box::new(wechat_replies.clone()))?;
        registry.register(Box::new(assist_suggestions.clone()))?;
        registry.register(Box::new(flow_actions.clone()))?;
        for kind in ["passive", "success"] {
            wechat_replies.with_label_values(&[kind]);
        }
        for outcome in ["made", "accepted", "rejected", "expired", "revoked"] {
            offers.with_label_values(&[outcome]);
        }
        for channel in crate::domain::Channel::ALL {
            messages_in.with_label_values(&[channel.as_str()]);
            messages_out.with_label_values(&[channel.as_str()]);
        }
        Ok(Self {
            registry,
            messages_in,
            messages_out,
            active_sessions,
            connected_agents,
            waiting_tasks,
            offers,
            tasks_unanswered,
            assignment_latency,
            rate_limited,
            wechat_replies,
            assist_suggestions,
            flow_actions,
            deliveries,
            outbox_rows,
            outbox_relayed,
            bus_parked,
        })
    }

    /// Prometheus text exposition.
    pub fn render(&self) -> anyhow::Result<String> {
        let mut buf = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut buf)?;
        Ok(String::from_utf8(buf)?)
    }
}
