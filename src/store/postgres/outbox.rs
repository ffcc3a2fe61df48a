//! The transactional outbox (deliveries to providers, claimed, settled and relayed with
//! single conditional statements), provider status callbacks and webhook receipts (PostgreSQL).
//!
//! The statements are in `src/store/sql/postgres/outbox/`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio_postgres::Row;

use super::{corrupt, from_json, get, json, PostgresStore};
use crate::store::{OutboxItem, OutboxStatus, OutboxStore, Settlement, StoreError, StoreResult};

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

#[async_trait]
impl OutboxStore for PostgresStore {
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
        let rank = crate::store::provider_status_rank(status);
        self.execute(
            &format!(
                "UPDATE outbox SET provider_status = $3, provider_status_at = $4 WHERE channel = $1 AND provider_ref = $2 AND (provider_status IS NULL OR {} <= $5)",
                crate::store::provider_status_rank_sql("provider_status")
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

    async fn purge_webhook_receipts(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        self.execute(
            "DELETE FROM webhook_receipts WHERE received_at < $1",
            &[&before],
        )
        .await
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
}
