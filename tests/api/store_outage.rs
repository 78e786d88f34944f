//! A Redis outage: alerts get 503 (Alertmanager retries), readiness fails, nothing panics, and
//! when Redis returns the bot reconnects and the retried alert is recorded once.

use std::time::Duration;

use robot_sre::testkit::RedisServer;
use serde_json::Value;

use crate::helpers::{Backend, eventually, firing_payload, spawn_app_with};

#[tokio::test]
async fn alerts_get_503_during_a_redis_outage_and_are_recorded_once_redis_returns() {
    let mut redis = RedisServer::start().await.unwrap();
    let app = spawn_app_with(Backend::RedisAt(redis.url()), |_| {}).await;
    let payload = firing_payload(
        "KubePodCrashLooping",
        "00000000dead0001",
        &[("namespace", "shop")],
    );
    assert_eq!(app.get("/readyz").await.status(), 200);

    redis.stop();
    let response = app.post_alerts(payload.clone()).await;
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "5");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "store_unavailable");
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 503);
    let ready: Value = ready.json().await.unwrap();
    assert!(
        ready["store"].as_str().unwrap().contains("unavailable"),
        "{ready}"
    );
    assert_eq!(app.get("/healthz").await.status(), 200);

    redis.restart().await.unwrap();
    // The first command after the outage may still meet the dead connection; readiness turns
    // green once the connection manager has reconnected.
    eventually(
        Duration::from_secs(10),
        "readiness after Redis returns",
        || async {
            let status = app
                .client
                .get(app.url("/readyz"))
                .send()
                .await
                .ok()?
                .status();
            (status == 200).then_some(())
        },
    )
    .await;
    let retried: Value = app.post_alerts(payload.clone()).await.json().await.unwrap();
    assert_eq!(retried["incidents"][0]["outcome"], "opened");
    let again: Value = app.post_alerts(payload).await.json().await.unwrap();
    assert_eq!(again["incidents"][0]["outcome"], "duplicate");
    assert_eq!(app.repository.open_ids().await.unwrap().len(), 1);
}

#[tokio::test]
async fn the_service_starts_and_answers_while_redis_is_down() {
    // Nothing listens on this port: the store connects lazily and reports, never panics.
    let port = robot_sre::testkit::process::free_port().unwrap();
    let app = spawn_app_with(
        Backend::RedisAt(format!("redis://127.0.0.1:{port}")),
        |_| {},
    )
    .await;
    assert_eq!(app.get("/healthz").await.status(), 200);
    assert_eq!(app.get("/readyz").await.status(), 503);
    let payload = firing_payload("KubeNodeNotReady", "00000000dead0002", &[]);
    assert_eq!(app.post_alerts(payload).await.status(), 503);
}
