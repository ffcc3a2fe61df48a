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
//! - `session.{customer_id}` (topic): [`customer_session::SessionCommand`]s for the customer's
//!   session actor (agent replies, assignment, wrap-up).

pub mod agent_session;
pub mod customer_session;
pub mod dispatcher;

use crate::bus::Route;
use crate::domain::{AgentId, CustomerId};

/// The dispatcher's work queue.
pub const DISPATCH_QUEUE: &str = "dispatch";

/// Route to every desk of one agent.
pub fn agent_route(agent: &AgentId) -> Route {
    Route::Topic(format!("agent.{agent}"))
}

/// Route to every open connection of one customer.
pub fn customer_route(customer: &CustomerId) -> Route {
    Route::Topic(format!("customer.{customer}"))
}

/// Route to a customer's session actor.
pub fn session_route(customer: &CustomerId) -> Route {
    Route::Topic(format!("session.{customer}"))
}

/// Route to the dispatcher.
pub fn dispatch_route() -> Route {
    Route::Queue(DISPATCH_QUEUE.to_owned())
}
