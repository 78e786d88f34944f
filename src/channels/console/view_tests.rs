//! The console's read model on a `MemoryStore`: an incident recorded by ingest, with a notice
//! and a reply in its console thread, listed and shown in the JSON shapes the page and the
//! demo read.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use super::ConsoleChannel;
use super::view::{detail, list};
use crate::channels::{Channel, ChannelKind, Health, Notice};
use crate::incidents::model::{Environment, Severity};
use crate::incidents::{
    Alert, AlertStatus, Classifier, IncidentId, IncidentService, IngestPolicy, Triage,
};
use crate::store::{MemoryStore, Store};

async fn recorded(store: Arc<dyn Store>) -> IncidentId {
    let triage = Triage {
        classifier: Classifier::builtin(),
        cluster: "lab".into(),
        environment_label: "environment".into(),
        default_environment: Environment::Production,
        namespace_environments: HashMap::new(),
    };
    let policy = IngestPolicy {
        suppression_window: Duration::from_secs(900),
        retention: Duration::from_secs(86_400),
        history_limit: 50,
    };
    let alert = Alert {
        status: AlertStatus::Firing,
        labels: [
            ("alertname", "KubePodCrashLooping"),
            ("namespace", "shop"),
            ("pod", "web-1"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
        annotations: Default::default(),
        starts_at: Utc::now(),
        ends_at: chrono::DateTime::UNIX_EPOCH,
        generator_url: String::new(),
        fingerprint: "00000000000000aa".into(),
    };
    let service = IncidentService::new(store, triage, policy);
    service.record("g", &alert).await.unwrap().incident_id
}

#[tokio::test]
async fn list_and_detail_show_an_open_incident_and_its_thread_when_read() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let id = recorded(store.clone()).await;
    let channel = ConsoleChannel::new(store.clone(), None);
    let mut changes = channel.subscribe();
    let notice = Notice {
        incident: id.clone(),
        severity: Severity::Warning,
        title: "web-1 <b>crash</b> looping".into(),
        body: "restarted 5 times".into(),
        details_url: None,
    };
    let sent = channel.send_notice(&notice).await.unwrap();
    assert_eq!(sent.channel, ChannelKind::Console);
    assert_eq!(changes.try_recv().unwrap(), id.to_string());
    channel.reply(&sent, "looking").await.unwrap();
    channel.close_prompt(&sent, "Acknowledged").await.unwrap();
    assert_eq!(channel.health().await, Health::Up);

    let rows = serde_json::to_value(list(&store, Utc::now()).await.unwrap()).unwrap();
    let row = &rows[0];
    assert_eq!(row["id"], id.to_string());
    assert_eq!(row["type"], "crash_loop_backoff");
    assert_eq!(row["target"], "lab/shop/Pod/web-1");
    assert_eq!(row["state"], serde_json::Value::Null, "no conversation yet");
    assert!(row["age_seconds"].as_i64().unwrap() >= 0);

    let shown = serde_json::to_value(detail(&store, &id, Utc::now()).await.unwrap()).unwrap();
    assert_eq!(shown["summary"], *row);
    assert_eq!(shown["incident"]["id"], id.to_string());
    assert_eq!(shown["prompt"], serde_json::Value::Null);
    let thread = shown["thread"].as_array().unwrap();
    assert_eq!(thread.len(), 2, "{thread:?}");
    assert_eq!(thread[0]["text"], "web-1 <b>crash</b> looping");
    assert_eq!(thread[0]["outcome"], "Acknowledged");
    assert_eq!(thread[1]["reply_to"], sent.id);
    assert!(shown["packets"].as_array().unwrap().is_empty());
    assert_eq!(shown["audit"][0]["kind"], "incident_opened");
}

#[tokio::test]
async fn detail_of_an_unknown_incident_is_not_found() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let missing = detail(&store, &IncidentId::from_stored("inc-nope"), Utc::now()).await;
    assert!(matches!(
        missing,
        Err(super::view::DetailError::NotFound(_))
    ));
}
