//! The knowledge base: entries, out-of-scope questions and the revision; every write is
//! audited in its transaction (SQLite).
//!
//! The statements are in `src/store/sql/sqlite/kb/`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Row};

use super::audit;
use super::{from_json, json, query_rows, unavailable, SqliteStore};
use crate::store::{
    format_time, kb_subject, parse_time, KbStore, KbWrite, StoreResult, StoredKbEntry,
};

const UPSERT_ENTRY: &str = include_str!("../sql/sqlite/kb/upsert_entry.sql");
const DELETE_ENTRY: &str = include_str!("../sql/sqlite/kb/delete_entry.sql");
const SELECT_ENTRY_UPDATED_AT: &str = include_str!("../sql/sqlite/kb/select_entry_updated_at.sql");
const UPDATE_OUT_OF_SCOPE: &str = include_str!("../sql/sqlite/kb/update_out_of_scope.sql");
const BUMP_REVISION: &str = include_str!("../sql/sqlite/kb/bump_revision.sql");
const SELECT_ENTRIES: &str = include_str!("../sql/sqlite/kb/select_entries.sql");
const SELECT_ENTRY: &str = include_str!("../sql/sqlite/kb/select_entry.sql");
const SELECT_ENTRY_IDS: &str = include_str!("../sql/sqlite/kb/select_entry_ids.sql");
const SELECT_REVISION: &str = include_str!("../sql/sqlite/kb/select_revision.sql");
const SELECT_OUT_OF_SCOPE: &str = include_str!("../sql/sqlite/kb/select_out_of_scope.sql");

/// Columns of a knowledge-base entry row, in the order every statement that selects one lists them:
/// `id, document, status, updated_at, updated_by`.
type KbRow = (String, String, String, String, String);

fn kb_row(r: &Row<'_>) -> rusqlite::Result<KbRow> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

fn kb_from(row: KbRow) -> StoreResult<StoredKbEntry> {
    let (id, document, status, updated_at, updated_by) = row;
    Ok(StoredKbEntry {
        id,
        document: from_json(&document)?,
        status,
        updated_at: parse_time(&updated_at)?,
        updated_by,
    })
}

/// Inserts or replaces one knowledge-base entry and audits it, inside the caller's transaction.
fn write_kb_entry(
    tx: &rusqlite::Transaction<'_>,
    e: &StoredKbEntry,
    by: &str,
    at: &str,
) -> StoreResult<()> {
    tx.execute(
        UPSERT_ENTRY,
        params![e.id, e.document.to_string(), e.status, at, by],
    )
    .map_err(unavailable)?;
    audit::append(
        tx,
        at,
        by,
        "kb.entry.saved",
        &kb_subject(&e.id),
        &serde_json::json!({ "status": e.status }),
    )
}

/// Deletes one knowledge-base entry and audits it, inside the caller's transaction; false
/// when there was none.
fn remove_kb_entry(
    tx: &rusqlite::Transaction<'_>,
    id: &str,
    by: &str,
    at: &str,
) -> StoreResult<bool> {
    let deleted = tx.execute(DELETE_ENTRY, [id]).map_err(unavailable)?;
    if deleted > 0 {
        audit::append(
            tx,
            at,
            by,
            "kb.entry.deleted",
            &kb_subject(id),
            &serde_json::json!({}),
        )?;
    }
    Ok(deleted > 0)
}

/// Inside a write transaction: `None` when entry `id` is still the version saved at
/// `expected`, otherwise what the conditional write must answer.
fn kb_precondition(
    tx: &rusqlite::Transaction<'_>,
    id: &str,
    expected: DateTime<Utc>,
) -> StoreResult<Option<KbWrite>> {
    let stored: Option<String> = tx
        .query_row(SELECT_ENTRY_UPDATED_AT, [id], |r| r.get(0))
        .optional()
        .map_err(unavailable)?;
    Ok(match stored {
        None => Some(KbWrite::Missing),
        Some(at) => {
            let at = parse_time(&at)?;
            (at != expected).then_some(KbWrite::Changed(at))
        }
    })
}

/// Replaces the out-of-scope questions (JSON text) and audits it, inside `tx`.
fn write_kb_out_of_scope(
    tx: &rusqlite::Transaction<'_>,
    questions: &str,
    by: &str,
    at: &str,
) -> StoreResult<()> {
    tx.execute(UPDATE_OUT_OF_SCOPE, [questions])
        .map_err(unavailable)?;
    audit::append(
        tx,
        at,
        by,
        "kb.out_of_scope.saved",
        &kb_subject("out_of_scope"),
        &serde_json::json!({}),
    )
}

/// Moves the knowledge base's revision on, inside the caller's transaction.
fn bump_kb_revision(tx: &rusqlite::Transaction<'_>) -> StoreResult<i64> {
    tx.query_row(BUMP_REVISION, [], |r| r.get(0))
        .map_err(unavailable)
}

#[async_trait]
impl KbStore for SqliteStore {
    async fn kb_entries(&self) -> StoreResult<Vec<StoredKbEntry>> {
        self.with_conn(|conn| query_rows(conn, SELECT_ENTRIES, [], kb_row, kb_from))
            .await
    }

    async fn kb_entry(&self, id: &str) -> StoreResult<Option<StoredKbEntry>> {
        let id = id.to_owned();
        self.with_conn(move |conn| {
            conn.query_row(SELECT_ENTRY, [id], kb_row)
                .optional()
                .map_err(unavailable)?
                .map(kb_from)
                .transpose()
        })
        .await
    }

    async fn save_kb_entries(
        &self,
        entries: &[StoredKbEntry],
        replace_all: bool,
        out_of_scope: Option<&[String]>,
        by: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<i64> {
        let (entries, by) = (entries.to_vec(), by.to_owned());
        let out_of_scope = out_of_scope.map(|q| json(&q)).transpose()?;
        self.with_conn(move |conn| {
            let tx = conn.transaction().map_err(unavailable)?;
            let at = format_time(&at);
            if replace_all {
                let keep: std::collections::BTreeSet<&str> =
                    entries.iter().map(|e| e.id.as_str()).collect();
                let existing: Vec<String> = {
                    let mut stmt = tx.prepare(SELECT_ENTRY_IDS).map_err(unavailable)?;
                    let ids = stmt
                        .query_map([], |r| r.get(0))
                        .map_err(unavailable)?
                        .collect::<Result<Vec<String>, _>>()
                        .map_err(unavailable)?;
                    ids
                };
                for id in existing.iter().filter(|id| !keep.contains(id.as_str())) {
                    tx.execute(DELETE_ENTRY, [id]).map_err(unavailable)?;
                    audit::append(
                        &tx,
                        &at,
                        &by,
                        "kb.entry.deleted",
                        &kb_subject(id),
                        &serde_json::json!({}),
                    )?;
                }
            }
            for e in &entries {
                write_kb_entry(&tx, e, &by, &at)?;
            }
            if let Some(questions) = &out_of_scope {
                write_kb_out_of_scope(&tx, questions, &by, &at)?;
            }
            let revision = bump_kb_revision(&tx)?;
            tx.commit().map_err(unavailable)?;
            Ok(revision)
        })
        .await
    }

    async fn save_kb_entry_if(
        &self,
        entry: &StoredKbEntry,
        expected: DateTime<Utc>,
        by: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<KbWrite> {
        let (e, by) = (entry.clone(), by.to_owned());
        self.with_conn(move |conn| {
            let tx = conn.transaction().map_err(unavailable)?;
            if let Some(outcome) = kb_precondition(&tx, &e.id, expected)? {
                return Ok(outcome);
            }
            write_kb_entry(&tx, &e, &by, &format_time(&at))?;
            let revision = bump_kb_revision(&tx)?;
            tx.commit().map_err(unavailable)?;
            Ok(KbWrite::Done(revision))
        })
        .await
    }

    async fn delete_kb_entry_if(
        &self,
        id: &str,
        expected: DateTime<Utc>,
        by: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<KbWrite> {
        let (id, by) = (id.to_owned(), by.to_owned());
        self.with_conn(move |conn| {
            let tx = conn.transaction().map_err(unavailable)?;
            if let Some(outcome) = kb_precondition(&tx, &id, expected)? {
                return Ok(outcome);
            }
            remove_kb_entry(&tx, &id, &by, &format_time(&at))?;
            let revision = bump_kb_revision(&tx)?;
            tx.commit().map_err(unavailable)?;
            Ok(KbWrite::Done(revision))
        })
        .await
    }

    async fn delete_kb_entry(
        &self,
        id: &str,
        by: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<i64>> {
        let (id, by) = (id.to_owned(), by.to_owned());
        self.with_conn(move |conn| {
            let tx = conn.transaction().map_err(unavailable)?;
            if !remove_kb_entry(&tx, &id, &by, &format_time(&at))? {
                return Ok(None);
            }
            let revision = bump_kb_revision(&tx)?;
            tx.commit().map_err(unavailable)?;
            Ok(Some(revision))
        })
        .await
    }

    async fn kb_revision(&self) -> StoreResult<i64> {
        self.with_conn(|conn| {
            conn.query_row(SELECT_REVISION, [], |r| r.get(0))
                .map_err(unavailable)
        })
        .await
    }

    async fn kb_out_of_scope(&self) -> StoreResult<Vec<String>> {
        self.with_conn(|conn| {
            let text: String = conn
                .query_row(SELECT_OUT_OF_SCOPE, [], |r| r.get(0))
                .map_err(unavailable)?;
            from_json(&text)
        })
        .await
    }

    async fn set_kb_out_of_scope(
        &self,
        questions: &[String],
        by: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<i64> {
        let (questions, by) = (json(&questions)?, by.to_owned());
        self.with_conn(move |conn| {
            let tx = conn.transaction().map_err(unavailable)?;
            write_kb_out_of_scope(&tx, &questions, &by, &format_time(&at))?;
            let revision = bump_kb_revision(&tx)?;
            tx.commit().map_err(unavailable)?;
            Ok(revision)
        })
        .await
    }
}
