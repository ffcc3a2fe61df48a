//! `Dispatcher`: holds waiting tasks and agent states and turns routing decisions into offers.
//!
//! It consumes the `dispatch` work queue one event at a time (each event is fully applied and
//! its offers published before the next is read, then acknowledged), asks the pure policy in
//! [`crate::routing`] what to offer, and keeps offers honest: an offer expires after the offer
//! timeout, a reject or expiry re-offers to someone else, an agent who disconnects loses their
//! offers, and an acceptance is committed with a compare-and-set in the store, so a task is
//! never assigned twice. On start it rebuilds its queue from the store.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::agent_session::AgentEvent;
use super::customer_session::{SessionCommand, ShardMessage};
use super::{agent_route, dispatch_route, session_route, AGENTS_BROADCAST, DISPATCH_QUEUE};
use crate::bus::{publish_json, Bus, Delivery, Route};
use crate::domain::{
    AgentId, AgentStatus, ConversationId, Language, Priority, Skill, SkillRequirement, Task, TaskId,
};
use crate::routing::{self, AgentState, Millis, QueuedTask, TaskQueue};
use crate::rules::{self, CompiledRules, Decision, RuleSetDoc, TaskFacts};
use crate::settings::RoutingSettings;
use crate::store::Store;
use crate::telemetry::Metrics;
use crate::views::CustomerCard;

/// Events for the dispatcher (work queue `dispatch`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DispatchEvent {
    /// A conversation was handed off and waits for an agent.
    TaskCreated { task: Task, customer: CustomerCard },
    /// An agent's desk reports presence, skills and the conversations it holds.
    AgentState {
        agent_id: AgentId,
        name: String,
        connection_id: String,
        status: AgentStatus,
        skills: Vec<Skill>,
        languages: Vec<Language>,
        capacity: u32,
        active: Vec<ConversationId>,
    },
    /// An agent's desk connection went away.
    AgentDisconnected {
        agent_id: AgentId,
        connection_id: String,
    },
    /// An agent accepted an offer.
    Accept { task_id: TaskId, agent_id: AgentId },
    /// An agent rejected an offer.
    Reject { task_id: TaskId, agent_id: AgentId },
    /// A conversation an agent held is closed: capacity is free again.
    ConversationClosed {
        agent_id: AgentId,
        conversation_id: ConversationId,
    },
    /// A node's periodic nudge: it makes a standby that inherited the queue take over
    /// promptly. Carries nothing.
    Heartbeat,
    /// A supervisor activated a routing rule set: load the active one from the store.
    RulesActivated { version: i64 },
}

/// Live figures for `GET /v1/queues`.
#[derive(Debug, Clone, Serialize)]
pub struct QueueFigures {
    pub waiting: usize,
    pub offered: usize,
    pub longest_wait_ms: u64,
    pub agents: Vec<AgentFigure>,
}

/// One agent in [`QueueFigures`].
#[derive(Debug, Clone, Serialize)]
pub struct AgentFigure {
    pub agent_id: AgentId,
    pub name: String,
    pub status: AgentStatus,
    pub load: u32,
    pub capacity: u32,
    pub skills: BTreeMap<String, u8>,
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

/// The rule set in force, compiled.
struct ActiveRules {
    version: i64,
    compiled: CompiledRules,
}

struct AgentEntry {
    state: AgentState,
    name: String,
    connection_id: String,
    active: HashSet<ConversationId>,
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
}

/// How often every node nudges the dispatch queue.
const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(1);

/// Reconcile with the store every this many ticks.
const RECONCILE_EVERY_TICKS: u64 = 10;

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
        }
    }

    fn now(&self) -> Millis {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
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
        self.queue.insert(QueuedTask {
            id: task.id.clone(),
            priority: task.priority,
            language: task.language,
            required_skills: task.required_skills.clone(),
            seq: self.next_seq,
            enqueued_at: self.now(),
            offered_to: None,
            declined_by: BTreeMap::new(),
        });
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
        self.retarget(std::slice::from_ref(&id));
    }

    /// Applies the active rule set to these waiting tasks: the matching rule and the overflow
    /// step reached at the task's wait set its required skills and priority (the bot's
    /// priority plus the rule's, with aging). Without rules nothing changes.
    fn retarget(&mut self, ids: &[TaskId]) {
        let Some(rules) = &self.rules else {
            return;
        };
        let now = Utc::now();
        for id in ids {
            let (Some(info), Some(queued)) = (self.tasks.get_mut(id), self.queue.get(id)) else {
                continue;
            };
            let facts = task_facts(info, now);
            let Some(decision) = rules.compiled.decide(&facts) else {
                continue;
            };
            let skills: Vec<SkillRequirement> = decision
                .skills
                .iter()
                .map(|need| SkillRequirement {
                    name: need.name.clone(),
                    min_level: need.min_level,
                })
                .collect();
            let bonus = i32::try_from(decision.priority).unwrap_or(if decision.priority < 0 {
                i32::MIN
            } else {
                i32::MAX
            });
            let priority = Priority(info.task.priority.0.saturating_add(bonus));
            if info
                .decision
                .as_ref()
                .map(|d| (d.rule_index, d.overflow_step))
                != Some((decision.rule_index, decision.overflow_step))
            {
                tracing::debug!(task = %id, rule = %decision.rule, step = ?decision.overflow_step, version = rules.version, "Routing rule applied.");
            }
            info.decision = Some(decision);
            if queued.required_skills != skills || queued.priority != priority {
                let mut updated = queued.clone();
                updated.required_skills = skills;
                updated.priority = priority;
                self.queue.insert(updated);
            }
        }
    }

    /// Stores why `decision` was made (rule and overflow step in force, the target, every
    /// agent with their load or the reasons they were out), for `GET /v1/tasks/{id}/routing`.
    /// Written in the background: an explanation lost to a store failure loses no routing.
    fn record_explanation(&self, ctx: &mut Context<Self>, decision: &routing::Offer, now: Millis) {
        let (Some(info), Some(queued)) = (
            self.tasks.get(&decision.task_id),
            self.queue.get(&decision.task_id),
        ) else {
            return;
        };
        let candidates = routing::explain(queued, self.agents.values().map(|e| &e.state), now);
        let explanation = serde_json::json!({
            "offered_to": decision.agent_id,
            "at": Utc::now(),
            "rules_version": self.rules.as_ref().map(|r| r.version),
            "rule": info.decision.as_ref().map(|d| serde_json::json!({
                "name": d.rule,
                "index": d.rule_index,
                "overflow_step": d.overflow_step,
                "queue": d.queue,
            })),
            "target": {
                "skills": queued.required_skills,
                "language": queued.language,
                "priority": queued.priority.0,
            },
            "candidates": candidates,
        });
        let (store, task_id) = (Arc::clone(&self.store), decision.task_id.clone());
        ctx.spawn(
            async move {
                if let Err(error) = store.set_task_routing(&task_id, &explanation).await {
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
            async move { store.active_rule_set().await }
                .into_actor(self)
                .map(move |result, act, ctx| {
                    match result {
                        Ok(active) => act.install_rules(active),
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

    fn install_rules(&mut self, active: Option<crate::store::ActiveRuleSet>) {
        self.rules = active.and_then(|active| {
            let version = active.rule_set.version;
            let compiled = serde_json::from_value::<RuleSetDoc>(active.rule_set.document)
                .map_err(|e| vec![rules::Problem::new("document", e.to_string())])
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
        let offered = self
            .offers
            .values()
            .filter(|o| o.agent_id == *agent_id)
            .count();
        if let Some(entry) = self.agents.get_mut(agent_id) {
            entry.state.load = u32::try_from(entry.active.len() + offered).unwrap_or(u32::MAX);
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
                active,
            } => {
                let now = self.now();
                let new_desk = self
                    .agents
                    .get(&agent_id)
                    .is_none_or(|e| e.connection_id != connection_id);
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
                            load: 0,
                            idle_since: now,
                        },
                        name: name.clone(),
                        connection_id: connection_id.clone(),
                        active: HashSet::new(),
                    });
                if entry.state.status != AgentStatus::Available && status == AgentStatus::Available
                {
                    entry.state.idle_since = now;
                }
                entry.state.status = status;
                entry.state.skills = skills.into_iter().map(|s| (s.name, s.level)).collect();
                entry.state.languages = languages;
                entry.state.capacity = capacity;
                entry.name = name;
                entry.connection_id = connection_id;
                // The dispatcher owns the list of held conversations (accept adds, close
                // removes). Only a new desk, which loaded it from the store, may replace it.
                if new_desk {
                    entry.active = active.into_iter().collect();
                }
                if new_desk || status != AgentStatus::Available {
                    // A replaced desk never saw its offers; an unavailable agent cannot take them.
                    self.withdraw_offers_of(&agent_id);
                }
                self.sync_load(&agent_id);
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
                        entry.state.status = AgentStatus::Offline;
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
                let now = self.now();
                if let Some(entry) = self.agents.get_mut(&agent_id) {
                    if entry.active.remove(&conversation_id) {
                        entry.state.idle_since = now;
                    }
                }
                self.sync_load(&agent_id);
            }
            // Need the store: see `accept` and `load_rules`.
            DispatchEvent::Accept { .. } | DispatchEvent::RulesActivated { .. } => {}
            DispatchEvent::Heartbeat => {}
        }
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
        self.sync_load(&offer.agent_id);
        self.send(
            agent_route(&offer.agent_id),
            &AgentEvent::OfferRevoked {
                task_id: task_id.clone(),
            },
        );
    }

    /// Runs the policy and records the offers it makes.
    fn replan(&mut self, ctx: &mut Context<Self>) {
        let now = self.now();
        let decisions = routing::plan(&self.queue, self.agents.values().map(|e| &e.state), now);
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
    fn flush(&mut self, ctx: &mut Context<Self>, delivery: Option<Delivery>) {
        let outbox = std::mem::take(&mut self.outbox);
        let bus = Arc::clone(&self.bus);
        ctx.wait(
            async move {
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
            }
            .into_actor(self),
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
            // Too late (expired, withdrawn) or not theirs.
            self.send(
                agent_route(&agent_id),
                &AgentEvent::OfferRevoked { task_id },
            );
            self.flush(ctx, Some(delivery));
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
                self.queue.remove(&task_id);
                let info = self.tasks.remove(&task_id);
                self.metrics.offers.with_label_values(&["accepted"]).inc();
                let Some(info) = info else { return };
                self.metrics
                    .assignment_latency
                    .observe(info.queued_at.elapsed().as_secs_f64());
                let name = match self.agents.get_mut(&agent_id) {
                    Some(entry) => {
                        entry.active.insert(info.task.conversation_id.clone());
                        entry.name.clone()
                    }
                    None => agent_id.to_string(),
                };
                self.sync_load(&agent_id);
                self.send(
                    session_route(&info.task.customer_id),
                    &ShardMessage::Command {
                        command: SessionCommand::AgentAssigned {
                            customer_id: info.task.customer_id.clone(),
                            conversation_id: info.task.conversation_id.clone(),
                            task_id,
                            agent_id,
                            agent_name: name,
                        },
                    },
                );
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
    fn widen_long_waits(&mut self) {
        let now = self.now();
        let due: Vec<QueuedTask> = self
            .queue
            .iter()
            .filter_map(|t| routing::widen(t, now, self.settings.overflow_after_ms))
            .collect();
        for task in due {
            tracing::info!(task = %task.id, "Task waited past the overflow time; any skill now.");
            self.queue.insert(task);
        }
    }

    /// Picks up waiting tasks whose `TaskCreated` never arrived (e.g. a lost publish), and a
    /// rule-set activation whose notice never arrived.
    fn reconcile(&mut self, ctx: &mut Context<Self>) {
        let store = Arc::clone(&self.store);
        let in_force = self.rules.as_ref().map(|r| r.version);
        ctx.spawn(
            async move { store.active_rule_set().await }
                .into_actor(self)
                .map(move |result, act, ctx| {
                    if let Ok(active) = result {
                        if active.as_ref().map(|a| a.rule_set.version) != in_force
                            && act.rules.as_ref().map(|r| r.version) == in_force
                        {
                            act.install_rules(active);
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
                for task in store.waiting_tasks().await? {
                    if known.contains(&task.id) {
                        continue;
                    }
                    if let Some(customer) = store.customer(&task.customer_id).await? {
                        missing.push((task, CustomerCard::from(&customer)));
                    }
                }
                anyhow::Ok(missing)
            }
            .into_actor(self)
            .map(|result, act, ctx| match result {
                Ok(missing) if !missing.is_empty() => {
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
                Ok(_) => {}
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
                let rules = store.active_rule_set().await?;
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
                    act.send(
                        Route::Topic(AGENTS_BROADCAST.to_owned()),
                        &AgentEvent::Resync,
                    );
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

    fn figures(&self) -> QueueFigures {
        let longest = self
            .tasks
            .values()
            .map(|t| t.queued_at.elapsed())
            .max()
            .unwrap_or_default();
        let mut agents: Vec<AgentFigure> = self
            .agents
            .values()
            .map(|e| AgentFigure {
                agent_id: e.state.id.clone(),
                name: e.name.clone(),
                status: e.state.status,
                load: e.state.load,
                capacity: e.state.capacity,
                skills: e.state.skills.clone(),
            })
            .collect();
        agents.sort_by(|a, b| a.name.cmp(&b.name));
        QueueFigures {
            waiting: self.queue.len(),
            offered: self.offers.len(),
            longest_wait_ms: u64::try_from(longest.as_millis()).unwrap_or(u64::MAX),
            agents,
        }
    }
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
            }
            if act.rules.is_some() {
                // Overflow steps and aging move with the wait.
                let ids: Vec<TaskId> = act.tasks.keys().cloned().collect();
                act.retarget(&ids);
            } else {
                act.widen_long_waits();
            }
            act.replan(ctx);
            if !act.outbox.is_empty() {
                act.flush(ctx, None);
            }
        });
    }
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
        self.apply(event);
        self.replan(ctx);
        self.flush(ctx, Some(delivery));
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
