//! The audit log: appended inside the transaction of the write it records, read newest
//! first (SQLite).
//!
//! The statements are in `src/store/sql/sqlite/audit/`.

use async_trait::async_trait;
use rusqlite::params;

use super::{from_json, unavailable, SqliteStore};
use crate::store::{parse_time, AuditEntry, AuditStore, StoreResult};

const APPEND: &str = include_str!("../sql/sqlite/audit/append.sql");
const SELECT_BY_SUBJECT_PREFIX: &str =
    include_str!("../sql/sqlite/audit/select_by_subject_prefix.sql");

/// Appends to the audit log inside the caller's transaction.
pub(super) fn append(
    tx: &rusqlite::Transaction<'_>,
    at: &str,
    actor: &str,
    action: &str,
    subject: &str,
    detail: &serde_json::Value,
) -> StoreResult<()> {
    tx.execute(
        APPEND,
        params![at, actor, action, subject, detail.to_string()],
    )
    .map_err(unavailable)?;
    Ok(())
}

#[async_trait]
impl AuditStore for SqliteStore {
    async fn audit_log(&self, subject_prefix: &str, limit: u32) -> StoreResult<Vec<AuditEntry>> {
        let pattern = format!(
            "{}%",
            subject_prefix.replace('%', "\\%").replace('_', "\\_")
        );
        self.with_conn(move |conn| {
            let mut stmt = conn
                .prepare_cached(SELECT_BY_SUBJECT_PREFIX)
                .map_err(unavailable)?;
            let rows = stmt
                .query_map(params![pattern, limit], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, String>(5)?,
                    ))
                })
                .map_err(unavailable)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(unavailable)?;
            rows.into_iter()
                .map(|(id, at, actor, action, subject, detail)| {
                    Ok(AuditEntry {
                        id,
                        at: parse_time(&at)?,
                        actor,
                        action,
                        subject,
                        detail: from_json(&detail)?,
                    })
                })
                .collect()
        })
        .await
    }
}
