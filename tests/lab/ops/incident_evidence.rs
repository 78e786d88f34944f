//! The whole ingest path with a cluster behind it: an alert posted to the bot's webhook becomes
//! an incident, and the bot then attaches the evidence it read through its own identity.

use std::sync::Arc;
use std::time::Duration;

use robot_sre::app::App;
use robot_sre::audit::{AuditKind, AuditLog};
use robot_sre::config::{Secret, Settings};
use robot_sre::incidents::{Classifier, Incident, IncidentId};
use robot_sre::ops::Ops;
use robot_sre::testkit::lab::scenarios::SCENARIO_DEADLINE;
use robot_sre::testkit::process::poll_until;
use serde_json::json;
use tokio::net::TcpListener;

use super::{bot_with, settings, stuck_and_pulling};
use crate::helpers::TestNamespace;

const TOKEN: &str = "lab-alertmanager-token";

/// Serves the bot (ingest with evidence) on a loopback port; returns its base URL.
async fn serve(ops: &Ops) -> (String, Arc<App>) {
    let mut settings = Settings::default();
    settings.alertmanager.token = Some(Secret::new(TOKEN));
    settings.cluster.name = "lab".into();
    settings.ops = ops.settings().clone();
    let app = App::with_store(&settings, Classifier::builtin(), ops.store())
        .with_evidence(ops.cluster().clone(), &settings);
    let app = Arc::new(app);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let router = robot_sre::http::router(app.clone());
    tokio::spawn(robot_sre::http::serve(
        listener,
        router,
        std::future::pending(),
        Duration::from_secs(1),
    ));
    (url, app)
}

async fn post_alert(url: &str, labels: serde_json::Value) -> IncidentId {
    let body = json!({
        "receiver": "robot-sre", "status": "firing", "version": "4",
        "groupKey": "{}:{alertname=\"KubeDeploymentRolloutStuck\"}", "truncatedAlerts": 0,
        "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {}, "externalURL": "",
        "alerts": [{
            "status": "firing", "labels": labels, "annotations": {},
            "startsAt": "2026-11-21T05:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "", "fingerprint": format!("{:016x}", rand::random::<u64>()),
        }],
    });
    let response = reqwest::Client::new()
        .post(format!("{url}/webhooks/alertmanager"))
        .bearer_auth(TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let receipt: serde_json::Value = response.json().await.unwrap();
    let id = receipt["incidents"][0]["incident_id"].as_str().unwrap();
    IncidentId::from_stored(id)
}

async fn with_evidence(app: &App, id: &IncidentId) -> Incident {
    poll_until(SCENARIO_DEADLINE, Duration::from_millis(100), || async {
        let (incident, _) = app.incidents.repository().load(id).await.ok()??;
        incident.evidence.is_some().then_some(incident)
    })
    .await
    .expect("the incident gets its evidence")
}

#[tokio::test]
async fn an_alert_for_a_stuck_rollout_becomes_an_incident_with_its_evidence_attached() {
    let ns = TestNamespace::create("inc-ev").await;
    stuck_and_pulling(&ns, "checkout").await;
    let ops = bot_with(settings(&ns.name)).await;
    let (url, app) = serve(&ops).await;

    let labels = json!({
        "alertname": "KubeDeploymentRolloutStuck", "namespace": ns.name, "deployment": "checkout",
    });
    let id = post_alert(&url, labels).await;

    let incident = with_evidence(&app, &id).await;
    let evidence = incident.evidence.as_ref().unwrap();
    assert!(
        evidence
            .summary
            .contains("rollout ProgressDeadlineExceeded"),
        "{}",
        evidence.summary
    );
    assert!(
        evidence.summary.contains("ImagePullBackOff"),
        "{}",
        evidence.summary
    );
    assert_eq!(evidence.detail["workload"]["name"], "checkout");
    let trail = AuditLog::new(ops.store()).trail(&id).await.unwrap();
    let kinds: Vec<AuditKind> = trail.iter().map(|r| r.entry.kind).collect();
    assert_eq!(
        kinds,
        [AuditKind::IncidentOpened, AuditKind::EvidenceCollected]
    );
}

#[tokio::test]
async fn evidence_outside_the_bots_namespaces_is_attached_as_unknown_with_the_reason() {
    let ns = TestNamespace::create("inc-ev-out").await;
    let ops = bot_with(settings("robot-sre-elsewhere")).await;
    let (url, app) = serve(&ops).await;

    let labels = json!({
        "alertname": "KubeDeploymentRolloutStuck", "namespace": ns.name, "deployment": "web",
    });
    let id = post_alert(&url, labels).await;

    let incident = with_evidence(&app, &id).await;
    let evidence = incident.evidence.as_ref().unwrap();
    let reason = evidence.detail["workload"]["unknown"].as_str().unwrap();
    assert!(reason.starts_with("forbidden: "), "{reason}");
    assert!(
        evidence.summary.contains("forbidden"),
        "{}",
        evidence.summary
    );
}
