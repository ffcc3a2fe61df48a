//! Routing policy: which waiting task is offered to which agent.
//!
//! Pure and synchronous: no actors, no I/O, no clock. Time is a logical millisecond counter
//! passed in by the caller, so the same inputs always give the same decisions. The live
//! dispatcher and the dry-run simulator ([`crate::routing::simulate`]) share this code.
//!
//! The policy, in order:
//! 1. tasks are considered by priority (higher first), then by arrival (older first);
//! 2. an agent is eligible for a task when they are available and not wrapping up, have room
//!    for the task's media ([`Slots`]: chat, voice, ticket; voice excludes chat), have every
//!    required skill at the minimum level, speak the task's language, have not declined that
//!    task recently, and — while a task is reserved for its customer's previous agent — are
//!    that agent;
//! 3. among eligible agents the task's [`Strategy`] picks: least occupied, longest idle or best
//!    skill score; every strategy falls back to the others' criteria and finally to the agent
//!    id, so decisions are deterministic.
//!
//! Because tasks are taken greedily in priority order and capacity only shrinks during one
//! plan, a higher-priority task never waits while an agent eligible for it serves a
//! lower-priority one.

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::domain::{AgentId, AgentStatus, Channel, Language, Priority, SkillRequirement, TaskId};

/// Logical time in milliseconds (the dispatcher maps its clock onto it).
pub type Millis = u64;

/// What kind of work a task is, for capacity: an agent holds a few chats at once, one call,
/// several tickets.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Media {
    Chat,
    Voice,
    Ticket,
}

impl Media {
    /// The media of a conversation on `channel`: the phone is voice, everything else chat.
    pub fn of(channel: Channel) -> Self {
        match channel {
            Channel::Ivr => Media::Voice,
            _ => Media::Chat,
        }
    }
}

/// A count per media: an agent's capacity, or their load.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Slots {
    pub chat: u32,
    pub voice: u32,
    pub ticket: u32,
}

impl Slots {
    /// Chat only (the load of an agent who holds `n` chats, or a chat-only capacity).
    pub fn chats(n: u32) -> Self {
        Self {
            chat: n,
            ..Self::default()
        }
    }

    /// The count for `media`.
    pub fn get(&self, media: Media) -> u32 {
        match media {
            Media::Chat => self.chat,
            Media::Voice => self.voice,
            Media::Ticket => self.ticket,
        }
    }

    /// One more of `media`.
    pub fn add(&mut self, media: Media) {
        match media {
            Media::Chat => self.chat += 1,
            Media::Voice => self.voice += 1,
            Media::Ticket => self.ticket += 1,
        }
    }

    /// All media together.
    pub fn total(&self) -> u32 {
        self.chat + self.voice + self.ticket
    }
}

/// Whether an agent with `capacity` and `load` has room for one more task of `media`. A call
/// excludes chats both ways (nobody chats while on the phone); tickets fit beside either.
pub fn has_room(capacity: &Slots, load: &Slots, media: Media) -> bool {
    match media {
        Media::Chat => load.chat < capacity.chat && load.voice == 0,
        Media::Voice => load.voice < capacity.voice && load.chat == 0,
        Media::Ticket => load.ticket < capacity.ticket,
    }
}

fn room_for_anything(capacity: &Slots, load: &Slots) -> bool {
    [Media::Chat, Media::Voice, Media::Ticket]
        .into_iter()
        .any(|m| has_room(capacity, load, m))
}

/// How an agent is chosen among the eligible ones (the rule's `strategy`).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// The lowest load relative to capacity for the task's media, then longest idle.
    #[default]
    LeastOccupied,
    /// The agent free the longest, then least occupied.
    LongestIdle,
    /// The highest sum of levels in the task's required skills, then least occupied, then
    /// longest idle.
    BestSkill,
}

/// What the policy knows about one agent.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentState {
    pub id: AgentId,
    pub status: AgentStatus,
    /// Skill name → level (1..=5).
    pub skills: BTreeMap<String, u8>,
    pub languages: Vec<Language>,
    /// Tasks the agent can hold at once, per media.
    pub capacity: Slots,
    /// Tasks held plus offers outstanding, per media.
    pub load: Slots,
    /// When the agent last became free (for "longest idle").
    pub idle_since: Millis,
    /// After closing a conversation an agent wraps up (notes, disposition) until this time
    /// and is offered nothing meanwhile; 0 when not wrapping up.
    pub wrap_up_until: Millis,
}

impl AgentState {
    /// True when the agent has every skill the task requires, at the level required, and
    /// speaks its language. Presence and load are not considered.
    pub fn qualifies_for(&self, task: &QueuedTask) -> bool {
        (task.any_language || self.languages.contains(&task.language))
            && task.required_skills.iter().all(|req| {
                self.skills
                    .get(&req.name)
                    .is_some_and(|level| *level >= req.min_level)
            })
    }

    /// Available and not wrapping up at `now`.
    pub fn is_ready(&self, now: Millis) -> bool {
        self.status == AgentStatus::Available && now >= self.wrap_up_until
    }

    /// Sum of the agent's levels in the skills `task` requires (for "best skill").
    fn skill_score(&self, task: &QueuedTask) -> u32 {
        task.required_skills
            .iter()
            .map(|req| u32::from(self.skills.get(&req.name).copied().unwrap_or(0)))
            .sum()
    }
}

/// What the policy knows about one waiting task.
#[derive(Debug, Clone, PartialEq)]
pub struct QueuedTask {
    pub id: TaskId,
    pub priority: Priority,
    pub language: Language,
    pub required_skills: Vec<SkillRequirement>,
    pub media: Media,
    pub strategy: Strategy,
    /// The customer's previous agent, who alone is offered the task until the given time
    /// ("sticky" routing); afterwards the normal targets apply.
    pub preferred: Option<(AgentId, Millis)>,
    /// Arrival order; ties in priority are served first come, first served.
    pub seq: u64,
    pub enqueued_at: Millis,
    /// The agent currently holding an offer for this task, if any.
    pub offered_to: Option<AgentId>,
    /// Agents who rejected or let an offer expire, with the time until which they are skipped.
    pub declined_by: BTreeMap<AgentId, Millis>,
    /// Any agent may take it whatever languages they speak (a transfer to a named colleague:
    /// the sender chose them).
    pub any_language: bool,
}

impl QueuedTask {
    /// A chat task with the default strategy and no preferred agent.
    pub fn new(
        id: TaskId,
        priority: Priority,
        language: Language,
        required_skills: Vec<SkillRequirement>,
        seq: u64,
        enqueued_at: Millis,
    ) -> Self {
        Self {
            id,
            priority,
            language,
            required_skills,
            media: Media::Chat,
            strategy: Strategy::default(),
            preferred: None,
            seq,
            enqueued_at,
            offered_to: None,
            declined_by: BTreeMap::new(),
            any_language: false,
        }
    }

    fn declined_recently(&self, agent: &AgentId, now: Millis) -> bool {
        self.declined_by
            .get(agent)
            .is_some_and(|until| now < *until)
    }

    /// The agent the task is reserved for at `now`, if any.
    pub fn reserved_for(&self, now: Millis) -> Option<&AgentId> {
        self.preferred
            .as_ref()
            .filter(|(_, until)| now < *until)
            .map(|(agent, _)| agent)
    }
}

/// One routing decision: offer `task_id` to `agent_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    pub task_id: TaskId,
    pub agent_id: AgentId,
}

/// Full eligibility check of one agent for one task at `now`.
pub fn is_eligible(task: &QueuedTask, agent: &AgentState, now: Millis) -> bool {
    agent.is_ready(now)
        && has_room(&agent.capacity, &agent.load, task.media)
        && !task.declined_recently(&agent.id, now)
        && task.reserved_for(now).is_none_or(|id| *id == agent.id)
        && agent.qualifies_for(task)
}

/// Service order: priority, then how long the task has waited (`enqueued_at`: a task a
/// reconcile picks up late still goes before newer ones), then arrival at this dispatcher.
/// `signature` comes after the unique id, so it never changes the order; it is carried so a
/// plan can skip a whole class of tasks cheaply.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct QueueKey {
    priority: Reverse<Priority>,
    enqueued_at: Millis,
    seq: u64,
    id: TaskId,
    signature: u32,
}

/// What decides which agents qualify for a task: its language, media and required skills.
/// Tasks with the same signature are eligible for exactly the same agents (declines and
/// reservations aside).
type Signature = (Option<Language>, Media, Vec<SkillRequirement>);

/// Waiting tasks in service order (priority, then arrival), with lookup by id.
#[derive(Debug, Default, Clone)]
pub struct TaskQueue {
    order: BTreeSet<QueueKey>,
    tasks: HashMap<TaskId, (QueuedTask, u32)>,
    /// Interned signatures (exact, no hashing shortcuts): signature → small id.
    signatures: HashMap<Signature, u32>,
}

impl TaskQueue {
    fn signature_of(&mut self, task: &QueuedTask) -> u32 {
        let mut skills = task.required_skills.clone();
        skills.sort();
        let next = u32::try_from(self.signatures.len()).unwrap_or(u32::MAX);
        *self
            .signatures
            .entry((
                (!task.any_language).then_some(task.language),
                task.media,
                skills,
            ))
            .or_insert(next)
    }

    /// Adds a task, or replaces the stored one with the same id.
    pub fn insert(&mut self, task: QueuedTask) {
        self.remove(&task.id);
        let signature = self.signature_of(&task);
        self.order.insert(QueueKey {
            priority: Reverse(task.priority),
            enqueued_at: task.enqueued_at,
            seq: task.seq,
            id: task.id.clone(),
            signature,
        });
        self.tasks.insert(task.id.clone(), (task, signature));
    }

    /// Removes a task (assigned or cancelled).
    pub fn remove(&mut self, id: &TaskId) -> Option<QueuedTask> {
        let (task, signature) = self.tasks.remove(id)?;
        self.order.remove(&QueueKey {
            priority: Reverse(task.priority),
            enqueued_at: task.enqueued_at,
            seq: task.seq,
            id: task.id.clone(),
            signature,
        });
        Some(task)
    }

    fn signature_count(&self) -> usize {
        self.signatures.len()
    }

    /// The task with this id.
    pub fn get(&self, id: &TaskId) -> Option<&QueuedTask> {
        self.tasks.get(id).map(|(t, _)| t)
    }

    /// The task with this id, for updating offer bookkeeping. Priority, `enqueued_at` and
    /// `seq` must not be changed through this (use [`TaskQueue::insert`]), since they define
    /// the order.
    pub fn get_mut(&mut self, id: &TaskId) -> Option<&mut QueuedTask> {
        self.tasks.get_mut(id).map(|(t, _)| t)
    }

    /// Tasks in service order.
    pub fn iter(&self) -> impl Iterator<Item = &QueuedTask> {
        self.order.iter().filter_map(|key| self.get(&key.id))
    }

    /// Number of waiting tasks (offered or not).
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// True when nothing waits.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }
}

/// Orders two eligible agents for `task` by its strategy (`Less`: `a` is preferred). Loads
/// are passed separately because a plan counts the offers it has made so far.
fn better_candidate(
    task: &QueuedTask,
    a: &AgentState,
    a_load: &Slots,
    b: &AgentState,
    b_load: &Slots,
) -> Ordering {
    // a_load / a.capacity vs b_load / b.capacity for the task's media, without floats.
    let m = task.media;
    let occupancy = || {
        let a_ratio = u64::from(a_load.get(m)) * u64::from(b.capacity.get(m));
        let b_ratio = u64::from(b_load.get(m)) * u64::from(a.capacity.get(m));
        a_ratio.cmp(&b_ratio)
    };
    let idle = || a.idle_since.cmp(&b.idle_since);
    let order = match task.strategy {
        Strategy::LeastOccupied => occupancy().then_with(idle),
        Strategy::LongestIdle => idle().then_with(occupancy),
        Strategy::BestSkill => b
            .skill_score(task)
            .cmp(&a.skill_score(task))
            .then_with(occupancy)
            .then_with(idle),
    };
    order.then_with(|| a.id.cmp(&b.id))
}

/// Why an agent cannot take a task right now.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Exclusion {
    /// Away or offline.
    NotAvailable { status: AgentStatus },
    /// Wrapping up the previous conversation for this many more milliseconds.
    WrappingUp {
        #[schema(value_type = u64)]
        remaining_ms: Millis,
    },
    /// No room for the task's media (capacity reached, or a call excludes chats).
    AtCapacity {
        media: Media,
        load: Slots,
        capacity: Slots,
    },
    /// Does not speak the task's language.
    Language { language: Language },
    /// Lacks a required skill, or has it below the level.
    Skill { name: String, required: u8, has: u8 },
    /// Rejected or let an offer of this task expire a moment ago.
    DeclinedRecently,
    /// The task is reserved for the customer's previous agent for this many more milliseconds.
    ReservedForPreviousAgent {
        #[schema(value_type = String)]
        agent_id: AgentId,
        #[schema(value_type = u64)]
        remaining_ms: Millis,
    },
}

/// One agent as the policy saw them for one task.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Candidate {
    #[schema(value_type = String)]
    pub agent_id: AgentId,
    /// Empty when eligible.
    pub excluded: Vec<Exclusion>,
    pub load: Slots,
    pub capacity: Slots,
    /// When the agent last became free (logical milliseconds).
    #[schema(value_type = u64)]
    pub idle_since: Millis,
    /// Sum of the agent's levels in the required skills.
    pub skill_score: u32,
}

/// Every agent for `task` at `now`: the eligible ones first, in the order the task's strategy
/// prefers them, then the others with every reason they are excluded. For explaining a
/// decision; [`plan`] does not need it.
pub fn explain<'a>(
    task: &QueuedTask,
    agents: impl IntoIterator<Item = &'a AgentState>,
    now: Millis,
) -> Vec<Candidate> {
    let mut eligible: Vec<&AgentState> = Vec::new();
    let mut excluded: Vec<Candidate> = Vec::new();
    for agent in agents {
        let mut reasons = Vec::new();
        if agent.status != AgentStatus::Available {
            reasons.push(Exclusion::NotAvailable {
                status: agent.status,
            });
        } else if now < agent.wrap_up_until {
            reasons.push(Exclusion::WrappingUp {
                remaining_ms: agent.wrap_up_until - now,
            });
        }
        if !has_room(&agent.capacity, &agent.load, task.media) {
            reasons.push(Exclusion::AtCapacity {
                media: task.media,
                load: agent.load,
                capacity: agent.capacity,
            });
        }
        if !task.any_language && !agent.languages.contains(&task.language) {
            reasons.push(Exclusion::Language {
                language: task.language,
            });
        }
        for need in &task.required_skills {
            let has = agent.skills.get(&need.name).copied().unwrap_or(0);
            if has < need.min_level {
                reasons.push(Exclusion::Skill {
                    name: need.name.clone(),
                    required: need.min_level,
                    has,
                });
            }
        }
        if task.declined_recently(&agent.id, now) {
            reasons.push(Exclusion::DeclinedRecently);
        }
        if let Some((reserved, until)) = task.preferred.as_ref().filter(|(_, u)| now < *u) {
            if *reserved != agent.id {
                reasons.push(Exclusion::ReservedForPreviousAgent {
                    agent_id: reserved.clone(),
                    remaining_ms: until - now,
                });
            }
        }
        if reasons.is_empty() {
            eligible.push(agent);
        } else {
            excluded.push(candidate(task, agent, reasons));
        }
    }
    eligible.sort_by(|a, b| better_candidate(task, a, &a.load, b, &b.load));
    excluded.sort_by(|a, b| a.agent_id.cmp(&b.agent_id));
    eligible
        .into_iter()
        .map(|a| candidate(task, a, Vec::new()))
        .chain(excluded)
        .collect()
}

fn candidate(task: &QueuedTask, agent: &AgentState, excluded: Vec<Exclusion>) -> Candidate {
    Candidate {
        agent_id: agent.id.clone(),
        excluded,
        load: agent.load,
        capacity: agent.capacity,
        idle_since: agent.idle_since,
        skill_score: agent.skill_score(task),
    }
}

/// Decides which waiting, not-yet-offered tasks to offer to which agents right now.
///
/// Each task appears at most once, and no agent receives more offers than they have room for.
/// Stops early as soon as no agent has room left.
pub fn plan<'a>(
    queue: &TaskQueue,
    agents: impl IntoIterator<Item = &'a AgentState>,
    now: Millis,
) -> Vec<Offer> {
    // (agent, load including the offers made in this plan)
    let mut free: Vec<(&AgentState, Slots)> = agents
        .into_iter()
        .filter(|a| a.is_ready(now) && room_for_anything(&a.capacity, &a.load))
        .map(|a| (a, a.load))
        .collect();
    let mut offers = Vec::new();
    let mut live = free.len();
    if live == 0 {
        return offers;
    }
    // Free agents by skill: a task only looks at the agents holding its rarest required skill.
    let everyone: Vec<usize> = (0..free.len()).collect();
    let mut by_skill: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut by_id: HashMap<&AgentId, usize> = HashMap::new();
    for (index, (agent, _)) in free.iter().enumerate() {
        by_id.insert(&agent.id, index);
        for skill in agent.skills.keys() {
            by_skill.entry(skill.as_str()).or_default().push(index);
        }
    }
    // Signatures for which no free agent qualifies. Room only shrinks during a plan, so once
    // a signature is blocked it stays blocked: later tasks of that class are skipped without
    // looking at agents.
    let mut blocked = vec![false; queue.signature_count()];
    for key in &queue.order {
        let signature = key.signature as usize;
        if blocked.get(signature).copied().unwrap_or(false) {
            continue;
        }
        let Some(task) = queue.get(&key.id) else {
            continue;
        };
        if task.offered_to.is_some() {
            continue;
        }
        let reserved = task.reserved_for(now);
        let only: [usize; 1];
        let candidates: &[usize] = match reserved {
            Some(agent) => match by_id.get(agent) {
                Some(&index) => {
                    only = [index];
                    &only
                }
                None => continue, // reserved for an agent who cannot take anything now
            },
            None => task
                .required_skills
                .iter()
                .map(|req| {
                    by_skill
                        .get(req.name.as_str())
                        .map_or(&[][..], Vec::as_slice)
                })
                .min_by_key(|list| list.len())
                .unwrap_or(&everyone),
        };
        let mut anyone_qualifies = false;
        let mut best: Option<usize> = None;
        for &index in candidates {
            let (agent, load) = &free[index];
            if !has_room(&agent.capacity, load, task.media) || !agent.qualifies_for(task) {
                continue;
            }
            anyone_qualifies = true;
            if task.declined_recently(&agent.id, now) {
                continue;
            }
            let better = best.is_none_or(|b| {
                let (current, current_load) = &free[b];
                better_candidate(task, agent, load, current, current_load) == Ordering::Less
            });
            if better {
                best = Some(index);
            }
        }
        let Some(index) = best else {
            // Declines only remove agents: if no free agent qualifies at all, none will for
            // any later task of this class either (a reservation narrows only this task).
            if !anyone_qualifies && reserved.is_none() {
                if let Some(flag) = blocked.get_mut(signature) {
                    *flag = true;
                }
            }
            continue;
        };
        let (agent, load) = &mut free[index];
        offers.push(Offer {
            task_id: task.id.clone(),
            agent_id: agent.id.clone(),
        });
        load.add(task.media);
        if !room_for_anything(&agent.capacity, load) {
            live -= 1;
            if live == 0 {
                break;
            }
        }
    }
    offers
}

/// Overflow: a task that has waited at least `after` no longer requires skills (its
/// language stays required). Returns the widened task, or None when nothing changes.
pub fn widen(task: &QueuedTask, now: Millis, after: Millis) -> Option<QueuedTask> {
    let due = now.saturating_sub(task.enqueued_at) >= after;
    (due && !task.required_skills.is_empty()).then(|| QueuedTask {
        required_skills: Vec::new(),
        ..task.clone()
    })
}

/// Extra priority for a task whose reply window (a channel's limit on answering, e.g.
/// WeChat's 48 hours) closes in `remaining_ms`: +30 in its last six hours, +60 in its last
/// hour. Nothing once it has closed (the channel's fallback takes over then).
pub fn reply_window_bonus(remaining_ms: i64) -> i32 {
    const HOUR: i64 = 3_600_000;
    match remaining_ms {
        r if r <= 0 => 0,
        r if r <= HOUR => 60,
        r if r <= 6 * HOUR => 30,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn tasks_move_up_as_their_reply_window_closes() {
        let hour = 3_600_000;
        assert_eq!(reply_window_bonus(40 * hour), 0);
        assert_eq!(reply_window_bonus(6 * hour), 30);
        assert_eq!(reply_window_bonus(2 * hour), 30);
        assert_eq!(reply_window_bonus(hour), 60);
        assert_eq!(reply_window_bonus(1), 60);
        assert_eq!(reply_window_bonus(0), 0, "closed: the fallback takes over");
        assert_eq!(reply_window_bonus(-hour), 0);
    }

    use proptest::prelude::*;
    use proptest::strategy::Strategy as Generator;

    use super::Strategy;
    use super::*;

    fn agent(id: &str, skills: &[(&str, u8)], capacity: u32, load: u32) -> AgentState {
        AgentState {
            id: AgentId::from_trusted(id),
            status: AgentStatus::Available,
            skills: skills.iter().map(|(s, l)| ((*s).to_owned(), *l)).collect(),
            languages: vec![Language::Zh, Language::En],
            capacity: Slots::chats(capacity),
            load: Slots::chats(load),
            idle_since: 0,
            wrap_up_until: 0,
        }
    }

    fn task(id: &str, priority: i32, seq: u64, skills: &[(&str, u8)]) -> QueuedTask {
        QueuedTask::new(
            TaskId::from_trusted(id),
            Priority(priority),
            Language::En,
            skills
                .iter()
                .map(|(s, l)| SkillRequirement {
                    name: (*s).to_owned(),
                    min_level: *l,
                })
                .collect(),
            seq,
            0,
        )
    }

    fn queue(tasks: Vec<QueuedTask>) -> TaskQueue {
        let mut q = TaskQueue::default();
        for t in tasks {
            q.insert(t);
        }
        q
    }

    #[test]
    fn a_transfer_to_a_named_colleague_ignores_the_language_but_nothing_else() {
        let mut named = task("t", 0, 1, &[]);
        named.preferred = Some((AgentId::from_trusted("zh-only"), Millis::MAX));
        let mut monolingual = agent("zh-only", &[], 3, 0);
        monolingual.languages = vec![Language::Zh];
        let other = agent("other", &[], 3, 0);
        // Without the flag the English task waits for nobody: only zh-only may take it.
        assert!(plan(&queue(vec![named.clone()]), [&monolingual, &other], 0).is_empty());
        named.any_language = true;
        let offers = plan(&queue(vec![named.clone()]), [&monolingual, &other], 0);
        assert_eq!(offers.len(), 1);
        assert_eq!(offers[0].agent_id.as_str(), "zh-only");
        // Still not while they are away.
        monolingual.status = AgentStatus::Away;
        assert!(plan(&queue(vec![named]), [&monolingual, &other], 0).is_empty());
    }

    #[test]
    fn explanations_rank_the_eligible_like_the_policy_and_say_why_others_are_out() {
        let t = task("t", 0, 1, &[("billing", 3)]);
        let mut away = agent("away", &[("billing", 5)], 3, 0);
        away.status = AgentStatus::Away;
        let mut monolingual = agent("zh-only", &[("billing", 2)], 3, 3);
        monolingual.languages = vec![Language::Zh];
        let agents = [
            agent("busy", &[("billing", 4)], 2, 1),
            agent("free", &[("billing", 3)], 2, 0),
            away,
            monolingual,
        ];
        let explained = explain(&t, &agents, 0);
        let ids: Vec<&str> = explained.iter().map(|c| c.agent_id.as_str()).collect();
        assert_eq!(ids, vec!["free", "busy", "away", "zh-only"]);
        assert!(explained[0].excluded.is_empty() && explained[1].excluded.is_empty());
        // The first eligible candidate is the one the policy picks.
        let q = queue(vec![t.clone()]);
        assert_eq!(plan(&q, &agents, 0)[0].agent_id.as_str(), "free");
        assert_eq!(
            explained[2].excluded,
            vec![Exclusion::NotAvailable {
                status: AgentStatus::Away
            }]
        );
        assert_eq!(
            explained[3].excluded,
            vec![
                Exclusion::AtCapacity {
                    media: Media::Chat,
                    load: Slots::chats(3),
                    capacity: Slots::chats(3)
                },
                Exclusion::Language {
                    language: Language::En
                },
                Exclusion::Skill {
                    name: "billing".to_owned(),
                    required: 3,
                    has: 2
                },
            ]
        );
    }

    #[test]
    fn higher_priority_task_is_offered_first() {
        let q = queue(vec![task("low", 0, 1, &[]), task("vip", 100, 2, &[])]);
        let agents = [agent("a", &[], 1, 0)];
        let offers = plan(&q, &agents, 0);
        assert_eq!(offers.len(), 1);
        assert_eq!(offers[0].task_id.as_str(), "vip");
    }

    #[test]
    fn equal_priority_is_first_come_first_served() {
        let q = queue(vec![task("second", 0, 2, &[]), task("first", 0, 1, &[])]);
        let offers = plan(&q, &[agent("a", &[], 1, 0)], 0);
        assert_eq!(offers[0].task_id.as_str(), "first");
    }

    #[test]
    fn agent_without_the_skill_level_is_not_offered() {
        let q = queue(vec![task("t", 0, 1, &[("billing", 3)])]);
        let agents = [agent("novice", &[("billing", 2)], 3, 0)];
        assert!(plan(&q, &agents, 0).is_empty());
        let agents = [agent("expert", &[("billing", 4)], 3, 0)];
        assert_eq!(plan(&q, &agents, 0)[0].agent_id.as_str(), "expert");
    }

    #[test]
    fn least_occupied_agent_wins_then_longest_idle() {
        let q = queue(vec![task("t", 0, 1, &[])]);
        let busy = agent("busy", &[], 3, 2);
        let calm = agent("calm", &[], 3, 1);
        assert_eq!(plan(&q, [&busy, &calm], 0)[0].agent_id.as_str(), "calm");

        let mut rested = agent("rested", &[], 3, 1);
        rested.idle_since = 10;
        let mut longest = agent("longest", &[], 3, 1);
        longest.idle_since = 5;
        assert_eq!(
            plan(&q, [&rested, &longest], 100)[0].agent_id.as_str(),
            "longest"
        );
    }

    #[test]
    fn capacity_is_never_exceeded_within_one_plan() {
        let q = queue((0..5).map(|i| task(&format!("t{i}"), 0, i, &[])).collect());
        let offers = plan(&q, &[agent("a", &[], 3, 1)], 0);
        assert_eq!(offers.len(), 2);
    }

    #[test]
    fn declined_agent_is_skipped_until_the_cool_down_ends() {
        let mut t = task("t", 0, 1, &[]);
        t.declined_by.insert(AgentId::from_trusted("a"), 1_000);
        let q = queue(vec![t]);
        let agents = [agent("a", &[], 1, 0)];
        assert!(plan(&q, &agents, 999).is_empty());
        assert_eq!(plan(&q, &agents, 1_000).len(), 1);
    }

    #[test]
    fn offered_tasks_and_unavailable_agents_are_left_alone() {
        let mut offered = task("offered", 10, 1, &[]);
        offered.offered_to = Some(AgentId::from_trusted("x"));
        let q = queue(vec![offered, task("next", 0, 2, &[])]);
        let mut away = agent("away", &[], 3, 0);
        away.status = AgentStatus::Away;
        assert!(plan(&q, [&away], 0).is_empty());
        let offers = plan(&q, &[agent("a", &[], 3, 0)], 0);
        assert_eq!(offers.len(), 1);
        assert_eq!(offers[0].task_id.as_str(), "next");
    }

    #[test]
    fn language_is_a_requirement() {
        let mut t = task("t", 0, 1, &[]);
        t.language = Language::Zh;
        let q = queue(vec![t]);
        let mut english_only = agent("carol", &[], 3, 0);
        english_only.languages = vec![Language::En];
        assert!(plan(&q, [&english_only], 0).is_empty());
    }

    #[test]
    fn a_long_wait_drops_the_skill_requirement_but_not_the_language() {
        let mut t = task("t", 0, 1, &[("orders", 3)]);
        t.enqueued_at = 1_000;
        assert_eq!(widen(&t, 60_999, 60_000), None);
        let widened = widen(&t, 61_000, 60_000).expect("due");
        assert!(widened.required_skills.is_empty());
        assert_eq!(widened.language, t.language);
        assert_eq!(
            widen(&widened, 100_000, 60_000),
            None,
            "widening is done once"
        );
        // A specialist-less agent who speaks the language now qualifies.
        let mut q = queue(vec![t]);
        let generalist = agent("g", &[("billing", 2)], 3, 0);
        assert!(plan(&q, [&generalist], 61_000).is_empty());
        q.insert(widened);
        assert_eq!(plan(&q, [&generalist], 61_000).len(), 1);
    }

    #[test]
    fn queue_remove_keeps_order_consistent() {
        let mut q = queue(vec![task("a", 0, 1, &[]), task("b", 5, 2, &[])]);
        assert_eq!(q.len(), 2);
        assert!(q.remove(&TaskId::from_trusted("b")).is_some());
        assert_eq!(q.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(), ["a"]);
        assert!(q.remove(&TaskId::from_trusted("b")).is_none());
    }

    #[test]
    fn within_a_priority_the_longest_waiting_task_goes_first_whenever_it_was_queued_here() {
        // "late" reached this dispatcher last (a reconcile found it) but waited longest.
        let mut late = task("late", 0, 9, &[]);
        late.enqueued_at = 1_000;
        let mut newer = task("newer", 0, 2, &[]);
        newer.enqueued_at = 5_000;
        let mut urgent = task("urgent", 50, 3, &[]);
        urgent.enqueued_at = 9_000;
        let q = queue(vec![newer, late, urgent]);
        let order: Vec<&str> = q.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(order, ["urgent", "late", "newer"]);
        let one = agent("a", &[], 1, 0);
        let offers = plan(&q, [&one], 10_000);
        assert_eq!(offers[0].task_id.as_str(), "urgent");
    }

    #[test]
    fn each_strategy_picks_its_agent_and_ties_go_to_the_smaller_id() {
        let mut t = task("t", 0, 1, &[("billing", 1)]);
        let mut idle_expert = agent("b-expert", &[("billing", 5)], 4, 2);
        idle_expert.idle_since = 1;
        let mut calm_novice = agent("c-novice", &[("billing", 1)], 4, 0);
        calm_novice.idle_since = 50;
        let mut rested = agent("a-rested", &[("billing", 2)], 4, 1);
        rested.idle_since = 0;
        let agents = [idle_expert, calm_novice, rested];
        let pick = |t: &QueuedTask| {
            plan(&queue(vec![t.clone()]), &agents, 100)[0]
                .agent_id
                .clone()
        };

        t.strategy = Strategy::LeastOccupied;
        assert_eq!(pick(&t).as_str(), "c-novice");
        t.strategy = Strategy::LongestIdle;
        assert_eq!(pick(&t).as_str(), "a-rested");
        t.strategy = Strategy::BestSkill;
        assert_eq!(pick(&t).as_str(), "b-expert");
        // explain() ranks the eligible exactly as plan() chooses.
        assert_eq!(explain(&t, &agents, 100)[0].agent_id.as_str(), "b-expert");

        let twins = [
            agent("z", &[("billing", 3)], 3, 1),
            agent("y", &[("billing", 3)], 3, 1),
        ];
        for strategy in [
            Strategy::LeastOccupied,
            Strategy::LongestIdle,
            Strategy::BestSkill,
        ] {
            t.strategy = strategy;
            let offers = plan(&queue(vec![t.clone()]), &twins, 100);
            assert_eq!(offers[0].agent_id.as_str(), "y", "{strategy:?}");
        }
    }

    #[test]
    fn a_call_excludes_chats_and_tickets_fit_beside_both() {
        let mut on_call = agent("a", &[], 3, 0);
        on_call.capacity = Slots {
            chat: 3,
            voice: 1,
            ticket: 5,
        };
        on_call.load = Slots {
            chat: 0,
            voice: 1,
            ticket: 0,
        };
        let chat = task("chat", 0, 1, &[]);
        let mut call = task("call", 0, 2, &[]);
        call.media = Media::Voice;
        let mut ticket = task("ticket", 0, 3, &[]);
        ticket.media = Media::Ticket;
        let offers = plan(
            &queue(vec![chat.clone(), call.clone(), ticket.clone()]),
            [&on_call],
            0,
        );
        let offered: Vec<&str> = offers.iter().map(|o| o.task_id.as_str()).collect();
        assert_eq!(offered, ["ticket"]);

        let mut chatting = on_call.clone();
        chatting.load = Slots::chats(1);
        let offers = plan(&queue(vec![call.clone(), chat.clone()]), [&chatting], 0);
        let offered: Vec<&str> = offers.iter().map(|o| o.task_id.as_str()).collect();
        assert_eq!(
            offered,
            ["chat"],
            "no call while chatting, but another chat fits"
        );

        let mut free = on_call.clone();
        free.load = Slots::default();
        // One call, then no chat: the plan counts its own offers.
        call.seq = 0;
        let offers = plan(&queue(vec![call, chat]), [&free], 0);
        let offered: Vec<&str> = offers.iter().map(|o| o.task_id.as_str()).collect();
        assert_eq!(offered, ["call"]);
    }

    #[test]
    fn an_agent_wrapping_up_is_offered_nothing_until_the_timer_ends() {
        let q = queue(vec![task("t", 0, 1, &[])]);
        let mut a = agent("a", &[], 3, 0);
        a.wrap_up_until = 5_000;
        assert!(plan(&q, [&a], 4_999).is_empty());
        assert_eq!(
            explain(&q.iter().next().expect("task").clone(), [&a], 4_000)[0].excluded,
            vec![Exclusion::WrappingUp {
                remaining_ms: 1_000
            }]
        );
        assert_eq!(plan(&q, [&a], 5_000).len(), 1);
    }

    #[test]
    fn a_reserved_task_waits_for_its_previous_agent_until_the_window_ends() {
        let mut t = task("t", 0, 1, &[]);
        t.preferred = Some((AgentId::from_trusted("prev"), 10_000));
        let mut later = task("later", 0, 2, &[]);
        later.seq = 2;
        let q = queue(vec![t, later]);
        let mut prev = agent("prev", &[], 1, 1); // busy
        let other = agent("other", &[], 1, 0);
        // The reserved task is skipped; the next task of the same class is still served.
        let offers = plan(&q, [&prev, &other], 1_000);
        assert_eq!(offers.len(), 1);
        assert_eq!(offers[0].task_id.as_str(), "later");
        // The previous agent frees up: they get it even though "other" is less occupied.
        prev.load = Slots::default();
        let mut busy_prev = prev.clone();
        busy_prev.load = Slots::chats(0);
        let offers = plan(&q, [&busy_prev, &other], 1_000);
        assert!(offers
            .iter()
            .any(|o| o.task_id.as_str() == "t" && o.agent_id.as_str() == "prev"));
        // After the window anyone qualifies.
        let offers = plan(&q, [&other], 10_000);
        assert_eq!(offers[0].task_id.as_str(), "t");
    }

    const SKILLS: [&str; 3] = ["billing", "tech", "refunds"];

    fn arb_agent(index: usize) -> impl Generator<Value = AgentState> {
        (
            proptest::collection::btree_map(0..SKILLS.len(), 1u8..=5, 0..=3),
            1u32..=3,
            0u32..=3,
            prop_oneof![
                4 => Just(AgentStatus::Available),
                1 => Just(AgentStatus::Away),
                1 => Just(AgentStatus::Offline)
            ],
            any::<bool>(),
            0u64..100,
            0u8..3,
        )
            .prop_map(
                move |(skills, capacity, load, status, bilingual, idle, wrap)| AgentState {
                    id: AgentId::from_trusted(format!("a{index:03}")),
                    status,
                    skills: skills
                        .into_iter()
                        .map(|(s, l)| (SKILLS[s].to_owned(), l))
                        .collect(),
                    languages: if bilingual {
                        vec![Language::Zh, Language::En]
                    } else {
                        vec![Language::Zh]
                    },
                    capacity: Slots {
                        chat: capacity,
                        voice: u32::from(capacity > 1),
                        ticket: capacity + 2,
                    },
                    load: Slots {
                        chat: load.min(capacity),
                        voice: u32::from(load == 0 && wrap == 1),
                        ticket: load,
                    },
                    idle_since: idle,
                    wrap_up_until: if wrap == 2 { 150 } else { 0 },
                },
            )
    }

    fn arb_task(index: usize) -> impl Generator<Value = QueuedTask> {
        (
            proptest::collection::btree_map(0..SKILLS.len(), 1u8..=5, 0..=2),
            prop_oneof![Just(0), Just(50), Just(100), -5i32..5],
            any::<bool>(),
            proptest::option::weighted(0.1, 0usize..20),
            proptest::option::weighted(0.1, (0usize..20, 0u64..200)),
            (
                prop_oneof![6 => Just(Media::Chat), 2 => Just(Media::Voice), 1 => Just(Media::Ticket)],
                prop_oneof![Just(Strategy::LeastOccupied), Just(Strategy::LongestIdle), Just(Strategy::BestSkill)],
                proptest::option::weighted(0.15, (0usize..20, 0u64..200)),
            ),
        )
            .prop_map(
                move |(skills, priority, zh, offered, declined, (media, strategy, preferred))| QueuedTask {
                    id: TaskId::from_trusted(format!("t{index:03}")),
                    priority: Priority(priority),
                    language: if zh { Language::Zh } else { Language::En },
                    required_skills: skills
                        .into_iter()
                        .map(|(s, l)| SkillRequirement {
                            name: SKILLS[s].to_owned(),
                            min_level: l,
                        })
                        .collect(),
                    media,
                    strategy,
                    preferred: preferred
                        .map(|(a, until)| (AgentId::from_trusted(format!("a{a:03}")), until)),
                    seq: index as u64,
                    enqueued_at: 0,
                    any_language: false,
                    offered_to: offered.map(|a| AgentId::from_trusted(format!("a{a:03}"))),
                    declined_by: declined
                        .map(|(a, until)| (AgentId::from_trusted(format!("a{a:03}")), until))
                        .into_iter()
                        .collect(),
                },
            )
    }

    fn arb_world() -> impl Generator<Value = (Vec<AgentState>, Vec<QueuedTask>, Millis)> {
        (0usize..20, 0usize..40).prop_flat_map(|(na, nt)| {
            (
                (0..na).map(arb_agent).collect::<Vec<_>>(),
                (0..nt).map(arb_task).collect::<Vec<_>>(),
                0u64..200,
            )
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn plan_respects_skills_capacity_and_never_offers_a_task_twice(
            (agents, tasks, now) in arb_world()
        ) {
            let q = queue(tasks);
            let offers = plan(&q, &agents, now);
            let by_id: HashMap<_, _> = agents.iter().map(|a| (a.id.clone(), a)).collect();

            let mut seen = BTreeSet::new();
            for offer in &offers {
                prop_assert!(seen.insert(offer.task_id.clone()), "task offered twice");
                let task = q.get(&offer.task_id).expect("offered task is queued");
                prop_assert!(task.offered_to.is_none(), "task already had an offer");
                let agent = by_id[&offer.agent_id];
                prop_assert!(is_eligible(task, agent, now), "ineligible agent chosen");
            }
            let mut load: HashMap<AgentId, Slots> =
                agents.iter().map(|a| (a.id.clone(), a.load)).collect();
            for offer in &offers {
                let agent = by_id[&offer.agent_id];
                let media = q.get(&offer.task_id).expect("queued").media;
                let held = load.get_mut(&agent.id).expect("agent");
                prop_assert!(has_room(&agent.capacity, held, media), "capacity exceeded");
                held.add(media);
            }
        }

        #[test]
        fn plan_never_lets_higher_priority_wait_behind_lower_and_leaves_no_eligible_agent_idle(
            (agents, tasks, now) in arb_world()
        ) {
            let q = queue(tasks);
            let offers = plan(&q, &agents, now);
            let offered: BTreeSet<_> = offers.iter().map(|o| o.task_id.clone()).collect();
            let mut load: HashMap<AgentId, Slots> =
                agents.iter().map(|a| (a.id.clone(), a.load)).collect();
            for offer in &offers {
                let media = q.get(&offer.task_id).expect("queued").media;
                load.get_mut(&offer.agent_id).expect("agent").add(media);
            }
            let by_id: HashMap<_, _> = agents.iter().map(|a| (a.id.clone(), a)).collect();

            for waiting in q.iter().filter(|t| t.offered_to.is_none() && !offered.contains(&t.id)) {
                // No agent with capacity left is eligible for a task that still waits.
                for agent in &agents {
                    let mut after = agent.clone();
                    after.load = load[&agent.id];
                    prop_assert!(!is_eligible(waiting, &after, now), "eligible agent left idle");
                }
                // No agent who could have taken the waiting task when a lower-priority task
                // was offered to them got that task instead. (Their load at that moment counts:
                // a call excludes chats, so an earlier, higher-priority chat may rule a call out.)
                let mut running: HashMap<AgentId, Slots> =
                    agents.iter().map(|a| (a.id.clone(), a.load)).collect();
                for offer in &offers {
                    let served = q.get(&offer.task_id).expect("queued");
                    let held = running.get_mut(&offer.agent_id).expect("agent");
                    if served.priority < waiting.priority {
                        let mut then = by_id[&offer.agent_id].clone();
                        then.load = *held;
                        prop_assert!(
                            !is_eligible(waiting, &then, now),
                            "higher-priority task waits behind a lower-priority one"
                        );
                    }
                    held.add(served.media);
                }
            }
        }
    }
}
