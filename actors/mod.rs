//! Actors: state holders that translate messages. One [`customer_session::CustomerSession`]
//! per active customer, one [`agent_session::AgentSession`] per connected agent desk, and one
//! [`dispatcher::Dispatcher`] that routes waiting tasks to agents; [`delivery`] hands outbound
//! messages to providers.
//!
//! Actors talk to each other through the [`crate::bus::Bus`], so the same code runs on one box
//! (in-process bus) and on a cluster (RabbitMQ). What travels where is [`protocol`]: every
//! actor depends on it and on no other actor's internals (the dispatcher and the agent
//! sessions reach customer sessions only through [`session_router`]).
//!
//! - `session.{shard}` (work queue, one consumer active per shard across the cluster):
//!   [`session_router::ShardMessage`]s for the customers of that shard — their inbound
//!   messages (answered on `reply.{node}.{correlation}`) and commands from agents and the
//!   dispatcher. Each customer maps to one shard, so one node at a time runs their session and
//!   handles their messages in order; a dead node's shards move to a live one.
//! - `dispatch` (work queue): [`protocol::DispatchEvent`]s for the dispatcher;
//! - `agent.{agent_id}` (topic): [`protocol::AgentEvent`]s for the desk(s) of one agent;
//! - `customer.{customer_id}` (topic): [`protocol::CustomerEvent`]s for a customer's open
//!   connections.

pub mod agent_session;
pub mod customer_session;
pub mod delivery;
pub mod dispatcher;
pub mod protocol;
pub mod session_router;
