//! Demo data: the accounts of API.md (agents alice, bob, carol; supervisor sam; password
//! `demo`), and on request `demo.load_agents` extra agents `load-agent-1` … `load-agent-N`
//! for the load generator. Seeding is idempotent, so every node of a cluster may do it.

pub mod orders;

use crate::auth::hash_password;
use crate::domain::{Agent, AgentId, Language, Role, Skill};
use crate::settings::DemoSettings;
use crate::store::Store;

/// The demo password of every demo account.
pub const DEMO_PASSWORD: &str = "demo";

/// Username prefix of the load-test agents (`load-agent-1`, `load-agent-2`, …).
pub const LOAD_AGENT_PREFIX: &str = "load-agent-";

/// Conversations a load-test agent may hold at once.
pub const LOAD_AGENT_CAPACITY: u32 = 8;

/// Conversations a named demo agent may hold at once.
const DEMO_AGENT_CAPACITY: u32 = 3;

/// Every skill of the demo, at the top level: load-test agents qualify for any task.
const LOAD_AGENT_SKILLS: &[(&str, u8)] = &[
    ("billing", 5),
    ("refunds", 5),
    ("tech", 5),
    ("orders", 5),
    ("vip", 5),
];

struct DemoAccount {
    username: &'static str,
    name: &'static str,
    role: Role,
    skills: &'static [(&'static str, u8)],
    languages: &'static [Language],
}

const ACCOUNTS: [DemoAccount; 5] = [
    DemoAccount {
        username: "alice",
        name: "Alice",
        role: Role::Agent,
        skills: &[("billing", 4), ("refunds", 5)],
        languages: &[Language::Zh, Language::En],
    },
    DemoAccount {
        username: "bob",
        name: "Bob",
        role: Role::Agent,
        skills: &[("tech", 4), ("orders", 3)],
        languages: &[Language::Zh],
    },
    DemoAccount {
        username: "carol",
        name: "Carol",
        role: Role::Agent,
        skills: &[("billing", 3), ("tech", 5), ("vip", 5)],
        languages: &[Language::En],
    },
    DemoAccount {
        username: "sam",
        name: "Sam",
        role: Role::Supervisor,
        skills: &[],
        languages: &[Language::Zh, Language::En],
    },
    DemoAccount {
        username: "ada",
        name: "Ada",
        role: Role::Admin,
        skills: &[],
        languages: &[Language::Zh, Language::En],
    },
];

/// One account to create or refresh.
struct Seed<'a> {
    username: &'a str,
    name: &'a str,
    role: Role,
    skills: &'a [(&'a str, u8)],
    languages: &'a [Language],
    capacity: u32,
}

/// Hashes the demo password once per seeding run (argon2 is deliberately slow, and every new
/// account gets the same well-known password).
struct PasswordHash(Option<String>);

impl PasswordHash {
    fn get(&mut self) -> anyhow::Result<String> {
        if let Some(hash) = &self.0 {
            return Ok(hash.clone());
        }
        let hash = hash_password(DEMO_PASSWORD)?;
        self.0 = Some(hash.clone());
        Ok(hash)
    }
}

async fn upsert(
    store: &dyn Store,
    account: &Seed<'_>,
    password: &mut PasswordHash,
) -> anyhow::Result<()> {
    let existing = store.agent_by_username(account.username).await?;
    let password_hash = if existing.is_some() {
        String::new() // keep the stored hash
    } else {
        password.get()?
    };
    let skills = account
        .skills
        .iter()
        .map(|(name, level)| Skill::parse(name, *level))
        .collect::<Result<Vec<_>, _>>()?;
    store
        .upsert_agent(&Agent {
            id: existing.map(|a| a.id).unwrap_or_else(AgentId::generate),
            username: account.username.to_owned(),
            display_name: account.name.to_owned(),
            role: account.role,
            skills,
            languages: account.languages.to_vec(),
            capacity: account.capacity,
            // The deployment's routing.voice_capacity / ticket_capacity.
            voice_capacity: None,
            ticket_capacity: None,
            password_hash,
        })
        .await?;
    Ok(())
}

/// Creates (or refreshes) the demo accounts, and `settings.load_agents` load-test agents.
/// Passwords are hashed only for new accounts.
pub async fn seed(store: &dyn Store, settings: &DemoSettings) -> anyhow::Result<()> {
    let mut password = PasswordHash(None);
    for account in &ACCOUNTS {
        let seed = Seed {
            username: account.username,
            name: account.name,
            role: account.role,
            skills: account.skills,
            languages: account.languages,
            capacity: DEMO_AGENT_CAPACITY,
        };
        upsert(store, &seed, &mut password).await?;
    }
    for n in 1..=settings.load_agents {
        let username = format!("{LOAD_AGENT_PREFIX}{n}");
        let name = format!("Load Agent {n}");
        let seed = Seed {
            username: &username,
            name: &name,
            role: Role::Agent,
            skills: LOAD_AGENT_SKILLS,
            languages: &[Language::Zh, Language::En],
            capacity: LOAD_AGENT_CAPACITY,
        };
        upsert(store, &seed, &mut password).await?;
    }
    tracing::info!(
        load_agents = settings.load_agents,
        "Demo accounts ready: alice, bob, carol (agents), sam (supervisor)."
    );
    if settings.routing_rules {
        seed_routing_rules(store).await?;
    }
    Ok(())
}

/// The demo routing rule set (also a sample for `switchboard simulate --rules`).
pub const DEMO_ROUTING_RULES: &str = include_str!("../../config/demo/routing_rules.json");

/// Stores and activates the demo rule set, unless a rule set was ever stored (a supervisor's
/// work is never replaced). Nodes seeding at once may each store a version; one is active.
async fn seed_routing_rules(store: &dyn Store) -> anyhow::Result<()> {
    if !store.rule_sets().await?.is_empty() {
        return Ok(());
    }
    let document: serde_json::Value = serde_json::from_str(DEMO_ROUTING_RULES)?;
    let doc: crate::routing::rules::RuleSetDoc = serde_json::from_value(document.clone())?;
    let known = store.skill_names().await?;
    if let Err(problems) = crate::routing::rules::compile(&doc, &known) {
        anyhow::bail!("the demo routing rules are invalid: {problems:?}");
    }
    let now = chrono::Utc::now();
    let version = store.insert_rule_set(&document, "demo", now).await?;
    store.activate_rule_set(version, "demo", now).await?;
    tracing::info!(version, "Demo routing rules active.");
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used)]

    use std::path::PathBuf;

    use super::*;
    use crate::settings::{Mode, Settings};
    use crate::store::sqlite::SqliteStore;
    use crate::store::AccountStore;

    fn demo_settings(env: &[(&str, &str)]) -> DemoSettings {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("config");
        let env = env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned()));
        Settings::load_from(&dir, Mode::Demo, env)
            .expect("settings")
            .demo
    }

    #[test]
    fn no_load_agents_by_default_and_the_environment_asks_for_some() {
        assert_eq!(demo_settings(&[]).load_agents, 0);
        let settings = demo_settings(&[("SWITCHBOARD_DEMO__LOAD_AGENTS", "3")]);
        assert_eq!(settings.load_agents, 3);
    }

    #[tokio::test]
    async fn load_agents_are_seeded_once_with_every_skill_and_both_languages() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(&dir.path().join("demo.db")).expect("store");
        let settings = DemoSettings {
            seed: true,
            load_agents: 2,
            routing_rules: false,
        };
        seed(&store, &settings).await.expect("first seed");
        let first = store
            .agent_by_username("load-agent-2")
            .await
            .expect("query")
            .expect("load-agent-2 exists");
        seed(&store, &settings).await.expect("second seed");
        let second = store
            .agent_by_username("load-agent-2")
            .await
            .expect("query")
            .expect("load-agent-2 still exists");
        assert_eq!(first.id, second.id, "seeding twice keeps the account");
        assert_eq!(second.role, Role::Agent);
        assert_eq!(second.capacity, LOAD_AGENT_CAPACITY);
        assert_eq!(second.languages, vec![Language::Zh, Language::En]);
        let mut skills: Vec<(String, u8)> = second
            .skills
            .iter()
            .map(|s| (s.name.clone(), s.level))
            .collect();
        skills.sort();
        assert_eq!(
            skills,
            [
                ("billing", 5),
                ("orders", 5),
                ("refunds", 5),
                ("tech", 5),
                ("vip", 5)
            ]
            .map(|(n, l)| (n.to_owned(), l))
        );
        assert!(store
            .agent_by_username("load-agent-3")
            .await
            .expect("query")
            .is_none());
        let alice = store
            .agent_by_username("alice")
            .await
            .expect("query")
            .expect("alice");
        assert_eq!(alice.capacity, 3);
    }
}
