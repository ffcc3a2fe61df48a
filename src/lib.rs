//! Switchboard: an actor-based omnichannel conversation router for contact centers.
//!
//! Customers write on any channel; every channel merges into one session actor per customer
//! ("one ID"), a bot answers what it can, and the rest is routed by skills, load and priority
//! to human agents with the full context.
//!
//! # Layout
//! - [`domain`]: plain types (customer, identity, conversation, message, task, agent, skill).
//! - [`routing`]: the pure routing policy (which task to offer to which agent).
//! - [`rules`]: supervisors' routing rule sets (CEL conditions, targets, overflow), validated
//!   and evaluated purely (not yet wired into the dispatcher).
//! - [`bot`]: the bot seam and the first (keyword) bot.
//! - [`store`]: durable state (`Store` trait; SQLite, PostgreSQL), with its conformance suite
//!   (feature `test-support`).
//! - [`bus`]: messaging between actors (`Bus` trait; in-process, RabbitMQ), with its
//!   conformance suite (feature `test-support`).
//! - [`actors`]: `CustomerSession`, `AgentSession`, `Dispatcher`.
//! - [`channels`]: channel edges (web widget, agent desk).
//! - [`settings`], [`telemetry`], [`error`], [`auth`], [`views`], [`ops`], [`ui`], [`demo`],
//!   [`startup`]: configuration, logs and metrics, the HTTP error type, tokens, wire views,
//!   operations endpoints, front ends, demo data and wiring.
//!
//! Dependency direction: `channels → actors → routing → domain`; `actors → store, bus →
//! domain`; `startup` wires everything (checked by `tests/architecture.rs`).

#[path = "../actors/mod.rs"]
pub mod actors;
pub mod auth;
pub mod bot;
pub mod bus;
#[path = "../channels/mod.rs"]
pub mod channels;
pub mod demo;
pub mod domain;
pub mod error;
pub mod identity;
pub mod routing;
pub mod settings;
pub mod signing;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod ui;
pub mod views;
