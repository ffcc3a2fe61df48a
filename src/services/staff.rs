//! Staff accounts and teams, administered through the API: list (a team lead sees the members
//! of the teams they lead), create, change, deactivate; list and create teams.
//!
//! Every change is validated first (every problem at once, [`check_new_staff`],
//! [`check_patch`], [`check_new_team`]: plain functions) and written with its audit entry in
//! one store transaction. Then the notices it owes:
//!
//! - a change of an agent's routing profile (skills, languages, capacity, name) reaches the
//!   dispatcher at once ([`DispatchEvent::AgentProfile`] through the `dispatch` queue, to the
//!   active dispatcher wherever it runs), so the next decision uses it, and the agent's desk
//!   ([`AgentEvent::ProfileChanged`]), which reports it from then on;
//! - a role change or a password reset deletes every token of the account in that
//!   transaction, and a deactivation does too: every node drops them from its token cache and
//!   the account's desk closes ([`AccessService::end_sign_ins`]);
//! - an account that leaves routing (deactivated, or no longer an agent) has the
//!   conversations it held routed again in that transaction (new waiting tasks with the same
//!   target); the dispatcher forgets the agent and withdraws their offers
//!   ([`DispatchEvent::AgentRemoved`]), is told of the new tasks, and the customers' sessions
//!   reload.
//!
//! A lost notice is not fatal: the store is the truth (the dispatcher reconciles with the
//! store's waiting tasks, a desk reads its account when it connects, token caches trust a
//! verdict 30 s at most).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::Utc;
use futures_util::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::actors::dispatcher;
use crate::actors::protocol::{
    agent_route, AgentEvent, DispatchEvent, RoutingProfile, SessionCommand,
};
use crate::actors::session_router::SessionRouter;
use crate::auth;
use crate::bus::{publish_json, Bus};
use crate::domain::{Agent, AgentId, Language, Problem, Role, Skill, TeamId, TeamRole};
use crate::error::{ApiError, ErrorKind};
use crate::services::access::{AccessService, Ended};
use crate::services::staff_import::{check_import, ImportCheck, ImportContext};
use crate::store::{Rerouted, StaffChange, StaffMember, StaffWrite, Store, StoreError, Team};
use crate::views::CustomerCard;

/// Longest username.
pub const MAX_USERNAME_CHARS: usize = 64;
/// Longest display name or team name.
pub const MAX_NAME_CHARS: usize = 100;
/// Longest phone extension (digits).
pub const MAX_EXTENSION_DIGITS: usize = 16;
/// Most chats, calls and tickets an account may hold at once.
pub const MAX_CHATS: i64 = 50;
pub const MAX_CALLS: i64 = 5;
pub const MAX_TICKETS: i64 = 100;
/// Chats at once of a new agent that names no capacity (other roles: 0).
pub const DEFAULT_CHATS: u32 = 3;

/// Who is calling: a staff member and their role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub id: AgentId,
    pub role: Role,
}

/// A skill as sent: any name and level, checked by [`check_new_staff`] / [`check_patch`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SkillInput {
    /// Lowercase letters, digits, `_` and `-`, at most 64
    pub name: String,
    #[schema(minimum = 1, maximum = 5)]
    pub level: i64,
}

/// Capacity per media as sent; an absent one keeps (or, for a new account, defaults).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CapacityInput {
    /// Chats at once (0–50; a new agent: 3)
    #[schema(minimum = 0, maximum = 50)]
    pub chat: Option<i64>,
    /// Calls at once (0–5; default: the deployment's `routing.voice_capacity`)
    #[schema(minimum = 0, maximum = 5)]
    pub voice: Option<i64>,
    /// Tickets at once (0–100; default: the deployment's `routing.ticket_capacity`)
    #[schema(minimum = 0, maximum = 100)]
    pub ticket: Option<i64>,
}

/// `POST /v1/staff`: a new account. Missing required fields are reported with the other
/// problems (422), not as a malformed body.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewStaff {
    /// 2–64 of `[A-Za-z0-9._@-]`, starting with a letter or digit; unique whatever its case
    #[schema(required = true, nullable = false)]
    pub username: Option<String>,
    /// 1–100 characters
    #[schema(required = true, nullable = false)]
    pub display_name: Option<String>,
    /// At least 10 characters, not a common password, not containing the username
    #[schema(required = true, nullable = false)]
    pub password: Option<String>,
    #[schema(required = true, nullable = false, value_type = Role)]
    pub role: Option<String>,
    #[schema(nullable = false)]
    pub skills: Option<Vec<SkillInput>>,
    /// `zh`, `en` (`zh-CN`, `en-US`… are read as those)
    #[schema(nullable = false)]
    pub languages: Option<Vec<String>>,
    #[schema(nullable = false)]
    pub capacity: Option<CapacityInput>,
    /// Team ids; a team lead leads the teams they are in, anyone else is a member
    #[schema(nullable = false)]
    pub teams: Option<Vec<String>>,
    /// Phone extension: 1–16 digits
    pub extension: Option<String>,
}

/// `PATCH /v1/staff/{id}`: the fields to change. Admins may change every field; supervisors,
/// and team leads for the agents of the teams they lead, only `skills`, `languages` and
/// `capacity`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffPatch {
    #[schema(nullable = false)]
    pub username: Option<String>,
    #[schema(nullable = false)]
    pub display_name: Option<String>,
    /// A new password (a reset): every sign-in of the account ends
    #[schema(nullable = false)]
    pub password: Option<String>,
    /// A new role: every sign-in of the account ends; an agent who leaves the role has their
    /// conversations routed again
    #[schema(nullable = false, value_type = Role)]
    pub role: Option<String>,
    /// Replaces the skills
    #[schema(nullable = false)]
    pub skills: Option<Vec<SkillInput>>,
    /// Replaces the languages
    #[schema(nullable = false)]
    pub languages: Option<Vec<String>>,
    /// The media given replace theirs
    #[schema(nullable = false)]
    pub capacity: Option<CapacityInput>,
    /// Replaces the teams
    #[schema(nullable = false)]
    pub teams: Option<Vec<String>>,
    /// A new extension, or null to remove it
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub extension: Option<Option<String>>,
}

/// A field that is present (even as null) is `Some`; an absent one stays `None` (default).
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// `POST /v1/teams`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTeam {
    /// 1–100 characters; unique whatever its case
    #[schema(required = true, nullable = false)]
    pub name: Option<String>,
    /// Staff ids: team leads, supervisors or admins (not agents)
    #[schema(nullable = false)]
    pub leads: Option<Vec<String>>,
    /// Staff ids: agents, supervisors or admins (a team lead leads the teams they are in)
    #[schema(nullable = false)]
    pub members: Option<Vec<String>>,
}

/// Capacity per media as shown (a media the account has none of its own for shows the
/// deployment's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CapacityView {
    pub chat: u32,
    pub voice: u32,
    pub ticket: u32,
}

/// A staff account as `GET /v1/staff` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct StaffView {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    /// The teams it is in (as lead or member)
    pub teams: Vec<String>,
    pub skills: Vec<Skill>,
    pub languages: Vec<Language>,
    pub capacity: CapacityView,
    #[schema(required = true)]
    pub extension: Option<String>,
    /// False once deactivated
    pub active: bool,
}

/// A team as `GET /v1/teams` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TeamView {
    pub id: String,
    pub name: String,
    /// Staff ids
    pub leads: Vec<String>,
    /// Staff ids
    pub members: Vec<String>,
}

impl From<&Team> for TeamView {
    fn from(team: &Team) -> Self {
        let ids = |ids: &[AgentId]| ids.iter().map(ToString::to_string).collect();
        Self {
            id: team.id.to_string(),
            name: team.name.clone(),
            leads: ids(&team.leads),
            members: ids(&team.members),
        }
    }
}

/// Capacities of calls and tickets for accounts that have none of their own
/// (`routing.voice_capacity`, `routing.ticket_capacity`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaDefaults {
    pub voice: u32,
    pub ticket: u32,
}

/// Problems of a document, each with its place.
#[derive(Debug, Default)]
struct Problems(Vec<Problem>);

impl Problems {
    fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem::new(path, message));
    }

    fn into_result<T>(self, value: T) -> Result<T, Vec<Problem>> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self.0)
        }
    }
}

/// What is wrong with a username (None: fine).
pub fn username_problem(username: &str) -> Option<String> {
    let chars = username.chars().count();
    if !(2..=MAX_USERNAME_CHARS).contains(&chars) {
        return Some(format!(
            "a username has 2 to {MAX_USERNAME_CHARS} characters"
        ));
    }
    if !username
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
    {
        return Some("a username has only letters, digits and . _ - @".to_owned());
    }
    if !username.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Some("a username starts with a letter or a digit".to_owned());
    }
    None
}

/// A display or team name, trimmed, or what is wrong with it.
pub fn name_of(name: &str) -> Result<String, String> {
    let trimmed = name.trim();
    if trimmed.is_empty() {
        return Err("must not be empty".to_owned());
    }
    if trimmed.chars().count() > MAX_NAME_CHARS {
        return Err(format!("at most {MAX_NAME_CHARS} characters"));
    }
    if trimmed.chars().any(char::is_control) {
        return Err("no control characters".to_owned());
    }
    Ok(trimmed.to_owned())
}

/// What is wrong with a phone extension (None: fine).
pub fn extension_problem(extension: &str) -> Option<String> {
    let ok = !extension.is_empty()
        && extension.len() <= MAX_EXTENSION_DIGITS
        && extension.chars().all(|c| c.is_ascii_digit());
    (!ok).then(|| format!("an extension is 1 to {MAX_EXTENSION_DIGITS} digits"))
}

/// The role named `name`, or a problem at `path`.
fn role_of(name: &str, path: &str, problems: &mut Problems) -> Option<Role> {
    Role::parse(name)
        .map_err(|_| {
            problems.add(
                path,
                format!("unknown role '{name}': agent, team_lead, supervisor or admin"),
            );
        })
        .ok()
}

/// Skills as sent, checked; problems at `skills[i].name` / `skills[i].level`.
fn skills_of(input: &[SkillInput], problems: &mut Problems) -> Vec<Skill> {
    let mut skills = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, skill) in input.iter().enumerate() {
        let level_ok = (1..=i64::from(Skill::MAX_LEVEL)).contains(&skill.level);
        if !level_ok {
            problems.add(
                format!("skills[{i}].level"),
                format!(
                    "levels run from 1 to {}, not {}",
                    Skill::MAX_LEVEL,
                    skill.level
                ),
            );
        }
        match Skill::parse(&skill.name, 1) {
            Err(_) => problems.add(
                format!("skills[{i}].name"),
                "a skill name is 1 to 64 lowercase letters, digits, _ or -",
            ),
            Ok(_) if !seen.insert(skill.name.clone()) => problems.add(
                format!("skills[{i}].name"),
                format!("'{}' is listed twice", skill.name),
            ),
            Ok(_) => {
                if let Ok(level) = u8::try_from(skill.level) {
                    if level_ok {
                        skills.push(Skill {
                            name: skill.name.clone(),
                            level,
                        });
                    }
                }
            }
        }
    }
    skills
}

/// Languages as sent, checked; problems at `languages[i]`.
fn languages_of(input: &[String], problems: &mut Problems) -> Vec<Language> {
    let mut languages = Vec::new();
    for (i, name) in input.iter().enumerate() {
        match Language::parse(name) {
            Err(_) => problems.add(
                format!("languages[{i}]"),
                format!("unknown language '{name}': zh or en"),
            ),
            Ok(language) if languages.contains(&language) => problems.add(
                format!("languages[{i}]"),
                format!("{} is listed twice", language.as_str()),
            ),
            Ok(language) => languages.push(language),
        }
    }
    languages
}

/// One media's capacity as sent, checked against `0..=max`; a problem at `capacity.{media}`.
fn media_of(value: Option<i64>, media: &str, max: i64, problems: &mut Problems) -> Option<u32> {
    let value = value?;
    if !(0..=max).contains(&value) {
        problems.add(
            format!("capacity.{media}"),
            format!("{media} capacity runs from 0 to {max}, not {value}"),
        );
        return None;
    }
    u32::try_from(value).ok()
}

/// Team ids as sent, each one of `known`; problems at `teams[i]`.
fn teams_of(input: &[String], known: &BTreeSet<TeamId>, problems: &mut Problems) -> Vec<TeamId> {
    let mut teams = Vec::new();
    for (i, id) in input.iter().enumerate() {
        let id = TeamId::from_trusted(id.clone());
        if !known.contains(&id) {
            problems.add(format!("teams[{i}]"), format!("no team '{id}'"));
        } else if teams.contains(&id) {
            problems.add(format!("teams[{i}]"), format!("'{id}' is listed twice"));
        } else {
            teams.push(id);
        }
    }
    teams
}

/// A valid new account (without its id and password hash yet).
#[derive(Debug, Clone, PartialEq)]
pub struct ValidStaff {
    pub username: String,
    pub display_name: String,
    pub password: String,
    pub role: Role,
    pub skills: Vec<Skill>,
    pub languages: Vec<Language>,
    pub capacity: u32,
    pub voice_capacity: Option<u32>,
    pub ticket_capacity: Option<u32>,
    pub extension: Option<String>,
    pub teams: Vec<TeamId>,
}

/// Checks a new account against the teams that exist: the account, or every problem.
pub fn check_new_staff(
    request: &NewStaff,
    known_teams: &BTreeSet<TeamId>,
) -> Result<ValidStaff, Vec<Problem>> {
    let mut problems = Problems::default();
    let required = "required";
    let username = request.username.clone().unwrap_or_default();
    match &request.username {
        None => problems.add("username", required),
        Some(username) => {
            if let Some(problem) = username_problem(username) {
                problems.add("username", problem);
            }
        }
    }
    let display_name = match &request.display_name {
        None => {
            problems.add("display_name", required);
            String::new()
        }
        Some(name) => name_of(name).unwrap_or_else(|problem| {
            problems.add("display_name", problem);
            String::new()
        }),
    };
    let password = request.password.clone().unwrap_or_default();
    match &request.password {
        None => problems.add("password", required),
        Some(password) => {
            for problem in auth::password_problems(password, &username) {
                problems.add("password", problem);
            }
        }
    }
    let role = match &request.role {
        None => {
            problems.add("role", required);
            None
        }
        Some(role) => role_of(role, "role", &mut problems),
    };
    let skills = skills_of(request.skills.as_deref().unwrap_or_default(), &mut problems);
    let languages = languages_of(
        request.languages.as_deref().unwrap_or_default(),
        &mut problems,
    );
    let capacity = request.capacity.clone().unwrap_or_default();
    let chat = media_of(capacity.chat, "chat", MAX_CHATS, &mut problems);
    let voice_capacity = media_of(capacity.voice, "voice", MAX_CALLS, &mut problems);
    let ticket_capacity = media_of(capacity.ticket, "ticket", MAX_TICKETS, &mut problems);
    if let Some(problem) = request.extension.as_deref().and_then(extension_problem) {
        problems.add("extension", problem);
    }
    let teams = teams_of(
        request.teams.as_deref().unwrap_or_default(),
        known_teams,
        &mut problems,
    );
    let Some(role) = role else {
        return Err(problems.0);
    };
    let default_chats = if role == Role::Agent {
        DEFAULT_CHATS
    } else {
        0
    };
    problems.into_result(ValidStaff {
        username,
        display_name,
        password,
        role,
        skills,
        languages,
        capacity: chat.unwrap_or(default_chats),
        voice_capacity,
        ticket_capacity,
        extension: request.extension.clone(),
        teams,
    })
}

/// How an account with `role` is in a team it joins or stays in (`before`: how it was):
/// a team lead leads the teams they are in, an agent never leads, a supervisor or admin keeps
/// what a team's creation made them (a member when they join through their account).
pub fn team_role(role: Role, before: Option<TeamRole>) -> TeamRole {
    match role {
        Role::TeamLead => TeamRole::Lead,
        Role::Agent => TeamRole::Member,
        Role::Supervisor | Role::Admin => before.unwrap_or(TeamRole::Member),
    }
}

/// The fields of a patch the caller may not change, by name (empty: allowed). Admins change
/// everything; supervisors and team leads the routing profile only.
pub fn forbidden_fields(patch: &StaffPatch, caller: Role) -> Vec<&'static str> {
    if caller == Role::Admin {
        return Vec::new();
    }
    [
        ("username", patch.username.is_some()),
        ("display_name", patch.display_name.is_some()),
        ("password", patch.password.is_some()),
        ("role", patch.role.is_some()),
        ("teams", patch.teams.is_some()),
        ("extension", patch.extension.is_some()),
    ]
    .into_iter()
    .filter_map(|(field, sent)| sent.then_some(field))
    .collect()
}

/// An account after a valid patch, what changed (audit detail: before and after of each
/// changed field, never a password) and what the change does.
#[derive(Debug, Clone, PartialEq)]
pub struct Patched {
    pub member: StaffMember,
    /// `{field: {"before", "after"}}` of the fields that changed.
    pub changes: BTreeMap<&'static str, serde_json::Value>,
    /// The new password, when reset.
    pub password: Option<String>,
}

impl Patched {
    /// True when the role changed or the password was reset: every sign-in ends.
    pub fn ends_sign_ins(&self) -> bool {
        self.password.is_some() || self.changes.contains_key("role")
    }

    /// True when what routing knows of the agent changed.
    pub fn moves_routing(&self) -> bool {
        ["display_name", "skills", "languages", "capacity"]
            .iter()
            .any(|field| self.changes.contains_key(field))
    }
}

/// Applies a patch to `current` (whose teams exist in `known_teams`): the account after it,
/// or every problem. Who may change which field is [`forbidden_fields`]'s question.
pub fn check_patch(
    patch: &StaffPatch,
    current: &StaffMember,
    known_teams: &BTreeSet<TeamId>,
) -> Result<Patched, Vec<Problem>> {
    let mut problems = Problems::default();
    let mut next = current.clone();
    next.agent.password_hash = String::new();
    if let Some(username) = &patch.username {
        if let Some(problem) = username_problem(username) {
            problems.add("username", problem);
        }
        next.agent.username.clone_from(username);
    }
    if let Some(name) = &patch.display_name {
        match name_of(name) {
            Ok(name) => next.agent.display_name = name,
            Err(problem) => problems.add("display_name", problem),
        }
    }
    if let Some(password) = &patch.password {
        for problem in auth::password_problems(password, &next.agent.username) {
            problems.add("password", problem);
        }
    }
    if let Some(role) = &patch.role {
        if let Some(role) = role_of(role, "role", &mut problems) {
            next.agent.role = role;
        }
    }
    if let Some(skills) = &patch.skills {
        next.agent.skills = skills_of(skills, &mut problems);
    }
    if let Some(languages) = &patch.languages {
        next.agent.languages = languages_of(languages, &mut problems);
    }
    if let Some(capacity) = &patch.capacity {
        if let Some(chat) = media_of(capacity.chat, "chat", MAX_CHATS, &mut problems) {
            next.agent.capacity = chat;
        }
        if let Some(voice) = media_of(capacity.voice, "voice", MAX_CALLS, &mut problems) {
            next.agent.voice_capacity = Some(voice);
        }
        if let Some(ticket) = media_of(capacity.ticket, "ticket", MAX_TICKETS, &mut problems) {
            next.agent.ticket_capacity = Some(ticket);
        }
    }
    if let Some(extension) = &patch.extension {
        if let Some(problem) = extension.as_deref().and_then(extension_problem) {
            problems.add("extension", problem);
        }
        next.extension.clone_from(extension);
    }
    let before: BTreeMap<TeamId, TeamRole> = current.teams.iter().cloned().collect();
    let teams: Vec<TeamId> = match &patch.teams {
        Some(teams) => teams_of(teams, known_teams, &mut problems),
        None => current.teams.iter().map(|(team, _)| team.clone()).collect(),
    };
    next.teams = teams
        .into_iter()
        .map(|team| {
            let role = team_role(next.agent.role, before.get(&team).copied());
            (team, role)
        })
        .collect();
    problems.into_result(())?;
    let mut changes = BTreeMap::new();
    let mut compare = |field: &'static str, before: serde_json::Value, after: serde_json::Value| {
        if before != after {
            changes.insert(field, json!({"before": before, "after": after}));
        }
    };
    let (was, now) = (&current.agent, &next.agent);
    compare("username", json!(was.username), json!(now.username));
    compare(
        "display_name",
        json!(was.display_name),
        json!(now.display_name),
    );
    compare("role", json!(was.role), json!(now.role));
    compare("skills", json!(was.skills), json!(now.skills));
    compare("languages", json!(was.languages), json!(now.languages));
    compare(
        "capacity",
        json!({"chat": was.capacity, "voice": was.voice_capacity, "ticket": was.ticket_capacity}),
        json!({"chat": now.capacity, "voice": now.voice_capacity, "ticket": now.ticket_capacity}),
    );
    compare("extension", json!(current.extension), json!(next.extension));
    let team_ids = |m: &StaffMember| {
        let mut ids: Vec<(String, TeamRole)> = m
            .teams
            .iter()
            .map(|(team, role)| (team.to_string(), *role))
            .collect();
        ids.sort();
        json!(ids
            .into_iter()
            .map(|(team, role)| json!({"team": team, "as": role}))
            .collect::<Vec<_>>())
    };
    compare("teams", team_ids(current), team_ids(&next));
    Ok(Patched {
        member: next,
        changes,
        password: patch.password.clone(),
    })
}

/// A valid new team.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidTeam {
    pub name: String,
    pub leads: Vec<AgentId>,
    pub members: Vec<AgentId>,
}

/// Checks a new team against the staff that exist: the team, or every problem. Leads and
/// members are active accounts, each listed once; an agent cannot lead, and a team lead leads
/// (is not listed as a member).
pub fn check_new_team(request: &NewTeam, staff: &[StaffMember]) -> Result<ValidTeam, Vec<Problem>> {
    let mut problems = Problems::default();
    let name = match &request.name {
        None => {
            problems.add("name", "required");
            String::new()
        }
        Some(name) => name_of(name).unwrap_or_else(|problem| {
            problems.add("name", problem);
            String::new()
        }),
    };
    let by_id: BTreeMap<&str, &StaffMember> =
        staff.iter().map(|m| (m.agent.id.as_str(), m)).collect();
    let mut seen = BTreeSet::new();
    let mut people = |field: &str, ids: &[String], problems: &mut Problems| {
        let mut valid = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            let path = format!("{field}[{i}]");
            let Some(member) = by_id.get(id.as_str()) else {
                problems.add(path, format!("no staff member '{id}'"));
                continue;
            };
            if !seen.insert(id.clone()) {
                problems.add(path, format!("'{id}' is listed twice"));
                continue;
            }
            if !member.active {
                problems.add(path, format!("'{id}' is deactivated"));
                continue;
            }
            match (field, member.agent.role) {
                ("leads", Role::Agent) => {
                    problems.add(
                        path,
                        format!("'{id}' is an agent: agents do not lead teams"),
                    );
                }
                ("members", Role::TeamLead) => problems.add(
                    path,
                    format!("'{id}' is a team lead: team leads lead the teams they are in"),
                ),
                _ => valid.push(member.agent.id.clone()),
            }
        }
        valid
    };
    let leads = people(
        "leads",
        request.leads.as_deref().unwrap_or_default(),
        &mut problems,
    );
    let members = people(
        "members",
        request.members.as_deref().unwrap_or_default(),
        &mut problems,
    );
    problems.into_result(ValidTeam {
        name,
        leads,
        members,
    })
}

/// The staff a caller may see: everyone for supervisors and admins, the members of the teams
/// they lead for a team lead, nobody for others.
pub fn visible_to<'a>(caller: &Caller, staff: &'a [StaffMember]) -> Vec<&'a StaffMember> {
    match caller.role {
        Role::Supervisor | Role::Admin => staff.iter().collect(),
        Role::TeamLead => {
            let led: BTreeSet<&TeamId> = staff
                .iter()
                .filter(|m| m.agent.id == caller.id)
                .flat_map(|m| &m.teams)
                .filter(|(_, role)| *role == TeamRole::Lead)
                .map(|(team, _)| team)
                .collect();
            staff
                .iter()
                .filter(|m| {
                    m.teams
                        .iter()
                        .any(|(team, role)| *role == TeamRole::Member && led.contains(team))
                })
                .collect()
        }
        Role::Agent => Vec::new(),
    }
}

/// Why a staff request was not done.
#[derive(Debug)]
pub enum Refused {
    /// Every problem with it (422).
    Invalid(Vec<Problem>),
    /// Anything else (401, 403, 404, 409, 503).
    Api(ApiError),
}

impl From<ApiError> for Refused {
    fn from(error: ApiError) -> Self {
        Refused::Api(error)
    }
}

impl From<StoreError> for Refused {
    fn from(error: StoreError) -> Self {
        Refused::Api(error.into())
    }
}

fn username_taken() -> ApiError {
    ApiError::new(ErrorKind::UsernameTaken, "This username is taken.")
}

/// A new account of a checked request with its password's hash, and the detail of its
/// `staff.created` audit entry (the account's fields, never its password).
fn new_member(valid: ValidStaff, password_hash: String) -> (StaffMember, serde_json::Value) {
    let member = StaffMember {
        agent: Agent {
            id: AgentId::generate(),
            username: valid.username,
            display_name: valid.display_name,
            role: valid.role,
            skills: valid.skills,
            languages: valid.languages,
            capacity: valid.capacity,
            voice_capacity: valid.voice_capacity,
            ticket_capacity: valid.ticket_capacity,
            password_hash,
        },
        active: true,
        extension: valid.extension,
        teams: valid
            .teams
            .into_iter()
            .map(|team| (team, team_role(valid.role, None)))
            .collect(),
        revision: 1,
    };
    let a = &member.agent;
    let detail = json!({
        "username": a.username,
        "display_name": a.display_name,
        "role": a.role,
        "skills": a.skills,
        "languages": a.languages,
        "capacity": {"chat": a.capacity, "voice": a.voice_capacity, "ticket": a.ticket_capacity},
        "extension": member.extension,
        "teams": member.teams.iter().map(|(t, _)| t.as_str()).collect::<Vec<_>>(),
    });
    (member, detail)
}

/// Hashes passwords on the blocking pool, as many at once as the machine has cores (at most
/// four); the hashes in the order of the passwords.
async fn hash_passwords(passwords: impl Iterator<Item = String>) -> Result<Vec<String>, ApiError> {
    let at_once = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    futures_util::stream::iter(
        passwords
            .map(|password| tokio::task::spawn_blocking(move || auth::hash_password(&password))),
    )
    .buffered(at_once)
    .map(|hashed| {
        hashed
            .map_err(ApiError::internal)?
            .map_err(ApiError::internal)
    })
    .try_collect()
    .await
}

/// One import at a time per node.
static IMPORTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);

/// What an import did.
#[derive(Debug)]
pub enum Imported {
    /// A dry run: the file checked, nothing stored.
    Checked(ImportCheck),
    /// The file has problems: nothing stored.
    Invalid(ImportCheck),
    /// Every account of the file was created: id and username, in file order.
    Created(Vec<(AgentId, String)>),
}

fn no_such_staff() -> ApiError {
    ApiError::not_found("No such staff member.")
}

/// How often a change is retried when the account changed while it was being made.
const PATCH_ATTEMPTS: usize = 3;

/// The staff service.
#[derive(Clone)]
pub struct StaffService {
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
    sessions: SessionRouter,
    access: AccessService,
    media: MediaDefaults,
}

impl StaffService {
    pub fn new(
        store: Arc<dyn Store>,
        bus: Arc<dyn Bus>,
        sessions: SessionRouter,
        access: AccessService,
        media: MediaDefaults,
    ) -> Self {
        Self {
            store,
            bus,
            sessions,
            access,
            media,
        }
    }

    /// An account as shown.
    pub fn view(&self, member: &StaffMember) -> StaffView {
        let a = &member.agent;
        StaffView {
            id: a.id.to_string(),
            username: a.username.clone(),
            display_name: a.display_name.clone(),
            role: a.role,
            teams: member.teams.iter().map(|(t, _)| t.to_string()).collect(),
            skills: a.skills.clone(),
            languages: a.languages.clone(),
            capacity: CapacityView {
                chat: a.capacity,
                voice: a.voice_capacity.unwrap_or(self.media.voice),
                ticket: a.ticket_capacity.unwrap_or(self.media.ticket),
            },
            extension: member.extension.clone(),
            active: member.active,
        }
    }

    /// The staff the caller may see (see [`visible_to`]), by username.
    pub async fn list(&self, caller: &Caller) -> Result<Vec<StaffView>, ApiError> {
        let staff = self.store.staff().await?;
        Ok(visible_to(caller, &staff)
            .into_iter()
            .map(|m| self.view(m))
            .collect())
    }

    async fn team_ids(&self) -> Result<BTreeSet<TeamId>, ApiError> {
        Ok(self
            .store
            .teams()
            .await?
            .into_iter()
            .map(|t| t.id)
            .collect())
    }

    /// Creates an account (admins): its id, every problem (422), or 409 `username_taken`.
    pub async fn create(&self, request: NewStaff, by: &Caller) -> Result<AgentId, Refused> {
        let known = self.team_ids().await?;
        let valid = check_new_staff(&request, &known).map_err(Refused::Invalid)?;
        let password = valid.password.clone();
        let password_hash = tokio::task::spawn_blocking(move || auth::hash_password(&password))
            .await
            .map_err(ApiError::internal)?
            .map_err(ApiError::internal)?;
        let (member, detail) = new_member(valid, password_hash);
        let id = member.agent.id.clone();
        match self
            .store
            .insert_staff(&member, &detail, by.id.as_str(), Utc::now())
            .await
        {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => return Err(username_taken().into()),
            Err(other) => return Err(other.into()),
        }
        tracing::info!(agent = %id, role = member.agent.role.as_str(), by = %by.id, "Staff account created.");
        Ok(id)
    }

    /// Imports accounts from a CSV file (admins; see [`crate::services::staff_import`]): with
    /// `dry_run`, the file checked and nothing stored; otherwise every account of the file,
    /// each audited as [`StaffService::create`] audits one, in one store transaction — or,
    /// when the file has a problem, none (every problem of every row) — or 409
    /// `username_taken` when an account took one of the usernames meanwhile (none stored).
    pub async fn import(
        &self,
        text: &str,
        dry_run: bool,
        by: &Caller,
    ) -> Result<Imported, ApiError> {
        // One import at a time on a node: hashing a thousand passwords takes the CPU a while.
        let _turn = IMPORTS.acquire().await.map_err(ApiError::internal)?;
        let teams: Vec<(TeamId, String)> = self
            .store
            .teams()
            .await?
            .into_iter()
            .map(|t| (t.id, t.name))
            .collect();
        let taken: BTreeSet<String> = self
            .store
            .staff()
            .await?
            .into_iter()
            .map(|m| m.agent.username.to_lowercase())
            .collect();
        let context = ImportContext {
            teams: &teams,
            taken: &taken,
            media: self.media,
        };
        let check = check_import(text, &context);
        if dry_run {
            return Ok(Imported::Checked(check));
        }
        if !check.problems.is_empty() {
            return Ok(Imported::Invalid(check));
        }
        let hashes = hash_passwords(check.accounts.iter().map(|a| a.password.clone())).await?;
        let batch: Vec<(StaffMember, serde_json::Value)> = check
            .accounts
            .into_iter()
            .zip(hashes)
            .map(|(valid, hash)| new_member(valid, hash))
            .collect();
        match self
            .store
            .insert_staff_batch(&batch, by.id.as_str(), Utc::now())
            .await
        {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => return Err(username_taken()),
            Err(other) => return Err(other.into()),
        }
        tracing::info!(accounts = batch.len(), by = %by.id, "Staff accounts imported.");
        Ok(Imported::Created(
            batch
                .into_iter()
                .map(|(member, _)| (member.agent.id, member.agent.username))
                .collect(),
        ))
    }

    /// Changes an account: admins every field; supervisors, and team leads for the agents of
    /// the teams they lead, the routing profile only (403 otherwise). The account after it,
    /// every problem (422), 404, or 409 `username_taken`.
    pub async fn patch(
        &self,
        id: &AgentId,
        patch: StaffPatch,
        by: &Caller,
    ) -> Result<StaffView, Refused> {
        let forbidden = forbidden_fields(&patch, by.role);
        if !forbidden.is_empty() {
            return Err(ApiError::forbidden(format!(
                "Only admins change {}; you may change skills, languages and capacity.",
                forbidden.join(", ")
            ))
            .into());
        }
        for _ in 0..PATCH_ATTEMPTS {
            let staff = self.store.staff().await?;
            let Some(current) = staff.iter().find(|m| m.agent.id == *id) else {
                return Err(no_such_staff().into());
            };
            if by.role == Role::TeamLead
                && !(current.agent.role == Role::Agent
                    && visible_to(by, &staff).iter().any(|m| m.agent.id == *id))
            {
                return Err(ApiError::forbidden(
                    "A team lead changes only the agents of the teams they lead.",
                )
                .into());
            }
            if by.id == *id
                && patch
                    .role
                    .as_deref()
                    .is_some_and(|r| r != current.agent.role.as_str())
            {
                return Err(Refused::Invalid(vec![Problem::new(
                    "role",
                    "you cannot change your own role; ask another admin",
                )]));
            }
            let known = self.team_ids().await?;
            let patched = check_patch(&patch, current, &known).map_err(Refused::Invalid)?;
            if patched.changes.is_empty() && patched.password.is_none() {
                return Ok(self.view(current));
            }
            match self.write_patch(current, patched, by).await? {
                Some(view) => return Ok(view),
                None => continue, // changed meanwhile: read again
            }
        }
        Err(ApiError::new(
            ErrorKind::Conflict,
            "The account keeps changing; try again.",
        )
        .into())
    }

    /// Writes a checked patch and sends its notices; None when the account changed since it
    /// was read.
    async fn write_patch(
        &self,
        current: &StaffMember,
        mut patched: Patched,
        by: &Caller,
    ) -> Result<Option<StaffView>, Refused> {
        if let Some(password) = patched.password.clone() {
            patched.member.agent.password_hash =
                tokio::task::spawn_blocking(move || auth::hash_password(&password))
                    .await
                    .map_err(ApiError::internal)?
                    .map_err(ApiError::internal)?;
        }
        let mut detail = json!({ "changes": patched.changes });
        if patched.password.is_some() {
            detail["password_reset"] = json!(true);
        }
        let leaves_routing =
            current.agent.role == Role::Agent && patched.member.agent.role != Role::Agent;
        let change = StaffChange {
            revoke_tokens: patched.ends_sign_ins(),
            requeue: leaves_routing,
            detail: &detail,
            by: by.id.as_str(),
            at: Utc::now(),
        };
        let written = match self.store.update_staff(&patched.member, change).await {
            Ok(written) => written,
            Err(StoreError::Conflict(_)) => return Err(username_taken().into()),
            Err(other) => return Err(other.into()),
        };
        let (revision, rerouted) = match written {
            StaffWrite::Done {
                revision, rerouted, ..
            } => (revision, rerouted),
            StaffWrite::Missing => return Err(no_such_staff().into()),
            StaffWrite::Changed => return Ok(None),
        };
        let mut member = patched.member.clone();
        member.revision = revision;
        let id = &member.agent.id;
        tracing::info!(agent = %id, by = %by.id, changed = ?patched.changes.keys().collect::<Vec<_>>(), "Staff account changed.");
        if leaves_routing {
            self.leave_routing(id, &rerouted).await;
        } else if patched.moves_routing() && member.agent.role == Role::Agent && member.active {
            self.profile_changed(&member.agent).await;
        }
        if patched.ends_sign_ins() {
            self.access.end_sign_ins(id, Ended::SignedOut).await;
        }
        Ok(Some(self.view(&member)))
    }

    /// Deactivates an account (admins): it cannot sign in any more, every sign-in ends on every
    /// node, its desk closes, its offers go to others and its conversations are routed again.
    /// The account after it; 404, or 409 for one's own account.
    pub async fn deactivate(&self, id: &AgentId, by: &Caller) -> Result<StaffView, ApiError> {
        if by.id == *id {
            return Err(ApiError::new(
                ErrorKind::Conflict,
                "An admin cannot deactivate their own account.",
            ));
        }
        let done = self
            .store
            .deactivate_staff(id, by.id.as_str(), Utc::now())
            .await?
            .ok_or_else(no_such_staff)?;
        if done.was_active {
            tracing::info!(agent = %id, by = %by.id, tokens = done.tokens_revoked, requeued = done.rerouted.tasks.len(), "Staff account deactivated.");
            self.leave_routing(id, &done.rerouted).await;
            self.access.end_sign_ins(id, Ended::Deactivated).await;
        }
        let member = self
            .store
            .staff_member(id)
            .await?
            .ok_or_else(no_such_staff)?;
        Ok(self.view(&member))
    }

    /// Every team, by name.
    pub async fn teams(&self) -> Result<Vec<TeamView>, ApiError> {
        Ok(self
            .store
            .teams()
            .await?
            .iter()
            .map(TeamView::from)
            .collect())
    }

    /// Creates a team (admins): its id, every problem (422), or 409 `name_taken`.
    pub async fn create_team(&self, request: NewTeam, by: &Caller) -> Result<TeamId, Refused> {
        let staff = self.store.staff().await?;
        let valid = check_new_team(&request, &staff).map_err(Refused::Invalid)?;
        let now = Utc::now();
        let team = Team {
            id: TeamId::generate(),
            name: valid.name,
            leads: valid.leads,
            members: valid.members,
            created_by: by.id.to_string(),
            created_at: now,
        };
        match self.store.insert_team(&team, by.id.as_str(), now).await {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => {
                return Err(ApiError::new(ErrorKind::NameTaken, "A team has this name.").into())
            }
            Err(other) => return Err(other.into()),
        }
        tracing::info!(team = %team.id, by = %by.id, "Team created.");
        Ok(team.id)
    }

    /// The dispatcher takes the agent's new profile at once; their desk reports it from now on.
    async fn profile_changed(&self, agent: &Agent) {
        let profile = RoutingProfile::of(agent);
        let event = DispatchEvent::AgentProfile {
            agent_id: agent.id.clone(),
            profile: profile.clone(),
        };
        if let Err(error) = dispatcher::tell(self.bus.as_ref(), &event).await {
            tracing::warn!(%error, agent = %agent.id, "Could not tell the dispatcher of a profile change; the agent's desk reports it.");
        }
        let desk = AgentEvent::ProfileChanged { profile };
        if let Err(error) = publish_json(self.bus.as_ref(), &agent_route(&agent.id), &desk).await {
            tracing::warn!(%error, agent = %agent.id, "Could not tell a desk of its profile change.");
        }
    }

    /// An account left routing: the dispatcher forgets it (its offers go to others), then
    /// learns of the new tasks of the conversations it held; their customers' sessions reload.
    async fn leave_routing(&self, id: &AgentId, rerouted: &Rerouted) {
        let removed = DispatchEvent::AgentRemoved {
            agent_id: id.clone(),
        };
        if let Err(error) = dispatcher::tell(self.bus.as_ref(), &removed).await {
            tracing::warn!(%error, agent = %id, "Could not tell the dispatcher an agent left.");
        }
        for task in &rerouted.tasks {
            let customer = match self.store.customer(&task.customer_id).await {
                Ok(Some(customer)) => customer,
                Ok(None) => continue,
                Err(error) => {
                    tracing::warn!(%error, task = %task.id, "Could not read a requeued task's customer; the dispatcher's reconcile picks it up.");
                    continue;
                }
            };
            let created = DispatchEvent::TaskCreated {
                task: task.clone(),
                customer: CustomerCard::from(&customer),
            };
            if let Err(error) = dispatcher::tell(self.bus.as_ref(), &created).await {
                tracing::warn!(%error, task = %task.id, "Could not tell the dispatcher of a requeued task; its reconcile picks it up.");
            }
        }
        for customer_id in rerouted.customers() {
            let reload = SessionCommand::Reload {
                customer_id: customer_id.clone(),
            };
            if let Err(error) = self.sessions.command(reload).await {
                tracing::warn!(customer = %customer_id, %error, "Could not tell a session its conversation was requeued.");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(problems: &[Problem]) -> Vec<&str> {
        problems.iter().map(|p| p.path.as_str()).collect()
    }

    fn member(id: &str, role: Role, teams: &[(&str, TeamRole)]) -> StaffMember {
        StaffMember {
            agent: Agent {
                id: AgentId::from_trusted(id),
                username: id.trim_start_matches("agt_").to_owned(),
                display_name: id.to_owned(),
                role,
                skills: vec![Skill::parse("billing", 3).expect("skill")],
                languages: vec![Language::Zh],
                capacity: 3,
                voice_capacity: None,
                ticket_capacity: None,
                password_hash: "hash".to_owned(),
            },
            active: true,
            extension: None,
            teams: teams
                .iter()
                .map(|(t, r)| (TeamId::from_trusted(*t), *r))
                .collect(),
            revision: 4,
        }
    }

    fn known(teams: &[&str]) -> BTreeSet<TeamId> {
        teams.iter().map(|t| TeamId::from_trusted(*t)).collect()
    }

    #[test]
    fn a_valid_new_account_gets_the_defaults_of_its_role() {
        let request = NewStaff {
            username: Some("dora.k".to_owned()),
            display_name: Some("  Dora  ".to_owned()),
            password: Some("correct horse battery".to_owned()),
            role: Some("agent".to_owned()),
            languages: Some(vec!["zh-CN".to_owned(), "en".to_owned()]),
            teams: Some(vec!["team_a".to_owned()]),
            extension: Some("4021".to_owned()),
            ..NewStaff::default()
        };
        let valid = check_new_staff(&request, &known(&["team_a"])).expect("valid");
        assert_eq!(valid.display_name, "Dora");
        assert_eq!(valid.role, Role::Agent);
        assert_eq!(valid.languages, [Language::Zh, Language::En]);
        assert_eq!(valid.capacity, DEFAULT_CHATS);
        assert_eq!((valid.voice_capacity, valid.ticket_capacity), (None, None));
        assert_eq!(valid.teams, [TeamId::from_trusted("team_a")]);
        let admin = NewStaff {
            role: Some("admin".to_owned()),
            ..request
        };
        assert_eq!(
            check_new_staff(&admin, &known(&["team_a"]))
                .expect("valid")
                .capacity,
            0
        );
    }

    #[test]
    fn every_problem_of_a_new_account_is_listed_with_its_place() {
        let empty = check_new_staff(&NewStaff::default(), &known(&[])).expect_err("invalid");
        assert_eq!(
            paths(&empty),
            ["username", "display_name", "password", "role"],
            "{empty:?}"
        );
        let request = NewStaff {
            username: Some("bad user!".to_owned()),
            display_name: Some("   ".to_owned()),
            password: Some("short".to_owned()),
            role: Some("boss".to_owned()),
            skills: Some(vec![
                SkillInput {
                    name: "Billing".to_owned(),
                    level: 3,
                },
                SkillInput {
                    name: "tech".to_owned(),
                    level: 9,
                },
                SkillInput {
                    name: "tech".to_owned(),
                    level: 2,
                },
            ]),
            languages: Some(vec!["fr".to_owned(), "en".to_owned(), "en-US".to_owned()]),
            capacity: Some(CapacityInput {
                chat: Some(-1),
                voice: Some(6),
                ticket: Some(101),
            }),
            teams: Some(vec!["team_x".to_owned()]),
            extension: Some("12a".to_owned()),
        };
        let problems = check_new_staff(&request, &known(&[])).expect_err("invalid");
        assert_eq!(
            paths(&problems),
            [
                "username",
                "display_name",
                "password",
                "role",
                "skills[0].name",
                "skills[1].level",
                "skills[2].name",
                "languages[0]",
                "languages[2]",
                "capacity.chat",
                "capacity.voice",
                "capacity.ticket",
                "extension",
                "teams[0]",
            ],
            "{problems:?}"
        );
    }

    #[test]
    fn usernames_extensions_and_names_are_checked() {
        for good in ["al", "ada", "load-agent-2", "dora.k@example.com", "X_1"] {
            assert_eq!(username_problem(good), None, "{good}");
        }
        for bad in ["a", "-dash", "two words", "名字", &"x".repeat(65)] {
            assert!(username_problem(bad).is_some(), "{bad}");
        }
        assert_eq!(extension_problem("4021"), None);
        for bad in ["", "12-3", "+86", &"1".repeat(17)] {
            assert!(extension_problem(bad).is_some(), "{bad}");
        }
        assert_eq!(name_of(" 张三 "), Ok("张三".to_owned()));
        assert!(name_of("a\u{7}b").is_err());
        assert!(name_of(&"n".repeat(101)).is_err());
    }

    #[test]
    fn the_password_policy_applies_to_new_accounts_and_resets() {
        let request = NewStaff {
            username: Some("dora".to_owned()),
            display_name: Some("Dora".to_owned()),
            password: Some("dora-is-great-2026".to_owned()),
            role: Some("agent".to_owned()),
            ..NewStaff::default()
        };
        let problems = check_new_staff(&request, &known(&[])).expect_err("contains the name");
        assert_eq!(paths(&problems), ["password"]);
        let current = member("agt_dora", Role::Agent, &[]);
        let patch = StaffPatch {
            password: Some("password123".to_owned()),
            ..StaffPatch::default()
        };
        let problems = check_patch(&patch, &current, &known(&[])).expect_err("common");
        assert_eq!(paths(&problems), ["password"]);
    }

    #[test]
    fn only_admins_change_more_than_the_routing_profile() {
        let routing = StaffPatch {
            skills: Some(Vec::new()),
            languages: Some(Vec::new()),
            capacity: Some(CapacityInput::default()),
            ..StaffPatch::default()
        };
        for role in Role::ALL {
            assert!(forbidden_fields(&routing, role).is_empty(), "{role:?}");
        }
        let everything = StaffPatch {
            username: Some("x".to_owned()),
            display_name: Some("x".to_owned()),
            password: Some("x".to_owned()),
            role: Some("agent".to_owned()),
            teams: Some(Vec::new()),
            extension: Some(None),
            ..routing
        };
        assert!(forbidden_fields(&everything, Role::Admin).is_empty());
        assert_eq!(
            forbidden_fields(&everything, Role::Supervisor),
            [
                "username",
                "display_name",
                "password",
                "role",
                "teams",
                "extension"
            ]
        );
        assert_eq!(forbidden_fields(&everything, Role::TeamLead).len(), 6);
    }

    #[test]
    fn a_patch_records_before_and_after_of_what_changed_only() {
        let current = member("agt_bo", Role::Agent, &[("team_a", TeamRole::Member)]);
        let patch = StaffPatch {
            skills: Some(vec![
                SkillInput {
                    name: "billing".to_owned(),
                    level: 3,
                },
                SkillInput {
                    name: "refunds".to_owned(),
                    level: 4,
                },
            ]),
            languages: Some(vec!["zh".to_owned()]),
            capacity: Some(CapacityInput {
                chat: Some(5),
                voice: None,
                ticket: None,
            }),
            ..StaffPatch::default()
        };
        let patched = check_patch(&patch, &current, &known(&["team_a"])).expect("valid");
        assert_eq!(
            patched.changes.keys().copied().collect::<Vec<_>>(),
            ["capacity", "skills"],
            "languages did not change"
        );
        assert_eq!(
            patched.changes["capacity"],
            json!({"before": {"chat": 3, "voice": null, "ticket": null},
                   "after": {"chat": 5, "voice": null, "ticket": null}})
        );
        assert!(patched.moves_routing() && !patched.ends_sign_ins());
        assert_eq!(patched.member.revision, 4, "written at the revision read");
        assert!(
            patched.member.agent.password_hash.is_empty(),
            "an empty hash keeps the password"
        );
        // A password reset is recorded as such, never its value.
        let reset = StaffPatch {
            password: Some("a much longer secret".to_owned()),
            ..StaffPatch::default()
        };
        let patched = check_patch(&reset, &current, &known(&[])).expect("valid");
        assert!(patched.changes.is_empty() && patched.ends_sign_ins());
        // The extension can be removed with null.
        let with_extension = StaffMember {
            extension: Some("12".to_owned()),
            ..current.clone()
        };
        let cleared = StaffPatch {
            extension: Some(None),
            ..StaffPatch::default()
        };
        let patched = check_patch(&cleared, &with_extension, &known(&[])).expect("valid");
        assert_eq!(patched.member.extension, None);
        assert!(patched.changes.contains_key("extension"));
    }

    #[test]
    fn a_team_lead_leads_the_teams_they_are_in_and_an_agent_never_does() {
        let current = member(
            "agt_pat",
            Role::Agent,
            &[("team_a", TeamRole::Member), ("team_b", TeamRole::Member)],
        );
        let promoted = StaffPatch {
            role: Some("team_lead".to_owned()),
            teams: Some(vec!["team_a".to_owned(), "team_c".to_owned()]),
            ..StaffPatch::default()
        };
        let patched =
            check_patch(&promoted, &current, &known(&["team_a", "team_b", "team_c"])).expect("ok");
        assert_eq!(
            patched.member.teams,
            [
                (TeamId::from_trusted("team_a"), TeamRole::Lead),
                (TeamId::from_trusted("team_c"), TeamRole::Lead)
            ]
        );
        assert!(patched.ends_sign_ins(), "a role change ends every sign-in");
        // A supervisor keeps how a team's creation made them; joins as a member.
        assert_eq!(
            team_role(Role::Supervisor, Some(TeamRole::Lead)),
            TeamRole::Lead
        );
        assert_eq!(team_role(Role::Supervisor, None), TeamRole::Member);
        assert_eq!(
            team_role(Role::Agent, Some(TeamRole::Lead)),
            TeamRole::Member
        );
    }

    #[test]
    fn a_team_lead_sees_the_members_of_the_teams_they_lead_only() {
        let staff = vec![
            member("agt_lead", Role::TeamLead, &[("team_a", TeamRole::Lead)]),
            member("agt_in", Role::Agent, &[("team_a", TeamRole::Member)]),
            member("agt_out", Role::Agent, &[("team_b", TeamRole::Member)]),
            member("agt_none", Role::Agent, &[]),
        ];
        let seen = |id: &str, role| -> Vec<String> {
            let caller = Caller {
                id: AgentId::from_trusted(id),
                role,
            };
            visible_to(&caller, &staff)
                .iter()
                .map(|m| m.agent.id.to_string())
                .collect()
        };
        assert_eq!(seen("agt_lead", Role::TeamLead), ["agt_in"]);
        assert_eq!(seen("agt_other", Role::TeamLead), Vec::<String>::new());
        assert_eq!(seen("agt_sam", Role::Supervisor).len(), 4);
        assert_eq!(seen("agt_ada", Role::Admin).len(), 4);
        assert!(seen("agt_in", Role::Agent).is_empty());
    }

    #[test]
    fn every_problem_of_a_new_team_is_listed_with_its_place() {
        let mut gone = member("agt_gone", Role::Agent, &[]);
        gone.active = false;
        let staff = vec![
            member("agt_lead", Role::TeamLead, &[]),
            member("agt_sup", Role::Supervisor, &[]),
            member("agt_a", Role::Agent, &[]),
            gone,
        ];
        let valid = check_new_team(
            &NewTeam {
                name: Some(" Refunds ".to_owned()),
                leads: Some(vec!["agt_lead".to_owned(), "agt_sup".to_owned()]),
                members: Some(vec!["agt_a".to_owned()]),
            },
            &staff,
        )
        .expect("valid");
        assert_eq!(valid.name, "Refunds");
        assert_eq!(valid.leads.len(), 2);
        let problems = check_new_team(
            &NewTeam {
                name: Some(String::new()),
                leads: Some(vec!["agt_a".to_owned(), "agt_nobody".to_owned()]),
                members: Some(vec![
                    "agt_lead".to_owned(),
                    "agt_gone".to_owned(),
                    "agt_a".to_owned(),
                ]),
            },
            &staff,
        )
        .expect_err("invalid");
        assert_eq!(
            paths(&problems),
            [
                "name",
                "leads[0]",
                "leads[1]",
                "members[0]",
                "members[1]",
                "members[2]"
            ],
            "{problems:?}"
        );
        let missing = check_new_team(&NewTeam::default(), &staff).expect_err("no name");
        assert_eq!(paths(&missing), ["name"]);
    }
}
