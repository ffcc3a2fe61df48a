//! Actors: state holders that translate messages. One [`customer_session::CustomerSession`]
//! per active customer, one [`agent_session::AgentSession`] per connected agent desk, and one
//! [`dispatcher::Dispatcher`] that routes waiting tasks to agents.
//!
//! Actors talk to each other through the [`crate::bus::Bus`] on these routes, so the same code
//! runs on one box (in-process bus) and on a cluster (RabbitMQ):
//! - `dispatch` (work queue): [`dispatcher::DispatchEvent`]s for the dispatcher;
//! - `agent.{agent_id}` (topic): [`agent_session::AgentEvent`]s for the desk(s) of one agent;
//! - `customer.{customer_id}` (topic): [`customer_session::CustomerEvent`]s for a customer's
//!   open connections;
//! - `session.{shard}` (work queue, one consumer active per shard across the cluster):
//!   [`customer_session::ShardMessage`]s for the customers of that shard — their inbound
//!   messages (answered on `reply.{node}.{correlation}`) and commands from agents and the
//!   dispatcher. Each customer maps to one shard, so one node at a time runs their session and
//!   handles their messages in order; a dead node's shards move to a live one.

pub mod agent_session;
pub mod customer_session;
pub mod delivery;
pub mod dispatcher;

use crate::bus::Route;
use crate::domain::{AgentId, CustomerId};

/// The dispatcher's work queue.
pub const DISPATCH_QUEUE: &str = "dispatch";

/// Topic every agent desk listens to (e.g. "re-announce yourself" after a dispatcher
/// take-over).
pub const AGENTS_BROADCAST: &str = "agents.broadcast";

/// Route to every desk of one agent.
pub fn agent_route(agent: &AgentId) -> Route {
    Route::Topic(format!("agent.{agent}"))
}

/// Route to every open connection of one customer.
pub fn customer_route(customer: &CustomerId) -> Route {
    Route::Topic(format!("customer.{customer}"))
}

/// Session shards (`session.0` .. `session.15`). Part of the cluster's wire contract: every
/// node must agree, so it is a constant rather than a setting.
pub const SESSION_SHARDS: u32 = 16;

/// The shard of a customer: FNV-1a of the id, stable across processes and versions.
pub fn shard_of(customer: &CustomerId) -> u32 {
    let hash = customer
        .as_str()
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        });
    u32::try_from(hash % u64::from(SESSION_SHARDS)).unwrap_or(0)
}

/// The work queue of a shard.
pub fn shard_queue(shard: u32) -> String {
    format!("session.{shard}")
}

/// Route to a customer's session actor (through the customer's shard).
pub fn session_route(customer: &CustomerId) -> Route {
    Route::Queue(shard_queue(shard_of(customer)))
}

/// Route to the dispatcher.
pub fn dispatch_route() -> Route {
    Route::Queue(DISPATCH_QUEUE.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_are_stable_and_spread() {
        let id = CustomerId::from_trusted("cus_0123456789abcdef");
        assert_eq!(shard_of(&id), shard_of(&id.clone()));
        let used: std::collections::BTreeSet<u32> = (0..400)
            .map(|i| shard_of(&CustomerId::from_trusted(format!("cus_{i}"))))
            .collect();
        assert_eq!(
            used.len(),
            SESSION_SHARDS as usize,
            "400 ids cover every shard"
        );
        assert!(used.iter().all(|s| *s < SESSION_SHARDS));
        // Pinned value: changing the hash would move live customers between shards.
        assert_eq!(shard_of(&CustomerId::from_trusted("cus_a")), SHARD_OF_CUS_A);
    }

    const SHARD_OF_CUS_A: u32 = 2;
}
