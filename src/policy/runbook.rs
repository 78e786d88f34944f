//! Runbooks: remediations service owners write and review like code, in the shape of the
//! `RemediationRunbook` custom resource (`deploy/crds/remediationrunbook.yaml`). The same
//! document is read from a file (`config/runbooks/*.yaml`) or from the cluster.
//!
//! A runbook that fails validation is rejected with its origin, field and reason; the others
//! still load (see `runbook_parse`).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::action::ActionName;
use super::decision::Mode;
use super::error::LoadError;
use crate::domain::{ActionKind, Namespace};
use crate::incidents::model::{Confidence, Environment, IncidentType};

/// The custom resource's API version and kind.
pub const API_VERSION: &str = "robot-sre.io/v1alpha1";
pub const KIND: &str = "RemediationRunbook";

/// How much the runbook's action can hurt if it is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Risk {
    Low,
    Medium,
    High,
}

/// When the runbook applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Triggers {
    pub incident_types: Vec<IncidentType>,
    /// Alert names; empty: any alert of the incident types.
    #[serde(default)]
    pub symptoms: Vec<String>,
    /// Root-cause hypothesis ids of the taxonomy the runbook addresses (documentation and
    /// review; validated against the taxonomy).
    #[serde(default)]
    pub probable_causes: Vec<String>,
    pub minimum_confidence: Confidence,
}

/// Where the runbook applies.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RunbookScope {
    /// Empty: every namespace the bot may act in.
    #[serde(default)]
    pub namespaces: Vec<Namespace>,
    /// Environments; empty: all.
    #[serde(default)]
    pub environments: Vec<Environment>,
    /// Labels the target must carry (read live).
    #[serde(default)]
    pub required_labels: BTreeMap<String, String>,
}

/// Limits on top of the bot-wide guardrails.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RunbookGuardrails {
    #[serde(default)]
    pub min_ready_replicas: Option<u32>,
    pub max_executions_per_hour: u32,
    #[serde(with = "humantime_serde")]
    pub cooldown: Duration,
    pub max_concurrent: u32,
}

/// The action, on the incident's own target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RunbookAction {
    pub kind: ActionName,
    /// The replica count (scale only).
    #[serde(default)]
    pub replicas: Option<u32>,
}

/// Named predicates that prove the outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    RolloutComplete,
    PodReady,
    RestartsStable,
    NodeSchedulable,
    NodeUnschedulable,
    CronjobSuspended,
    CronjobResumed,
    FinishedPodsRemoved,
    AlertResolved,
}

impl Check {
    /// Whether the check can prove the outcome of `kind`.
    pub fn fits(self, kind: ActionKind) -> bool {
        use ActionKind as A;
        match self {
            Check::AlertResolved => true,
            Check::RolloutComplete | Check::RestartsStable => {
                matches!(kind, A::Restart | A::Rollback | A::Scale | A::DeletePod)
            }
            Check::PodReady => matches!(kind, A::DeletePod | A::Restart | A::Rollback),
            Check::NodeSchedulable => kind == A::Uncordon,
            Check::NodeUnschedulable => kind == A::Cordon,
            Check::CronjobSuspended => kind == A::SuspendCronjob,
            Check::CronjobResumed => kind == A::ResumeCronjob,
            Check::FinishedPodsRemoved => kind == A::Cleanup,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Verification {
    pub checks: Vec<Check>,
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Rollback {
    pub description: String,
    #[serde(default)]
    pub action: Option<ActionName>,
}

/// What happens when something fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EscalationStep {
    /// Tell the owner in the incident thread.
    Notify,
    /// Page the on-call human.
    Page,
    /// Run the rollback, then page.
    Rollback,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Escalation {
    pub on_guardrail_failure: EscalationStep,
    pub on_verification_failure: EscalationStep,
}

/// The runbook itself (`spec` of the resource).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RunbookSpec {
    pub intent: String,
    pub owner: String,
    pub risk: Risk,
    /// The most the runbook lets the bot do; environment, taxonomy and hard constraints may
    /// lower it, never raise it.
    pub decision_mode: Mode,
    /// Record what would have been done, without doing it, until the runbook earns promotion.
    /// Unset: `policy.shadow_by_default` decides (true unless configured otherwise).
    #[serde(default)]
    pub shadow: Option<bool>,
    pub triggers: Triggers,
    #[serde(default)]
    pub scope: RunbookScope,
    pub guardrails: RunbookGuardrails,
    pub action: RunbookAction,
    pub verification: Verification,
    #[serde(default)]
    pub rollback: Option<Rollback>,
    pub escalation: Escalation,
}

/// Only the name is read; the API server adds uid, resourceVersion and the like.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Metadata {
    pub(super) name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Document {
    pub(super) api_version: String,
    pub(super) kind: String,
    pub(super) metadata: Metadata,
    pub(super) spec: RunbookSpec,
}

/// A validated runbook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Runbook {
    pub name: String,
    /// Where it came from: a file path or `RemediationRunbook <namespace>/<name>`.
    pub origin: String,
    pub spec: RunbookSpec,
}

impl Runbook {
    /// The executable action (validation guarantees there is one).
    pub fn action_kind(&self) -> Option<ActionKind> {
        self.spec.action.kind.executable()
    }
}

/// Runbooks that loaded, and those rejected with why.
#[derive(Debug, Clone, Default)]
pub struct RunbookSet {
    pub runbooks: Vec<Runbook>,
    pub rejected: Vec<LoadError>,
}

impl RunbookSet {
    /// Adds more runbooks; a name already taken is rejected.
    pub fn extend(&mut self, other: RunbookSet) {
        self.rejected.extend(other.rejected);
        for runbook in other.runbooks {
            if let Some(first) = self.runbooks.iter().find(|r| r.name == runbook.name) {
                self.rejected.push(LoadError::new(
                    runbook.origin.clone(),
                    "metadata.name",
                    format!("{} is already defined by {}", runbook.name, first.origin),
                ));
            } else {
                self.runbooks.push(runbook);
            }
        }
    }
}

pub use super::runbook_parse::{load_dir, parse_all, parse_value};

#[cfg(test)]
#[path = "runbook_tests.rs"]
mod tests;
