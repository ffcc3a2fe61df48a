//! Switchboard: an actor-based omnichannel conversation router for contact centers.
//!
//! Customers write on any channel; every channel merges into one session actor per customer
//! ("one ID"), a bot answers what it can, and the rest is routed by skills, load and priority
//! to human agents with the full context.
//!
//! # Layout
//! Lowest layer first; a module uses only the ones above it in this list (the exact table of
//! allowed edges is in `tests/architecture.rs`, which reads every `crate::` path and fails on
//! a new edge or a cycle).
//! - [`domain`]: plain types with their `parse()` (customer, identity, conversation, message,
//!   task, agent, skill) and the validation [`domain::Problem`].
//! - [`signing`]: Standard Webhooks signatures, the app's HS256 user tokens, constant-time
//!   comparison.
//! - [`settings`], [`telemetry`], [`views`], [`error`]: configuration, logs and metrics, wire
//!   views, the HTTP error type.
//! - [`store`], [`bus`]: durable state (`Store`: SQLite, PostgreSQL) and messaging (`Bus`:
//!   in-process, RabbitMQ), each with its conformance suite (feature `test-support`).
//! - [`auth`], [`identity`], [`socket`]: passwords and tokens, the "one ID" identity graph, the
//!   WebSocket plumbing both sockets share.
//! - [`routing`]: the pure routing subsystem (policy, rule sets, queue statistics, dry-run).
//! - [`bot`]: the bot (knowledge base, flows, their actions, the reloading service, agent
//!   assist, redaction of personal data).
//! - [`actors`]: `CustomerSession`, `SessionRouter`, `Dispatcher`, `AgentSession`, `Delivery`,
//!   and the `protocol` of bus messages between them.
//! - [`services`]: one service per area (access, customers, knowledge base, routing, staff)
//!   that the HTTP edges call instead of the store and the bus.
//! - [`channels`]: the HTTP edges (web widget, staff desk and views, app, WeChat, SMS, IVR,
//!   knowledge base, routing rules, operations) over the shared `AppState`.
//! - [`demo`], [`ui`], [`startup`]: demo data, the embedded front ends, and the wiring of
//!   everything from `Settings`.

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
pub mod services;
pub mod settings;
pub mod signing;
pub mod socket;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod ui;
pub mod views;
