//! The services the HTTP edges call, one per area: each owns the store and bus access of
//! its area, the checks that need stored data, and the notices that must follow a change
//! (the dispatcher told of new rules or overrides, sessions told of a merge, the bot
//! retrained after a knowledge-base write). Handlers parse, authorize, call one service
//! and render; they never reach the store or the bus themselves.
//!
//! - [`access`]: staff login, bearer tokens, sign-out and the end of sign-ins on every node.
//! - [`customers`]: visitors, profiles, histories, tickets, merges.
//! - [`kb`]: knowledge-base reads and writes.
//! - [`routing`]: rule versions, activation, overrides, dry-runs, explanations.
//! - [`staff`]: staff accounts and teams (create, change, deactivate), with the notices a
//!   change owes the dispatcher, the desks and every node's token cache;
//!   [`staff_import`]: reading and checking a CSV file of accounts for the bulk import.
//! - [`supervision`]: the live board of open conversations and agents' activity timelines.

pub mod access;
pub mod customers;
pub mod kb;
pub mod routing;
pub mod staff;
pub mod staff_import;
pub mod supervision;
