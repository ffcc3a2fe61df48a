//! The transactional outbox (deliveries to providers, claimed, settled and relayed with
//! single conditional statements), provider status callbacks and webhook receipts (PostgreSQL).
//!
//! The statements are in `src/store/sql/postgres/outbox/`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio_postgres::Row;

use super::{corrupt, from_json, get, json, PostgresStore};
use crate::store::{OutboxItem, OutboxStatus, OutboxStore, Settlement, StoreError, StoreResult};

const SELECT_ITEM: &str = include_str!("../sql/postgres/outbox/select_item.sql");
const CLAIM: &str = include_str!("../sql/postgres/outbox/claim.sql");
const SETTLE: &str = include_str!("../sql/postgres/outbox/settle.sql");
const RELAY: &str = include_str!("../sql/postgres/outbox/relay.sql");
const COUNT_UNSETTLED: &str = include_str!("../sql/postgres/outbox/count_unsettled.sql");
pub(super) const ENQUEUE: &str = include_str!("../sql/postgres/outbox/enqueue.sql");
const TAKE: &str = include_str!("../sql/postgres/outbox/take.sql");
const RECORD_PROVIDER_STATUS: &str =
    include_str!("../sql/postgres/outbox/record_provider_status.sql");
const SELECT_PROVIDER_REF: &str = include_str!("../sql/postgres/outbox/select_provider_ref.sql");
const INSERT_WEBHOOK_RECEIPT: &str =
    include_str!("../sql/postgres/outbox/insert_webhook_receipt.sql");
const PURGE_WEBHOOK_RECEIPTS: &str =
    include_str!("../sql/postgres/outbox/purge_webhook_receipts.sql");
const SELECT_WEBHOOK_RECEIPT: &str =
    include_str!("../sql/postgres/outbox/select_webhook_receipt.sql");

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

#[async_trait]
impl OutboxStore for PostgresStore {
    async fn outbox_item(&self, id: &str) -> StoreResult<Option<OutboxItem>> {
        self.query_one_opt(SELECT_ITEM, &[&id], outbox_from).await
    }

    async fn claim_outbox(
        &self,
        id: &str,
        now: DateTime<Utc>,
        due_by: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<Option<OutboxItem>> {
        self.query_one_opt(CLAIM, &[&id, &now, &due_by, &lease_until], outbox_from)
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
            SETTLE,
            &[
                &id,
                &status,
                &error,
                &due_at,
                &settled_at,
                &lease_until,
                &provider_ref,
            ],
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
        self.query_all(
            RELAY,
            &[&stale_before, &now, &i64::from(limit)],
            outbox_from,
        )
        .await
    }

    async fn outbox_counts(&self) -> StoreResult<Vec<(OutboxStatus, u64)>> {
        self.query_all(COUNT_UNSETTLED, &[], |row| {
            Ok((
                OutboxStatus::parse(&get::<String>(row, "status")?).map_err(corrupt)?,
                u64::try_from(get::<i64>(row, "n")?).unwrap_or(0),
            ))
        })
        .await
    }

    async fn enqueue_outbox(&self, item: &OutboxItem) -> StoreResult<bool> {
        self.execute(
            ENQUEUE,
            &[
                &item.id,
                &item.channel,
                &json(&item.payload)?,
                &item.due_at,
                &item.created_at,
            ],
        )
        .await
        .map(|n| n == 1)
    }

    async fn take_outbox(&self, id: &str, now: DateTime<Utc>) -> StoreResult<bool> {
        self.execute(TAKE, &[&id, &now])
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
        let rank = crate::store::provider_status_rank(status);
        self.execute(
            RECORD_PROVIDER_STATUS,
            &[&channel, &provider_ref, &status, &at, &rank],
        )
        .await?;
        let known = self
            .query_one_opt(SELECT_PROVIDER_REF, &[&channel, &provider_ref], |_| Ok(()))
            .await?;
        Ok(known.is_some())
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
            INSERT_WEBHOOK_RECEIPT,
            &[&channel, &event_id, &request_hash, &response, &at],
        )
        .await?;
        self.find_webhook_receipt(channel, event_id)
            .await?
            .ok_or_else(|| StoreError::Conflict("webhook receipt vanished".to_owned()))
    }

    async fn purge_webhook_receipts(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        self.execute(PURGE_WEBHOOK_RECEIPTS, &[&before]).await
    }

    async fn find_webhook_receipt(
        &self,
        channel: &str,
        event_id: &str,
    ) -> StoreResult<Option<(String, String)>> {
        self.query_one_opt(SELECT_WEBHOOK_RECEIPT, &[&channel, &event_id], |row| {
            Ok((get(row, "request_hash")?, get(row, "response")?))
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
