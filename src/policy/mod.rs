//! Policy: what the bot may do about an incident, and why.
//!
//! - [`taxonomy`]: the incident classes as data (signals, hypotheses, allowed actions);
//! - [`action`] and [`matrix`]: action classes and the environment overlays;
//! - [`decision`] and [`decide`]: the pure decision engine;
//!
//! Nothing here calls the Kubernetes API: live state arrives as plain data.

pub mod action;
pub mod decision;
pub mod error;
mod hygiene;
pub mod matrix;
pub mod rules;
pub mod runbook;
pub mod taxonomy;

pub use self::action::{ActionClass, ActionName};
pub use self::decision::{ActionTarget, Decision, DecisionContext, IncidentFacts, Mode, PlannedAction, Reason};
pub use self::error::LoadError;
pub use self::matrix::PolicyMatrix;
pub use self::taxonomy::Taxonomy;
