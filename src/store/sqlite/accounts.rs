//! Staff accounts (agents and supervisors) and the bearer tokens of every principal (SQLite).
//!
//! The statements are in `src/store/sql/sqlite/accounts/`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Row};

use super::{corrupt, from_json, json, unavailable, SqliteStore};
use crate::domain::{Agent, AgentId, CustomerId, Language, Role, Skill};
use crate::store::{format_time, AccountStore, Principal, StoreResult};

const UPSERT_AGENT: &str = include_str!("../sql/sqlite/accounts/upsert_agent.sql");
const SELECT_AGENT_ID_BY_USERNAME: &str =
    include_str!("../sql/sqlite/accounts/select_agent_id_by_username.sql");
const SELECT_AGENT: &str = include_str!("../sql/sqlite/accounts/select_agent.sql");
const SELECT_AGENT_BY_USERNAME: &str =
    include_str!("../sql/sqlite/accounts/select_agent_by_username.sql");
const SELECT_AGENT_SKILLS: &str = include_str!("../sql/sqlite/accounts/select_agent_skills.sql");
const INSERT_TOKEN: &str = include_str!("../sql/sqlite/accounts/insert_token.sql");
const SELECT_TOKEN: &str = include_str!("../sql/sqlite/accounts/select_token.sql");

/// Columns of an account row, in the order every statement that selects one lists them: `id,
/// username, display_name, role, skills, languages, capacity, password_hash, voice_capacity,
/// ticket_capacity`.
type AgentRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    u32,
    String,
    Option<u32>,
    Option<u32>,
);

pub(super) fn agent_row(r: &Row<'_>) -> rusqlite::Result<AgentRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
    ))
}

pub(super) fn agent_from(row: AgentRow) -> StoreResult<Agent> {
    let (
        id,
        username,
        display_name,
        role,
        skills,
        languages,
        capacity,
        password_hash,
        voice_capacity,
        ticket_capacity,
    ) = row;
    let skills: Vec<Skill> = from_json(&skills)?;
    let languages: Vec<Language> = from_json(&languages)?;
    Ok(Agent {
        id: AgentId::from_trusted(id),
        username,
        display_name,
        role: Role::parse(&role).map_err(corrupt)?,
        skills,
        languages,
        capacity,
        voice_capacity,
        ticket_capacity,
        password_hash,
    })
}

#[async_trait]
impl AccountStore for SqliteStore {
    async fn upsert_agent(&self, agent: &Agent) -> StoreResult<AgentId> {
        let a = agent.clone();
        let skills = json(&a.skills)?;
        let languages = json(&a.languages)?;
        self.with_conn(move |conn| {
            conn.execute(
                UPSERT_AGENT,
                params![
                    a.id.as_str(),
                    a.username,
                    a.display_name,
                    a.role.as_str(),
                    skills,
                    languages,
                    a.capacity,
                    a.password_hash,
                    a.voice_capacity,
                    a.ticket_capacity
                ],
            )
            .map_err(unavailable)?;
            conn.query_row(SELECT_AGENT_ID_BY_USERNAME, [a.username.as_str()], |r| {
                r.get::<_, String>(0)
            })
            .map(AgentId::from_trusted)
            .map_err(unavailable)
        })
        .await
    }

    async fn agent(&self, id: &AgentId) -> StoreResult<Option<Agent>> {
        let id = id.clone();
        self.with_conn(move |conn| {
            conn.query_row(SELECT_AGENT, [id.as_str()], agent_row)
                .optional()
                .map_err(unavailable)?
                .map(agent_from)
                .transpose()
        })
        .await
    }

    async fn agent_by_username(&self, username: &str) -> StoreResult<Option<Agent>> {
        let username = username.to_owned();
        self.with_conn(move |conn| {
            conn.query_row(SELECT_AGENT_BY_USERNAME, [username.as_str()], agent_row)
                .optional()
                .map_err(unavailable)?
                .map(agent_from)
                .transpose()
        })
        .await
    }

    async fn skill_names(&self) -> StoreResult<std::collections::BTreeSet<String>> {
        self.with_conn(|conn| {
            let mut stmt = conn
                .prepare_cached(SELECT_AGENT_SKILLS)
                .map_err(unavailable)?;
            let rows = stmt
                .query_map([], |r| r.get::<_, String>(0))
                .map_err(unavailable)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(unavailable)?;
            let mut names = std::collections::BTreeSet::new();
            for skills in rows {
                let skills: Vec<Skill> = from_json(&skills)?;
                names.extend(skills.into_iter().map(|s| s.name));
            }
            Ok(names)
        })
        .await
    }

    async fn insert_token(
        &self,
        token_hash: &str,
        principal: &Principal,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let (kind, subject, role) = match principal {
            Principal::Customer(id) => ("customer", id.as_str().to_owned(), None),
            Principal::AppUser(id) => ("app_user", id.as_str().to_owned(), None),
            Principal::Staff { agent_id, role } => {
                ("staff", agent_id.as_str().to_owned(), Some(role.as_str()))
            }
        };
        let token_hash = token_hash.to_owned();
        self.with_conn(move |conn| {
            conn.execute(
                INSERT_TOKEN,
                params![token_hash, kind, subject, role, format_time(&expires_at)],
            )
            .map(|_| ())
            .map_err(unavailable)
        })
        .await
    }

    async fn token_principal(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Principal>> {
        let token_hash = token_hash.to_owned();
        self.with_conn(move |conn| {
            let row: Option<(String, String, Option<String>)> = conn
                .query_row(SELECT_TOKEN, params![token_hash, format_time(&now)], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })
                .optional()
                .map_err(unavailable)?;
            row.map(|(kind, subject, role)| match (kind.as_str(), role) {
                ("customer", _) => Ok(Principal::Customer(CustomerId::from_trusted(subject))),
                ("app_user", _) => Ok(Principal::AppUser(CustomerId::from_trusted(subject))),
                ("staff", Some(role)) => Ok(Principal::Staff {
                    agent_id: AgentId::from_trusted(subject),
                    role: Role::parse(&role).map_err(corrupt)?,
                }),
                (other, _) => Err(corrupt(format!("token kind '{other}'"))),
            })
            .transpose()
        })
        .await
    }
}
