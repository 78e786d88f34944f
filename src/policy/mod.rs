//! Policy: what the bot may do about an incident, and why.
//!
//! The one entry point is [`Policy::decide`]: incident facts and live context in, a
//! [`Decision`] out — a mode (`manual`, `suggest`, `approval_required`, `auto_execute`), the
//! action and target, and a sentence for every step that shaped it. Decisions are pure: live
//! state (evidence, cooldowns, history) arrives as plain data, and nothing here calls the
//! Kubernetes API.
//!
//! - [`taxonomy`]: the incident classes as data (signals, hypotheses, allowed actions);
//! - [`action`] and [`matrix`]: action classes and the environment overlays;
//! - [`runbook`] and [`rules`]: what service owners and operators add;
//! - [`decision`]: the engine's inputs and output;
//! - `candidate`, `judge`, `guardrails`, `constraints`: the engine's steps, in order;
//! - [`load`]: reading it all from the settings (and auditing rule changes at start-up);
//! - [`record`]: decisions and rule changes in the audit trail.
//!
//! Resolution order: built-in taxonomy → built-in defaults → environment overlay → runbook and
//! operator rules → hard safety constraints, which always win (see `constraints`).
//!
//! Typical use by the conversation layer:
//!
//! ```no_run
//! # use robot_sre::policy::{Policy, IncidentFacts, DecisionContext, EvidenceSummary};
//! # fn demo(policy: &Policy, incident: &robot_sre::incidents::Incident) {
//! let facts = IncidentFacts::of(incident);
//! let mut context = DecisionContext::quiet(chrono::Utc::now(), 2);
//! context.evidence = EvidenceSummary { checks: 2, contradicts: false };
//! // … fill context.guardrails from the store and live state …
//! let decision = policy.decide(&facts, &context);
//! println!("{}: {}", decision.mode, decision.summary());
//! # }
//! ```

pub mod action;
mod candidate;
mod constraints;
mod decide;
pub mod decision;
pub mod error;
mod guardrails;
mod hygiene;
mod judge;
pub mod load;
pub mod matrix;
pub mod record;
pub mod rules;
pub mod runbook;
mod runbook_parse;
pub mod taxonomy;

use std::collections::{BTreeMap, BTreeSet};

pub use self::action::{ActionClass, ActionName};
pub use self::candidate::target_for;
pub use self::decide::effective_confidence;
pub use self::decision::{
    ActionTarget, Decision, DecisionContext, EvidenceSummary, GuardrailState, IncidentFacts, Mode,
    PastExecution, PlannedAction, Reason,
};
pub use self::error::LoadError;
pub use self::matrix::PolicyMatrix;
pub use self::rules::{OperatorRule, RuleSet};
pub use self::runbook::{Runbook, RunbookSet};
pub use self::taxonomy::Taxonomy;
use crate::domain::ActionKind;
use crate::incidents::model::Environment;

/// Everything a decision reads besides the incident: taxonomy, matrix, runbooks, operator
/// rules, and which actions ops has enabled.
#[derive(Debug, Clone)]
pub struct Policy {
    taxonomy: Taxonomy,
    matrix: PolicyMatrix,
    runbooks: Vec<Runbook>,
    rules: RuleSet,
    enabled: BTreeSet<ActionKind>,
    shadow_by_default: bool,
    shadow_environments: Vec<Environment>,
    ceilings: BTreeMap<Environment, Mode>,
}

impl Policy {
    /// A policy from validated parts, with every action enabled.
    pub fn new(
        taxonomy: Taxonomy,
        matrix: PolicyMatrix,
        runbooks: Vec<Runbook>,
        rules: RuleSet,
    ) -> Self {
        Self {
            taxonomy,
            matrix,
            runbooks,
            rules,
            enabled: ActionKind::ALL.into_iter().collect(),
            shadow_by_default: true,
            shadow_environments: Vec::new(),
            ceilings: BTreeMap::new(),
        }
    }

    /// Whether runbooks that do not say `shadow:` are in shadow mode (default true), and the
    /// environments where every runbook is.
    pub fn with_shadow(mut self, by_default: bool, environments: Vec<Environment>) -> Self {
        self.shadow_by_default = by_default;
        self.shadow_environments = environments;
        self
    }

    /// The most the bot may do per environment (tightens only).
    pub fn with_ceilings(mut self, ceilings: BTreeMap<Environment, Mode>) -> Self {
        self.ceilings = ceilings;
        self
    }

    /// Whether `runbook` only records what it would do in `environment`.
    pub fn is_shadow(&self, runbook: &Runbook, environment: Environment) -> bool {
        runbook.spec.shadow.unwrap_or(self.shadow_by_default)
            || self.shadow_environments.contains(&environment)
    }

    /// The built-in taxonomy and matrix, no runbooks, no rules.
    pub fn builtin() -> Self {
        Self::new(
            Taxonomy::builtin(),
            PolicyMatrix::builtin(),
            Vec::new(),
            RuleSet::default(),
        )
    }

    /// Only these actions may be proposed for running (`ops.actions`); others are suggested.
    pub fn with_enabled_actions(mut self, enabled: impl IntoIterator<Item = ActionKind>) -> Self {
        self.enabled = enabled.into_iter().collect();
        self
    }

    /// Decides what the bot may do about an incident.
    ///
    /// # Guarantees
    /// Pure and deterministic: the same inputs give the same decision. A human-only action is
    /// never the decision's action; a disruptive action, a shadow runbook's action, or an action
    /// on less than high confidence is never `auto_execute`; `manual` carries no action; every
    /// step that changed the mode left a reason.
    pub fn decide(&self, facts: &IncidentFacts, context: &DecisionContext) -> Decision {
        self.decide_inner(facts, context)
    }

    pub fn taxonomy(&self) -> &Taxonomy {
        &self.taxonomy
    }

    pub fn matrix(&self) -> &PolicyMatrix {
        &self.matrix
    }

    pub fn runbooks(&self) -> &[Runbook] {
        &self.runbooks
    }

    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }
}

#[cfg(test)]
#[path = "decide_tests.rs"]
mod decide_tests;

#[cfg(test)]
#[path = "table_tests.rs"]
mod table_tests;

#[cfg(test)]
#[path = "constraint_props.rs"]
mod constraint_props;
