//! Customers: anonymous web visitors, what agents see of a customer (profile, identities,
//! every message across channels, tickets), the customer's own open conversation, and merges
//! of two customers ("one ID") with their undo.
//!
//! A merge moves identities, conversations and messages in one store transaction and then
//! tells both customers' sessions to reload, so neither keeps writing to a conversation that
//! is no longer theirs.

use std::sync::Arc;

use chrono::{Duration, Utc};

use crate::actors::protocol::SessionCommand;
use crate::actors::session_router::SessionRouter;
use crate::auth;
use crate::domain::{
    AgentId, Channel, Conversation, Customer, CustomerId, Identity, Message, Role, Tier,
};
use crate::error::{ApiError, ErrorKind};
use crate::store::{CustomerMerge, Principal, Store, Ticket};

/// What an agent sees of a customer.
pub struct Profile {
    pub customer: Customer,
    pub identities: Vec<Identity>,
    pub open_conversation: Option<Conversation>,
}

/// A new anonymous web visitor and the bearer token that acts as them.
pub struct Visitor {
    pub customer: Customer,
    /// The web identity's external id.
    pub visitor_id: String,
    pub token: String,
}

/// A customer's open conversation as the customer sees it.
pub struct CurrentConversation {
    pub conversation: Conversation,
    pub messages: Vec<Message>,
    /// The display name of the agent who holds it, if one does.
    pub agent_name: Option<String>,
}

/// The customer service.
#[derive(Clone)]
pub struct CustomerService {
    store: Arc<dyn Store>,
    sessions: SessionRouter,
}

fn no_such_customer() -> ApiError {
    ApiError::not_found("No such customer.")
}

impl CustomerService {
    pub fn new(store: Arc<dyn Store>, sessions: SessionRouter) -> Self {
        Self { store, sessions }
    }

    /// Creates an anonymous web visitor (a customer with a web identity) and a token for
    /// them that lasts `ttl`.
    pub async fn create_visitor(&self, name: String, ttl: Duration) -> Result<Visitor, ApiError> {
        let customer = Customer {
            id: CustomerId::generate(),
            display_name: name,
            tier: Tier::Standard,
            tags: vec!["web".to_owned()],
            created_at: Utc::now(),
        };
        self.store.insert_customer(&customer).await?;
        let visitor_id = format!("v_{}", uuid::Uuid::new_v4().simple());
        self.store
            .link_identity(Channel::Web, &visitor_id, &customer.id)
            .await?;
        let (token, hash) = auth::new_token();
        self.store
            .insert_token(
                &hash,
                &Principal::Customer(customer.id.clone()),
                Utc::now() + ttl,
            )
            .await?;
        Ok(Visitor {
            customer,
            visitor_id,
            token,
        })
    }

    /// Links an identity to a customer; its owner (another customer when it was taken:
    /// left as it is, for an agent to merge).
    pub async fn link(
        &self,
        channel: Channel,
        external_id: &str,
        customer: &CustomerId,
    ) -> Result<CustomerId, ApiError> {
        Ok(self
            .store
            .link_identity(channel, external_id, customer)
            .await?)
    }

    /// The customer behind a channel identity.
    pub async fn lookup(
        &self,
        channel: Channel,
        external_id: &str,
    ) -> Result<Option<CustomerId>, ApiError> {
        Ok(self.store.find_identity(channel, external_id).await?)
    }

    /// A customer with their identities and open conversation (404 when unknown).
    pub async fn profile(&self, id: &CustomerId) -> Result<Profile, ApiError> {
        let customer = self
            .store
            .customer(id)
            .await?
            .ok_or_else(no_such_customer)?;
        Ok(Profile {
            customer,
            identities: self.store.identities(id).await?,
            open_conversation: self.store.open_conversation(id).await?,
        })
    }

    /// Whether the staff member `reader` (of `role`) may read customer `id`: supervisors and
    /// admins every customer; an agent the customers they serve or served; a team lead those
    /// of their teams' agents (and their own). 403 otherwise, 404 for an unknown customer
    /// first.
    pub async fn may_read(
        &self,
        reader: &AgentId,
        role: Role,
        id: &CustomerId,
    ) -> Result<(), ApiError> {
        self.require(id).await?;
        let readers: Vec<AgentId> = match role {
            Role::Supervisor | Role::Admin => return Ok(()),
            Role::Agent => vec![reader.clone()],
            Role::TeamLead => {
                let teams = self.store.teams().await?;
                let mut agents: Vec<AgentId> = crate::store::agents_led_by(&teams, reader)
                    .into_iter()
                    .collect();
                agents.push(reader.clone());
                agents
            }
        };
        for agent in &readers {
            if self.store.served_customer(id, agent).await? {
                return Ok(());
            }
        }
        Err(ApiError::forbidden(
            "Agents read the customers they serve or served; team leads those of their teams.",
        ))
    }

    async fn require(&self, id: &CustomerId) -> Result<(), ApiError> {
        match self.store.customer(id).await? {
            Some(_) => Ok(()),
            None => Err(no_such_customer()),
        }
    }

    /// Every message of a customer across channels, oldest first (404 when unknown).
    pub async fn messages(&self, id: &CustomerId) -> Result<Vec<Message>, ApiError> {
        self.require(id).await?;
        Ok(self.store.customer_messages(id).await?)
    }

    /// A customer's tickets (404 when unknown).
    pub async fn tickets(&self, id: &CustomerId) -> Result<Vec<Ticket>, ApiError> {
        self.require(id).await?;
        Ok(self.store.customer_tickets(id).await?)
    }

    /// The customer's open conversation with its messages, if there is one.
    pub async fn current_conversation(
        &self,
        customer: &CustomerId,
    ) -> Result<Option<CurrentConversation>, ApiError> {
        let Some(conversation) = self.store.open_conversation(customer).await? else {
            return Ok(None);
        };
        // Notes and whispers are staff's: a customer's view never carries them.
        let messages = self
            .store
            .conversation_messages(&conversation.id)
            .await?
            .into_iter()
            .filter(|m| !m.from.is_internal())
            .collect();
        let agent_name = match &conversation.agent_id {
            Some(id) => self.store.agent(id).await?.map(|a| a.display_name),
            None => None,
        };
        Ok(Some(CurrentConversation {
            conversation,
            messages,
            agent_name,
        }))
    }

    /// Merges `from` into `into` (audited, reversible): 404 when either is unknown, 409
    /// when `from` has nothing left to merge (a repeated request).
    pub async fn merge(
        &self,
        into: &CustomerId,
        from: &CustomerId,
        by: &str,
    ) -> Result<CustomerMerge, ApiError> {
        for customer in [into, from] {
            if self.store.customer(customer).await?.is_none() {
                return Err(ApiError::not_found(format!("No customer {customer}.")));
            }
        }
        // A repeated request (the first one succeeded) finds nothing left to move.
        if self.store.identities(from).await?.is_empty()
            && self.store.customer_messages(from).await?.is_empty()
        {
            return Err(ApiError::new(
                ErrorKind::Conflict,
                format!("Customer {from} has nothing left to merge (merged already?)."),
            ));
        }
        let merge_id = format!("mrg_{}", uuid::Uuid::now_v7().simple());
        let merge = self
            .store
            .merge_customers(&merge_id, into, from, by, Utc::now())
            .await?;
        tracing::info!(%into, %from, by, merge = %merge.id, "Customers merged.");
        self.reload_sessions(&merge).await;
        Ok(merge)
    }

    /// Undoes a merge (404 when unknown).
    pub async fn undo_merge(&self, merge_id: &str, by: &str) -> Result<CustomerMerge, ApiError> {
        let merge = self
            .store
            .undo_merge(merge_id, by, Utc::now())
            .await?
            .ok_or_else(|| ApiError::not_found("No such merge."))?;
        tracing::info!(merge = %merge.id, by, "Customer merge undone.");
        self.reload_sessions(&merge).await;
        Ok(merge)
    }

    /// Tells the sessions of both customers of a merge (or its undo) that their data moved.
    /// The merge is stored already: a session not told (the bus down) rebuilds from the
    /// store when it passivates.
    async fn reload_sessions(&self, merge: &CustomerMerge) {
        for customer_id in [&merge.into, &merge.from] {
            let reload = SessionCommand::Reload {
                customer_id: customer_id.clone(),
            };
            if let Err(error) = self.sessions.command(reload).await {
                tracing::warn!(customer = %customer_id, merge = %merge.id, %error, "Could not tell a session of a merge.");
            }
        }
    }
}
