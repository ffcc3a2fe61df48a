//! The knowledge base as supervisors edit it: entries read with their editors' names, and
//! writes (one entry, conditional on its version, or many at once) that are stored and
//! audited in one transaction and then retrain this node's bot. A write cannot forget the
//! retraining: it is part of the write.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, SubsecRound, Utc};

use crate::bot::kb::entry::{KbDocument, KbEntry};
use crate::bot::service::{entries_of, stored_entry, KbReloader};
use crate::domain::AgentId;
use crate::error::ApiError;
use crate::store::{KbWrite, Store, StoredKbEntry};

/// The time a write stamps on entries, at the stores' precision (microseconds), so the ETag
/// answered is the one a later read gives.
fn write_time() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// What a conditional delete finds.
pub enum Deleted {
    /// Deleted: the knowledge base's new revision.
    Done(i64),
    /// No such entry.
    Missing,
    /// The entry changed since the version given: its current version.
    Changed(DateTime<Utc>),
}

/// The knowledge-base service.
#[derive(Clone)]
pub struct KbService {
    store: Arc<dyn Store>,
    reloader: Arc<KbReloader>,
}

impl KbService {
    pub fn new(store: Arc<dyn Store>, reloader: Arc<KbReloader>) -> Self {
        Self { store, reloader }
    }

    /// The knowledge base's revision (bumped by every write).
    pub async fn revision(&self) -> Result<i64, ApiError> {
        Ok(self.store.kb_revision().await?)
    }

    /// Every stored entry.
    pub async fn entries(&self) -> Result<Vec<StoredKbEntry>, ApiError> {
        Ok(self.store.kb_entries().await?)
    }

    /// One stored entry.
    pub async fn entry(&self, id: &str) -> Result<Option<StoredKbEntry>, ApiError> {
        Ok(self.store.kb_entry(id).await?)
    }

    /// The whole knowledge base as one document (export).
    pub async fn document(&self) -> Result<KbDocument, ApiError> {
        Ok(KbDocument {
            entries: entries_of(self.store.kb_entries().await?),
            out_of_scope: self.store.kb_out_of_scope().await?,
        })
    }

    /// The display names of the staff who last changed `entries`, by agent id.
    pub async fn editor_names(
        &self,
        entries: &[StoredKbEntry],
    ) -> Result<HashMap<String, String>, ApiError> {
        let mut ids: Vec<&str> = entries.iter().map(|e| e.updated_by.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut names = HashMap::new();
        for id in ids {
            // A deactivated editor keeps their name on what they wrote.
            if let Some(member) = self.store.staff_member(&AgentId::from_trusted(id)).await? {
                names.insert(id.to_owned(), member.agent.display_name);
            }
        }
        Ok(names)
    }

    /// Stores entries (adding and replacing, or as the whole knowledge base), and the
    /// out-of-scope questions when given, then retrains. The revision and the entries' time.
    pub async fn save(
        &self,
        entries: &[KbEntry],
        replace_all: bool,
        out_of_scope: Option<&[String]>,
        by: &AgentId,
    ) -> Result<(i64, DateTime<Utc>), ApiError> {
        let now = write_time();
        let stored: Vec<StoredKbEntry> = entries
            .iter()
            .map(|e| stored_entry(e, by.as_str(), now))
            .collect::<anyhow::Result<_>>()
            .map_err(ApiError::internal)?;
        let revision = self
            .store
            .save_kb_entries(&stored, replace_all, out_of_scope, by.as_str(), now)
            .await?;
        self.reloader.nudge();
        Ok((revision, now))
    }

    /// Replaces an entry if its version is still `expected`, then retrains. The outcome and
    /// the entry's new time.
    pub async fn save_if(
        &self,
        entry: &KbEntry,
        expected: DateTime<Utc>,
        by: &AgentId,
    ) -> Result<(KbWrite, DateTime<Utc>), ApiError> {
        let at = write_time();
        let stored = stored_entry(entry, by.as_str(), at).map_err(ApiError::internal)?;
        let outcome = self
            .store
            .save_kb_entry_if(&stored, expected, by.as_str(), at)
            .await?;
        if matches!(outcome, KbWrite::Done(_)) {
            self.reloader.nudge();
        }
        Ok((outcome, at))
    }

    /// Deletes an entry, if its version is still `expected` when one is given, then
    /// retrains.
    pub async fn delete(
        &self,
        id: &str,
        expected: Option<DateTime<Utc>>,
        by: &AgentId,
    ) -> Result<Deleted, ApiError> {
        let outcome = match expected {
            Some(expected) => match self
                .store
                .delete_kb_entry_if(id, expected, by.as_str(), write_time())
                .await?
            {
                KbWrite::Done(revision) => Deleted::Done(revision),
                KbWrite::Missing => Deleted::Missing,
                KbWrite::Changed(current) => Deleted::Changed(current),
            },
            None => match self
                .store
                .delete_kb_entry(id, by.as_str(), write_time())
                .await?
            {
                Some(revision) => Deleted::Done(revision),
                None => Deleted::Missing,
            },
        };
        if let Deleted::Done(_) = outcome {
            self.reloader.nudge();
        }
        Ok(outcome)
    }
}
