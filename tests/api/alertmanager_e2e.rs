//! End to end with a real Alertmanager: alerts are posted to its API, it groups them and delivers
//! them to the bot with its bearer token, and the bot records incidents.

use std::time::Duration;

use chrono::{Duration as Span, Utc};
use robot_sre::incidents::{IncidentType, Lifecycle};
use robot_sre::testkit::{Alertmanager, alertmanager::Routing};
use serde_json::json;

use crate::helpers::{Backend, TOKEN, TestApp, eventually, spawn_app_with};

async fn incidents(app: &TestApp) -> Vec<robot_sre::incidents::Incident> {
    let mut all = Vec::new();
    for id in app.repository.open_ids().await.unwrap() {
        all.push(app.repository.load(&id).await.unwrap().unwrap().0);
    }
    all
}

#[tokio::test]
async fn alertmanager_delivers_grouped_alerts_that_become_incidents() {
    let app = spawn_app_with(Backend::Redis, |_| {}).await;
    let webhook = app.url("/webhooks/alertmanager");
    let alertmanager = Alertmanager::start(&webhook, TOKEN, &Routing::default())
        .await
        .unwrap();
    let alerts = json!([
        {"labels": {"alertname": "KubePodCrashLooping", "namespace": "shop", "pod": "web-1",
                    "reason": "CrashLoopBackOff", "severity": "warning"},
         "annotations": {"summary": "web-1 is crash looping"}},
        {"labels": {"alertname": "KubePodCrashLooping", "namespace": "shop", "pod": "web-2",
                    "severity": "warning"},
         "annotations": {"summary": "web-2 is crash looping"}},
        {"labels": {"alertname": "KubeDeploymentRolloutStuck", "namespace": "payments",
                    "deployment": "checkout", "severity": "critical"},
         "annotations": {"summary": "checkout rollout is stuck"}},
    ]);
    alertmanager.post_alerts(&alerts).await.unwrap();

    let recorded = eventually(
        Duration::from_secs(30),
        "three incidents from Alertmanager",
        || async {
            let found = incidents(&app).await;
            (found.len() == 3).then_some(found)
        },
    )
    .await;
    let crash: Vec<_> = recorded
        .iter()
        .filter(|i| i.incident_type == IncidentType::CrashLoopBackoff)
        .collect();
    assert_eq!(crash.len(), 2, "{recorded:#?}");
    let stuck = recorded
        .iter()
        .find(|i| i.incident_type == IncidentType::StuckRollout)
        .unwrap();
    assert_eq!(
        stuck.scope.workload.as_ref().unwrap().name.as_str(),
        "checkout"
    );
    assert!(
        stuck.group_key.contains("KubeDeploymentRolloutStuck"),
        "{}",
        stuck.group_key
    );
    assert!(recorded.iter().all(|i| i.fingerprints[0].len() == 16));

    // Resolve the stuck rollout the way Prometheus does: re-send it with an end time passed.
    let ended = (Utc::now() - Span::seconds(1)).to_rfc3339();
    let resolved = json!([{"labels": alerts[2]["labels"], "annotations": alerts[2]["annotations"], "endsAt": ended}]);
    alertmanager.post_alerts(&resolved).await.unwrap();
    eventually(
        Duration::from_secs(30),
        "resolution delivered by Alertmanager",
        || async {
            let (incident, _) = app.repository.load(&stuck.id).await.unwrap()?;
            (incident.lifecycle == Lifecycle::Resolved).then_some(())
        },
    )
    .await;
    assert_eq!(
        incidents(&app).await.len(),
        2,
        "log:\n{}",
        alertmanager.log()
    );
}
