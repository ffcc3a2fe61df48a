//! The routing subsystem: which waiting task goes to which agent, under which rules.
//!
//! Everything here is synchronous and reads no clock: time is a logical millisecond passed in
//! by the caller, so the live [`crate::actors::dispatcher`] and the dry-run simulator decide
//! alike on the same input.
//!
//! - [`policy`]: the routing policy (eligibility, strategies, offers, overflow widening).
//!   A new agent-selection strategy goes here.
//! - [`rules`]: supervisors' rule sets (CEL conditions, targets, overflow, calendars,
//!   overrides), their validation and pure evaluation.
//! - [`stats`]: queue statistics (waits, service level, abandonment) shared by the live
//!   dispatcher and the simulator.
//! - [`simulate`]: the dry-run, a deterministic discrete-event replay of recorded traffic
//!   with the policy and rules above (it loads its input from the store, and reads no clock).

pub mod policy;
pub mod rules;
pub mod simulate;
pub mod stats;
