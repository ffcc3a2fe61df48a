//! Tasks and routing: assignment, queue exits, rule sets, overrides, agent presence and the
//! recorded traffic of a dry-run (PostgreSQL).
//!
//! The statements are in `src/store/sql/postgres/routing/`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio_postgres::Row;

use super::accounts::agent_from;
use super::audit;
use super::{corrupt, db, from_json, get, json, PostgresStore};
use crate::domain::{
    AgentId, AgentStatus, Channel, ConversationId, CustomerId, Language, Priority, Role,
    SkillRequirement, Task, TaskId, TaskStatus, Tier,
};
use crate::store::{
    format_time, override_subject, rule_set_subject, Activation, ActiveRuleSet, ActivityEntry,
    Inserted, PresenceEvent, QueueExit, RecordedTask, Rerouted, RoutingStore, StoreError,
    StoreResult, StoredOverride, StoredRuleSet, Traffic,
};

const SELECT_TASK: &str = include_str!("../sql/postgres/routing/select_task.sql");
const SELECT_WAITING_TASKS: &str = include_str!("../sql/postgres/routing/select_waiting_tasks.sql");
const ASSIGN_TASK: &str = include_str!("../sql/postgres/routing/assign_task.sql");
const ASSIGN_CONVERSATION: &str = include_str!("../sql/postgres/routing/assign_conversation.sql");
const FINISH_TASK: &str = include_str!("../sql/postgres/routing/finish_task.sql");
const LEAVE_QUEUE: &str = include_str!("../sql/postgres/routing/leave_queue.sql");
const RETURN_CONVERSATION_TO_BOT: &str =
    include_str!("../sql/postgres/routing/return_conversation_to_bot.sql");
const SELECT_LAST_AGENT: &str = include_str!("../sql/postgres/routing/select_last_agent.sql");
const SELECT_OPEN_TASK: &str = include_str!("../sql/postgres/routing/select_open_task.sql");
const SELECT_PENDING_TRANSFER: &str =
    include_str!("../sql/postgres/routing/select_pending_transfer.sql");
const END_TRANSFERRED_TASK: &str = include_str!("../sql/postgres/routing/end_transferred_task.sql");
const SET_TASK_ROUTING: &str = include_str!("../sql/postgres/routing/set_task_routing.sql");
const SELECT_TASK_ROUTING: &str = include_str!("../sql/postgres/routing/select_task_routing.sql");
const INSERT_RULE_SET: &str = include_str!("../sql/postgres/routing/insert_rule_set.sql");
const SELECT_RULE_SET: &str = include_str!("../sql/postgres/routing/select_rule_set.sql");
const SELECT_RULE_SET_VERSION: &str =
    include_str!("../sql/postgres/routing/select_rule_set_version.sql");
const SELECT_ACTIVE_VERSION: &str =
    include_str!("../sql/postgres/routing/select_active_version.sql");
const ACTIVATE_RULE_SET: &str = include_str!("../sql/postgres/routing/activate_rule_set.sql");
const SELECT_ACTIVE_RULE_SET: &str =
    include_str!("../sql/postgres/routing/select_active_rule_set.sql");
const SELECT_RULE_SETS: &str = include_str!("../sql/postgres/routing/select_rule_sets.sql");
const INSERT_OVERRIDE: &str = include_str!("../sql/postgres/routing/insert_override.sql");
const END_OVERRIDE: &str = include_str!("../sql/postgres/routing/end_override.sql");
const SELECT_OVERRIDES_IN_FORCE: &str =
    include_str!("../sql/postgres/routing/select_overrides_in_force.sql");
const INSERT_PRESENCE: &str = include_str!("../sql/postgres/routing/insert_presence.sql");
const SELECT_AGENT_ACTIVITY: &str =
    include_str!("../sql/postgres/routing/select_agent_activity.sql");
const TRAFFIC_TASKS: &str = include_str!("../sql/postgres/routing/traffic_tasks.sql");
const TRAFFIC_PRESENCE: &str = include_str!("../sql/postgres/routing/traffic_presence.sql");
const TRAFFIC_AGENTS: &str = include_str!("../sql/postgres/routing/traffic_agents.sql");
const SELECT_AGENT_ASSIGNED_TASKS: &str =
    include_str!("../sql/postgres/routing/select_agent_assigned_tasks.sql");
const REQUEUE_CONVERSATION: &str = include_str!("../sql/postgres/routing/requeue_conversation.sql");
const RELEASE_AGENT_CONVERSATIONS: &str =
    include_str!("../sql/postgres/routing/release_agent_conversations.sql");

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
        transfer: get::<Option<String>>(row, "transfer")?
            .as_deref()
            .map(from_json)
            .transpose()?,
    })
}

const INSERT_TASK: &str = include_str!("../sql/postgres/routing/insert_task.sql");

/// Inserts one task with [`INSERT_TASK`]; 0 rows means the conversation has an open task.
pub(super) async fn insert_task_row(
    client: &impl deadpool_postgres::GenericClient,
    t: &Task,
) -> StoreResult<u64> {
    let stmt = client.prepare_cached(INSERT_TASK).await.map_err(db)?;
    let context = t.context.as_ref().map(json).transpose()?;
    let transfer = t.transfer.as_ref().map(json).transpose()?;
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
                &transfer,
            ],
        )
        .await
        .map_err(db)
}

/// Routes the conversations of an agent who left (deactivated, or no longer an agent) again,
/// inside the caller's transaction: each task assigned to them is completed at `at` and a new
/// waiting task with the same target (no preferred agent: not them) takes its place, and its
/// conversation goes back to `queued`; a conversation they hold without an open task goes
/// back to the bot.
pub(super) async fn reroute_agent(
    tx: &deadpool_postgres::Transaction<'_>,
    agent: &AgentId,
    at: DateTime<Utc>,
) -> StoreResult<Rerouted> {
    let held = tx
        .query(SELECT_AGENT_ASSIGNED_TASKS, &[&agent.as_str()])
        .await
        .map_err(db)?
        .iter()
        .map(task_from)
        .collect::<StoreResult<Vec<Task>>>()?;
    let mut tasks = Vec::with_capacity(held.len());
    for old in held {
        tx.execute(
            FINISH_TASK,
            &[&old.id.as_str(), &TaskStatus::Completed.as_str(), &at],
        )
        .await
        .map_err(db)?;
        let task = Task {
            id: TaskId::generate(),
            status: TaskStatus::Waiting,
            agent_id: None,
            created_at: at,
            assigned_at: None,
            preferred_agent: None,
            transfer: None,
            ..old
        };
        insert_task_row(tx, &task).await?;
        tx.execute(REQUEUE_CONVERSATION, &[&task.conversation_id.as_str()])
            .await
            .map_err(db)?;
        tasks.push(task);
    }
    let released = tx
        .query(RELEASE_AGENT_CONVERSATIONS, &[&agent.as_str()])
        .await
        .map_err(db)?
        .iter()
        .map(|row| get::<String>(row, "customer_id").map(CustomerId::from_trusted))
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(Rerouted { tasks, released })
}

/// A task row ([`task_from`]) with queue, finished_at, fallback and the customer's tier and
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

fn rule_set_from(row: &Row) -> StoreResult<StoredRuleSet> {
    Ok(StoredRuleSet {
        version: get(row, "version")?,
        document: from_json(&get::<String>(row, "document")?)?,
        created_by: get(row, "created_by")?,
        created_at: get(row, "created_at")?,
    })
}

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

/// Parses a stored presence status (its wire name).
fn agent_status(s: &str) -> StoreResult<AgentStatus> {
    serde_json::from_value(serde_json::Value::String(s.to_owned()))
        .map_err(|e| corrupt(format!("agent status '{s}': {e}")))
}

#[async_trait]
impl RoutingStore for PostgresStore {
    async fn insert_task(&self, t: &Task) -> StoreResult<Inserted<Task>> {
        // Scoped: the look-up below takes its own connection.
        let inserted = {
            let client = self.client().await?;
            insert_task_row(&client, t).await?
        };
        if inserted == 1 {
            return Ok(Inserted::New(t.clone()));
        }
        let open = if t.transfer.is_some() {
            self.pending_transfer(&t.conversation_id).await?
        } else {
            self.open_task_for(&t.conversation_id).await?
        };
        open.map(Inserted::Duplicate)
            .ok_or_else(|| StoreError::Conflict(format!("task {} exists", t.id)))
    }

    async fn task(&self, id: &TaskId) -> StoreResult<Option<Task>> {
        self.query_one_opt(SELECT_TASK, &[&id.as_str()], task_from)
            .await
    }

    async fn waiting_tasks(&self) -> StoreResult<Vec<Task>> {
        self.query_all(SELECT_WAITING_TASKS, &[], task_from).await
    }

    async fn assign_task(
        &self,
        id: &TaskId,
        agent: &AgentId,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db)?;
        // A transfer's acceptance ends the sender's task first (one assigned task).
        tx.execute(END_TRANSFERRED_TASK, &[&id.as_str(), &at])
            .await
            .map_err(db)?;
        let changed = tx
            .execute(ASSIGN_TASK, &[&id.as_str(), &agent.as_str(), &at])
            .await
            .map_err(db)?;
        if changed != 1 {
            // Not waiting any more (or not an agent): nothing ends, nothing changes.
            tx.rollback().await.map_err(db)?;
            return Ok(false);
        }
        tx.execute(ASSIGN_CONVERSATION, &[&id.as_str(), &agent.as_str()])
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(true)
    }

    async fn finish_task(
        &self,
        id: &TaskId,
        status: TaskStatus,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        self.execute(FINISH_TASK, &[&id.as_str(), &status.as_str(), &at])
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
                LEAVE_QUEUE,
                &[&id.as_str(), &status.as_str(), &queue, &fallback, &at],
            )
            .await
            .map_err(db)?;
        if changed == 1 {
            tx.execute(RETURN_CONVERSATION_TO_BOT, &[&id.as_str()])
                .await
                .map_err(db)?;
        }
        tx.commit().await.map_err(db)?;
        Ok(changed == 1)
    }

    async fn last_agent_of(&self, customer: &CustomerId) -> StoreResult<Option<AgentId>> {
        self.query_one_opt(SELECT_LAST_AGENT, &[&customer.as_str()], |row| {
            Ok(AgentId::from_trusted(get::<String>(row, "agent_id")?))
        })
        .await
    }

    async fn open_task_for(&self, conversation: &ConversationId) -> StoreResult<Option<Task>> {
        self.query_one_opt(SELECT_OPEN_TASK, &[&conversation.as_str()], task_from)
            .await
    }

    async fn pending_transfer(&self, conversation: &ConversationId) -> StoreResult<Option<Task>> {
        self.query_one_opt(
            SELECT_PENDING_TRANSFER,
            &[&conversation.as_str()],
            task_from,
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
            SET_TASK_ROUTING,
            &[&id.as_str(), &routing.to_string(), &queue],
        )
        .await
        .map(|_| ())
    }

    async fn task_routing(&self, id: &TaskId) -> StoreResult<Option<serde_json::Value>> {
        let routing = self
            .query_one_opt(SELECT_TASK_ROUTING, &[&id.as_str()], |row| {
                get::<Option<String>>(row, "routing")
            })
            .await?;
        routing.flatten().as_deref().map(from_json).transpose()
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
            .query_one(INSERT_RULE_SET, &[&document.to_string(), &by, &at])
            .await
            .map_err(db)?;
        let version: i64 = get(&row, "version")?;
        audit::append(
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
        self.query_one_opt(SELECT_RULE_SET, &[&version], rule_set_from)
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
            .query_opt(SELECT_RULE_SET_VERSION, &[&version])
            .await
            .map_err(db)?;
        if exists.is_none() {
            return Ok(Activation::UnknownVersion);
        }
        // Locks the pointer row: concurrent activations are applied one after the other.
        let previous: Option<i64> = tx
            .query_opt(SELECT_ACTIVE_VERSION, &[])
            .await
            .map_err(db)?
            .map(|row| get(&row, "version"))
            .transpose()?;
        tx.execute(ACTIVATE_RULE_SET, &[&version, &by, &at])
            .await
            .map_err(db)?;
        audit::append(
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
        self.query_one_opt(SELECT_ACTIVE_RULE_SET, &[], |row| {
            Ok(ActiveRuleSet {
                rule_set: rule_set_from(row)?,
                activated_by: get(row, "activated_by")?,
                activated_at: get(row, "activated_at")?,
            })
        })
        .await
    }

    async fn rule_sets(&self) -> StoreResult<Vec<StoredRuleSet>> {
        self.query_all(SELECT_RULE_SETS, &[], rule_set_from).await
    }

    async fn insert_override(&self, o: &StoredOverride) -> StoreResult<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db)?;
        tx.execute(
            INSERT_OVERRIDE,
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
        audit::append(
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
            .query_opt(END_OVERRIDE, &[&id, &at, &by])
            .await
            .map_err(db)?;
        let Some(row) = ended else {
            return Ok(false);
        };
        let rule: String = get(&row, "rule")?;
        audit::append(
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
        self.query_all(SELECT_OVERRIDES_IN_FORCE, &[&now], override_from)
            .await
    }

    async fn record_presence(
        &self,
        agent: &AgentId,
        status: AgentStatus,
        reason: Option<&str>,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.execute(
            INSERT_PRESENCE,
            &[&agent.as_str(), &status.as_str(), &at, &reason],
        )
        .await
        .map(|_| ())
    }

    async fn agent_activity(
        &self,
        agent: &AgentId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<ActivityEntry>> {
        self.query_all(
            SELECT_AGENT_ACTIVITY,
            &[&agent.as_str(), &from, &to],
            |row| {
                Ok(ActivityEntry {
                    at: get(row, "at")?,
                    state: agent_status(&get::<String>(row, "status")?)?,
                    reason: get(row, "reason")?,
                })
            },
        )
        .await
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
        let stmt = tx.prepare_cached(TRAFFIC_TASKS).await.map_err(db)?;
        let tasks = tx
            .query(&stmt, &[&from, &to])
            .await
            .map_err(db)?
            .iter()
            .map(recorded_task_from)
            .collect::<StoreResult<Vec<_>>>()?;
        // Each account's last change before the window (its state when the window opens), then
        // every change in the window.
        let stmt = tx.prepare_cached(TRAFFIC_PRESENCE).await.map_err(db)?;
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
        let stmt = tx.prepare_cached(TRAFFIC_AGENTS).await.map_err(db)?;
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
}
