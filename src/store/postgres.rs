//! The production store: PostgreSQL through a deadpool-postgres connection pool.
//!
//! Same logical schema and the same contract as the SQLite store (`conformance`). Versioned
//! migrations run at start under an advisory lock, so several nodes may start at once. Every
//! statement is prepared once per connection (`prepare_cached`); idempotent inserts use
//! `ON CONFLICT`; task assignment is a compare-and-set inside one transaction.

use std::str::FromStr;

use anyhow::{anyhow, Context};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use tokio_postgres::error::SqlState;
use tokio_postgres::{NoTls, Row};

use super::{
    format_time, override_subject, rule_set_subject, Activation, ActiveRuleSet, AuditEntry,
    CustomerMerge, Inserted, MergeMoved, OutboxItem, OutboxStatus, PresenceEvent, Principal,
    QueueExit, RecordedTask, Settlement, Store, StoreError, StoreResult, StoredOverride,
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
    (1, include_str!("sql/postgres/0001_init.sql")),
    (2, include_str!("sql/postgres/0002_outbox.sql")),
    (3, include_str!("sql/postgres/0003_routing_rules.sql")),
    (4, include_str!("sql/postgres/0004_task_routing.sql")),
    (5, include_str!("sql/postgres/0005_routing_ops.sql")),
    (
        6,
        include_str!("sql/postgres/0006_agent_media_capacity.sql"),
    ),
    (7, include_str!("sql/postgres/0007_channels.sql")),
    (8, include_str!("sql/postgres/0008_app_presence.sql")),
    (9, include_str!("sql/postgres/0009_bot.sql")),
];

/// Arbitrary constant identifying Switchboard's migration lock.
const MIGRATION_LOCK: i64 = 0x5357_4954_4348; // "SWITCH"

/// PostgreSQL-backed [`Store`].
#[derive(Clone)]
pub struct PostgresStore {
    pool: Pool,
}

impl PostgresStore {
    /// Connects a pool of `max_size` connections and applies pending migrations.
    pub async fn connect(url: &str, max_size: usize) -> anyhow::Result<Self> {
        let config = tokio_postgres::Config::from_str(url).context("parsing the PostgreSQL URL")?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(max_size)
            .build()
            .context("building the connection pool")?;
        let store = Self { pool };
        store
            .migrate()
            .await
            .context("applying PostgreSQL migrations")?;
        Ok(store)
    }

    async fn client(&self) -> StoreResult<Object> {
        self.pool
            .get()
            .await
            .map_err(|e| StoreError::Unavailable(anyhow!("PostgreSQL pool: {e}")))
    }

    async fn migrate(&self) -> anyhow::Result<()> {
        let mut client = self.pool.get().await.map_err(|e| anyhow!("{e}"))?;
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)",
        )
        .await?;
        for (version, sql) in MIGRATIONS {
            let applied = tx
                .query_opt(
                    "SELECT version FROM schema_migrations WHERE version = $1",
                    &[version],
                )
                .await?;
            if applied.is_none() {
                tx.batch_execute(sql)
                    .await
                    .with_context(|| format!("migration {version}"))?;
                tx.execute(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, now())",
                    &[version],
                )
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }
}

fn db(e: tokio_postgres::Error) -> StoreError {
    if e.code() == Some(&SqlState::UNIQUE_VIOLATION) {
        StoreError::Conflict(e.to_string())
    } else {
        StoreError::Unavailable(anyhow::Error::new(e))
    }
}

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

fn get<'a, T: tokio_postgres::types::FromSql<'a>>(row: &'a Row, column: &str) -> StoreResult<T> {
    row.try_get(column)
        .map_err(|e| corrupt(format!("column {column}: {e}")))
}

fn json<T: serde::Serialize>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| corrupt(format!("encoding JSON: {e}")))
}

fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> StoreResult<T> {
    serde_json::from_str(text).map_err(|e| corrupt(format!("decoding JSON '{text}': {e}")))
}

fn customer_from(row: &Row) -> StoreResult<Customer> {
    Ok(Customer {
        id: CustomerId::from_trusted(get::<String>(row, "id")?),
        display_name: get(row, "display_name")?,
        tier: Tier::parse(&get::<String>(row, "tier")?).map_err(corrupt)?,
        tags: from_json(&get::<String>(row, "tags")?)?,
        created_at: get(row, "created_at")?,
    })
}

const CONVERSATION_COLUMNS: &str =
    "id, customer_id, status, last_channel, agent_id, bot_state, opened_at, closed_at, resolution";

fn conversation_from(row: &Row) -> StoreResult<Conversation> {
    Ok(Conversation {
        id: ConversationId::from_trusted(get::<String>(row, "id")?),
        customer_id: CustomerId::from_trusted(get::<String>(row, "customer_id")?),
        status: ConversationStatus::parse(&get::<String>(row, "status")?).map_err(corrupt)?,
        last_channel: Channel::parse(&get::<String>(row, "last_channel")?).map_err(corrupt)?,
        agent_id: get::<Option<String>>(row, "agent_id")?.map(AgentId::from_trusted),
        bot_state: from_json(&get::<String>(row, "bot_state")?)?,
        opened_at: get(row, "opened_at")?,
        closed_at: get(row, "closed_at")?,
        resolution: get::<Option<String>>(row, "resolution")?
            .as_deref()
            .map(Resolution::parse)
            .transpose()
            .map_err(corrupt)?,
    })
}

const MESSAGE_COLUMNS: &str =
    "id, conversation_id, customer_id, channel, sender, body, client_id, external_id, agent_id, sent_at";

fn message_from(row: &Row) -> StoreResult<Message> {
    Ok(Message {
        id: MessageId::from_trusted(get::<String>(row, "id")?),
        conversation_id: ConversationId::from_trusted(get::<String>(row, "conversation_id")?),
        customer_id: CustomerId::from_trusted(get::<String>(row, "customer_id")?),
        channel: Channel::parse(&get::<String>(row, "channel")?).map_err(corrupt)?,
        from: Sender::parse(&get::<String>(row, "sender")?).map_err(corrupt)?,
        text: get(row, "body")?,
        client_id: get(row, "client_id")?,
        external_id: get(row, "external_id")?,
        agent_id: get::<Option<String>>(row, "agent_id")?.map(AgentId::from_trusted),
        sent_at: get(row, "sent_at")?,
    })
}

const AGENT_COLUMNS: &str = "id, username, display_name, role, skills, languages, capacity, password_hash, voice_capacity, ticket_capacity";

fn agent_from(row: &Row) -> StoreResult<Agent> {
    let skills: Vec<Skill> = from_json(&get::<String>(row, "skills")?)?;
    let languages: Vec<Language> = from_json(&get::<String>(row, "languages")?)?;
    Ok(Agent {
        id: AgentId::from_trusted(get::<String>(row, "id")?),
        username: get(row, "username")?,
        display_name: get(row, "display_name")?,
        role: Role::parse(&get::<String>(row, "role")?).map_err(corrupt)?,
        skills,
        languages,
        capacity: u32::try_from(get::<i32>(row, "capacity")?).map_err(corrupt)?,
        voice_capacity: get::<Option<i32>>(row, "voice_capacity")?
            .map(u32::try_from)
            .transpose()
            .map_err(corrupt)?,
        ticket_capacity: get::<Option<i32>>(row, "ticket_capacity")?
            .map(u32::try_from)
            .transpose()
            .map_err(corrupt)?,
        password_hash: get(row, "password_hash")?,
    })
}

const TASK_COLUMNS: &str = "id, conversation_id, customer_id, channel, language, required_skills, priority, intent, summary, status, agent_id, created_at, assigned_at, preferred_agent, context";

fn task_from(row: &Row) -> StoreResult<Task> {
    let required_skills: Vec<SkillRequirement> =
        from_json(&get::<String>(row, "required_skills")?)?;
    Ok(Task {
        id: TaskId::from_trusted(get::<String>(row, "id")?),
        conversation_id: ConversationId::from_trusted(get::<String>(row, "conversation_id")?),
        customer_id: CustomerId::from_trusted(get::<String>(row, "customer_id")?),
        channel: Channel::parse(&get::<String>(row, "channel")?).map_err(corrupt)?,
        language: Language::parse(&get::<String>(row, "language")?).map_err(corrupt)?,
        required_skills,
        priority: Priority(get(row, "priority")?),
        intent: get(row, "intent")?,
        summary: get(row, "summary")?,
        status: TaskStatus::parse(&get::<String>(row, "status")?).map_err(corrupt)?,
        agent_id: get::<Option<String>>(row, "agent_id")?.map(AgentId::from_trusted),
        created_at: get(row, "created_at")?,
        assigned_at: get(row, "assigned_at")?,
        preferred_agent: get::<Option<String>>(row, "preferred_agent")?.map(AgentId::from_trusted),
        context: get::<Option<String>>(row, "context")?
            .as_deref()
            .map(from_json)
            .transpose()?,
    })
}

/// A task row ([`TASK_COLUMNS`]) with queue, finished_at, fallback and the customer's tier and
/// tags.
fn recorded_task_from(row: &Row) -> StoreResult<RecordedTask> {
    Ok(RecordedTask {
        task: task_from(row)?,
        tier: Tier::parse(&get::<String>(row, "tier")?).map_err(corrupt)?,
        tags: from_json(&get::<String>(row, "tags")?)?,
        queue: get(row, "queue")?,
        finished_at: get(row, "finished_at")?,
        fallback: get(row, "fallback")?,
    })
}

/// Parses a stored presence status (its wire name).
fn agent_status(s: &str) -> StoreResult<AgentStatus> {
    serde_json::from_value(serde_json::Value::String(s.to_owned()))
        .map_err(|e| corrupt(format!("agent status '{s}': {e}")))
}

const OVERRIDE_COLUMNS: &str =
    "id, rule, target, reason, created_by, created_at, expires_at, ended_at";

fn override_from(row: &Row) -> StoreResult<StoredOverride> {
    Ok(StoredOverride {
        id: get(row, "id")?,
        rule: get(row, "rule")?,
        target: from_json(&get::<String>(row, "target")?)?,
        reason: get(row, "reason")?,
        created_by: get(row, "created_by")?,
        created_at: get(row, "created_at")?,
        expires_at: get(row, "expires_at")?,
        ended_at: get(row, "ended_at")?,
    })
}

const OUTBOX_COLUMNS: &str =
    "id, channel, payload, status, attempts, due_at, last_error, created_at, provider_ref, provider_status";

fn outbox_from(row: &Row) -> StoreResult<OutboxItem> {
    Ok(OutboxItem {
        id: get(row, "id")?,
        channel: get(row, "channel")?,
        payload: from_json(&get::<String>(row, "payload")?)?,
        status: OutboxStatus::parse(&get::<String>(row, "status")?).map_err(corrupt)?,
        attempts: u32::try_from(get::<i32>(row, "attempts")?).map_err(corrupt)?,
        due_at: get(row, "due_at")?,
        last_error: get(row, "last_error")?,
        created_at: get(row, "created_at")?,
        provider_ref: get(row, "provider_ref")?,
        provider_status: get(row, "provider_status")?,
    })
}

fn rule_set_from(row: &Row) -> StoreResult<StoredRuleSet> {
    Ok(StoredRuleSet {
        version: get(row, "version")?,
        document: from_json(&get::<String>(row, "document")?)?,
        created_by: get(row, "created_by")?,
        created_at: get(row, "created_at")?,
    })
}

/// Appends to the audit log inside the caller's transaction.
async fn audit(
    tx: &deadpool_postgres::Transaction<'_>,
    at: &DateTime<Utc>,
    actor: &str,
    action: &str,
    subject: &str,
    detail: &serde_json::Value,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO audit_log (at, actor, action, subject, detail) VALUES ($1, $2, $3, $4, $5)",
        &[at, &actor, &action, &subject, &detail.to_string()],
    )
    .await
    .map_err(db)?;
    Ok(())
}

const KB_COLUMNS: &str = "id, document, status, updated_at, updated_by";

fn kb_from(row: &Row) -> StoreResult<StoredKbEntry> {
    Ok(StoredKbEntry {
        id: get(row, "id")?,
        document: from_json(&get::<String>(row, "document")?)?,
        status: get(row, "status")?,
        updated_at: get(row, "updated_at")?,
        updated_by: get(row, "updated_by")?,
    })
}

/// Replaces the out-of-scope questions and audits it, inside `tx`.
async fn write_kb_out_of_scope(
    tx: &deadpool_postgres::Transaction<'_>,
    questions: &[String],
    by: &str,
    at: &DateTime<Utc>,
) -> StoreResult<()> {
    tx.execute(
        "UPDATE kb_revision SET out_of_scope = $1 WHERE id = 1",
        &[&json(&questions)?],
    )
    .await
    .map_err(db)?;
    audit(
        tx,
        at,
        by,
        "kb.out_of_scope.saved",
        &kb_subject("out_of_scope"),
        &serde_json::json!({}),
    )
    .await
}

/// Inserts or replaces one knowledge-base entry and audits it, inside the caller's transaction.
async fn write_kb_entry(
    tx: &deadpool_postgres::Transaction<'_>,
    e: &StoredKbEntry,
    by: &str,
    at: &DateTime<Utc>,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO kb_entries (id, document, status, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (id) DO UPDATE SET document = excluded.document, status = excluded.status, \
         updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        &[&e.id, &e.document.to_string(), &e.status, at, &by],
    )
    .await
    .map_err(db)?;
    audit(
        tx,
        at,
        by,
        "kb.entry.saved",
        &kb_subject(&e.id),
        &serde_json::json!({ "status": e.status }),
    )
    .await
}

/// Deletes one knowledge-base entry and audits it, inside the caller's transaction; false
/// when there was none.
async fn remove_kb_entry(
    tx: &deadpool_postgres::Transaction<'_>,
    id: &str,
    by: &str,
    at: &DateTime<Utc>,
) -> StoreResult<bool> {
    let deleted = tx
        .execute("DELETE FROM kb_entries WHERE id = $1", &[&id])
        .await
        .map_err(db)?;
    if deleted > 0 {
        audit(
            tx,
            at,
            by,
            "kb.entry.deleted",
            &kb_subject(id),
            &serde_json::json!({}),
        )
        .await?;
    }
    Ok(deleted > 0)
}

/// Inside a write transaction: locks the knowledge base (its revision row, as every writer
/// does) and entry `id`; `None` when the entry is still the version saved at `expected`,
/// otherwise what the conditional write must answer.
async fn kb_precondition(
    tx: &deadpool_postgres::Transaction<'_>,
    id: &str,
    expected: DateTime<Utc>,
) -> StoreResult<Option<KbWrite>> {
    tx.execute(
        "SELECT revision FROM kb_revision WHERE id = 1 FOR UPDATE",
        &[],
    )
    .await
    .map_err(db)?;
    let row = tx
        .query_opt(
            "SELECT updated_at FROM kb_entries WHERE id = $1 FOR UPDATE",
            &[&id],
        )
        .await
        .map_err(db)?;
    Ok(match row {
        None => Some(KbWrite::Missing),
        Some(row) => {
            let at: DateTime<Utc> = get(&row, "updated_at")?;
            (at != expected).then_some(KbWrite::Changed(at))
        }
    })
}

/// Moves the knowledge base's revision on, inside the caller's transaction.
async fn bump_kb_revision(tx: &deadpool_postgres::Transaction<'_>) -> StoreResult<i64> {
    let row = tx
        .query_one(
            "UPDATE kb_revision SET revision = revision + 1 WHERE id = 1 RETURNING revision",
            &[],
        )
        .await
        .map_err(db)?;
    get(&row, "revision")
}

const TICKET_COLUMNS: &str =
    "id, customer_id, conversation_id, kind, subject, fields, status, source_key, created_at";

fn ticket_from(row: &Row) -> StoreResult<Ticket> {
    Ok(Ticket {
        id: get(row, "id")?,
        customer_id: CustomerId::from_trusted(get::<String>(row, "customer_id")?),
        conversation_id: get::<Option<String>>(row, "conversation_id")?
            .map(ConversationId::from_trusted),
        kind: get(row, "kind")?,
        subject: get(row, "subject")?,
        fields: from_json(&get::<String>(row, "fields")?)?,
        status: get(row, "status")?,
        source_key: get(row, "source_key")?,
        created_at: get(row, "created_at")?,
    })
}

const ASSIST_COLUMNS: &str =
    "id, conversation_id, message_id, agent_id, kind, reference, rank, score, shown_at, used_at";

fn assist_from(row: &Row) -> StoreResult<AssistRecord> {
    Ok(AssistRecord {
        id: get(row, "id")?,
        conversation_id: ConversationId::from_trusted(get::<String>(row, "conversation_id")?),
        message_id: MessageId::from_trusted(get::<String>(row, "message_id")?),
        agent_id: AgentId::from_trusted(get::<String>(row, "agent_id")?),
        kind: get(row, "kind")?,
        reference: get(row, "reference")?,
        rank: u32::try_from(get::<i32>(row, "rank")?).unwrap_or(0),
        score: get(row, "score")?,
        shown_at: get(row, "shown_at")?,
        used_at: get(row, "used_at")?,
    })
}

const INSERT_TASK: &str = "INSERT INTO tasks (id, conversation_id, customer_id, channel, language, required_skills, priority, intent, summary, status, agent_id, created_at, assigned_at, preferred_agent, context) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) ON CONFLICT (conversation_id) WHERE status IN ('waiting', 'assigned') DO NOTHING";

/// Inserts one task with [`INSERT_TASK`]; 0 rows means the conversation has an open task.
async fn insert_task_row(
    client: &impl deadpool_postgres::GenericClient,
    t: &Task,
) -> StoreResult<u64> {
    let stmt = client.prepare_cached(INSERT_TASK).await.map_err(db)?;
    let context = t.context.as_ref().map(json).transpose()?;
    client
        .execute(
            &stmt,
            &[
                &t.id.as_str(),
                &t.conversation_id.as_str(),
                &t.customer_id.as_str(),
                &t.channel.as_str(),
                &t.language.as_str(),
                &json(&t.required_skills)?,
                &t.priority.0,
                &t.intent,
                &t.summary,
                &t.status.as_str(),
                &t.agent_id.as_ref().map(AgentId::as_str),
                &t.created_at,
                &t.assigned_at,
                &t.preferred_agent.as_ref().map(AgentId::as_str),
                &context,
            ],
        )
        .await
        .map_err(db)
}

const INSERT_MESSAGE: &str = "INSERT INTO messages (id, conversation_id, customer_id, channel, sender, body, client_id, external_id, agent_id, sent_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (channel, external_id) DO NOTHING";

/// Inserts one message with [`INSERT_MESSAGE`]; 0 rows means `(channel, external_id)` exists.
async fn insert_message_row(
    client: &impl deadpool_postgres::GenericClient,
    m: &Message,
) -> StoreResult<u64> {
    let stmt = client.prepare_cached(INSERT_MESSAGE).await.map_err(db)?;
    client
        .execute(
            &stmt,
            &[
                &m.id.as_str(),
                &m.conversation_id.as_str(),
                &m.customer_id.as_str(),
                &m.channel.as_str(),
                &m.from.as_str(),
                &m.text,
                &m.client_id,
                &m.external_id,
                &m.agent_id.as_ref().map(AgentId::as_str),
                &m.sent_at,
            ],
        )
        .await
        .map_err(db)
}

impl PostgresStore {
    async fn query_one_opt<T>(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
        map: fn(&Row) -> StoreResult<T>,
    ) -> StoreResult<Option<T>> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(sql).await.map_err(db)?;
        client
            .query_opt(&stmt, params)
            .await
            .map_err(db)?
            .as_ref()
            .map(map)
            .transpose()
    }

    async fn query_all<T>(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
        map: fn(&Row) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(sql).await.map_err(db)?;
        client
            .query(&stmt, params)
            .await
            .map_err(db)?
            .iter()
            .map(map)
            .collect()
    }

    async fn execute(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> StoreResult<u64> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(sql).await.map_err(db)?;
        client.execute(&stmt, params).await.map_err(db)
    }
}

#[async_trait]
impl Store for PostgresStore {
    async fn ping(&self) -> StoreResult<()> {
        let client = self.client().await?;
        client.simple_query("SELECT 1").await.map_err(db)?;
        Ok(())
    }

    async fn insert_customer(&self, c: &Customer) -> StoreResult<()> {
        self.execute(
            "INSERT INTO customers (id, display_name, tier, tags, created_at) VALUES ($1, $2, $3, $4, $5)",
            &[&c.id.as_str(), &c.display_name, &c.tier.as_str(), &json(&c.tags)?, &c.created_at],
        )
        .await
        .map(|_| ())
    }

    async fn customer(&self, id: &CustomerId) -> StoreResult<Option<Customer>> {
        self.query_one_opt(
            "SELECT id, display_name, tier, tags, created_at FROM customers WHERE id = $1",
            &[&id.as_str()],
            customer_from,
        )
        .await
    }

    async fn link_identity(
        &self,
        channel: Channel,
        external_id: &str,
        customer: &CustomerId,
    ) -> StoreResult<CustomerId> {
        let client = self.client().await?;
        let insert = client
            .prepare_cached("INSERT INTO identities (channel, external_id, customer_id, created_at) VALUES ($1, $2, $3, now()) ON CONFLICT (channel, external_id) DO NOTHING")
            .await
            .map_err(db)?;
        client
            .execute(
                &insert,
                &[&channel.as_str(), &external_id, &customer.as_str()],
            )
            .await
            .map_err(db)?;
        let select = client
            .prepare_cached(
                "SELECT customer_id FROM identities WHERE channel = $1 AND external_id = $2",
            )
            .await
            .map_err(db)?;
        let row = client
            .query_one(&select, &[&channel.as_str(), &external_id])
            .await
            .map_err(db)?;
        Ok(CustomerId::from_trusted(get::<String>(
            &row,
            "customer_id",
        )?))
    }

    async fn find_identity(
        &self,
        channel: Channel,
        external_id: &str,
    ) -> StoreResult<Option<CustomerId>> {
        self.query_one_opt(
            "SELECT customer_id FROM identities WHERE channel = $1 AND external_id = $2",
            &[&channel.as_str(), &external_id],
            |row| Ok(CustomerId::from_trusted(get::<String>(row, "customer_id")?)),
        )
        .await
    }

    async fn identities(&self, customer: &CustomerId) -> StoreResult<Vec<Identity>> {
        self.query_all(
            "SELECT channel, external_id, customer_id, created_at FROM identities WHERE customer_id = $1 ORDER BY created_at, channel",
            &[&customer.as_str()],
            |row| {
                Ok(Identity {
                    channel: Channel::parse(&get::<String>(row, "channel")?).map_err(corrupt)?,
                    external_id: get(row, "external_id")?,
                    customer_id: CustomerId::from_trusted(get::<String>(row, "customer_id")?),
                    created_at: get(row, "created_at")?,
                })
            },
        )
        .await
    }

    async fn insert_conversation(&self, c: &Conversation) -> StoreResult<()> {
        self.execute(
            "INSERT INTO conversations (id, customer_id, status, last_channel, agent_id, bot_state, opened_at, closed_at, resolution) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            &[
                &c.id.as_str(),
                &c.customer_id.as_str(),
                &c.status.as_str(),
                &c.last_channel.as_str(),
                &c.agent_id.as_ref().map(AgentId::as_str),
                &json(&c.bot_state)?,
                &c.opened_at,
                &c.closed_at,
                &c.resolution.map(Resolution::as_str),
            ],
        )
        .await
        .map(|_| ())
    }

    async fn update_conversation(&self, c: &Conversation) -> StoreResult<()> {
        let changed = self
            .execute(
                "UPDATE conversations SET status = $2, last_channel = $3, agent_id = $4, bot_state = $5, closed_at = $6, resolution = $7 WHERE id = $1",
                &[
                    &c.id.as_str(),
                    &c.status.as_str(),
                    &c.last_channel.as_str(),
                    &c.agent_id.as_ref().map(AgentId::as_str),
                    &json(&c.bot_state)?,
                    &c.closed_at,
                    &c.resolution.map(Resolution::as_str),
                ],
            )
            .await?;
        if changed == 0 {
            return Err(StoreError::Conflict(format!(
                "conversation {} does not exist",
                c.id
            )));
        }
        Ok(())
    }

    async fn conversation(&self, id: &ConversationId) -> StoreResult<Option<Conversation>> {
        let sql = format!("SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE id = $1");
        self.query_one_opt(&sql, &[&id.as_str()], conversation_from)
            .await
    }

    async fn open_conversation(&self, customer: &CustomerId) -> StoreResult<Option<Conversation>> {
        let sql = format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE customer_id = $1 AND status <> 'closed' ORDER BY opened_at DESC LIMIT 1"
        );
        self.query_one_opt(&sql, &[&customer.as_str()], conversation_from)
            .await
    }

    async fn agent_conversations(&self, agent: &AgentId) -> StoreResult<Vec<Conversation>> {
        let sql = format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE agent_id = $1 AND status = 'assigned' ORDER BY opened_at"
        );
        self.query_all(&sql, &[&agent.as_str()], conversation_from)
            .await
    }

    async fn insert_message(&self, m: &Message) -> StoreResult<Inserted<Message>> {
        // Scoped: the duplicate look-up below takes its own connection, and holding two per
        // call could exhaust the pool under concurrent duplicates.
        let inserted = {
            let client = self.client().await?;
            insert_message_row(&client, m).await?
        };
        if inserted == 1 {
            return Ok(Inserted::New(m.clone()));
        }
        let Some(external_id) = m.external_id.as_deref() else {
            return Err(StoreError::Conflict(format!("message id {} exists", m.id)));
        };
        self.find_message(m.channel, external_id)
            .await?
            .map(Inserted::Duplicate)
            .ok_or_else(|| StoreError::Conflict(format!("message id {} exists", m.id)))
    }

    async fn commit_turn(&self, turn: Turn<'_>) -> StoreResult<TurnOutcome> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db)?;
        if let Some(m) = turn.inbound {
            if insert_message_row(&tx, m).await? == 0 {
                // The conflicting row is committed, so this transaction sees it; dropping the
                // transaction afterwards rolls it back: nothing of the turn is written.
                let existing = match m.external_id.as_deref() {
                    Some(external_id) => {
                        let sql = format!(
                            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE channel = $1 AND external_id = $2"
                        );
                        let stmt = tx.prepare_cached(&sql).await.map_err(db)?;
                        tx.query_opt(&stmt, &[&m.channel.as_str(), &external_id])
                            .await
                            .map_err(db)?
                            .as_ref()
                            .map(message_from)
                            .transpose()?
                    }
                    None => None,
                };
                return existing
                    .map(TurnOutcome::Duplicate)
                    .ok_or_else(|| StoreError::Conflict(format!("message id {} exists", m.id)));
            }
        }
        for m in turn.replies {
            if insert_message_row(&tx, m).await? == 0 {
                return Err(StoreError::Conflict(format!("message {} exists", m.id)));
            }
        }
        if let Some(c) = turn.conversation {
            let stmt = tx
                .prepare_cached(
                    "UPDATE conversations SET last_channel = $2, bot_state = $3 WHERE id = $1",
                )
                .await
                .map_err(db)?;
            let changed = tx
                .execute(
                    &stmt,
                    &[
                        &c.id.as_str(),
                        &c.last_channel.as_str(),
                        &json(&c.bot_state)?,
                    ],
                )
                .await
                .map_err(db)?;
            if changed == 0 {
                return Err(StoreError::Conflict(format!(
                    "conversation {} does not exist",
                    c.id
                )));
            }
        }
        if let Some(t) = turn.handoff {
            // The conversation must still be with the bot and have no open task; otherwise
            // this session's view is stale: refuse the whole turn (the session reloads, the
            // client retries).
            let stmt = tx
                .prepare_cached(
                    "UPDATE conversations SET status = 'queued' WHERE id = $1 AND status = 'bot'",
                )
                .await
                .map_err(db)?;
            if tx
                .execute(&stmt, &[&t.conversation_id.as_str()])
                .await
                .map_err(db)?
                == 0
            {
                return Err(StoreError::Conflict(format!(
                    "conversation {} is not with the bot any more",
                    t.conversation_id
                )));
            }
            let inserted = insert_task_row(&tx, t).await?;
            if inserted == 0 {
                return Err(StoreError::Conflict(format!(
                    "conversation {} already has an open task",
                    t.conversation_id
                )));
            }
        }
        if !turn.outbox.is_empty() {
            let stmt = tx
                .prepare_cached(
                    "INSERT INTO outbox (id, channel, payload, status, attempts, due_at, created_at) VALUES ($1, $2, $3, 'pending', 0, $4, $5) ON CONFLICT (id) DO NOTHING",
                )
                .await
                .map_err(db)?;
            for item in turn.outbox {
                tx.execute(
                    &stmt,
                    &[
                        &item.id,
                        &item.channel,
                        &item.payload.to_string(),
                        &item.due_at,
                        &item.created_at,
                    ],
                )
                .await
                .map_err(db)?;
            }
        }
        tx.commit().await.map_err(db)?;
        Ok(TurnOutcome::Committed)
    }

    async fn message(&self, id: &MessageId) -> StoreResult<Option<Message>> {
        let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = $1");
        self.query_one_opt(&sql, &[&id.as_str()], message_from)
            .await
    }

    async fn find_message(
        &self,
        channel: Channel,
        external_id: &str,
    ) -> StoreResult<Option<Message>> {
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE channel = $1 AND external_id = $2"
        );
        self.query_one_opt(&sql, &[&channel.as_str(), &external_id], message_from)
            .await
    }

    async fn conversation_messages(&self, id: &ConversationId) -> StoreResult<Vec<Message>> {
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1 ORDER BY seq"
        );
        self.query_all(&sql, &[&id.as_str()], message_from).await
    }

    async fn customer_messages(&self, id: &CustomerId) -> StoreResult<Vec<Message>> {
        let sql =
            format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE customer_id = $1 ORDER BY seq");
        self.query_all(&sql, &[&id.as_str()], message_from).await
    }

    async fn upsert_agent(&self, a: &Agent) -> StoreResult<AgentId> {
        let capacity = i32::try_from(a.capacity).map_err(corrupt)?;
        let media = |c: Option<u32>| c.map(i32::try_from).transpose().map_err(corrupt);
        let (voice, ticket) = (media(a.voice_capacity)?, media(a.ticket_capacity)?);
        let row = self
            .query_one_opt(
                "INSERT INTO agents (id, username, display_name, role, skills, languages, capacity, password_hash, voice_capacity, ticket_capacity) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                 ON CONFLICT (username) DO UPDATE SET display_name = excluded.display_name, role = excluded.role, skills = excluded.skills,
                   languages = excluded.languages, capacity = excluded.capacity,
                   voice_capacity = excluded.voice_capacity, ticket_capacity = excluded.ticket_capacity,
                   password_hash = CASE WHEN excluded.password_hash = '' THEN agents.password_hash ELSE excluded.password_hash END
                 RETURNING id",
                &[
                    &a.id.as_str(),
                    &a.username,
                    &a.display_name,
                    &a.role.as_str(),
                    &json(&a.skills)?,
                    &json(&a.languages)?,
                    &capacity,
                    &a.password_hash,
                    &voice,
                    &ticket,
                ],
                |row| Ok(AgentId::from_trusted(get::<String>(row, "id")?)),
            )
            .await?;
        row.ok_or_else(|| corrupt("upsert returned no row"))
    }

    async fn agent(&self, id: &AgentId) -> StoreResult<Option<Agent>> {
        let sql = format!("SELECT {AGENT_COLUMNS} FROM agents WHERE id = $1");
        self.query_one_opt(&sql, &[&id.as_str()], agent_from).await
    }

    async fn agent_by_username(&self, username: &str) -> StoreResult<Option<Agent>> {
        let sql = format!("SELECT {AGENT_COLUMNS} FROM agents WHERE username = $1");
        self.query_one_opt(&sql, &[&username], agent_from).await
    }

    async fn insert_token(
        &self,
        token_hash: &str,
        principal: &Principal,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let (kind, subject, role) = match principal {
            Principal::Customer(id) => ("customer", id.as_str(), None),
            Principal::AppUser(id) => ("app_user", id.as_str(), None),
            Principal::Staff { agent_id, role } => {
                ("staff", agent_id.as_str(), Some(role.as_str()))
            }
        };
        self.execute(
            "INSERT INTO tokens (token_hash, kind, subject, role, expires_at) VALUES ($1, $2, $3, $4, $5)",
            &[&token_hash, &kind, &subject, &role, &expires_at],
        )
        .await
        .map(|_| ())
    }

    async fn token_principal(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Principal>> {
        let row = self
            .query_one_opt(
                "SELECT kind, subject, role FROM tokens WHERE token_hash = $1 AND expires_at > $2",
                &[&token_hash, &now],
                |row| {
                    Ok((
                        get::<String>(row, "kind")?,
                        get::<String>(row, "subject")?,
                        get::<Option<String>>(row, "role")?,
                    ))
                },
            )
            .await?;
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
    }

    async fn insert_task(&self, t: &Task) -> StoreResult<Inserted<Task>> {
        // Scoped: the look-up below takes its own connection.
        let inserted = {
            let client = self.client().await?;
            insert_task_row(&client, t).await?
        };
        if inserted == 1 {
            return Ok(Inserted::New(t.clone()));
        }
        self.open_task_for(&t.conversation_id)
            .await?
            .map(Inserted::Duplicate)
            .ok_or_else(|| StoreError::Conflict(format!("task {} exists", t.id)))
    }

    async fn task(&self, id: &TaskId) -> StoreResult<Option<Task>> {
        let sql = format!("SELECT {TASK_COLUMNS} FROM tasks WHERE id = $1");
        self.query_one_opt(&sql, &[&id.as_str()], task_from).await
    }

    async fn waiting_tasks(&self) -> StoreResult<Vec<Task>> {
        let sql = format!(
            "SELECT {TASK_COLUMNS} FROM tasks WHERE status = 'waiting' ORDER BY created_at, id"
        );
        self.query_all(&sql, &[], task_from).await
    }

    async fn assign_task(
        &self,
        id: &TaskId,
        agent: &AgentId,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db)?;
        let changed = tx
            .execute(
                "UPDATE tasks SET status = 'assigned', agent_id = $2, assigned_at = $3 WHERE id = $1 AND status = 'waiting'",
                &[&id.as_str(), &agent.as_str(), &at],
            )
            .await
            .map_err(db)?;
        if changed == 1 {
            tx.execute(
                "UPDATE conversations SET status = 'assigned', agent_id = $2 WHERE id = (SELECT conversation_id FROM tasks WHERE id = $1) AND status <> 'closed'",
                &[&id.as_str(), &agent.as_str()],
            )
            .await
            .map_err(db)?;
        }
        tx.commit().await.map_err(db)?;
        Ok(changed == 1)
    }

    async fn finish_task(
        &self,
        id: &TaskId,
        status: TaskStatus,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        self.execute(
            "UPDATE tasks SET status = $2, finished_at = $3 WHERE id = $1 AND status IN ('waiting', 'assigned')",
            &[&id.as_str(), &status.as_str(), &at],
        )
        .await
        .map(|changed| changed == 1)
    }

    async fn leave_queue(
        &self,
        id: &TaskId,
        exit: QueueExit<'_>,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let (status, queue, fallback) = exit.columns();
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db)?;
        let changed = tx
            .execute(
                "UPDATE tasks SET status = $2, queue = COALESCE($3, queue), fallback = $4, finished_at = $5 WHERE id = $1 AND status = 'waiting'",
                &[&id.as_str(), &status.as_str(), &queue, &fallback, &at],
            )
            .await
            .map_err(db)?;
        if changed == 1 {
            tx.execute(
                "UPDATE conversations SET status = 'bot', agent_id = NULL WHERE id = (SELECT conversation_id FROM tasks WHERE id = $1) AND status <> 'closed'",
                &[&id.as_str()],
            )
            .await
            .map_err(db)?;
        }
        tx.commit().await.map_err(db)?;
        Ok(changed == 1)
    }

    async fn last_agent_of(&self, customer: &CustomerId) -> StoreResult<Option<AgentId>> {
        self.query_one_opt(
            "SELECT agent_id FROM tasks WHERE customer_id = $1 AND agent_id IS NOT NULL AND assigned_at IS NOT NULL ORDER BY assigned_at DESC, id DESC LIMIT 1",
            &[&customer.as_str()],
            |row| Ok(AgentId::from_trusted(get::<String>(row, "agent_id")?)),
        )
        .await
    }

    async fn open_task_for(&self, conversation: &ConversationId) -> StoreResult<Option<Task>> {
        let sql = format!(
            "SELECT {TASK_COLUMNS} FROM tasks WHERE conversation_id = $1 AND status IN ('waiting', 'assigned')"
        );
        self.query_one_opt(&sql, &[&conversation.as_str()], task_from)
            .await
    }

    async fn outbox_item(&self, id: &str) -> StoreResult<Option<OutboxItem>> {
        let sql = format!("SELECT {OUTBOX_COLUMNS} FROM outbox WHERE id = $1");
        self.query_one_opt(&sql, &[&id], outbox_from).await
    }

    async fn claim_outbox(
        &self,
        id: &str,
        now: DateTime<Utc>,
        due_by: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<Option<OutboxItem>> {
        let sql = format!(
            "UPDATE outbox SET status = 'sending', lease_until = $4 WHERE id = $1 AND ((status = 'pending' AND due_at <= $3) OR (status = 'sending' AND lease_until < $2)) RETURNING {OUTBOX_COLUMNS}"
        );
        self.query_one_opt(&sql, &[&id, &now, &due_by, &lease_until], outbox_from)
            .await
    }

    async fn settle_outbox(
        &self,
        id: &str,
        lease_until: DateTime<Utc>,
        settlement: &Settlement,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let (status, error, due_at, settled_at, provider_ref) = match settlement {
            Settlement::Delivered { provider_ref } => {
                ("delivered", None, now, Some(now), provider_ref.as_deref())
            }
            Settlement::Retry { error, due_at } => {
                ("pending", Some(error.as_str()), *due_at, None, None)
            }
            Settlement::Park { error } => ("parked", Some(error.as_str()), now, Some(now), None),
        };
        self.execute(
            "UPDATE outbox SET status = $2, attempts = attempts + 1, last_error = COALESCE($3, last_error), due_at = $4, lease_until = NULL, settled_at = $5, provider_ref = COALESCE($7, provider_ref) WHERE id = $1 AND status = 'sending' AND lease_until = $6",
            &[&id, &status, &error, &due_at, &settled_at, &lease_until, &provider_ref],
        )
        .await
        .map(|changed| changed == 1)
    }

    async fn relay_outbox(
        &self,
        stale_before: DateTime<Utc>,
        now: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<OutboxItem>> {
        // SKIP LOCKED: nodes relaying at the same moment take different rows.
        let sql = format!(
            "UPDATE outbox SET attempts = attempts + CASE WHEN status = 'sending' THEN 1 ELSE 0 END, status = 'pending', due_at = $2, lease_until = NULL WHERE id IN (SELECT id FROM outbox WHERE (status = 'pending' AND due_at < $1) OR (status = 'sending' AND lease_until < $1) ORDER BY due_at LIMIT $3 FOR UPDATE SKIP LOCKED) RETURNING {OUTBOX_COLUMNS}"
        );
        self.query_all(&sql, &[&stale_before, &now, &i64::from(limit)], outbox_from)
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
        if into == from {
            return Err(StoreError::Conflict(
                "a customer cannot be merged into itself".to_owned(),
            ));
        }
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db)?;
        // Both customers locked, in id order (no deadlock between opposite merges).
        let locked = tx
            .query(
                "SELECT id FROM customers WHERE id IN ($1, $2) ORDER BY id FOR UPDATE",
                &[&into.as_str(), &from.as_str()],
            )
            .await
            .map_err(db)?;
        if locked.len() != 2 {
            return Err(StoreError::Conflict("unknown customer".to_owned()));
        }
        let open = tx
            .query_one(
                "SELECT COUNT(DISTINCT customer_id) AS n FROM conversations WHERE customer_id IN ($1, $2) AND status <> 'closed'",
                &[&into.as_str(), &from.as_str()],
            )
            .await
            .map_err(db)?;
        if get::<i64>(&open, "n")? == 2 {
            return Err(StoreError::Conflict(
                "both customers have an open conversation; close one first".to_owned(),
            ));
        }
        let mut moved = MergeMoved::default();
        for row in tx
            .query(
                "UPDATE identities SET customer_id = $1 WHERE customer_id = $2 RETURNING channel, external_id",
                &[&into.as_str(), &from.as_str()],
            )
            .await
            .map_err(db)?
        {
            moved
                .identities
                .push((get(&row, "channel")?, get(&row, "external_id")?));
        }
        let ids = |sql: &'static str| {
            let tx = &tx;
            async move {
                let rows = tx
                    .query(sql, &[&into.as_str(), &from.as_str()])
                    .await
                    .map_err(db)?;
                rows.iter()
                    .map(|r| get::<String>(r, "id"))
                    .collect::<StoreResult<Vec<_>>>()
            }
        };
        moved.conversations =
            ids("UPDATE conversations SET customer_id = $1 WHERE customer_id = $2 RETURNING id")
                .await?;
        moved.messages =
            ids("UPDATE messages SET customer_id = $1 WHERE customer_id = $2 RETURNING id").await?;
        moved.tasks =
            ids("UPDATE tasks SET customer_id = $1 WHERE customer_id = $2 RETURNING id").await?;
        moved.tokens = ids("UPDATE tokens SET subject = $1 WHERE kind = 'customer' AND subject = $2 RETURNING token_hash AS id").await?;
        tx.execute(
            "INSERT INTO customer_merges (id, into_customer, from_customer, moved, merged_by, merged_at) VALUES ($1, $2, $3, $4, $5, $6)",
            &[&id, &into.as_str(), &from.as_str(), &json(&moved)?, &by, &at],
        )
        .await
        .map_err(db)?;
        audit(
            &tx,
            &at,
            by,
            "customer_merged",
            &format!("customer_{into}"),
            &serde_json::json!({"merge_id": id, "from": from, "into": into, "identities": moved.identities.len(), "conversations": moved.conversations.len(), "messages": moved.messages.len()}),
        )
        .await?;
        tx.commit().await.map_err(db)?;
        Ok(CustomerMerge {
            id: id.to_owned(),
            into: into.clone(),
            from: from.clone(),
            moved,
            merged_by: by.to_owned(),
            merged_at: at,
            undone_by: None,
            undone_at: None,
        })
    }

    async fn undo_merge(
        &self,
        id: &str,
        by: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<CustomerMerge>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db)?;
        let Some(row) = tx
            .query_opt(
                "SELECT into_customer, from_customer, moved, merged_by, merged_at, undone_at FROM customer_merges WHERE id = $1 FOR UPDATE",
                &[&id],
            )
            .await
            .map_err(db)?
        else {
            return Ok(None);
        };
        if get::<Option<DateTime<Utc>>>(&row, "undone_at")?.is_some() {
            return Err(StoreError::Conflict(
                "this merge was undone already".to_owned(),
            ));
        }
        let into: String = get(&row, "into_customer")?;
        let from: String = get(&row, "from_customer")?;
        let moved: MergeMoved = from_json(&get::<String>(&row, "moved")?)?;
        for (channel, external_id) in &moved.identities {
            tx.execute(
                "UPDATE identities SET customer_id = $1 WHERE channel = $2 AND external_id = $3 AND customer_id = $4",
                &[&from, channel, external_id, &into],
            )
            .await
            .map_err(db)?;
        }
        for (sql, keys) in [
            (
                "UPDATE conversations SET customer_id = $1 WHERE id = ANY($2) AND customer_id = $3",
                &moved.conversations,
            ),
            (
                "UPDATE messages SET customer_id = $1 WHERE id = ANY($2) AND customer_id = $3",
                &moved.messages,
            ),
            (
                "UPDATE tasks SET customer_id = $1 WHERE id = ANY($2) AND customer_id = $3",
                &moved.tasks,
            ),
            (
                "UPDATE tokens SET subject = $1 WHERE token_hash = ANY($2) AND subject = $3",
                &moved.tokens,
            ),
        ] {
            tx.execute(sql, &[&from, keys, &into]).await.map_err(|e| {
                if e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION) {
                    StoreError::Conflict(
                        "the merged customer has an open conversation again; close it first"
                            .to_owned(),
                    )
                } else {
                    db(e)
                }
            })?;
        }
        tx.execute(
            "UPDATE customer_merges SET undone_by = $2, undone_at = $3 WHERE id = $1",
            &[&id, &by, &at],
        )
        .await
        .map_err(db)?;
        audit(
            &tx,
            &at,
            by,
            "customer_merge_undone",
            &format!("customer_{into}"),
            &serde_json::json!({"merge_id": id, "from": from, "into": into}),
        )
        .await?;
        tx.commit().await.map_err(db)?;
        Ok(Some(CustomerMerge {
            id: id.to_owned(),
            into: CustomerId::from_trusted(into),
            from: CustomerId::from_trusted(from),
            moved,
            merged_by: get(&row, "merged_by")?,
            merged_at: get(&row, "merged_at")?,
            undone_by: Some(by.to_owned()),
            undone_at: Some(at),
        }))
    }

    async fn touch_presence(
        &self,
        connection: &str,
        customer: &CustomerId,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.execute(
            "INSERT INTO app_presence (connection_id, customer_id, seen_at) VALUES ($1, $2, $3) ON CONFLICT (connection_id) DO UPDATE SET seen_at = EXCLUDED.seen_at",
            &[&connection, &customer.as_str(), &at],
        )
        .await
        .map(|_| ())
    }

    async fn drop_presence(
        &self,
        connection: &str,
        stale_before: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.execute(
            "DELETE FROM app_presence WHERE connection_id = $1 OR seen_at < $2",
            &[&connection, &stale_before],
        )
        .await
        .map(|_| ())
    }

    async fn present_since(
        &self,
        customer: &CustomerId,
        since: DateTime<Utc>,
    ) -> StoreResult<bool> {
        self.query_one_opt(
            "SELECT 1 AS one FROM app_presence WHERE customer_id = $1 AND seen_at >= $2 LIMIT 1",
            &[&customer.as_str(), &since],
            |_| Ok(()),
        )
        .await
        .map(|found| found.is_some())
    }

    async fn enqueue_outbox(&self, item: &OutboxItem) -> StoreResult<bool> {
        self.execute(
            "INSERT INTO outbox (id, channel, payload, status, attempts, due_at, created_at) VALUES ($1, $2, $3, 'pending', 0, $4, $5) ON CONFLICT (id) DO NOTHING",
            &[&item.id, &item.channel, &json(&item.payload)?, &item.due_at, &item.created_at],
        )
        .await
        .map(|n| n == 1)
    }

    async fn take_outbox(&self, id: &str, now: DateTime<Utc>) -> StoreResult<bool> {
        self.execute(
            "UPDATE outbox SET status = 'delivered', settled_at = $2, lease_until = NULL WHERE id = $1 AND status = 'pending' AND attempts = 0",
            &[&id, &now],
        )
        .await
        .map(|changed| changed == 1)
    }

    async fn record_provider_status(
        &self,
        channel: &str,
        provider_ref: &str,
        status: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        // Callbacks can arrive out of order: an earlier status never overwrites a later one.
        let rank = super::provider_status_rank(status);
        self.execute(
            &format!(
                "UPDATE outbox SET provider_status = $3, provider_status_at = $4 WHERE channel = $1 AND provider_ref = $2 AND (provider_status IS NULL OR {} <= $5)",
                super::provider_status_rank_sql("provider_status")
            ),
            &[&channel, &provider_ref, &status, &at, &rank],
        )
        .await?;
        let known = self
            .query_one_opt(
                "SELECT 1 AS one FROM outbox WHERE channel = $1 AND provider_ref = $2",
                &[&channel, &provider_ref],
                |_| Ok(()),
            )
            .await?;
        Ok(known.is_some())
    }

    async fn customer_for_identity(
        &self,
        channel: Channel,
        external_id: &str,
        c: &Customer,
    ) -> StoreResult<CustomerId> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db)?;
        // The customer row first (its id is new), then the identity; if another transaction
        // took the identity meanwhile, roll back and use its customer.
        tx.execute(
            "INSERT INTO customers (id, display_name, tier, tags, created_at) VALUES ($1, $2, $3, $4, $5)",
            &[&c.id.as_str(), &c.display_name, &c.tier.as_str(), &json(&c.tags)?, &c.created_at],
        )
        .await
        .map_err(db)?;
        let inserted = tx
            .execute(
                "INSERT INTO identities (channel, external_id, customer_id, created_at) VALUES ($1, $2, $3, now()) ON CONFLICT (channel, external_id) DO NOTHING",
                &[&channel.as_str(), &external_id, &c.id.as_str()],
            )
            .await
            .map_err(db)?;
        if inserted == 1 {
            tx.commit().await.map_err(db)?;
            return Ok(c.id.clone());
        }
        tx.rollback().await.map_err(db)?;
        let row = client
            .query_one(
                "SELECT customer_id FROM identities WHERE channel = $1 AND external_id = $2",
                &[&channel.as_str(), &external_id],
            )
            .await
            .map_err(db)?;
        Ok(CustomerId::from_trusted(get::<String>(
            &row,
            "customer_id",
        )?))
    }

    async fn last_inbound_at(
        &self,
        customer: &CustomerId,
        channel: Channel,
    ) -> StoreResult<Option<DateTime<Utc>>> {
        let client = self.client().await?;
        let row = client
            .query_one(
                "SELECT MAX(sent_at) AS at FROM messages WHERE customer_id = $1 AND channel = $2 AND sender = 'customer'",
                &[&customer.as_str(), &channel.as_str()],
            )
            .await
            .map_err(db)?;
        get(&row, "at")
    }

    async fn opt_out(
        &self,
        channel: Channel,
        external_id: &str,
        keyword: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.execute(
            "INSERT INTO opt_outs (channel, external_id, keyword, opted_out_at) VALUES ($1, $2, $3, $4) ON CONFLICT (channel, external_id) DO NOTHING",
            &[&channel.as_str(), &external_id, &keyword, &at],
        )
        .await
        .map(|_| ())
    }

    async fn opt_in(&self, channel: Channel, external_id: &str) -> StoreResult<bool> {
        self.execute(
            "DELETE FROM opt_outs WHERE channel = $1 AND external_id = $2",
            &[&channel.as_str(), &external_id],
        )
        .await
        .map(|n| n > 0)
    }

    async fn opted_out(&self, channel: Channel, external_id: &str) -> StoreResult<bool> {
        self.query_one_opt(
            "SELECT 1 AS one FROM opt_outs WHERE channel = $1 AND external_id = $2",
            &[&channel.as_str(), &external_id],
            |_| Ok(()),
        )
        .await
        .map(|found| found.is_some())
    }

    async fn purge_webhook_receipts(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        self.execute(
            "DELETE FROM webhook_receipts WHERE received_at < $1",
            &[&before],
        )
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
        self.execute(
            "INSERT INTO webhook_receipts (channel, event_id, request_hash, response, received_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (channel, event_id) DO NOTHING",
            &[&channel, &event_id, &request_hash, &response, &at],
        )
        .await?;
        self.find_webhook_receipt(channel, event_id)
            .await?
            .ok_or_else(|| StoreError::Conflict("webhook receipt vanished".to_owned()))
    }

    async fn find_webhook_receipt(
        &self,
        channel: &str,
        event_id: &str,
    ) -> StoreResult<Option<(String, String)>> {
        self.query_one_opt(
            "SELECT request_hash, response FROM webhook_receipts WHERE channel = $1 AND event_id = $2",
            &[&channel, &event_id],
            |row| Ok((get(row, "request_hash")?, get(row, "response")?)),
        )
        .await
    }

    async fn outbox_counts(&self) -> StoreResult<Vec<(OutboxStatus, u64)>> {
        self.query_all(
            "SELECT status, COUNT(*) AS n FROM outbox WHERE status IN ('pending', 'sending', 'parked') GROUP BY status",
            &[],
            |row| {
                Ok((
                    OutboxStatus::parse(&get::<String>(row, "status")?).map_err(corrupt)?,
                    u64::try_from(get::<i64>(row, "n")?).unwrap_or(0),
                ))
            },
        )
        .await
    }

    async fn set_task_routing(
        &self,
        id: &TaskId,
        queue: &str,
        routing: &serde_json::Value,
    ) -> StoreResult<()> {
        self.execute(
            "UPDATE tasks SET routing = $2, queue = $3 WHERE id = $1",
            &[&id.as_str(), &routing.to_string(), &queue],
        )
        .await
        .map(|_| ())
    }

    async fn task_routing(&self, id: &TaskId) -> StoreResult<Option<serde_json::Value>> {
        let routing = self
            .query_one_opt(
                "SELECT routing FROM tasks WHERE id = $1",
                &[&id.as_str()],
                |row| get::<Option<String>>(row, "routing"),
            )
            .await?;
        routing.flatten().as_deref().map(from_json).transpose()
    }

    async fn skill_names(&self) -> StoreResult<std::collections::BTreeSet<String>> {
        let lists = self
            .query_all("SELECT skills FROM agents", &[], |row| {
                from_json::<Vec<Skill>>(&get::<String>(row, "skills")?)
            })
            .await?;
        Ok(lists.into_iter().flatten().map(|s| s.name).collect())
    }

    async fn insert_rule_set(
        &self,
        document: &serde_json::Value,
        by: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<i64> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db)?;
        let row = tx
            .query_one(
                "INSERT INTO routing_rule_sets (document, created_by, created_at) VALUES ($1, $2, $3) RETURNING version",
                &[&document.to_string(), &by, &at],
            )
            .await
            .map_err(db)?;
        let version: i64 = get(&row, "version")?;
        audit(
            &tx,
            &at,
            by,
            "routing.rules.created",
            &rule_set_subject(version),
            &serde_json::json!({}),
        )
        .await?;
        tx.commit().await.map_err(db)?;
        Ok(version)
    }

    async fn rule_set(&self, version: i64) -> StoreResult<Option<StoredRuleSet>> {
        self.query_one_opt(
            "SELECT version, document, created_by, created_at FROM routing_rule_sets WHERE version = $1",
            &[&version],
            rule_set_from,
        )
        .await
    }

    async fn activate_rule_set(
        &self,
        version: i64,
        by: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Activation> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db)?;
        let exists = tx
            .query_opt(
                "SELECT version FROM routing_rule_sets WHERE version = $1",
                &[&version],
            )
            .await
            .map_err(db)?;
        if exists.is_none() {
            return Ok(Activation::UnknownVersion);
        }
        // Locks the pointer row: concurrent activations are applied one after the other.
        let previous: Option<i64> = tx
            .query_opt(
                "SELECT version FROM routing_active WHERE id = 1 FOR UPDATE",
                &[],
            )
            .await
            .map_err(db)?
            .map(|row| get(&row, "version"))
            .transpose()?;
        tx.execute(
            "INSERT INTO routing_active (id, version, activated_by, activated_at) VALUES (1, $1, $2, $3) ON CONFLICT (id) DO UPDATE SET version = excluded.version, activated_by = excluded.activated_by, activated_at = excluded.activated_at",
            &[&version, &by, &at],
        )
        .await
        .map_err(db)?;
        audit(
            &tx,
            &at,
            by,
            "routing.rules.activated",
            &rule_set_subject(version),
            &serde_json::json!({ "previous": previous }),
        )
        .await?;
        tx.commit().await.map_err(db)?;
        Ok(Activation::Activated { previous })
    }

    async fn active_rule_set(&self) -> StoreResult<Option<ActiveRuleSet>> {
        self.query_one_opt(
            "SELECT s.version, s.document, s.created_by, s.created_at, a.activated_by, a.activated_at FROM routing_active a JOIN routing_rule_sets s ON s.version = a.version WHERE a.id = 1",
            &[],
            |row| {
                Ok(ActiveRuleSet {
                    rule_set: rule_set_from(row)?,
                    activated_by: get(row, "activated_by")?,
                    activated_at: get(row, "activated_at")?,
                })
            },
        )
        .await
    }

    async fn audit_log(&self, subject_prefix: &str, limit: u32) -> StoreResult<Vec<AuditEntry>> {
        let pattern = format!(
            "{}%",
            subject_prefix.replace('%', "\\%").replace('_', "\\_")
        );
        self.query_all(
            "SELECT id, at, actor, action, subject, detail FROM audit_log WHERE subject LIKE $1 ESCAPE '\\' ORDER BY id DESC LIMIT $2",
            &[&pattern, &i64::from(limit)],
            |row| {
                Ok(AuditEntry {
                    id: get(row, "id")?,
                    at: get(row, "at")?,
                    actor: get(row, "actor")?,
                    action: get(row, "action")?,
                    subject: get(row, "subject")?,
                    detail: from_json(&get::<String>(row, "detail")?)?,
                })
            },
        )
        .await
    }

    async fn rule_sets(&self) -> StoreResult<Vec<StoredRuleSet>> {
        self.query_all(
            "SELECT version, document, created_by, created_at FROM routing_rule_sets ORDER BY version",
            &[],
            rule_set_from,
        )
        .await
    }

    async fn insert_override(&self, o: &StoredOverride) -> StoreResult<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db)?;
        tx.execute(
            &format!("INSERT INTO routing_overrides ({OVERRIDE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"),
            &[
                &o.id,
                &o.rule,
                &o.target.to_string(),
                &o.reason,
                &o.created_by,
                &o.created_at,
                &o.expires_at,
                &o.ended_at,
            ],
        )
        .await
        .map_err(db)?;
        audit(
            &tx,
            &o.created_at,
            &o.created_by,
            "routing.override.created",
            &override_subject(&o.id),
            &serde_json::json!({
                "rule": o.rule,
                "target": o.target,
                "reason": o.reason,
                "expires_at": format_time(&o.expires_at),
            }),
        )
        .await?;
        tx.commit().await.map_err(db)?;
        Ok(())
    }

    async fn end_override(&self, id: &str, by: &str, at: DateTime<Utc>) -> StoreResult<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db)?;
        let ended = tx
            .query_opt(
                "UPDATE routing_overrides SET ended_at = $2, ended_by = $3 WHERE id = $1 AND ended_at IS NULL AND expires_at > $2 RETURNING rule",
                &[&id, &at, &by],
            )
            .await
            .map_err(db)?;
        let Some(row) = ended else {
            return Ok(false);
        };
        let rule: String = get(&row, "rule")?;
        audit(
            &tx,
            &at,
            by,
            "routing.override.ended",
            &override_subject(id),
            &serde_json::json!({ "rule": rule }),
        )
        .await?;
        tx.commit().await.map_err(db)?;
        Ok(true)
    }

    async fn overrides_in_force(&self, now: DateTime<Utc>) -> StoreResult<Vec<StoredOverride>> {
        let sql = format!(
            "SELECT {OVERRIDE_COLUMNS} FROM routing_overrides WHERE ended_at IS NULL AND expires_at > $1 ORDER BY created_at, id"
        );
        self.query_all(&sql, &[&now], override_from).await
    }

    async fn record_presence(
        &self,
        agent: &AgentId,
        status: AgentStatus,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.execute(
            "INSERT INTO agent_presence (agent_id, status, at) VALUES ($1, $2, $3)",
            &[&agent.as_str(), &status.as_str(), &at],
        )
        .await
        .map(|_| ())
    }

    async fn traffic(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> StoreResult<Traffic> {
        let mut client = self.client().await?;
        // One snapshot: the three reads see the same state.
        let tx = client
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await
            .map_err(db)?;
        let sql = format!(
            "SELECT {TASK_COLUMNS}, queue, finished_at, fallback, c.tier, c.tags FROM tasks JOIN (SELECT id AS cid, tier, tags FROM customers) c ON c.cid = tasks.customer_id WHERE created_at >= $1 AND created_at < $2 ORDER BY created_at, id"
        );
        let stmt = tx.prepare_cached(&sql).await.map_err(db)?;
        let tasks = tx
            .query(&stmt, &[&from, &to])
            .await
            .map_err(db)?
            .iter()
            .map(recorded_task_from)
            .collect::<StoreResult<Vec<_>>>()?;
        // Each account's last change before the window (its state when the window opens), then
        // every change in the window.
        let stmt = tx
            .prepare_cached(
                "SELECT agent_id, status, at FROM (
                   SELECT p.id, p.agent_id, p.status, p.at FROM agents a CROSS JOIN LATERAL
                     (SELECT q.id, q.agent_id, q.status, q.at FROM agent_presence q WHERE q.agent_id = a.id AND q.at < $1 ORDER BY q.at DESC, q.id DESC LIMIT 1) p
                   UNION ALL
                   SELECT id, agent_id, status, at FROM agent_presence WHERE at >= $1 AND at < $2
                 ) w ORDER BY at, id",
            )
            .await
            .map_err(db)?;
        let presence = tx
            .query(&stmt, &[&from, &to])
            .await
            .map_err(db)?
            .iter()
            .map(|row| {
                Ok(PresenceEvent {
                    agent_id: AgentId::from_trusted(get::<String>(row, "agent_id")?),
                    status: agent_status(&get::<String>(row, "status")?)?,
                    at: get(row, "at")?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let sql = format!("SELECT {AGENT_COLUMNS} FROM agents WHERE role = $1 ORDER BY username");
        let stmt = tx.prepare_cached(&sql).await.map_err(db)?;
        let agents = tx
            .query(&stmt, &[&Role::Agent.as_str()])
            .await
            .map_err(db)?
            .iter()
            .map(agent_from)
            .collect::<StoreResult<Vec<_>>>()?;
        tx.commit().await.map_err(db)?;
        Ok(Traffic {
            tasks,
            presence,
            agents,
        })
    }

    async fn kb_entries(&self) -> StoreResult<Vec<StoredKbEntry>> {
        let sql = format!("SELECT {KB_COLUMNS} FROM kb_entries ORDER BY id");
        self.query_all(&sql, &[], kb_from).await
    }

    async fn kb_entry(&self, id: &str) -> StoreResult<Option<StoredKbEntry>> {
        let sql = format!("SELECT {KB_COLUMNS} FROM kb_entries WHERE id = $1");
        self.query_one_opt(&sql, &[&id], kb_from).await
    }

    async fn save_kb_entries(
        &self,
        entries: &[StoredKbEntry],
        replace_all: bool,
        out_of_scope: Option<&[String]>,
        by: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<i64> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db)?;
        // One writer at a time: concurrent imports serialize on the revision row.
        tx.execute(
            "SELECT revision FROM kb_revision WHERE id = 1 FOR UPDATE",
            &[],
        )
        .await
        .map_err(db)?;
        if replace_all {
            let keep: Vec<&str> = entries.iter().map(|e| e.id.as_str()).collect();
            let removed = tx
                .query(
                    "DELETE FROM kb_entries WHERE NOT (id = ANY($1)) RETURNING id",
                    &[&keep],
                )
                .await
                .map_err(db)?;
            for row in removed {
                let id: String = get(&row, "id")?;
                audit(
                    &tx,
                    &at,
                    by,
                    "kb.entry.deleted",
                    &kb_subject(&id),
                    &serde_json::json!({}),
                )
                .await?;
            }
        }
        for e in entries {
            write_kb_entry(&tx, e, by, &at).await?;
        }
        if let Some(questions) = out_of_scope {
            write_kb_out_of_scope(&tx, questions, by, &at).await?;
        }
        let revision = bump_kb_revision(&tx).await?;
        tx.commit().await.map_err(db)?;
        Ok(revision)
    }

    async fn save_kb_entry_if(
        &self,
        entry: &StoredKbEntry,
        expected: DateTime<Utc>,
        by: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<KbWrite> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db)?;
        if let Some(outcome) = kb_precondition(&tx, &entry.id, expected).await? {
            return Ok(outcome);
        }
        write_kb_entry(&tx, entry, by, &at).await?;
        let revision = bump_kb_revision(&tx).await?;
        tx.commit().await.map_err(db)?;
        Ok(KbWrite::Done(revision))
    }

    async fn delete_kb_entry_if(
        &self,
        id: &str,
        expected: DateTime<Utc>,
        by: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<KbWrite> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db)?;
        if let Some(outcome) = kb_precondition(&tx, id, expected).await? {
            return Ok(outcome);
        }
        remove_kb_entry(&tx, id, by, &at).await?;
        let revision = bump_kb_revision(&tx).await?;
        tx.commit().await.map_err(db)?;
        Ok(KbWrite::Done(revision))
    }

    async fn delete_kb_entry(
        &self,
        id: &str,
        by: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<i64>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db)?;
        if !remove_kb_entry(&tx, id, by, &at).await? {
            return Ok(None);
        }
        let revision = bump_kb_revision(&tx).await?;
        tx.commit().await.map_err(db)?;
        Ok(Some(revision))
    }

    async fn kb_revision(&self) -> StoreResult<i64> {
        let client = self.client().await?;
        let row = client
            .query_one("SELECT revision FROM kb_revision WHERE id = 1", &[])
            .await
            .map_err(db)?;
        get(&row, "revision")
    }

    async fn kb_out_of_scope(&self) -> StoreResult<Vec<String>> {
        let client = self.client().await?;
        let row = client
            .query_one("SELECT out_of_scope FROM kb_revision WHERE id = 1", &[])
            .await
            .map_err(db)?;
        from_json(&get::<String>(&row, "out_of_scope")?)
    }

    async fn set_kb_out_of_scope(
        &self,
        questions: &[String],
        by: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<i64> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db)?;
        write_kb_out_of_scope(&tx, questions, by, &at).await?;
        let revision = bump_kb_revision(&tx).await?;
        tx.commit().await.map_err(db)?;
        Ok(revision)
    }

    async fn open_ticket(&self, ticket: &Ticket) -> StoreResult<Inserted<Ticket>> {
        let client = self.client().await?;
        let t = ticket;
        let inserted = client
            .execute(
                "INSERT INTO tickets (id, customer_id, conversation_id, kind, subject, fields, status, source_key, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (source_key) DO NOTHING",
                &[
                    &t.id,
                    &t.customer_id.as_str(),
                    &t.conversation_id.as_ref().map(ConversationId::as_str),
                    &t.kind,
                    &t.subject,
                    &json(&t.fields)?,
                    &t.status,
                    &t.source_key,
                    &t.created_at,
                ],
            )
            .await
            .map_err(db)?;
        if inserted == 1 {
            return Ok(Inserted::New(t.clone()));
        }
        let sql = format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE source_key = $1");
        let row = client.query_one(&sql, &[&t.source_key]).await.map_err(db)?;
        Ok(Inserted::Duplicate(ticket_from(&row)?))
    }

    async fn customer_tickets(&self, customer: &CustomerId) -> StoreResult<Vec<Ticket>> {
        let sql = format!(
            "SELECT {TICKET_COLUMNS} FROM tickets WHERE customer_id = $1 ORDER BY created_at, id"
        );
        self.query_all(&sql, &[&customer.as_str()], ticket_from)
            .await
    }

    async fn record_assist(&self, shown: &[AssistRecord]) -> StoreResult<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db)?;
        for s in shown {
            let rank = i32::try_from(s.rank).unwrap_or(i32::MAX);
            tx.execute(
                "INSERT INTO assist_suggestions (id, conversation_id, message_id, agent_id, kind, reference, rank, score, shown_at, used_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO NOTHING",
                &[
                    &s.id,
                    &s.conversation_id.as_str(),
                    &s.message_id.as_str(),
                    &s.agent_id.as_str(),
                    &s.kind,
                    &s.reference,
                    &rank,
                    &s.score,
                    &s.shown_at,
                    &s.used_at,
                ],
            )
            .await
            .map_err(db)?;
        }
        tx.commit().await.map_err(db)
    }

    async fn use_assist(
        &self,
        id: &str,
        agent: &AgentId,
        conversation: &ConversationId,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let client = self.client().await?;
        let changed = client
            .execute(
                "UPDATE assist_suggestions SET used_at = $3 WHERE id = $1 AND agent_id = $2 AND conversation_id = $4 AND used_at IS NULL",
                &[&id, &agent.as_str(), &at, &conversation.as_str()],
            )
            .await
            .map_err(db)?;
        Ok(changed == 1)
    }

    async fn assist_records(
        &self,
        conversation: &ConversationId,
    ) -> StoreResult<Vec<AssistRecord>> {
        let sql = format!(
            "SELECT {ASSIST_COLUMNS} FROM assist_suggestions WHERE conversation_id = $1 ORDER BY shown_at, rank, id"
        );
        self.query_all(&sql, &[&conversation.as_str()], assist_from)
            .await
    }

    async fn resolved_samples(&self, limit: u32) -> StoreResult<Vec<ResolvedSample>> {
        let closed = self
            .query_all(
                "SELECT id, closed_at FROM conversations WHERE resolution = 'resolved' AND closed_at IS NOT NULL ORDER BY closed_at DESC, id LIMIT $1",
                &[&i64::from(limit)],
                |row| Ok((get::<String>(row, "id")?, get::<DateTime<Utc>>(row, "closed_at")?)),
            )
            .await?;
        // Every message of those conversations in one query, not one query each.
        let ids: Vec<&str> = closed.iter().map(|(id, _)| id.as_str()).collect();
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ANY($1) ORDER BY seq"
        );
        let mut by_conversation: std::collections::HashMap<String, Vec<Message>> =
            std::collections::HashMap::new();
        for message in self.query_all(&sql, &[&ids], message_from).await? {
            by_conversation
                .entry(message.conversation_id.as_str().to_owned())
                .or_default()
                .push(message);
        }
        Ok(closed
            .into_iter()
            .map(|(id, closed_at)| {
                let said = by_conversation.remove(&id).unwrap_or_default();
                resolved_sample(ConversationId::from_trusted(id), &said, closed_at)
            })
            .collect())
    }
}
