//! Routing rules as supervisors change them: versions (validated, immutable, audited),
//! activation and rollback, temporary overrides, the audit history with its diffs, the
//! dry-run of a version on recorded traffic, and the explanation of one task's routing.
//!
//! Every change is stored first; the dispatcher is then told over the bus. If that notice is
//! lost, the dispatcher still finds the change when it next reconciles with the store.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;

use crate::actors::dispatcher;
use crate::actors::protocol::DispatchEvent;
use crate::bus::Bus;
use crate::domain::{AgentId, Problem, Task, TaskId};
use crate::error::ApiError;
use crate::routing::rules::{self, Change, OverrideTarget, RuleSetDoc};
use crate::routing::simulate::{self, DryRun, SimSettings};
use crate::store::{Activation, ActiveRuleSet, AuditEntry, Store, StoredOverride, StoredRuleSet};

/// The longest window a dry-run replays.
pub const MAX_DRY_RUN_DAYS: i64 = 31;
/// How long an override may last at most.
pub const MAX_OVERRIDE_MINUTES: u64 = 7 * 24 * 60;

/// One dry-run at a time per node: a replay reads a window of traffic and takes CPU time,
/// and supervisors' experiments must not slow the routing of live conversations.
static DRY_RUNS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);

/// Fields the rule-set views add to a document (`GET /v1/routing/rules`, `…/{version}`):
/// accepted and ignored in a posted document, so a fetched rule set can be edited and posted
/// back as it is.
const READ_ONLY_FIELDS: [&str; 8] = [
    "version",
    "created_by",
    "created_at",
    "activated_by",
    "activated_at",
    "active",
    "builtin",
    "description",
];

/// A temporary override of one rule's target.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OverrideRequest {
    /// A rule of the active set, by name
    pub rule: String,
    pub target: OverrideTarget,
    #[schema(minimum = 1, maximum = 10_080)]
    pub minutes: u64,
    #[serde(default)]
    pub reason: String,
}

/// A stored version with its document and whether it is in force.
pub struct RuleVersion {
    pub stored: StoredRuleSet,
    pub doc: RuleSetDoc,
    pub active: bool,
    /// What it changed against the version stored before it (none for the first).
    pub diff: Option<Vec<Change>>,
}

/// One entry of the routing audit trail, with the diff it made where it made one.
pub struct HistoryEntry {
    pub entry: AuditEntry,
    pub diff: Option<Vec<Change>>,
}

/// The dry-run of one version.
pub struct DryRunOutcome {
    pub report: DryRun,
    pub baseline_version: Option<i64>,
}

/// The routing service: everything the supervisors' API does to routing.
#[derive(Clone)]
pub struct RoutingService {
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
}

/// A stored document as a rule set (stored documents were validated; an unreadable one is
/// shown as empty rather than failing the listing).
pub fn document_of(stored: &StoredRuleSet) -> RuleSetDoc {
    serde_json::from_value(stored.document.clone()).unwrap_or_else(|_| empty_doc())
}

fn empty_doc() -> RuleSetDoc {
    RuleSetDoc {
        rules: Vec::new(),
        queues: Default::default(),
    }
}

/// The document of a posted body, without the views' read-only fields.
fn without_read_only_fields(mut body: serde_json::Value) -> serde_json::Value {
    if let Some(fields) = body.as_object_mut() {
        for field in READ_ONLY_FIELDS {
            fields.remove(field);
        }
    }
    body
}

fn unknown_version(version: i64) -> ApiError {
    ApiError::not_found(format!("There is no rule set version {version}."))
}

impl RoutingService {
    pub fn new(store: Arc<dyn Store>, bus: Arc<dyn Bus>) -> Self {
        Self { store, bus }
    }

    /// The rule set in force, if one was ever activated.
    pub async fn active(&self) -> Result<Option<ActiveRuleSet>, ApiError> {
        Ok(self.store.active_rule_set().await?)
    }

    async fn active_version(&self) -> Result<Option<i64>, ApiError> {
        Ok(self.active().await?.map(|a| a.rule_set.version))
    }

    /// Parses and validates a posted document against the skills agents have now (the
    /// views' read-only fields are ignored).
    pub async fn validate(
        &self,
        body: serde_json::Value,
    ) -> Result<Result<RuleSetDoc, Vec<Problem>>, ApiError> {
        let doc: RuleSetDoc = match serde_json::from_value(without_read_only_fields(body)) {
            Ok(doc) => doc,
            Err(error) => {
                return Ok(Err(vec![Problem::new(
                    "document",
                    format!("not a rule set: {error}"),
                )]))
            }
        };
        let known = self.store.skill_names().await?;
        Ok(rules::compile(&doc, &known).map(|_| doc))
    }

    /// Validates and stores a new version (audited by the store); its number, or every
    /// problem at once.
    pub async fn create(
        &self,
        body: serde_json::Value,
        by: &AgentId,
    ) -> Result<Result<i64, Vec<Problem>>, ApiError> {
        let doc = match self.validate(body).await? {
            Ok(doc) => doc,
            Err(problems) => return Ok(Err(problems)),
        };
        let document = serde_json::to_value(&doc).map_err(ApiError::internal)?;
        let version = self
            .store
            .insert_rule_set(&document, by.as_str(), Utc::now())
            .await?;
        Ok(Ok(version))
    }

    /// Every version, oldest first, each with its diff against the version before it.
    pub async fn versions(&self) -> Result<(Option<i64>, Vec<RuleVersion>), ApiError> {
        let active = self.active_version().await?;
        let stored = self.store.rule_sets().await?;
        let docs: Vec<RuleSetDoc> = stored.iter().map(document_of).collect();
        let versions = stored
            .into_iter()
            .enumerate()
            .map(|(i, stored)| RuleVersion {
                active: Some(stored.version) == active,
                diff: i
                    .checked_sub(1)
                    .map(|previous| rules::diff(&docs[previous], &docs[i])),
                doc: docs[i].clone(),
                stored,
            })
            .collect();
        Ok((active, versions))
    }

    /// One version (404 when unknown).
    pub async fn version(&self, version: i64) -> Result<RuleVersion, ApiError> {
        let stored = self
            .store
            .rule_set(version)
            .await?
            .ok_or_else(|| unknown_version(version))?;
        let active = self.active_version().await?;
        Ok(RuleVersion {
            doc: document_of(&stored),
            active: active == Some(stored.version),
            diff: None,
            stored,
        })
    }

    /// Activates a version (or an older one: rollback) in one store transaction, then tells
    /// the dispatcher; the version it replaced.
    pub async fn activate(&self, version: i64, by: &AgentId) -> Result<Option<i64>, ApiError> {
        match self
            .store
            .activate_rule_set(version, by.as_str(), Utc::now())
            .await?
        {
            Activation::UnknownVersion => Err(unknown_version(version)),
            Activation::Activated { previous } => {
                if let Err(error) = dispatcher::tell(
                    self.bus.as_ref(),
                    &DispatchEvent::RulesActivated { version },
                )
                .await
                {
                    tracing::warn!(%error, version, "Could not tell the dispatcher about new rules.");
                }
                Ok(previous)
            }
        }
    }

    /// Replays the recorded traffic of `[from, to)` with a version and with the version in
    /// force, and compares them (see [`crate::routing::simulate`]); one at a time per node.
    pub async fn dry_run(
        &self,
        version: i64,
        settings: SimSettings,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Result<DryRunOutcome, Vec<Problem>>, ApiError> {
        if from >= to {
            return Err(ApiError::invalid("'from' must be before 'to'."));
        }
        if to - from > Duration::days(MAX_DRY_RUN_DAYS) {
            return Err(ApiError::invalid(format!(
                "A dry-run replays at most {MAX_DRY_RUN_DAYS} days."
            )));
        }
        let candidate = self
            .store
            .rule_set(version)
            .await?
            .ok_or_else(|| unknown_version(version))?;
        let Ok(_running) = DRY_RUNS.try_acquire() else {
            return Err(ApiError::busy(
                "A dry-run is already running on this node; try again in a few seconds.",
                5,
            ));
        };
        // Stored versions were validated; one that no longer compiles (a newer build
        // tightened a check) is reported like any invalid document.
        if let Err(problems) = rules::compile_stored(&document_of(&candidate)) {
            return Ok(Err(problems));
        }
        let (report, baseline_version) = simulate::dry_run_from_store(
            self.store.as_ref(),
            settings,
            document_of(&candidate),
            from,
            to,
        )
        .await
        .map_err(ApiError::internal)?;
        Ok(Ok(DryRunOutcome {
            report,
            baseline_version,
        }))
    }

    /// The audit trail of routing, newest first: versions created and activated (with the
    /// diff an activation made in force, or a new version made against the one before it),
    /// overrides created and ended.
    pub async fn history(&self, limit: u32) -> Result<Vec<HistoryEntry>, ApiError> {
        let entries = self.store.audit_log("routing_", limit).await?;
        let versions: BTreeMap<i64, RuleSetDoc> = self
            .store
            .rule_sets()
            .await?
            .iter()
            .map(|s| (s.version, document_of(s)))
            .collect();
        let empty = empty_doc();
        Ok(entries
            .into_iter()
            .map(|entry| {
                let version_of =
                    |key: &str| entry.detail.get(key).and_then(serde_json::Value::as_i64);
                let subject_version = entry
                    .subject
                    .strip_prefix("routing_rules/")
                    .and_then(|v| v.parse::<i64>().ok());
                let diff = match (entry.action.as_str(), subject_version) {
                    ("routing.rules.activated", Some(v)) => versions.get(&v).map(|new| {
                        let old = version_of("previous")
                            .and_then(|p| versions.get(&p))
                            .unwrap_or(&empty);
                        rules::diff(old, new)
                    }),
                    ("routing.rules.created", Some(v)) => versions.get(&v).map(|new| {
                        let old = versions.range(..v).next_back().map_or(&empty, |(_, d)| d);
                        rules::diff(old, new)
                    }),
                    _ => None,
                };
                HistoryEntry { entry, diff }
            })
            .collect())
    }

    /// Stores a temporary override of one rule of the version in force and tells the
    /// dispatcher; the override, or every problem with the request at once.
    pub async fn add_override(
        &self,
        request: OverrideRequest,
        by: &AgentId,
    ) -> Result<Result<StoredOverride, Vec<Problem>>, ApiError> {
        let mut problems = Vec::new();
        match self.active().await? {
            None => problems.push(Problem::new(
                "rule",
                "no rule set is active: activate one before overriding its rules",
            )),
            Some(active) => {
                if !document_of(&active.rule_set)
                    .rules
                    .iter()
                    .any(|r| r.name == request.rule)
                {
                    problems.push(Problem::new(
                        "rule",
                        format!("the active rule set has no rule '{}'", request.rule),
                    ));
                }
            }
        }
        if request.target.queue.is_none() && request.target.skills.is_none() {
            problems.push(Problem::new("target", "name a queue, skills or both"));
        }
        if request
            .target
            .queue
            .as_deref()
            .is_some_and(|q| q.trim().is_empty())
        {
            problems.push(Problem::new("target.queue", "an empty queue name"));
        }
        if let Some(skills) = &request.target.skills {
            let known = self.store.skill_names().await?;
            for (j, need) in skills.iter().enumerate() {
                if !known.contains(&need.name) {
                    problems.push(Problem::new(
                        format!("target.skills[{j}].name"),
                        format!("no agent has the skill '{}'", need.name),
                    ));
                }
                if !rules::SKILL_LEVELS.contains(&need.min_level) {
                    problems.push(Problem::new(
                        format!("target.skills[{j}].min_level"),
                        format!("levels run from 1 to 5, not {}", need.min_level),
                    ));
                }
            }
        }
        if !(1..=MAX_OVERRIDE_MINUTES).contains(&request.minutes) {
            problems.push(Problem::new(
                "minutes",
                format!("an override lasts 1 to {MAX_OVERRIDE_MINUTES} minutes"),
            ));
        }
        if !problems.is_empty() {
            return Ok(Err(problems));
        }
        let now = Utc::now();
        let item = StoredOverride {
            id: format!("ovr_{}", uuid::Uuid::new_v4().simple()),
            rule: request.rule,
            target: serde_json::to_value(&request.target).map_err(ApiError::internal)?,
            reason: request.reason.trim().to_owned(),
            created_by: by.to_string(),
            created_at: now,
            expires_at: now + Duration::minutes(i64::try_from(request.minutes).unwrap_or(0)),
            ended_at: None,
        };
        self.store.insert_override(&item).await?;
        self.overrides_changed().await;
        Ok(Ok(item))
    }

    /// The overrides in force now.
    pub async fn overrides(&self) -> Result<Vec<StoredOverride>, ApiError> {
        Ok(self.store.overrides_in_force(Utc::now()).await?)
    }

    /// Ends an override in force (404 when unknown, ended or expired) and tells the
    /// dispatcher.
    pub async fn end_override(&self, id: &str, by: &AgentId) -> Result<(), ApiError> {
        if !self.store.end_override(id, by.as_str(), Utc::now()).await? {
            return Err(ApiError::not_found(
                "No override in force has this id (unknown, ended or expired).",
            ));
        }
        self.overrides_changed().await;
        Ok(())
    }

    /// Tells the dispatcher the overrides changed (if lost, it finds them when it
    /// reconciles).
    async fn overrides_changed(&self) {
        if let Err(error) =
            dispatcher::tell(self.bus.as_ref(), &DispatchEvent::OverridesChanged).await
        {
            tracing::warn!(%error, "Could not tell the dispatcher about changed overrides.");
        }
    }

    /// A task and the routing record of its last offer (404 when unknown).
    pub async fn task_routing(
        &self,
        id: &TaskId,
    ) -> Result<(Task, Option<serde_json::Value>), ApiError> {
        let task = self
            .store
            .task(id)
            .await?
            .ok_or_else(|| ApiError::not_found("No such task."))?;
        let routing = self.store.task_routing(id).await?;
        Ok((task, routing))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actors::protocol::DISPATCH_QUEUE;
    use crate::bus::memory::MemoryBus;
    use crate::domain::{Agent, Language, Role, Skill};
    use crate::error::ErrorKind;
    use crate::store::sqlite::SqliteStore;
    use serde_json::json;

    /// A service over an empty store with one agent who has the `billing` skill, and the
    /// bus it tells the dispatcher on.
    async fn service() -> (RoutingService, MemoryBus, AgentId) {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::in_memory().expect("store"));
        let supervisor = AgentId::from_trusted("agt_sup");
        store
            .upsert_agent(&Agent {
                id: AgentId::from_trusted("agt_billing"),
                username: "billing".to_owned(),
                display_name: "Billing".to_owned(),
                role: Role::Agent,
                skills: vec![Skill {
                    name: "billing".to_owned(),
                    level: 3,
                }],
                languages: vec![Language::Zh],
                capacity: 3,
                voice_capacity: None,
                ticket_capacity: None,
                password_hash: String::new(),
            })
            .await
            .expect("agent");
        let bus = MemoryBus::new();
        let service = RoutingService::new(store, Arc::new(bus.clone()));
        (service, bus, supervisor)
    }

    fn billing_rules() -> serde_json::Value {
        json!({"rules": [{"name": "billing", "when": "intent == 'billing'", "queue": "billing",
                          "skills": [{"name": "billing", "min_level": 2}]}]})
    }

    #[actix_web::test]
    async fn a_version_is_validated_stored_activated_and_told_to_the_dispatcher() {
        let (routing, bus, by) = service().await;
        let unknown_skill = json!({"rules": [{"name": "x", "queue": "q",
                                              "skills": [{"name": "juggling", "min_level": 1}]}]});
        let problems = routing
            .create(unknown_skill, &by)
            .await
            .expect("no store error")
            .expect_err("juggling is nobody's skill");
        assert!(
            problems.iter().any(|p| p.path.contains("skills")),
            "{problems:?}"
        );
        assert!(routing.versions().await.expect("versions").1.is_empty());

        // Read-only fields of a fetched document are ignored.
        let mut fetched = billing_rules();
        fetched["version"] = json!(7);
        fetched["active"] = json!(true);
        let version = routing
            .create(fetched, &by)
            .await
            .expect("no store error")
            .expect("valid");
        assert_eq!(
            bus.queue_depth(DISPATCH_QUEUE),
            0,
            "storing is not activating"
        );
        assert_eq!(routing.activate(version, &by).await.ok(), Some(None));
        assert_eq!(bus.queue_depth(DISPATCH_QUEUE), 1, "the dispatcher is told");
        let active = routing.active().await.expect("read").expect("active");
        assert_eq!(active.rule_set.version, version);

        let missing = routing
            .activate(version + 1, &by)
            .await
            .expect_err("unknown");
        assert_eq!(missing.kind, ErrorKind::NotFound);
        assert_eq!(bus.queue_depth(DISPATCH_QUEUE), 1, "nothing to tell");
    }

    #[actix_web::test]
    async fn an_override_reports_every_problem_at_once_and_stores_nothing() {
        let (routing, bus, by) = service().await;
        let request = OverrideRequest {
            rule: "billing".to_owned(),
            target: OverrideTarget {
                queue: Some(" ".to_owned()),
                skills: None,
            },
            minutes: 0,
            reason: String::new(),
        };
        let problems = routing
            .add_override(request, &by)
            .await
            .expect("no store error")
            .expect_err("invalid");
        let places: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(places, ["rule", "target.queue", "minutes"]);
        assert!(routing.overrides().await.expect("read").is_empty());
        assert_eq!(bus.queue_depth(DISPATCH_QUEUE), 0);
    }

    #[actix_web::test]
    async fn an_override_of_the_rules_in_force_is_stored_told_and_ended() {
        let (routing, bus, by) = service().await;
        let version = routing
            .create(billing_rules(), &by)
            .await
            .expect("no store error")
            .expect("valid");
        routing.activate(version, &by).await.expect("activated");
        let request: OverrideRequest = serde_json::from_value(json!({
            "rule": "billing", "target": {"queue": "general"}, "minutes": 30, "reason": " busy ",
        }))
        .expect("request");
        let item = routing
            .add_override(request, &by)
            .await
            .expect("no store error")
            .expect("valid");
        assert_eq!(item.reason, "busy");
        assert_eq!(item.expires_at - item.created_at, Duration::minutes(30));
        assert_eq!(
            bus.queue_depth(DISPATCH_QUEUE),
            2,
            "activation and override told"
        );
        let in_force = routing.overrides().await.expect("read");
        assert_eq!(in_force.len(), 1);

        routing.end_override(&item.id, &by).await.expect("ended");
        assert!(routing.overrides().await.expect("read").is_empty());
        assert_eq!(bus.queue_depth(DISPATCH_QUEUE), 3);
        let again = routing.end_override(&item.id, &by).await.expect_err("gone");
        assert_eq!(again.kind, ErrorKind::NotFound);
    }
}
