//! The knowledge base: entries, out-of-scope questions and the revision; every write is
//! audited in its transaction (PostgreSQL).
//!
//! The statements are in `src/store/sql/postgres/kb/`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio_postgres::Row;

use super::audit;
use super::{db, from_json, get, json, PostgresStore};
use crate::store::{kb_subject, KbStore, KbWrite, StoreResult, StoredKbEntry};

const UPSERT_ENTRY: &str = include_str!("../sql/postgres/kb/upsert_entry.sql");
const DELETE_ENTRY: &str = include_str!("../sql/postgres/kb/delete_entry.sql");
const LOCK_REVISION: &str = include_str!("../sql/postgres/kb/lock_revision.sql");
const SELECT_ENTRY_UPDATED_AT: &str =
    include_str!("../sql/postgres/kb/select_entry_updated_at.sql");
const UPDATE_OUT_OF_SCOPE: &str = include_str!("../sql/postgres/kb/update_out_of_scope.sql");
const BUMP_REVISION: &str = include_str!("../sql/postgres/kb/bump_revision.sql");
const SELECT_ENTRIES: &str = include_str!("../sql/postgres/kb/select_entries.sql");
const SELECT_ENTRY: &str = include_str!("../sql/postgres/kb/select_entry.sql");
const DELETE_ENTRIES_EXCEPT: &str = include_str!("../sql/postgres/kb/delete_entries_except.sql");
const SELECT_REVISION: &str = include_str!("../sql/postgres/kb/select_revision.sql");
const SELECT_OUT_OF_SCOPE: &str = include_str!("../sql/postgres/kb/select_out_of_scope.sql");

fn kb_from(row: &Row) -> StoreResult<StoredKbEntry> {
    Ok(StoredKbEntry {
        id: get(row, "id")?,
        document: from_json(&get::<String>(row, "document")?)?,
        status: get(row, "status")?,
        updated_at: get(row, "updated_at")?,
        updated_by: get(row, "updated_by")?,
    })
}

/// Inserts or replaces one knowledge-base entry and audits it, inside the caller's transaction.
async fn write_kb_entry(
    tx: &deadpool_postgres::Transaction<'_>,
    e: &StoredKbEntry,
    by: &str,
    at: &DateTime<Utc>,
) -> StoreResult<()> {
    tx.execute(
        UPSERT_ENTRY,
        &[&e.id, &e.document.to_string(), &e.status, at, &by],
    )
    .await
    .map_err(db)?;
    audit::append(
        tx,
        at,
        by,
        "kb.entry.saved",
        &kb_subject(&e.id),
        &serde_json::json!({ "status": e.status }),
    )
    .await
}

/// Deletes one knowledge-base entry and audits it, inside the caller's transaction; false
/// when there was none.
async fn remove_kb_entry(
    tx: &deadpool_postgres::Transaction<'_>,
    id: &str,
    by: &str,
    at: &DateTime<Utc>,
) -> StoreResult<bool> {
    let deleted = tx.execute(DELETE_ENTRY, &[&id]).await.map_err(db)?;
    if deleted > 0 {
        audit::append(
            tx,
            at,
            by,
            "kb.entry.deleted",
            &kb_subject(id),
            &serde_json::json!({}),
        )
        .await?;
    }
    Ok(deleted > 0)
}

/// Inside a write transaction: locks the knowledge base (its revision row, as every writer
/// does) and entry `id`; `None` when the entry is still the version saved at `expected`,
/// otherwise what the conditional write must answer.
async fn kb_precondition(
    tx: &deadpool_postgres::Transaction<'_>,
    id: &str,
    expected: DateTime<Utc>,
) -> StoreResult<Option<KbWrite>> {
    tx.execute(LOCK_REVISION, &[]).await.map_err(db)?;
    let row = tx
        .query_opt(SELECT_ENTRY_UPDATED_AT, &[&id])
        .await
        .map_err(db)?;
    Ok(match row {
        None => Some(KbWrite::Missing),
        Some(row) => {
            let at: DateTime<Utc> = get(&row, "updated_at")?;
            (at != expected).then_some(KbWrite::Changed(at))
        }
    })
}

/// Replaces the out-of-scope questions and audits it, inside `tx`.
async fn write_kb_out_of_scope(
    tx: &deadpool_postgres::Transaction<'_>,
    questions: &[String],
    by: &str,
    at: &DateTime<Utc>,
) -> StoreResult<()> {
    tx.execute(UPDATE_OUT_OF_SCOPE, &[&json(&questions)?])
        .await
        .map_err(db)?;
    audit::append(
        tx,
        at,
        by,
        "kb.out_of_scope.saved",
        &kb_subject("out_of_scope"),
        &serde_json::json!({}),
    )
    .await
}

/// Moves the knowledge base's revision on, inside the caller's transaction.
async fn bump_kb_revision(tx: &deadpool_postgres::Transaction<'_>) -> StoreResult<i64> {
    let row = tx.query_one(BUMP_REVISION, &[]).await.map_err(db)?;
    get(&row, "revision")
}

#[async_trait]
impl KbStore for PostgresStore {
    async fn kb_entries(&self) -> StoreResult<Vec<StoredKbEntry>> {
        self.query_all(SELECT_ENTRIES, &[], kb_from).await
    }

    async fn kb_entry(&self, id: &str) -> StoreResult<Option<StoredKbEntry>> {
        self.query_one_opt(SELECT_ENTRY, &[&id], kb_from).await
    }

    async fn save_kb_entries(
        &self,
        entries: &[StoredKbEntry],
        replace_all: bool,
        out_of_scope: Option<&[String]>,
        by: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<i64> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db)?;
        // One writer at a time: concurrent imports serialize on the revision row.
        tx.execute(LOCK_REVISION, &[]).await.map_err(db)?;
        if replace_all {
            let keep: Vec<&str> = entries.iter().map(|e| e.id.as_str()).collect();
            let removed = tx
                .query(DELETE_ENTRIES_EXCEPT, &[&keep])
                .await
                .map_err(db)?;
            for row in removed {
                let id: String = get(&row, "id")?;
                audit::append(
                    &tx,
                    &at,
                    by,
                    "kb.entry.deleted",
                    &kb_subject(&id),
                    &serde_json::json!({}),
                )
                .await?;
            }
        }
        for e in entries {
            write_kb_entry(&tx, e, by, &at).await?;
        }
        if let Some(questions) = out_of_scope {
            write_kb_out_of_scope(&tx, questions, by, &at).await?;
        }
        let revision = bump_kb_revision(&tx).await?;
        tx.commit().await.map_err(db)?;
        Ok(revision)
    }

    async fn save_kb_entry_if(
        &self,
        entry: &StoredKbEntry,
        expected: DateTime<Utc>,
        by: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<KbWrite> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db)?;
        if let Some(outcome) = kb_precondition(&tx, &entry.id, expected).await? {
            return Ok(outcome);
        }
        write_kb_entry(&tx, entry, by, &at).await?;
        let revision = bump_kb_revision(&tx).await?;
        tx.commit().await.map_err(db)?;
        Ok(KbWrite::Done(revision))
    }

    async fn delete_kb_entry_if(
        &self,
        id: &str,
        expected: DateTime<Utc>,
        by: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<KbWrite> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db)?;
        if let Some(outcome) = kb_precondition(&tx, id, expected).await? {
            return Ok(outcome);
        }
        remove_kb_entry(&tx, id, by, &at).await?;
        let revision = bump_kb_revision(&tx).await?;
        tx.commit().await.map_err(db)?;
        Ok(KbWrite::Done(revision))
    }

    async fn delete_kb_entry(
        &self,
        id: &str,
        by: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<i64>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db)?;
        if !remove_kb_entry(&tx, id, by, &at).await? {
            return Ok(None);
        }
        let revision = bump_kb_revision(&tx).await?;
        tx.commit().await.map_err(db)?;
        Ok(Some(revision))
    }

    async fn kb_revision(&self) -> StoreResult<i64> {
        let client = self.client().await?;
        let row = client.query_one(SELECT_REVISION, &[]).await.map_err(db)?;
        get(&row, "revision")
    }

    async fn kb_out_of_scope(&self) -> StoreResult<Vec<String>> {
        let client = self.client().await?;
        let row = client
            .query_one(SELECT_OUT_OF_SCOPE, &[])
            .await
            .map_err(db)?;
        from_json(&get::<String>(&row, "out_of_scope")?)
    }

    async fn set_kb_out_of_scope(
        &self,
        questions: &[String],
        by: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<i64> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db)?;
        write_kb_out_of_scope(&tx, questions, by, &at).await?;
        let revision = bump_kb_revision(&tx).await?;
        tx.commit().await.map_err(db)?;
        Ok(revision)
    }
}
