use std::collections::BTreeMap;

use chrono::DateTime;

use super::*;
use crate::incidents::alertmanager::AlertStatus;

fn alert(labels: &[(&str, &str)]) -> Alert {
    Alert {
        status: AlertStatus::Firing,
        labels: labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        annotations: BTreeMap::new(),
        starts_at: DateTime::UNIX_EPOCH,
        ends_at: DateTime::UNIX_EPOCH,
        generator_url: String::new(),
        fingerprint: String::new(),
    }
}

#[test]
fn builtin_rules_classify_each_required_class() {
    let classifier = Classifier::builtin();
    let cases = [
        ("KubePodCrashLooping", IncidentType::CrashLoopBackoff),
        ("KubeDeploymentRolloutStuck", IncidentType::StuckRollout),
        ("KubePodImagePullBackOff", IncidentType::RegistryPullFailure),
        ("KubeNodeDiskPressure", IncidentType::NodeDiskPressure),
        ("KubeNodeNotReady", IncidentType::NodeUnreachableOrNotready),
        ("KubeJobFailed", IncidentType::BackgroundJobBuildup),
        ("CheckoutHighErrorRate", IncidentType::HttpErrorRateSpike),
        ("RedisDown", IncidentType::RuntimeDependencyOutage),
        ("HighRequestLatency", IncidentType::Unclassified),
    ];
    for (alertname, expected) in cases {
        let got = classifier.classify(&alert(&[("alertname", alertname)]));
        assert_eq!(got.incident_type, expected, "{alertname}");
    }
}

#[test]
fn corroborating_signals_raise_confidence() {
    let classifier = Classifier::builtin();
    let single = classifier.classify(&alert(&[("alertname", "KubePodCrashLooping")]));
    assert_eq!(single.confidence, Confidence::Medium);
    let both = classifier.classify(&alert(&[
        ("alertname", "KubePodCrashLooping"),
        ("reason", "CrashLoopBackOff"),
    ]));
    assert_eq!(both.confidence, Confidence::High);
    assert_eq!(
        both.reason,
        "crash_loop_backoff: label alertname, label reason"
    );
}

#[test]
fn the_rule_with_the_strongest_evidence_wins() {
    // A generic "container waiting" alert whose reason says the image cannot be pulled.
    let classifier = Classifier::builtin();
    let got = classifier.classify(&alert(&[
        ("alertname", "KubeContainerWaiting"),
        ("reason", "ImagePullBackOff"),
    ]));
    assert_eq!(got.incident_type, IncidentType::RegistryPullFailure);
    assert_eq!(got.confidence, Confidence::Medium);
}

#[test]
fn weak_signals_alone_give_low_confidence() {
    let classifier = Classifier::builtin();
    let got = classifier.classify(&alert(&[("alertname", "TargetDown")]));
    assert_eq!(got.incident_type, IncidentType::RuntimeDependencyOutage);
    assert_eq!(got.confidence, Confidence::Low);
}

#[test]
fn unmatched_alerts_are_unclassified_with_low_confidence() {
    let got = Classifier::builtin().classify(&alert(&[("alertname", "SomethingOdd")]));
    assert_eq!(got.incident_type, IncidentType::Unclassified);
    assert_eq!(got.confidence, Confidence::Low);
}

#[test]
fn rule_errors_name_the_rule_and_the_problem() {
    let yaml = "rules:\n  - incident_type: stuck_rollout\n    default_severity: warning\n    signals:\n      - { name: alertname, matches: '(', strength: strong }\n";
    let error = Classifier::from_yaml(yaml, "rules.yaml").unwrap_err();
    assert_eq!(
        error.location,
        "rules.yaml: rules[0] (stuck_rollout).signals[0]"
    );
    assert!(
        error.problem.contains("not a valid regex"),
        "{}",
        error.problem
    );
}

#[test]
fn unknown_incident_types_are_refused() {
    let yaml =
        "rules:\n  - incident_type: gremlins\n    default_severity: warning\n    signals: []\n";
    let error = Classifier::from_yaml(yaml, "rules.yaml").unwrap_err();
    assert!(error.problem.contains("gremlins"), "{}", error.problem);
}

#[test]
fn a_signal_needs_exactly_one_matcher() {
    let yaml = "rules:\n  - incident_type: stuck_rollout\n    default_severity: warning\n    signals:\n      - { name: alertname, strength: strong }\n";
    let error = Classifier::from_yaml(yaml, "rules.yaml").unwrap_err();
    assert!(error.problem.contains("exactly one"), "{}", error.problem);
}
