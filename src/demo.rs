//! Demo data: the accounts of API.md (agents alice, bob, carol; supervisor sam; password
//! `demo`). Seeding is idempotent, so every node of a cluster may do it.

use crate::auth::hash_password;
use crate::domain::{Agent, AgentId, Language, Role, Skill};
use crate::store::Store;

/// The demo password of every demo account.
pub const DEMO_PASSWORD: &str = "demo";

struct DemoAccount {
    username: &'static str,
    name: &'static str,
    role: Role,
    skills: &'static [(&'static str, u8)],
    languages: &'static [Language],
}

const ACCOUNTS: [DemoAccount; 4] = [
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
];

/// Creates (or refreshes) the demo accounts. Passwords are hashed only for new accounts.
pub async fn seed(store: &dyn Store) -> anyhow::Result<()> {
    for account in &ACCOUNTS {
        let existing = store.agent_by_username(account.username).await?;
        let password_hash = if existing.is_some() {
            String::new() // keep the stored hash
        } else {
            hash_password(DEMO_PASSWORD)?
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
                capacity: 3,
                password_hash,
            })
            .await?;
    }
    tracing::info!("Demo accounts ready: alice, bob, carol (agents), sam (supervisor).");
    Ok(())
}
