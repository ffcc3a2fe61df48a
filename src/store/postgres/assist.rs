//! Agent assist: suggestions shown and used, and the resolved conversations they come from
//! (PostgreSQL).
//!
//! The statements are in `src/store/sql/postgres/assist/`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio_postgres::Row;

use super::conversations::message_from;
use super::{db, get, PostgresStore};
use crate::domain::{AgentId, ConversationId, Message, MessageId};
use crate::store::{resolved_sample, AssistRecord, AssistStore, ResolvedSample, StoreResult};

const INSERT_SUGGESTION: &str = include_str!("../sql/postgres/assist/insert_suggestion.sql");
const USE_SUGGESTION: &str = include_str!("../sql/postgres/assist/use_suggestion.sql");
const SELECT_SUGGESTIONS: &str = include_str!("../sql/postgres/assist/select_suggestions.sql");
const SELECT_RESOLVED_CONVERSATIONS: &str =
    include_str!("../sql/postgres/assist/select_resolved_conversations.sql");
const SELECT_RESOLVED_MESSAGES: &str =
    include_str!("../sql/postgres/assist/select_resolved_messages.sql");

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

#[async_trait]
impl AssistStore for PostgresStore {
    async fn record_assist(&self, shown: &[AssistRecord]) -> StoreResult<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db)?;
        for s in shown {
            let rank = i32::try_from(s.rank).unwrap_or(i32::MAX);
            tx.execute(
                INSERT_SUGGESTION,
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
                USE_SUGGESTION,
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
        self.query_all(SELECT_SUGGESTIONS, &[&conversation.as_str()], assist_from)
            .await
    }

    async fn resolved_samples(&self, limit: u32) -> StoreResult<Vec<ResolvedSample>> {
        let closed = self
            .query_all(SELECT_RESOLVED_CONVERSATIONS, &[&i64::from(limit)], |row| {
                Ok((
                    get::<String>(row, "id")?,
                    get::<DateTime<Utc>>(row, "closed_at")?,
                ))
            })
            .await?;
        // Every message of those conversations in one query, not one query each.
        let ids: Vec<&str> = closed.iter().map(|(id, _)| id.as_str()).collect();
        let mut by_conversation: std::collections::HashMap<String, Vec<Message>> =
            std::collections::HashMap::new();
        for message in self
            .query_all(SELECT_RESOLVED_MESSAGES, &[&ids], message_from)
            .await?
        {
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
