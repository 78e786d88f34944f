use chrono::{TimeZone, Utc};
use serde_json::json;

use super::*;
use crate::store::{CasOutcome, MemoryStore, Write};

fn audit() -> (Arc<dyn Store>, AuditLog) {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    (store.clone(), AuditLog::new(store))
}

fn incident(id: &str) -> IncidentId {
    IncidentId::from_stored(id)
}

fn human_decision(reason: &str) -> AuditEntry {
    let actor = Actor::Human {
        id: "U042".into(),
        channel: "slack".into(),
    };
    AuditEntry::new(AuditKind::ApprovalDecision, actor, reason)
}

#[tokio::test]
async fn record_appends_to_the_incidents_own_trail_in_order() {
    let (_, audit) = audit();
    let a = incident("inc-a");
    let mut ids = Vec::new();
    for reason in ["first", "second", "third"] {
        ids.push(audit.record(&a, human_decision(reason)).await.unwrap());
    }
    audit
        .record(&incident("inc-b"), human_decision("other"))
        .await
        .unwrap();
    let trail = audit.trail(&a).await.unwrap();
    let read: Vec<(AuditId, &str)> = trail
        .iter()
        .map(|r| (r.id.clone(), r.entry.reason.as_str()))
        .collect();
    let expected: Vec<(AuditId, &str)> =
        ids.into_iter().zip(["first", "second", "third"]).collect();
    assert_eq!(read, expected);
    assert_eq!(audit.trail(&incident("inc-b")).await.unwrap().len(), 1);
    assert!(audit.trail(&incident("inc-none")).await.unwrap().is_empty());
}

#[tokio::test]
async fn trail_pages_through_a_log_longer_than_one_page() {
    let (_, audit) = audit();
    let a = incident("inc-a");
    let count = 2 * PAGE + 3;
    for n in 0..count {
        audit
            .record(&a, human_decision(&n.to_string()))
            .await
            .unwrap();
    }
    let trail = audit.trail(&a).await.unwrap();
    let reasons: Vec<String> = trail.into_iter().map(|r| r.entry.reason).collect();
    let expected: Vec<String> = (0..count).map(|n| n.to_string()).collect();
    assert_eq!(reasons, expected);
}

#[tokio::test]
async fn an_unreadable_record_makes_the_trail_an_error_instead_of_being_skipped() {
    let (store, audit) = audit();
    let a = incident("inc-a");
    audit.record(&a, human_decision("fine")).await.unwrap();
    store.append("audit:inc-a", b"{not json").await.unwrap();
    audit.record(&a, human_decision("after")).await.unwrap();
    let error = audit.trail(&a).await.unwrap_err();
    assert!(
        matches!(&error, StoreError::Corrupt { key, .. } if key == "audit:inc-a"),
        "{error:?}"
    );
}

#[tokio::test]
async fn an_append_effect_lands_in_the_trail_only_with_its_compare_and_set() {
    let (store, audit) = audit();
    let a = incident("inc-a");
    let entry = AuditEntry::new(AuditKind::IncidentOpened, Actor::robot_sre(), "opened");
    let write = |value: &str| Write {
        value: value.as_bytes().to_vec(),
        ttl: None,
        effects: vec![AuditLog::append_effect(&a, &entry)],
    };
    let written = store.compare_and_set("doc", 0, write("one")).await.unwrap();
    assert_eq!(written, CasOutcome::Written { version: 1 });
    let stale = store.compare_and_set("doc", 0, write("two")).await.unwrap();
    assert_eq!(stale, CasOutcome::Conflict { current: 1 });
    let trail = audit.trail(&a).await.unwrap();
    assert_eq!(trail.len(), 1);
    assert_eq!(trail[0].entry, entry);
}

#[test]
fn a_record_serializes_as_one_flat_object_with_snake_case_kind_and_tagged_actor() {
    let at = Utc.with_ymd_and_hms(2026, 11, 21, 5, 0, 0).unwrap();
    let entry = human_decision("approved in thread")
        .with_time(at)
        .with_request("req-1")
        .with_action("rollback")
        .with_target("payments/Deployment/checkout")
        .with_detail(json!({"revision": 41}));
    let record = AuditRecord {
        id: AuditId::new(crate::store::LogId::new(1_795_150_800_000, 2)),
        entry,
    };
    let encoded = serde_json::to_value(&record).unwrap();
    assert_eq!(
        encoded,
        json!({
            "id": "1795150800000-2",
            "at": "2026-11-21T05:00:00Z",
            "kind": "approval_decision",
            "actor": {"type": "human", "id": "U042", "channel": "slack"},
            "request_id": "req-1",
            "action": "rollback",
            "target": "payments/Deployment/checkout",
            "reason": "approved in thread",
            "detail": {"revision": 41},
        })
    );
    let decoded: AuditRecord = serde_json::from_value(encoded).unwrap();
    assert_eq!(decoded, record);
}

#[test]
fn a_new_entry_has_no_request_action_target_or_detail() {
    let before = Utc::now();
    let entry = AuditEntry::new(AuditKind::Refusal, Actor::robot_sre(), "no runbook");
    assert!(entry.at >= before && entry.at <= Utc::now());
    assert_eq!(
        (&entry.request_id, &entry.action, &entry.target),
        (&None, &None, &None)
    );
    assert_eq!(entry.detail, serde_json::Value::Null);
    let json = serde_json::to_value(&entry).unwrap();
    assert_eq!(
        json["actor"],
        json!({"type": "bot", "identity": "robot-sre"})
    );
}

#[test]
fn audit_kind_names_match_their_serde_names() {
    use AuditKind::*;
    let kinds = [
        IncidentOpened,
        ActionProposed,
        ApprovalRequested,
        ApprovalDecision,
        GuardrailResults,
        ToolCall,
        ActionResult,
        Verification,
        Refusal,
        BreakerReset,
    ];
    for kind in kinds {
        let json = serde_json::to_string(&kind).unwrap();
        assert_eq!(json, format!("\"{}\"", kind.as_str()));
    }
}
