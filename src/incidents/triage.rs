//! Triage of one alert: its class, severity, environment and resource scope.
//! Everything here is read from the alert; ops re-reads live state before acting.

use std::collections::HashMap;

use super::alertmanager::Alert;
use super::classify::{Classification, Classifier};
use super::model::{Environment, ResourceScope, Severity, WorkloadRef};
use crate::domain::{Namespace, ResourceName};

/// Alert labels that name a workload, and the kind each one names (kube-state-metrics names).
const WORKLOAD_LABELS: [(&str, &str); 5] = [
    ("deployment", "Deployment"),
    ("statefulset", "StatefulSet"),
    ("daemonset", "DaemonSet"),
    ("cronjob", "CronJob"),
    ("job_name", "Job"),
];

/// How to place an alert: the cluster it comes from and the environment of each namespace.
#[derive(Debug)]
pub struct Triage {
    pub classifier: Classifier,
    /// Used when the alert has no `cluster` label.
    pub cluster: String,
    /// The alert label that names the environment, when present.
    pub environment_label: String,
    /// Used when neither the label nor the namespace map decides.
    pub default_environment: Environment,
    pub namespace_environments: HashMap<Namespace, Environment>,
}

/// The result of triage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    pub classification: Classification,
    pub severity: Severity,
    pub environment: Environment,
    pub scope: ResourceScope,
    /// Labels that were present but unusable, said plainly for the history.
    pub notes: Vec<String>,
}

impl Triage {
    pub fn assess(&self, alert: &Alert) -> Assessment {
        let classification = self.classifier.classify(alert);
        let mut notes = Vec::new();
        let severity = match alert.labels.get("severity") {
            Some(value) => Severity::from_label(value).unwrap_or_else(|| {
                notes.push(format!(
                    "severity label {value:?} not understood; using the default"
                ));
                classification.default_severity
            }),
            None => classification.default_severity,
        };
        let scope = self.scope(alert, &mut notes);
        let environment = self.environment(alert, scope.namespace.as_ref());
        Assessment {
            classification,
            severity,
            environment,
            scope,
            notes,
        }
    }

    fn environment(&self, alert: &Alert, namespace: Option<&Namespace>) -> Environment {
        alert
            .labels
            .get(&self.environment_label)
            .and_then(|value| Environment::parse(value))
            .or_else(|| namespace.and_then(|ns| self.namespace_environments.get(ns).copied()))
            .unwrap_or(self.default_environment)
    }

    fn scope(&self, alert: &Alert, notes: &mut Vec<String>) -> ResourceScope {
        let mut name = |label: &str| {
            let value = alert.labels.get(label)?;
            ResourceName::parse(value.as_str())
                .map_err(|error| notes.push(format!("label {label}: {error}")))
                .ok()
        };
        let pod = name("pod");
        let node = name("node");
        let workload = WORKLOAD_LABELS.iter().find_map(|(label, kind)| {
            Some(WorkloadRef {
                kind: (*kind).to_owned(),
                name: name(label)?,
            })
        });
        let namespace = alert.labels.get("namespace").and_then(|value| {
            Namespace::parse(value.as_str())
                .map_err(|error| notes.push(format!("label namespace: {error}")))
                .ok()
        });
        ResourceScope {
            cluster: alert.labels.get("cluster").unwrap_or(&self.cluster).clone(),
            namespace,
            workload,
            pod,
            node,
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;

    use super::*;
    use crate::incidents::alertmanager::AlertStatus;
    use crate::incidents::model::IncidentType;

    fn triage() -> Triage {
        let staging = Namespace::parse("shop-staging").unwrap();
        Triage {
            classifier: Classifier::builtin(),
            cluster: "lab".into(),
            environment_label: "environment".into(),
            default_environment: Environment::Production,
            namespace_environments: HashMap::from([(staging, Environment::Staging)]),
        }
    }

    fn alert(labels: &[(&str, &str)]) -> Alert {
        Alert {
            status: AlertStatus::Firing,
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            annotations: Default::default(),
            starts_at: DateTime::UNIX_EPOCH,
            ends_at: DateTime::UNIX_EPOCH,
            generator_url: String::new(),
            fingerprint: String::new(),
        }
    }

    #[test]
    fn assess_reads_scope_from_kube_state_metrics_labels() {
        let got = triage().assess(&alert(&[
            ("alertname", "KubeDeploymentRolloutStuck"),
            ("namespace", "payments"),
            ("deployment", "checkout"),
            ("severity", "critical"),
        ]));
        assert_eq!(got.classification.incident_type, IncidentType::StuckRollout);
        assert_eq!(got.severity, Severity::Critical);
        assert_eq!(got.scope.cluster, "lab");
        assert_eq!(got.scope.namespace.unwrap().as_str(), "payments");
        let workload = got.scope.workload.unwrap();
        assert_eq!(
            (workload.kind.as_str(), workload.name.as_str()),
            ("Deployment", "checkout")
        );
        assert_eq!(got.environment, Environment::Production);
    }

    #[test]
    fn environment_comes_from_label_then_namespace_then_default() {
        let t = triage();
        let labelled = t.assess(&alert(&[
            ("namespace", "shop-staging"),
            ("environment", "demo"),
        ]));
        assert_eq!(labelled.environment, Environment::Demo);
        let mapped = t.assess(&alert(&[("namespace", "shop-staging")]));
        assert_eq!(mapped.environment, Environment::Staging);
        let unknown = t.assess(&alert(&[("namespace", "other"), ("environment", "moon")]));
        assert_eq!(unknown.environment, Environment::Production);
    }

    #[test]
    fn unusable_labels_are_noted_not_trusted() {
        let got = triage().assess(&alert(&[
            ("namespace", "Not_A_Namespace"),
            ("severity", "sev-bizarre"),
            ("cluster", "eu-1"),
        ]));
        assert_eq!(got.scope.namespace, None);
        assert_eq!(got.scope.cluster, "eu-1");
        assert_eq!(got.severity, Severity::Warning);
        assert_eq!(got.notes.len(), 2, "{:?}", got.notes);
    }
}
