//! Staff accounts, their teams, and the bearer tokens of every principal (SQLite).
//!
//! The statements are in `src/store/sql/sqlite/accounts/`.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};

use super::{audit, routing};
use super::{corrupt, from_json, is_unique_violation, json, unavailable, SqliteStore};
use crate::domain::{Agent, AgentId, CustomerId, Language, Role, Skill, TeamId, TeamRole};
use crate::store::{
    failed_login_subject, format_time, parse_time, staff_subject, team_subject, AccountStore,
    Deactivation, Principal, Rerouted, StaffChange, StaffMember, StaffWrite, StoreError,
    StoreResult, Team, ANONYMOUS_ACTOR,
};

const UPSERT_AGENT: &str = include_str!("../sql/sqlite/accounts/upsert_agent.sql");
const SELECT_AGENT_ID_BY_USERNAME: &str =
    include_str!("../sql/sqlite/accounts/select_agent_id_by_username.sql");
const SELECT_AGENT: &str = include_str!("../sql/sqlite/accounts/select_agent.sql");
const SELECT_AGENT_BY_USERNAME: &str =
    include_str!("../sql/sqlite/accounts/select_agent_by_username.sql");
const SELECT_AGENT_SKILLS: &str = include_str!("../sql/sqlite/accounts/select_agent_skills.sql");
const INSERT_TOKEN: &str = include_str!("../sql/sqlite/accounts/insert_token.sql");
const SELECT_TOKEN: &str = include_str!("../sql/sqlite/accounts/select_token.sql");
const DELETE_TOKEN: &str = include_str!("../sql/sqlite/accounts/delete_token.sql");
const DELETE_AGENT_TOKENS: &str = include_str!("../sql/sqlite/accounts/delete_agent_tokens.sql");
const INSERT_REVOKED_APP_TOKEN: &str =
    include_str!("../sql/sqlite/accounts/insert_revoked_app_token.sql");
const PURGE_REVOKED_APP_TOKENS: &str =
    include_str!("../sql/sqlite/accounts/purge_revoked_app_tokens.sql");
const SELECT_REVOKED_APP_TOKEN: &str =
    include_str!("../sql/sqlite/accounts/select_revoked_app_token.sql");
const SELECT_STAFF: &str = include_str!("../sql/sqlite/accounts/select_staff.sql");
const SELECT_STAFF_MEMBER: &str = include_str!("../sql/sqlite/accounts/select_staff_member.sql");
const SELECT_AGENT_STATE: &str = include_str!("../sql/sqlite/accounts/select_agent_state.sql");
const SELECT_MEMBERSHIPS: &str = include_str!("../sql/sqlite/accounts/select_memberships.sql");
const SELECT_AGENT_MEMBERSHIPS: &str =
    include_str!("../sql/sqlite/accounts/select_agent_memberships.sql");
const INSERT_STAFF: &str = include_str!("../sql/sqlite/accounts/insert_staff.sql");
const UPDATE_STAFF: &str = include_str!("../sql/sqlite/accounts/update_staff.sql");
const DEACTIVATE_AGENT: &str = include_str!("../sql/sqlite/accounts/deactivate_agent.sql");
const DELETE_AGENT_MEMBERSHIPS: &str =
    include_str!("../sql/sqlite/accounts/delete_agent_memberships.sql");
const INSERT_MEMBERSHIP: &str = include_str!("../sql/sqlite/accounts/insert_membership.sql");
const SELECT_TEAMS: &str = include_str!("../sql/sqlite/accounts/select_teams.sql");
const INSERT_TEAM: &str = include_str!("../sql/sqlite/accounts/insert_team.sql");

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

/// An account row ([`AgentRow`]) followed by `active, extension, revision`.
type StaffRow = (AgentRow, bool, Option<String>, i64);

fn staff_row(r: &Row<'_>) -> rusqlite::Result<StaffRow> {
    Ok((agent_row(r)?, r.get(10)?, r.get(11)?, r.get(12)?))
}

/// A membership row: `team_id, agent_id, role`.
type MembershipRow = (String, String, String);

fn membership_row(r: &Row<'_>) -> rusqlite::Result<MembershipRow> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
}

fn memberships(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> StoreResult<Vec<(TeamId, AgentId, TeamRole)>> {
    let mut stmt = conn.prepare_cached(sql).map_err(unavailable)?;
    let rows = stmt
        .query_map(params, membership_row)
        .map_err(unavailable)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(unavailable)?;
    rows.into_iter()
        .map(|(team, agent, role)| {
            Ok((
                TeamId::from_trusted(team),
                AgentId::from_trusted(agent),
                TeamRole::parse(&role).map_err(corrupt)?,
            ))
        })
        .collect()
}

/// The staff accounts of `rows` with their teams from `memberships`.
fn staff_from(
    rows: Vec<StaffRow>,
    memberships: Vec<(TeamId, AgentId, TeamRole)>,
) -> StoreResult<Vec<StaffMember>> {
    let mut teams: HashMap<AgentId, Vec<(TeamId, TeamRole)>> = HashMap::new();
    for (team, agent, role) in memberships {
        teams.entry(agent).or_default().push((team, role));
    }
    rows.into_iter()
        .map(|(agent, active, extension, revision)| {
            let agent = agent_from(agent)?;
            Ok(StaffMember {
                teams: teams.remove(&agent.id).unwrap_or_default(),
                agent,
                active,
                extension,
                revision,
            })
        })
        .collect()
}

/// Writes the memberships of an account anew.
fn write_memberships(tx: &Transaction<'_>, member: &StaffMember) -> StoreResult<()> {
    let id = member.agent.id.as_str();
    tx.execute(DELETE_AGENT_MEMBERSHIPS, [id])
        .map_err(unavailable)?;
    for (team, role) in &member.teams {
        tx.execute(INSERT_MEMBERSHIP, params![team.as_str(), id, role.as_str()])
            .map_err(unavailable)?;
    }
    Ok(())
}

/// A unique violation as `Conflict(what)`, anything else as unavailable.
fn conflict_or_unavailable(what: &str) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
    move |e| {
        if is_unique_violation(&e) {
            StoreError::Conflict(what.to_owned())
        } else {
            unavailable(e)
        }
    }
}

/// Deletes every token of an account; how many.
fn delete_agent_tokens(tx: &Transaction<'_>, agent: &AgentId) -> StoreResult<u64> {
    tx.execute(DELETE_AGENT_TOKENS, [agent.as_str()])
        .map(|n| n as u64)
        .map_err(unavailable)
}

/// The principal of a token row `(kind, subject, role)`.
fn principal_from(
    (kind, subject, role): (String, String, Option<String>),
) -> StoreResult<Principal> {
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

    async fn insert_staff_login(
        &self,
        token_hash: &str,
        agent_id: &AgentId,
        role: Role,
        expires_at: DateTime<Utc>,
        detail: &serde_json::Value,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let token_hash = token_hash.to_owned();
        let agent_id = agent_id.clone();
        let detail = detail.clone();
        self.with_conn(move |conn| {
            let tx = conn.transaction().map_err(unavailable)?;
            let stored = tx
                .execute(
                    INSERT_TOKEN,
                    params![
                        token_hash,
                        "staff",
                        agent_id.as_str(),
                        role.as_str(),
                        format_time(&expires_at)
                    ],
                )
                .map_err(unavailable)?
                == 1;
            if stored {
                audit::append(
                    &tx,
                    &format_time(&at),
                    agent_id.as_str(),
                    "staff.login",
                    &staff_subject(&agent_id),
                    &detail,
                )?;
            }
            tx.commit().map_err(unavailable)?;
            Ok(stored)
        })
        .await
    }

    async fn audit_failed_login(
        &self,
        account: Option<&AgentId>,
        detail: &serde_json::Value,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let subject = failed_login_subject(account);
        let detail = detail.clone();
        self.with_conn(move |conn| {
            let tx = conn.transaction().map_err(unavailable)?;
            audit::append(
                &tx,
                &format_time(&at),
                ANONYMOUS_ACTOR,
                "staff.login_failed",
                &subject,
                &detail,
            )?;
            tx.commit().map_err(unavailable)
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
            row.map(principal_from).transpose()
        })
        .await
    }

    async fn delete_token(
        &self,
        token_hash: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<Principal>> {
        let token_hash = token_hash.to_owned();
        self.with_conn(move |conn| {
            let tx = conn.transaction().map_err(unavailable)?;
            let row: Option<(String, String, Option<String>)> = tx
                .query_row(DELETE_TOKEN, [token_hash.as_str()], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })
                .optional()
                .map_err(unavailable)?;
            let principal = row.map(principal_from).transpose()?;
            if let Some(Principal::Staff { agent_id, .. }) = &principal {
                audit::append(
                    &tx,
                    &format_time(&at),
                    agent_id.as_str(),
                    "staff.signed_out",
                    &staff_subject(agent_id),
                    &serde_json::json!({}),
                )?;
            }
            tx.commit().map_err(unavailable)?;
            Ok(principal)
        })
        .await
    }

    async fn revoke_app_token(
        &self,
        token_hash: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let token_hash = token_hash.to_owned();
        self.with_conn(move |conn| {
            let tx = conn.transaction().map_err(unavailable)?;
            tx.execute(PURGE_REVOKED_APP_TOKENS, [format_time(&now)])
                .map_err(unavailable)?;
            tx.execute(
                INSERT_REVOKED_APP_TOKEN,
                params![token_hash, format_time(&expires_at)],
            )
            .map_err(unavailable)?;
            tx.commit().map_err(unavailable)
        })
        .await
    }

    async fn app_token_revoked(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<bool> {
        let token_hash = token_hash.to_owned();
        self.with_conn(move |conn| {
            conn.query_row(
                SELECT_REVOKED_APP_TOKEN,
                params![token_hash, format_time(&now)],
                |r| r.get::<_, i64>(0),
            )
            .optional()
            .map(|found| found.is_some())
            .map_err(unavailable)
        })
        .await
    }

    async fn staff(&self) -> StoreResult<Vec<StaffMember>> {
        self.with_conn(|conn| {
            let mut stmt = conn.prepare_cached(SELECT_STAFF).map_err(unavailable)?;
            let rows = stmt
                .query_map([], staff_row)
                .map_err(unavailable)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(unavailable)?;
            staff_from(rows, memberships(conn, SELECT_MEMBERSHIPS, [])?)
        })
        .await
    }

    async fn staff_member(&self, id: &AgentId) -> StoreResult<Option<StaffMember>> {
        let id = id.clone();
        self.with_conn(move |conn| {
            let Some(row) = conn
                .query_row(SELECT_STAFF_MEMBER, [id.as_str()], staff_row)
                .optional()
                .map_err(unavailable)?
            else {
                return Ok(None);
            };
            let teams = memberships(conn, SELECT_AGENT_MEMBERSHIPS, [id.as_str()])?;
            Ok(staff_from(vec![row], teams)?.pop())
        })
        .await
    }

    async fn insert_staff(
        &self,
        member: &StaffMember,
        detail: &serde_json::Value,
        by: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.insert_staff_batch(&[(member.clone(), detail.clone())], by, at)
            .await
    }

    async fn insert_staff_batch(
        &self,
        batch: &[(StaffMember, serde_json::Value)],
        by: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let rows = batch
            .iter()
            .map(|(m, detail)| {
                Ok((
                    m.clone(),
                    json(&m.agent.skills)?,
                    json(&m.agent.languages)?,
                    detail.clone(),
                ))
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let (by, at) = (by.to_owned(), format_time(&at));
        self.with_conn(move |conn| {
            let tx = conn.transaction().map_err(unavailable)?;
            for (m, skills, languages, detail) in &rows {
                let a = &m.agent;
                tx.execute(
                    INSERT_STAFF,
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
                        a.ticket_capacity,
                        m.extension,
                    ],
                )
                .map_err(conflict_or_unavailable("username taken"))?;
                write_memberships(&tx, m)?;
                audit::append(
                    &tx,
                    &at,
                    &by,
                    "staff.created",
                    &staff_subject(&a.id),
                    detail,
                )?;
            }
            tx.commit().map_err(unavailable)
        })
        .await
    }

    async fn update_staff(
        &self,
        member: &StaffMember,
        change: StaffChange<'_>,
    ) -> StoreResult<StaffWrite> {
        let m = member.clone();
        let (skills, languages) = (json(&m.agent.skills)?, json(&m.agent.languages)?);
        let (revoke, requeue, detail, by, at) = (
            change.revoke_tokens,
            change.requeue,
            change.detail.clone(),
            change.by.to_owned(),
            change.at,
        );
        self.with_conn(move |conn| {
            let tx = conn.transaction().map_err(unavailable)?;
            let a = &m.agent;
            let revision: Option<i64> = tx
                .query_row(
                    UPDATE_STAFF,
                    params![
                        a.id.as_str(),
                        a.username,
                        a.display_name,
                        a.role.as_str(),
                        skills,
                        languages,
                        a.capacity,
                        a.voice_capacity,
                        a.ticket_capacity,
                        m.extension,
                        a.password_hash,
                        m.revision,
                    ],
                    |r| r.get(0),
                )
                .optional()
                .map_err(conflict_or_unavailable("username taken"))?;
            let Some(revision) = revision else {
                let exists = tx
                    .query_row(SELECT_AGENT_STATE, [a.id.as_str()], |r| r.get::<_, bool>(0))
                    .optional()
                    .map_err(unavailable)?;
                return Ok(if exists.is_some() {
                    StaffWrite::Changed
                } else {
                    StaffWrite::Missing
                });
            };
            write_memberships(&tx, &m)?;
            let tokens_revoked = if revoke {
                delete_agent_tokens(&tx, &a.id)?
            } else {
                0
            };
            let at = format_time(&at);
            let rerouted = if requeue {
                routing::reroute_agent(&tx, &a.id, &at)?
            } else {
                Rerouted::default()
            };
            audit::append(
                &tx,
                &at,
                &by,
                "staff.updated",
                &staff_subject(&a.id),
                &detail,
            )?;
            tx.commit().map_err(unavailable)?;
            Ok(StaffWrite::Done {
                revision,
                tokens_revoked,
                rerouted,
            })
        })
        .await
    }

    async fn deactivate_staff(
        &self,
        id: &AgentId,
        by: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<Deactivation>> {
        let (id, by) = (id.clone(), by.to_owned());
        self.with_conn(move |conn| {
            let tx = conn.transaction().map_err(unavailable)?;
            let changed = tx
                .execute(DEACTIVATE_AGENT, [id.as_str()])
                .map_err(unavailable)?;
            if changed == 0 {
                let exists = tx
                    .query_row(SELECT_AGENT_STATE, [id.as_str()], |r| r.get::<_, bool>(0))
                    .optional()
                    .map_err(unavailable)?;
                return Ok(exists.map(|_| Deactivation {
                    was_active: false,
                    tokens_revoked: 0,
                    rerouted: Rerouted::default(),
                }));
            }
            let tokens_revoked = delete_agent_tokens(&tx, &id)?;
            let at = format_time(&at);
            let rerouted = routing::reroute_agent(&tx, &id, &at)?;
            audit::append(
                &tx,
                &at,
                &by,
                "staff.deactivated",
                &staff_subject(&id),
                &serde_json::json!({
                    "tokens_revoked": tokens_revoked,
                    "requeued": rerouted.tasks.iter().map(|t| t.conversation_id.as_str()).collect::<Vec<_>>(),
                    "released": rerouted.released.iter().map(CustomerId::as_str).collect::<Vec<_>>(),
                }),
            )?;
            tx.commit().map_err(unavailable)?;
            Ok(Some(Deactivation {
                was_active: true,
                tokens_revoked,
                rerouted,
            }))
        })
        .await
    }

    async fn teams(&self) -> StoreResult<Vec<Team>> {
        self.with_conn(|conn| {
            let mut stmt = conn.prepare_cached(SELECT_TEAMS).map_err(unavailable)?;
            let rows = stmt
                .query_map([], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                    ))
                })
                .map_err(unavailable)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(unavailable)?;
            let mut people: HashMap<TeamId, (Vec<AgentId>, Vec<AgentId>)> = HashMap::new();
            for (team, agent, role) in memberships(conn, SELECT_MEMBERSHIPS, [])? {
                let (leads, members) = people.entry(team).or_default();
                match role {
                    TeamRole::Lead => leads.push(agent),
                    TeamRole::Member => members.push(agent),
                }
            }
            rows.into_iter()
                .map(|(id, name, created_by, created_at)| {
                    let id = TeamId::from_trusted(id);
                    let (leads, members) = people.remove(&id).unwrap_or_default();
                    Ok(Team {
                        id,
                        name,
                        leads,
                        members,
                        created_by,
                        created_at: parse_time(&created_at)?,
                    })
                })
                .collect()
        })
        .await
    }

    async fn insert_team(&self, team: &Team, by: &str, at: DateTime<Utc>) -> StoreResult<()> {
        let (team, by) = (team.clone(), by.to_owned());
        self.with_conn(move |conn| {
            let tx = conn.transaction().map_err(unavailable)?;
            let at = format_time(&at);
            tx.execute(
                INSERT_TEAM,
                params![
                    team.id.as_str(),
                    team.name,
                    team.created_by,
                    format_time(&team.created_at)
                ],
            )
            .map_err(conflict_or_unavailable("team name taken"))?;
            let people = team
                .leads
                .iter()
                .map(|a| (a, TeamRole::Lead))
                .chain(team.members.iter().map(|a| (a, TeamRole::Member)));
            for (agent, role) in people {
                tx.execute(
                    INSERT_MEMBERSHIP,
                    params![team.id.as_str(), agent.as_str(), role.as_str()],
                )
                .map_err(unavailable)?;
            }
            audit::append(
                &tx,
                &at,
                &by,
                "team.created",
                &team_subject(&team.id),
                &serde_json::json!({
                    "name": team.name,
                    "leads": team.leads,
                    "members": team.members,
                }),
            )?;
            tx.commit().map_err(unavailable)
        })
        .await
    }
}
