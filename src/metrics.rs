//! Prometheus metrics. One [`Metrics`] per running app (no global registry), exported at
//! `/metrics` in the OpenMetrics text format, which Prometheus scrapes natively.
//!
//! Counter names get the `_total` suffix OpenMetrics requires, so the design's
//! `ops_incidents_by_type` is exported as `ops_incidents_by_type_total{incident_type=…}`.
//! Counters that nothing drives yet (approvals, remediations, chat delivery) are exported at 0
//! from the start, so dashboards and alerts can be written against them today.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::incidents::{IncidentType, Outcome};

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TypeLabel {
    pub incident_type: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabel {
    pub outcome: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    pub reason: String,
}

/// Every metric Robot SRE exports.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    pub incidents_opened: Counter,
    pub incidents_resolved: Counter,
    pub incidents_by_type: Family<TypeLabel, Counter>,
    pub auto_remediations: Counter,
    pub auto_remediations_failed: Counter,
    pub approvals_requested: Counter,
    pub approvals_granted: Counter,
    pub approvals_denied: Counter,
    pub policy_suppressions: Counter,
    pub chat_delivery_failures: Counter,
    pub alerts_received: Family<OutcomeLabel, Counter>,
    pub webhook_rejections: Family<ReasonLabel, Counter>,
    pub alerts_truncated: Counter,
    pub ingest_latency: Histogram,
    pub prompt_delivery_latency: Histogram,
    pub approval_to_execution_latency: Histogram,
    pub verification_duration: Histogram,
}

/// Buckets from 0.5 ms to about 16 s, doubling.
fn latency() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut m = Self {
            registry: Registry::default(),
            incidents_opened: Counter::default(),
            incidents_resolved: Counter::default(),
            incidents_by_type: Family::default(),
            auto_remediations: Counter::default(),
            auto_remediations_failed: Counter::default(),
            approvals_requested: Counter::default(),
            approvals_granted: Counter::default(),
            approvals_denied: Counter::default(),
            policy_suppressions: Counter::default(),
            chat_delivery_failures: Counter::default(),
            alerts_received: Family::default(),
            webhook_rejections: Family::default(),
            alerts_truncated: Counter::default(),
            ingest_latency: latency(),
            prompt_delivery_latency: latency(),
            approval_to_execution_latency: latency(),
            verification_duration: latency(),
        };
        for kind in IncidentType::ALL {
            drop(m.incidents_by_type.get_or_create(&TypeLabel {
                incident_type: kind.as_str().into(),
            }));
        }
        let r = &mut m.registry;
        r.register(
            "ops_incidents_open",
            "Incidents opened",
            m.incidents_opened.clone(),
        );
        r.register(
            "ops_incidents_resolved",
            "Incidents resolved",
            m.incidents_resolved.clone(),
        );
        r.register(
            "ops_incidents_by_type",
            "Incidents opened, by class",
            m.incidents_by_type.clone(),
        );
        r.register(
            "ops_auto_remediations",
            "Actions run without a prompt",
            m.auto_remediations.clone(),
        );
        r.register(
            "ops_auto_remediations_failed",
            "Automatic actions whose verification failed",
            m.auto_remediations_failed.clone(),
        );
        r.register(
            "ops_approvals_requested",
            "Approval prompts sent",
            m.approvals_requested.clone(),
        );
        r.register(
            "ops_approvals_granted",
            "Approvals granted",
            m.approvals_granted.clone(),
        );
        r.register(
            "ops_approvals_denied",
            "Approvals rejected, expired or refused",
            m.approvals_denied.clone(),
        );
        r.register(
            "ops_policy_suppressions",
            "Actions the policy suppressed",
            m.policy_suppressions.clone(),
        );
        r.register(
            "ops_chat_delivery_failures",
            "Chat deliveries that failed on every channel",
            m.chat_delivery_failures.clone(),
        );
        r.register(
            "ops_alerts_received",
            "Alert deliveries recorded, by outcome",
            m.alerts_received.clone(),
        );
        r.register(
            "ops_webhook_rejections",
            "Webhook requests refused, by reason",
            m.webhook_rejections.clone(),
        );
        r.register(
            "ops_ingest_latency_seconds",
            "Alertmanager webhook handling time",
            m.ingest_latency.clone(),
        );
        r.register(
            "ops_prompt_delivery_latency_seconds",
            "Time to deliver an approval prompt",
            m.prompt_delivery_latency.clone(),
        );
        r.register(
            "ops_approval_to_execution_latency_seconds",
            "Time from approval to the first Kubernetes write",
            m.approval_to_execution_latency.clone(),
        );
        r.register(
            "ops_verification_duration_seconds",
            "Time to a verification verdict",
            m.verification_duration.clone(),
        );
        m
    }

    /// Counts one recorded alert delivery.
    pub fn record_outcome(&self, outcome: Outcome, incident_type: IncidentType) {
        let name = match outcome {
            Outcome::Opened => "opened",
            Outcome::Duplicate => "duplicate",
            Outcome::Resolved => "resolved",
            Outcome::Reopened => "reopened",
            Outcome::LateResolution => "late_resolution",
        };
        self.alerts_received
            .get_or_create(&OutcomeLabel {
                outcome: name.into(),
            })
            .inc();
        match outcome {
            Outcome::Opened => {
                self.incidents_opened.inc();
                let label = TypeLabel {
                    incident_type: incident_type.as_str().into(),
                };
                self.incidents_by_type.get_or_create(&label).inc();
            }
            Outcome::Resolved => {
                self.incidents_resolved.inc();
            }
            Outcome::Duplicate | Outcome::Reopened | Outcome::LateResolution => {}
        }
    }

    /// Counts one refused webhook request.
    pub fn reject(&self, reason: &str) {
        self.webhook_rejections
            .get_or_create(&ReasonLabel {
                reason: reason.into(),
            })
            .inc();
    }

    /// The OpenMetrics text exposition.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_design_counter_is_exported_from_the_start() {
        let text = Metrics::new().encode();
        for name in [
            "ops_incidents_open_total 0",
            "ops_incidents_resolved_total 0",
            "ops_incidents_by_type_total{incident_type=\"stuck_rollout\"} 0",
            "ops_auto_remediations_total 0",
            "ops_auto_remediations_failed_total 0",
            "ops_approvals_requested_total 0",
            "ops_approvals_granted_total 0",
            "ops_approvals_denied_total 0",
            "ops_policy_suppressions_total 0",
            "ops_chat_delivery_failures_total 0",
            "ops_ingest_latency_seconds_count 0",
        ] {
            assert!(text.contains(name), "{name} missing from:\n{text}");
        }
    }

    #[test]
    fn outcomes_drive_the_incident_counters() {
        let metrics = Metrics::new();
        metrics.record_outcome(Outcome::Opened, IncidentType::CrashLoopBackoff);
        metrics.record_outcome(Outcome::Duplicate, IncidentType::CrashLoopBackoff);
        metrics.record_outcome(Outcome::Resolved, IncidentType::CrashLoopBackoff);
        let text = metrics.encode();
        assert!(text.contains("ops_incidents_open_total 1"));
        assert!(text.contains("ops_incidents_resolved_total 1"));
        assert!(
            text.contains("ops_incidents_by_type_total{incident_type=\"crash_loop_backoff\"} 1")
        );
        assert!(text.contains("ops_alerts_received_total{outcome=\"duplicate\"} 1"));
    }
}
