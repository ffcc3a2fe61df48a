//! The audit log: appended inside the transaction of the write it records, read newest
//! first (PostgreSQL).
//!
//! The statements are in `src/store/sql/postgres/audit/`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{db, from_json, get, PostgresStore};
use crate::store::{AuditEntry, AuditStore, StoreResult};

const APPEND: &str = include_str!("../sql/postgres/audit/append.sql");
const SELECT_BY_SUBJECT_PREFIX: &str =
    include_str!("../sql/postgres/audit/select_by_subject_prefix.sql");

/// Appends to the audit log inside the caller's transaction.
pub(super) async fn append(
    tx: &deadpool_postgres::Transaction<'_>,
    at: &DateTime<Utc>,
    actor: &str,
    action: &str,
    subject: &str,
    detail: &serde_json::Value,
) -> StoreResult<()> {
    tx.execute(
        APPEND,
        &[at, &actor, &action, &subject, &detail.to_string()],
    )
    .await
    .map_err(db)?;
    Ok(())
}

#[async_trait]
impl AuditStore for PostgresStore {
    async fn audit_log(&self, subject_prefix: &str, limit: u32) -> StoreResult<Vec<AuditEntry>> {
        let pattern = format!(
            "{}%",
            subject_prefix.replace('%', "\\%").replace('_', "\\_")
        );
        self.query_all(
            SELECT_BY_SUBJECT_PREFIX,
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
}
