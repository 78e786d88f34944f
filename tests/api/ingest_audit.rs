//! Ingest writes an incident's first audit record in the same Redis script as the incident: both
//! exist or neither does, and retries do not write it twice.

use robot_sre::audit::{AuditKind, AuditLog};
use robot_sre::incidents::IncidentId;
use serde_json::Value;

use crate::helpers::{Backend, TestApp, firing_payload, redis_store, spawn_app_with};

const FINGERPRINT: &str = "00000000a0d17001";

fn payload() -> String {
    firing_payload(
        "KubePodCrashLooping",
        FINGERPRINT,
        &[
            ("namespace", "shop"),
            ("pod", "web-1"),
            ("severity", "critical"),
        ],
    )
}

/// The audit log of the app's Redis store.
fn audit_of(app: &TestApp) -> AuditLog {
    let (url, prefix) = app.redis.as_ref().expect("a Redis-backed app");
    AuditLog::new(redis_store(url, prefix))
}

async fn redis(app: &TestApp) -> redis::aio::MultiplexedConnection {
    let (url, _) = app.redis.as_ref().expect("a Redis-backed app");
    let client = redis::Client::open(url.as_str()).unwrap();
    client.get_multiplexed_async_connection().await.unwrap()
}

async fn post(app: &TestApp) -> (u16, Value) {
    let response = app.post_alerts(payload()).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn opening_an_incident_writes_its_audit_record_once_when_the_alert_is_redelivered() {
    let app = spawn_app_with(Backend::Redis, |_| {}).await;
    let (status, receipt) = post(&app).await;
    assert_eq!(status, 200);
    assert_eq!(receipt["incidents"][0]["outcome"], "opened");
    let id = receipt["incidents"][0]["incident_id"].as_str().unwrap();
    let id = IncidentId::from_stored(id);
    for _ in 0..2 {
        let (status, receipt) = post(&app).await;
        assert_eq!(
            (status, &receipt["incidents"][0]["outcome"]),
            (200, &Value::from("duplicate"))
        );
    }

    let trail = audit_of(&app).trail(&id).await.unwrap();
    assert_eq!(trail.len(), 1, "{trail:#?}");
    let entry = &trail[0].entry;
    assert_eq!(entry.kind, AuditKind::IncidentOpened);
    assert_eq!(entry.detail["fingerprint"], FINGERPRINT);
    assert_eq!(entry.detail["severity"], "critical");
    assert_eq!(entry.detail["scope"]["namespace"], "shop");
    let (_, prefix) = app.redis.as_ref().unwrap();
    let kind: String = redis::cmd("TYPE")
        .arg(format!("{prefix}:audit:{id}"))
        .query_async(&mut redis(&app).await)
        .await
        .unwrap();
    assert_eq!(kind, "stream");
}

#[tokio::test]
async fn no_audit_record_is_written_when_redis_refuses_the_incident_write() {
    let app = spawn_app_with(Backend::Redis, |_| {}).await;
    let (_, prefix) = app.redis.clone().unwrap();
    let open_set = format!("{prefix}:incidents:open");
    let mut connection = redis(&app).await;
    // A string where the open set belongs: the incident's script refuses before writing.
    let _: () = redis::cmd("SET")
        .arg(&open_set)
        .arg("not-a-set")
        .query_async(&mut connection)
        .await
        .unwrap();
    let (status, body) = post(&app).await;
    assert_eq!(
        (status, &body["error"]),
        (500, &Value::from("store_refused"))
    );
    let keys = app.stored_keys().await;
    assert!(!keys.iter().any(|k| k.contains(":audit:")), "{keys:?}");
    assert!(!keys.iter().any(|k| k.contains(":incident:")), "{keys:?}");

    // Once the store accepts it, the retried alert opens the incident with exactly one record.
    let _: () = redis::cmd("DEL")
        .arg(&open_set)
        .query_async(&mut connection)
        .await
        .unwrap();
    let (status, receipt) = post(&app).await;
    assert_eq!(
        (status, &receipt["incidents"][0]["outcome"]),
        (200, &Value::from("opened"))
    );
    let id = receipt["incidents"][0]["incident_id"].as_str().unwrap();
    let trail = audit_of(&app).trail(&IncidentId::from_stored(id)).await;
    assert_eq!(trail.unwrap().len(), 1);
}

#[tokio::test]
async fn no_incident_is_created_when_its_audit_record_cannot_be_written() {
    let app = spawn_app_with(Backend::Redis, |_| {}).await;
    let (_, prefix) = app.redis.clone().unwrap();
    let mut connection = redis(&app).await;
    // The fingerprint already names an id, so the test knows which audit key the bot will use,
    // and that key holds a string instead of a stream.
    let _: () = redis::pipe()
        .set(format!("{prefix}:dedupe:{FINGERPRINT}"), "inc-known")
        .set(format!("{prefix}:audit:inc-known"), "not-a-stream")
        .query_async(&mut connection)
        .await
        .unwrap();
    let (status, body) = post(&app).await;
    assert_eq!(
        (status, &body["error"]),
        (500, &Value::from("store_refused"))
    );
    let keys = app.stored_keys().await;
    assert!(!keys.iter().any(|k| k.contains(":incident:")), "{keys:?}");
    assert!(
        !keys.iter().any(|k| k.ends_with(":incidents:open")),
        "{keys:?}"
    );
}
