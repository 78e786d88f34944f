//! What the decision engine takes and gives: incident facts and live context in, a
//! [`Decision`] with its mode, action and reasons out. All plain data, all serializable, so a
//! decision can be audited, stored and replayed.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{ActionKind, Namespace};
use crate::incidents::alertmanager::LabelSet;
use crate::incidents::model::{Confidence, Environment, IncidentType, ResourceScope, Severity};

/// How far the bot may go on its own, from least to most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Page a human; the bot proposes nothing it could run.
    Manual,
    /// Recommend an action; never run it.
    Suggest,
    /// Ask a human to approve the action.
    ApprovalRequired,
    /// Run the action, then verify and report.
    AutoExecute,
}

impl Mode {
    pub const ALL: [Mode; 4] = [
        Mode::Manual,
        Mode::Suggest,
        Mode::ApprovalRequired,
        Mode::AutoExecute,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Manual => "manual",
            Mode::Suggest => "suggest",
            Mode::ApprovalRequired => "approval_required",
            Mode::AutoExecute => "auto_execute",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The object an action works on, in the shape ops reads it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ActionTarget {
    /// `Deployment`, `Pod`, `CronJob`, `Node` or `Namespace`.
    pub kind: String,
    pub namespace: Option<Namespace>,
    /// The object's name (the namespace's name for a `Namespace` target).
    pub name: String,
}

impl ActionTarget {
    /// The target as `ops::Action::parse` reads it: `namespace/name`, a node name, or a
    /// namespace.
    pub fn spec(&self) -> String {
        match (&self.namespace, self.kind.as_str()) {
            (Some(namespace), kind) if kind != "Namespace" => format!("{namespace}/{}", self.name),
            _ => self.name.clone(),
        }
    }
}

/// `payments/Deployment/checkout`, `Node/lab-node-1`, `Namespace/batch` — the form audit
/// records, packets and allowlist patterns use.
impl fmt::Display for ActionTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(namespace) if self.kind != "Namespace" => {
                write!(f, "{namespace}/{}/{}", self.kind, self.name)
            }
            _ => write!(f, "{}/{}", self.kind, self.name),
        }
    }
}

/// An executable action chosen for an incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedAction {
    pub kind: ActionKind,
    pub target: ActionTarget,
    /// The replica count (scale only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<u32>,
    /// The runbook that chose it, when one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runbook: Option<String>,
}

impl fmt::Display for PlannedAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind, self.target)?;
        if let Some(replicas) = self.replicas {
            write!(f, " to {replicas}")?;
        }
        Ok(())
    }
}

/// One reason, as a sentence a service owner reads in chat and in the audit trail, e.g.
/// `blocked: confidence medium below high`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Reason(pub String);

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What policy decided for an incident, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub mode: Mode,
    /// The action to run, ask about or suggest; `None` with `manual`.
    pub action: Option<PlannedAction>,
    /// Every step that shaped the decision, in the order they were applied.
    pub reasons: Vec<Reason>,
    /// The incident's severity after taxonomy rules and operator escalation.
    pub severity: Severity,
    /// A named fix the bot will not run (human-only or not executable), for the human.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recommendation: Option<String>,
    /// Where to send it, when an operator rule says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
    /// The runbook is in shadow mode: this is what it would have done (never auto).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shadow: Option<Mode>,
    /// A duplicate within the suppression window: notify nobody anew.
    #[serde(default)]
    pub suppressed: bool,
}

impl Decision {
    /// The reasons joined into one line, for an audit record.
    pub fn summary(&self) -> String {
        let reasons: Vec<&str> = self.reasons.iter().map(|r| r.0.as_str()).collect();
        format!("{}: {}", self.mode, reasons.join("; "))
    }
}

/// What the incident is, as triage left it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentFacts {
    pub incident_type: IncidentType,
    pub severity: Severity,
    pub confidence: Confidence,
    pub environment: Environment,
    pub scope: ResourceScope,
    /// The alert's labels (symptoms, severity rules).
    #[serde(default)]
    pub labels: LabelSet,
}

impl IncidentFacts {
    /// The facts of a recorded incident.
    pub fn of(incident: &crate::incidents::Incident) -> Self {
        Self {
            incident_type: incident.incident_type,
            severity: incident.severity,
            confidence: incident.confidence,
            environment: incident.environment,
            scope: incident.scope.clone(),
            labels: incident.labels.clone(),
        }
    }
}

/// What live evidence says about the alert.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceSummary {
    /// How many times live state was read for this incident (0: not yet).
    pub checks: u32,
    /// Live state contradicts the alert (the rollout completed, the node is Ready).
    pub contradicts: bool,
}

impl EvidenceSummary {
    /// Live state confirmed the alert on `checks` reads.
    pub fn confirmed(checks: u32) -> Self {
        Self {
            checks,
            contradicts: false,
        }
    }
}

/// One earlier execution, as ops or the audit trail reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PastExecution {
    pub kind: ActionKind,
    /// The target as [`ActionTarget`] displays it.
    pub target: String,
    pub at: DateTime<Utc>,
    pub verified: bool,
}

/// Guardrail state and history, read by the caller from the store and the cluster.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuardrailState {
    /// The target's labels, read live (opt-in, required runbook labels, critical marker).
    pub target_labels: BTreeMap<String, String>,
    /// Ready replicas of the target's owner, when known.
    pub ready_replicas: Option<u32>,
    /// A cooldown set by ops on this action and target, if running.
    pub cooldown_until: Option<DateTime<Utc>>,
    /// Executions across all targets in the last hour.
    pub executions_last_hour: u32,
    /// Actions applied and not yet verified.
    pub concurrent: u32,
    /// The target's circuit breaker is open.
    pub breaker_open: bool,
    /// Earlier executions relevant to this incident's target (newest last).
    pub history: Vec<PastExecution>,
    /// When policy last decided for the same incident type and scope, if it did.
    pub last_decision_at: Option<DateTime<Utc>>,
}

/// Everything besides the incident that a decision reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionContext {
    pub now: DateTime<Utc>,
    pub evidence: EvidenceSummary,
    pub guardrails: GuardrailState,
}

impl DecisionContext {
    /// A context at `now` with confirmed evidence and quiet guardrails (no cooldown, no history).
    pub fn quiet(now: DateTime<Utc>, checks: u32) -> Self {
        Self {
            now,
            evidence: EvidenceSummary::confirmed(checks),
            guardrails: GuardrailState::default(),
        }
    }
}
