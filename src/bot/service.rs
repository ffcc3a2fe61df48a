//! The knowledge base in force on a node: loaded from the store, trained off the session path,
//! swapped into the [`SharedBot`] when it changes (hot reload, no restart).
//!
//! Every change through the API bumps the store's knowledge-base revision. The node that made
//! the change retrains at once ([`KbReloader::nudge`]); every other node sees the new revision
//! at its next poll (`bot.kb_poll_ms`) and retrains too. Training takes well under a second on
//! a knowledge base of a few hundred entries (benches/kb.rs: 2.4 s on 15k examples).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::sync::Notify;

use crate::bot::flows::FlowSet;
use crate::bot::kb::entry::{KbDocument, KbEntry};
use crate::bot::{KbBot, SharedBot};
use crate::settings::BotSettings;
use crate::store::{Store, StoredKbEntry};

/// The flows in force: `bot.flows_file`, or the built-in demo flows, validated.
pub fn load_flows(settings: &BotSettings) -> anyhow::Result<FlowSet> {
    let text = if settings.flows_file.trim().is_empty() {
        crate::bot::flows::DEMO_FLOWS.to_owned()
    } else {
        std::fs::read_to_string(&settings.flows_file)
            .with_context(|| format!("reading bot.flows_file {}", settings.flows_file))?
    };
    FlowSet::from_toml(&text).map_err(|problems| {
        let list: Vec<String> = problems
            .iter()
            .map(|p| format!("{}: {}", p.path, p.message))
            .collect();
        anyhow::anyhow!("the flows are invalid:\n  {}", list.join("\n  "))
    })
}

/// Parses stored entries; a document that no longer parses (written by a newer version, or
/// edited by hand) is skipped with a warning rather than taking the bot down.
pub fn entries_of(stored: Vec<StoredKbEntry>) -> Vec<KbEntry> {
    stored
        .into_iter()
        .filter_map(|s| match serde_json::from_value::<KbEntry>(s.document) {
            Ok(entry) => Some(entry),
            Err(error) => {
                tracing::warn!(id = %s.id, %error, "Skipping a stored knowledge-base entry that does not parse.");
                None
            }
        })
        .collect()
}

/// The stored knowledge base and its revision.
pub async fn load(store: &dyn Store) -> anyhow::Result<(KbDocument, i64)> {
    // The revision first: a change racing this load is picked up by the next poll.
    let revision = store.kb_revision().await?;
    let entries = entries_of(store.kb_entries().await?);
    let out_of_scope = store.kb_out_of_scope().await?;
    Ok((
        KbDocument {
            out_of_scope,
            entries,
        },
        revision,
    ))
}

/// Loads the stored knowledge base and trains a bot on it (on a blocking thread).
pub async fn train(store: &dyn Store, flows: FlowSet) -> anyhow::Result<(KbBot, i64)> {
    let (doc, revision) = load(store).await?;
    let bot = tokio::task::spawn_blocking(move || KbBot::new(&doc, flows))
        .await
        .context("training the knowledge-base bot")?;
    Ok((bot, revision))
}

/// Stores `doc` as the whole knowledge base (the demo's, at first start), unless the store
/// already has entries. Idempotent: every node may call it.
pub async fn seed(store: &dyn Store, doc: &KbDocument, by: &str) -> anyhow::Result<bool> {
    if !store.kb_entries().await?.is_empty() {
        return Ok(false);
    }
    let now = chrono::Utc::now();
    let stored: Vec<StoredKbEntry> = doc
        .entries
        .iter()
        .map(|e| stored_entry(e, by, now))
        .collect::<anyhow::Result<_>>()?;
    let out_of_scope = (!doc.out_of_scope.is_empty() && store.kb_out_of_scope().await?.is_empty())
        .then_some(doc.out_of_scope.as_slice());
    store
        .save_kb_entries(&stored, false, out_of_scope, by, now)
        .await?;
    Ok(true)
}

/// An entry as the store keeps it.
pub fn stored_entry(
    entry: &KbEntry,
    by: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<StoredKbEntry> {
    Ok(StoredKbEntry {
        id: entry.id.clone(),
        document: serde_json::to_value(entry)?,
        status: entry.status.as_str().to_owned(),
        updated_at: at,
        updated_by: by.to_owned(),
    })
}

/// Keeps a node's [`SharedBot`] on the store's newest knowledge-base revision.
pub struct KbReloader {
    nudge: Notify,
}

impl KbReloader {
    /// Starts the reload loop: every `poll`, or at once when nudged, a changed revision is
    /// loaded, trained and swapped in.
    pub fn start(
        shared: Arc<SharedBot>,
        store: Arc<dyn Store>,
        flows: FlowSet,
        poll: Duration,
    ) -> Arc<Self> {
        let reloader = Arc::new(Self {
            nudge: Notify::new(),
        });
        let me = Arc::clone(&reloader);
        actix_web::rt::spawn(async move {
            loop {
                tokio::select! {
                    () = tokio::time::sleep(poll) => {}
                    () = me.nudge.notified() => {}
                }
                match store.kb_revision().await {
                    Ok(revision) if revision == shared.revision() => continue,
                    Ok(_) => {}
                    Err(error) => {
                        tracing::warn!(%error, "Could not read the knowledge-base revision.");
                        continue;
                    }
                }
                match train(store.as_ref(), flows.clone()).await {
                    Ok((bot, revision)) => {
                        let entries = bot.len();
                        if shared.replace(bot, revision) {
                            tracing::info!(revision, entries, "Knowledge base reloaded.");
                        }
                    }
                    Err(error) => {
                        tracing::warn!(%error, "Could not reload the knowledge base; the previous one stays in force.");
                    }
                }
            }
        });
        reloader
    }

    /// Reloads at once (after a change made on this node).
    pub fn nudge(&self) {
        self.nudge.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::settings::{Mode, Settings};

    fn bot_settings(env: &[(&str, &str)]) -> BotSettings {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("config");
        let env = env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned()));
        Settings::load_from(&dir, Mode::Demo, env)
            .expect("demo settings")
            .bot
    }

    #[test]
    fn without_a_flows_file_the_demo_flows_are_in_force() {
        let flows = load_flows(&bot_settings(&[])).expect("demo flows");
        assert!(flows.get("order_status").is_some());
    }

    #[test]
    fn an_invalid_flows_file_is_refused_with_its_problems() {
        let file = tempfile::NamedTempFile::new().expect("temp file");
        std::fs::write(file.path(), "[[flows]]\nid = \"\"\n").expect("write");
        let path = file.path().to_string_lossy().into_owned();
        let error = load_flows(&bot_settings(&[("SWITCHBOARD_BOT__FLOWS_FILE", &path)]))
            .expect_err("invalid flows");
        assert!(
            error.to_string().contains("the flows are invalid"),
            "{error:#}"
        );
    }
}
