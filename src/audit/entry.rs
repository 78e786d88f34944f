//! What one audit record says: when, what kind of event, who, about which request, action and
//! target, why, and the structured detail.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::store::LogId;

/// The id of an audit record: its position in the incident's trail (`<ms>-<seq>`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AuditId(LogId);

impl AuditId {
    pub(super) fn new(id: LogId) -> Self {
        Self(id)
    }

    /// The log entry id behind it.
    pub fn log_id(&self) -> LogId {
        self.0
    }
}

impl fmt::Display for AuditId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// One audit record as written: everything but its id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    pub kind: AuditKind,
    pub actor: Actor,
    /// The ops request id, when the record is about one action request.
    #[serde(default)]
    pub request_id: Option<String>,
    /// e.g. "rollback", "delete_pod" — free text set by the caller.
    #[serde(default)]
    pub action: Option<String>,
    /// e.g. "payments/Deployment/checkout".
    #[serde(default)]
    pub target: Option<String>,
    /// One line a service owner understands: why, or what happened.
    pub reason: String,
    /// Structured detail (guard results, observed values, …); `Value::Null` when none.
    #[serde(default)]
    pub detail: serde_json::Value,
}

impl AuditEntry {
    /// An entry stamped now, with no request, action, target or detail.
    pub fn new(kind: AuditKind, actor: Actor, reason: impl Into<String>) -> Self {
        Self {
            at: Utc::now(),
            kind,
            actor,
            request_id: None,
            action: None,
            target: None,
            reason: reason.into(),
            detail: serde_json::Value::Null,
        }
    }

    /// Stamps the entry with `at` instead of now (to match the time of the fact it records).
    pub fn with_time(mut self, at: DateTime<Utc>) -> Self {
        self.at = at;
        self
    }

    pub fn with_request(mut self, request_id: impl Into<String>) -> Self {
        self.request_id = Some(request_id.into());
        self
    }

    pub fn with_action(mut self, action: impl Into<String>) -> Self {
        self.action = Some(action.into());
        self
    }

    pub fn with_target(mut self, target: impl Into<String>) -> Self {
        self.target = Some(target.into());
        self
    }

    pub fn with_detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = detail;
        self
    }
}

/// A stored audit record: its id and the entry, flattened into one JSON object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub id: AuditId,
    #[serde(flatten)]
    pub entry: AuditEntry,
}

/// What an audit record is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditKind {
    IncidentOpened,
    EvidenceCollected,
    ActionProposed,
    ApprovalRequested,
    ApprovalDecision,
    GuardrailResults,
    ToolCall,
    ActionResult,
    Verification,
    Refusal,
    BreakerReset,
    /// What policy decided for an incident, with every reason.
    PolicyDecision,
    /// An operator rule was added, changed or removed (in the `policy` trail).
    RuleChanged,
    /// A human must act: a prompt expired, an action failed, or someone escalated.
    Escalation,
    /// A conversation moved on (acknowledged, silenced, a copy re-sent, suppressed).
    Conversation,
    /// An event the conversation's state could not take: ignored, and recorded.
    EventIgnored,
}

impl AuditKind {
    /// The snake_case name, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditKind::IncidentOpened => "incident_opened",
            AuditKind::EvidenceCollected => "evidence_collected",
            AuditKind::ActionProposed => "action_proposed",
            AuditKind::ApprovalRequested => "approval_requested",
            AuditKind::ApprovalDecision => "approval_decision",
            AuditKind::GuardrailResults => "guardrail_results",
            AuditKind::ToolCall => "tool_call",
            AuditKind::ActionResult => "action_result",
            AuditKind::Verification => "verification",
            AuditKind::Refusal => "refusal",
            AuditKind::BreakerReset => "breaker_reset",
            AuditKind::PolicyDecision => "policy_decision",
            AuditKind::RuleChanged => "rule_changed",
            AuditKind::Escalation => "escalation",
            AuditKind::Conversation => "conversation",
            AuditKind::EventIgnored => "event_ignored",
        }
    }
}

impl fmt::Display for AuditKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who did it: the bot (by its identity) or a human (by id, on a channel).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Actor {
    Bot { identity: String },
    Human { id: String, channel: String },
}

impl Actor {
    /// The identity this service records its own decisions under.
    pub const ROBOT_SRE: &'static str = "robot-sre";

    /// This service itself.
    pub fn robot_sre() -> Self {
        Actor::Bot {
            identity: Self::ROBOT_SRE.to_owned(),
        }
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::Bot { identity } => write!(f, "bot:{identity}"),
            Actor::Human { id, channel } => write!(f, "human:{id}@{channel}"),
        }
    }
}
