//! The pure parts of evidence: the unknown form and its reasons, the deadline, the scope,
//! counting and event ordering. The text summary's tests are in `text_tests.rs`.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Event, Pod};
use serde_json::json;

use super::events::{EVENT_LIMIT, newest};
use super::namespace::{NO_OWNER, tally};
use super::*;
use crate::incidents::model::WorkloadRef;

pub(super) fn forbidden() -> OpsError {
    OpsError::Forbidden {
        operation: "get".into(),
        object: "Node/n1".into(),
        message: "nodes \"n1\" is forbidden".into(),
    }
}

#[test]
fn unknown_serializes_as_an_object_naming_the_reason_and_reads_back() {
    let unknown: Collected<Vec<i32>> = Err(forbidden()).into();
    let text = serde_json::to_value(&unknown).unwrap();
    assert_eq!(
        text,
        json!({ "unknown": "forbidden: get on Node/n1 (nodes \"n1\" is forbidden)" })
    );
    assert_eq!(
        serde_json::from_value::<Collected<Vec<i32>>>(text).unwrap(),
        unknown
    );
    let known: Collected<Option<i32>> = Collected::Known(None);
    assert_eq!(serde_json::to_value(&known).unwrap(), json!(null));
    let back: Collected<Option<i32>> = serde_json::from_value(json!(null)).unwrap();
    assert_eq!(back, known);
}

#[test]
fn unknown_reasons_start_with_the_class_of_failure() {
    let reason = |error| unknown_reason(&error);
    assert!(reason(forbidden()).starts_with("forbidden: get on Node/n1"));
    let missing = OpsError::NotFound {
        object: "shop/Deployment/web".into(),
    };
    assert_eq!(reason(missing), "not found: shop/Deployment/web");
    let slow = OpsError::Timeout {
        operation: "list pods".into(),
        object: "shop".into(),
        timeout: Duration::from_secs(5),
    };
    assert_eq!(
        reason(slow),
        "timed out: list pods on shop took longer than 5s"
    );
    let down = OpsError::Unavailable {
        operation: "list pods".into(),
        object: "shop".into(),
        source: "connection refused".into(),
    };
    assert!(reason(down).starts_with("unavailable: "));
}

#[tokio::test]
async fn a_read_past_the_collect_deadline_is_unknown_and_says_timed_out() {
    let config = kube::Config::new("http://127.0.0.1:9".parse().unwrap());
    let client = kube::Client::try_from(config).unwrap();
    let cluster =
        Cluster::new(client, Duration::from_secs(60)).with_timeout(Duration::from_millis(20));
    let never = std::future::pending::<Result<(), kube::Error>>();
    let collected: Collected<()> = cluster.call("list pods", "shop", never).await.into();
    let reason = collected.reason().unwrap();
    assert!(
        reason.starts_with("timed out: list pods on shop"),
        "{reason}"
    );
}

#[test]
fn the_scope_asks_for_namespace_counts_only_when_no_workload_or_pod_is_named() {
    let mut alert = ResourceScope {
        namespace: Some(Namespace::parse("shop").unwrap()),
        ..ResourceScope::default()
    };
    assert!(Scope::from(&alert).finished_pods);
    alert.workload = Some(WorkloadRef {
        kind: "Deployment".into(),
        name: ResourceName::parse("web").unwrap(),
    });
    assert!(!Scope::from(&alert).finished_pods);
}

pub(super) fn pod(name: &str, phase: &str, owner: Option<(&str, &str)>) -> Pod {
    let owners: Vec<_> = owner
        .map(|(kind, name)| json!({ "apiVersion": "v1", "kind": kind, "name": name, "uid": "u", "controller": true }))
        .into_iter()
        .collect();
    serde_json::from_value(json!({
        "metadata": { "name": name, "ownerReferences": owners },
        "status": { "phase": phase },
    }))
    .unwrap()
}

#[test]
fn namespace_tally_counts_finished_pods_by_phase_and_owner() {
    let pods = [
        pod("a", "Succeeded", Some(("Job", "nightly"))),
        pod("b", "Succeeded", Some(("Job", "nightly"))),
        pod("c", "Succeeded", None),
        pod("d", "Failed", None),
        pod("e", "Running", Some(("ReplicaSet", "web-1"))),
    ];
    let counted = tally("shop", &pods);
    assert_eq!(
        (counted.total, counted.succeeded.count, counted.failed.count),
        (5, 3, 1)
    );
    assert_eq!(
        counted.succeeded.by_owner,
        BTreeMap::from([("Job/nightly".into(), 2), (NO_OWNER.into(), 1)])
    );
    assert_eq!(
        counted.failed.by_owner,
        BTreeMap::from([(NO_OWNER.into(), 1)])
    );
}

fn event(name: &str, reason: &str, last: &str) -> Event {
    serde_json::from_value(json!({
        "metadata": { "name": format!("{name}.{reason}") },
        "involvedObject": { "kind": "Pod", "name": name },
        "reason": reason, "type": "Warning", "message": "m", "count": 2,
        "lastTimestamp": last,
    }))
    .unwrap()
}

#[test]
fn events_are_kept_newest_first_and_capped() {
    let mut events: Vec<Event> = (0..30)
        .map(|i| event("web-1", "BackOff", &format!("2026-01-01T00:00:{i:02}Z")))
        .collect();
    events.push(event("other", "Failed", "2026-01-01T00:01:00Z"));
    let kept = newest(&events, |e| {
        e.involved_object.name.as_deref() == Some("web-1")
    });
    assert_eq!(kept.len(), EVENT_LIMIT);
    assert_eq!(kept[0].last.as_deref(), Some("2026-01-01T00:00:29Z"));
    assert!(kept.windows(2).all(|w| w[0].last >= w[1].last));
    assert_eq!(kept[0].object, "Pod/web-1");
}

#[test]
fn the_selector_reads_match_labels_and_expressions() {
    let deployment: Deployment = serde_json::from_value(json!({
        "metadata": { "name": "web" },
        "spec": {
            "selector": {
                "matchLabels": { "app": "web" },
                "matchExpressions": [
                    { "key": "tier", "operator": "In", "values": ["a", "b"] },
                    { "key": "canary", "operator": "DoesNotExist" },
                ],
            },
            "template": {},
        },
    }))
    .unwrap();
    assert_eq!(
        crate::ops::summary::selector(&deployment).as_deref(),
        Some("app=web,tier in (a,b),!canary")
    );
}
