//! Staff accounts (agents and supervisors) and the bearer tokens of every principal (PostgreSQL).
//!
//! The statements are in `src/store/sql/postgres/accounts/`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio_postgres::Row;

use super::{corrupt, from_json, get, json, PostgresStore};
use crate::domain::{Agent, AgentId, CustomerId, Language, Role, Skill};
use crate::store::{AccountStore, Principal, StoreResult};

const UPSERT_AGENT: &str = include_str!("../sql/postgres/accounts/upsert_agent.sql");
const SELECT_AGENT: &str = include_str!("../sql/postgres/accounts/select_agent.sql");
const SELECT_AGENT_BY_USERNAME: &str =
    include_str!("../sql/postgres/accounts/select_agent_by_username.sql");
const SELECT_AGENT_SKILLS: &str = include_str!("../sql/postgres/accounts/select_agent_skills.sql");
const INSERT_TOKEN: &str = include_str!("../sql/postgres/accounts/insert_token.sql");
const SELECT_TOKEN: &str = include_str!("../sql/postgres/accounts/select_token.sql");

pub(super) fn agent_from(row: &Row) -> StoreResult<Agent> {
    let skills: Vec<Skill> = from_json(&get::<String>(row, "skills")?)?;
    let languages: Vec<Language> = from_json(&get::<String>(row, "languages")?)?;
    Ok(Agent {
        id: AgentId::from_trusted(get::<String>(row, "id")?),
        username: get(row, "username")?,
        display_name: get(row, "display_name")?,
        role: Role::parse(&get::<String>(row, "role")?).map_err(corrupt)?,
        skills,
        languages,
        capacity: u32::try_from(get::<i32>(row, "capacity")?).map_err(corrupt)?,
        voice_capacity: get::<Option<i32>>(row, "voice_capacity")?
            .map(u32::try_from)
            .transpose()
            .map_err(corrupt)?,
        ticket_capacity: get::<Option<i32>>(row, "ticket_capacity")?
            .map(u32::try_from)
            .transpose()
            .map_err(corrupt)?,
        password_hash: get(row, "password_hash")?,
    })
}

#[async_trait]
impl AccountStore for PostgresStore {
    async fn upsert_agent(&self, a: &Agent) -> StoreResult<AgentId> {
        let capacity = i32::try_from(a.capacity).map_err(corrupt)?;
        let media = |c: Option<u32>| c.map(i32::try_from).transpose().map_err(corrupt);
        let (voice, ticket) = (media(a.voice_capacity)?, media(a.ticket_capacity)?);
        let row = self
            .query_one_opt(
                UPSERT_AGENT,
                &[
                    &a.id.as_str(),
                    &a.username,
                    &a.display_name,
                    &a.role.as_str(),
                    &json(&a.skills)?,
                    &json(&a.languages)?,
                    &capacity,
                    &a.password_hash,
                    &voice,
                    &ticket,
                ],
                |row| Ok(AgentId::from_trusted(get::<String>(row, "id")?)),
            )
            .await?;
        row.ok_or_else(|| corrupt("upsert returned no row"))
    }

    async fn agent(&self, id: &AgentId) -> StoreResult<Option<Agent>> {
        self.query_one_opt(SELECT_AGENT, &[&id.as_str()], agent_from)
            .await
    }

    async fn agent_by_username(&self, username: &str) -> StoreResult<Option<Agent>> {
        self.query_one_opt(SELECT_AGENT_BY_USERNAME, &[&username], agent_from)
            .await
    }

    async fn skill_names(&self) -> StoreResult<std::collections::BTreeSet<String>> {
        let lists = self
            .query_all(SELECT_AGENT_SKILLS, &[], |row| {
                from_json::<Vec<Skill>>(&get::<String>(row, "skills")?)
            })
            .await?;
        Ok(lists.into_iter().flatten().map(|s| s.name).collect())
    }

    async fn insert_token(
        &self,
        token_hash: &str,
        principal: &Principal,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let (kind, subject, role) = match principal {
            Principal::Customer(id) => ("customer", id.as_str(), None),
            Principal::AppUser(id) => ("app_user", id.as_str(), None),
            Principal::Staff { agent_id, role } => {
                ("staff", agent_id.as_str(), Some(role.as_str()))
            }
        };
        self.execute(
            INSERT_TOKEN,
            &[&token_hash, &kind, &subject, &role, &expires_at],
        )
        .await
        .map(|_| ())
    }

    async fn token_principal(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Principal>> {
        let row = self
            .query_one_opt(SELECT_TOKEN, &[&token_hash, &now], |row| {
                Ok((
                    get::<String>(row, "kind")?,
                    get::<String>(row, "subject")?,
                    get::<Option<String>>(row, "role")?,
                ))
            })
            .await?;
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
    }
}
