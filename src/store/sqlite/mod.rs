//! The embedded store: one SQLite file (bundled SQLite, WAL journal, versioned migrations).
//!
//! rusqlite is synchronous, so every call runs on tokio's blocking pool while holding the one
//! connection. `synchronous = NORMAL` in WAL mode makes a committed transaction survive a
//! process crash (SIGKILL); `durable = true` selects `FULL` for power-loss durability.
//!
//! This module holds the connection, the migrations and the helpers every aggregate shares;
//! each aggregate's part of the [`Store`] contract is a submodule, with its statements in
//! `src/store/sql/sqlite/<aggregate>/`.

mod accounts;
mod assist;
mod audit;
mod conversations;
mod customers;
mod kb;
mod outbox;
mod routing;
mod tickets;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{anyhow, Context};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension, Row};

use super::{format_time, parse_time, Store, StoreError, StoreResult};

/// Versioned migrations, applied in order exactly once.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../sql/sqlite/0001_init.sql")),
    (2, include_str!("../sql/sqlite/0002_outbox.sql")),
    (3, include_str!("../sql/sqlite/0003_routing_rules.sql")),
    (4, include_str!("../sql/sqlite/0004_task_routing.sql")),
    (5, include_str!("../sql/sqlite/0005_routing_ops.sql")),
    (
        6,
        include_str!("../sql/sqlite/0006_agent_media_capacity.sql"),
    ),
    (7, include_str!("../sql/sqlite/0007_channels.sql")),
    (8, include_str!("../sql/sqlite/0008_app_presence.sql")),
    (9, include_str!("../sql/sqlite/0009_bot.sql")),
    (10, include_str!("../sql/sqlite/0010_staff.sql")),
    (11, include_str!("../sql/sqlite/0011_supervision.sql")),
];

/// SQLite-backed [`Store`].
#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and applies pending migrations.
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating directory {}", parent.display()))?;
        }
        let conn = Connection::open(path)
            .with_context(|| format!("opening SQLite database {}", path.display()))?;
        Self::from_connection(conn)
    }

    /// An in-memory database (tests, benchmarks).
    pub fn in_memory() -> anyhow::Result<Self> {
        Self::from_connection(Connection::open_in_memory()?)
    }

    fn from_connection(mut conn: Connection) -> anyhow::Result<Self> {
        conn.busy_timeout(Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        migrate(&mut conn).context("applying SQLite migrations")?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` with the connection on the blocking pool.
    async fn with_conn<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        // The connection lock is taken on the blocking thread, never held by an async task: a
        // future that stops being polled (an actor waiting on something else) cannot hold the
        // store for everyone (an async semaphore here deadlocked the dispatcher).
        tokio::task::spawn_blocking(move || {
            let mut guard = conn
                .lock()
                .map_err(|_| StoreError::Unavailable(anyhow!("SQLite connection lock poisoned")))?;
            f(&mut guard)
        })
        .await
        .map_err(|e| StoreError::Unavailable(anyhow!("SQLite worker failed: {e}")))?
    }
}

fn migrate(conn: &mut Connection) -> anyhow::Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)",
    )?;
    for (version, sql) in MIGRATIONS {
        let applied: Option<i64> = conn
            .query_row(
                "SELECT version FROM schema_migrations WHERE version = ?1",
                [version],
                |r| r.get(0),
            )
            .optional()?;
        if applied.is_some() {
            continue;
        }
        let tx = conn.transaction()?;
        tx.execute_batch(sql)
            .with_context(|| format!("migration {version}"))?;
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)",
            params![version, format_time(&Utc::now())],
        )?;
        tx.commit()?;
    }
    Ok(())
}

fn unavailable(e: rusqlite::Error) -> StoreError {
    StoreError::Unavailable(anyhow::Error::new(e))
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _)
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
    )
}

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

fn json<T: serde::Serialize>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| corrupt(format!("encoding JSON: {e}")))
}

fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> StoreResult<T> {
    serde_json::from_str(text).map_err(|e| corrupt(format!("decoding JSON '{text}': {e}")))
}

fn opt_time(value: Option<String>) -> StoreResult<Option<DateTime<Utc>>> {
    value.as_deref().map(parse_time).transpose()
}

// Row mappers read raw columns inside rusqlite's closure and convert afterwards, so parse
// errors surface as `Corrupt` rather than as rusqlite errors.

/// Runs `sql` (one row per result) with `params` and decodes every row.
fn query_rows<R, T>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    row: fn(&Row<'_>) -> rusqlite::Result<R>,
    from: fn(R) -> StoreResult<T>,
) -> StoreResult<Vec<T>> {
    let mut stmt = conn.prepare_cached(sql).map_err(unavailable)?;
    let rows = stmt
        .query_map(params, row)
        .map_err(unavailable)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(unavailable)?;
    rows.into_iter().map(from).collect()
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        self.with_conn(|c| {
            c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))
                .map(|_| ())
                .map_err(unavailable)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::SqliteStore;

    /// Every statement file prepares on the migrated schema: a typo in a table or column name
    /// fails here rather than on the first call.
    #[test]
    fn every_statement_file_prepares_on_the_migrated_schema() {
        let store = SqliteStore::in_memory().expect("store");
        let conn = store.conn.lock().expect("connection");
        for (_, file) in crate::store::tests::statement_files("sqlite") {
            let sql = std::fs::read_to_string(&file).expect("statement");
            if let Err(e) = conn.prepare(&sql) {
                panic!("{}: {e}", file.display());
            }
        }
    }
}
