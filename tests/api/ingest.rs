//! Alertmanager in, incidents recorded: the paths that succeed.

use robot_sre::incidents::{AlertStatus, IncidentType, Lifecycle};
use serde_json::Value;

use crate::helpers::{Backend, EXAMPLE, firing_payload, spawn_app, spawn_app_with};

#[tokio::test]
async fn webhook_records_every_alert_of_the_published_example() {
    let app = spawn_app_with(Backend::Redis, |_| {}).await;
    let response = app.post_alerts(EXAMPLE).await;
    assert_eq!(response.status(), 200);
    let receipt: Value = response.json().await.unwrap();
    assert_eq!(receipt["received"], 2);
    assert_eq!(receipt["incidents"][0]["outcome"], "opened");
    assert_eq!(receipt["incidents"][1]["outcome"], "late_resolution");

    let open = app.repository.open_ids().await.unwrap();
    assert_eq!(open.len(), 1, "the resolved alert is recorded but not open");
    let (incident, _) = app.repository.load(&open[0]).await.unwrap().unwrap();
    assert_eq!(incident.fingerprints, ["000be4bc3aece7e5"]);
    assert_eq!(incident.labels["pod"], "api-gateway-7d9f8c6b5-x2kqp");
    assert_eq!(
        incident.annotations["summary"],
        "High request latency on api-gateway-7d9f8c6b5-x2kqp"
    );
    assert!(
        incident
            .source
            .as_deref()
            .unwrap()
            .starts_with("http://prometheus-0")
    );
    assert_eq!(incident.status, AlertStatus::Firing);
    assert_eq!(incident.incident_type, IncidentType::Unclassified);
    assert_eq!(incident.scope.namespace.as_ref().unwrap().as_str(), "prod");
    assert_eq!(incident.scope.cluster, "lab");
    assert_eq!(incident.lifecycle, Lifecycle::Triaged);
    assert!(incident.group_key.contains("HighRequestLatency"));

    let resolved_id = receipt["incidents"][1]["incident_id"].as_str().unwrap();
    let resolved_id = robot_sre::incidents::IncidentId::from_stored(resolved_id);
    let (resolved, _) = app.repository.load(&resolved_id).await.unwrap().unwrap();
    assert_eq!(resolved.lifecycle, Lifecycle::Resolved);
}

#[tokio::test]
async fn the_same_notification_twice_updates_the_same_incidents() {
    let app = spawn_app_with(Backend::Redis, |_| {}).await;
    let first: Value = app.post_alerts(EXAMPLE).await.json().await.unwrap();
    let second: Value = app.post_alerts(EXAMPLE).await.json().await.unwrap();
    for i in 0..2 {
        assert_eq!(
            first["incidents"][i]["incident_id"],
            second["incidents"][i]["incident_id"]
        );
        assert_eq!(second["incidents"][i]["outcome"], "duplicate");
    }
    let open = app.repository.open_ids().await.unwrap();
    let (incident, _) = app.repository.load(&open[0]).await.unwrap().unwrap();
    assert_eq!(incident.deliveries, 2);
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("ops_incidents_open_total 1\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("ops_alerts_received_total{outcome=\"duplicate\"} 2"),
        "{metrics}"
    );
}

#[tokio::test]
async fn concurrent_deliveries_of_one_alert_produce_one_incident() {
    // Two Alertmanagers of an HA pair, and their retries, racing each other through Redis.
    let app = spawn_app_with(Backend::Redis, |_| {}).await;
    let payload = firing_payload(
        "KubePodCrashLooping",
        "00000000c0ffee01",
        &[("namespace", "shop")],
    );
    let posts = (0..24).map(|_| app.post_alerts(payload.clone()));
    let responses = futures::future::join_all(posts).await;
    let mut ids = Vec::new();
    let mut opened = 0;
    for response in responses {
        assert_eq!(response.status(), 200);
        let receipt: Value = response.json().await.unwrap();
        ids.push(
            receipt["incidents"][0]["incident_id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
        opened += usize::from(receipt["incidents"][0]["outcome"] == "opened");
    }
    assert_eq!(opened, 1);
    ids.dedup();
    assert_eq!(ids.len(), 1, "all deliveries name one incident");
    let open = app.repository.open_ids().await.unwrap();
    assert_eq!(open.len(), 1);
    let (incident, _) = app.repository.load(&open[0]).await.unwrap().unwrap();
    assert_eq!(incident.deliveries, 24);
}

#[tokio::test]
async fn a_resolved_delivery_resolves_the_incident_and_a_refire_within_the_window_reopens_it() {
    let app = spawn_app().await;
    let firing = firing_payload(
        "KubeDeploymentRolloutStuck",
        "00000000000abc01",
        &[("namespace", "payments"), ("deployment", "checkout")],
    );
    let resolved = crate::helpers::resolved(&firing);
    let opened: Value = app.post_alerts(firing.clone()).await.json().await.unwrap();
    let id = robot_sre::incidents::IncidentId::from_stored(
        opened["incidents"][0]["incident_id"].as_str().unwrap(),
    );
    let answer: Value = app.post_alerts(resolved).await.json().await.unwrap();
    assert_eq!(answer["incidents"][0]["outcome"], "resolved");
    let (incident, _) = app.repository.load(&id).await.unwrap().unwrap();
    assert_eq!(incident.lifecycle, Lifecycle::Resolved);
    assert_eq!(incident.incident_type, IncidentType::StuckRollout);
    assert!(app.repository.open_ids().await.unwrap().is_empty());

    let again: Value = app.post_alerts(firing).await.json().await.unwrap();
    assert_eq!(again["incidents"][0]["outcome"], "reopened");
    assert_eq!(
        again["incidents"][0]["incident_id"],
        opened["incidents"][0]["incident_id"]
    );
}

#[tokio::test]
async fn after_the_suppression_window_a_refire_opens_a_new_incident() {
    let app = spawn_app_with(Backend::Redis, |s| {
        s.incidents.suppression_window = std::time::Duration::from_secs(1);
    })
    .await;
    let firing = firing_payload(
        "KubeNodeNotReady",
        "00000000000abc02",
        &[("node", "worker-1")],
    );
    let resolved = crate::helpers::resolved(&firing);
    let first: Value = app.post_alerts(firing.clone()).await.json().await.unwrap();
    app.post_alerts(resolved).await;
    // Wait for the condition (the dedupe claim lapsing in Redis), not for a fixed time.
    crate::helpers::eventually(
        std::time::Duration::from_secs(5),
        "dedupe key expiry",
        || async {
            let keys = app.stored_keys().await;
            (!keys.iter().any(|k| k.contains(":dedupe:"))).then_some(())
        },
    )
    .await;
    let second: Value = app.post_alerts(firing).await.json().await.unwrap();
    assert_eq!(second["incidents"][0]["outcome"], "opened");
    assert_ne!(
        second["incidents"][0]["incident_id"],
        first["incidents"][0]["incident_id"]
    );
}

#[tokio::test]
async fn classification_and_environment_come_from_labels_and_config() {
    let app = spawn_app_with(Backend::Memory, |s| {
        let ns = robot_sre::domain::Namespace::parse("shop-staging").unwrap();
        s.cluster
            .environments
            .insert(robot_sre::incidents::model::Environment::Staging, vec![ns]);
    })
    .await;
    let payload = firing_payload(
        "KubePodCrashLooping",
        "00000000000abc03",
        &[
            ("namespace", "shop-staging"),
            ("pod", "web-5d8f-abcde"),
            ("reason", "CrashLoopBackOff"),
            ("severity", "critical"),
        ],
    );
    let receipt: Value = app.post_alerts(payload).await.json().await.unwrap();
    assert_eq!(
        receipt["incidents"][0]["incident_type"],
        "crash_loop_backoff"
    );
    let open = app.repository.open_ids().await.unwrap();
    let (incident, _) = app.repository.load(&open[0]).await.unwrap().unwrap();
    use robot_sre::incidents::model::{Confidence, Environment, Severity};
    assert_eq!(incident.confidence, Confidence::High);
    assert_eq!(incident.severity, Severity::Critical);
    assert_eq!(incident.environment, Environment::Staging);
    assert_eq!(
        incident.scope.pod.as_ref().unwrap().as_str(),
        "web-5d8f-abcde"
    );
}
