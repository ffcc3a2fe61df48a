//! Live supervision over HTTP: the board of open conversations (`GET /v1/conversations`) and
//! an agent's activity timeline (`GET /v1/staff/{id}/activity`). A team lead sees only the
//! conversations and agents of the teams they lead; supervisors and admins see everything.
//! (Monitoring, whispering, barging and reassigning are agent-socket commands: see
//! `actors/agent_session.rs`.)

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{AgentId, Channel, ConversationId, ConversationStatus, Role, TeamId};
use crate::error::{ApiError, ErrorKind};
use crate::services::staff::Caller;
use crate::store::{agents_led_by, ActivityEntry, LiveConversation, Store};
use crate::views::CustomerCard;

/// Open conversations the board reads at most (queued and assigned first).
pub const BOARD_LIMIT: u32 = 500;
/// The longest activity window one request may ask for.
const MAX_ACTIVITY_DAYS: i64 = 31;

/// What the board shows (`GET /v1/conversations` query).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BoardFilter {
    /// `bot`, `queued` or `assigned`
    #[param(value_type = Option<String>)]
    pub status: Option<ConversationStatus>,
    /// The queue the hand-off was routed to
    pub queue: Option<String>,
    /// Conversations held by the members of this team
    #[param(value_type = Option<String>)]
    pub team_id: Option<TeamId>,
    /// Conversations held by this agent
    #[param(value_type = Option<String>)]
    pub agent_id: Option<AgentId>,
    /// Only customers who have waited for an agent at least this long (queued)
    pub min_wait_secs: Option<u64>,
}

/// One open conversation on the board.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct BoardEntry {
    #[schema(value_type = String)]
    pub conversation_id: ConversationId,
    pub customer: CustomerCard,
    #[schema(value_type = String)]
    pub channel: Channel,
    /// `bot`, `queued` or `assigned`
    #[schema(value_type = String)]
    pub status: ConversationStatus,
    #[schema(value_type = Option<String>)]
    pub agent_id: Option<AgentId>,
    pub agent_name: Option<String>,
    pub queue: Option<String>,
    pub priority: Option<i32>,
    /// Since when the customer waits for an agent (queued conversations)
    pub waiting_since: Option<DateTime<Utc>>,
    pub wait_secs: Option<u64>,
    pub opened_at: DateTime<Utc>,
    pub last_message_at: Option<DateTime<Utc>>,
}

/// The board: `rows` that pass `filter`, within `scope` (a team lead's agents; None: all),
/// with agents' names. `members` are the agents of `filter.team_id`, when it is set. Pure.
pub fn board(
    rows: Vec<LiveConversation>,
    filter: &BoardFilter,
    scope: Option<&BTreeSet<AgentId>>,
    members: Option<&BTreeSet<AgentId>>,
    names: &HashMap<AgentId, String>,
    now: DateTime<Utc>,
) -> Vec<BoardEntry> {
    rows.into_iter()
        .filter_map(|row| {
            let held_by =
                |set: &BTreeSet<AgentId>| row.agent_id.as_ref().is_some_and(|a| set.contains(a));
            if scope.is_some_and(|scope| !held_by(scope))
                || members.is_some_and(|members| !held_by(members))
                || filter.status.is_some_and(|s| s != row.status)
                || filter
                    .agent_id
                    .as_ref()
                    .is_some_and(|a| row.agent_id.as_ref() != Some(a))
                || filter
                    .queue
                    .as_ref()
                    .is_some_and(|q| row.queue.as_ref() != Some(q))
            {
                return None;
            }
            let waiting_since = row
                .task_created_at
                .filter(|_| row.status == ConversationStatus::Queued);
            let wait_secs =
                waiting_since.map(|since| u64::try_from((now - since).num_seconds()).unwrap_or(0));
            if filter
                .min_wait_secs
                .is_some_and(|min| wait_secs.is_none_or(|w| w < min))
            {
                return None;
            }
            Some(BoardEntry {
                conversation_id: row.id,
                customer: CustomerCard::from(&row.customer),
                channel: row.channel,
                status: row.status,
                agent_name: row.agent_id.as_ref().and_then(|a| names.get(a).cloned()),
                agent_id: row.agent_id,
                queue: row.queue,
                priority: row.priority,
                waiting_since,
                wait_secs,
                opened_at: row.opened_at,
                last_message_at: row.last_message_at,
            })
        })
        .collect()
}

/// The supervision service.
#[derive(Clone)]
pub struct SupervisionService {
    store: Arc<dyn Store>,
}

impl SupervisionService {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// The agents a team lead may watch (None: a supervisor or admin, who may watch all).
    async fn scope(&self, caller: &Caller) -> Result<Option<BTreeSet<AgentId>>, ApiError> {
        if caller.role != Role::TeamLead {
            return Ok(None);
        }
        let teams = self.store.teams().await?;
        Ok(Some(agents_led_by(&teams, &caller.id)))
    }

    /// The live board of open conversations the caller may watch.
    pub async fn conversations(
        &self,
        caller: &Caller,
        filter: &BoardFilter,
    ) -> Result<Vec<BoardEntry>, ApiError> {
        let scope = self.scope(caller).await?;
        let members = match &filter.team_id {
            Some(team_id) => {
                let teams = self.store.teams().await?;
                let team = teams
                    .iter()
                    .find(|t| t.id == *team_id)
                    .ok_or_else(|| ApiError::new(ErrorKind::NotFound, "No team has this id."))?;
                Some(team.members.iter().cloned().collect::<BTreeSet<_>>())
            }
            None => None,
        };
        let names = self
            .store
            .staff()
            .await?
            .into_iter()
            .map(|m| (m.agent.id, m.agent.display_name))
            .collect();
        let rows = self.store.live_conversations(BOARD_LIMIT).await?;
        Ok(board(
            rows,
            filter,
            scope.as_ref(),
            members.as_ref(),
            &names,
            Utc::now(),
        ))
    }

    /// An agent's activity timeline in `[from, to)` (default: the last 24 hours). A team lead
    /// may read their teams' agents only (403 otherwise); 404 first for an unknown account.
    pub async fn activity(
        &self,
        caller: &Caller,
        agent: &AgentId,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> Result<Vec<ActivityEntry>, ApiError> {
        let to = to.unwrap_or_else(Utc::now);
        let from = from.unwrap_or(to - chrono::Duration::hours(24));
        if from >= to || to - from > chrono::Duration::days(MAX_ACTIVITY_DAYS) {
            return Err(ApiError::new(
                ErrorKind::InvalidRequest,
                "`from` must be before `to`, at most 31 days apart.",
            ));
        }
        if self.store.staff_member(agent).await?.is_none() {
            return Err(ApiError::new(
                ErrorKind::NotFound,
                "No staff account has this id.",
            ));
        }
        if let Some(scope) = self.scope(caller).await? {
            if !scope.contains(agent) && *agent != caller.id {
                return Err(ApiError::forbidden("This agent is not in a team you lead."));
            }
        }
        Ok(self.store.agent_activity(agent, from, to).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Customer, CustomerId, Tier};

    fn row(
        id: &str,
        status: ConversationStatus,
        agent: Option<&str>,
        waited: i64,
    ) -> LiveConversation {
        let now = Utc::now();
        LiveConversation {
            id: ConversationId::from_trusted(id),
            customer: Customer {
                id: CustomerId::from_trusted(format!("cus_{id}")),
                display_name: "Ann".to_owned(),
                tier: Tier::Standard,
                tags: vec![],
                created_at: now,
            },
            status,
            channel: Channel::Web,
            agent_id: agent.map(AgentId::from_trusted),
            opened_at: now,
            priority: Some(0),
            queue: Some("general".to_owned()),
            task_created_at: Some(now - chrono::Duration::seconds(waited)),
            last_message_at: None,
        }
    }

    fn ids(entries: &[BoardEntry]) -> Vec<&str> {
        entries.iter().map(|e| e.conversation_id.as_str()).collect()
    }

    fn rows() -> Vec<LiveConversation> {
        vec![
            row("c1", ConversationStatus::Queued, None, 300),
            row("c2", ConversationStatus::Assigned, Some("agt_a"), 600),
            row("c3", ConversationStatus::Assigned, Some("agt_b"), 30),
            row("c4", ConversationStatus::Bot, None, 0),
        ]
    }

    #[test]
    fn a_team_leads_board_holds_only_their_agents_conversations() {
        let scope: BTreeSet<AgentId> = [AgentId::from_trusted("agt_a")].into();
        let names = HashMap::from([(AgentId::from_trusted("agt_a"), "Alice".to_owned())]);
        let entries = board(
            rows(),
            &BoardFilter::default(),
            Some(&scope),
            None,
            &names,
            Utc::now(),
        );
        assert_eq!(ids(&entries), ["c2"]);
        assert_eq!(entries[0].agent_name.as_deref(), Some("Alice"));
        // An assigned conversation is not waiting.
        assert_eq!(entries[0].wait_secs, None);
    }

    #[test]
    fn filters_combine() {
        let everyone = board(
            rows(),
            &BoardFilter::default(),
            None,
            None,
            &HashMap::new(),
            Utc::now(),
        );
        assert_eq!(ids(&everyone), ["c1", "c2", "c3", "c4"]);
        let waiting = BoardFilter {
            min_wait_secs: Some(120),
            ..BoardFilter::default()
        };
        let entries = board(rows(), &waiting, None, None, &HashMap::new(), Utc::now());
        assert_eq!(ids(&entries), ["c1"]);
        assert!(entries[0].wait_secs.is_some_and(|w| w >= 300));
        let assigned_to_b = BoardFilter {
            status: Some(ConversationStatus::Assigned),
            agent_id: Some(AgentId::from_trusted("agt_b")),
            ..BoardFilter::default()
        };
        assert_eq!(
            ids(&board(
                rows(),
                &assigned_to_b,
                None,
                None,
                &HashMap::new(),
                Utc::now()
            )),
            ["c3"]
        );
        let team: BTreeSet<AgentId> = [AgentId::from_trusted("agt_b")].into();
        assert_eq!(
            ids(&board(
                rows(),
                &BoardFilter::default(),
                None,
                Some(&team),
                &HashMap::new(),
                Utc::now()
            )),
            ["c3"]
        );
        let other_queue = BoardFilter {
            queue: Some("vip".to_owned()),
            ..BoardFilter::default()
        };
        assert!(board(
            rows(),
            &other_queue,
            None,
            None,
            &HashMap::new(),
            Utc::now()
        )
        .is_empty());
    }
}
