//! Staff accounts, their teams, and the bearer tokens of every principal (PostgreSQL).
//!
//! The statements are in `src/store/sql/postgres/accounts/`.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio_postgres::Row;

use super::{audit, routing};
use super::{corrupt, db, from_json, get, json, PostgresStore};
use crate::domain::{Agent, AgentId, CustomerId, Language, Role, Skill, TeamId, TeamRole};
use crate::store::{
    failed_login_subject, staff_subject, team_subject, AccountStore, Deactivation, Principal,
    Rerouted, StaffChange, StaffMember, StaffWrite, StoreError, StoreResult, Team, ANONYMOUS_ACTOR,
};

const UPSERT_AGENT: &str = include_str!("../sql/postgres/accounts/upsert_agent.sql");
const SELECT_AGENT: &str = include_str!("../sql/postgres/accounts/select_agent.sql");
const SELECT_AGENT_BY_USERNAME: &str =
    include_str!("../sql/postgres/accounts/select_agent_by_username.sql");
const SELECT_AGENT_SKILLS: &str = include_str!("../sql/postgres/accounts/select_agent_skills.sql");
const INSERT_TOKEN: &str = include_str!("../sql/postgres/accounts/insert_token.sql");
const SELECT_TOKEN: &str = include_str!("../sql/postgres/accounts/select_token.sql");
const DELETE_TOKEN: &str = include_str!("../sql/postgres/accounts/delete_token.sql");
const DELETE_AGENT_TOKENS: &str = include_str!("../sql/postgres/accounts/delete_agent_tokens.sql");
const INSERT_REVOKED_APP_TOKEN: &str =
    include_str!("../sql/postgres/accounts/insert_revoked_app_token.sql");
const PURGE_REVOKED_APP_TOKENS: &str =
    include_str!("../sql/postgres/accounts/purge_revoked_app_tokens.sql");
const SELECT_REVOKED_APP_TOKEN: &str =
    include_str!("../sql/postgres/accounts/select_revoked_app_token.sql");
const SELECT_STAFF: &str = include_str!("../sql/postgres/accounts/select_staff.sql");
const SELECT_STAFF_MEMBER: &str = include_str!("../sql/postgres/accounts/select_staff_member.sql");
const SELECT_AGENT_STATE: &str = include_str!("../sql/postgres/accounts/select_agent_state.sql");
const SELECT_MEMBERSHIPS: &str = include_str!("../sql/postgres/accounts/select_memberships.sql");
const SELECT_AGENT_MEMBERSHIPS: &str =
    include_str!("../sql/postgres/accounts/select_agent_memberships.sql");
const INSERT_STAFF: &str = include_str!("../sql/postgres/accounts/insert_staff.sql");
const UPDATE_STAFF: &str = include_str!("../sql/postgres/accounts/update_staff.sql");
const DEACTIVATE_AGENT: &str = include_str!("../sql/postgres/accounts/deactivate_agent.sql");
const DELETE_AGENT_MEMBERSHIPS: &str =
    include_str!("../sql/postgres/accounts/delete_agent_memberships.sql");
const INSERT_MEMBERSHIP: &str = include_str!("../sql/postgres/accounts/insert_membership.sql");
const SELECT_TEAMS: &str = include_str!("../sql/postgres/accounts/select_teams.sql");
const INSERT_TEAM: &str = include_str!("../sql/postgres/accounts/insert_team.sql");

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

fn staff_row(row: &Row) -> StoreResult<StaffMember> {
    Ok(StaffMember {
        agent: agent_from(row)?,
        active: get(row, "active")?,
        extension: get(row, "extension")?,
        teams: Vec::new(),
        revision: get(row, "revision")?,
    })
}

fn membership_from(row: &Row) -> StoreResult<(TeamId, AgentId, TeamRole)> {
    Ok((
        TeamId::from_trusted(get::<String>(row, "team_id")?),
        AgentId::from_trusted(get::<String>(row, "agent_id")?),
        TeamRole::parse(&get::<String>(row, "role")?).map_err(corrupt)?,
    ))
}

/// Gives each account of `staff` its teams from `memberships`.
fn with_teams(
    mut staff: Vec<StaffMember>,
    memberships: Vec<(TeamId, AgentId, TeamRole)>,
) -> Vec<StaffMember> {
    let mut teams: HashMap<AgentId, Vec<(TeamId, TeamRole)>> = HashMap::new();
    for (team, agent, role) in memberships {
        teams.entry(agent).or_default().push((team, role));
    }
    for member in &mut staff {
        member.teams = teams.remove(&member.agent.id).unwrap_or_default();
    }
    staff
}

/// Writes the memberships of an account anew.
async fn write_memberships(
    tx: &deadpool_postgres::Transaction<'_>,
    member: &StaffMember,
) -> StoreResult<()> {
    let id = member.agent.id.as_str();
    tx.execute(DELETE_AGENT_MEMBERSHIPS, &[&id])
        .await
        .map_err(db)?;
    for (team, role) in &member.teams {
        tx.execute(INSERT_MEMBERSHIP, &[&team.as_str(), &id, &role.as_str()])
            .await
            .map_err(db)?;
    }
    Ok(())
}

/// A unique violation as `Conflict(what)`, anything else as [`db`] maps it.
fn conflict(what: &str) -> impl Fn(tokio_postgres::Error) -> StoreError + '_ {
    move |e| match db(e) {
        StoreError::Conflict(_) => StoreError::Conflict(what.to_owned()),
        other => other,
    }
}

/// The principal of a token row (`kind, subject, role`).
fn principal_from(row: &Row) -> StoreResult<Principal> {
    let (kind, subject, role) = (
        get::<String>(row, "kind")?,
        get::<String>(row, "subject")?,
        get::<Option<String>>(row, "role")?,
    );
    match (kind.as_str(), role) {
        ("customer", _) => Ok(Principal::Customer(CustomerId::from_trusted(subject))),
        ("app_user", _) => Ok(Principal::AppUser(CustomerId::from_trusted(subject))),
        ("staff", Some(role)) => Ok(Principal::Staff {
            agent_id: AgentId::from_trusted(subject),
            role: Role::parse(&role).map_err(corrupt)?,
        }),
        (other, _) => Err(corrupt(format!("token kind '{other}'"))),
    }
}

/// The capacities of an account as the columns hold them.
fn capacity_columns(a: &Agent) -> StoreResult<(i32, Option<i32>, Option<i32>)> {
    let media = |c: Option<u32>| c.map(i32::try_from).transpose().map_err(corrupt);
    Ok((
        i32::try_from(a.capacity).map_err(corrupt)?,
        media(a.voice_capacity)?,
        media(a.ticket_capacity)?,
    ))
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

    async fn insert_staff_login(
        &self,
        token_hash: &str,
        agent_id: &AgentId,
        role: Role,
        expires_at: DateTime<Utc>,
        detail: &serde_json::Value,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db)?;
        let stored = tx
            .execute(
                INSERT_TOKEN,
                &[
                    &token_hash,
                    &"staff",
                    &agent_id.as_str(),
                    &role.as_str(),
                    &expires_at,
                ],
            )
            .await
            .map_err(db)?
            == 1;
        if stored {
            audit::append(
                &tx,
                &at,
                agent_id.as_str(),
                "staff.login",
                &staff_subject(agent_id),
                detail,
            )
            .await?;
        }
        tx.commit().await.map_err(db)?;
        Ok(stored)
    }

    async fn audit_failed_login(
        &self,
        account: Option<&AgentId>,
        detail: &serde_json::Value,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db)?;
        audit::append(
            &tx,
            &at,
            ANONYMOUS_ACTOR,
            "staff.login_failed",
            &failed_login_subject(account),
            detail,
        )
        .await?;
        tx.commit().await.map_err(db)
    }

    async fn token_principal(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Principal>> {
        self.query_one_opt(SELECT_TOKEN, &[&token_hash, &now], principal_from)
            .await
    }

    async fn delete_token(
        &self,
        token_hash: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<Principal>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db)?;
        let principal = tx
            .query_opt(DELETE_TOKEN, &[&token_hash])
            .await
            .map_err(db)?
            .as_ref()
            .map(principal_from)
            .transpose()?;
        if let Some(Principal::Staff { agent_id, .. }) = &principal {
            audit::append(
                &tx,
                &at,
                agent_id.as_str(),
                "staff.signed_out",
                &staff_subject(agent_id),
                &serde_json::json!({}),
            )
            .await?;
        }
        tx.commit().await.map_err(db)?;
        Ok(principal)
    }

    async fn revoke_app_token(
        &self,
        token_hash: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db)?;
        tx.execute(PURGE_REVOKED_APP_TOKENS, &[&now])
            .await
            .map_err(db)?;
        tx.execute(INSERT_REVOKED_APP_TOKEN, &[&token_hash, &expires_at])
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)
    }

    async fn app_token_revoked(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<bool> {
        self.query_one_opt(SELECT_REVOKED_APP_TOKEN, &[&token_hash, &now], |_| Ok(()))
            .await
            .map(|found| found.is_some())
    }

    async fn staff(&self) -> StoreResult<Vec<StaffMember>> {
        let staff = self.query_all(SELECT_STAFF, &[], staff_row).await?;
        let memberships = self
            .query_all(SELECT_MEMBERSHIPS, &[], membership_from)
            .await?;
        Ok(with_teams(staff, memberships))
    }

    async fn staff_member(&self, id: &AgentId) -> StoreResult<Option<StaffMember>> {
        let Some(member) = self
            .query_one_opt(SELECT_STAFF_MEMBER, &[&id.as_str()], staff_row)
            .await?
        else {
            return Ok(None);
        };
        let memberships = self
            .query_all(SELECT_AGENT_MEMBERSHIPS, &[&id.as_str()], membership_from)
            .await?;
        Ok(with_teams(vec![member], memberships).pop())
    }

    async fn insert_staff(
        &self,
        m: &StaffMember,
        detail: &serde_json::Value,
        by: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.insert_staff_batch(&[(m.clone(), detail.clone())], by, at)
            .await
    }

    async fn insert_staff_batch(
        &self,
        batch: &[(StaffMember, serde_json::Value)],
        by: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db)?;
        for (m, detail) in batch {
            let a = &m.agent;
            let (capacity, voice, ticket) = capacity_columns(a)?;
            tx.execute(
                INSERT_STAFF,
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
                    &m.extension,
                ],
            )
            .await
            .map_err(conflict("username taken"))?;
            write_memberships(&tx, m).await?;
            audit::append(&tx, &at, by, "staff.created", &staff_subject(&a.id), detail).await?;
        }
        tx.commit().await.map_err(db)
    }

    async fn update_staff(
        &self,
        m: &StaffMember,
        change: StaffChange<'_>,
    ) -> StoreResult<StaffWrite> {
        let a = &m.agent;
        let (capacity, voice, ticket) = capacity_columns(a)?;
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db)?;
        let updated = tx
            .query_opt(
                UPDATE_STAFF,
                &[
                    &a.id.as_str(),
                    &a.username,
                    &a.display_name,
                    &a.role.as_str(),
                    &json(&a.skills)?,
                    &json(&a.languages)?,
                    &capacity,
                    &voice,
                    &ticket,
                    &m.extension,
                    &a.password_hash,
                    &m.revision,
                ],
            )
            .await
            .map_err(conflict("username taken"))?;
        let Some(updated) = updated else {
            let exists = tx
                .query_opt(SELECT_AGENT_STATE, &[&a.id.as_str()])
                .await
                .map_err(db)?;
            return Ok(if exists.is_some() {
                StaffWrite::Changed
            } else {
                StaffWrite::Missing
            });
        };
        let revision: i64 = get(&updated, "revision")?;
        write_memberships(&tx, m).await?;
        let tokens_revoked = if change.revoke_tokens {
            tx.execute(DELETE_AGENT_TOKENS, &[&a.id.as_str()])
                .await
                .map_err(db)?
        } else {
            0
        };
        let rerouted = if change.requeue {
            routing::reroute_agent(&tx, &a.id, change.at).await?
        } else {
            Rerouted::default()
        };
        audit::append(
            &tx,
            &change.at,
            change.by,
            "staff.updated",
            &staff_subject(&a.id),
            change.detail,
        )
        .await?;
        tx.commit().await.map_err(db)?;
        Ok(StaffWrite::Done {
            revision,
            tokens_revoked,
            rerouted,
        })
    }

    async fn deactivate_staff(
        &self,
        id: &AgentId,
        by: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<Deactivation>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db)?;
        let changed = tx
            .execute(DEACTIVATE_AGENT, &[&id.as_str()])
            .await
            .map_err(db)?;
        if changed == 0 {
            let exists = tx
                .query_opt(SELECT_AGENT_STATE, &[&id.as_str()])
                .await
                .map_err(db)?;
            return Ok(exists.map(|_| Deactivation {
                was_active: false,
                tokens_revoked: 0,
                rerouted: Rerouted::default(),
            }));
        }
        let tokens_revoked = tx
            .execute(DELETE_AGENT_TOKENS, &[&id.as_str()])
            .await
            .map_err(db)?;
        let rerouted = routing::reroute_agent(&tx, id, at).await?;
        audit::append(
            &tx,
            &at,
            by,
            "staff.deactivated",
            &staff_subject(id),
            &serde_json::json!({
                "tokens_revoked": tokens_revoked,
                "requeued": rerouted.tasks.iter().map(|t| t.conversation_id.as_str()).collect::<Vec<_>>(),
                "released": rerouted.released.iter().map(CustomerId::as_str).collect::<Vec<_>>(),
            }),
        )
        .await?;
        tx.commit().await.map_err(db)?;
        Ok(Some(Deactivation {
            was_active: true,
            tokens_revoked,
            rerouted,
        }))
    }

    async fn teams(&self) -> StoreResult<Vec<Team>> {
        let mut teams = self
            .query_all(SELECT_TEAMS, &[], |row| {
                Ok(Team {
                    id: TeamId::from_trusted(get::<String>(row, "id")?),
                    name: get(row, "name")?,
                    leads: Vec::new(),
                    members: Vec::new(),
                    created_by: get(row, "created_by")?,
                    created_at: get(row, "created_at")?,
                })
            })
            .await?;
        let mut people: HashMap<TeamId, (Vec<AgentId>, Vec<AgentId>)> = HashMap::new();
        for (team, agent, role) in self
            .query_all(SELECT_MEMBERSHIPS, &[], membership_from)
            .await?
        {
            let (leads, members) = people.entry(team).or_default();
            match role {
                TeamRole::Lead => leads.push(agent),
                TeamRole::Member => members.push(agent),
            }
        }
        for team in &mut teams {
            (team.leads, team.members) = people.remove(&team.id).unwrap_or_default();
        }
        Ok(teams)
    }

    async fn insert_team(&self, team: &Team, by: &str, at: DateTime<Utc>) -> StoreResult<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db)?;
        tx.execute(
            INSERT_TEAM,
            &[
                &team.id.as_str(),
                &team.name,
                &team.created_by,
                &team.created_at,
            ],
        )
        .await
        .map_err(conflict("team name taken"))?;
        let people = team
            .leads
            .iter()
            .map(|a| (a, TeamRole::Lead))
            .chain(team.members.iter().map(|a| (a, TeamRole::Member)));
        for (agent, role) in people {
            tx.execute(
                INSERT_MEMBERSHIP,
                &[&team.id.as_str(), &agent.as_str(), &role.as_str()],
            )
            .await
            .map_err(db)?;
        }
        audit::append(
            &tx,
            &at,
            by,
            "team.created",
            &team_subject(&team.id),
            &serde_json::json!({
                "name": team.name,
                "leads": team.leads,
                "members": team.members,
            }),
        )
        .await?;
        tx.commit().await.map_err(db)
    }
}
