//! The production store: PostgreSQL through a deadpool-postgres connection pool.
//!
//! Same logical schema and the same contract as the SQLite store (the conformance suite).
//! Versioned migrations run at start under an advisory lock, so several nodes may start at
//! once. Every statement is prepared once per connection (`prepare_cached`); idempotent inserts
//! use `ON CONFLICT`; task assignment is a compare-and-set inside one transaction.
//!
//! This module holds the pool, the migrations and the helpers every aggregate shares; each
//! aggregate's part of the [`Store`] contract is a submodule, with its statements in
//! `src/store/sql/postgres/<aggregate>/`.

mod accounts;
mod assist;
mod audit;
mod conversations;
mod customers;
mod kb;
mod outbox;
mod routing;
mod tickets;

use std::str::FromStr;

use anyhow::{anyhow, Context};
use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use tokio_postgres::error::SqlState;
use tokio_postgres::{NoTls, Row};

use super::{Store, StoreError, StoreResult};

/// Versioned migrations, applied in order exactly once.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../sql/postgres/0001_init.sql")),
    (2, include_str!("../sql/postgres/0002_outbox.sql")),
    (3, include_str!("../sql/postgres/0003_routing_rules.sql")),
    (4, include_str!("../sql/postgres/0004_task_routing.sql")),
    (5, include_str!("../sql/postgres/0005_routing_ops.sql")),
    (
        6,
        include_str!("../sql/postgres/0006_agent_media_capacity.sql"),
    ),
    (7, include_str!("../sql/postgres/0007_channels.sql")),
    (8, include_str!("../sql/postgres/0008_app_presence.sql")),
    (9, include_str!("../sql/postgres/0009_bot.sql")),
    (10, include_str!("../sql/postgres/0010_staff.sql")),
    (11, include_str!("../sql/postgres/0011_supervision.sql")),
];

/// Arbitrary constant identifying Switchboard's migration lock.
const MIGRATION_LOCK: i64 = 0x5357_4954_4348; // "SWITCH"

/// PostgreSQL-backed [`Store`].
#[derive(Clone)]
pub struct PostgresStore {
    pool: Pool,
}

impl PostgresStore {
    /// Connects a pool of `max_size` connections and applies pending migrations.
    pub async fn connect(url: &str, max_size: usize) -> anyhow::Result<Self> {
        let config = tokio_postgres::Config::from_str(url).context("parsing the PostgreSQL URL")?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(max_size)
            .build()
            .context("building the connection pool")?;
        let store = Self { pool };
        store
            .migrate()
            .await
            .context("applying PostgreSQL migrations")?;
        Ok(store)
    }

    async fn client(&self) -> StoreResult<Object> {
        self.pool
            .get()
            .await
            .map_err(|e| StoreError::Unavailable(anyhow!("PostgreSQL pool: {e}")))
    }

    async fn migrate(&self) -> anyhow::Result<()> {
        let mut client = self.pool.get().await.map_err(|e| anyhow!("{e}"))?;
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)",
        )
        .await?;
        for (version, sql) in MIGRATIONS {
            let applied = tx
                .query_opt(
                    "SELECT version FROM schema_migrations WHERE version = $1",
                    &[version],
                )
                .await?;
            if applied.is_none() {
                tx.batch_execute(sql)
                    .await
                    .with_context(|| format!("migration {version}"))?;
                tx.execute(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, now())",
                    &[version],
                )
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }
}

fn db(e: tokio_postgres::Error) -> StoreError {
    if e.code() == Some(&SqlState::UNIQUE_VIOLATION) {
        StoreError::Conflict(e.to_string())
    } else {
        StoreError::Unavailable(anyhow::Error::new(e))
    }
}

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

fn get<'a, T: tokio_postgres::types::FromSql<'a>>(row: &'a Row, column: &str) -> StoreResult<T> {
    row.try_get(column)
        .map_err(|e| corrupt(format!("column {column}: {e}")))
}

fn json<T: serde::Serialize>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| corrupt(format!("encoding JSON: {e}")))
}

fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> StoreResult<T> {
    serde_json::from_str(text).map_err(|e| corrupt(format!("decoding JSON '{text}': {e}")))
}

impl PostgresStore {
    async fn query_one_opt<T>(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
        map: fn(&Row) -> StoreResult<T>,
    ) -> StoreResult<Option<T>> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(sql).await.map_err(db)?;
        client
            .query_opt(&stmt, params)
            .await
            .map_err(db)?
            .as_ref()
            .map(map)
            .transpose()
    }

    async fn query_all<T>(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
        map: fn(&Row) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(sql).await.map_err(db)?;
        client
            .query(&stmt, params)
            .await
            .map_err(db)?
            .iter()
            .map(map)
            .collect()
    }

    async fn execute(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> StoreResult<u64> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(sql).await.map_err(db)?;
        client.execute(&stmt, params).await.map_err(db)
    }
}

#[async_trait]
impl Store for PostgresStore {
    async fn ping(&self) -> StoreResult<()> {
        let client = self.client().await?;
        client.simple_query("SELECT 1").await.map_err(db)?;
        Ok(())
    }
}
