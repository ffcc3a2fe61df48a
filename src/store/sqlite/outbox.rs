//! The transactional outbox (deliveries to providers, claimed, settled and relayed with
//! single conditional statements), provider status callbacks and webhook receipts (SQLite).
//!
//! The statements are in `src/store/sql/sqlite/outbox/`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension, Row};

use super::{corrupt, from_json, json, unavailable, SqliteStore};
use crate::store::{
    format_time, parse_time, OutboxItem, OutboxStatus, OutboxStore, Settlement, StoreResult,
};

const SELECT_ITEM: &str = include_str!("../sql/sqlite/outbox/select_item.sql");
const CLAIM: &str = include_str!("../sql/sqlite/outbox/claim.sql");
const SETTLE: &str = include_str!("../sql/sqlite/outbox/settle.sql");
const RELAY: &str = include_str!("../sql/sqlite/outbox/relay.sql");
const COUNT_UNSETTLED: &str = include_str!("../sql/sqlite/outbox/count_unsettled.sql");
pub(super) const ENQUEUE: &str = include_str!("../sql/sqlite/outbox/enqueue.sql");
const TAKE: &str = include_str!("../sql/sqlite/outbox/take.sql");
const RECORD_PROVIDER_STATUS: &str =
    include_str!("../sql/sqlite/outbox/record_provider_status.sql");
const SELECT_PROVIDER_REF: &str = include_str!("../sql/sqlite/outbox/select_provider_ref.sql");
const INSERT_WEBHOOK_RECEIPT: &str =
    include_str!("../sql/sqlite/outbox/insert_webhook_receipt.sql");
const SELECT_WEBHOOK_RECEIPT: &str =
    include_str!("../sql/sqlite/outbox/select_webhook_receipt.sql");
const PURGE_WEBHOOK_RECEIPTS: &str =
    include_str!("../sql/sqlite/outbox/purge_webhook_receipts.sql");

/// Columns of an outbox row, in the order every statement that selects one lists them: `id,
/// channel, payload, status, attempts, due_at, last_error, created_at, provider_ref,
/// provider_status`.
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
    conn.query_row(SELECT_ITEM, [id], outbox_row)
        .optional()
        .map_err(unavailable)?
        .map(outbox_from)
        .transpose()
}

#[async_trait]
impl OutboxStore for SqliteStore {
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
                    CLAIM,
                    params![
                        id,
                        format_time(&now),
                        format_time(&due_by),
                        format_time(&lease_until)
                    ],
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
                Settlement::Retry { error, due_at } => (
                    "pending",
                    Some(error.clone()),
                    format_time(due_at),
                    None,
                    None,
                ),
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
                    SETTLE,
                    params![
                        id,
                        status,
                        error,
                        due_at,
                        settled_at,
                        format_time(&lease_until),
                        provider_ref
                    ],
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
            let mut stmt = conn.prepare_cached(RELAY).map_err(unavailable)?;
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

    async fn outbox_counts(&self) -> StoreResult<Vec<(OutboxStatus, u64)>> {
        self.with_conn(|conn| {
            let mut stmt = conn.prepare_cached(COUNT_UNSETTLED).map_err(unavailable)?;
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

    async fn enqueue_outbox(&self, item: &OutboxItem) -> StoreResult<bool> {
        let item = item.clone();
        let payload = json(&item.payload)?;
        self.with_conn(move |conn| {
            conn.execute(
                ENQUEUE,
                params![
                    item.id,
                    item.channel,
                    payload,
                    format_time(&item.due_at),
                    format_time(&item.created_at)
                ],
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
            conn.execute(TAKE, params![id, now])
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
        let rank = crate::store::provider_status_rank(&status);
        self.with_conn(move |conn| {
            // Callbacks can arrive out of order: an earlier status never overwrites a later one.
            conn.execute(
                RECORD_PROVIDER_STATUS,
                params![channel, provider_ref, status, format_time(&at), rank],
            )
            .map_err(unavailable)?;
            let known: Option<i64> = conn
                .query_row(SELECT_PROVIDER_REF, params![channel, provider_ref], |r| {
                    r.get(0)
                })
                .optional()
                .map_err(unavailable)?;
            Ok(known.is_some())
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
                INSERT_WEBHOOK_RECEIPT,
                params![channel, event_id, request_hash, response, format_time(&at)],
            )
            .map_err(unavailable)?;
            conn.query_row(SELECT_WEBHOOK_RECEIPT, params![channel, event_id], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .map_err(unavailable)
        })
        .await
    }

    async fn purge_webhook_receipts(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let before = format_time(&before);
        self.with_conn(move |conn| {
            let purged = conn
                .execute(PURGE_WEBHOOK_RECEIPTS, [&before])
                .map_err(unavailable)?;
            Ok(purged as u64)
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
            conn.query_row(SELECT_WEBHOOK_RECEIPT, params![channel, event_id], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()
            .map_err(unavailable)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::RECORD_PROVIDER_STATUS;
    use crate::store::provider_status_rank_sql;

    /// The statement spells out the ranks of `PROVIDER_STATUS_RANKS`: the two cannot drift.
    #[test]
    fn recording_a_provider_status_compares_the_ranks_of_provider_status_ranks() {
        let statement = RECORD_PROVIDER_STATUS
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            statement.contains(&provider_status_rank_sql("provider_status")),
            "{statement}"
        );
    }
}
