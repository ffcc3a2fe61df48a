//! Routing policy: which waiting task is offered to which agent.
//!
//! Pure and synchronous: no actors, no I/O, no clock. Time is a logical millisecond counter
//! passed in by the caller, so the same inputs always give the same decisions (the dispatcher
//! and, later, the dry-run simulator share this code).
//!
//! The policy, in order:
//! 1. tasks are considered by priority (higher first), then by arrival (older first);
//! 2. an agent is eligible for a task when they are available, have free capacity, have every
//!    required skill at the minimum level, speak the task's language, and have not declined
//!    that task recently;
//! 3. among eligible agents the least occupied (load ÷ capacity) wins; ties go to the agent who
//!    has been idle longest, then to the smaller id, so decisions are deterministic.
//!
//! Because tasks are taken greedily in priority order and capacity only shrinks during one
//! plan, a higher-priority task never waits while an agent eligible for it serves a
//! lower-priority one.

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::domain::{AgentId, AgentStatus, Language, Priority, SkillRequirement, TaskId};

/// Logical time in milliseconds (the dispatcher maps its clock onto it).
pub type Millis = u64;

/// What the policy knows about one agent.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentState {
    pub id: AgentId,
    pub status: AgentStatus,
    /// Skill name → level (1..=5).
    pub skills: BTreeMap<String, u8>,
    pub languages: Vec<Language>,
    /// Conversations the agent can hold at once.
    pub capacity: u32,
    /// Conversations held plus offers outstanding.
    pub load: u32,
    /// When the agent last became free (for "longest idle" tie-breaks).
    pub idle_since: Millis,
}

impl AgentState {
    fn free_capacity(&self) -> u32 {
        self.capacity.saturating_sub(self.load)
    }

    /// True when the agent has every skill the task requires, at the level required, and
    /// speaks its language. Presence and load are not considered.
    pub fn qualifies_for(&self, task: &QueuedTask) -> bool {
        self.languages.contains(&task.language)
            && task.required_skills.iter().all(|req| {
                self.skills
                    .get(&req.name)
                    .is_some_and(|level| *level >= req.min_level)
            })
    }
}

/// What the policy knows about one waiting task.
#[derive(Debug, Clone, PartialEq)]
pub struct QueuedTask {
    pub id: TaskId,
    pub priority: Priority,
    pub language: Language,
    pub required_skills: Vec<SkillRequirement>,
    /// Arrival order; ties in priority are served first come, first served.
    pub seq: u64,
    pub enqueued_at: Millis,
    /// The agent currently holding an offer for this task, if any.
    pub offered_to: Option<AgentId>,
    /// Agents who rejected or let an offer expire, with the time until which they are skipped.
    pub declined_by: BTreeMap<AgentId, Millis>,
}

impl QueuedTask {
    fn declined_recently(&self, agent: &AgentId, now: Millis) -> bool {
        self.declined_by
            .get(agent)
            .is_some_and(|until| now < *until)
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
    agent.status == AgentStatus::Available
        && agent.free_capacity() > 0
        && !task.declined_recently(&agent.id, now)
        && agent.qualifies_for(task)
}

/// Service order: priority, then arrival. `signature` comes after the unique id, so it never
/// changes the order; it is carried so a plan can skip a whole class of tasks cheaply.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct QueueKey {
    priority: Reverse<Priority>,
    seq: u64,
    id: TaskId,
    signature: u32,
}

/// What decides which agents qualify for a task: its language and required skills. Tasks with
/// the same signature are eligible for exactly the same agents (declines aside).
type Signature = (Language, Vec<SkillRequirement>);

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
            .entry((task.language, skills))
            .or_insert(next)
    }

    /// Adds a task, or replaces the stored one with the same id.
    pub fn insert(&mut self, task: QueuedTask) {
        self.remove(&task.id);
        let signature = self.signature_of(&task);
        self.order.insert(QueueKey {
            priority: Reverse(task.priority),
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

    /// The task with this id, for updating offer bookkeeping. Priority and `seq` must not be
    /// changed through this (use [`TaskQueue::insert`]), since they define the order.
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

/// Orders candidates: least occupied first, then longest idle, then smallest id.
fn better_candidate(a: &AgentState, a_load: u32, b: &AgentState, b_load: u32) -> Ordering {
    // a_load / a.capacity vs b_load / b.capacity without floating point.
    let a_ratio = u64::from(a_load) * u64::from(b.capacity);
    let b_ratio = u64::from(b_load) * u64::from(a.capacity);
    a_ratio
        .cmp(&b_ratio)
        .then(a.idle_since.cmp(&b.idle_since))
        .then_with(|| a.id.cmp(&b.id))
}

/// Why an agent cannot take a task right now.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Exclusion {
    /// Away, offline or in wrap-up.
    NotAvailable { status: AgentStatus },
    /// Holds as many conversations and offers as their capacity.
    AtCapacity { load: u32, capacity: u32 },
    /// Does not speak the task's language.
    Language { language: Language },
    /// Lacks a required skill, or has it below the level.
    Skill { name: String, required: u8, has: u8 },
    /// Rejected or let an offer of this task expire a moment ago.
    DeclinedRecently,
}

/// One agent as the policy saw them for one task.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Candidate {
    pub agent_id: AgentId,
    /// Empty when eligible.
    pub excluded: Vec<Exclusion>,
    pub load: u32,
    pub capacity: u32,
    /// When the agent last became free (logical milliseconds).
    pub idle_since: Millis,
}

/// Every agent for `task` at `now`: the eligible ones first, in the order the policy prefers
/// them (least occupied, then longest idle, then id), then the others with every reason they
/// are excluded. For explaining a decision; [`plan`] does not need it.
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
        }
        if agent.free_capacity() == 0 {
            reasons.push(Exclusion::AtCapacity {
                load: agent.load,
                capacity: agent.capacity,
            });
        }
        if !agent.languages.contains(&task.language) {
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
        if reasons.is_empty() {
            eligible.push(agent);
        } else {
            excluded.push(candidate(agent, reasons));
        }
    }
    eligible.sort_by(|a, b| better_candidate(a, a.load, b, b.load));
    excluded.sort_by(|a, b| a.agent_id.cmp(&b.agent_id));
    eligible
        .into_iter()
        .map(|a| candidate(a, Vec::new()))
        .chain(excluded)
        .collect()
}

fn candidate(agent: &AgentState, excluded: Vec<Exclusion>) -> Candidate {
    Candidate {
        agent_id: agent.id.clone(),
        excluded,
        load: agent.load,
        capacity: agent.capacity,
        idle_since: agent.idle_since,
    }
}

/// Decides which waiting, not-yet-offered tasks to offer to which agents right now.
///
/// Each task appears at most once, and no agent receives more offers than its free capacity.
/// Stops early as soon as no agent has free capacity left.
pub fn plan<'a>(
    queue: &TaskQueue,
    agents: impl IntoIterator<Item = &'a AgentState>,
    now: Millis,
) -> Vec<Offer> {
    // (agent, load including the offers made in this plan)
    let mut free: Vec<(&AgentState, u32)> = agents
        .into_iter()
        .filter(|a| a.status == AgentStatus::Available && a.free_capacity() > 0)
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
    for (index, (agent, _)) in free.iter().enumerate() {
        for skill in agent.skills.keys() {
            by_skill.entry(skill.as_str()).or_default().push(index);
        }
    }
    // Signatures for which no free agent qualifies. Free capacity only shrinks during a plan,
    // so once a signature is blocked it stays blocked: later tasks of that class are skipped
    // without looking at agents.
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
        let candidates: &[usize] = task
            .required_skills
            .iter()
            .map(|req| {
                by_skill
                    .get(req.name.as_str())
                    .map_or(&[][..], Vec::as_slice)
            })
            .min_by_key(|list| list.len())
            .unwrap_or(&everyone);
        let mut anyone_qualifies = false;
        let mut best: Option<usize> = None;
        for &index in candidates {
            let (agent, load) = free[index];
            if load >= agent.capacity || !agent.qualifies_for(task) {
                continue;
            }
            anyone_qualifies = true;
            if task.declined_recently(&agent.id, now) {
                continue;
            }
            let better = best.is_none_or(|b| {
                let (current, current_load) = free[b];
                better_candidate(agent, load, current, current_load) == std::cmp::Ordering::Less
            });
            if better {
                best = Some(index);
            }
        }
        let Some(index) = best else {
            // Declines only remove agents: if no free agent qualifies at all, none will for
            // any later task of this class either.
            if !anyone_qualifies {
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
        *load += 1;
        if *load >= agent.capacity {
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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn agent(id: &str, skills: &[(&str, u8)], capacity: u32, load: u32) -> AgentState {
        AgentState {
            id: AgentId::from_trusted(id),
            status: AgentStatus::Available,
            skills: skills.iter().map(|(s, l)| ((*s).to_owned(), *l)).collect(),
            languages: vec![Language::Zh, Language::En],
            capacity,
            load,
            idle_since: 0,
        }
    }

    fn task(id: &str, priority: i32, seq: u64, skills: &[(&str, u8)]) -> QueuedTask {
        QueuedTask {
            id: TaskId::from_trusted(id),
            priority: Priority(priority),
            language: Language::En,
            required_skills: skills
                .iter()
                .map(|(s, l)| SkillRequirement {
                    name: (*s).to_owned(),
                    min_level: *l,
                })
                .collect(),
            seq,
            enqueued_at: 0,
            offered_to: None,
            declined_by: BTreeMap::new(),
        }
    }

    fn queue(tasks: Vec<QueuedTask>) -> TaskQueue {
        let mut q = TaskQueue::default();
        for t in tasks {
            q.insert(t);
        }
        q
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
                    load: 3,
                    capacity: 3
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

    const SKILLS: [&str; 3] = ["billing", "tech", "refunds"];

    fn arb_agent(index: usize) -> impl Strategy<Value = AgentState> {
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
        )
            .prop_map(move |(skills, capacity, load, status, bilingual, idle)| {
                AgentState {
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
                    capacity,
                    load: load.min(capacity),
                    idle_since: idle,
                }
            })
    }

    fn arb_task(index: usize) -> impl Strategy<Value = QueuedTask> {
        (
            proptest::collection::btree_map(0..SKILLS.len(), 1u8..=5, 0..=2),
            prop_oneof![Just(0), Just(50), Just(100), -5i32..5],
            any::<bool>(),
            proptest::option::weighted(0.1, 0usize..20),
            proptest::option::weighted(0.1, (0usize..20, 0u64..200)),
        )
            .prop_map(
                move |(skills, priority, zh, offered, declined)| QueuedTask {
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
                    seq: index as u64,
                    enqueued_at: 0,
                    offered_to: offered.map(|a| AgentId::from_trusted(format!("a{a:03}"))),
                    declined_by: declined
                        .map(|(a, until)| (AgentId::from_trusted(format!("a{a:03}")), until))
                        .into_iter()
                        .collect(),
                },
            )
    }

    fn arb_world() -> impl Strategy<Value = (Vec<AgentState>, Vec<QueuedTask>, Millis)> {
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
            let mut extra_load: HashMap<AgentId, u32> = HashMap::new();
            for offer in &offers {
                prop_assert!(seen.insert(offer.task_id.clone()), "task offered twice");
                let task = q.get(&offer.task_id).expect("offered task is queued");
                prop_assert!(task.offered_to.is_none(), "task already had an offer");
                let agent = by_id[&offer.agent_id];
                prop_assert!(is_eligible(task, agent, now), "ineligible agent chosen");
                *extra_load.entry(agent.id.clone()).or_default() += 1;
            }
            for (id, extra) in extra_load {
                let agent = by_id[&id];
                prop_assert!(agent.load + extra <= agent.capacity, "capacity exceeded");
            }
        }

        #[test]
        fn plan_never_lets_higher_priority_wait_behind_lower_and_leaves_no_eligible_agent_idle(
            (agents, tasks, now) in arb_world()
        ) {
            let q = queue(tasks);
            let offers = plan(&q, &agents, now);
            let offered: BTreeSet<_> = offers.iter().map(|o| o.task_id.clone()).collect();
            let mut load: HashMap<AgentId, u32> =
                agents.iter().map(|a| (a.id.clone(), a.load)).collect();
            for offer in &offers {
                *load.entry(offer.agent_id.clone()).or_default() += 1;
            }
            let by_id: HashMap<_, _> = agents.iter().map(|a| (a.id.clone(), a)).collect();

            for waiting in q.iter().filter(|t| t.offered_to.is_none() && !offered.contains(&t.id)) {
                // No agent with capacity left is eligible for a task that still waits.
                for agent in &agents {
                    let mut after = agent.clone();
                    after.load = load[&agent.id];
                    prop_assert!(!is_eligible(waiting, &after, now), "eligible agent left idle");
                }
                // No agent eligible for the waiting task was given a lower-priority task.
                for offer in &offers {
                    let served = q.get(&offer.task_id).expect("queued");
                    if served.priority < waiting.priority {
                        prop_assert!(
                            !is_eligible(waiting, by_id[&offer.agent_id], now),
                            "higher-priority task waits behind a lower-priority one"
                        );
                    }
                }
            }
        }
    }
}
