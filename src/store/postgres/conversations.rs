//! Conversations and messages, and the customer turn that writes messages, the
//! conversation, a hand-off task and outbox rows in one transaction (PostgreSQL).
//!
//! The statements are in `src/store/sql/postgres/conversations/`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio_postgres::Row;

use super::outbox;
use super::routing::insert_task_row;
use super::{corrupt, db, from_json, get, json, PostgresStore};
use crate::domain::{
    AgentId, Channel, Conversation, ConversationId, ConversationStatus, Customer, CustomerId,
    Message, MessageId, Resolution, Sender, Tier,
};
use crate::store::{
    ConversationStore, Inserted, LiveConversation, StoreError, StoreResult, Turn, TurnOutcome,
};

const INSERT_CONVERSATION: &str =
    include_str!("../sql/postgres/conversations/insert_conversation.sql");
const UPDATE_CONVERSATION: &str =
    include_str!("../sql/postgres/conversations/update_conversation.sql");
const SELECT_SERVED_CUSTOMER: &str =
    include_str!("../sql/postgres/conversations/select_served_customer.sql");
const SELECT_LIVE_CONVERSATIONS: &str =
    include_str!("../sql/postgres/conversations/select_live_conversations.sql");
const SELECT_CONVERSATION: &str =
    include_str!("../sql/postgres/conversations/select_conversation.sql");
const SELECT_OPEN_CONVERSATION: &str =
    include_str!("../sql/postgres/conversations/select_open_conversation.sql");
const SELECT_AGENT_CONVERSATIONS: &str =
    include_str!("../sql/postgres/conversations/select_agent_conversations.sql");
const SELECT_MESSAGE: &str = include_str!("../sql/postgres/conversations/select_message.sql");
const SELECT_MESSAGE_BY_KEY: &str =
    include_str!("../sql/postgres/conversations/select_message_by_key.sql");
const UPDATE_TURN_CONVERSATION: &str =
    include_str!("../sql/postgres/conversations/update_turn_conversation.sql");
const HAND_OFF_CONVERSATION: &str =
    include_str!("../sql/postgres/conversations/hand_off_conversation.sql");
const SELECT_CONVERSATION_MESSAGES: &str =
    include_str!("../sql/postgres/conversations/select_conversation_messages.sql");
const SELECT_CUSTOMER_MESSAGES: &str =
    include_str!("../sql/postgres/conversations/select_customer_messages.sql");
const SELECT_LAST_INBOUND_AT: &str =
    include_str!("../sql/postgres/conversations/select_last_inbound_at.sql");

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

pub(super) fn message_from(row: &Row) -> StoreResult<Message> {
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

const INSERT_MESSAGE: &str = include_str!("../sql/postgres/conversations/insert_message.sql");

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

#[async_trait]
impl ConversationStore for PostgresStore {
    async fn insert_conversation(&self, c: &Conversation) -> StoreResult<()> {
        self.execute(
            INSERT_CONVERSATION,
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
                UPDATE_CONVERSATION,
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
        self.query_one_opt(SELECT_CONVERSATION, &[&id.as_str()], conversation_from)
            .await
    }

    async fn open_conversation(&self, customer: &CustomerId) -> StoreResult<Option<Conversation>> {
        self.query_one_opt(
            SELECT_OPEN_CONVERSATION,
            &[&customer.as_str()],
            conversation_from,
        )
        .await
    }

    async fn served_customer(&self, customer: &CustomerId, agent: &AgentId) -> StoreResult<bool> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(SELECT_SERVED_CUSTOMER)
            .await
            .map_err(db)?;
        let row = client
            .query_one(&stmt, &[&customer.as_str(), &agent.as_str()])
            .await
            .map_err(db)?;
        row.try_get::<_, bool>(0).map_err(db)
    }

    async fn live_conversations(&self, limit: u32) -> StoreResult<Vec<LiveConversation>> {
        self.query_all(SELECT_LIVE_CONVERSATIONS, &[&i64::from(limit)], |row| {
            Ok(LiveConversation {
                id: ConversationId::from_trusted(get::<String>(row, "id")?),
                customer: Customer {
                    id: CustomerId::from_trusted(get::<String>(row, "customer_id")?),
                    display_name: get(row, "display_name")?,
                    tier: Tier::parse(&get::<String>(row, "tier")?).map_err(corrupt)?,
                    tags: from_json(&get::<String>(row, "tags")?)?,
                    created_at: get(row, "customer_created_at")?,
                },
                status: ConversationStatus::parse(&get::<String>(row, "status")?)
                    .map_err(corrupt)?,
                channel: Channel::parse(&get::<String>(row, "last_channel")?).map_err(corrupt)?,
                agent_id: get::<Option<String>>(row, "agent_id")?.map(AgentId::from_trusted),
                opened_at: get(row, "opened_at")?,
                priority: get(row, "priority")?,
                queue: get(row, "queue")?,
                task_created_at: get(row, "task_created_at")?,
                last_message_at: get(row, "last_message_at")?,
            })
        })
        .await
    }

    async fn agent_conversations(&self, agent: &AgentId) -> StoreResult<Vec<Conversation>> {
        self.query_all(
            SELECT_AGENT_CONVERSATIONS,
            &[&agent.as_str()],
            conversation_from,
        )
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

    async fn message(&self, id: &MessageId) -> StoreResult<Option<Message>> {
        self.query_one_opt(SELECT_MESSAGE, &[&id.as_str()], message_from)
            .await
    }

    async fn find_message(
        &self,
        channel: Channel,
        external_id: &str,
    ) -> StoreResult<Option<Message>> {
        self.query_one_opt(
            SELECT_MESSAGE_BY_KEY,
            &[&channel.as_str(), &external_id],
            message_from,
        )
        .await
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
                        let stmt = tx.prepare_cached(SELECT_MESSAGE_BY_KEY).await.map_err(db)?;
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
                .prepare_cached(UPDATE_TURN_CONVERSATION)
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
            let stmt = tx.prepare_cached(HAND_OFF_CONVERSATION).await.map_err(db)?;
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
            let stmt = tx.prepare_cached(outbox::ENQUEUE).await.map_err(db)?;
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

    async fn conversation_messages(&self, id: &ConversationId) -> StoreResult<Vec<Message>> {
        self.query_all(SELECT_CONVERSATION_MESSAGES, &[&id.as_str()], message_from)
            .await
    }

    async fn customer_messages(&self, id: &CustomerId) -> StoreResult<Vec<Message>> {
        self.query_all(SELECT_CUSTOMER_MESSAGES, &[&id.as_str()], message_from)
            .await
    }

    async fn last_inbound_at(
        &self,
        customer: &CustomerId,
        channel: Channel,
    ) -> StoreResult<Option<DateTime<Utc>>> {
        let client = self.client().await?;
        let row = client
            .query_one(
                SELECT_LAST_INBOUND_AT,
                &[&customer.as_str(), &channel.as_str()],
            )
            .await
            .map_err(db)?;
        get(&row, "at")
    }
}
