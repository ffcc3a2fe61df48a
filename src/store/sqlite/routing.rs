//! Tasks and routing: assignment, queue exits, rule sets, overrides, agent presence and the
//! recorded traffic of a dry-run (SQLite).
//!
//! The statements are in `src/store/sql/sqlite/routing/`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension, Row};

use super::accounts::{agent_from, agent_row, AGENT_COLUMNS};
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
    Inserted, PresenceEvent, QueueExit, RecordedTask, RoutingStore, StoreError, StoreResult,
    StoredOverride, StoredRuleSet, Traffic,
};

const TASK_COLUMNS: &str = "id, conversation_id, customer_id, channel, language, required_skills, priority, intent, summary, status, agent_id, created_at, assigned_at, preferred_agent, context";

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
    })
}

/// Inserts one task row (a unique violation — an open task for the conversation — is the
/// caller's to interpret).
pub(super) fn insert_task_row(conn: &Connection, t: &Task) -> StoreResult<rusqlite::Result<usize>> {
    let skills = json(&t.required_skills)?;
    let context = t.context.as_ref().map(json).transpose()?;
    Ok(conn
        .prepare_cached(
            "INSERT INTO tasks (id, conversation_id, customer_id, channel, language, required_skills, priority, intent, summary, status, agent_id, created_at, assigned_at, preferred_agent, context) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        )
        .and_then(|mut stmt| {
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
            ])
        }))
}

/// A task row ([`TASK_COLUMNS`]) followed by queue, finished_at, fallback and the customer's
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
        r.get(15)?,
        r.get(16)?,
        r.get(17)?,
        r.get(18)?,
        r.get(19)?,
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

const OVERRIDE_COLUMNS: &str =
    "id, rule, target, reason, created_by, created_at, expires_at, ended_at";

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
                Err(e) if is_unique_violation(&e) => {
                    let sql = format!(
                        "SELECT {TASK_COLUMNS} FROM tasks WHERE conversation_id = ?1 AND status IN ('waiting', 'assigned')"
                    );
                    conn.query_row(&sql, [t.conversation_id.as_str()], task_row)
                        .optional()
                        .map_err(unavailable)?
                        .map(task_from)
                        .transpose()?
                        .map(Inserted::Duplicate)
                        .ok_or_else(|| StoreError::Conflict(format!("task {} exists", t.id)))
                }
                Err(e) => Err(unavailable(e)),
            }
        })
        .await
    }

    async fn task(&self, id: &TaskId) -> StoreResult<Option<Task>> {
        let id = id.clone();
        self.with_conn(move |conn| {
            let sql = format!("SELECT {TASK_COLUMNS} FROM tasks WHERE id = ?1");
            conn.query_row(&sql, [id.as_str()], task_row)
                .optional()
                .map_err(unavailable)?
                .map(task_from)
                .transpose()
        })
        .await
    }

    async fn waiting_tasks(&self) -> StoreResult<Vec<Task>> {
        self.with_conn(move |conn| {
            let sql = format!(
                "SELECT {TASK_COLUMNS} FROM tasks WHERE status = 'waiting' ORDER BY created_at, id"
            );
            let mut stmt = conn.prepare_cached(&sql).map_err(unavailable)?;
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
            let changed = tx
                .execute(
                    "UPDATE tasks SET status = 'assigned', agent_id = ?2, assigned_at = ?3 WHERE id = ?1 AND status = 'waiting'",
                    params![id.as_str(), agent.as_str(), format_time(&at)],
                )
                .map_err(unavailable)?;
            if changed == 1 {
                tx.execute(
                    "UPDATE conversations SET status = 'assigned', agent_id = ?2 WHERE id = (SELECT conversation_id FROM tasks WHERE id = ?1) AND status <> 'closed'",
                    params![id.as_str(), agent.as_str()],
                )
                .map_err(unavailable)?;
            }
            tx.commit().map_err(unavailable)?;
            Ok(changed == 1)
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
                "UPDATE tasks SET status = ?2, finished_at = ?3 WHERE id = ?1 AND status IN ('waiting', 'assigned')",
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
                    "UPDATE tasks SET status = ?2, queue = COALESCE(?3, queue), fallback = ?4, finished_at = ?5 WHERE id = ?1 AND status = 'waiting'",
                    params![id.as_str(), status.as_str(), queue, fallback, format_time(&at)],
                )
                .map_err(unavailable)?;
            if changed == 1 {
                tx.execute(
                    "UPDATE conversations SET status = 'bot', agent_id = NULL WHERE id = (SELECT conversation_id FROM tasks WHERE id = ?1) AND status <> 'closed'",
                    [id.as_str()],
                )
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
            conn.query_row(
                "SELECT agent_id FROM tasks WHERE customer_id = ?1 AND agent_id IS NOT NULL AND assigned_at IS NOT NULL ORDER BY assigned_at DESC, id DESC LIMIT 1",
                [customer.as_str()],
                |r| r.get::<_, String>(0),
            )
            .optional()
            .map(|agent| agent.map(AgentId::from_trusted))
            .map_err(unavailable)
        })
        .await
    }

    async fn open_task_for(&self, conversation: &ConversationId) -> StoreResult<Option<Task>> {
        let conversation = conversation.clone();
        self.with_conn(move |conn| {
            let sql = format!(
                "SELECT {TASK_COLUMNS} FROM tasks WHERE conversation_id = ?1 AND status IN ('waiting', 'assigned')"
            );
            conn.query_row(&sql, [conversation.as_str()], task_row)
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
            conn.execute(
                "UPDATE tasks SET routing = ?2, queue = ?3 WHERE id = ?1",
                params![id.as_str(), routing, queue],
            )
            .map_err(unavailable)?;
            Ok(())
        })
        .await
    }

    async fn task_routing(&self, id: &TaskId) -> StoreResult<Option<serde_json::Value>> {
        let id = id.clone();
        self.with_conn(move |conn| {
            let routing: Option<Option<String>> = conn
                .query_row(
                    "SELECT routing FROM tasks WHERE id = ?1",
                    [id.as_str()],
                    |r| r.get(0),
                )
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
            tx.execute(
                "INSERT INTO routing_rule_sets (document, created_by, created_at) VALUES (?1, ?2, ?3)",
                params![document.to_string(), by, at],
            )
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
            conn.query_row(
                "SELECT version, document, created_by, created_at FROM routing_rule_sets WHERE version = ?1",
                [version],
                rule_set_row,
            )
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
                .query_row(
                    "SELECT version FROM routing_rule_sets WHERE version = ?1",
                    [version],
                    |r| r.get(0),
                )
                .optional()
                .map_err(unavailable)?;
            if exists.is_none() {
                return Ok(Activation::UnknownVersion);
            }
            let previous: Option<i64> = tx
                .query_row("SELECT version FROM routing_active WHERE id = 1", [], |r| {
                    r.get(0)
                })
                .optional()
                .map_err(unavailable)?;
            let at = format_time(&at);
            tx.execute(
                "INSERT INTO routing_active (id, version, activated_by, activated_at) VALUES (1, ?1, ?2, ?3) ON CONFLICT (id) DO UPDATE SET version = excluded.version, activated_by = excluded.activated_by, activated_at = excluded.activated_at",
                params![version, by, at],
            )
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
                .query_row(
                    "SELECT s.version, s.document, s.created_by, s.created_at, a.activated_by, a.activated_at FROM routing_active a JOIN routing_rule_sets s ON s.version = a.version WHERE a.id = 1",
                    [],
                    |r| Ok((rule_set_row(r)?, r.get::<_, String>(4)?, r.get::<_, String>(5)?)),
                )
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
        self.with_conn(|conn| {
            query_rows(
                conn,
                "SELECT version, document, created_by, created_at FROM routing_rule_sets ORDER BY version",
                [],
                rule_set_row,
                rule_set_from,
            )
        })
        .await
    }

    async fn insert_override(&self, item: &StoredOverride) -> StoreResult<()> {
        let o = item.clone();
        self.with_conn(move |conn| {
            let tx = conn.transaction().map_err(unavailable)?;
            let (created_at, expires_at) = (format_time(&o.created_at), format_time(&o.expires_at));
            tx.execute(
                &format!("INSERT INTO routing_overrides ({OVERRIDE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"),
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
                .query_row(
                    "UPDATE routing_overrides SET ended_at = ?2, ended_by = ?3 WHERE id = ?1 AND ended_at IS NULL AND expires_at > ?2 RETURNING rule",
                    params![id, at, by],
                    |r| r.get(0),
                )
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
                &format!("SELECT {OVERRIDE_COLUMNS} FROM routing_overrides WHERE ended_at IS NULL AND expires_at > ?1 ORDER BY created_at, id"),
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
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let agent = agent.clone();
        self.with_conn(move |conn| {
            conn.prepare_cached(
                "INSERT INTO agent_presence (agent_id, status, at) VALUES (?1, ?2, ?3)",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![agent.as_str(), status.as_str(), format_time(&at)])
            })
            .map(|_| ())
            .map_err(unavailable)
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
                &format!(
                    "SELECT {TASK_COLUMNS}, queue, finished_at, fallback, c.tier, c.tags FROM tasks JOIN (SELECT id AS cid, tier, tags FROM customers) c ON c.cid = tasks.customer_id WHERE created_at >= ?1 AND created_at < ?2 ORDER BY created_at, id"
                ),
                params![from, to],
                recorded_task_row,
                recorded_task_from,
            )?;
            // Each account's last change before the window (its state when the window opens),
            // then every change in the window.
            let presence = query_rows(
                &tx,
                "SELECT agent_id, status, at FROM (
                   SELECT p.id, p.agent_id, p.status, p.at FROM agents a JOIN agent_presence p
                     ON p.id = (SELECT q.id FROM agent_presence q WHERE q.agent_id = a.id AND q.at < ?1 ORDER BY q.at DESC, q.id DESC LIMIT 1)
                   UNION ALL
                   SELECT id, agent_id, status, at FROM agent_presence WHERE at >= ?1 AND at < ?2
                 ) ORDER BY at, id",
                params![from, to],
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)),
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
                &format!("SELECT {AGENT_COLUMNS} FROM agents WHERE role = ?1 ORDER BY username"),
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
