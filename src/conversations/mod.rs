//! Conversations: the only place that joins incidents, ops and (as they land) policy and the
//! chat channels.
//!
//! - [`evidence`]: the first step of every new incident — read its scope from the cluster and
//!   attach what was read;
//! - [`delivery_failure`]: a message no channel took becomes a `chatops_delivery_failure`
//!   incident;
//! - [`tokens`]: one-time approval tokens, minted per prompt and consumed atomically.

pub mod approvers;
pub mod commands;
pub mod delivery_failure;
pub mod evidence;
pub mod lease;
pub mod tokens;

pub use self::evidence::EvidenceCollector;
pub mod driver;
pub mod event;
pub mod prompt;
pub mod state;
pub mod step;
