//! Ingest and the audit trail: a new incident and its `incident_opened` record are written by
//! one compare-and-set, and nothing else writes that record.

use std::sync::Arc;

use super::tests::{alert, deliver, incident, service_on};
use super::*;
use crate::audit::{Actor, AuditKind, AuditLog};
use crate::incidents::evidence::Attached;
use crate::incidents::model::{EventKind, IncidentEvidence};
use crate::store::{Claim, MemoryStore};

/// A service and the audit log of its store.
fn audited() -> (IncidentService, AuditLog) {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    (service_on(store.clone()), AuditLog::new(store))
}

#[tokio::test]
async fn opening_an_incident_writes_one_incident_opened_record_with_it() {
    let (service, audit) = audited();
    let opened = deliver(&service, AlertStatus::Firing).await;
    let stored = incident(&service, &opened.incident_id).await;
    let trail = audit.trail(&opened.incident_id).await.unwrap();
    assert_eq!(trail.len(), 1);
    let entry = &trail[0].entry;
    assert_eq!(entry.kind, AuditKind::IncidentOpened);
    assert_eq!(entry.actor, Actor::robot_sre());
    assert_eq!(entry.at, stored.first_seen);
    assert!(
        entry.reason.contains("KubePodCrashLooping"),
        "{}",
        entry.reason
    );
    assert!(
        entry.reason.contains("crash_loop_backoff"),
        "{}",
        entry.reason
    );
    let detail = &entry.detail;
    assert_eq!(detail["fingerprint"], "00000000000000aa");
    assert_eq!(
        detail["severity"],
        serde_json::to_value(stored.severity).unwrap()
    );
    assert_eq!(detail["environment"], "production");
    assert_eq!(detail["scope"]["namespace"], "shop");
    assert_eq!(detail["scope"]["pod"], "web-1");
    assert_eq!(detail["scope"]["cluster"], "lab");
}

#[tokio::test]
async fn later_deliveries_write_no_second_opening_record_when_the_incident_exists() {
    let (service, audit) = audited();
    let opened = deliver(&service, AlertStatus::Firing).await;
    for status in [
        AlertStatus::Firing,
        AlertStatus::Resolved,
        AlertStatus::Firing,
    ] {
        deliver(&service, status).await;
    }
    assert_eq!(audit.trail(&opened.incident_id).await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_deliveries_write_one_opening_record_when_they_race_to_create() {
    let (service, audit) = audited();
    let service = Arc::new(service);
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let service = service.clone();
            tokio::spawn(async move { service.record("g", &alert(AlertStatus::Firing)).await })
        })
        .collect();
    let mut id = None;
    for task in tasks {
        id = Some(task.await.unwrap().unwrap().incident_id);
    }
    let trail = audit.trail(&id.unwrap()).await.unwrap();
    assert_eq!(trail.len(), 1, "{trail:#?}");
}

#[tokio::test]
async fn a_late_resolution_is_audited_as_opened_resolved_when_first_seen_resolved() {
    let (service, audit) = audited();
    let late = deliver(&service, AlertStatus::Resolved).await;
    let trail = audit.trail(&late.incident_id).await.unwrap();
    assert_eq!(trail.len(), 1);
    assert_eq!(trail[0].entry.kind, AuditKind::IncidentOpened);
    assert!(
        trail[0].entry.reason.contains("resolved"),
        "{}",
        trail[0].entry.reason
    );
    assert_eq!(trail[0].entry.detail["status"], "resolved");
}

#[tokio::test]
async fn no_audit_record_is_written_when_the_incident_write_is_refused() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let (service, audit) = (service_on(store.clone()), AuditLog::new(store.clone()));
    // The open set's key holds a claim, so the creating compare-and-set is refused.
    store
        .claim("incidents:open", "not-a-set", None)
        .await
        .unwrap();
    service
        .record("g", &alert(AlertStatus::Firing))
        .await
        .unwrap_err();
    let candidate = IncidentId::generate();
    let held = store.claim("dedupe:00000000000000aa", candidate.as_str(), None);
    let Claim::Held(id) = held.await.unwrap() else {
        panic!("the failed delivery claimed the fingerprint first");
    };
    let id = IncidentId::from_stored(id);
    assert!(service.repository().load(&id).await.unwrap().is_none());
    assert!(audit.trail(&id).await.unwrap().is_empty());
}

fn evidence_at(at: DateTime<Utc>, summary: &str) -> IncidentEvidence {
    IncidentEvidence {
        collected_at: at,
        summary: summary.into(),
        detail: serde_json::json!({ "pod": { "unknown": "forbidden: get on pods/web-1 (no)" } }),
    }
}

#[tokio::test]
async fn attaching_evidence_stores_it_with_a_history_entry_and_an_audit_record() {
    let (service, audit) = audited();
    let opened = deliver(&service, AlertStatus::Firing).await;
    let id = &opened.incident_id;
    let evidence = evidence_at(Utc::now(), "pod web-1: unknown (forbidden)\nmore");
    let attached = service.attach_evidence(id, evidence.clone()).await.unwrap();
    assert_eq!(attached, Attached::Attached);
    let stored = incident(&service, id).await;
    assert_eq!(stored.evidence.as_ref(), Some(&evidence));
    let last = stored.history.last().unwrap();
    assert_eq!(last.kind, EventKind::EvidenceCollected);
    assert_eq!(last.detail, "pod web-1: unknown (forbidden)");
    let trail = audit.trail(id).await.unwrap();
    let record = &trail.last().unwrap().entry;
    assert_eq!(record.kind, AuditKind::EvidenceCollected);
    assert_eq!(
        record.reason,
        "evidence collected: pod web-1: unknown (forbidden)"
    );
    assert_eq!(record.detail["evidence"], evidence.detail);
}

#[tokio::test]
async fn attaching_older_or_the_same_evidence_again_changes_nothing() {
    let (service, audit) = audited();
    let opened = deliver(&service, AlertStatus::Firing).await;
    let id = &opened.incident_id;
    let now = Utc::now();
    let newer = evidence_at(now, "newer");
    service.attach_evidence(id, newer.clone()).await.unwrap();
    let again = service.attach_evidence(id, newer.clone()).await.unwrap();
    let older = evidence_at(now - chrono::Duration::seconds(5), "older");
    let stale = service.attach_evidence(id, older).await.unwrap();
    assert_eq!((again, stale), (Attached::Older, Attached::Older));
    assert_eq!(incident(&service, id).await.evidence, Some(newer));
    assert_eq!(audit.trail(id).await.unwrap().len(), 2);
}

#[tokio::test]
async fn attaching_evidence_to_an_incident_that_is_gone_says_so() {
    let (service, _) = audited();
    let missing = IncidentId::generate();
    let attached = service
        .attach_evidence(&missing, evidence_at(Utc::now(), "x"))
        .await
        .unwrap();
    assert_eq!(attached, Attached::NoIncident);
    assert!(service.repository().load(&missing).await.unwrap().is_none());
}
