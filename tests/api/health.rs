//! Liveness, readiness and metrics.

use crate::helpers::{Backend, EXAMPLE, spawn_app, spawn_app_with};

#[tokio::test]
async fn healthz_answers_while_the_process_lives() {
    let app = spawn_app().await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn readyz_answers_200_when_redis_answers() {
    let app = spawn_app_with(Backend::Redis, |_| {}).await;
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn metrics_are_prometheus_text_and_follow_ingest() {
    let app = spawn_app().await;
    let before = app.get("/metrics").await;
    let content_type = before.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    let before = before.text().await.unwrap();
    assert!(before.contains("ops_approvals_requested_total 0"));
    assert!(before.contains("ops_incidents_open_total 0"));
    assert!(before.trim_end().ends_with("# EOF"));

    app.post_alerts(EXAMPLE).await;
    let after = app.metrics().await;
    // One firing alert opens an incident; the resolved one is a late resolution.
    assert!(after.contains("ops_incidents_open_total 1"), "{after}");
    assert!(after.contains("ops_incidents_by_type_total{incident_type=\"unclassified\"} 1"));
    assert!(after.contains("ops_alerts_received_total{outcome=\"late_resolution\"} 1"));
    assert!(
        after.contains("ops_ingest_latency_seconds_count 1"),
        "{after}"
    );
}
