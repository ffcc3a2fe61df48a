//! Conversations and messages, and the customer turn that writes messages, the
//! conversation, a hand-off task and outbox rows in one transaction (SQLite).
//!
//! The statements are in `src/store/sql/sqlite/conversations/`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension, Row};

use super::outbox;
use super::routing::insert_task_row;
use super::{corrupt, from_json, is_unique_violation, json, opt_time, unavailable, SqliteStore};
use crate::domain::{
    AgentId, Channel, Conversation, ConversationId, ConversationStatus, Customer, CustomerId,
    Message, MessageId, Resolution, Sender, Task, Tier,
};
use crate::store::{
    format_time, parse_time, ConversationStore, Inserted, LiveConversation, OutboxItem, StoreError,
    StoreResult, Turn, TurnOutcome,
};

const SELECT_MESSAGE: &str = include_str!("../sql/sqlite/conversations/select_message.sql");
const SELECT_CONVERSATION_MESSAGES: &str =
    include_str!("../sql/sqlite/conversations/select_conversation_messages.sql");
const SELECT_CUSTOMER_MESSAGES: &str =
    include_str!("../sql/sqlite/conversations/select_customer_messages.sql");
const SELECT_MESSAGE_BY_KEY: &str =
    include_str!("../sql/sqlite/conversations/select_message_by_key.sql");
const INSERT_MESSAGE: &str = include_str!("../sql/sqlite/conversations/insert_message.sql");
const UPDATE_TURN_CONVERSATION: &str =
    include_str!("../sql/sqlite/conversations/update_turn_conversation.sql");
const HAND_OFF_CONVERSATION: &str =
    include_str!("../sql/sqlite/conversations/hand_off_conversation.sql");
const INSERT_CONVERSATION: &str =
    include_str!("../sql/sqlite/conversations/insert_conversation.sql");
const UPDATE_CONVERSATION: &str =
    include_str!("../sql/sqlite/conversations/update_conversation.sql");
const SELECT_CONVERSATION: &str =
    include_str!("../sql/sqlite/conversations/select_conversation.sql");
const SELECT_OPEN_CONVERSATION: &str =
    include_str!("../sql/sqlite/conversations/select_open_conversation.sql");
const SELECT_SERVED_CUSTOMER: &str =
    include_str!("../sql/sqlite/conversations/select_served_customer.sql");
const SELECT_LIVE_CONVERSATIONS: &str =
    include_str!("../sql/sqlite/conversations/select_live_conversations.sql");
const SELECT_AGENT_CONVERSATIONS: &str =
    include_str!("../sql/sqlite/conversations/select_agent_conversations.sql");
const SELECT_LAST_INBOUND_AT: &str =
    include_str!("../sql/sqlite/conversations/select_last_inbound_at.sql");

/// Columns of a conversation row, in the order every statement that selects one lists them: `id,
/// customer_id, status, last_channel, agent_id, bot_state, opened_at, closed_at, resolution`.
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

/// Columns of a message row, in the order every statement that selects one lists them: `id,
/// conversation_id, customer_id, channel, sender, body, client_id, external_id, agent_id, sent_at`.
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

pub(super) fn message_row(r: &Row<'_>) -> rusqlite::Result<MessageRow> {
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

pub(super) fn message_from(row: MessageRow) -> StoreResult<Message> {
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

/// Runs `sql`, a select of messages by one key, with `key`.
fn query_messages(conn: &Connection, sql: &str, key: &str) -> StoreResult<Vec<Message>> {
    let mut stmt = conn.prepare_cached(sql).map_err(unavailable)?;
    let rows = stmt
        .query_map([key], message_row)
        .map_err(unavailable)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(unavailable)?;
    rows.into_iter().map(message_from).collect()
}

fn select_message_by_key(
    conn: &Connection,
    channel: &str,
    external_id: &str,
) -> StoreResult<Option<Message>> {
    conn.query_row(
        SELECT_MESSAGE_BY_KEY,
        params![channel, external_id],
        message_row,
    )
    .optional()
    .map_err(unavailable)?
    .map(message_from)
    .transpose()
}

/// Inserts one message row (a unique violation is the caller's to interpret).
fn insert_message_row(conn: &Connection, m: &Message) -> rusqlite::Result<usize> {
    conn.prepare_cached(INSERT_MESSAGE)?.execute(params![
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

/// Writes a turn inside `tx` (see [`ConversationStore::commit_turn`]); `Some` is the stored
/// duplicate.
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
            .prepare_cached(UPDATE_TURN_CONVERSATION)
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
            .prepare_cached(HAND_OFF_CONVERSATION)
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
        tx.prepare_cached(outbox::ENQUEUE)
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

#[async_trait]
impl ConversationStore for SqliteStore {
    async fn insert_conversation(&self, conversation: &Conversation) -> StoreResult<()> {
        let c = conversation.clone();
        let bot_state = json(&c.bot_state)?;
        self.with_conn(move |conn| {
            conn.execute(
                INSERT_CONVERSATION,
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
                    StoreError::Conflict(format!(
                        "customer {} already has an open conversation",
                        c.customer_id
                    ))
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
                    UPDATE_CONVERSATION,
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
                return Err(StoreError::Conflict(format!(
                    "conversation {} does not exist",
                    c.id
                )));
            }
            Ok(())
        })
        .await
    }

    async fn conversation(&self, id: &ConversationId) -> StoreResult<Option<Conversation>> {
        let id = id.clone();
        self.with_conn(move |conn| {
            conn.query_row(SELECT_CONVERSATION, [id.as_str()], conversation_row)
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
            conn.query_row(
                SELECT_OPEN_CONVERSATION,
                [customer.as_str()],
                conversation_row,
            )
            .optional()
            .map_err(unavailable)?
            .map(conversation_from)
            .transpose()
        })
        .await
    }

    async fn served_customer(&self, customer: &CustomerId, agent: &AgentId) -> StoreResult<bool> {
        let (customer, agent) = (customer.clone(), agent.clone());
        self.with_conn(move |conn| {
            conn.query_row(
                SELECT_SERVED_CUSTOMER,
                params![customer.as_str(), agent.as_str()],
                |r| r.get::<_, bool>(0),
            )
            .map_err(unavailable)
        })
        .await
    }

    async fn live_conversations(&self, limit: u32) -> StoreResult<Vec<LiveConversation>> {
        self.with_conn(move |conn| {
            let mut stmt = conn
                .prepare_cached(SELECT_LIVE_CONVERSATIONS)
                .map_err(unavailable)?;
            let rows = stmt
                .query_map([limit], |r| {
                    Ok((
                        (
                            r.get::<_, String>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, String>(2)?,
                            r.get::<_, String>(3)?,
                            r.get::<_, Option<String>>(4)?,
                            r.get::<_, String>(5)?,
                        ),
                        (
                            r.get::<_, String>(6)?,
                            r.get::<_, String>(7)?,
                            r.get::<_, String>(8)?,
                            r.get::<_, String>(9)?,
                        ),
                        (
                            r.get::<_, Option<i32>>(10)?,
                            r.get::<_, Option<String>>(11)?,
                            r.get::<_, Option<String>>(12)?,
                            r.get::<_, Option<String>>(13)?,
                        ),
                    ))
                })
                .map_err(unavailable)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(unavailable)?;
            rows.into_iter()
                .map(
                    |(
                        (id, customer_id, status, channel, agent_id, opened_at),
                        (name, tier, tags, customer_created_at),
                        (priority, queue, task_created_at, last_message_at),
                    )| {
                        Ok(LiveConversation {
                            id: ConversationId::from_trusted(id),
                            customer: Customer {
                                id: CustomerId::from_trusted(customer_id),
                                display_name: name,
                                tier: Tier::parse(&tier).map_err(corrupt)?,
                                tags: from_json(&tags)?,
                                created_at: parse_time(&customer_created_at)?,
                            },
                            status: ConversationStatus::parse(&status).map_err(corrupt)?,
                            channel: Channel::parse(&channel).map_err(corrupt)?,
                            agent_id: agent_id.map(AgentId::from_trusted),
                            opened_at: parse_time(&opened_at)?,
                            priority,
                            queue,
                            task_created_at: opt_time(task_created_at)?,
                            last_message_at: opt_time(last_message_at)?,
                        })
                    },
                )
                .collect()
        })
        .await
    }

    async fn agent_conversations(&self, agent: &AgentId) -> StoreResult<Vec<Conversation>> {
        let agent = agent.clone();
        self.with_conn(move |conn| {
            let mut stmt = conn
                .prepare_cached(SELECT_AGENT_CONVERSATIONS)
                .map_err(unavailable)?;
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

    async fn message(&self, id: &MessageId) -> StoreResult<Option<Message>> {
        let id = id.clone();
        self.with_conn(move |conn| {
            Ok(query_messages(conn, SELECT_MESSAGE, id.as_str())?
                .into_iter()
                .next())
        })
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

    async fn conversation_messages(&self, id: &ConversationId) -> StoreResult<Vec<Message>> {
        let id = id.clone();
        self.with_conn(move |conn| query_messages(conn, SELECT_CONVERSATION_MESSAGES, id.as_str()))
            .await
    }

    async fn customer_messages(&self, id: &CustomerId) -> StoreResult<Vec<Message>> {
        let id = id.clone();
        self.with_conn(move |conn| query_messages(conn, SELECT_CUSTOMER_MESSAGES, id.as_str()))
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
                    SELECT_LAST_INBOUND_AT,
                    params![customer.as_str(), channel.as_str()],
                    |r| r.get(0),
                )
                .map_err(unavailable)?;
            at.as_deref().map(parse_time).transpose()
        })
        .await
    }
}
