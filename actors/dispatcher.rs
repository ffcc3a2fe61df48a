//! `Dispatcher`: holds waiting tasks and agent states and turns routing decisions into offers.
//!
//! It consumes the `dispatch` work queue one event at a time (each event is fully applied and
//! its offers published before the next is read, then acknowledged), asks the pure policy in
//! [`crate::routing::policy`] what to offer, and keeps offers honest: an offer expires after the offer
//! timeout, a reject or expiry re-offers to someone else, an agent who disconnects loses their
//! offers, and an acceptance is committed with a compare-and-set in the store, so a task is
//! never assigned twice. On start it rebuilds its queue from the store.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use chrono::Utc;
use serde::Serialize;

use super::protocol::{
    agent_route, agents_broadcast_route, dispatch_route, AgentEvent, DispatchEvent, SessionCommand,
    TransferOffer, DISPATCH_QUEUE,
};
use super::session_router::command_envelope;
use crate::bus::{publish_json, Bus, Delivery, Route};
use crate::domain::{
    AgentId, AgentStatus, Channel, ConversationId, CustomerId, Priority, Task, TaskId, TaskStatus,
};
use crate::routing::policy::{self, AgentState, Media, Millis, QueuedTask, Slots, TaskQueue};
use crate::routing::rules::{
    self, CompiledRules, Decision, Fallback, Override, RuleSetDoc, TaskFacts,
};
use crate::routing::stats::{Left, Outcome, QueueStats, QueueSummary};
use crate::settings::RoutingSettings;
use crate::store::{QueueExit, Store};
use crate::telemetry::Metrics;
use crate::views::CustomerCard;

/// Tells the dispatcher about `event`, wherever it runs (the active one of the cluster, through
/// the `dispatch` queue): how an edge reports a supervisor's change. A notice that is lost is
/// not fatal: the dispatcher also reconciles with the store.
pub async fn tell(bus: &dyn Bus, event: &DispatchEvent) -> crate::bus::BusResult<()> {
    publish_json(bus, &dispatch_route(), event).await
}

/// What an agent's desk reports ([`DispatchEvent::AgentState`]), capacities resolved.
struct DeskReport {
    agent_id: AgentId,
    name: String,
    connection_id: String,
    status: AgentStatus,
    skills: Vec<crate::domain::Skill>,
    languages: Vec<crate::domain::Language>,
    capacity: Slots,
    active: Vec<ConversationId>,
    /// Why the agent is away, if they are.
    reason: Option<String>,
}

/// Live figures for `GET /v1/queues`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QueueFigures {
    pub waiting: usize,
    pub offered: usize,
    pub longest_wait_ms: u64,
    /// The rule-set version in force (None: built-in routing).
    #[schema(required = true)]
    pub rules_version: Option<i64>,
    /// The service-level threshold of `queues[].service_level`.
    pub service_level_secs: u64,
    /// The window of the per-queue outcome figures.
    pub stats_window_secs: u64,
    #[schema(inline)]
    pub queues: Vec<QueueFigure>,
    #[schema(inline)]
    pub agents: Vec<AgentFigure>,
    /// Supervisors' overrides in force.
    pub overrides: Vec<Override>,
    /// The first waiting tasks in service order (at most [`TASKS_SHOWN`]); why each was
    /// routed where it was is at `GET /v1/tasks/{id}/routing`.
    #[schema(inline)]
    pub tasks: Vec<TaskFigure>,
}

/// How many waiting tasks [`QueueFigures`] lists.
pub const TASKS_SHOWN: usize = 100;

/// One waiting task in [`QueueFigures`].
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TaskFigure {
    #[schema(value_type = String)]
    pub task_id: TaskId,
    pub customer_name: String,
    pub channel: String,
    #[schema(required = true)]
    pub intent: Option<String>,
    pub queue: String,
    /// The rule that routes it (None: built-in routing).
    #[schema(required = true)]
    pub rule: Option<String>,
    pub priority: i32,
    pub skills: Vec<String>,
    pub waited_ms: u64,
    #[schema(value_type = Option<String>, required = true)]
    pub offered_to: Option<AgentId>,
    #[schema(value_type = Option<String>, required = true)]
    pub reserved_for: Option<AgentId>,
}

/// One queue in [`QueueFigures`]: what waits now, and how tasks left it in the window.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QueueFigure {
    pub queue: String,
    pub waiting: usize,
    pub offered: usize,
    pub longest_wait_ms: u64,
    #[serde(flatten)]
    pub window: QueueSummary,
}

/// One agent in [`QueueFigures`].
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AgentFigure {
    #[schema(value_type = String)]
    pub agent_id: AgentId,
    pub name: String,
    /// `available`, `away`, `offline`, or `wrap_up` while the wrap-up timer runs.
    #[schema(schema_with = agent_status_schema)]
    pub status: &'static str,
    /// Chats held plus offers (all media in `load_by_media`).
    pub load: u32,
    /// Chat capacity (all media in `capacity_by_media`).
    pub capacity: u32,
    pub load_by_media: Slots,
    pub capacity_by_media: Slots,
    /// Share of the chat capacity in use (a call counts as full).
    #[schema(minimum = 0, maximum = 1)]
    pub occupancy: f64,
    #[schema(required = true)]
    pub wrap_up_ends_in_ms: Option<u64>,
    /// Offers rejected or let expire (they count against the agent).
    pub missed_offers: u32,
    pub skills: BTreeMap<String, u8>,
}

/// The schema of [`AgentFigure::status`] (OpenAPI): one of its four values.
fn agent_status_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .enum_values(Some(["available", "away", "offline", "wrap_up"]))
        .build()
}

/// Asks for [`QueueFigures`].
#[derive(Message)]
#[rtype(result = "QueueFigures")]
pub struct Snapshot;

struct TaskInfo {
    task: Task,
    customer: CustomerCard,
    queued_at: Instant,
    /// What the active rule set decided last (rule, overflow step, target).
    decision: Option<Decision>,
}

impl TaskInfo {
    /// The queue the task waits in ("default" without routing rules).
    fn queue(&self) -> &str {
        self.decision
            .as_ref()
            .map_or(rules::DEFAULT_QUEUE, |d| d.queue.as_str())
    }
}

/// A task leaving for its queue's fallback, to be recorded in the store and told to the
/// customer's session.
struct PendingFallback {
    task_id: TaskId,
    customer_id: CustomerId,
    conversation_id: ConversationId,
    queue: String,
    fallback: Fallback,
    waited: Millis,
}

/// A transfer nobody took, to be cancelled in the store and told to its sender.
struct FailedTransfer {
    task_id: TaskId,
    conversation_id: ConversationId,
    transfer: crate::domain::Transfer,
    reason: &'static str,
}

/// The rule set in force, compiled.
struct ActiveRules {
    version: i64,
    compiled: CompiledRules,
}

struct AgentEntry {
    state: AgentState,
    name: String,
    connection_id: String,
    /// Conversations held, with their media.
    active: HashMap<ConversationId, Media>,
    /// Offers rejected or let expire since this dispatcher became active: they count
    /// against the agent (shown to supervisors).
    missed_offers: u32,
    /// Why the agent is away, if they are.
    reason: Option<String>,
}

struct OfferEntry {
    agent_id: AgentId,
    nonce: u64,
}

/// Why an offer ended without an acceptance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OfferEnd {
    Rejected,
    Expired,
    /// The agent went away or offline: re-offer without holding it against them.
    Withdrawn,
}

/// The dispatcher actor.
pub struct Dispatcher {
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
    metrics: Arc<Metrics>,
    settings: RoutingSettings,
    queue: TaskQueue,
    tasks: HashMap<TaskId, TaskInfo>,
    agents: HashMap<AgentId, AgentEntry>,
    offers: HashMap<TaskId, OfferEntry>,
    outbox: Vec<(Route, Vec<u8>)>,
    epoch: Instant,
    next_seq: u64,
    next_nonce: u64,
    ticks: u64,
    /// True once this node's dispatcher is the active one (it received a delivery).
    active: bool,
    /// Supervisors' rule set in force; without one, tasks keep the bot's target and overflow
    /// after `routing.overflow_after_ms`.
    rules: Option<ActiveRules>,
    /// Supervisors' temporary overrides in force (each expires by itself).
    overrides: Vec<Override>,
    /// How tasks left their queues, for the live figures.
    stats: QueueStats,
    /// Effects for the next flush: fallbacks to record and presence changes to log.
    fallbacks: Vec<PendingFallback>,
    presence: Vec<(AgentId, AgentStatus, Option<String>, chrono::DateTime<Utc>)>,
    /// Transfers waiting for an agent → when they fail back to the sender (dispatcher clock).
    transfer_deadlines: HashMap<TaskId, Millis>,
    /// Transfers that failed, to be cancelled in the store and told to the sender.
    failed_transfers: Vec<FailedTransfer>,
    /// Conversations a new desk holds that this dispatcher did not know, counted as chats
    /// until their media is read from the store (a call after a take-over).
    unknown_media: Vec<(AgentId, ConversationId)>,
    /// Desk connections of agents who left routing (deactivated, no longer agents), and when:
    /// a report such a desk sent before it closed is ignored.
    removed_desks: HashMap<String, Instant>,
}

/// The logical clock starts a day in, so a task restored after a take-over can be dated
/// back by its real wait.
const CLOCK_ORIGIN_MS: Millis = 86_400_000;

/// How often every node nudges the dispatch queue.
const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(1);

/// Reconcile with the store every this many ticks.
const RECONCILE_EVERY_TICKS: u64 = 10;

/// How long a removed agent's desk connection is remembered (its reports in flight are
/// ignored meanwhile; the desk closes as soon as it hears of the removal).
const REMOVED_DESK_MEMORY: Duration = Duration::from_secs(600);

impl Dispatcher {
    /// A dispatcher that starts consuming `dispatch` once it has rebuilt from the store.
    pub fn new(
        store: Arc<dyn Store>,
        bus: Arc<dyn Bus>,
        metrics: Arc<Metrics>,
        settings: RoutingSettings,
    ) -> Self {
        Self {
            store,
            bus,
            metrics,
            settings,
            queue: TaskQueue::default(),
            tasks: HashMap::new(),
            agents: HashMap::new(),
            offers: HashMap::new(),
            outbox: Vec::new(),
            epoch: Instant::now(),
            next_seq: 0,
            next_nonce: 0,
            ticks: 0,
            active: false,
            rules: None,
            overrides: Vec::new(),
            stats: QueueStats::default(),
            fallbacks: Vec::new(),
            presence: Vec::new(),
            unknown_media: Vec::new(),
            removed_desks: HashMap::new(),
            transfer_deadlines: HashMap::new(),
            failed_transfers: Vec::new(),
        }
    }

    fn now(&self) -> Millis {
        CLOCK_ORIGIN_MS
            .saturating_add(u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX))
    }

    fn send<T: Serialize>(&mut self, route: Route, event: &T) {
        match serde_json::to_vec(event) {
            Ok(bytes) => self.outbox.push((route, bytes)),
            Err(error) => tracing::error!(%error, "Encoding a dispatcher event failed."),
        }
    }

    fn enqueue(&mut self, task: Task, customer: CustomerCard) {
        if self.tasks.contains_key(&task.id) {
            return; // replayed after a rebuild
        }
        self.next_seq += 1;
        // Dated back by the real wait, so overflow, aging and stickiness count from the
        // hand-off even for a task restored after a take-over.
        let waited = u64::try_from((Utc::now() - task.created_at).num_milliseconds()).unwrap_or(0);
        let enqueued_at = self.now().saturating_sub(waited);
        let mut queued = QueuedTask::new(
            task.id.clone(),
            task.priority,
            task.language,
            task.required_skills.clone(),
            self.next_seq,
            enqueued_at,
        );
        queued.media = Media::of(task.channel);
        queued.preferred = reservation(
            &self.agents,
            task.preferred_agent.as_ref(),
            &queued,
            self.settings.sticky_agent_ms,
        );
        let transfer = task.transfer.clone();
        if let Some(transfer) = &transfer {
            // A transfer goes to its named agent only, never back to its sender, and fails
            // back to the sender when nobody takes it in time (routing rules do not apply:
            // its target is the sender's choice).
            queued.preferred = transfer
                .to_agent_id
                .clone()
                .map(|agent| (agent, Millis::MAX));
            queued.any_language = transfer.to_agent_id.is_some();
            queued
                .declined_by
                .insert(transfer.from_agent_id.clone(), Millis::MAX);
            self.transfer_deadlines.insert(
                task.id.clone(),
                self.now().saturating_add(self.settings.transfer_timeout_ms),
            );
        }
        self.queue.insert(queued);
        let id = task.id.clone();
        self.tasks.insert(
            id.clone(),
            TaskInfo {
                task,
                customer,
                queued_at: Instant::now(),
                decision: None,
            },
        );
        if transfer.is_none() {
            self.retarget(std::slice::from_ref(&id));
        }
    }

    /// A transfer nobody took (declined by its named agent, or not accepted in time): it
    /// leaves routing, and the store cancels it at the next flush, which tells the sender.
    /// The conversation stays with the agent who holds it.
    fn fail_transfer(&mut self, task_id: &TaskId, reason: &'static str) {
        self.transfer_deadlines.remove(task_id);
        let Some(info) = self.tasks.remove(task_id) else {
            return;
        };
        self.queue.remove(task_id);
        if let Some(offer) = self.offers.remove(task_id) {
            self.sync_load(&offer.agent_id);
            self.send(
                agent_route(&offer.agent_id),
                &AgentEvent::OfferRevoked {
                    task_id: task_id.clone(),
                },
            );
        }
        if let Some(transfer) = info.task.transfer {
            tracing::info!(task = %task_id, reason, "A transfer failed.");
            self.failed_transfers.push(FailedTransfer {
                task_id: task_id.clone(),
                conversation_id: info.task.conversation_id,
                transfer: *transfer,
                reason,
            });
        }
    }

    /// Transfers past their deadline fail back to their senders.
    fn expire_transfers(&mut self) {
        let tasks = &self.tasks;
        self.transfer_deadlines
            .retain(|id, _| tasks.contains_key(id));
        let now = self.now();
        let late: Vec<TaskId> = self
            .transfer_deadlines
            .iter()
            .filter(|(id, deadline)| **deadline <= now && !self.offers.contains_key(*id))
            .map(|(id, _)| id.clone())
            .collect();
        for id in late {
            self.fail_transfer(&id, "timeout");
        }
    }

    /// Applies the active rule set (and the overrides in force) to these waiting tasks: the
    /// matching rule and the overflow step reached at the task's wait set its required skills,
    /// priority (the bot's plus the rule's, with aging), selection strategy and sticky window.
    /// A task whose queue is closed, or that waited past its queue's maximum without an offer
    /// out, leaves for the queue's fallback. Without rules nothing changes.
    fn retarget(&mut self, ids: &[TaskId]) {
        let Some(rules) = &self.rules else {
            return;
        };
        let now = Utc::now();
        let mut leaving = Vec::new();
        for id in ids {
            let (Some(info), Some(queued)) = (self.tasks.get_mut(id), self.queue.get(id)) else {
                continue;
            };
            if info.task.transfer.is_some() {
                continue; // the sender chose the target
            }
            let facts = task_facts(info, now);
            let Some(decision) = rules.compiled.decide(&facts, &self.overrides) else {
                continue;
            };
            let skills = decision.required_skills(&info.task.required_skills);
            let priority = decision.priority_over(info.task.priority);
            let priority = Priority(priority.0.saturating_add(window_bonus(&info.task, now)));
            if info
                .decision
                .as_ref()
                .map(|d| (d.rule_index, d.overflow_step, d.override_id.as_deref()))
                != Some((
                    decision.rule_index,
                    decision.overflow_step,
                    decision.override_id.as_deref(),
                ))
            {
                tracing::debug!(task = %id, rule = %decision.rule, step = ?decision.overflow_step, version = rules.version, "Routing rule applied.");
            }
            if decision.sends_to_fallback(facts.wait_secs, queued.offered_to.is_some()) {
                leaving.push((id.clone(), decision.fallback));
            }
            let sticky_ms = decision.sticky_ms(self.settings.sticky_agent_ms);
            // The reservation is judged on the skills the rules ask for now.
            let retargeted;
            let judged = if queued.required_skills == skills {
                queued
            } else {
                retargeted = QueuedTask {
                    required_skills: skills.clone(),
                    ..queued.clone()
                };
                &retargeted
            };
            let preferred = reservation(
                &self.agents,
                info.task.preferred_agent.as_ref(),
                judged,
                sticky_ms,
            );
            let strategy = decision.strategy;
            info.decision = Some(decision);
            if queued.required_skills != skills
                || queued.priority != priority
                || queued.strategy != strategy
                || queued.preferred != preferred
            {
                let mut updated = queued.clone();
                updated.required_skills = skills;
                updated.priority = priority;
                updated.strategy = strategy;
                updated.preferred = preferred;
                self.queue.insert(updated);
            }
        }
        for (id, fallback) in leaving {
            self.fall_back(&id, fallback);
        }
    }

    /// Takes a waiting task out of routing for its queue's fallback; the store and the
    /// customer's session learn of it at the next flush.
    fn fall_back(&mut self, id: &TaskId, fallback: Fallback) {
        let now = self.now();
        let (Some(queued), Some(info)) = (self.queue.remove(id), self.tasks.remove(id)) else {
            return;
        };
        let queue = info.queue().to_owned();
        tracing::info!(task = %id, %queue, fallback = fallback.as_str(), "Task leaves for its queue's fallback.");
        // Counted once the store has it (see `flush`).
        self.fallbacks.push(PendingFallback {
            task_id: id.clone(),
            customer_id: info.task.customer_id,
            conversation_id: info.task.conversation_id,
            queue,
            fallback,
            waited: now.saturating_sub(queued.enqueued_at),
        });
    }

    /// Stores why `decision` was made (rule and overflow step in force, the target, every
    /// agent with their load or the reasons they were out), for `GET /v1/tasks/{id}/routing`.
    /// Written in the background: an explanation lost to a store failure loses no routing.
    fn record_explanation(&self, ctx: &mut Context<Self>, decision: &policy::Offer, now: Millis) {
        let (Some(info), Some(queued)) = (
            self.tasks.get(&decision.task_id),
            self.queue.get(&decision.task_id),
        ) else {
            return;
        };
        let candidates = policy::explain(queued, self.agents.values().map(|e| &e.state), now);
        let explanation = serde_json::json!({
            "offered_to": decision.agent_id,
            "at": Utc::now(),
            "rules_version": self.rules.as_ref().map(|r| r.version),
            "rule": info.decision.as_ref().map(|d| serde_json::json!({
                "name": d.rule,
                "index": d.rule_index,
                "overflow_step": d.overflow_step,
                "queue": d.queue,
                "override": d.override_id,
            })),
            "queue": info.queue(),
            "target": {
                "skills": queued.required_skills,
                "language": queued.language,
                "priority": queued.priority.0,
                "media": queued.media,
                "strategy": queued.strategy,
                "preferred_agent": queued.reserved_for(now),
            },
            "candidates": candidates,
        });
        let (store, task_id) = (Arc::clone(&self.store), decision.task_id.clone());
        let queue = info.queue().to_owned();
        ctx.spawn(
            async move {
                if let Err(error) = store.set_task_routing(&task_id, &queue, &explanation).await {
                    tracing::warn!(%error, task = %task_id, "Could not record a routing explanation.");
                }
            }
            .into_actor(self),
        );
    }

    /// Loads the active rule set from the store (after an activation, or on take-over), then
    /// re-targets every waiting task; `delivery` is settled afterwards.
    fn load_rules(&mut self, ctx: &mut Context<Self>, delivery: Option<Delivery>) {
        let store = Arc::clone(&self.store);
        ctx.wait(
            async move { routing_in_force(store.as_ref()).await }
                .into_actor(self)
                .map(move |result, act, ctx| {
                    match result {
                        Ok(routing) => act.install_rules(routing),
                        // Keep the rules in force; the delivery comes back and is retried.
                        Err(error) => {
                            tracing::error!(%error, "Could not load the active routing rules.");
                            drop(delivery);
                            return;
                        }
                    }
                    act.replan(ctx);
                    act.flush(ctx, delivery);
                }),
        );
    }

    fn install_rules(&mut self, (active, overrides): RoutingInForce) {
        self.overrides = overrides;
        self.rules = active.and_then(|active| {
            let version = active.rule_set.version;
            let compiled = serde_json::from_value::<RuleSetDoc>(active.rule_set.document)
                .map_err(|e| vec![crate::domain::Problem::new("document", e.to_string())])
                .and_then(|doc| rules::compile_stored(&doc));
            match compiled {
                Ok(compiled) => {
                    tracing::info!(version, "Routing rules in force.");
                    Some(ActiveRules { version, compiled })
                }
                Err(problems) => {
                    tracing::error!(
                        version,
                        ?problems,
                        "The active routing rules do not compile; using the defaults."
                    );
                    None
                }
            }
        });
        let ids: Vec<TaskId> = self.tasks.keys().cloned().collect();
        self.retarget(&ids);
    }

    fn sync_load(&mut self, agent_id: &AgentId) {
        let offered: Vec<Media> = self
            .offers
            .iter()
            .filter(|(_, o)| o.agent_id == *agent_id)
            .map(|(task, _)| self.queue.get(task).map_or(Media::Chat, |t| t.media))
            .collect();
        if let Some(entry) = self.agents.get_mut(agent_id) {
            let mut load = Slots::default();
            for media in entry.active.values().chain(&offered) {
                load.add(*media);
            }
            entry.state.load = load;
        }
    }

    /// Applies an event that needs no I/O.
    fn apply(&mut self, event: DispatchEvent) {
        match event {
            DispatchEvent::TaskCreated { task, customer } => self.enqueue(task, customer),
            DispatchEvent::AgentState {
                agent_id,
                name,
                connection_id,
                status,
                skills,
                languages,
                capacity,
                voice_capacity,
                ticket_capacity,
                active,
                reason,
            } => {
                let capacity = Slots {
                    chat: capacity,
                    voice: voice_capacity.unwrap_or(self.settings.voice_capacity),
                    ticket: ticket_capacity.unwrap_or(self.settings.ticket_capacity),
                };
                self.desk_reported(DeskReport {
                    agent_id,
                    name,
                    connection_id,
                    status,
                    skills,
                    languages,
                    capacity,
                    active,
                    reason,
                });
            }
            DispatchEvent::AgentDisconnected {
                agent_id,
                connection_id,
            } => {
                let current = self
                    .agents
                    .get(&agent_id)
                    .is_some_and(|e| e.connection_id == connection_id);
                if current {
                    if let Some(entry) = self.agents.get_mut(&agent_id) {
                        if entry.state.status != AgentStatus::Offline {
                            self.presence.push((
                                agent_id.clone(),
                                AgentStatus::Offline,
                                None,
                                Utc::now(),
                            ));
                        }
                        entry.state.status = AgentStatus::Offline;
                        entry.reason = None;
                    }
                    self.withdraw_offers_of(&agent_id);
                }
            }
            DispatchEvent::Reject { task_id, agent_id } => {
                if self
                    .offers
                    .get(&task_id)
                    .is_some_and(|o| o.agent_id == agent_id)
                {
                    self.end_offer(&task_id, OfferEnd::Rejected);
                }
            }
            DispatchEvent::ConversationClosed {
                agent_id,
                conversation_id,
            } => {
                // Wrap-up: no offer until the timer ends; idle counts from then.
                let free_at = self.now() + self.settings.wrap_up_ms;
                if let Some(entry) = self.agents.get_mut(&agent_id) {
                    if entry.active.remove(&conversation_id).is_some() {
                        entry.state.idle_since = free_at;
                        entry.state.wrap_up_until = free_at;
                    }
                }
                self.sync_load(&agent_id);
            }
            DispatchEvent::AgentProfile { agent_id, profile } => {
                let capacity = Slots {
                    chat: profile.capacity,
                    voice: profile
                        .voice_capacity
                        .unwrap_or(self.settings.voice_capacity),
                    ticket: profile
                        .ticket_capacity
                        .unwrap_or(self.settings.ticket_capacity),
                };
                // An agent this dispatcher does not know yet reports the new profile when
                // their desk connects (it reads the account from the store).
                if let Some(entry) = self.agents.get_mut(&agent_id) {
                    entry.state.skills = profile
                        .skills
                        .into_iter()
                        .map(|s| (s.name, s.level))
                        .collect();
                    entry.state.languages = profile.languages;
                    entry.state.capacity = capacity;
                    entry.name = profile.name;
                    tracing::info!(agent = %agent_id, "Agent's routing profile changed.");
                }
                self.sync_load(&agent_id);
            }
            DispatchEvent::AgentRemoved { agent_id } => self.remove_agent(&agent_id),
            // Need the store: see `accept` and `load_rules`.
            DispatchEvent::TaskCancelled { task_id } => self.abandon(&task_id),
            DispatchEvent::Accept { .. }
            | DispatchEvent::RulesActivated { .. }
            | DispatchEvent::OverridesChanged => {}
            DispatchEvent::Heartbeat => {}
        }
    }

    /// An agent left routing (deactivated, or no longer an agent): their offers go to others,
    /// they are forgotten, and what their closing desk still reports is ignored. The
    /// conversations they held were routed again by the store (new waiting tasks, told
    /// separately).
    fn remove_agent(&mut self, agent_id: &AgentId) {
        self.withdraw_offers_of(agent_id);
        let Some(entry) = self.agents.remove(agent_id) else {
            return;
        };
        tracing::info!(agent = %agent_id, "Agent left routing.");
        if entry.state.status != AgentStatus::Offline {
            self.presence
                .push((agent_id.clone(), AgentStatus::Offline, None, Utc::now()));
        }
        let now = Instant::now();
        self.removed_desks
            .retain(|_, at| now.duration_since(*at) < REMOVED_DESK_MEMORY);
        self.removed_desks.insert(entry.connection_id, now);
        self.unknown_media.retain(|(agent, _)| agent != agent_id);
    }

    /// A desk reported its agent's presence, skills, capacity and held conversations.
    fn desk_reported(&mut self, report: DeskReport) {
        if self.removed_desks.contains_key(&report.connection_id) {
            tracing::debug!(agent = %report.agent_id, "A removed agent's desk reported; ignored.");
            return;
        }
        let DeskReport {
            agent_id,
            name,
            connection_id,
            status,
            skills,
            languages,
            capacity,
            active,
            reason,
        } = report;
        let reason = reason.filter(|_| status == AgentStatus::Away);
        let now = self.now();
        let new_desk = self
            .agents
            .get(&agent_id)
            .is_none_or(|e| e.connection_id != connection_id);
        if self
            .agents
            .get(&agent_id)
            .is_none_or(|e| e.state.status != status || e.reason != reason)
        {
            self.presence
                .push((agent_id.clone(), status, reason.clone(), Utc::now()));
        }
        let entry = self
            .agents
            .entry(agent_id.clone())
            .or_insert_with(|| AgentEntry {
                state: AgentState {
                    id: agent_id.clone(),
                    status,
                    skills: BTreeMap::new(),
                    languages: Vec::new(),
                    capacity,
                    load: Slots::default(),
                    idle_since: now,
                    wrap_up_until: 0,
                },
                name: name.clone(),
                connection_id: connection_id.clone(),
                active: HashMap::new(),
                missed_offers: 0,
                reason: None,
            });
        if entry.state.status != AgentStatus::Available && status == AgentStatus::Available {
            entry.state.idle_since = now;
        }
        entry.state.status = status;
        entry.reason = reason;
        entry.state.skills = skills.into_iter().map(|s| (s.name, s.level)).collect();
        entry.state.languages = languages;
        entry.state.capacity = capacity;
        entry.name = name;
        entry.connection_id = connection_id;
        // The dispatcher owns the list of held conversations (accept adds, close
        // removes). Only a new desk, which loaded it from the store, may replace it.
        // The desk does not say which media each one is: keep what the dispatcher knew
        // (a conversation it did not know of is taken as a chat).
        if new_desk {
            let mut unknown = Vec::new();
            entry.active = active
                .into_iter()
                .map(|c| {
                    let media = entry.active.get(&c).copied().unwrap_or_else(|| {
                        unknown.push((agent_id.clone(), c.clone()));
                        Media::Chat
                    });
                    (c, media)
                })
                .collect();
            self.unknown_media.extend(unknown);
        }
        if new_desk || status != AgentStatus::Available {
            // A replaced desk never saw its offers; an unavailable agent cannot take them.
            self.withdraw_offers_of(&agent_id);
        }
        self.sync_load(&agent_id);
    }

    /// A customer gave up waiting: the task leaves routing, an offer out is revoked, and the
    /// queue's figures count an abandonment.
    fn abandon(&mut self, task_id: &TaskId) {
        let now = self.now();
        let (Some(queued), Some(info)) = (self.queue.remove(task_id), self.tasks.remove(task_id))
        else {
            return;
        };
        if let Some(offer) = self.offers.remove(task_id) {
            self.sync_load(&offer.agent_id);
            self.send(
                agent_route(&offer.agent_id),
                &AgentEvent::OfferRevoked {
                    task_id: task_id.clone(),
                },
            );
        }
        if info.task.transfer.is_some() {
            return; // a transfer cancelled by its conversation's end: nobody abandoned
        }
        self.stats.record(Outcome {
            queue: info.queue().to_owned(),
            at: now,
            waited: now.saturating_sub(queued.enqueued_at),
            left: Left::Abandoned,
        });
        self.metrics
            .tasks_unanswered
            .with_label_values(&["abandoned"])
            .inc();
    }

    fn withdraw_offers_of(&mut self, agent_id: &AgentId) {
        let offered: Vec<TaskId> = self
            .offers
            .iter()
            .filter(|(_, o)| o.agent_id == *agent_id)
            .map(|(t, _)| t.clone())
            .collect();
        for task_id in offered {
            self.end_offer(&task_id, OfferEnd::Withdrawn);
        }
    }

    /// Ends an outstanding offer without an acceptance and tells the agent's desk.
    fn end_offer(&mut self, task_id: &TaskId, why: OfferEnd) {
        let Some(offer) = self.offers.remove(task_id) else {
            return;
        };
        let named_transfer = self
            .tasks
            .get(task_id)
            .and_then(|info| info.task.transfer.as_ref())
            .is_some_and(|t| t.to_agent_id.is_some());
        let until = self.now() + self.settings.decline_cool_down_ms;
        if let Some(task) = self.queue.get_mut(task_id) {
            task.offered_to = None;
            if why != OfferEnd::Withdrawn {
                task.declined_by.insert(offer.agent_id.clone(), until);
            }
        }
        let outcome = match why {
            OfferEnd::Rejected => "rejected",
            OfferEnd::Expired => "expired",
            OfferEnd::Withdrawn => "revoked",
        };
        self.metrics.offers.with_label_values(&[outcome]).inc();
        if why != OfferEnd::Withdrawn {
            if let Some(entry) = self.agents.get_mut(&offer.agent_id) {
                entry.missed_offers += 1;
            }
        }
        self.sync_load(&offer.agent_id);
        self.send(
            agent_route(&offer.agent_id),
            &AgentEvent::OfferRevoked {
                task_id: task_id.clone(),
            },
        );
        if named_transfer {
            // Only that agent could take it.
            let reason = match why {
                OfferEnd::Rejected => "declined",
                OfferEnd::Expired => "timeout",
                OfferEnd::Withdrawn => "unavailable",
            };
            self.fail_transfer(task_id, reason);
        }
    }

    /// Runs the policy and records the offers it makes.
    fn replan(&mut self, ctx: &mut Context<Self>) {
        let now = self.now();
        let decisions = policy::plan(&self.queue, self.agents.values().map(|e| &e.state), now);
        for decision in decisions {
            self.record_explanation(ctx, &decision, now);
            self.next_nonce += 1;
            let nonce = self.next_nonce;
            self.offers.insert(
                decision.task_id.clone(),
                OfferEntry {
                    agent_id: decision.agent_id.clone(),
                    nonce,
                },
            );
            if let Some(task) = self.queue.get_mut(&decision.task_id) {
                task.offered_to = Some(decision.agent_id.clone());
            }
            self.sync_load(&decision.agent_id);
            self.metrics.offers.with_label_values(&["made"]).inc();
            let timeout = Duration::from_millis(self.settings.offer_timeout_ms);
            if let Some(info) = self.tasks.get(&decision.task_id) {
                // The target in force (routing rules and overflow may have changed the
                // hand-off's).
                let (priority, skills) = match self.queue.get(&decision.task_id) {
                    Some(queued) => (queued.priority, &queued.required_skills),
                    None => (info.task.priority, &info.task.required_skills),
                };
                let offer = AgentEvent::Offer {
                    task_id: decision.task_id.clone(),
                    conversation_id: info.task.conversation_id.clone(),
                    priority: priority.0,
                    skills: skills.iter().map(|s| s.name.clone()).collect(),
                    customer: info.customer.clone(),
                    intent: info.task.intent.clone(),
                    summary: info.task.summary.clone(),
                    expires_in_ms: self.settings.offer_timeout_ms,
                    context: info.task.context.clone(),
                    transfer: info.task.transfer.as_ref().map(|t| TransferOffer {
                        from_agent_id: t.from_agent_id.clone(),
                        from_name: self
                            .agents
                            .get(&t.from_agent_id)
                            .map_or_else(|| t.from_agent_id.to_string(), |e| e.name.clone()),
                        note: t.note.clone(),
                    }),
                };
                self.send(agent_route(&decision.agent_id), &offer);
            }
            let task_id = decision.task_id;
            ctx.run_later(timeout, move |act, ctx| {
                if act.offers.get(&task_id).is_some_and(|o| o.nonce == nonce) {
                    act.end_offer(&task_id, OfferEnd::Expired);
                    act.replan(ctx);
                    act.flush(ctx, None);
                }
            });
        }
        self.metrics
            .waiting_tasks
            .set(i64::try_from(self.queue.len()).unwrap_or(i64::MAX));
    }

    /// Publishes everything in the outbox, in order, then settles `delivery`. The actor handles
    /// nothing else meanwhile (`ctx.wait`), so events are applied strictly one by one.
    ///
    /// First the store learns of tasks that went to their fallback (each then tells its
    /// customer's session) and of presence changes. A fallback the store refuses (the task
    /// was taken meanwhile) tells nobody; one the store could not record is found waiting
    /// again by the next reconcile and falls back then.
    fn flush(&mut self, ctx: &mut Context<Self>, delivery: Option<Delivery>) {
        let mut outbox = std::mem::take(&mut self.outbox);
        let fallbacks = std::mem::take(&mut self.fallbacks);
        let presence = std::mem::take(&mut self.presence);
        let failed_transfers = std::mem::take(&mut self.failed_transfers);
        let bus = Arc::clone(&self.bus);
        let store = Arc::clone(&self.store);
        ctx.wait(
            async move {
                for (agent, status, reason, at) in presence {
                    if let Err(error) = store
                        .record_presence(&agent, status, reason.as_deref(), at)
                        .await
                    {
                        tracing::warn!(%error, agent = %agent, "Could not record a presence change.");
                    }
                }
                // A failed transfer is cancelled first, then its sender told; one the store
                // did not cancel (accepted meanwhile) tells nobody.
                for failed in failed_transfers {
                    match store
                        .finish_task(&failed.task_id, TaskStatus::Cancelled, Utc::now())
                        .await
                    {
                        Ok(true) => {
                            let event = AgentEvent::TransferFailed {
                                conversation_id: failed.conversation_id.clone(),
                                reason: failed.reason.to_owned(),
                            };
                            let mut told = vec![failed.transfer.from_agent_id.clone()];
                            if failed.transfer.by != failed.transfer.from_agent_id {
                                told.push(failed.transfer.by.clone());
                            }
                            for agent in told {
                                if let Ok(bytes) = serde_json::to_vec(&event) {
                                    outbox.push((agent_route(&agent), bytes));
                                }
                            }
                        }
                        Ok(false) => {}
                        Err(error) => {
                            tracing::warn!(%error, task = %failed.task_id, "Could not cancel a failed transfer; the next reconcile finds it.");
                        }
                    }
                }
                let mut confirmed = Vec::new();
                for fallback in fallbacks {
                    let exit = QueueExit::Fallback {
                        queue: &fallback.queue,
                        fallback: fallback.fallback.as_str(),
                    };
                    match store
                        .leave_queue(&fallback.task_id, exit, Utc::now())
                        .await
                    {
                        Ok(true) => {
                            let (route, command) = command_envelope(SessionCommand::TaskFallback {
                                customer_id: fallback.customer_id.clone(),
                                conversation_id: fallback.conversation_id.clone(),
                                task_id: fallback.task_id.clone(),
                                fallback: fallback.fallback,
                            });
                            match serde_json::to_vec(&command) {
                                Ok(bytes) => {
                                    outbox.push((route, bytes));
                                }
                                Err(error) => tracing::error!(%error, "Encoding a fallback failed."),
                            }
                            confirmed.push(fallback);
                        }
                        Ok(false) => {}
                        Err(error) => {
                            tracing::warn!(%error, task = %fallback.task_id, "Could not record a fallback; the next reconcile retries.");
                        }
                    }
                }
                for (route, payload) in outbox {
                    if let Err(error) = bus.publish(&route, payload).await {
                        tracing::warn!(?route, %error, "Publishing a dispatcher event failed.");
                    }
                }
                if let Some(delivery) = delivery {
                    if let Err(error) = delivery.ack().await {
                        tracing::warn!(%error, "Acknowledging a dispatch event failed.");
                    }
                }
                confirmed
            }
            .into_actor(self)
            .map(|confirmed, act, _| {
                let now = act.now();
                for fallback in confirmed {
                    act.stats.record(Outcome {
                        queue: fallback.queue,
                        at: now,
                        waited: fallback.waited,
                        left: Left::Fallback,
                    });
                    act.metrics
                        .tasks_unanswered
                        .with_label_values(&[fallback.fallback.as_str()])
                        .inc();
                }
            }),
        );
    }

    fn accept(
        &mut self,
        ctx: &mut Context<Self>,
        task_id: TaskId,
        agent_id: AgentId,
        delivery: Delivery,
    ) {
        let current = self
            .offers
            .get(&task_id)
            .is_some_and(|o| o.agent_id == agent_id);
        if !current {
            // Too late (expired, withdrawn), not theirs — or an acceptance the store already
            // recorded, redelivered because the dispatcher that took it stopped before it
            // told the customer's session: the store decides.
            let store = Arc::clone(&self.store);
            let t = task_id.clone();
            ctx.wait(async move { store.task(&t).await }.into_actor(self).map(
                move |found, act, ctx| {
                    match found {
                        Ok(Some(task))
                            if task.status == TaskStatus::Assigned
                                && task.agent_id.as_ref() == Some(&agent_id) =>
                        {
                            act.resume_accept(task);
                        }
                        _ => act.send(
                            agent_route(&agent_id),
                            &AgentEvent::OfferRevoked { task_id },
                        ),
                    }
                    act.flush(ctx, Some(delivery));
                },
            ));
            return;
        }
        let store = Arc::clone(&self.store);
        let (t, a) = (task_id.clone(), agent_id.clone());
        ctx.wait(
            async move { store.assign_task(&t, &a, Utc::now()).await }
                .into_actor(self)
                .map(move |result, act, ctx| {
                    act.finish_accept(task_id, agent_id, result);
                    act.replan(ctx);
                    act.flush(ctx, Some(delivery));
                }),
        );
    }

    /// Reads the media of the conversations a new desk holds that this dispatcher did not know
    /// (after a take-over, a live call must count as a call, not as a chat), then plans.
    fn learn_media(&mut self, ctx: &mut Context<Self>, delivery: Delivery) {
        let unknown = std::mem::take(&mut self.unknown_media);
        let store = Arc::clone(&self.store);
        ctx.wait(
            async move {
                let mut calls = Vec::new();
                for (agent, conversation) in unknown {
                    match store.open_task_for(&conversation).await {
                        Ok(Some(task)) if Media::of(task.channel) != Media::Chat => {
                            calls.push((agent, conversation, Media::of(task.channel)));
                        }
                        Ok(_) => {}
                        Err(error) => {
                            tracing::warn!(%error, %conversation, "Could not read a held conversation's media; counted as a chat.");
                        }
                    }
                }
                calls
            }
            .into_actor(self)
            .map(move |calls, act, ctx| {
                for (agent, conversation, media) in calls {
                    if let Some(entry) = act.agents.get_mut(&agent) {
                        if let Some(held) = entry.active.get_mut(&conversation) {
                            *held = media;
                        }
                    }
                    act.sync_load(&agent);
                }
                act.replan(ctx);
                act.flush(ctx, Some(delivery));
            }),
        );
    }

    /// Finishes an acceptance the store recorded but whose effects may not have happened (see
    /// [`Dispatcher::accept`]): the agent holds the conversation and the customer's session
    /// hears of it (it ignores a repeat).
    fn resume_accept(&mut self, task: Task) {
        tracing::info!(task = %task.id, agent = %task.agent_id.as_ref().map(AgentId::as_str).unwrap_or_default(), "Redelivered acceptance: finishing it.");
        let Some(agent_id) = task.agent_id.clone() else {
            return;
        };
        self.offers.remove(&task.id);
        self.queue.remove(&task.id);
        self.tasks.remove(&task.id);
        let name = match self.agents.get_mut(&agent_id) {
            Some(entry) => {
                entry
                    .active
                    .insert(task.conversation_id.clone(), Media::of(task.channel));
                entry.name.clone()
            }
            None => agent_id.to_string(),
        };
        self.sync_load(&agent_id);
        let (route, envelope) = command_envelope(SessionCommand::AgentAssigned {
            customer_id: task.customer_id,
            conversation_id: task.conversation_id,
            task_id: task.id,
            agent_id,
            agent_name: name,
        });
        self.send(route, &envelope);
    }

    fn finish_accept(
        &mut self,
        task_id: TaskId,
        agent_id: AgentId,
        result: Result<bool, crate::store::StoreError>,
    ) {
        // The offer may have expired while the store was answering; the store's
        // compare-and-set decided, so honour its answer either way.
        match result {
            Ok(true) => {
                self.offers.remove(&task_id);
                let queued = self.queue.remove(&task_id);
                let info = self.tasks.remove(&task_id);
                self.metrics.offers.with_label_values(&["accepted"]).inc();
                let Some(info) = info else { return };
                self.metrics
                    .assignment_latency
                    .observe(info.queued_at.elapsed().as_secs_f64());
                let now = self.now();
                self.stats.record(Outcome {
                    queue: info.queue().to_owned(),
                    at: now,
                    waited: now.saturating_sub(queued.as_ref().map_or(now, |q| q.enqueued_at)),
                    left: Left::Answered,
                });
                let media = queued.map_or(Media::Chat, |q| q.media);
                let name = match self.agents.get_mut(&agent_id) {
                    Some(entry) => {
                        entry
                            .active
                            .insert(info.task.conversation_id.clone(), media);
                        entry.name.clone()
                    }
                    None => agent_id.to_string(),
                };
                self.sync_load(&agent_id);
                let (route, envelope) = command_envelope(SessionCommand::AgentAssigned {
                    customer_id: info.task.customer_id.clone(),
                    conversation_id: info.task.conversation_id.clone(),
                    task_id,
                    agent_id,
                    agent_name: name,
                });
                self.send(route, &envelope);
            }
            Ok(false) => {
                // Assigned elsewhere or cancelled: it is not ours to route any more.
                self.offers.remove(&task_id);
                self.queue.remove(&task_id);
                self.tasks.remove(&task_id);
                self.sync_load(&agent_id);
                self.send(
                    agent_route(&agent_id),
                    &AgentEvent::OfferRevoked { task_id },
                );
            }
            Err(error) => {
                tracing::error!(%error, task = %task_id, "Could not record an acceptance; re-offering.");
                self.end_offer(&task_id, OfferEnd::Withdrawn);
            }
        }
    }

    /// Overflow: tasks that waited past `routing.overflow_after_ms` drop their skill
    /// requirement (the language stays), so nobody waits forever for an absent specialist.
    /// Without rules: tasks whose reply window is closing move up (see [`window_bonus`]).
    fn raise_closing_windows(&mut self) {
        let now = Utc::now();
        for (id, info) in &self.tasks {
            let priority = Priority(
                info.task
                    .priority
                    .0
                    .saturating_add(window_bonus(&info.task, now)),
            );
            if let Some(queued) = self.queue.get(id).filter(|q| q.priority != priority) {
                let mut updated = queued.clone();
                updated.priority = priority;
                self.queue.insert(updated);
            }
        }
    }

    fn widen_long_waits(&mut self) {
        let now = self.now();
        let due: Vec<QueuedTask> = self
            .queue
            .iter()
            .filter_map(|t| policy::widen(t, now, self.settings.overflow_after_ms))
            .collect();
        for task in due {
            tracing::info!(task = %task.id, "Task waited past the overflow time; any skill now.");
            self.queue.insert(task);
        }
        // Reservations for a previous agent hold only while that agent can take the task (a
        // transfer's named agent keeps theirs: the transfer fails instead).
        for (id, info) in &self.tasks {
            let Some(queued) = self.queue.get(id).filter(|_| info.task.transfer.is_none()) else {
                continue;
            };
            let preferred = reservation(
                &self.agents,
                info.task.preferred_agent.as_ref(),
                queued,
                self.settings.sticky_agent_ms,
            );
            if preferred != queued.preferred {
                if let Some(queued) = self.queue.get_mut(id) {
                    queued.preferred = preferred;
                }
            }
        }
    }

    /// Picks up waiting tasks whose `TaskCreated` never arrived (e.g. a lost publish), and a
    /// rule-set activation whose notice never arrived.
    fn reconcile(&mut self, ctx: &mut Context<Self>) {
        let store = Arc::clone(&self.store);
        let in_force = self.routing_key();
        ctx.spawn(
            async move { routing_in_force(store.as_ref()).await }
                .into_actor(self)
                .map(move |result, act, ctx| {
                    if let Ok(routing) = result {
                        if routing_key_of(&routing) != in_force && act.routing_key() == in_force {
                            act.install_rules(routing);
                            act.replan(ctx);
                            act.flush(ctx, None);
                        }
                    }
                }),
        );
        let store = Arc::clone(&self.store);
        let known: HashSet<TaskId> = self.tasks.keys().cloned().collect();
        ctx.spawn(
            async move {
                let mut missing = Vec::new();
                let mut gone = known.clone();
                for task in store.waiting_tasks().await? {
                    gone.remove(&task.id);
                    if known.contains(&task.id) {
                        continue;
                    }
                    if let Some(customer) = store.customer(&task.customer_id).await? {
                        missing.push((task, CustomerCard::from(&customer)));
                    }
                }
                anyhow::Ok((missing, gone))
            }
            .into_actor(self)
            .map(|result, act, ctx| match result {
                Ok((missing, gone)) => {
                    // Known before the store was read and no longer waiting there: taken
                    // elsewhere, cancelled or expired, and its notice was lost. An offered task
                    // is left to its offer (an acceptance in flight must find it).
                    for id in gone {
                        if !act.offers.contains_key(&id) && act.tasks.contains_key(&id) {
                            tracing::warn!(task = %id, "A task no longer waiting in the store left routing.");
                            act.queue.remove(&id);
                            act.tasks.remove(&id);
                        }
                    }
                    if missing.is_empty() {
                        return;
                    }
                    tracing::warn!(
                        count = missing.len(),
                        "Reconciled waiting tasks from the store."
                    );
                    for (task, customer) in missing {
                        act.enqueue(task, customer);
                    }
                    act.replan(ctx);
                    act.flush(ctx, None);
                }
                Err(error) => tracing::warn!(error = ?error, "Reconciling with the store failed."),
            }),
        );
    }

    /// Becomes the active dispatcher: rebuild waiting tasks from the store (nothing else is
    /// handled meanwhile), ask every desk to re-announce itself, then handle `first`.
    fn take_over(&mut self, ctx: &mut Context<Self>, first: Delivery) {
        let store = Arc::clone(&self.store);
        ctx.wait(
            async move {
                let rules = routing_in_force(store.as_ref()).await?;
                let tasks = store.waiting_tasks().await?;
                let mut restored = Vec::with_capacity(tasks.len());
                for task in tasks {
                    if let Some(customer) = store.customer(&task.customer_id).await? {
                        restored.push((task, CustomerCard::from(&customer)));
                    }
                }
                anyhow::Ok((rules, restored))
            }
            .into_actor(self)
            .map(move |result, act, ctx| match result {
                Ok((rules, restored)) => {
                    tracing::info!(
                        waiting = restored.len(),
                        "This node's dispatcher is now active."
                    );
                    act.queue = TaskQueue::default();
                    act.tasks.clear();
                    act.offers.clear();
                    act.agents.clear();
                    act.install_rules(rules);
                    for (task, customer) in restored {
                        act.enqueue(task, customer);
                    }
                    act.active = true;
                    act.send(agents_broadcast_route(), &AgentEvent::Resync);
                    <Self as StreamHandler<Delivery>>::handle(act, first, ctx);
                }
                Err(error) => {
                    // Unsettled: the delivery goes back to the queue; try again shortly.
                    tracing::error!(error = ?error, "Dispatcher could not rebuild from the store.");
                    drop(first);
                }
            }),
        );
    }

    fn routing_key(&self) -> (Option<i64>, Vec<String>) {
        (
            self.rules.as_ref().map(|r| r.version),
            self.overrides.iter().map(|o| o.id.clone()).collect(),
        )
    }

    fn figures(&mut self) -> QueueFigures {
        let now = self.now();
        let window = self.settings.stats_window_secs * 1000;
        self.stats.forget_before(now.saturating_sub(window));
        let threshold = self.settings.service_level_secs * 1000;
        let mut queues: BTreeMap<String, QueueFigure> = self
            .stats
            .per_queue(threshold)
            .into_iter()
            .map(|(queue, window)| {
                let figure = QueueFigure {
                    queue: queue.clone(),
                    waiting: 0,
                    offered: 0,
                    longest_wait_ms: 0,
                    window,
                };
                (queue, figure)
            })
            .collect();
        for (id, info) in &self.tasks {
            let waited = self
                .queue
                .get(id)
                .map_or(0, |q| now.saturating_sub(q.enqueued_at));
            let figure = queues
                .entry(info.queue().to_owned())
                .or_insert_with(|| QueueFigure {
                    queue: info.queue().to_owned(),
                    waiting: 0,
                    offered: 0,
                    longest_wait_ms: 0,
                    window: QueueSummary::default(),
                });
            figure.waiting += 1;
            figure.offered += usize::from(self.offers.contains_key(id));
            figure.longest_wait_ms = figure.longest_wait_ms.max(waited);
        }
        let mut agents: Vec<AgentFigure> = self
            .agents
            .values()
            .map(|e| {
                let state = &e.state;
                let wrapping = state.status == AgentStatus::Available && now < state.wrap_up_until;
                let occupancy = if state.load.voice > 0 {
                    1.0
                } else {
                    f64::from(state.load.chat) / f64::from(state.capacity.chat.max(1))
                };
                AgentFigure {
                    agent_id: state.id.clone(),
                    name: e.name.clone(),
                    status: if wrapping {
                        "wrap_up"
                    } else {
                        state.status.as_str()
                    },
                    load: state.load.chat,
                    capacity: state.capacity.chat,
                    load_by_media: state.load,
                    capacity_by_media: state.capacity,
                    occupancy: occupancy.min(1.0),
                    wrap_up_ends_in_ms: wrapping.then(|| state.wrap_up_until - now),
                    missed_offers: e.missed_offers,
                    skills: state.skills.clone(),
                }
            })
            .collect();
        agents.sort_by(|a, b| a.name.cmp(&b.name));
        let tasks = self
            .queue
            .iter()
            .take(TASKS_SHOWN)
            .filter_map(|queued| {
                let info = self.tasks.get(&queued.id)?;
                Some(TaskFigure {
                    task_id: queued.id.clone(),
                    customer_name: info.customer.name.clone(),
                    channel: info.task.channel.as_str().to_owned(),
                    intent: info.task.intent.clone(),
                    queue: info.queue().to_owned(),
                    rule: info.decision.as_ref().map(|d| d.rule.clone()),
                    priority: queued.priority.0,
                    skills: queued
                        .required_skills
                        .iter()
                        .map(|s| format!("{}≥{}", s.name, s.min_level))
                        .collect(),
                    waited_ms: now.saturating_sub(queued.enqueued_at),
                    offered_to: queued.offered_to.clone(),
                    reserved_for: queued.reserved_for(now).cloned(),
                })
            })
            .collect();
        QueueFigures {
            waiting: self.queue.len(),
            offered: self.offers.len(),
            longest_wait_ms: queues
                .values()
                .map(|q| q.longest_wait_ms)
                .max()
                .unwrap_or(0),
            rules_version: self.rules.as_ref().map(|r| r.version),
            service_level_secs: self.settings.service_level_secs,
            stats_window_secs: self.settings.stats_window_secs,
            queues: queues.into_values().collect(),
            agents,
            overrides: self
                .overrides
                .iter()
                .filter(|o| o.expires_at > Utc::now())
                .cloned()
                .collect(),
            tasks,
        }
    }
}

/// The sticky reservation of a task for the customer's previous agent: for `sticky_ms` from
/// the hand-off, and only while that agent is connected and available, has the skills and
/// language the task now needs and has not declined it (a reservation for someone who cannot
/// take it would only make the customer wait while qualified agents sit idle).
fn reservation(
    agents: &HashMap<AgentId, AgentEntry>,
    preferred: Option<&AgentId>,
    queued: &QueuedTask,
    sticky_ms: u64,
) -> Option<(AgentId, Millis)> {
    let agent = preferred.filter(|_| sticky_ms > 0)?;
    let available = agents
        .get(agent)
        .is_some_and(|e| e.state.status == AgentStatus::Available && e.state.qualifies_for(queued));
    (available && !queued.declined_by.contains_key(agent))
        .then(|| (agent.clone(), queued.enqueued_at.saturating_add(sticky_ms)))
}

/// The rule set in force and the overrides in force.
type RoutingInForce = (Option<crate::store::ActiveRuleSet>, Vec<Override>);

/// Loads what routing follows now from the store. An override whose stored target no longer
/// parses is skipped (and logged), not fatal.
async fn routing_in_force(store: &dyn Store) -> Result<RoutingInForce, crate::store::StoreError> {
    let active = store.active_rule_set().await?;
    let overrides = store
        .overrides_in_force(Utc::now())
        .await?
        .into_iter()
        .filter_map(|o| match serde_json::from_value(o.target) {
            Ok(target) => Some(Override {
                id: o.id,
                rule: o.rule,
                target,
                expires_at: o.expires_at,
            }),
            Err(error) => {
                tracing::error!(%error, id = %o.id, "An override's target does not parse; ignored.");
                None
            }
        })
        .collect();
    Ok((active, overrides))
}

/// What identifies the routing in force: the version and the override ids.
fn routing_key_of((active, overrides): &RoutingInForce) -> (Option<i64>, Vec<String>) {
    (
        active.as_ref().map(|a| a.rule_set.version),
        overrides.iter().map(|o| o.id.clone()).collect(),
    )
}

/// What the rule conditions see of a waiting task (times in UTC).
fn task_facts(info: &TaskInfo, now: chrono::DateTime<Utc>) -> TaskFacts {
    use chrono::{Datelike, Timelike};
    TaskFacts {
        channel: info.task.channel.as_str().to_owned(),
        intent: info.task.intent.clone(),
        language: info.task.language.as_str().to_owned(),
        tier: info.customer.tier.as_str().to_owned(),
        tags: info.customer.tags.clone(),
        wait_secs: u64::try_from((now - info.task.created_at).num_seconds()).unwrap_or(0),
        hour: now.hour(),
        weekday: now.weekday().number_from_monday(),
        queue: info
            .decision
            .as_ref()
            .map(|d| d.queue.clone())
            .unwrap_or_default(),
        at: now,
    }
}

impl Actor for Dispatcher {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        // Every node runs a dispatcher and consumes `dispatch`; the bus keeps one consumer
        // active (RabbitMQ single-active-consumer). A dispatcher stays a passive standby until
        // its first delivery, then rebuilds from the store and asks every desk to re-announce.
        let bus = Arc::clone(&self.bus);
        ctx.wait(
            async move { bus.consume(DISPATCH_QUEUE).await }
                .into_actor(self)
                .map(|result, _, ctx| match result {
                    Ok(deliveries) => {
                        ctx.add_stream(deliveries);
                    }
                    Err(error) => {
                        tracing::error!(error = ?error, "Dispatcher could not consume; retrying.");
                        ctx.run_later(Duration::from_secs(1), |_, ctx| ctx.stop());
                    }
                }),
        );
        // Heartbeats keep the active dispatcher fed, so a standby that inherits the queue
        // takes over within a heartbeat even when no one else is talking.
        ctx.run_interval(HEARTBEAT_INTERVAL, |act, ctx| {
            let bus = Arc::clone(&act.bus);
            let beat = DispatchEvent::Heartbeat;
            ctx.spawn(
                async move {
                    if let Err(error) = publish_json(bus.as_ref(), &dispatch_route(), &beat).await {
                        tracing::debug!(%error, "Dispatcher heartbeat not published.");
                    }
                }
                .into_actor(act),
            );
        });
        // Periodic: widen long waits (overflow), re-plan (declines cool down, agents free up
        // on other nodes), and now and then reconcile with the store's waiting tasks.
        ctx.run_interval(Duration::from_millis(self.settings.tick_ms), |act, ctx| {
            if !act.active {
                return;
            }
            act.ticks += 1;
            if act.ticks % RECONCILE_EVERY_TICKS == 0 {
                act.reconcile(ctx);
                let window = act.settings.stats_window_secs * 1000;
                act.stats.forget_before(act.now().saturating_sub(window));
            }
            if act.rules.is_some() {
                // Overflow steps and aging move with the wait.
                let ids: Vec<TaskId> = act.tasks.keys().cloned().collect();
                act.retarget(&ids);
            } else {
                act.widen_long_waits();
                act.raise_closing_windows();
            }
            act.expire_transfers();
            act.replan(ctx);
            if !act.outbox.is_empty()
                || !act.fallbacks.is_empty()
                || !act.presence.is_empty()
                || !act.failed_transfers.is_empty()
            {
                act.flush(ctx, None);
            }
        });
    }
}

/// Extra priority of a task whose channel stops letting us answer: WeChat lets an account
/// write only within 48 hours of the customer's last message, so a WeChat task moves up as
/// that window (counted from the hand-off, the latest message we know of) closes.
fn window_bonus(task: &Task, now: chrono::DateTime<Utc>) -> i32 {
    if task.channel != Channel::Wechat {
        return 0;
    }
    let closes = task.created_at + chrono::Duration::hours(48);
    policy::reply_window_bonus((closes - now).num_milliseconds())
}

impl Supervised for Dispatcher {
    fn restarting(&mut self, _: &mut Self::Context) {
        tracing::warn!("Dispatcher restarting: standby until the bus hands it the queue again.");
        // Another node may have become active meanwhile: plan nothing until a delivery
        // proves this one is active again (then it rebuilds from the store).
        self.active = false;
        let offered: Vec<TaskId> = self.offers.keys().cloned().collect();
        for task_id in offered {
            self.end_offer(&task_id, OfferEnd::Withdrawn);
        }
        self.queue = TaskQueue::default();
        self.tasks.clear();
    }
}

impl StreamHandler<Delivery> for Dispatcher {
    fn handle(&mut self, delivery: Delivery, ctx: &mut Self::Context) {
        if !self.active {
            self.take_over(ctx, delivery);
            return;
        }
        let event = match delivery.json::<DispatchEvent>() {
            Ok(event) => event,
            Err(error) => {
                tracing::warn!(%error, "Dropped an undecodable dispatch event.");
                self.flush(ctx, Some(delivery));
                return;
            }
        };
        if let DispatchEvent::Accept { task_id, agent_id } = event {
            self.accept(ctx, task_id, agent_id, delivery);
            return;
        }
        if let DispatchEvent::RulesActivated { version } = event {
            tracing::info!(version, "Routing rules activated; loading them.");
            self.load_rules(ctx, Some(delivery));
            return;
        }
        if event == DispatchEvent::OverridesChanged {
            tracing::info!("Routing overrides changed; loading them.");
            self.load_rules(ctx, Some(delivery));
            return;
        }
        self.apply(event);
        if self.unknown_media.is_empty() {
            self.replan(ctx);
            self.flush(ctx, Some(delivery));
        } else {
            self.learn_media(ctx, delivery);
        }
    }

    fn finished(&mut self, ctx: &mut Self::Context) {
        tracing::warn!("The dispatch queue ended; stopping the dispatcher.");
        ctx.stop();
    }
}

impl Handler<Snapshot> for Dispatcher {
    type Result = MessageResult<Snapshot>;

    fn handle(&mut self, _: Snapshot, _: &mut Self::Context) -> Self::Result {
        MessageResult(self.figures())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Language, Priority, SkillRequirement, TaskId};

    fn entry(skills: &[(&str, u8)]) -> AgentEntry {
        AgentEntry {
            state: AgentState {
                id: AgentId::from_trusted("agt_prev"),
                status: AgentStatus::Available,
                skills: skills.iter().map(|(s, l)| ((*s).to_owned(), *l)).collect(),
                languages: vec![Language::Zh],
                capacity: Slots::chats(3),
                load: Slots::chats(0),
                idle_since: 0,
                wrap_up_until: 0,
            },
            name: "Prev".to_owned(),
            connection_id: "c".to_owned(),
            active: HashMap::new(),
            missed_offers: 0,
            reason: None,
        }
    }

    fn task(skill: &str) -> QueuedTask {
        QueuedTask::new(
            TaskId::from_trusted("tsk_1"),
            Priority(0),
            Language::Zh,
            vec![SkillRequirement {
                name: skill.to_owned(),
                min_level: 2,
            }],
            1,
            1_000,
        )
    }

    /// A desk re-announcing to a dispatcher that never saw its conversations (after a
    /// take-over) holds a live call: the call counts as a call, so no chat is offered, though
    /// the agent has chat capacity left.
    #[actix_web::test]
    async fn a_held_call_the_dispatcher_did_not_know_still_excludes_chats() {
        use crate::bus::memory::MemoryBus;
        use crate::domain::Customer;
        use crate::store::conformance::{seed_conversation, waiting_task};
        use crate::store::sqlite::SqliteStore;
        use futures_util::StreamExt;

        let store: Arc<dyn Store> = Arc::new(SqliteStore::in_memory().expect("store"));
        let bus: Arc<dyn Bus> = Arc::new(MemoryBus::new());
        let config = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
        let settings =
            crate::settings::Settings::load_from(&config, crate::settings::Mode::Demo, Vec::new())
                .expect("settings")
                .routing;
        let agent = store
            .upsert_agent(&crate::domain::Agent {
                id: AgentId::from_trusted("agt_caller"),
                username: "caller".to_owned(),
                display_name: "Caller".to_owned(),
                role: crate::domain::Role::Agent,
                skills: Vec::new(),
                languages: vec![Language::Zh],
                capacity: 3,
                voice_capacity: Some(1),
                ticket_capacity: None,
                password_hash: String::new(),
            })
            .await
            .expect("agent");
        let task = |conversation: &crate::domain::Conversation, channel: Channel| Task {
            channel,
            required_skills: Vec::new(),
            ..waiting_task(conversation, Utc::now())
        };
        // The call, assigned before this dispatcher existed.
        let (_, on_phone) = seed_conversation(store.as_ref()).await.expect("seeded");
        let call = task(&on_phone, Channel::Ivr);
        store.insert_task(&call).await.expect("task");
        assert!(store
            .assign_task(&call.id, &agent, Utc::now())
            .await
            .expect("assigned"));

        let mut offers = bus.subscribe(&agent_route(&agent)).await.expect("sub");
        Dispatcher::new(
            Arc::clone(&store),
            Arc::clone(&bus),
            Arc::new(Metrics::new().expect("metrics")),
            settings,
        )
        .start();
        let announce = DispatchEvent::AgentState {
            agent_id: agent.clone(),
            name: "Caller".to_owned(),
            connection_id: "desk-1".to_owned(),
            status: AgentStatus::Available,
            skills: Vec::new(),
            languages: vec![Language::Zh],
            capacity: 3,
            voice_capacity: Some(1),
            ticket_capacity: None,
            active: vec![on_phone.id.clone()],
            reason: None,
        };
        publish_json(bus.as_ref(), &dispatch_route(), &announce)
            .await
            .expect("announced");
        // A chat waits.
        let (customer, chatting): (Customer, _) =
            seed_conversation(store.as_ref()).await.expect("seeded");
        let chat = task(&chatting, Channel::Web);
        store.insert_task(&chat).await.expect("task");
        let created = DispatchEvent::TaskCreated {
            task: chat,
            customer: CustomerCard::from(&customer),
        };
        publish_json(bus.as_ref(), &dispatch_route(), &created)
            .await
            .expect("created");
        // Bounded wait: nothing is offered to the agent on the phone.
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_millis(1_500);
        while let Ok(Some(delivery)) = tokio::time::timeout_at(deadline, offers.next()).await {
            let event: serde_json::Value = delivery.json().expect("json");
            assert_ne!(
                event["type"], "offer",
                "a chat offered during a call: {event}"
            );
        }
    }

    /// A dispatcher of the demo's routing settings on an in-memory store and bus, started; the
    /// store and bus.
    fn started_dispatcher() -> (Arc<dyn Store>, Arc<dyn Bus>) {
        use crate::bus::memory::MemoryBus;
        use crate::store::sqlite::SqliteStore;
        let store: Arc<dyn Store> = Arc::new(SqliteStore::in_memory().expect("store"));
        let bus: Arc<dyn Bus> = Arc::new(MemoryBus::new());
        let config = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
        let settings =
            crate::settings::Settings::load_from(&config, crate::settings::Mode::Demo, Vec::new())
                .expect("settings")
                .routing;
        Dispatcher::new(
            Arc::clone(&store),
            Arc::clone(&bus),
            Arc::new(Metrics::new().expect("metrics")),
            settings,
        )
        .start();
        (store, bus)
    }

    /// An available agent's desk report: `skills` (name, level), Chinese, three chats.
    fn desk(agent: &AgentId, connection: &str, skills: &[(&str, u8)]) -> DispatchEvent {
        DispatchEvent::AgentState {
            agent_id: agent.clone(),
            name: "Agent".to_owned(),
            connection_id: connection.to_owned(),
            status: AgentStatus::Available,
            skills: skills
                .iter()
                .map(|(name, level)| crate::domain::Skill::parse(name, *level).expect("skill"))
                .collect(),
            languages: vec![Language::Zh],
            capacity: 3,
            voice_capacity: None,
            ticket_capacity: None,
            active: Vec::new(),
            reason: None,
        }
    }

    /// A waiting task needing `refunds` ≥ 3, stored, and its `TaskCreated`.
    async fn refund_task(store: &dyn Store) -> (Task, DispatchEvent) {
        use crate::store::conformance::{seed_conversation, waiting_task};
        let (customer, conversation) = seed_conversation(store).await.expect("seeded");
        let task = Task {
            required_skills: vec![SkillRequirement {
                name: "refunds".to_owned(),
                min_level: 3,
            }],
            ..waiting_task(&conversation, Utc::now())
        };
        store.insert_task(&task).await.expect("task");
        let created = DispatchEvent::TaskCreated {
            task: task.clone(),
            customer: CustomerCard::from(&customer),
        };
        (task, created)
    }

    /// The next event of `kind` on `desk` within `ms`, if any.
    async fn next_of(
        desk: &mut crate::bus::Subscription,
        kind: &str,
        ms: u64,
    ) -> Option<serde_json::Value> {
        use futures_util::StreamExt;
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_millis(ms);
        while let Ok(Some(delivery)) = tokio::time::timeout_at(deadline, desk.next()).await {
            let event: serde_json::Value = delivery.json().expect("json");
            // Settled: a dropped delivery would come back first.
            delivery.ack().await.expect("ack");
            if event["type"] == kind {
                return Some(event);
            }
        }
        None
    }

    /// A skill given to an agent reaches routing at once: the task that waited for it is
    /// offered at the next decision, without the desk reporting anything.
    #[actix_web::test]
    async fn a_changed_profile_routes_the_next_decision() {
        let (store, bus) = started_dispatcher();
        let agent = AgentId::from_trusted("agt_learner");
        let mut offers = bus.subscribe(&agent_route(&agent)).await.expect("sub");
        tell(bus.as_ref(), &desk(&agent, "desk-1", &[("billing", 4)]))
            .await
            .expect("told");
        let (task, created) = refund_task(store.as_ref()).await;
        tell(bus.as_ref(), &created).await.expect("told");
        assert!(
            next_of(&mut offers, "offer", 800).await.is_none(),
            "no refunds skill yet"
        );
        let profile = crate::actors::protocol::RoutingProfile {
            name: "Learner".to_owned(),
            skills: vec![crate::domain::Skill::parse("refunds", 4).expect("skill")],
            languages: vec![Language::Zh],
            capacity: 3,
            voice_capacity: None,
            ticket_capacity: None,
        };
        let changed = DispatchEvent::AgentProfile {
            agent_id: agent.clone(),
            profile,
        };
        tell(bus.as_ref(), &changed).await.expect("told");
        let offer = next_of(&mut offers, "offer", 5_000)
            .await
            .expect("offered once the skill is there");
        assert_eq!(offer["task_id"], task.id.as_str());
    }

    /// An agent who leaves routing loses their offer (it goes to someone else), and what their
    /// closing desk still reports does not bring them back.
    #[actix_web::test]
    async fn a_removed_agent_loses_their_offers_and_their_desk_is_not_heard() {
        let (store, bus) = started_dispatcher();
        let leaver = AgentId::from_trusted("agt_leaver");
        let stayer = AgentId::from_trusted("agt_stayer");
        let mut leaving = bus.subscribe(&agent_route(&leaver)).await.expect("sub");
        let mut staying = bus.subscribe(&agent_route(&stayer)).await.expect("sub");
        tell(bus.as_ref(), &desk(&leaver, "desk-l", &[("refunds", 5)]))
            .await
            .expect("told");
        let (task, created) = refund_task(store.as_ref()).await;
        tell(bus.as_ref(), &created).await.expect("told");
        let offer = next_of(&mut leaving, "offer", 5_000).await.expect("offer");
        assert_eq!(offer["task_id"], task.id.as_str());

        let removed = DispatchEvent::AgentRemoved {
            agent_id: leaver.clone(),
        };
        tell(bus.as_ref(), &removed).await.expect("told");
        let revoked = next_of(&mut leaving, "offer_revoked", 5_000)
            .await
            .expect("revoked");
        assert_eq!(revoked["task_id"], task.id.as_str());
        // The closing desk reports once more (sent before it heard of the removal); another
        // qualified agent arrives: the task is theirs, never the leaver's again.
        tell(bus.as_ref(), &desk(&leaver, "desk-l", &[("refunds", 5)]))
            .await
            .expect("told");
        tell(bus.as_ref(), &desk(&stayer, "desk-s", &[("refunds", 3)]))
            .await
            .expect("told");
        let offer = next_of(&mut staying, "offer", 5_000).await.expect("offer");
        assert_eq!(offer["task_id"], task.id.as_str());
        assert!(next_of(&mut leaving, "offer", 1_500).await.is_none());
    }

    #[test]
    fn a_task_is_reserved_for_its_previous_agent_only_while_they_can_take_it() {
        let prev = AgentId::from_trusted("agt_prev");
        let mut agents = HashMap::new();
        agents.insert(prev.clone(), entry(&[("orders", 3)]));
        assert_eq!(
            reservation(&agents, Some(&prev), &task("orders"), 60_000),
            Some((prev.clone(), 61_000))
        );
        // The task now needs a skill the previous agent lacks: no reservation, anyone
        // qualified may take it at once.
        assert_eq!(
            reservation(&agents, Some(&prev), &task("refunds"), 60_000),
            None
        );
        // Nor for an agent who is away, or when stickiness is off.
        agents.get_mut(&prev).expect("agent").state.status = AgentStatus::Away;
        assert_eq!(
            reservation(&agents, Some(&prev), &task("orders"), 60_000),
            None
        );
        agents.get_mut(&prev).expect("agent").state.status = AgentStatus::Available;
        assert_eq!(reservation(&agents, Some(&prev), &task("orders"), 0), None);
    }
}
