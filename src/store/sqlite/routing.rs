//! Tasks and routing: assignment, queue exits, rule sets, overrides, agent presence and the
//! recorded traffic of a dry-run (SQLite).
//!
//! The statements are in `src/store/sql/sqlite/routing/`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension, Row};

use super::accounts::{agent_from, agent_row};
use super::audit;
use super::{
    corrupt, from_json, is_unique_violation, json, opt_time, query_rows, unavailable, SqliteStore,
};
use crate::domain::{
    AgentId, AgentStatus, Channel, ConversationId, CustomerId, Language, Priority, Role,
    SkillRequirement, Task, TaskId, TaskStatus, Tier,
};
use crate::store::{
    format_time, override_subject, parse_time, rule_set_subject, Activation, ActiveRuleSet,
    ActivityEntry, Inserted, PresenceEvent, QueueExit, RecordedTask, Rerouted, RoutingStore,
    StoreError, StoreResult, StoredOverride, StoredRuleSet, Traffic,
};

const INSERT_TASK: &str = include_str!("../sql/sqlite/routing/insert_task.sql");
const SELECT_OPEN_TASK: &str = include_str!("../sql/sqlite/routing/select_open_task.sql");
const SELECT_PENDING_TRANSFER: &str =
    include_str!("../sql/sqlite/routing/select_pending_transfer.sql");
const END_TRANSFERRED_TASK: &str = include_str!("../sql/sqlite/routing/end_transferred_task.sql");
const SELECT_TASK: &str = include_str!("../sql/sqlite/routing/select_task.sql");
const SELECT_WAITING_TASKS: &str = include_str!("../sql/sqlite/routing/select_waiting_tasks.sql");
const ASSIGN_TASK: &str = include_str!("../sql/sqlite/routing/assign_task.sql");
const ASSIGN_CONVERSATION: &str = include_str!("../sql/sqlite/routing/assign_conversation.sql");
const FINISH_TASK: &str = include_str!("../sql/sqlite/routing/finish_task.sql");
const LEAVE_QUEUE: &str = include_str!("../sql/sqlite/routing/leave_queue.sql");
const RETURN_CONVERSATION_TO_BOT: &str =
    include_str!("../sql/sqlite/routing/return_conversation_to_bot.sql");
const SELECT_LAST_AGENT: &str = include_str!("../sql/sqlite/routing/select_last_agent.sql");
const SET_TASK_ROUTING: &str = include_str!("../sql/sqlite/routing/set_task_routing.sql");
const SELECT_TASK_ROUTING: &str = include_str!("../sql/sqlite/routing/select_task_routing.sql");
const INSERT_RULE_SET: &str = include_str!("../sql/sqlite/routing/insert_rule_set.sql");
const SELECT_RULE_SET: &str = include_str!("../sql/sqlite/routing/select_rule_set.sql");
const SELECT_RULE_SET_VERSION: &str =
    include_str!("../sql/sqlite/routing/select_rule_set_version.sql");
const SELECT_ACTIVE_VERSION: &str = include_str!("../sql/sqlite/routing/select_active_version.sql");
const ACTIVATE_RULE_SET: &str = include_str!("../sql/sqlite/routing/activate_rule_set.sql");
const SELECT_ACTIVE_RULE_SET: &str =
    include_str!("../sql/sqlite/routing/select_active_rule_set.sql");
const SELECT_RULE_SETS: &str = include_str!("../sql/sqlite/routing/select_rule_sets.sql");
const INSERT_OVERRIDE: &str = include_str!("../sql/sqlite/routing/insert_override.sql");
const END_OVERRIDE: &str = include_str!("../sql/sqlite/routing/end_override.sql");
const SELECT_OVERRIDES_IN_FORCE: &str =
    include_str!("../sql/sqlite/routing/select_overrides_in_force.sql");
const INSERT_PRESENCE: &str = include_str!("../sql/sqlite/routing/insert_presence.sql");
const SELECT_AGENT_ACTIVITY: &str = include_str!("../sql/sqlite/routing/select_agent_activity.sql");
const TRAFFIC_TASKS: &str = include_str!("../sql/sqlite/routing/traffic_tasks.sql");
const TRAFFIC_PRESENCE: &str = include_str!("../sql/sqlite/routing/traffic_presence.sql");
const TRAFFIC_AGENTS: &str = include_str!("../sql/sqlite/routing/traffic_agents.sql");
const SELECT_AGENT_ASSIGNED_TASKS: &str =
    include_str!("../sql/sqlite/routing/select_agent_assigned_tasks.sql");
const REQUEUE_CONVERSATION: &str = include_str!("../sql/sqlite/routing/requeue_conversation.sql");
const RELEASE_AGENT_CONVERSATIONS: &str =
    include_str!("../sql/sqlite/routing/release_agent_conversations.sql");

/// Columns of a task row, in the order every statement that selects one lists them: `id,
/// conversation_id, customer_id, channel, language, required_skills, priority, intent, summary,
/// status, agent_id, created_at, assigned_at, preferred_agent, context, transfer`.
type TaskRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    i32,
    Option<String>,
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn task_row(r: &Row<'_>) -> rusqlite::Result<TaskRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
        r.get(10)?,
        r.get(11)?,
        r.get(12)?,
        r.get(13)?,
        r.get(14)?,
        r.get(15)?,
    ))
}

fn task_from(row: TaskRow) -> StoreResult<Task> {
    let (
        id,
        conv,
        customer,
        channel,
        language,
        skills,
        priority,
        intent,
        summary,
        status,
        agent,
        created_at,
        assigned_at,
        preferred_agent,
        context,
        transfer,
    ) = row;
    let required_skills: Vec<SkillRequirement> = from_json(&skills)?;
    let context = context.as_deref().map(from_json).transpose()?;
    Ok(Task {
        id: TaskId::from_trusted(id),
        conversation_id: ConversationId::from_trusted(conv),
        customer_id: CustomerId::from_trusted(customer),
        channel: Channel::parse(&channel).map_err(corrupt)?,
        language: Language::parse(&language).map_err(corrupt)?,
        required_skills,
        priority: Priority(priority),
        intent,
        summary,
        status: TaskStatus::parse(&status).map_err(corrupt)?,
        agent_id: agent.map(AgentId::from_trusted),
        created_at: parse_time(&created_at)?,
        assigned_at: opt_time(assigned_at)?,
        preferred_agent: preferred_agent.map(AgentId::from_trusted),
        context,
        transfer: transfer.as_deref().map(from_json).transpose()?,
    })
}

/// Inserts one task row (a unique violation — an open task for the conversation — is the
/// caller's to interpret).
pub(super) fn insert_task_row(conn: &Connection, t: &Task) -> StoreResult<rusqlite::Result<usize>> {
    let skills = json(&t.required_skills)?;
    let context = t.context.as_ref().map(json).transpose()?;
    let transfer = t.transfer.as_ref().map(json).transpose()?;
    Ok(conn.prepare_cached(INSERT_TASK).and_then(|mut stmt| {
        stmt.execute(params![
            t.id.as_str(),
            t.conversation_id.as_str(),
            t.customer_id.as_str(),
            t.channel.as_str(),
            t.language.as_str(),
            skills,
            t.priority.0,
            t.intent,
            t.summary,
            t.status.as_str(),
            t.agent_id.as_ref().map(AgentId::as_str),
            format_time(&t.created_at),
            t.assigned_at.as_ref().map(format_time),
            t.preferred_agent.as_ref().map(AgentId::as_str),
            context,
            transfer,
        ])
    }))
}

/// Routes the conversations of an agent who left (deactivated, or no longer an agent) again,
/// inside the caller's transaction, at `at` (stored time): each task assigned to them is
/// completed and a new waiting task with the same target (no preferred agent: not them) takes
/// its place, and its conversation goes back to `queued`; a conversation they hold without an
/// open task goes back to the bot.
pub(super) fn reroute_agent(tx: &Connection, agent: &AgentId, at: &str) -> StoreResult<Rerouted> {
    let held = query_rows(
        tx,
        SELECT_AGENT_ASSIGNED_TASKS,
        [agent.as_str()],
        task_row,
        task_from,
    )?;
    let created_at = parse_time(at)?;
    let mut tasks = Vec::with_capacity(held.len());
    for old in held {
        tx.execute(
            FINISH_TASK,
            params![old.id.as_str(), TaskStatus::Completed.as_str(), at],
        )
        .map_err(unavailable)?;
        let task = Task {
            id: TaskId::generate(),
            status: TaskStatus::Waiting,
            agent_id: None,
            created_at,
            assigned_at: None,
            preferred_agent: None,
            transfer: None,
            ..old
        };
        insert_task_row(tx, &task)?.map_err(unavailable)?;
        tx.execute(REQUEUE_CONVERSATION, [task.conversation_id.as_str()])
            .map_err(unavailable)?;
        tasks.push(task);
    }
    let mut stmt = tx
        .prepare_cached(RELEASE_AGENT_CONVERSATIONS)
        .map_err(unavailable)?;
    let released = stmt
        .query_map([agent.as_str()], |r| r.get::<_, String>(0))
        .map_err(unavailable)?
        .map(|r| r.map(CustomerId::from_trusted))
        .collect::<Result<Vec<_>, _>>()
        .map_err(unavailable)?;
    Ok(Rerouted { tasks, released })
}

/// A task row ([`TaskRow`]) followed by queue, finished_at, fallback and the customer's
/// tier and tags.
type RecordedTaskRow = (
    TaskRow,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    String,
);

fn recorded_task_row(r: &Row<'_>) -> rusqlite::Result<RecordedTaskRow> {
    Ok((
        task_row(r)?,
        r.get(16)?,
        r.get(17)?,
        r.get(18)?,
        r.get(19)?,
        r.get(20)?,
    ))
}

fn recorded_task_from(row: RecordedTaskRow) -> StoreResult<RecordedTask> {
    let (task, queue, finished_at, fallback, tier, tags) = row;
    Ok(RecordedTask {
        task: task_from(task)?,
        tier: Tier::parse(&tier).map_err(corrupt)?,
        tags: from_json(&tags)?,
        queue,
        finished_at: opt_time(finished_at)?,
        fallback,
    })
}

type RuleSetRow = (i64, String, String, String);

fn rule_set_row(r: &Row<'_>) -> rusqlite::Result<RuleSetRow> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
}

fn rule_set_from(row: RuleSetRow) -> StoreResult<StoredRuleSet> {
    let (version, document, created_by, created_at) = row;
    Ok(StoredRuleSet {
        version,
        document: from_json(&document)?,
        created_by,
        created_at: parse_time(&created_at)?,
    })
}

/// Columns of an override row, in the order every statement that selects one lists them: `id, rule,
/// target, reason, created_by, created_at, expires_at, ended_at`.
type OverrideRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
);

fn override_row(r: &Row<'_>) -> rusqlite::Result<OverrideRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
    ))
}

fn override_from(row: OverrideRow) -> StoreResult<StoredOverride> {
    let (id, rule, target, reason, created_by, created_at, expires_at, ended_at) = row;
    Ok(StoredOverride {
        id,
        rule,
        target: from_json(&target)?,
        reason,
        created_by,
        created_at: parse_time(&created_at)?,
        expires_at: parse_time(&expires_at)?,
        ended_at: opt_time(ended_at)?,
    })
}

/// Parses a stored presence status (its wire name).
fn agent_status(s: &str) -> StoreResult<AgentStatus> {
    serde_json::from_value(serde_json::Value::String(s.to_owned()))
        .map_err(|e| corrupt(format!("agent status '{s}': {e}")))
}

#[async_trait]
impl RoutingStore for SqliteStore {
    async fn insert_task(&self, task: &Task) -> StoreResult<Inserted<Task>> {
        let t = task.clone();
        self.with_conn(move |conn| {
            let result = insert_task_row(conn, &t)?;
            match result {
                Ok(_) => Ok(Inserted::New(t)),
                Err(e) if is_unique_violation(&e) => conn
                    .query_row(
                        if t.transfer.is_some() {
                            SELECT_PENDING_TRANSFER
                        } else {
                            SELECT_OPEN_TASK
                        },
                        [t.conversation_id.as_str()],
                        task_row,
                    )
                    .optional()
                    .map_err(unavailable)?
                    .map(task_from)
                    .transpose()?
                    .map(Inserted::Duplicate)
                    .ok_or_else(|| StoreError::Conflict(format!("task {} exists", t.id))),
                Err(e) => Err(unavailable(e)),
            }
        })
        .await
    }

    async fn task(&self, id: &TaskId) -> StoreResult<Option<Task>> {
        let id = id.clone();
        self.with_conn(move |conn| {
            conn.query_row(SELECT_TASK, [id.as_str()], task_row)
                .optional()
                .map_err(unavailable)?
                .map(task_from)
                .transpose()
        })
        .await
    }

    async fn waiting_tasks(&self) -> StoreResult<Vec<Task>> {
        self.with_conn(move |conn| {
            let mut stmt = conn
                .prepare_cached(SELECT_WAITING_TASKS)
                .map_err(unavailable)?;
            let rows = stmt
                .query_map([], task_row)
                .map_err(unavailable)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(unavailable)?;
            rows.into_iter().map(task_from).collect()
        })
        .await
    }

    async fn assign_task(
        &self,
        id: &TaskId,
        agent: &AgentId,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let id = id.clone();
        let agent = agent.clone();
        self.with_conn(move |conn| {
            let tx = conn.transaction().map_err(unavailable)?;
            // A transfer's acceptance ends the sender's task first (one assigned task).
            tx.execute(END_TRANSFERRED_TASK, params![id.as_str(), format_time(&at)])
                .map_err(unavailable)?;
            let changed = tx
                .execute(
                    ASSIGN_TASK,
                    params![id.as_str(), agent.as_str(), format_time(&at)],
                )
                .map_err(unavailable)?;
            if changed != 1 {
                // Not waiting any more (or not an agent): nothing ends, nothing changes.
                tx.rollback().map_err(unavailable)?;
                return Ok(false);
            }
            tx.execute(ASSIGN_CONVERSATION, params![id.as_str(), agent.as_str()])
                .map_err(unavailable)?;
            tx.commit().map_err(unavailable)?;
            Ok(true)
        })
        .await
    }

    async fn pending_transfer(&self, conversation: &ConversationId) -> StoreResult<Option<Task>> {
        let conversation = conversation.clone();
        self.with_conn(move |conn| {
            conn.query_row(SELECT_PENDING_TRANSFER, [conversation.as_str()], task_row)
                .optional()
                .map_err(unavailable)?
                .map(task_from)
                .transpose()
        })
        .await
    }

    async fn finish_task(
        &self,
        id: &TaskId,
        status: TaskStatus,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let id = id.clone();
        self.with_conn(move |conn| {
            conn.execute(
                FINISH_TASK,
                params![id.as_str(), status.as_str(), format_time(&at)],
            )
            .map(|changed| changed == 1)
            .map_err(unavailable)
        })
        .await
    }

    async fn leave_queue(
        &self,
        id: &TaskId,
        exit: QueueExit<'_>,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let (status, queue, fallback) = exit.columns();
        let (id, queue, fallback) = (
            id.clone(),
            queue.map(str::to_owned),
            fallback.map(str::to_owned),
        );
        self.with_conn(move |conn| {
            let tx = conn.transaction().map_err(unavailable)?;
            let changed = tx
                .execute(
                    LEAVE_QUEUE,
                    params![
                        id.as_str(),
                        status.as_str(),
                        queue,
                        fallback,
                        format_time(&at)
                    ],
                )
                .map_err(unavailable)?;
            if changed == 1 {
                tx.execute(RETURN_CONVERSATION_TO_BOT, [id.as_str()])
                    .map_err(unavailable)?;
            }
            tx.commit().map_err(unavailable)?;
            Ok(changed == 1)
        })
        .await
    }

    async fn last_agent_of(&self, customer: &CustomerId) -> StoreResult<Option<AgentId>> {
        let customer = customer.clone();
        self.with_conn(move |conn| {
            conn.query_row(SELECT_LAST_AGENT, [customer.as_str()], |r| {
                r.get::<_, String>(0)
            })
            .optional()
            .map(|agent| agent.map(AgentId::from_trusted))
            .map_err(unavailable)
        })
        .await
    }

    async fn open_task_for(&self, conversation: &ConversationId) -> StoreResult<Option<Task>> {
        let conversation = conversation.clone();
        self.with_conn(move |conn| {
            conn.query_row(SELECT_OPEN_TASK, [conversation.as_str()], task_row)
                .optional()
                .map_err(unavailable)?
                .map(task_from)
                .transpose()
        })
        .await
    }

    async fn set_task_routing(
        &self,
        id: &TaskId,
        queue: &str,
        routing: &serde_json::Value,
    ) -> StoreResult<()> {
        let (id, queue, routing) = (id.clone(), queue.to_owned(), routing.to_string());
        self.with_conn(move |conn| {
            conn.execute(SET_TASK_ROUTING, params![id.as_str(), routing, queue])
                .map_err(unavailable)?;
            Ok(())
        })
        .await
    }

    async fn task_routing(&self, id: &TaskId) -> StoreResult<Option<serde_json::Value>> {
        let id = id.clone();
        self.with_conn(move |conn| {
            let routing: Option<Option<String>> = conn
                .query_row(SELECT_TASK_ROUTING, [id.as_str()], |r| r.get(0))
                .optional()
                .map_err(unavailable)?;
            routing.flatten().as_deref().map(from_json).transpose()
        })
        .await
    }

    async fn insert_rule_set(
        &self,
        document: &serde_json::Value,
        by: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<i64> {
        let (document, by) = (document.clone(), by.to_owned());
        self.with_conn(move |conn| {
            let tx = conn.transaction().map_err(unavailable)?;
            let at = format_time(&at);
            tx.execute(INSERT_RULE_SET, params![document.to_string(), by, at])
                .map_err(unavailable)?;
            let version = tx.last_insert_rowid();
            audit::append(
                &tx,
                &at,
                &by,
                "routing.rules.created",
                &rule_set_subject(version),
                &serde_json::json!({}),
            )?;
            tx.commit().map_err(unavailable)?;
            Ok(version)
        })
        .await
    }

    async fn rule_set(&self, version: i64) -> StoreResult<Option<StoredRuleSet>> {
        self.with_conn(move |conn| {
            conn.query_row(SELECT_RULE_SET, [version], rule_set_row)
                .optional()
                .map_err(unavailable)?
                .map(rule_set_from)
                .transpose()
        })
        .await
    }

    async fn activate_rule_set(
        &self,
        version: i64,
        by: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Activation> {
        let by = by.to_owned();
        self.with_conn(move |conn| {
            let tx = conn.transaction().map_err(unavailable)?;
            let exists: Option<i64> = tx
                .query_row(SELECT_RULE_SET_VERSION, [version], |r| r.get(0))
                .optional()
                .map_err(unavailable)?;
            if exists.is_none() {
                return Ok(Activation::UnknownVersion);
            }
            let previous: Option<i64> = tx
                .query_row(SELECT_ACTIVE_VERSION, [], |r| r.get(0))
                .optional()
                .map_err(unavailable)?;
            let at = format_time(&at);
            tx.execute(ACTIVATE_RULE_SET, params![version, by, at])
                .map_err(unavailable)?;
            audit::append(
                &tx,
                &at,
                &by,
                "routing.rules.activated",
                &rule_set_subject(version),
                &serde_json::json!({ "previous": previous }),
            )?;
            tx.commit().map_err(unavailable)?;
            Ok(Activation::Activated { previous })
        })
        .await
    }

    async fn active_rule_set(&self) -> StoreResult<Option<ActiveRuleSet>> {
        self.with_conn(|conn| {
            let row = conn
                .query_row(SELECT_ACTIVE_RULE_SET, [], |r| {
                    Ok((
                        rule_set_row(r)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, String>(5)?,
                    ))
                })
                .optional()
                .map_err(unavailable)?;
            row.map(|(set, by, at)| {
                Ok(ActiveRuleSet {
                    rule_set: rule_set_from(set)?,
                    activated_by: by,
                    activated_at: parse_time(&at)?,
                })
            })
            .transpose()
        })
        .await
    }

    async fn rule_sets(&self) -> StoreResult<Vec<StoredRuleSet>> {
        self.with_conn(|conn| query_rows(conn, SELECT_RULE_SETS, [], rule_set_row, rule_set_from))
            .await
    }

    async fn insert_override(&self, item: &StoredOverride) -> StoreResult<()> {
        let o = item.clone();
        self.with_conn(move |conn| {
            let tx = conn.transaction().map_err(unavailable)?;
            let (created_at, expires_at) = (format_time(&o.created_at), format_time(&o.expires_at));
            tx.execute(
                INSERT_OVERRIDE,
                params![
                    o.id,
                    o.rule,
                    o.target.to_string(),
                    o.reason,
                    o.created_by,
                    created_at,
                    expires_at,
                    o.ended_at.as_ref().map(format_time),
                ],
            )
            .map_err(|e| {
                if is_unique_violation(&e) {
                    StoreError::Conflict(format!("override {} exists", o.id))
                } else {
                    unavailable(e)
                }
            })?;
            audit::append(
                &tx,
                &created_at,
                &o.created_by,
                "routing.override.created",
                &override_subject(&o.id),
                &serde_json::json!({
                    "rule": o.rule,
                    "target": o.target,
                    "reason": o.reason,
                    "expires_at": expires_at,
                }),
            )?;
            tx.commit().map_err(unavailable)?;
            Ok(())
        })
        .await
    }

    async fn end_override(&self, id: &str, by: &str, at: DateTime<Utc>) -> StoreResult<bool> {
        let (id, by) = (id.to_owned(), by.to_owned());
        self.with_conn(move |conn| {
            let tx = conn.transaction().map_err(unavailable)?;
            let at = format_time(&at);
            let rule: Option<String> = tx
                .query_row(END_OVERRIDE, params![id, at, by], |r| r.get(0))
                .optional()
                .map_err(unavailable)?;
            let Some(rule) = rule else {
                return Ok(false);
            };
            audit::append(
                &tx,
                &at,
                &by,
                "routing.override.ended",
                &override_subject(&id),
                &serde_json::json!({ "rule": rule }),
            )?;
            tx.commit().map_err(unavailable)?;
            Ok(true)
        })
        .await
    }

    async fn overrides_in_force(&self, now: DateTime<Utc>) -> StoreResult<Vec<StoredOverride>> {
        self.with_conn(move |conn| {
            query_rows(
                conn,
                SELECT_OVERRIDES_IN_FORCE,
                [format_time(&now)],
                override_row,
                override_from,
            )
        })
        .await
    }

    async fn record_presence(
        &self,
        agent: &AgentId,
        status: AgentStatus,
        reason: Option<&str>,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let agent = agent.clone();
        let reason = reason.map(str::to_owned);
        self.with_conn(move |conn| {
            conn.prepare_cached(INSERT_PRESENCE)
                .and_then(|mut stmt| {
                    stmt.execute(params![
                        agent.as_str(),
                        status.as_str(),
                        format_time(&at),
                        reason
                    ])
                })
                .map(|_| ())
                .map_err(unavailable)
        })
        .await
    }

    async fn agent_activity(
        &self,
        agent: &AgentId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<ActivityEntry>> {
        let agent = agent.clone();
        self.with_conn(move |conn| {
            query_rows(
                conn,
                SELECT_AGENT_ACTIVITY,
                params![agent.as_str(), format_time(&from), format_time(&to)],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, Option<String>>(1)?,
                        r.get::<_, String>(2)?,
                    ))
                },
                |(status, reason, at)| {
                    Ok(ActivityEntry {
                        at: parse_time(&at)?,
                        state: agent_status(&status)?,
                        reason,
                    })
                },
            )
        })
        .await
    }

    async fn traffic(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> StoreResult<Traffic> {
        self.with_conn(move |conn| {
            let (from, to) = (format_time(&from), format_time(&to));
            // One read transaction: the three reads see the same state.
            let tx = conn.transaction().map_err(unavailable)?;
            let tasks = query_rows(
                &tx,
                TRAFFIC_TASKS,
                params![from, to],
                recorded_task_row,
                recorded_task_from,
            )?;
            // Each account's last change before the window (its state when the window opens),
            // then every change in the window.
            let presence = query_rows(
                &tx,
                TRAFFIC_PRESENCE,
                params![from, to],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                    ))
                },
                |(agent_id, status, at)| {
                    Ok(PresenceEvent {
                        agent_id: AgentId::from_trusted(agent_id),
                        status: agent_status(&status)?,
                        at: parse_time(&at)?,
                    })
                },
            )?;
            let agents = query_rows(
                &tx,
                TRAFFIC_AGENTS,
                [Role::Agent.as_str()],
                agent_row,
                agent_from,
            )?;
            tx.commit().map_err(unavailable)?;
            Ok(Traffic {
                tasks,
                presence,
                agents,
            })
        })
        .await
    }
}
