//! The embedded store: one SQLite file (bundled SQLite, WAL journal, versioned migrations).
//!
//! rusqlite is synchronous, so every call runs on tokio's blocking pool while holding the one
//! connection. `synchronous = NORMAL` in WAL mode makes a committed transaction survive a
//! process crash (SIGKILL); `durable = true` selects `FULL` for power-loss durability.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{anyhow, Context};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension, Row};

use super::{
    format_time, override_subject, parse_time, rule_set_subject, Activation, ActiveRuleSet,
    AuditEntry, CustomerMerge, Inserted, MergeMoved, OutboxItem, OutboxStatus, PresenceEvent,
    Principal, QueueExit, RecordedTask, Settlement, Store, StoreError, StoreResult, StoredOverride,
    StoredRuleSet, Traffic, Turn, TurnOutcome,
};
use super::{
    kb_subject, resolved_sample, AssistRecord, KbWrite, ResolvedSample, StoredKbEntry, Ticket,
};
use crate::domain::{
    Agent, AgentId, AgentStatus, Channel, Conversation, ConversationId, ConversationStatus,
    Customer, CustomerId, Identity, Language, Message, MessageId, Priority, Resolution, Role,
    Sender, Skill, SkillRequirement, Task, TaskId, TaskStatus, Tier,
};

/// Versioned migrations, applied in order exactly once.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("sql/sqlite/0001_init.sql")),
    (2, include_str!("sql/sqlite/0002_outbox.sql")),
    (3, include_str!("sql/sqlite/0003_routing_rules.sql")),
    (4, include_str!("sql/sqlite/0004_task_routing.sql")),
    (5, include_str!("sql/sqlite/0005_routing_ops.sql")),
    (6, include_str!("sql/sqlite/0006_agent_media_capacity.sql")),
    (7, include_str!("sql/sqlite/0007_channels.sql")),
    (8, include_str!("sql/sqlite/0008_app_presence.sql")),
    (9, include_str!("sql/sqlite/0009_bot.sql")),
];

/// SQLite-backed [`Store`].
#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and applies pending migrations.
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating directory {}", parent.display()))?;
        }
        let conn = Connection::open(path)
            .with_context(|| format!("opening SQLite database {}", path.display()))?;
        Self::from_connection(conn)
    }

    /// An in-memory database (tests, benchmarks).
    pub fn in_memory() -> anyhow::Result<Self> {
        Self::from_connection(Connection::open_in_memory()?)
    }

    fn from_connection(mut conn: Connection) -> anyhow::Result<Self> {
        conn.busy_timeout(Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        migrate(&mut conn).context("applying SQLite migrations")?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` with the connection on the blocking pool.
    async fn with_conn<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        // The connection lock is taken on the blocking thread, never held by an async task: a
        // future that stops being polled (an actor waiting on something else) cannot hold the
        // store for everyone (an async semaphore here deadlocked the dispatcher).
        tokio::task::spawn_blocking(move || {
            let mut guard = conn
                .lock()
                .map_err(|_| StoreError::Unavailable(anyhow!("SQLite connection lock poisoned")))?;
            f(&mut guard)
        })
        .await
        .map_err(|e| StoreError::Unavailable(anyhow!("SQLite worker failed: {e}")))?
    }
}

fn migrate(conn: &mut Connection) -> anyhow::Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)",
    )?;
    for (version, sql) in MIGRATIONS {
        let applied: Option<i64> = conn
            .query_row(
                "SELECT version FROM schema_migrations WHERE version = ?1",
                [version],
                |r| r.get(0),
            )
            .optional()?;
        if applied.is_some() {
            continue;
        }
        let tx = conn.transaction()?;
        tx.execute_batch(sql)
            .with_context(|| format!("migration {version}"))?;
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)",
            params![version, format_time(&Utc::now())],
        )?;
        tx.commit()?;
    }
    Ok(())
}

fn unavailable(e: rusqlite::Error) -> StoreError {
    StoreError::Unavailable(anyhow::Error::new(e))
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _)
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
    )
}

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

fn json<T: serde::Serialize>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| corrupt(format!("encoding JSON: {e}")))
}

fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> StoreResult<T> {
    serde_json::from_str(text).map_err(|e| corrupt(format!("decoding JSON '{text}': {e}")))
}

fn opt_time(value: Option<String>) -> StoreResult<Option<DateTime<Utc>>> {
    value.as_deref().map(parse_time).transpose()
}

// Row mappers read raw columns inside rusqlite's closure and convert afterwards, so parse
// errors surface as `Corrupt` rather than as rusqlite errors.

type CustomerRow = (String, String, String, String, String);

fn customer_row(r: &Row<'_>) -> rusqlite::Result<CustomerRow> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

fn customer_from(row: CustomerRow) -> StoreResult<Customer> {
    let (id, display_name, tier, tags, created_at) = row;
    Ok(Customer {
        id: CustomerId::from_trusted(id),
        display_name,
        tier: Tier::parse(&tier).map_err(corrupt)?,
        tags: from_json(&tags)?,
        created_at: parse_time(&created_at)?,
    })
}

const CONVERSATION_COLUMNS: &str =
    "id, customer_id, status, last_channel, agent_id, bot_state, opened_at, closed_at, resolution";

type ConversationRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    String,
    Option<String>,
    Option<String>,
);

fn conversation_row(r: &Row<'_>) -> rusqlite::Result<ConversationRow> {
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
    ))
}

fn conversation_from(row: ConversationRow) -> StoreResult<Conversation> {
    let (id, customer_id, status, channel, agent_id, bot_state, opened_at, closed_at, resolution) =
        row;
    Ok(Conversation {
        id: ConversationId::from_trusted(id),
        customer_id: CustomerId::from_trusted(customer_id),
        status: ConversationStatus::parse(&status).map_err(corrupt)?,
        last_channel: Channel::parse(&channel).map_err(corrupt)?,
        agent_id: agent_id.map(AgentId::from_trusted),
        bot_state: from_json(&bot_state)?,
        opened_at: parse_time(&opened_at)?,
        closed_at: opt_time(closed_at)?,
        resolution: resolution
            .as_deref()
            .map(Resolution::parse)
            .transpose()
            .map_err(corrupt)?,
    })
}

const MESSAGE_COLUMNS: &str =
    "id, conversation_id, customer_id, channel, sender, body, client_id, external_id, agent_id, sent_at";

type MessageRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
);

fn message_row(r: &Row<'_>) -> rusqlite::Result<MessageRow> {
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
    ))
}

fn message_from(row: MessageRow) -> StoreResult<Message> {
    let (id, conv, customer, channel, sender, body, client_id, external_id, agent_id, sent_at) =
        row;
    Ok(Message {
        id: MessageId::from_trusted(id),
        conversation_id: ConversationId::from_trusted(conv),
        customer_id: CustomerId::from_trusted(customer),
        channel: Channel::parse(&channel).map_err(corrupt)?,
        from: Sender::parse(&sender).map_err(corrupt)?,
        text: body,
        client_id,
        external_id,
        agent_id: agent_id.map(AgentId::from_trusted),
        sent_at: parse_time(&sent_at)?,
    })
}

const AGENT_COLUMNS: &str = "id, username, display_name, role, skills, languages, capacity, password_hash, voice_capacity, ticket_capacity";

type AgentRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    u32,
    String,
    Option<u32>,
    Option<u32>,
);

fn agent_row(r: &Row<'_>) -> rusqlite::Result<AgentRow> {
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
    ))
}

fn agent_from(row: AgentRow) -> StoreResult<Agent> {
    let (
        id,
        username,
        display_name,
        role,
        skills,
        languages,
        capacity,
        password_hash,
        voice_capacity,
        ticket_capacity,
    ) = row;
    let skills: Vec<Skill> = from_json(&skills)?;
    let languages: Vec<Language> = from_json(&languages)?;
    Ok(Agent {
        id: AgentId::from_trusted(id),
        username,
        display_name,
        role: Role::parse(&role).map_err(corrupt)?,
        skills,
        languages,
        capacity,
        voice_capacity,
        ticket_capacity,
        password_hash,
    })
}

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

fn query_messages(conn: &Connection, filter: &str, key: &str) -> StoreResult<Vec<Message>> {
    let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE {filter} = ?1 ORDER BY seq");
    let mut stmt = conn.prepare_cached(&sql).map_err(unavailable)?;
    let rows = stmt
        .query_map([key], message_row)
        .map_err(unavailable)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(unavailable)?;
    rows.into_iter().map(message_from).collect()
}

/// Inserts one message row (a unique violation is the caller's to interpret).
fn insert_message_row(conn: &Connection, m: &Message) -> rusqlite::Result<usize> {
    conn.prepare_cached(
        "INSERT INTO messages (id, conversation_id, customer_id, channel, sender, body, client_id, external_id, agent_id, sent_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        m.id.as_str(),
        m.conversation_id.as_str(),
        m.customer_id.as_str(),
        m.channel.as_str(),
        m.from.as_str(),
        m.text,
        m.client_id,
        m.external_id,
        m.agent_id.as_ref().map(AgentId::as_str),
        format_time(&m.sent_at),
    ])
}

/// Inserts one task row (a unique violation — an open task for the conversation — is the
/// caller's to interpret).
fn insert_task_row(conn: &Connection, t: &Task) -> StoreResult<rusqlite::Result<usize>> {
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

/// Writes a turn inside `tx` (see [`Store::commit_turn`]); `Some` is the stored duplicate.
fn write_turn(tx: &rusqlite::Transaction<'_>, turn: &OwnedTurn) -> StoreResult<Option<Message>> {
    if let Some(m) = &turn.inbound {
        match insert_message_row(tx, m) {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => {
                let Some(external_id) = m.external_id.as_deref() else {
                    return Err(StoreError::Conflict(format!("message id {} exists", m.id)));
                };
                return select_message_by_key(tx, m.channel.as_str(), external_id)?
                    .map(Some)
                    .ok_or_else(|| StoreError::Conflict(format!("message id {} exists", m.id)));
            }
            Err(e) => return Err(unavailable(e)),
        }
    }
    for m in &turn.replies {
        insert_message_row(tx, m).map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::Conflict(format!("message id {} exists", m.id))
            } else {
                unavailable(e)
            }
        })?;
    }
    if let Some((id, channel, bot_state)) = &turn.conversation {
        let changed = tx
            .prepare_cached(
                "UPDATE conversations SET last_channel = ?2, bot_state = ?3 WHERE id = ?1",
            )
            .and_then(|mut stmt| stmt.execute(params![id, channel, bot_state]))
            .map_err(unavailable)?;
        if changed == 0 {
            return Err(StoreError::Conflict(format!(
                "conversation {id} does not exist"
            )));
        }
    }
    if let Some(t) = &turn.handoff {
        // The conversation must still be with the bot and have no open task; otherwise this
        // session's view is stale: refuse the whole turn (the session reloads, the client
        // retries).
        let queued = tx
            .prepare_cached(
                "UPDATE conversations SET status = 'queued' WHERE id = ?1 AND status = 'bot'",
            )
            .and_then(|mut stmt| stmt.execute([t.conversation_id.as_str()]))
            .map_err(unavailable)?;
        if queued == 0 {
            return Err(StoreError::Conflict(format!(
                "conversation {} is not with the bot any more",
                t.conversation_id
            )));
        }
        match insert_task_row(tx, t)? {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => {
                return Err(StoreError::Conflict(format!(
                    "conversation {} already has an open task",
                    t.conversation_id
                )))
            }
            Err(e) => return Err(unavailable(e)),
        }
    }
    for item in &turn.outbox {
        tx.prepare_cached(
            "INSERT INTO outbox (id, channel, payload, status, attempts, due_at, created_at) VALUES (?1, ?2, ?3, 'pending', 0, ?4, ?5) ON CONFLICT (id) DO NOTHING",
        )
        .and_then(|mut stmt| {
            stmt.execute(params![
                item.id,
                item.channel,
                item.payload.to_string(),
                format_time(&item.due_at),
                format_time(&item.created_at),
            ])
        })
        .map_err(unavailable)?;
    }
    Ok(None)
}

/// A [`Turn`] owned, to move onto the blocking pool.
struct OwnedTurn {
    inbound: Option<Message>,
    replies: Vec<Message>,
    /// (id, last_channel, bot_state JSON)
    conversation: Option<(String, String, String)>,
    outbox: Vec<OutboxItem>,
    handoff: Option<Task>,
}

impl OwnedTurn {
    fn from(turn: Turn<'_>) -> StoreResult<Self> {
        Ok(Self {
            inbound: turn.inbound.cloned(),
            replies: turn.replies.to_vec(),
            conversation: turn
                .conversation
                .map(|c| -> StoreResult<_> {
                    Ok((
                        c.id.as_str().to_owned(),
                        c.last_channel.as_str().to_owned(),
                        json(&c.bot_state)?,
                    ))
                })
                .transpose()?,
            outbox: turn.outbox.to_vec(),
            handoff: turn.handoff.cloned(),
        })
    }
}

const OUTBOX_COLUMNS: &str =
    "id, channel, payload, status, attempts, due_at, last_error, created_at, provider_ref, provider_status";

type OutboxRow = (
    String,
    String,
    String,
    String,
    u32,
    String,
    Option<String>,
    String,
    (Option<String>, Option<String>),
);

fn outbox_row(r: &Row<'_>) -> rusqlite::Result<OutboxRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        (r.get(8)?, r.get(9)?),
    ))
}

fn outbox_from(row: OutboxRow) -> StoreResult<OutboxItem> {
    let (id, channel, payload, status, attempts, due_at, last_error, created_at, provider) = row;
    Ok(OutboxItem {
        id,
        channel,
        payload: from_json(&payload)?,
        status: OutboxStatus::parse(&status).map_err(corrupt)?,
        attempts,
        due_at: parse_time(&due_at)?,
        last_error,
        created_at: parse_time(&created_at)?,
        provider_ref: provider.0,
        provider_status: provider.1,
    })
}

fn select_outbox(conn: &Connection, id: &str) -> StoreResult<Option<OutboxItem>> {
    let sql = format!("SELECT {OUTBOX_COLUMNS} FROM outbox WHERE id = ?1");
    conn.query_row(&sql, [id], outbox_row)
        .optional()
        .map_err(unavailable)?
        .map(outbox_from)
        .transpose()
}

/// Appends to the audit log inside the caller's transaction.
fn audit(
    tx: &rusqlite::Transaction<'_>,
    at: &str,
    actor: &str,
    action: &str,
    subject: &str,
    detail: &serde_json::Value,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO audit_log (at, actor, action, subject, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![at, actor, action, subject, detail.to_string()],
    )
    .map_err(unavailable)?;
    Ok(())
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

/// Parses a stored presence status (its wire name).
fn agent_status(s: &str) -> StoreResult<AgentStatus> {
    serde_json::from_value(serde_json::Value::String(s.to_owned()))
        .map_err(|e| corrupt(format!("agent status '{s}': {e}")))
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

/// Runs `sql` (one row per result) with `params` and decodes every row.
const KB_COLUMNS: &str = "id, document, status, updated_at, updated_by";

type KbRow = (String, String, String, String, String);

fn kb_row(r: &Row<'_>) -> rusqlite::Result<KbRow> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

fn kb_from(row: KbRow) -> StoreResult<StoredKbEntry> {
    let (id, document, status, updated_at, updated_by) = row;
    Ok(StoredKbEntry {
        id,
        document: from_json(&document)?,
        status,
        updated_at: parse_time(&updated_at)?,
        updated_by,
    })
}

/// Replaces the out-of-scope questions (JSON text) and audits it, inside `tx`.
fn write_kb_out_of_scope(
    tx: &rusqlite::Transaction<'_>,
    questions: &str,
    by: &str,
    at: &str,
) -> StoreResult<()> {
    tx.execute(
        "UPDATE kb_revision SET out_of_scope = ?1 WHERE id = 1",
        [questions],
    )
    .map_err(unavailable)?;
    audit(
        tx,
        at,
        by,
        "kb.out_of_scope.saved",
        &kb_subject("out_of_scope"),
        &serde_json::json!({}),
    )
}

/// Inserts or replaces one knowledge-base entry and audits it, inside the caller's transaction.
fn write_kb_entry(
    tx: &rusqlite::Transaction<'_>,
    e: &StoredKbEntry,
    by: &str,
    at: &str,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO kb_entries (id, document, status, updated_at, updated_by) VALUES (?1, ?2, ?3, ?4, ?5) \
         ON CONFLICT (id) DO UPDATE SET document = excluded.document, status = excluded.status, \
         updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        params![e.id, e.document.to_string(), e.status, at, by],
    )
    .map_err(unavailable)?;
    audit(
        tx,
        at,
        by,
        "kb.entry.saved",
        &kb_subject(&e.id),
        &serde_json::json!({ "status": e.status }),
    )
}

/// Deletes one knowledge-base entry and audits it, inside the caller's transaction; false
/// when there was none.
fn remove_kb_entry(
    tx: &rusqlite::Transaction<'_>,
    id: &str,
    by: &str,
    at: &str,
) -> StoreResult<bool> {
    let deleted = tx
        .execute("DELETE FROM kb_entries WHERE id = ?1", [id])
        .map_err(unavailable)?;
    if deleted > 0 {
        audit(
            tx,
            at,
            by,
            "kb.entry.deleted",
            &kb_subject(id),
            &serde_json::json!({}),
        )?;
    }
    Ok(deleted > 0)
}

/// Inside a write transaction: `None` when entry `id` is still the version saved at
/// `expected`, otherwise what the conditional write must answer.
fn kb_precondition(
    tx: &rusqlite::Transaction<'_>,
    id: &str,
    expected: DateTime<Utc>,
) -> StoreResult<Option<KbWrite>> {
    let stored: Option<String> = tx
        .query_row(
            "SELECT updated_at FROM kb_entries WHERE id = ?1",
            [id],
            |r| r.get(0),
        )
        .optional()
        .map_err(unavailable)?;
    Ok(match stored {
        None => Some(KbWrite::Missing),
        Some(at) => {
            let at = parse_time(&at)?;
            (at != expected).then_some(KbWrite::Changed(at))
        }
    })
}

/// Moves the knowledge base's revision on, inside the caller's transaction.
fn bump_kb_revision(tx: &rusqlite::Transaction<'_>) -> StoreResult<i64> {
    tx.query_row(
        "UPDATE kb_revision SET revision = revision + 1 WHERE id = 1 RETURNING revision",
        [],
        |r| r.get(0),
    )
    .map_err(unavailable)
}

const TICKET_COLUMNS: &str =
    "id, customer_id, conversation_id, kind, subject, fields, status, source_key, created_at";

type TicketRow = (
    String,
    String,
    Option<String>,
    String,
    String,
    String,
    String,
    String,
    String,
);

fn ticket_row(r: &Row<'_>) -> rusqlite::Result<TicketRow> {
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
    ))
}

fn ticket_from(row: TicketRow) -> StoreResult<Ticket> {
    let (id, customer, conversation, kind, subject, fields, status, source_key, created_at) = row;
    Ok(Ticket {
        id,
        customer_id: CustomerId::from_trusted(customer),
        conversation_id: conversation.map(ConversationId::from_trusted),
        kind,
        subject,
        fields: from_json(&fields)?,
        status,
        source_key,
        created_at: parse_time(&created_at)?,
    })
}

const ASSIST_COLUMNS: &str =
    "id, conversation_id, message_id, agent_id, kind, reference, rank, score, shown_at, used_at";

type AssistRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    u32,
    f64,
    String,
    Option<String>,
);

fn assist_row(r: &Row<'_>) -> rusqlite::Result<AssistRow> {
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
    ))
}

fn assist_from(row: AssistRow) -> StoreResult<AssistRecord> {
    let (id, conversation, message, agent, kind, reference, rank, score, shown_at, used_at) = row;
    Ok(AssistRecord {
        id,
        conversation_id: ConversationId::from_trusted(conversation),
        message_id: MessageId::from_trusted(message),
        agent_id: AgentId::from_trusted(agent),
        kind,
        reference,
        rank,
        #[allow(clippy::cast_possible_truncation)]
        score: score as f32,
        shown_at: parse_time(&shown_at)?,
        used_at: opt_time(used_at)?,
    })
}

fn query_rows<R, T>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    row: fn(&Row<'_>) -> rusqlite::Result<R>,
    from: fn(R) -> StoreResult<T>,
) -> StoreResult<Vec<T>> {
    let mut stmt = conn.prepare_cached(sql).map_err(unavailable)?;
    let rows = stmt
        .query_map(params, row)
        .map_err(unavailable)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(unavailable)?;
    rows.into_iter().map(from).collect()
}

fn select_message_by_key(
    conn: &Connection,
    channel: &str,
    external_id: &str,
) -> StoreResult<Option<Message>> {
    let sql =
        format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE channel = ?1 AND external_id = ?2");
    conn.query_row(&sql, params![channel, external_id], message_row)
        .optional()
        .map_err(unavailable)?
        .map(message_from)
        .transpose()
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        self.with_conn(|c| {
            c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))
                .map(|_| ())
                .map_err(unavailable)
        })
        .await
    }

    async fn insert_customer(&self, customer: &Customer) -> StoreResult<()> {
        let c = customer.clone();
        let tags = json(&c.tags)?;
        self.with_conn(move |conn| {
            conn.execute(
                "INSERT INTO customers (id, display_name, tier, tags, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![c.id.as_str(), c.display_name, c.tier.as_str(), tags, format_time(&c.created_at)],
            )
            .map(|_| ())
            .map_err(|e| {
                if is_unique_violation(&e) {
                    StoreError::Conflict(format!("customer {} exists", c.id))
                } else {
                    unavailable(e)
                }
            })
        })
        .await
    }

    async fn customer(&self, id: &CustomerId) -> StoreResult<Option<Customer>> {
        let id = id.clone();
        self.with_conn(move |conn| {
            conn.query_row(
                "SELECT id, display_name, tier, tags, created_at FROM customers WHERE id = ?1",
                [id.as_str()],
                customer_row,
            )
            .optional()
            .map_err(unavailable)?
            .map(customer_from)
            .transpose()
        })
        .await
    }

    async fn link_identity(
        &self,
        channel: Channel,
        external_id: &str,
        customer: &CustomerId,
    ) -> StoreResult<CustomerId> {
        let external_id = external_id.to_owned();
        let customer = customer.clone();
        self.with_conn(move |conn| {
            conn.execute(
                "INSERT INTO identities (channel, external_id, customer_id, created_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (channel, external_id) DO NOTHING",
                params![channel.as_str(), external_id, customer.as_str(), format_time(&Utc::now())],
            )
            .map_err(unavailable)?;
            let owner: String = conn
                .query_row(
                    "SELECT customer_id FROM identities WHERE channel = ?1 AND external_id = ?2",
                    params![channel.as_str(), external_id],
                    |r| r.get(0),
                )
                .map_err(unavailable)?;
            Ok(CustomerId::from_trusted(owner))
        })
        .await
    }

    async fn find_identity(
        &self,
        channel: Channel,
        external_id: &str,
    ) -> StoreResult<Option<CustomerId>> {
        let external_id = external_id.to_owned();
        self.with_conn(move |conn| {
            conn.query_row(
                "SELECT customer_id FROM identities WHERE channel = ?1 AND external_id = ?2",
                params![channel.as_str(), external_id],
                |r| r.get::<_, String>(0),
            )
            .optional()
            .map(|o| o.map(CustomerId::from_trusted))
            .map_err(unavailable)
        })
        .await
    }

    async fn identities(&self, customer: &CustomerId) -> StoreResult<Vec<Identity>> {
        let customer = customer.clone();
        self.with_conn(move |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT channel, external_id, created_at FROM identities WHERE customer_id = ?1 ORDER BY created_at, channel",
                )
                .map_err(unavailable)?;
            let rows = stmt
                .query_map([customer.as_str()], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?))
                })
                .map_err(unavailable)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(unavailable)?;
            rows.into_iter()
                .map(|(channel, external_id, created_at)| {
                    Ok(Identity {
                        channel: Channel::parse(&channel).map_err(corrupt)?,
                        external_id,
                        customer_id: customer.clone(),
                        created_at: parse_time(&created_at)?,
                    })
                })
                .collect()
        })
        .await
    }

    async fn insert_conversation(&self, conversation: &Conversation) -> StoreResult<()> {
        let c = conversation.clone();
        let bot_state = json(&c.bot_state)?;
        self.with_conn(move |conn| {
            conn.execute(
                "INSERT INTO conversations (id, customer_id, status, last_channel, agent_id, bot_state, opened_at, closed_at, resolution) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    c.id.as_str(),
                    c.customer_id.as_str(),
                    c.status.as_str(),
                    c.last_channel.as_str(),
                    c.agent_id.as_ref().map(AgentId::as_str),
                    bot_state,
                    format_time(&c.opened_at),
                    c.closed_at.as_ref().map(format_time),
                    c.resolution.map(Resolution::as_str),
                ],
            )
            .map(|_| ())
            .map_err(|e| {
                if is_unique_violation(&e) {
                    StoreError::Conflict(format!("customer {} already has an open conversation", c.customer_id))
                } else {
                    unavailable(e)
                }
            })
        })
        .await
    }

    async fn update_conversation(&self, conversation: &Conversation) -> StoreResult<()> {
        let c = conversation.clone();
        let bot_state = json(&c.bot_state)?;
        self.with_conn(move |conn| {
            let changed = conn
                .execute(
                    "UPDATE conversations SET status = ?2, last_channel = ?3, agent_id = ?4, bot_state = ?5, closed_at = ?6, resolution = ?7 WHERE id = ?1",
                    params![
                        c.id.as_str(),
                        c.status.as_str(),
                        c.last_channel.as_str(),
                        c.agent_id.as_ref().map(AgentId::as_str),
                        bot_state,
                        c.closed_at.as_ref().map(format_time),
                        c.resolution.map(Resolution::as_str),
                    ],
                )
                .map_err(unavailable)?;
            if changed == 0 {
                return Err(StoreError::Conflict(format!("conversation {} does not exist", c.id)));
            }
            Ok(())
        })
        .await
    }

    async fn conversation(&self, id: &ConversationId) -> StoreResult<Option<Conversation>> {
        let id = id.clone();
        self.with_conn(move |conn| {
            let sql = format!("SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE id = ?1");
            conn.query_row(&sql, [id.as_str()], conversation_row)
                .optional()
                .map_err(unavailable)?
                .map(conversation_from)
                .transpose()
        })
        .await
    }

    async fn open_conversation(&self, customer: &CustomerId) -> StoreResult<Option<Conversation>> {
        let customer = customer.clone();
        self.with_conn(move |conn| {
            let sql = format!(
                "SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE customer_id = ?1 AND status <> 'closed' ORDER BY opened_at DESC LIMIT 1"
            );
            conn.query_row(&sql, [customer.as_str()], conversation_row)
                .optional()
                .map_err(unavailable)?
                .map(conversation_from)
                .transpose()
        })
        .await
    }

    async fn agent_conversations(&self, agent: &AgentId) -> StoreResult<Vec<Conversation>> {
        let agent = agent.clone();
        self.with_conn(move |conn| {
            let sql = format!(
                "SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE agent_id = ?1 AND status = 'assigned' ORDER BY opened_at"
            );
            let mut stmt = conn.prepare_cached(&sql).map_err(unavailable)?;
            let rows = stmt
                .query_map([agent.as_str()], conversation_row)
                .map_err(unavailable)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(unavailable)?;
            rows.into_iter().map(conversation_from).collect()
        })
        .await
    }

    async fn insert_message(&self, message: &Message) -> StoreResult<Inserted<Message>> {
        let m = message.clone();
        self.with_conn(move |conn| match insert_message_row(conn, &m) {
            Ok(_) => Ok(Inserted::New(m)),
            Err(e) if is_unique_violation(&e) => {
                let Some(external_id) = m.external_id.as_deref() else {
                    return Err(StoreError::Conflict(format!("message id {} exists", m.id)));
                };
                select_message_by_key(conn, m.channel.as_str(), external_id)?
                    .map(Inserted::Duplicate)
                    .ok_or_else(|| StoreError::Conflict(format!("message id {} exists", m.id)))
            }
            Err(e) => Err(unavailable(e)),
        })
        .await
    }

    async fn commit_turn(&self, turn: Turn<'_>) -> StoreResult<TurnOutcome> {
        let turn = OwnedTurn::from(turn)?;
        self.with_conn(move |conn| {
            let tx = conn.transaction().map_err(unavailable)?;
            match write_turn(&tx, &turn)? {
                // Dropping the transaction rolls it back: nothing of the turn is written.
                Some(existing) => Ok(TurnOutcome::Duplicate(existing)),
                None => {
                    tx.commit().map_err(unavailable)?;
                    Ok(TurnOutcome::Committed)
                }
            }
        })
        .await
    }

    async fn message(&self, id: &MessageId) -> StoreResult<Option<Message>> {
        let id = id.clone();
        self.with_conn(move |conn| Ok(query_messages(conn, "id", id.as_str())?.into_iter().next()))
            .await
    }

    async fn find_message(
        &self,
        channel: Channel,
        external_id: &str,
    ) -> StoreResult<Option<Message>> {
        let external_id = external_id.to_owned();
        self.with_conn(move |conn| select_message_by_key(conn, channel.as_str(), &external_id))
            .await
    }

    async fn conversation_messages(&self, id: &ConversationId) -> StoreResult<Vec<Message>> {
        let id = id.clone();
        self.with_conn(move |conn| query_messages(conn, "conversation_id", id.as_str()))
            .await
    }

    async fn customer_messages(&self, id: &CustomerId) -> StoreResult<Vec<Message>> {
        let id = id.clone();
        self.with_conn(move |conn| query_messages(conn, "customer_id", id.as_str()))
            .await
    }

    async fn upsert_agent(&self, agent: &Agent) -> StoreResult<AgentId> {
        let a = agent.clone();
        let skills = json(&a.skills)?;
        let languages = json(&a.languages)?;
        self.with_conn(move |conn| {
            conn.execute(
                "INSERT INTO agents (id, username, display_name, role, skills, languages, capacity, password_hash, voice_capacity, ticket_capacity) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                 ON CONFLICT (username) DO UPDATE SET display_name = excluded.display_name, role = excluded.role, skills = excluded.skills,
                   languages = excluded.languages, capacity = excluded.capacity,
                   voice_capacity = excluded.voice_capacity, ticket_capacity = excluded.ticket_capacity,
                   password_hash = CASE WHEN excluded.password_hash = '' THEN agents.password_hash ELSE excluded.password_hash END",
                params![a.id.as_str(), a.username, a.display_name, a.role.as_str(), skills, languages, a.capacity, a.password_hash, a.voice_capacity, a.ticket_capacity],
            )
            .map_err(unavailable)?;
            conn.query_row("SELECT id FROM agents WHERE username = ?1", [a.username.as_str()], |r| {
                r.get::<_, String>(0)
            })
            .map(AgentId::from_trusted)
            .map_err(unavailable)
        })
        .await
    }

    async fn agent(&self, id: &AgentId) -> StoreResult<Option<Agent>> {
        let id = id.clone();
        self.with_conn(move |conn| {
            let sql = format!("SELECT {AGENT_COLUMNS} FROM agents WHERE id = ?1");
            conn.query_row(&sql, [id.as_str()], agent_row)
                .optional()
                .map_err(unavailable)?
                .map(agent_from)
                .transpose()
        })
        .await
    }

    async fn agent_by_username(&self, username: &str) -> StoreResult<Option<Agent>> {
        let username = username.to_owned();
        self.with_conn(move |conn| {
            let sql = format!("SELECT {AGENT_COLUMNS} FROM agents WHERE username = ?1");
            conn.query_row(&sql, [username.as_str()], agent_row)
                .optional()
                .map_err(unavailable)?
                .map(agent_from)
                .transpose()
        })
        .await
    }

    async fn insert_token(
        &self,
        token_hash: &str,
        principal: &Principal,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let (kind, subject, role) = match principal {
            Principal::Customer(id) => ("customer", id.as_str().to_owned(), None),
            Principal::AppUser(id) => ("app_user", id.as_str().to_owned(), None),
            Principal::Staff { agent_id, role } => {
                ("staff", agent_id.as_str().to_owned(), Some(role.as_str()))
            }
        };
        let token_hash = token_hash.to_owned();
        self.with_conn(move |conn| {
            conn.execute(
                "INSERT INTO tokens (token_hash, kind, subject, role, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![token_hash, kind, subject, role, format_time(&expires_at)],
            )
            .map(|_| ())
            .map_err(unavailable)
        })
        .await
    }

    async fn token_principal(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Principal>> {
        let token_hash = token_hash.to_owned();
        self.with_conn(move |conn| {
            let row: Option<(String, String, Option<String>)> = conn
                .query_row(
                    "SELECT kind, subject, role FROM tokens WHERE token_hash = ?1 AND expires_at > ?2",
                    params![token_hash, format_time(&now)],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()
                .map_err(unavailable)?;
            row.map(|(kind, subject, role)| match (kind.as_str(), role) {
                ("customer", _) => Ok(Principal::Customer(CustomerId::from_trusted(subject))),
                ("app_user", _) => Ok(Principal::AppUser(CustomerId::from_trusted(subject))),
                ("staff", Some(role)) => Ok(Principal::Staff {
                    agent_id: AgentId::from_trusted(subject),
                    role: Role::parse(&role).map_err(corrupt)?,
                }),
                (other, _) => Err(corrupt(format!("token kind '{other}'"))),
            })
            .transpose()
        })
        .await
    }

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

    async fn outbox_item(&self, id: &str) -> StoreResult<Option<OutboxItem>> {
        let id = id.to_owned();
        self.with_conn(move |conn| select_outbox(conn, &id)).await
    }

    async fn claim_outbox(
        &self,
        id: &str,
        now: DateTime<Utc>,
        due_by: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<Option<OutboxItem>> {
        let id = id.to_owned();
        self.with_conn(move |conn| {
            let changed = conn
                .execute(
                    "UPDATE outbox SET status = 'sending', lease_until = ?4 WHERE id = ?1 AND ((status = 'pending' AND due_at <= ?3) OR (status = 'sending' AND lease_until < ?2))",
                    params![id, format_time(&now), format_time(&due_by), format_time(&lease_until)],
                )
                .map_err(unavailable)?;
            if changed == 0 {
                return Ok(None);
            }
            select_outbox(conn, &id)
        })
        .await
    }

    async fn settle_outbox(
        &self,
        id: &str,
        lease_until: DateTime<Utc>,
        settlement: &Settlement,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let id = id.to_owned();
        let settlement = settlement.clone();
        self.with_conn(move |conn| {
            let now = format_time(&now);
            let (status, error, due_at, settled_at, provider_ref) = match &settlement {
                Settlement::Delivered { provider_ref } => (
                    "delivered",
                    None,
                    now.clone(),
                    Some(now.clone()),
                    provider_ref.clone(),
                ),
                Settlement::Retry { error, due_at } => {
                    ("pending", Some(error.clone()), format_time(due_at), None, None)
                }
                Settlement::Park { error } => (
                    "parked",
                    Some(error.clone()),
                    now.clone(),
                    Some(now.clone()),
                    None,
                ),
            };
            let changed = conn
                .execute(
                    "UPDATE outbox SET status = ?2, attempts = attempts + 1, last_error = COALESCE(?3, last_error), due_at = ?4, lease_until = NULL, settled_at = ?5, provider_ref = COALESCE(?7, provider_ref) WHERE id = ?1 AND status = 'sending' AND lease_until = ?6",
                    params![id, status, error, due_at, settled_at, format_time(&lease_until), provider_ref],
                )
                .map_err(unavailable)?;
            Ok(changed == 1)
        })
        .await
    }

    async fn relay_outbox(
        &self,
        stale_before: DateTime<Utc>,
        now: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<OutboxItem>> {
        self.with_conn(move |conn| {
            let sql = format!(
                "UPDATE outbox SET attempts = attempts + CASE WHEN status = 'sending' THEN 1 ELSE 0 END, status = 'pending', due_at = ?2, lease_until = NULL WHERE id IN (SELECT id FROM outbox WHERE (status = 'pending' AND due_at < ?1) OR (status = 'sending' AND lease_until < ?1) ORDER BY due_at LIMIT ?3) RETURNING {OUTBOX_COLUMNS}"
            );
            let mut stmt = conn.prepare_cached(&sql).map_err(unavailable)?;
            let rows = stmt
                .query_map(
                    params![format_time(&stale_before), format_time(&now), limit],
                    outbox_row,
                )
                .map_err(unavailable)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(unavailable)?;
            rows.into_iter().map(outbox_from).collect()
        })
        .await
    }

    async fn merge_customers(
        &self,
        id: &str,
        into: &CustomerId,
        from: &CustomerId,
        by: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<CustomerMerge> {
        let (id, into, from, by) = (id.to_owned(), into.clone(), from.clone(), by.to_owned());
        self.with_conn(move |conn| {
            if into == from {
                return Err(StoreError::Conflict("a customer cannot be merged into itself".to_owned()));
            }
            let tx = conn.transaction().map_err(unavailable)?;
            let known: i64 = tx
                .query_row(
                    "SELECT COUNT(*) FROM customers WHERE id IN (?1, ?2)",
                    params![into.as_str(), from.as_str()],
                    |r| r.get(0),
                )
                .map_err(unavailable)?;
            if known != 2 {
                return Err(StoreError::Conflict("unknown customer".to_owned()));
            }
            let open: i64 = tx
                .query_row(
                    "SELECT COUNT(DISTINCT customer_id) FROM conversations WHERE customer_id IN (?1, ?2) AND status <> 'closed'",
                    params![into.as_str(), from.as_str()],
                    |r| r.get(0),
                )
                .map_err(unavailable)?;
            if open == 2 {
                return Err(StoreError::Conflict(
                    "both customers have an open conversation; close one first".to_owned(),
                ));
            }
            let ids = |sql: &str| -> StoreResult<Vec<String>> {
                let mut stmt = tx.prepare(sql).map_err(unavailable)?;
                let rows = stmt
                    .query_map([from.as_str()], |r| r.get::<_, String>(0))
                    .map_err(unavailable)?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(unavailable);
                rows
            };
            let moved = MergeMoved {
                identities: {
                    let mut stmt = tx
                        .prepare("SELECT channel, external_id FROM identities WHERE customer_id = ?1")
                        .map_err(unavailable)?;
                    let rows = stmt
                        .query_map([from.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))
                        .map_err(unavailable)?
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(unavailable)?;
                    rows
                },
                conversations: ids("SELECT id FROM conversations WHERE customer_id = ?1")?,
                messages: ids("SELECT id FROM messages WHERE customer_id = ?1")?,
                tasks: ids("SELECT id FROM tasks WHERE customer_id = ?1")?,
                tokens: ids("SELECT token_hash FROM tokens WHERE kind = 'customer' AND subject = ?1")?,
            };
            for sql in [
                "UPDATE identities SET customer_id = ?1 WHERE customer_id = ?2",
                "UPDATE conversations SET customer_id = ?1 WHERE customer_id = ?2",
                "UPDATE messages SET customer_id = ?1 WHERE customer_id = ?2",
                "UPDATE tasks SET customer_id = ?1 WHERE customer_id = ?2",
                "UPDATE tokens SET subject = ?1 WHERE kind = 'customer' AND subject = ?2",
            ] {
                tx.execute(sql, params![into.as_str(), from.as_str()])
                    .map_err(unavailable)?;
            }
            let at_text = format_time(&at);
            tx.execute(
                "INSERT INTO customer_merges (id, into_customer, from_customer, moved, merged_by, merged_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![id, into.as_str(), from.as_str(), json(&moved)?, by, at_text],
            )
            .map_err(unavailable)?;
            audit(
                &tx,
                &at_text,
                &by,
                "customer_merged",
                &format!("customer_{into}"),
                &serde_json::json!({"merge_id": id, "from": from, "into": into, "identities": moved.identities.len(), "conversations": moved.conversations.len(), "messages": moved.messages.len()}),
            )?;
            tx.commit().map_err(unavailable)?;
            Ok(CustomerMerge {
                id,
                into,
                from,
                moved,
                merged_by: by,
                merged_at: at,
                undone_by: None,
                undone_at: None,
            })
        })
        .await
    }

    async fn undo_merge(
        &self,
        id: &str,
        by: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<CustomerMerge>> {
        let (id, by) = (id.to_owned(), by.to_owned());
        self.with_conn(move |conn| {
            let tx = conn.transaction().map_err(unavailable)?;
            let row: Option<(String, String, String, String, String, Option<String>)> = tx
                .query_row(
                    "SELECT into_customer, from_customer, moved, merged_by, merged_at, undone_at FROM customer_merges WHERE id = ?1",
                    [id.as_str()],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
                )
                .optional()
                .map_err(unavailable)?;
            let Some((into, from, moved, merged_by, merged_at, undone_at)) = row else {
                return Ok(None);
            };
            if undone_at.is_some() {
                return Err(StoreError::Conflict("this merge was undone already".to_owned()));
            }
            let moved: MergeMoved = from_json(&moved)?;
            let back = |sql: &str, key: &str| -> StoreResult<()> {
                tx.execute(sql, params![from, key, into]).map_err(|e| {
                    if is_unique_violation(&e) {
                        StoreError::Conflict(
                            "the merged customer has an open conversation again; close it first".to_owned(),
                        )
                    } else {
                        unavailable(e)
                    }
                })?;
                Ok(())
            };
            for (channel, external_id) in &moved.identities {
                tx.execute(
                    "UPDATE identities SET customer_id = ?1 WHERE channel = ?2 AND external_id = ?3 AND customer_id = ?4",
                    params![from, channel, external_id, into],
                )
                .map_err(unavailable)?;
            }
            for c in &moved.conversations {
                back("UPDATE conversations SET customer_id = ?1 WHERE id = ?2 AND customer_id = ?3", c)?;
            }
            for m in &moved.messages {
                back("UPDATE messages SET customer_id = ?1 WHERE id = ?2 AND customer_id = ?3", m)?;
            }
            for t in &moved.tasks {
                back("UPDATE tasks SET customer_id = ?1 WHERE id = ?2 AND customer_id = ?3", t)?;
            }
            for t in &moved.tokens {
                back("UPDATE tokens SET subject = ?1 WHERE token_hash = ?2 AND subject = ?3", t)?;
            }
            let at_text = format_time(&at);
            tx.execute(
                "UPDATE customer_merges SET undone_by = ?2, undone_at = ?3 WHERE id = ?1",
                params![id, by, at_text],
            )
            .map_err(unavailable)?;
            audit(
                &tx,
                &at_text,
                &by,
                "customer_merge_undone",
                &format!("customer_{into}"),
                &serde_json::json!({"merge_id": id, "from": from, "into": into}),
            )?;
            tx.commit().map_err(unavailable)?;
            Ok(Some(CustomerMerge {
                id,
                into: CustomerId::from_trusted(into),
                from: CustomerId::from_trusted(from),
                moved,
                merged_by,
                merged_at: parse_time(&merged_at)?,
                undone_by: Some(by),
                undone_at: Some(at),
            }))
        })
        .await
    }

    async fn touch_presence(
        &self,
        connection: &str,
        customer: &CustomerId,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let (connection, customer) = (connection.to_owned(), customer.clone());
        self.with_conn(move |conn| {
            conn.execute(
                "INSERT INTO app_presence (connection_id, customer_id, seen_at) VALUES (?1, ?2, ?3) ON CONFLICT (connection_id) DO UPDATE SET seen_at = excluded.seen_at",
                params![connection, customer.as_str(), format_time(&at)],
            )
            .map(|_| ())
            .map_err(unavailable)
        })
        .await
    }

    async fn drop_presence(
        &self,
        connection: &str,
        stale_before: DateTime<Utc>,
    ) -> StoreResult<()> {
        let connection = connection.to_owned();
        self.with_conn(move |conn| {
            conn.execute(
                "DELETE FROM app_presence WHERE connection_id = ?1 OR seen_at < ?2",
                params![connection, format_time(&stale_before)],
            )
            .map(|_| ())
            .map_err(unavailable)
        })
        .await
    }

    async fn present_since(
        &self,
        customer: &CustomerId,
        since: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let customer = customer.clone();
        self.with_conn(move |conn| {
            conn.query_row(
                "SELECT 1 FROM app_presence WHERE customer_id = ?1 AND seen_at >= ?2 LIMIT 1",
                params![customer.as_str(), format_time(&since)],
                |r| r.get::<_, i64>(0),
            )
            .optional()
            .map(|found| found.is_some())
            .map_err(unavailable)
        })
        .await
    }

    async fn enqueue_outbox(&self, item: &OutboxItem) -> StoreResult<bool> {
        let item = item.clone();
        let payload = json(&item.payload)?;
        self.with_conn(move |conn| {
            conn.execute(
                "INSERT INTO outbox (id, channel, payload, status, attempts, due_at, created_at) VALUES (?1, ?2, ?3, 'pending', 0, ?4, ?5) ON CONFLICT (id) DO NOTHING",
                params![item.id, item.channel, payload, format_time(&item.due_at), format_time(&item.created_at)],
            )
            .map(|n| n == 1)
            .map_err(unavailable)
        })
        .await
    }

    async fn take_outbox(&self, id: &str, now: DateTime<Utc>) -> StoreResult<bool> {
        let id = id.to_owned();
        self.with_conn(move |conn| {
            let now = format_time(&now);
            conn.execute(
                "UPDATE outbox SET status = 'delivered', settled_at = ?2, lease_until = NULL WHERE id = ?1 AND status = 'pending' AND attempts = 0",
                params![id, now],
            )
            .map(|changed| changed == 1)
            .map_err(unavailable)
        })
        .await
    }

    async fn record_provider_status(
        &self,
        channel: &str,
        provider_ref: &str,
        status: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let (channel, provider_ref, status) = (
            channel.to_owned(),
            provider_ref.to_owned(),
            status.to_owned(),
        );
        let rank = super::provider_status_rank(&status);
        self.with_conn(move |conn| {
            // Callbacks can arrive out of order: an earlier status never overwrites a later one.
            conn.execute(
                &format!(
                    "UPDATE outbox SET provider_status = ?3, provider_status_at = ?4 WHERE channel = ?1 AND provider_ref = ?2 AND (provider_status IS NULL OR {} <= ?5)",
                    super::provider_status_rank_sql("provider_status")
                ),
                params![channel, provider_ref, status, format_time(&at), rank],
            )
            .map_err(unavailable)?;
            let known: Option<i64> = conn
                .query_row(
                    "SELECT 1 FROM outbox WHERE channel = ?1 AND provider_ref = ?2",
                    params![channel, provider_ref],
                    |r| r.get(0),
                )
                .optional()
                .map_err(unavailable)?;
            Ok(known.is_some())
        })
        .await
    }

    async fn customer_for_identity(
        &self,
        channel: Channel,
        external_id: &str,
        customer: &Customer,
    ) -> StoreResult<CustomerId> {
        let external_id = external_id.to_owned();
        let c = customer.clone();
        let tags = json(&c.tags)?;
        self.with_conn(move |conn| {
            let tx = conn.transaction().map_err(unavailable)?;
            let owner: Option<String> = tx
                .query_row(
                    "SELECT customer_id FROM identities WHERE channel = ?1 AND external_id = ?2",
                    params![channel.as_str(), external_id],
                    |r| r.get(0),
                )
                .optional()
                .map_err(unavailable)?;
            if let Some(owner) = owner {
                return Ok(CustomerId::from_trusted(owner));
            }
            let now = format_time(&Utc::now());
            tx.execute(
                "INSERT INTO customers (id, display_name, tier, tags, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![c.id.as_str(), c.display_name, c.tier.as_str(), tags, format_time(&c.created_at)],
            )
            .map_err(unavailable)?;
            tx.execute(
                "INSERT INTO identities (channel, external_id, customer_id, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![channel.as_str(), external_id, c.id.as_str(), now],
            )
            .map_err(unavailable)?;
            tx.commit().map_err(unavailable)?;
            Ok(c.id)
        })
        .await
    }

    async fn last_inbound_at(
        &self,
        customer: &CustomerId,
        channel: Channel,
    ) -> StoreResult<Option<DateTime<Utc>>> {
        let customer = customer.clone();
        self.with_conn(move |conn| {
            let at: Option<String> = conn
                .query_row(
                    "SELECT MAX(sent_at) FROM messages WHERE customer_id = ?1 AND channel = ?2 AND sender = 'customer'",
                    params![customer.as_str(), channel.as_str()],
                    |r| r.get(0),
                )
                .map_err(unavailable)?;
            at.as_deref().map(parse_time).transpose()
        })
        .await
    }

    async fn opt_out(
        &self,
        channel: Channel,
        external_id: &str,
        keyword: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let (external_id, keyword) = (external_id.to_owned(), keyword.to_owned());
        self.with_conn(move |conn| {
            conn.execute(
                "INSERT INTO opt_outs (channel, external_id, keyword, opted_out_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (channel, external_id) DO NOTHING",
                params![channel.as_str(), external_id, keyword, format_time(&at)],
            )
            .map(|_| ())
            .map_err(unavailable)
        })
        .await
    }

    async fn opt_in(&self, channel: Channel, external_id: &str) -> StoreResult<bool> {
        let external_id = external_id.to_owned();
        self.with_conn(move |conn| {
            conn.execute(
                "DELETE FROM opt_outs WHERE channel = ?1 AND external_id = ?2",
                params![channel.as_str(), external_id],
            )
            .map(|n| n > 0)
            .map_err(unavailable)
        })
        .await
    }

    async fn opted_out(&self, channel: Channel, external_id: &str) -> StoreResult<bool> {
        let external_id = external_id.to_owned();
        self.with_conn(move |conn| {
            conn.query_row(
                "SELECT 1 FROM opt_outs WHERE channel = ?1 AND external_id = ?2",
                params![channel.as_str(), external_id],
                |r| r.get::<_, i64>(0),
            )
            .optional()
            .map(|found| found.is_some())
            .map_err(unavailable)
        })
        .await
    }

    async fn purge_webhook_receipts(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let before = format_time(&before);
        self.with_conn(move |conn| {
            let purged = conn
                .execute(
                    "DELETE FROM webhook_receipts WHERE received_at < ?1",
                    [&before],
                )
                .map_err(unavailable)?;
            Ok(purged as u64)
        })
        .await
    }

    async fn webhook_receipt(
        &self,
        channel: &str,
        event_id: &str,
        request_hash: &str,
        response: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<(String, String)> {
        let (channel, event_id, request_hash, response) = (
            channel.to_owned(),
            event_id.to_owned(),
            request_hash.to_owned(),
            response.to_owned(),
        );
        self.with_conn(move |conn| {
            conn.execute(
                "INSERT INTO webhook_receipts (channel, event_id, request_hash, response, received_at) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (channel, event_id) DO NOTHING",
                params![channel, event_id, request_hash, response, format_time(&at)],
            )
            .map_err(unavailable)?;
            conn.query_row(
                "SELECT request_hash, response FROM webhook_receipts WHERE channel = ?1 AND event_id = ?2",
                params![channel, event_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(unavailable)
        })
        .await
    }

    async fn find_webhook_receipt(
        &self,
        channel: &str,
        event_id: &str,
    ) -> StoreResult<Option<(String, String)>> {
        let (channel, event_id) = (channel.to_owned(), event_id.to_owned());
        self.with_conn(move |conn| {
            conn.query_row(
                "SELECT request_hash, response FROM webhook_receipts WHERE channel = ?1 AND event_id = ?2",
                params![channel, event_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(unavailable)
        })
        .await
    }

    async fn outbox_counts(&self) -> StoreResult<Vec<(OutboxStatus, u64)>> {
        self.with_conn(|conn| {
            let mut stmt = conn
                .prepare_cached("SELECT status, COUNT(*) FROM outbox WHERE status IN ('pending', 'sending', 'parked') GROUP BY status")
                .map_err(unavailable)?;
            let rows = stmt
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
                .map_err(unavailable)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(unavailable)?;
            rows.into_iter()
                .map(|(status, n)| {
                    Ok((
                        OutboxStatus::parse(&status).map_err(corrupt)?,
                        u64::try_from(n).unwrap_or(0),
                    ))
                })
                .collect()
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

    async fn skill_names(&self) -> StoreResult<std::collections::BTreeSet<String>> {
        self.with_conn(|conn| {
            let mut stmt = conn
                .prepare_cached("SELECT skills FROM agents")
                .map_err(unavailable)?;
            let rows = stmt
                .query_map([], |r| r.get::<_, String>(0))
                .map_err(unavailable)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(unavailable)?;
            let mut names = std::collections::BTreeSet::new();
            for skills in rows {
                let skills: Vec<Skill> = from_json(&skills)?;
                names.extend(skills.into_iter().map(|s| s.name));
            }
            Ok(names)
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
            audit(
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
            audit(
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

    async fn audit_log(&self, subject_prefix: &str, limit: u32) -> StoreResult<Vec<AuditEntry>> {
        let pattern = format!(
            "{}%",
            subject_prefix.replace('%', "\\%").replace('_', "\\_")
        );
        self.with_conn(move |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT id, at, actor, action, subject, detail FROM audit_log WHERE subject LIKE ?1 ESCAPE '\\' ORDER BY id DESC LIMIT ?2",
                )
                .map_err(unavailable)?;
            let rows = stmt
                .query_map(params![pattern, limit], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, String>(5)?,
                    ))
                })
                .map_err(unavailable)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(unavailable)?;
            rows.into_iter()
                .map(|(id, at, actor, action, subject, detail)| {
                    Ok(AuditEntry {
                        id,
                        at: parse_time(&at)?,
                        actor,
                        action,
                        subject,
                        detail: from_json(&detail)?,
                    })
                })
                .collect()
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
            audit(
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
            audit(
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

    async fn kb_entries(&self) -> StoreResult<Vec<StoredKbEntry>> {
        self.with_conn(|conn| {
            query_rows(
                conn,
                &format!("SELECT {KB_COLUMNS} FROM kb_entries ORDER BY id"),
                [],
                kb_row,
                kb_from,
            )
        })
        .await
    }

    async fn kb_entry(&self, id: &str) -> StoreResult<Option<StoredKbEntry>> {
        let id = id.to_owned();
        self.with_conn(move |conn| {
            conn.query_row(
                &format!("SELECT {KB_COLUMNS} FROM kb_entries WHERE id = ?1"),
                [id],
                kb_row,
            )
            .optional()
            .map_err(unavailable)?
            .map(kb_from)
            .transpose()
        })
        .await
    }

    async fn save_kb_entries(
        &self,
        entries: &[StoredKbEntry],
        replace_all: bool,
        out_of_scope: Option<&[String]>,
        by: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<i64> {
        let (entries, by) = (entries.to_vec(), by.to_owned());
        let out_of_scope = out_of_scope.map(|q| json(&q)).transpose()?;
        self.with_conn(move |conn| {
            let tx = conn.transaction().map_err(unavailable)?;
            let at = format_time(&at);
            if replace_all {
                let keep: std::collections::BTreeSet<&str> =
                    entries.iter().map(|e| e.id.as_str()).collect();
                let existing: Vec<String> = {
                    let mut stmt = tx
                        .prepare("SELECT id FROM kb_entries")
                        .map_err(unavailable)?;
                    let ids = stmt
                        .query_map([], |r| r.get(0))
                        .map_err(unavailable)?
                        .collect::<Result<Vec<String>, _>>()
                        .map_err(unavailable)?;
                    ids
                };
                for id in existing.iter().filter(|id| !keep.contains(id.as_str())) {
                    tx.execute("DELETE FROM kb_entries WHERE id = ?1", [id])
                        .map_err(unavailable)?;
                    audit(
                        &tx,
                        &at,
                        &by,
                        "kb.entry.deleted",
                        &kb_subject(id),
                        &serde_json::json!({}),
                    )?;
                }
            }
            for e in &entries {
                write_kb_entry(&tx, e, &by, &at)?;
            }
            if let Some(questions) = &out_of_scope {
                write_kb_out_of_scope(&tx, questions, &by, &at)?;
            }
            let revision = bump_kb_revision(&tx)?;
            tx.commit().map_err(unavailable)?;
            Ok(revision)
        })
        .await
    }

    async fn save_kb_entry_if(
        &self,
        entry: &StoredKbEntry,
        expected: DateTime<Utc>,
        by: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<KbWrite> {
        let (e, by) = (entry.clone(), by.to_owned());
        self.with_conn(move |conn| {
            let tx = conn.transaction().map_err(unavailable)?;
            if let Some(outcome) = kb_precondition(&tx, &e.id, expected)? {
                return Ok(outcome);
            }
            write_kb_entry(&tx, &e, &by, &format_time(&at))?;
            let revision = bump_kb_revision(&tx)?;
            tx.commit().map_err(unavailable)?;
            Ok(KbWrite::Done(revision))
        })
        .await
    }

    async fn delete_kb_entry_if(
        &self,
        id: &str,
        expected: DateTime<Utc>,
        by: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<KbWrite> {
        let (id, by) = (id.to_owned(), by.to_owned());
        self.with_conn(move |conn| {
            let tx = conn.transaction().map_err(unavailable)?;
            if let Some(outcome) = kb_precondition(&tx, &id, expected)? {
                return Ok(outcome);
            }
            remove_kb_entry(&tx, &id, &by, &format_time(&at))?;
            let revision = bump_kb_revision(&tx)?;
            tx.commit().map_err(unavailable)?;
            Ok(KbWrite::Done(revision))
        })
        .await
    }

    async fn delete_kb_entry(
        &self,
        id: &str,
        by: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<i64>> {
        let (id, by) = (id.to_owned(), by.to_owned());
        self.with_conn(move |conn| {
            let tx = conn.transaction().map_err(unavailable)?;
            if !remove_kb_entry(&tx, &id, &by, &format_time(&at))? {
                return Ok(None);
            }
            let revision = bump_kb_revision(&tx)?;
            tx.commit().map_err(unavailable)?;
            Ok(Some(revision))
        })
        .await
    }

    async fn kb_revision(&self) -> StoreResult<i64> {
        self.with_conn(|conn| {
            conn.query_row("SELECT revision FROM kb_revision WHERE id = 1", [], |r| {
                r.get(0)
            })
            .map_err(unavailable)
        })
        .await
    }

    async fn kb_out_of_scope(&self) -> StoreResult<Vec<String>> {
        self.with_conn(|conn| {
            let text: String = conn
                .query_row(
                    "SELECT out_of_scope FROM kb_revision WHERE id = 1",
                    [],
                    |r| r.get(0),
                )
                .map_err(unavailable)?;
            from_json(&text)
        })
        .await
    }

    async fn set_kb_out_of_scope(
        &self,
        questions: &[String],
        by: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<i64> {
        let (questions, by) = (json(&questions)?, by.to_owned());
        self.with_conn(move |conn| {
            let tx = conn.transaction().map_err(unavailable)?;
            write_kb_out_of_scope(&tx, &questions, &by, &format_time(&at))?;
            let revision = bump_kb_revision(&tx)?;
            tx.commit().map_err(unavailable)?;
            Ok(revision)
        })
        .await
    }

    async fn open_ticket(&self, ticket: &Ticket) -> StoreResult<Inserted<Ticket>> {
        let t = ticket.clone();
        self.with_conn(move |conn| {
            let inserted = conn
                .execute(
                    "INSERT INTO tickets (id, customer_id, conversation_id, kind, subject, fields, status, source_key, created_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT (source_key) DO NOTHING",
                    params![
                        t.id,
                        t.customer_id.as_str(),
                        t.conversation_id.as_ref().map(ConversationId::as_str),
                        t.kind,
                        t.subject,
                        json(&t.fields)?,
                        t.status,
                        t.source_key,
                        format_time(&t.created_at),
                    ],
                )
                .map_err(unavailable)?;
            if inserted == 1 {
                return Ok(Inserted::New(t));
            }
            let existing = conn
                .query_row(
                    &format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE source_key = ?1"),
                    [&t.source_key],
                    ticket_row,
                )
                .map_err(unavailable)?;
            Ok(Inserted::Duplicate(ticket_from(existing)?))
        })
        .await
    }

    async fn customer_tickets(&self, customer: &CustomerId) -> StoreResult<Vec<Ticket>> {
        let customer = customer.as_str().to_owned();
        self.with_conn(move |conn| {
            query_rows(
                conn,
                &format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE customer_id = ?1 ORDER BY created_at, id"),
                [customer],
                ticket_row,
                ticket_from,
            )
        })
        .await
    }

    async fn record_assist(&self, shown: &[AssistRecord]) -> StoreResult<()> {
        let shown = shown.to_vec();
        self.with_conn(move |conn| {
            let tx = conn.transaction().map_err(unavailable)?;
            for s in &shown {
                tx.execute(
                    "INSERT INTO assist_suggestions (id, conversation_id, message_id, agent_id, kind, reference, rank, score, shown_at, used_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT (id) DO NOTHING",
                    params![
                        s.id,
                        s.conversation_id.as_str(),
                        s.message_id.as_str(),
                        s.agent_id.as_str(),
                        s.kind,
                        s.reference,
                        s.rank,
                        f64::from(s.score),
                        format_time(&s.shown_at),
                        s.used_at.as_ref().map(format_time),
                    ],
                )
                .map_err(unavailable)?;
            }
            tx.commit().map_err(unavailable)
        })
        .await
    }

    async fn use_assist(
        &self,
        id: &str,
        agent: &AgentId,
        conversation: &ConversationId,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let (id, agent) = (id.to_owned(), agent.as_str().to_owned());
        let conversation = conversation.as_str().to_owned();
        self.with_conn(move |conn| {
            let changed = conn
                .execute(
                    "UPDATE assist_suggestions SET used_at = ?3 WHERE id = ?1 AND agent_id = ?2 AND conversation_id = ?4 AND used_at IS NULL",
                    params![id, agent, format_time(&at), conversation],
                )
                .map_err(unavailable)?;
            Ok(changed == 1)
        })
        .await
    }

    async fn assist_records(
        &self,
        conversation: &ConversationId,
    ) -> StoreResult<Vec<AssistRecord>> {
        let conversation = conversation.as_str().to_owned();
        self.with_conn(move |conn| {
            query_rows(
                conn,
                &format!("SELECT {ASSIST_COLUMNS} FROM assist_suggestions WHERE conversation_id = ?1 ORDER BY shown_at, rank, id"),
                [conversation],
                assist_row,
                assist_from,
            )
        })
        .await
    }

    async fn resolved_samples(&self, limit: u32) -> StoreResult<Vec<ResolvedSample>> {
        self.with_conn(move |conn| {
            let closed: Vec<(String, String)> = {
                let mut stmt = conn
                    .prepare_cached(
                        "SELECT id, closed_at FROM conversations WHERE resolution = 'resolved' AND closed_at IS NOT NULL ORDER BY closed_at DESC, id LIMIT ?1",
                    )
                    .map_err(unavailable)?;
                let rows = stmt
                    .query_map([limit], |r| Ok((r.get(0)?, r.get(1)?)))
                    .map_err(unavailable)?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(unavailable)?;
                rows
            };
            // Every message of those conversations in one query, not one query each.
            let sql = format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id IN (SELECT id FROM conversations WHERE resolution = 'resolved' AND closed_at IS NOT NULL ORDER BY closed_at DESC, id LIMIT ?1) ORDER BY seq"
            );
            let mut by_conversation: std::collections::HashMap<String, Vec<Message>> =
                std::collections::HashMap::new();
            for message in query_rows(conn, &sql, [limit], message_row, message_from)? {
                by_conversation
                    .entry(message.conversation_id.as_str().to_owned())
                    .or_default()
                    .push(message);
            }
            closed
                .into_iter()
                .map(|(id, closed_at)| {
                    let said = by_conversation.remove(&id).unwrap_or_default();
                    Ok(resolved_sample(ConversationId::from_trusted(id), &said, parse_time(&closed_at)?))
                })
                .collect()
        })
        .await
    }
}
