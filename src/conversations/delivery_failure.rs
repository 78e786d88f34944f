//! When no chat channel takes a message, the bot raises an incident about itself:
//! `RobotSreChatDeliveryFailing`, classified as `chatops_delivery_failure`, recorded through the
//! normal ingest path so it is deduplicated, audited and visible on every status surface.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::channels::{DeliveryFailures, Undelivered};
use crate::incidents::{Alert, AlertStatus, IncidentService};

/// The alert name the bot raises; `config/classification.yaml` maps it to
/// `chatops_delivery_failure`.
pub const ALERTNAME: &str = "RobotSreChatDeliveryFailing";
const GROUP_KEY: &str = "{}:{alertname=\"RobotSreChatDeliveryFailing\"}";

/// Raises the delivery-failure incident through ingest.
pub struct RaiseIncident {
    incidents: Arc<IncidentService>,
}

impl RaiseIncident {
    pub fn new(incidents: Arc<IncidentService>) -> Self {
        Self { incidents }
    }
}

/// The alert describing `failure` of `what`.
pub fn alert(what: &str, failure: &Undelivered, at: DateTime<Utc>) -> Alert {
    let labels = [
        ("alertname", ALERTNAME),
        ("severity", "critical"),
        ("service", "robot-sre"),
    ];
    let annotations = [
        (
            "summary",
            format!("{what} could not be delivered on any chat channel"),
        ),
        ("description", failure.to_string()),
    ];
    Alert {
        status: AlertStatus::Firing,
        labels: labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        annotations: annotations
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        starts_at: at,
        ends_at: DateTime::UNIX_EPOCH,
        generator_url: String::new(),
        // Computed from the fixed labels, as Alertmanager would: one incident while it is open.
        fingerprint: String::new(),
    }
}

#[async_trait]
impl DeliveryFailures for RaiseIncident {
    async fn undeliverable(&self, what: &str, failure: &Undelivered) {
        let alert = alert(what, failure, Utc::now());
        match self.incidents.record(GROUP_KEY, &alert).await {
            Ok(recorded) => tracing::error!(
                incident = %recorded.incident_id,
                outcome = ?recorded.outcome,
                "chat delivery failure recorded as an incident"
            ),
            Err(error) => {
                let error = crate::telemetry::error_chain(&error);
                tracing::error!(%error, "chat delivery failure could not be recorded either")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::channels::ChannelKind;
    use crate::channels::router::Attempt;
    use crate::incidents::model::{Environment, IncidentType, Severity};
    use crate::incidents::{Classifier, IngestPolicy, Triage};
    use crate::store::MemoryStore;

    fn service() -> Arc<IncidentService> {
        let triage = Triage {
            classifier: Classifier::builtin(),
            cluster: "lab".into(),
            environment_label: "environment".into(),
            default_environment: Environment::Production,
            namespace_environments: Default::default(),
        };
        let policy = IngestPolicy {
            suppression_window: Duration::from_secs(900),
            retention: Duration::from_secs(86_400),
            history_limit: 50,
        };
        Arc::new(IncidentService::new(
            Arc::new(MemoryStore::new()),
            triage,
            policy,
        ))
    }

    fn everything_down() -> Undelivered {
        Undelivered {
            attempts: vec![
                Attempt {
                    channel: ChannelKind::Slack,
                    reason: "unreachable".into(),
                },
                Attempt {
                    channel: ChannelKind::Telegram,
                    reason: "timeout".into(),
                },
            ],
        }
    }

    #[tokio::test]
    async fn repeated_delivery_failures_raise_one_critical_chatops_incident() {
        let incidents = service();
        let raise = RaiseIncident::new(incidents.clone());
        raise
            .undeliverable("approval prompt for inc-1", &everything_down())
            .await;
        raise
            .undeliverable("approval prompt for inc-2", &everything_down())
            .await;

        let open = incidents.repository().open_ids().await.unwrap();
        assert_eq!(open.len(), 1);
        let (incident, _) = incidents
            .repository()
            .load(&open[0])
            .await
            .unwrap()
            .unwrap();
        assert_eq!(incident.incident_type, IncidentType::ChatopsDeliveryFailure);
        assert_eq!(incident.severity, Severity::Critical);
        assert_eq!(incident.deliveries, 2);
        let description = &incident.annotations["description"];
        assert!(
            description.contains("slack: unreachable, telegram: timeout"),
            "{description}"
        );
    }
}
