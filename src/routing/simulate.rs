//! Dry-run: replays recorded traffic through a deterministic discrete-event simulation.
//!
//! The simulation routes with the live dispatcher's own policy code: [`crate::routing::rules`] decides
//! each waiting task's target (rule, overflow step, override, opening hours, maximum wait) and
//! [`crate::routing::policy::plan`] picks agents, both pure. There is no wall clock: time is the
//! simulated millisecond, so the same input always gives the same report.
//!
//! What is replayed ([`SimInput`], built from the store by [`SimInput::from_traffic`]):
//! task arrivals with the facts their rules see, each task's recorded handling time (assigned →
//! finished), the customers' patience where it is known, and the agents' presence changes.
//!
//! Simplifications, stated so the figures can be trusted for what they are:
//! - an offer is accepted at once (recorded accept delays are part of the recorded waits, not
//!   re-simulated);
//! - a customer's patience is their recorded abandonment time when they abandoned, otherwise
//!   at least their recorded wait and at least `patience_ms` (an estimate of how long
//!   customers wait before giving up);
//! - agents' skills, languages and capacity are today's (they are not versioned).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};

use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::Serialize;

use crate::domain::{
    AgentId, AgentStatus, Language, Priority, SkillRequirement, TaskId, TaskStatus,
};
use crate::routing::policy::{self, AgentState, Media, Millis, QueuedTask, Slots, TaskQueue};
use crate::routing::rules::{
    compile_stored, CompiledRules, Decision, Override, RuleSetDoc, TaskFacts, DEFAULT_QUEUE,
};
use crate::routing::stats::{Left, Outcome, QueueStats, QueueSummary};
use crate::settings::RoutingSettings;
use crate::store::{PresenceEvent, Traffic};

/// How the simulation behaves where the rules do not say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimSettings {
    pub wrap_up_ms: Millis,
    pub sticky_agent_ms: Millis,
    pub service_level_ms: Millis,
    /// Built-in routing (no rule set): skills dropped after this wait.
    pub overflow_after_ms: Millis,
    pub voice_capacity: u32,
    pub ticket_capacity: u32,
    /// Assumed patience of a customer who did not abandon (see the module docs).
    pub patience_ms: Millis,
    /// Handling time of a task without a recorded one (and no recorded median).
    pub default_handle_ms: Millis,
    /// Points of the waiting-tasks timeline.
    pub timeline_points: usize,
    /// Cross-check mode: also re-decide *every* waiting task at this period, as the live
    /// dispatcher does on each tick (slow; None in dry-runs, which re-decide a task only when
    /// its decision can change — tests check both give the same report).
    pub review_all_every_ms: Option<Millis>,
}

impl SimSettings {
    /// The live dispatcher's settings, and the given patience.
    pub fn from_routing(settings: &RoutingSettings, patience_ms: Millis) -> Self {
        Self {
            wrap_up_ms: settings.wrap_up_ms,
            sticky_agent_ms: settings.sticky_agent_ms,
            service_level_ms: settings.service_level_secs * 1000,
            overflow_after_ms: settings.overflow_after_ms,
            voice_capacity: settings.voice_capacity,
            ticket_capacity: settings.ticket_capacity,
            patience_ms,
            default_handle_ms: 300_000,
            timeline_points: 200,
            review_all_every_ms: None,
        }
    }
}

/// One recorded task, as the simulation replays it.
#[derive(Debug, Clone, PartialEq)]
pub struct SimTask {
    pub id: TaskId,
    /// Milliseconds after the window opens.
    pub arrival: Millis,
    pub channel: String,
    pub intent: Option<String>,
    pub language: Language,
    pub tier: String,
    pub tags: Vec<String>,
    /// The hand-off's priority and skills, before any rule.
    pub priority: Priority,
    pub skills: Vec<SkillRequirement>,
    pub media: Media,
    pub preferred_agent: Option<AgentId>,
    /// How long an agent works on it once assigned.
    pub handle_ms: Millis,
    /// The customer gives up after waiting this long (None: never).
    pub patience_ms: Option<Millis>,
}

/// One agent of the roster.
#[derive(Debug, Clone, PartialEq)]
pub struct SimAgent {
    pub id: AgentId,
    pub skills: BTreeMap<String, u8>,
    pub languages: Vec<Language>,
    pub capacity: Slots,
}

/// A presence change, in milliseconds after the window opens (0 for the state it opens with).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimPresence {
    pub at: Millis,
    pub agent: AgentId,
    pub status: AgentStatus,
}

/// Everything a simulation replays.
#[derive(Debug, Clone, PartialEq)]
pub struct SimInput {
    pub start: DateTime<Utc>,
    pub length_ms: Millis,
    /// By arrival.
    pub tasks: Vec<SimTask>,
    /// By id.
    pub agents: Vec<SimAgent>,
    /// By time.
    pub presence: Vec<SimPresence>,
    pub settings: SimSettings,
}

impl SimInput {
    /// The recorded traffic of `[from, to)` as simulation input.
    pub fn from_traffic(
        traffic: &Traffic,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        settings: SimSettings,
    ) -> Self {
        let ms = |d: chrono::Duration| u64::try_from(d.num_milliseconds()).unwrap_or(0);
        let mut handled: Vec<Millis> = traffic
            .tasks
            .iter()
            .filter_map(|r| Some(ms(r.finished_at? - r.task.assigned_at?)))
            .collect();
        handled.sort_unstable();
        let median_handle =
            crate::routing::stats::percentile(&handled, 50).unwrap_or(settings.default_handle_ms);
        let tasks = traffic
            .tasks
            .iter()
            .map(|recorded| {
                let task = &recorded.task;
                let handle_ms = match (task.assigned_at, recorded.finished_at) {
                    (Some(a), Some(f)) if f > a => ms(f - a),
                    _ => median_handle,
                };
                let patience_ms = match (task.status, task.assigned_at, recorded.finished_at) {
                    (TaskStatus::Cancelled, None, Some(f)) => Some(ms(f - task.created_at)),
                    (_, Some(a), _) => Some(ms(a - task.created_at).max(settings.patience_ms)),
                    _ => Some(settings.patience_ms),
                };
                SimTask {
                    id: task.id.clone(),
                    arrival: ms(task.created_at - from),
                    channel: task.channel.as_str().to_owned(),
                    intent: task.intent.clone(),
                    language: task.language,
                    tier: recorded.tier.as_str().to_owned(),
                    tags: recorded.tags.clone(),
                    priority: task.priority,
                    skills: task.required_skills.clone(),
                    media: Media::of(task.channel),
                    preferred_agent: task.preferred_agent.clone(),
                    handle_ms: handle_ms.max(1),
                    patience_ms,
                }
            })
            .collect();
        let mut agents: Vec<SimAgent> = traffic
            .agents
            .iter()
            .map(|a| SimAgent {
                id: a.id.clone(),
                skills: a.skills.iter().map(|s| (s.name.clone(), s.level)).collect(),
                languages: a.languages.clone(),
                capacity: Slots {
                    chat: a.capacity,
                    voice: a.voice_capacity.unwrap_or(settings.voice_capacity),
                    ticket: a.ticket_capacity.unwrap_or(settings.ticket_capacity),
                },
            })
            .collect();
        agents.sort_by(|a, b| a.id.cmp(&b.id));
        let presence = presence_in_window(&traffic.presence, &traffic.tasks, from, to);
        Self {
            start: from,
            length_ms: ms(to - from),
            tasks,
            agents,
            presence,
            settings,
        }
    }
}

/// Presence relative to the window. An agent with no recorded presence at all who handled a
/// task in the window is taken as available throughout (older data has no presence log).
fn presence_in_window(
    events: &[PresenceEvent],
    tasks: &[crate::store::RecordedTask],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<SimPresence> {
    let ms = |t: DateTime<Utc>| u64::try_from((t - from).num_milliseconds()).unwrap_or(0);
    let mut out: Vec<SimPresence> = events
        .iter()
        .filter(|e| e.at < to)
        .map(|e| SimPresence {
            at: ms(e.at), // before the window: its opening state, at 0
            agent: e.agent_id.clone(),
            status: e.status,
        })
        .collect();
    let mut seen: Vec<&AgentId> = events.iter().map(|e| &e.agent_id).collect();
    seen.sort();
    seen.dedup();
    let mut workers: Vec<&AgentId> = tasks
        .iter()
        .filter_map(|t| t.task.agent_id.as_ref())
        .filter(|a| seen.binary_search(a).is_err())
        .collect();
    workers.sort();
    workers.dedup();
    out.extend(workers.into_iter().map(|agent| SimPresence {
        at: 0,
        agent: agent.clone(),
        status: AgentStatus::Available,
    }));
    out.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.agent.cmp(&b.agent)));
    out
}

/// What one set of rules did with the traffic.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = SimOutcome)]
pub struct SimReport {
    /// Every queue together.
    #[serde(flatten)]
    pub overall: QueueSummary,
    /// Tasks still waiting when the window closed.
    pub unserved: u64,
    /// Tasks whose first target no agent of the roster could ever serve (skills, language).
    pub unservable: u64,
    #[schema(inline)]
    pub queues: Vec<QueueReport>,
    #[schema(inline)]
    pub agents: Vec<AgentReport>,
    /// The queue each task was first routed to (by task, in input order).
    #[serde(skip)]
    pub first_queue: Vec<String>,
    /// Waiting tasks at evenly spaced times: (milliseconds after the start, waiting).
    #[serde(skip)]
    pub timeline: Vec<(Millis, usize)>,
}

/// One queue of a [`SimReport`].
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct QueueReport {
    pub queue: String,
    #[serde(flatten)]
    pub summary: QueueSummary,
}

/// One agent of a [`SimReport`].
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AgentReport {
    #[schema(value_type = String)]
    pub agent_id: AgentId,
    pub handled: u64,
    /// Time holding at least one task ÷ time not offline (None: never online).
    #[schema(required = true)]
    pub occupancy: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Event {
    // Declared in the order same-time events are handled: agents first, then the work.
    Presence(usize),
    Finish {
        agent: usize,
        task: usize,
    },
    WrapUpEnds,
    Arrival(usize),
    Abandon(usize),
    /// A waiting task's decision may change now (see [`CompiledRules::next_review`]).
    Review(usize),
    /// Cross-check mode: re-decide every waiting task.
    ReviewAll,
}

struct AgentSim {
    state: AgentState,
    holding: Vec<usize>,
    handled: u64,
    online_ms: Millis,
    busy_ms: Millis,
    since: Millis,
}

impl AgentSim {
    /// Accounts time up to `now` before anything about the agent changes.
    fn account(&mut self, now: Millis) {
        let elapsed = now.saturating_sub(self.since);
        // Busy time counts while online only, so occupancy stays within 0..=1 even when an
        // agent logs off with a conversation still open.
        if self.state.status != AgentStatus::Offline {
            self.online_ms += elapsed;
            if !self.holding.is_empty() {
                self.busy_ms += elapsed;
            }
        }
        self.since = now;
    }
}

struct World<'a> {
    input: &'a SimInput,
    rules: Option<&'a CompiledRules>,
    overrides: &'a [Override],
    agents: Vec<AgentSim>,
    agent_index: HashMap<AgentId, usize>,
    queue: TaskQueue,
    /// Task id → index into `input.tasks`.
    index: HashMap<TaskId, usize>,
    decisions: Vec<Option<Decision>>,
    first_queue: Vec<Option<String>>,
    stats: QueueStats,
    events: BinaryHeap<Reverse<(Millis, Event, u64)>>,
    seq: u64,
    /// When each task is next re-decided (a `Review` for another time is stale).
    next_review: Vec<Option<Millis>>,
    /// Tasks to re-decide after this instant's events.
    due: Vec<usize>,
    review_all_pending: bool,
}

/// Replays `input` with `rules` (None: the built-in routing) and the `overrides` given.
pub fn simulate(
    input: &SimInput,
    rules: Option<&CompiledRules>,
    overrides: &[Override],
) -> SimReport {
    let agents: Vec<AgentSim> = input
        .agents
        .iter()
        .map(|a| AgentSim {
            state: AgentState {
                id: a.id.clone(),
                status: AgentStatus::Offline,
                skills: a.skills.clone(),
                languages: a.languages.clone(),
                capacity: a.capacity,
                load: Slots::default(),
                idle_since: 0,
                wrap_up_until: 0,
            },
            holding: Vec::new(),
            handled: 0,
            online_ms: 0,
            busy_ms: 0,
            since: 0,
        })
        .collect();
    let mut world = World {
        input,
        rules,
        overrides,
        agent_index: agents
            .iter()
            .enumerate()
            .map(|(i, a)| (a.state.id.clone(), i))
            .collect(),
        agents,
        queue: TaskQueue::default(),
        index: input
            .tasks
            .iter()
            .enumerate()
            .map(|(i, t)| (t.id.clone(), i))
            .collect(),
        decisions: vec![None; input.tasks.len()],
        first_queue: vec![None; input.tasks.len()],
        stats: QueueStats::default(),
        events: BinaryHeap::new(),
        seq: 0,
        next_review: vec![None; input.tasks.len()],
        due: Vec::new(),
        review_all_pending: false,
    };
    for (i, p) in input.presence.iter().enumerate() {
        world.schedule(p.at, Event::Presence(i));
    }
    for (i, t) in input.tasks.iter().enumerate() {
        world.schedule(t.arrival, Event::Arrival(i));
        if let Some(patience) = t.patience_ms {
            world.schedule(t.arrival.saturating_add(patience), Event::Abandon(i));
        }
    }
    // The timeline samples the waiting tasks at k × length ÷ points, k = 0 … points - 1.
    let points = input.settings.timeline_points.max(1) as u64;
    let sample_at = |k: u64| k * input.length_ms / points;
    let mut timeline = Vec::new();
    let mut k = 0;
    while let Some(Reverse((now, event, _))) = world.events.pop() {
        if now >= input.length_ms {
            break;
        }
        while k < points && sample_at(k) <= now {
            timeline.push((sample_at(k), world.queue.len()));
            k += 1;
        }
        world.handle(now, event);
        let more_now = world
            .events
            .peek()
            .is_some_and(|Reverse((t, _, _))| *t == now);
        if !more_now {
            world.step(now);
        }
    }
    while k < points {
        timeline.push((sample_at(k), world.queue.len()));
        k += 1;
    }
    world.report(timeline)
}

impl World<'_> {
    fn schedule(&mut self, at: Millis, event: Event) {
        self.seq += 1;
        self.events.push(Reverse((at, event, self.seq)));
    }

    fn handle(&mut self, now: Millis, event: Event) {
        match event {
            Event::Presence(i) => {
                let p = &self.input.presence[i];
                if let Some(&a) = self.agent_index.get(&p.agent) {
                    let agent = &mut self.agents[a];
                    agent.account(now);
                    if agent.state.status != AgentStatus::Available
                        && p.status == AgentStatus::Available
                    {
                        agent.state.idle_since = now;
                    }
                    agent.state.status = p.status;
                    // Reservations for this agent hold or lapse with their presence.
                    let reserved: Vec<usize> = self
                        .queue
                        .iter()
                        .filter_map(|q| self.index.get(&q.id).copied())
                        .filter(|&t| self.input.tasks[t].preferred_agent.as_ref() == Some(&p.agent))
                        .collect();
                    self.due.extend(reserved);
                }
            }
            Event::Arrival(i) => {
                let t = &self.input.tasks[i];
                let mut queued = QueuedTask::new(
                    t.id.clone(),
                    t.priority,
                    t.language,
                    t.skills.clone(),
                    i as u64,
                    now,
                );
                queued.media = t.media;
                queued.preferred =
                    self.reservation(i, &queued, self.input.settings.sticky_agent_ms);
                self.queue.insert(queued);
                self.due.push(i);
            }
            Event::Finish { agent, task } => {
                let wrap = self.input.settings.wrap_up_ms;
                let sim = &mut self.agents[agent];
                sim.account(now);
                sim.holding.retain(|t| *t != task);
                sim.state.load = load_of(&sim.holding, self.input);
                sim.state.wrap_up_until = now + wrap;
                sim.state.idle_since = now + wrap;
                if wrap > 0 {
                    self.schedule(now + wrap, Event::WrapUpEnds);
                }
            }
            Event::WrapUpEnds => {}
            Event::Abandon(i) => {
                if let Some(queued) = self.queue.remove(&self.input.tasks[i].id) {
                    self.leave(i, now, now - queued.enqueued_at, Left::Abandoned);
                }
            }
            Event::Review(i) => {
                if self.next_review[i] == Some(now) {
                    self.next_review[i] = None;
                    self.due.push(i);
                }
            }
            Event::ReviewAll => {
                self.review_all_pending = false;
                let all: Vec<usize> = self
                    .queue
                    .iter()
                    .filter_map(|q| self.index.get(&q.id).copied())
                    .collect();
                self.due.extend(all);
            }
        }
    }

    /// After the events of one instant: re-decide the tasks that arrived or are due for a
    /// review (sending those past their maximum wait to the fallback), then offer (and, in the
    /// simulation, accept at once). The live dispatcher re-decides every waiting task on each
    /// tick; deciding only when a decision can change gives the same decisions far faster.
    fn step(&mut self, now: Millis) {
        let mut due = std::mem::take(&mut self.due);
        due.sort_unstable();
        due.dedup();
        for i in due {
            if let Some(queued) = self.queue.get(&self.input.tasks[i].id).cloned() {
                self.retarget(i, queued, now);
            }
        }
        let states: Vec<&AgentState> = self.agents.iter().map(|a| &a.state).collect();
        let offers = policy::plan(&self.queue, states, now);
        if let Some(period) = self.input.settings.review_all_every_ms {
            if !self.queue.is_empty() && !self.review_all_pending {
                self.review_all_pending = true;
                self.schedule(now + period.max(1), Event::ReviewAll);
            }
        }
        for offer in offers {
            let (Some(&i), Some(&a)) = (
                self.index.get(&offer.task_id),
                self.agent_index.get(&offer.agent_id),
            ) else {
                continue;
            };
            let Some(queued) = self.queue.remove(&offer.task_id) else {
                continue;
            };
            let agent = &mut self.agents[a];
            agent.account(now);
            agent.holding.push(i);
            agent.handled += 1;
            agent.state.load = load_of(&agent.holding, self.input);
            let handle = self.input.tasks[i].handle_ms;
            self.schedule(now + handle, Event::Finish { agent: a, task: i });
            self.leave(i, now, now - queued.enqueued_at, Left::Answered);
        }
    }

    /// As the dispatcher: task `i` is reserved for the customer's previous agent for
    /// `sticky_ms` from its arrival, only while that agent is available.
    fn reservation(
        &self,
        i: usize,
        queued: &QueuedTask,
        sticky_ms: Millis,
    ) -> Option<(AgentId, Millis)> {
        let agent = self.input.tasks[i]
            .preferred_agent
            .as_ref()
            .filter(|_| sticky_ms > 0)?;
        let available = self
            .agent_index
            .get(agent)
            .is_some_and(|&a| self.agents[a].state.status == AgentStatus::Available);
        available.then(|| (agent.clone(), queued.enqueued_at.saturating_add(sticky_ms)))
    }

    /// Schedules task `i`'s next review at `at` (the earliest wins).
    fn review_at(&mut self, i: usize, at: Millis) {
        if self.next_review[i].is_none_or(|current| at < current) {
            self.next_review[i] = Some(at);
            self.schedule(at, Event::Review(i));
        }
    }

    fn retarget(&mut self, i: usize, queued: QueuedTask, now: Millis) {
        let t = &self.input.tasks[i];
        let waited = now - queued.enqueued_at;
        let Some(rules) = self.rules else {
            // Built-in routing: the hand-off's target, widened after the overflow time.
            if self.first_queue[i].is_none() {
                self.first_queue[i] = Some(DEFAULT_QUEUE.to_owned());
            }
            let overflow_after = self.input.settings.overflow_after_ms;
            let mut updated = policy::widen(&queued, now, overflow_after).unwrap_or_else(|| {
                if !queued.required_skills.is_empty() {
                    self.review_at(i, queued.enqueued_at.saturating_add(overflow_after));
                }
                queued.clone()
            });
            updated.preferred = self.reservation(i, &queued, self.input.settings.sticky_agent_ms);
            if let Some((_, until)) = updated.preferred.as_ref().filter(|(_, u)| *u > now) {
                self.review_at(i, *until);
            }
            if updated != queued {
                self.queue.insert(updated);
            }
            return;
        };
        let at = self.input.start
            + chrono::Duration::milliseconds(i64::try_from(now).unwrap_or(i64::MAX));
        let facts = TaskFacts {
            channel: t.channel.clone(),
            intent: t.intent.clone(),
            language: t.language.as_str().to_owned(),
            tier: t.tier.clone(),
            tags: t.tags.clone(),
            wait_secs: waited / 1000,
            hour: at.hour(),
            weekday: at.weekday().number_from_monday(),
            queue: self.decisions[i]
                .as_ref()
                .map(|d| d.queue.clone())
                .unwrap_or_default(),
            at,
        };
        let decision = rules.decide(&facts, self.overrides);
        // Next review: when the decision can change by itself (also when no rule matched:
        // a condition on the wait or the clock may hold later).
        let review = rules.next_review(decision.as_ref(), &facts, self.overrides);
        let by_wait = review
            .wait_secs
            .map(|w| queued.enqueued_at.saturating_add(w.saturating_mul(1000)));
        let by_clock = review
            .at
            .map(|at| u64::try_from((at - self.input.start).num_milliseconds()).unwrap_or(0));
        if let Some(next) = [by_wait, by_clock]
            .into_iter()
            .flatten()
            .filter(|t| *t > now)
            .min()
        {
            self.review_at(i, next);
        }
        let Some(decision) = decision else {
            if self.first_queue[i].is_none() {
                self.first_queue[i] = Some(DEFAULT_QUEUE.to_owned());
            }
            return;
        };
        if self.first_queue[i].is_none() {
            self.first_queue[i] = Some(decision.queue.clone());
        }
        if decision.sends_to_fallback(facts.wait_secs, queued.offered_to.is_some()) {
            self.queue.remove(&queued.id);
            self.decisions[i] = Some(decision);
            self.leave(i, now, waited, Left::Fallback);
            return;
        }
        let sticky_ms = decision.sticky_ms(self.input.settings.sticky_agent_ms);
        let preferred = self.reservation(i, &queued, sticky_ms);
        let mut updated = queued.clone();
        updated.required_skills = decision.required_skills(&t.skills);
        updated.priority = decision.priority_over(t.priority);
        updated.strategy = decision.strategy;
        updated.preferred = preferred;
        if let Some((_, until)) = updated.preferred.as_ref().filter(|(_, u)| *u > now) {
            self.review_at(i, *until);
        }
        if updated != queued {
            self.queue.insert(updated);
        }
        self.decisions[i] = Some(decision);
    }

    fn leave(&mut self, i: usize, now: Millis, waited: Millis, left: Left) {
        let queue = self.decisions[i]
            .as_ref()
            .map_or(DEFAULT_QUEUE, |d| d.queue.as_str())
            .to_owned();
        self.stats.record(Outcome {
            queue,
            at: now,
            waited,
            left,
        });
    }

    fn report(mut self, timeline: Vec<(Millis, usize)>) -> SimReport {
        let end = self.input.length_ms;
        for agent in &mut self.agents {
            agent.account(end);
        }
        let threshold = self.input.settings.service_level_ms;
        let unservable = self
            .input
            .tasks
            .iter()
            .enumerate()
            .filter(|(i, t)| {
                let skills = self.decisions[*i]
                    .as_ref()
                    .map_or_else(|| t.skills.clone(), |d| d.required_skills(&t.skills));
                let probe = QueuedTask::new(t.id.clone(), t.priority, t.language, skills, 0, 0);
                !self.agents.iter().any(|a| a.state.qualifies_for(&probe))
            })
            .count();
        SimReport {
            overall: self.stats.overall(threshold),
            unserved: self.queue.len() as u64,
            unservable: unservable as u64,
            queues: self
                .stats
                .per_queue(threshold)
                .into_iter()
                .map(|(queue, summary)| QueueReport { queue, summary })
                .collect(),
            agents: self
                .agents
                .iter()
                .map(|a| AgentReport {
                    agent_id: a.state.id.clone(),
                    handled: a.handled,
                    occupancy: (a.online_ms > 0).then(|| a.busy_ms as f64 / a.online_ms as f64),
                })
                .collect(),
            first_queue: self
                .first_queue
                .into_iter()
                .map(|q| q.unwrap_or_else(|| DEFAULT_QUEUE.to_owned()))
                .collect(),
            timeline,
        }
    }
}

/// A candidate rule set compared with the baseline on the same traffic.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DryRun {
    pub tasks: usize,
    pub agents: usize,
    pub candidate: SimReport,
    pub baseline: SimReport,
    /// Tasks the candidate first routes to another queue than the baseline.
    pub changed_queue_count: usize,
    /// The first hundred of them.
    #[schema(inline, max_items = 100)]
    pub changed_queue: Vec<QueueChange>,
    #[schema(inline)]
    pub timeline: Vec<TimelinePoint>,
}

/// A task routed to another queue by the candidate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct QueueChange {
    #[schema(value_type = String)]
    pub task_id: TaskId,
    pub from: String,
    pub to: String,
}

/// Waiting tasks at one moment under both rule sets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct TimelinePoint {
    pub at_secs: u64,
    pub candidate_waiting: usize,
    pub baseline_waiting: usize,
}

/// Replays `input` under the candidate and under the baseline (None: built-in routing).
/// Temporary overrides are left out of both: they would blur the comparison of rule sets.
pub fn dry_run(
    input: &SimInput,
    candidate: &CompiledRules,
    baseline: Option<&CompiledRules>,
) -> DryRun {
    let with_candidate = simulate(input, Some(candidate), &[]);
    let with_baseline = simulate(input, baseline, &[]);
    let changed: Vec<QueueChange> = input
        .tasks
        .iter()
        .zip(
            with_baseline
                .first_queue
                .iter()
                .zip(&with_candidate.first_queue),
        )
        .filter(|(_, (before, after))| before != after)
        .map(|(task, (before, after))| QueueChange {
            task_id: task.id.clone(),
            from: before.clone(),
            to: after.clone(),
        })
        .collect();
    let timeline = with_candidate
        .timeline
        .iter()
        .zip(&with_baseline.timeline)
        .map(
            |((at, candidate_waiting), (_, baseline_waiting))| TimelinePoint {
                at_secs: at / 1000,
                candidate_waiting: *candidate_waiting,
                baseline_waiting: *baseline_waiting,
            },
        )
        .collect();
    DryRun {
        tasks: input.tasks.len(),
        agents: input.agents.len(),
        changed_queue_count: changed.len(),
        changed_queue: changed.into_iter().take(100).collect(),
        timeline,
        candidate: with_candidate,
        baseline: with_baseline,
    }
}

/// A [`DryRun`] of `candidate` against the version in force on the traffic the store
/// recorded in `[from, to)`, with the version in force (None: built-in routing). The
/// replay runs on a blocking thread: a day of traffic takes CPU time.
pub async fn dry_run_from_store(
    store: &dyn crate::store::Store,
    settings: SimSettings,
    candidate: RuleSetDoc,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> anyhow::Result<(DryRun, Option<i64>)> {
    let baseline = store.active_rule_set().await?;
    let baseline_version = baseline.as_ref().map(|b| b.rule_set.version);
    let traffic = store.traffic(from, to).await?;
    let report = tokio::task::spawn_blocking(move || {
        let compile = |doc: &RuleSetDoc| {
            compile_stored(doc)
                .map_err(|problems| anyhow::anyhow!("the rule set does not compile: {problems:?}"))
        };
        let candidate = compile(&candidate)?;
        let baseline = baseline
            .map(|b| serde_json::from_value::<RuleSetDoc>(b.rule_set.document))
            .transpose()?
            .map(|doc| compile(&doc))
            .transpose()?;
        let input = SimInput::from_traffic(&traffic, from, to, settings);
        anyhow::Ok(dry_run(&input, &candidate, baseline.as_ref()))
    })
    .await??;
    Ok((report, baseline_version))
}

fn load_of(holding: &[usize], input: &SimInput) -> Slots {
    let mut load = Slots::default();
    for &t in holding {
        load.add(input.tasks[t].media);
    }
    load
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::routing::rules::{compile, RuleSetDoc};

    fn settings() -> SimSettings {
        SimSettings {
            wrap_up_ms: 0,
            sticky_agent_ms: 0,
            service_level_ms: 20_000,
            overflow_after_ms: 60_000,
            voice_capacity: 1,
            ticket_capacity: 5,
            patience_ms: 0,
            default_handle_ms: 60_000,
            timeline_points: 10,
            review_all_every_ms: None,
        }
    }

    fn task(i: usize, arrival: Millis, intent: &str, handle_ms: Millis) -> SimTask {
        SimTask {
            id: TaskId::from_trusted(format!("t{i:04}")),
            arrival,
            channel: "web".to_owned(),
            intent: Some(intent.to_owned()),
            language: Language::Zh,
            tier: "standard".to_owned(),
            tags: vec![],
            priority: Priority(0),
            skills: vec![],
            media: Media::Chat,
            preferred_agent: None,
            handle_ms,
            patience_ms: None,
        }
    }

    fn agent(id: &str, skills: &[(&str, u8)], chats: u32) -> SimAgent {
        SimAgent {
            id: AgentId::from_trusted(id),
            skills: skills.iter().map(|(s, l)| ((*s).to_owned(), *l)).collect(),
            languages: vec![Language::Zh, Language::En],
            capacity: Slots::chats(chats),
        }
    }

    fn input(tasks: Vec<SimTask>, agents: Vec<SimAgent>, length_ms: Millis) -> SimInput {
        let presence = agents
            .iter()
            .map(|a| SimPresence {
                at: 0,
                agent: a.id.clone(),
                status: AgentStatus::Available,
            })
            .collect();
        SimInput {
            start: "2026-11-24T02:00:00Z".parse().expect("time"),
            length_ms,
            tasks,
            agents,
            presence,
            settings: settings(),
        }
    }

    fn rules(json: serde_json::Value) -> CompiledRules {
        let doc: RuleSetDoc = serde_json::from_value(json).expect("document");
        let skills = ["billing", "tech"].into_iter().map(str::to_owned).collect();
        compile(&doc, &skills).expect("valid")
    }

    #[test]
    fn one_agent_serves_a_queue_in_order_and_the_figures_follow() {
        let tasks = (0..3).map(|i| task(i, 0, "billing", 10_000)).collect();
        let sim = input(tasks, vec![agent("a", &[], 1)], 100_000);
        let report = simulate(&sim, None, &[]);
        assert_eq!((report.overall.tasks, report.overall.answered), (3, 3));
        // Waits 0, 10 and 20 s: all within a 20 s service level.
        assert_eq!(report.overall.answered_within_sl, 3);
        assert_eq!(report.overall.wait_p50_secs, Some(10.0));
        assert_eq!(report.overall.wait_p90_secs, Some(20.0));
        assert_eq!(report.agents[0].handled, 3);
        // Busy 30 s of 100 s online.
        assert_eq!(report.agents[0].occupancy, Some(0.3));
        assert_eq!(report.unserved, 0);
        assert_eq!(report.first_queue, vec!["default"; 3]);
    }

    #[test]
    fn the_same_input_gives_the_same_report() {
        let tasks: Vec<SimTask> = (0..200)
            .map(|i| {
                let mut t = task(
                    i,
                    (i as u64 * 7_919) % 3_600_000,
                    ["billing", "tech", "other"][i % 3],
                    30_000 + (i as u64 * 104_729) % 600_000,
                );
                t.skills = if i % 3 == 1 {
                    vec![SkillRequirement {
                        name: "tech".to_owned(),
                        min_level: 2,
                    }]
                } else {
                    vec![]
                };
                t.patience_ms = Some(120_000 + (i as u64 * 31) % 240_000);
                t
            })
            .collect();
        let mut tasks = tasks;
        tasks.sort_by_key(|t| t.arrival);
        let agents = vec![
            agent("a", &[("billing", 4)], 2),
            agent("b", &[("tech", 3)], 3),
            agent("c", &[("billing", 2), ("tech", 1)], 2),
        ];
        let sim = input(tasks, agents, 3_600_000);
        let compiled = rules(serde_json::json!({"rules": [
            {"name": "billing", "when": "intent == 'billing'", "queue": "billing", "skills": [{"name": "billing", "min_level": 3}],
             "overflow": [{"after_secs": 60, "skills": [{"name": "billing", "min_level": 1}]}], "strategy": "best_skill"},
            {"name": "rest", "queue": "general", "strategy": "longest_idle", "aging_per_minute": 1}],
            "queues": {"general": {"max_wait_secs": 300}}}));
        let first = simulate(&sim, Some(&compiled), &[]);
        let second = simulate(&sim, Some(&compiled), &[]);
        assert_eq!(first, second);
        assert_eq!(first.timeline, second.timeline);
        assert_eq!(first.timeline.len(), 10, "one sample per point");
        assert!(
            first.overall.answered > 0 && first.overall.abandoned > 0,
            "{first:?}"
        );
    }

    #[test]
    fn a_maximum_wait_sends_the_task_to_its_fallback_and_candidate_queues_are_reported() {
        let tasks = (0..3).map(|i| task(i, 0, "billing", 60_000)).collect();
        let sim = input(tasks, vec![agent("a", &[("billing", 3)], 1)], 600_000);
        let candidate = rules(serde_json::json!({"rules": [
            {"name": "billing", "when": "intent == 'billing'", "queue": "billing", "skills": [{"name": "billing", "min_level": 1}]}],
            "queues": {"billing": {"max_wait_secs": 90, "fallback": "ticket"}}}));
        let report = simulate(&sim, Some(&candidate), &[]);
        // Waits 0 and 60 s are answered; the third would wait 120 s and falls back at 90 s.
        assert_eq!((report.overall.answered, report.overall.fallbacks), (2, 1));
        assert_eq!(report.queues[0].queue, "billing");
        assert_eq!(report.first_queue, vec!["billing"; 3]);
        let baseline = simulate(&sim, None, &[]);
        assert_eq!(
            (baseline.overall.answered, baseline.overall.fallbacks),
            (3, 0)
        );
    }

    #[test]
    fn impatient_customers_abandon_and_wrap_up_delays_the_next_task() {
        let mut tasks: Vec<SimTask> = (0..2).map(|i| task(i, 0, "x", 10_000)).collect();
        tasks[1].patience_ms = Some(5_000);
        let sim = input(tasks, vec![agent("a", &[], 1)], 60_000);
        let report = simulate(&sim, None, &[]);
        assert_eq!((report.overall.answered, report.overall.abandoned), (1, 1));

        let tasks: Vec<SimTask> = (0..2).map(|i| task(i, 0, "x", 10_000)).collect();
        let mut sim = input(tasks, vec![agent("a", &[], 1)], 60_000);
        sim.settings.wrap_up_ms = 5_000;
        let report = simulate(&sim, None, &[]);
        // The second waits 10 s of handling plus 5 s of wrap-up.
        assert_eq!(report.overall.wait_p90_secs, Some(15.0));
    }

    #[test]
    fn an_agent_who_is_away_takes_nothing_until_back() {
        let tasks = vec![task(0, 0, "x", 1_000)];
        let mut sim = input(tasks, vec![agent("a", &[], 1)], 60_000);
        sim.presence = vec![
            SimPresence {
                at: 0,
                agent: AgentId::from_trusted("a"),
                status: AgentStatus::Away,
            },
            SimPresence {
                at: 30_000,
                agent: AgentId::from_trusted("a"),
                status: AgentStatus::Available,
            },
        ];
        let report = simulate(&sim, None, &[]);
        assert_eq!(report.overall.wait_p50_secs, Some(30.0));
    }

    fn arb_input() -> impl Strategy<Value = SimInput> {
        let one = (
            0u64..600_000,
            0usize..3,
            1_000u64..120_000,
            0usize..3,
            proptest::option::weighted(0.3, 1_000u64..200_000),
        );
        (proptest::collection::vec(one, 0..60), 1usize..5).prop_map(|(tasks, agents)| {
            let mut tasks: Vec<SimTask> = tasks
                .into_iter()
                .enumerate()
                .map(|(i, (arrival, intent, handle, skill, patience))| {
                    let mut t = task(i, arrival, ["billing", "tech", "x"][intent], handle);
                    if skill < 2 {
                        t.skills = vec![SkillRequirement {
                            name: ["billing", "tech"][skill].to_owned(),
                            min_level: 3,
                        }];
                    }
                    t.patience_ms = patience;
                    t.preferred_agent =
                        (i % 4 == 0).then(|| AgentId::from_trusted(format!("a{}", i % 3)));
                    t
                })
                .collect();
            tasks.sort_by_key(|t| t.arrival);
            let roster = (0..agents)
                .map(|i| {
                    agent(
                        &format!("a{i}"),
                        &[(["billing", "tech"][i % 2], 1 + (i % 5) as u8)],
                        1 + (i % 3) as u32,
                    )
                })
                .collect();
            input(tasks, roster, 3_600_000)
        })
    }

    proptest! {
        // Each case also runs the slow every-second mode.
        #![proptest_config(ProptestConfig::with_cases(40))]

        /// Re-deciding a task only when its decision can change gives exactly the report of
        /// re-deciding every waiting task every second, as the live dispatcher does (times are
        /// whole seconds here, so the ticks land on the same instants).
        #[test]
        fn reviews_when_due_equal_reviews_every_second(sim in arb_input()) {
            let mut sim = sim;
            for t in &mut sim.tasks {
                t.arrival -= t.arrival % 1000;
                t.handle_ms -= t.handle_ms % 1000;
                t.handle_ms = t.handle_ms.max(1000);
                t.patience_ms = t.patience_ms.map(|p| p - p % 1000);
            }
            sim.tasks.sort_by_key(|t| t.arrival);
            let compiled = rules(serde_json::json!({"rules": [
                {"name": "billing", "when": "intent == 'billing'", "queue": "billing",
                 "skills": [{"name": "billing", "min_level": 4}], "aging_per_minute": 3,
                 "overflow": [{"after_secs": 30, "skills": [{"name": "billing", "min_level": 1}]},
                              {"after_secs": 120, "skills": [], "queue": "general"}]},
                {"name": "slow", "when": "wait_secs > 45 && intent == 'tech'", "queue": "general", "priority": 20},
                {"name": "rest", "queue": "general", "overflow": [{"after_secs": 60, "skills": []}]}],
                "queues": {"general": {"max_wait_secs": 200}}}));
            // Calendars, a condition on the task's queue, a rule passed over while its queue
            // is closed whose overflow step moves it to an open one.
            let calendar = rules(serde_json::json!({"rules": [
                {"name": "billing-desk", "when": "intent == 'billing' && queue != 'general'",
                 "queue": "billing", "skills": [{"name": "billing", "min_level": 3}],
                 "overflow": [{"after_secs": 90, "queue": "overflow"}]},
                {"name": "rest", "when": "hour >= 2", "queue": "general", "sticky_secs": 20,
                 "overflow": [{"after_secs": 40, "skills": []}]}],
                "queues": {"billing": {"hours": [{"days": [1, 2, 3, 4, 5, 6, 7], "from": "02:10", "to": "02:40"}]},
                           "overflow": {"max_wait_secs": 150, "fallback": "ticket"}}}));
            let mut exhaustive = sim.clone();
            exhaustive.settings.review_all_every_ms = Some(1000);
            for rules in [&compiled, &calendar] {
                let fast = simulate(&sim, Some(rules), &[]);
                let slow = simulate(&exhaustive, Some(rules), &[]);
                prop_assert_eq!(&fast.overall, &slow.overall);
                prop_assert_eq!(&fast.queues, &slow.queues);
                prop_assert_eq!(&fast.agents, &slow.agents);
                prop_assert_eq!(&fast.first_queue, &slow.first_queue);
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// Every task ends answered, abandoned or at its fallback (the window is long enough and
        /// the last overflow step takes any agent), each is answered at most once, and the
        /// agents' handled counts add up to the answered ones.
        #[test]
        fn every_task_is_eventually_answered_abandoned_or_sent_to_its_fallback(sim in arb_input()) {
            let compiled = rules(serde_json::json!({"rules": [
                {"name": "billing", "when": "intent == 'billing'", "queue": "billing",
                 "skills": [{"name": "billing", "min_level": 4}],
                 "overflow": [{"after_secs": 30, "skills": [{"name": "billing", "min_level": 1}]},
                              {"after_secs": 120, "skills": []}]},
                {"name": "rest", "queue": "general", "overflow": [{"after_secs": 60, "skills": []}]}],
                "queues": {"general": {"max_wait_secs": 900}}}));
            for rules in [Some(&compiled), None] {
                let report = simulate(&sim, rules, &[]);
                let o = &report.overall;
                prop_assert_eq!(report.unserved, 0);
                prop_assert_eq!(o.answered + o.abandoned + o.fallbacks, sim.tasks.len() as u64);
                let handled: u64 = report.agents.iter().map(|a| a.handled).sum();
                prop_assert_eq!(handled, o.answered);
                for agent in &report.agents {
                    prop_assert!(agent.occupancy.is_none_or(|x| (0.0..=1.0).contains(&x)));
                }
            }
        }
    }
}
