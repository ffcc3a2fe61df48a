//! Agent assist: suggestions shown and used, and the resolved conversations they come from
//! (SQLite).
//!
//! The statements are in `src/store/sql/sqlite/assist/`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{params, Row};

use super::conversations::{message_from, message_row};
use super::{opt_time, query_rows, unavailable, SqliteStore};
use crate::domain::{AgentId, ConversationId, Message, MessageId};
use crate::store::{
    format_time, parse_time, resolved_sample, AssistRecord, AssistStore, ResolvedSample,
    StoreResult,
};

const INSERT_SUGGESTION: &str = include_str!("../sql/sqlite/assist/insert_suggestion.sql");
const USE_SUGGESTION: &str = include_str!("../sql/sqlite/assist/use_suggestion.sql");
const SELECT_SUGGESTIONS: &str = include_str!("../sql/sqlite/assist/select_suggestions.sql");
const SELECT_RESOLVED_CONVERSATIONS: &str =
    include_str!("../sql/sqlite/assist/select_resolved_conversations.sql");
const SELECT_RESOLVED_MESSAGES: &str =
    include_str!("../sql/sqlite/assist/select_resolved_messages.sql");

/// Columns of a suggestion row, in the order every statement that selects one lists them: `id,
/// conversation_id, message_id, agent_id, kind, reference, rank, score, shown_at, used_at`.
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

#[async_trait]
impl AssistStore for SqliteStore {
    async fn record_assist(&self, shown: &[AssistRecord]) -> StoreResult<()> {
        let shown = shown.to_vec();
        self.with_conn(move |conn| {
            let tx = conn.transaction().map_err(unavailable)?;
            for s in &shown {
                tx.execute(
                    INSERT_SUGGESTION,
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
                    USE_SUGGESTION,
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
                SELECT_SUGGESTIONS,
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
                    .prepare_cached(SELECT_RESOLVED_CONVERSATIONS)
                    .map_err(unavailable)?;
                let rows = stmt
                    .query_map([limit], |r| Ok((r.get(0)?, r.get(1)?)))
                    .map_err(unavailable)?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(unavailable)?;
                rows
            };
            // Every message of those conversations in one query, not one query each.
            let mut by_conversation: std::collections::HashMap<String, Vec<Message>> =
                std::collections::HashMap::new();
            for message in query_rows(
                conn,
                SELECT_RESOLVED_MESSAGES,
                [limit],
                message_row,
                message_from,
            )? {
                by_conversation
                    .entry(message.conversation_id.as_str().to_owned())
                    .or_default()
                    .push(message);
            }
            closed
                .into_iter()
                .map(|(id, closed_at)| {
                    let said = by_conversation.remove(&id).unwrap_or_default();
                    Ok(resolved_sample(
                        ConversationId::from_trusted(id),
                        &said,
                        parse_time(&closed_at)?,
                    ))
                })
                .collect()
        })
        .await
    }
}
