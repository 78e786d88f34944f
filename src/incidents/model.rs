//! The Incident and its vocabulary (lifecycle, severity, confidence, environment, taxonomy),
//! as the design page defines them.

use std::fmt;

use chrono::{DateTime, Utc};
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::alertmanager::{AlertStatus, LabelSet};
use crate::domain::{Namespace, ResourceName};

/// A short incident id that a human can type on a phone: `inc-` and 12 base32 characters
/// (60 random bits).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IncidentId(String);

impl IncidentId {
    const ALPHABET: &'static [u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

    pub fn generate() -> Self {
        let mut rng = rand::rng();
        let suffix: String = (0..12)
            .map(|_| char::from(Self::ALPHABET[rng.random_range(0..32)]))
            .collect();
        Self(format!("inc-{suffix}"))
    }

    /// Wraps an id read back from the store or typed by a human.
    pub fn from_stored(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IncidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where an incident is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lifecycle {
    Observed,
    Triaged,
    Contained,
    Recovering,
    Resolved,
    Suppressed,
    Escalated,
}

impl Lifecycle {
    /// Whether the incident still needs attention (it counts as open).
    pub fn is_open(self) -> bool {
        !matches!(self, Lifecycle::Resolved | Lifecycle::Suppressed)
    }
}

/// How bad it is, from the alert's `severity` label or the taxonomy's default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    /// The name configuration, audit records and chat use.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }

    /// Reads the common spellings of a `severity` label.
    pub fn from_label(value: &str) -> Option<Self> {
        match value.to_ascii_lowercase().as_str() {
            "info" | "informational" | "none" | "low" => Some(Severity::Info),
            "warning" | "warn" | "medium" => Some(Severity::Warning),
            "critical" | "error" | "page" | "high" | "emergency" => Some(Severity::Critical),
            _ => None,
        }
    }
}

/// How sure the classification is. The bot may auto-act only on `High`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl Confidence {
    /// The band's name, as reasons and prompts show it.
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::High => "high",
            Confidence::Medium => "medium",
            Confidence::Low => "low",
        }
    }
}

/// The environment an incident happens in; it decides how much the bot may do alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Environment {
    Demo,
    Staging,
    Production,
}

impl Environment {
    /// The name configuration, audit records and chat use.
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Demo => "demo",
            Environment::Staging => "staging",
            Environment::Production => "production",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value.to_ascii_lowercase().as_str() {
            "demo" | "dev" | "development" => Some(Environment::Demo),
            "staging" | "stage" | "test" => Some(Environment::Staging),
            "production" | "prod" => Some(Environment::Production),
            _ => None,
        }
    }
}

/// The incident classes of the taxonomy. Anything else is `Unclassified` and goes to a human.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentType {
    CrashLoopBackoff,
    StuckRollout,
    RegistryPullFailure,
    NodeDiskPressure,
    NodeUnreachableOrNotready,
    BackgroundJobBuildup,
    HttpErrorRateSpike,
    RuntimeDependencyOutage,
    IngressConfigurationDrift,
    IdentityProviderUnreachable,
    DatabaseConnectivityDegraded,
    ReleaseDriftOrPartialApply,
    ChatopsDeliveryFailure,
    Unclassified,
}

impl IncidentType {
    pub const ALL: [IncidentType; 14] = [
        IncidentType::CrashLoopBackoff,
        IncidentType::StuckRollout,
        IncidentType::RegistryPullFailure,
        IncidentType::NodeDiskPressure,
        IncidentType::NodeUnreachableOrNotready,
        IncidentType::BackgroundJobBuildup,
        IncidentType::HttpErrorRateSpike,
        IncidentType::RuntimeDependencyOutage,
        IncidentType::IngressConfigurationDrift,
        IncidentType::IdentityProviderUnreachable,
        IncidentType::DatabaseConnectivityDegraded,
        IncidentType::ReleaseDriftOrPartialApply,
        IncidentType::ChatopsDeliveryFailure,
        IncidentType::Unclassified,
    ];

    /// The snake_case name used in config, metrics and chat.
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentType::CrashLoopBackoff => "crash_loop_backoff",
            IncidentType::StuckRollout => "stuck_rollout",
            IncidentType::RegistryPullFailure => "registry_pull_failure",
            IncidentType::NodeDiskPressure => "node_disk_pressure",
            IncidentType::NodeUnreachableOrNotready => "node_unreachable_or_notready",
            IncidentType::BackgroundJobBuildup => "background_job_buildup",
            IncidentType::HttpErrorRateSpike => "http_error_rate_spike",
            IncidentType::RuntimeDependencyOutage => "runtime_dependency_outage",
            IncidentType::IngressConfigurationDrift => "ingress_configuration_drift",
            IncidentType::IdentityProviderUnreachable => "identity_provider_unreachable",
            IncidentType::DatabaseConnectivityDegraded => "database_connectivity_degraded",
            IncidentType::ReleaseDriftOrPartialApply => "release_drift_or_partial_apply",
            IncidentType::ChatopsDeliveryFailure => "chatops_delivery_failure",
            IncidentType::Unclassified => "unclassified",
        }
    }
}

/// A workload named by the alert: its kind and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkloadRef {
    pub kind: String,
    pub name: ResourceName,
}

/// What the incident is about. Every field is what the alert claims; ops re-reads live state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceScope {
    pub cluster: String,
    pub namespace: Option<Namespace>,
    pub workload: Option<WorkloadRef>,
    pub pod: Option<ResourceName>,
    pub node: Option<ResourceName>,
}

/// One entry of an incident's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentEvent {
    pub at: DateTime<Utc>,
    pub kind: EventKind,
    pub detail: String,
}

/// What happened to an incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Observed,
    Classified,
    Updated,
    AlertResolved,
    Reopened,
    EvidenceCollected,
}

/// What the bot read from the cluster about an incident's scope, as the incident keeps it.
///
/// Incidents do not know the ops types: `detail` is the evidence as ops serialises it (parts it
/// could not read are `{"unknown": "<reason>"}`), `summary` the lines a human reads first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentEvidence {
    pub collected_at: DateTime<Utc>,
    pub summary: String,
    pub detail: serde_json::Value,
}

/// An incident: one problem, fed by one or more alerts, with its whole history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    pub id: IncidentId,
    /// Alert fingerprints that feed this incident.
    pub fingerprints: Vec<String>,
    pub group_key: String,
    pub labels: LabelSet,
    pub annotations: LabelSet,
    /// The alert's `generatorURL` (where it came from), when given.
    pub source: Option<String>,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// When the alert says the problem started and ended.
    pub starts_at: DateTime<Utc>,
    pub ends_at: Option<DateTime<Utc>>,
    pub status: AlertStatus,
    pub severity: Severity,
    pub incident_type: IncidentType,
    pub confidence: Confidence,
    /// The classification rule that matched, and which of its signals.
    pub classification: String,
    pub environment: Environment,
    pub scope: ResourceScope,
    pub lifecycle: Lifecycle,
    /// How many deliveries of its alerts were received, duplicates included.
    pub deliveries: u64,
    pub history: Vec<IncidentEvent>,
    /// How many of the oldest history entries were dropped to respect the history limit.
    #[serde(default)]
    pub history_dropped: u64,
    /// The latest evidence collected from the cluster, once collected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<IncidentEvidence>,
}

impl Incident {
    /// Appends to the history, dropping the oldest entries beyond `limit`.
    pub fn record(&mut self, at: DateTime<Utc>, kind: EventKind, detail: String, limit: usize) {
        self.history.push(IncidentEvent { at, kind, detail });
        let excess = self.history.len().saturating_sub(limit.max(1));
        if excess > 0 {
            self.history.drain(..excess);
            self.history_dropped += excess as u64;
        }
    }

    /// The alert name, or `"(unnamed)"`.
    pub fn alertname(&self) -> &str {
        self.labels
            .get("alertname")
            .map_or("(unnamed)", String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incident_ids_are_short_distinct_and_typeable() {
        let a = IncidentId::generate();
        let b = IncidentId::generate();
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 16);
        assert!(
            a.as_str()[4..]
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        );
    }

    #[test]
    fn incident_type_names_match_their_serde_names() {
        for kind in IncidentType::ALL {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
        }
    }

    #[test]
    fn severity_reads_common_label_spellings() {
        assert_eq!(Severity::from_label("PAGE"), Some(Severity::Critical));
        assert_eq!(Severity::from_label("warning"), Some(Severity::Warning));
        assert_eq!(Severity::from_label("whatever"), None);
    }
}
