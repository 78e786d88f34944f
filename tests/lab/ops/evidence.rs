//! Evidence collectors against the lab, read through the bot's own least-privilege identity:
//! what a stuck rollout, a crash loop and node disk pressure look like as evidence, and how a
//! read the bot may not make, or of an object that is not there, becomes "unknown" with a reason.

use std::time::Duration;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{ListParams, PostParams};
use kube::{Api, ResourceExt};
use robot_sre::domain::{ActionKind, Namespace, ResourceName};
use robot_sre::incidents::model::WorkloadRef;
use robot_sre::ops::Ops;
use robot_sre::ops::evidence::namespace::NO_OWNER;
use robot_sre::ops::evidence::{self, Collected, Evidence, Scope, WorkloadEvidence};
use robot_sre::ops::rbac::BotAccount;
use robot_sre::ops::summary;
use robot_sre::testkit::lab::kubelet::faults::POD_FAULT;
use robot_sre::testkit::lab::scenarios::{self, SCENARIO_DEADLINE};
use robot_sre::testkit::process::poll_until;
use serde_json::json;

use super::{bot_as, bot_with, settings, stuck_and_pulling};
use crate::helpers::{EVIDENCE_NODE, TestNamespace};

fn namespace(name: &str) -> Option<Namespace> {
    Some(Namespace::parse(name).expect("a namespace"))
}

fn name(value: &str) -> Option<ResourceName> {
    Some(ResourceName::parse(value).expect("a name"))
}

fn workload(kind: &str, value: &str) -> Option<WorkloadRef> {
    Some(WorkloadRef {
        kind: kind.into(),
        name: ResourceName::parse(value).expect("a name"),
    })
}

async fn collect(ops: &Ops, scope: &Scope) -> Evidence {
    evidence::collect(ops.cluster(), ops.settings(), scope).await
}

/// The part's value, or the test fails with the reason it is unknown.
fn known<'a, T>(part: &'a Collected<T>, what: &str) -> &'a T {
    match part {
        Collected::Known(value) => value,
        Collected::Unknown { reason } => panic!("{what} is unknown: {reason}"),
    }
}

fn known_workload(evidence: &Evidence) -> &WorkloadEvidence {
    known(
        evidence.workload.as_ref().expect("workload evidence"),
        "the workload",
    )
}

#[tokio::test]
async fn workload_evidence_shows_both_revisions_and_the_pull_failure_when_a_rollout_is_stuck() {
    let ns = TestNamespace::create("ev-stuck").await;
    stuck_and_pulling(&ns, "checkout").await;
    let ops = bot_with(settings(&ns.name)).await;
    let scope = Scope {
        namespace: namespace(&ns.name),
        workload: workload("Deployment", "checkout"),
        ..Scope::default()
    };

    let evidence = collect(&ops, &scope).await;
    let checkout = known_workload(&evidence);
    let progressing = checkout
        .conditions
        .iter()
        .find(|c| c.kind == "Progressing")
        .expect("a Progressing condition");
    assert_eq!(
        (progressing.status.as_str(), progressing.reason.as_deref()),
        ("False", Some("ProgressDeadlineExceeded"))
    );
    let history: Vec<(Option<i64>, Vec<String>)> = known(&checkout.replica_sets, "ReplicaSets")
        .iter()
        .map(|rs| (rs.revision, rs.images.clone()))
        .collect();
    let broken = "registry.example/checkout:fault-image-pull";
    assert_eq!(
        history,
        [
            (Some(2), vec![broken.to_owned()]),
            (Some(1), vec!["registry.example/checkout:1".to_owned()])
        ]
    );
    let pods = known(&checkout.pods, "pods");
    assert!(
        pods.iter()
            .any(|p| p.pod.reason.as_deref() == Some("ImagePullBackOff") && !p.pod.ready),
        "{pods:?}"
    );
    let events = known(&checkout.events, "events");
    assert!(
        events
            .iter()
            .any(|e| e.reason == "Failed" && e.object.starts_with("Pod/checkout-")),
        "{events:?}"
    );
    assert!(known(&checkout.autoscaler, "the autoscaler").is_none());

    let text = evidence.summary();
    for expected in [
        "Deployment checkout: ",
        "rollout ProgressDeadlineExceeded",
        &format!("revision 2 ({broken}) after 1 (registry.example/checkout:1)"),
        "ImagePullBackOff, 0 restarts",
        "last events: ",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }
    assert!(text.lines().count() <= 5, "{text}");
    let json = serde_json::to_value(&evidence).unwrap();
    assert_eq!(json["workload"]["autoscaler"], json!(null));
    assert_eq!(json["workload"]["replica_sets"][0]["revision"], json!(2));
}

#[tokio::test]
async fn pod_evidence_reaches_the_deployment_and_its_crash_loop_when_pods_crash() {
    let ns = TestNamespace::create("ev-crash").await;
    let crashing = scenarios::crashloop(&ns.client, &ns.name, "api", 2)
        .await
        .unwrap();
    let ops = bot_with(settings(&ns.name)).await;
    let pod = crashing[0].name_any();
    let scope = Scope {
        namespace: namespace(&ns.name),
        pod: name(&pod),
        ..Scope::default()
    };

    // A crash-looping container runs for a moment between back-offs; wait (with a deadline)
    // for a read that catches a pod backing off.
    let backing_off = |evidence: &Evidence| {
        let workload = evidence.workload.as_ref()?.known()?;
        let pods = workload.pods.known()?;
        pods.iter()
            .any(|p| p.pod.reason.as_deref() == Some("CrashLoopBackOff"))
            .then_some(())
    };
    let evidence = poll_until(SCENARIO_DEADLINE, Duration::from_millis(200), || async {
        let evidence = collect(&ops, &scope).await;
        backing_off(&evidence).map(|()| evidence)
    })
    .await
    .expect("evidence showing a pod in CrashLoopBackOff");

    let pod_evidence = known(evidence.pod.as_ref().expect("pod evidence"), "the pod");
    let chain = &pod_evidence.owner_chain;
    assert_eq!(chain.len(), 3, "{chain:?}");
    assert_eq!(chain[0], format!("Pod/{pod}"));
    assert!(chain[1].starts_with("ReplicaSet/api-"), "{chain:?}");
    assert_eq!(chain[2], "Deployment/api");
    let api = known_workload(&evidence);
    assert_eq!(api.name, "api");
    assert_eq!(&api.owner_chain, chain);
    let pods = known(&api.pods, "pods");
    assert_eq!(pods.len(), 2);
    assert!(pods.iter().all(|p| p.pod.restarts >= 1), "{pods:?}");
    let events = known(&api.events, "events");
    assert!(events.iter().any(|e| e.reason == "BackOff"), "{events:?}");

    let text = evidence.summary();
    assert!(text.contains("CrashLoopBackOff"), "{text}");
    assert!(text.contains("Deployment api: 0/2 ready"), "{text}");
    assert!(
        text.contains(&format!("Pod/{pod} → ReplicaSet/api-")),
        "{text}"
    );
}

/// A Job whose single pod succeeds, so the finished backlog has an owner besides bare pods.
async fn completed_job(ns: &TestNamespace, name: &str) {
    let job: Job = serde_json::from_value(json!({
        "metadata": { "name": name },
        "spec": { "template": {
            "metadata": { "annotations": { POD_FAULT: "succeed" } },
            "spec": {
                "restartPolicy": "Never",
                "containers": [{ "name": "app", "image": "registry.example/batch:1" }],
            },
        } },
    }))
    .unwrap();
    let jobs: Api<Job> = ns.api();
    jobs.create(&PostParams::default(), &job).await.unwrap();
    let pods: Api<Pod> = ns.api();
    scenarios::wait_for_pods(
        &pods,
        &format!("job-name={name}"),
        "a succeeded job pod",
        SCENARIO_DEADLINE,
        |pods| pods.iter().all(|p| summary::phase(p) == "Succeeded"),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn node_and_namespace_evidence_show_pressure_evictions_and_backlog_after_disk_pressure() {
    let ns = TestNamespace::create("ev-disk").await;
    completed_job(&ns, "nightly").await;
    scenarios::disk_pressure(&ns.client, &ns.name, EVIDENCE_NODE, 3, 2)
        .await
        .unwrap();
    // Default settings: cordon is enabled, so the bot may read nodes.
    let ops = bot_with(settings(&ns.name)).await;
    let scope = Scope {
        namespace: namespace(&ns.name),
        node: name(EVIDENCE_NODE),
        finished_pods: true,
        ..Scope::default()
    };

    let evidence = collect(&ops, &scope).await;
    scenarios::set_node_fault(&ns.client, EVIDENCE_NODE, None)
        .await
        .unwrap();
    let node = evidence.node.as_ref().expect("node evidence");
    let state = known(&node.node, "the node");
    let pressure = state.conditions.iter().find(|c| c.kind == "DiskPressure");
    assert_eq!(
        pressure.map(|c| c.status.as_str()),
        Some("True"),
        "{state:?}"
    );
    for taint in [
        "node.kubernetes.io/disk-pressure:NoSchedule",
        "lab.robot-sre.dev/isolated:NoSchedule",
    ] {
        assert!(
            state.taints.iter().any(|t| t == taint),
            "{:?}",
            state.taints
        );
    }
    assert!(!state.unschedulable);
    let node_events = known(&node.events, "node events");
    assert!(
        node_events
            .iter()
            .any(|e| e.reason == "NodeHasDiskPressure"),
        "{node_events:?}"
    );
    let here = &node.namespaces[&ns.name];
    let pods_on_node = known(&here.pods, "pods on the node");
    let on_node: Vec<&str> = pods_on_node.iter().map(|p| p.pod.name.as_str()).collect();
    let evicted = pods_on_node.iter().find(|p| p.pod.name == "cache-warmer");
    assert_eq!(
        evicted.and_then(|p| p.pod.reason.as_deref()),
        Some("Evicted")
    );
    assert!(
        on_node.contains(&"cache-warmer") && on_node.contains(&"report-ok-0"),
        "{on_node:?}"
    );
    assert!(
        !on_node.iter().any(|p| p.starts_with("nightly")),
        "the job ran elsewhere"
    );
    let evictions = known(&here.evictions, "evictions");
    assert_eq!(
        evictions
            .iter()
            .map(|e| e.object.as_str())
            .collect::<Vec<_>>(),
        ["Pod/cache-warmer"]
    );
    assert!(
        node.not_looked_at.contains("were not looked at"),
        "{}",
        node.not_looked_at
    );

    let counted = known(
        evidence.namespace.as_ref().expect("namespace evidence"),
        "the namespace",
    );
    assert_eq!(counted.succeeded.count, 4);
    assert_eq!(counted.succeeded.by_owner[NO_OWNER], 3);
    assert_eq!(counted.succeeded.by_owner["Job/nightly"], 1);
    assert_eq!(
        counted.failed.count, 3,
        "two failed reports and the evicted pod"
    );
    assert_eq!(counted.failed.by_owner[NO_OWNER], 3);
    assert_eq!(counted.total, 7);

    let text = evidence.summary();
    for expected in [
        format!("Node {EVIDENCE_NODE}: DiskPressure=True"),
        "taints ".into(),
        format!("in {}: 6 pods (6 not ready), 1 eviction", ns.name),
        "node events: ".into(),
        format!("Namespace {}: 7 pods; 4 Succeeded", ns.name),
    ] {
        assert!(
            text.contains(&expected),
            "{expected:?} missing from:\n{text}"
        );
    }
}

#[tokio::test]
async fn node_evidence_is_unknown_and_says_forbidden_when_the_bot_may_not_read_nodes() {
    let ns = TestNamespace::create("ev-nonode").await;
    scenarios::healthy_deployment(&ns.client, &ns.name, "web", 1)
        .await
        .unwrap();
    let pods: Api<Pod> = ns.api();
    let web = pods
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .remove(0);
    let node_name = web.spec.and_then(|s| s.node_name).expect("a scheduled pod");
    let mut config = settings(&ns.name);
    config.actions.remove(&ActionKind::Cordon);
    config.actions.remove(&ActionKind::Uncordon);
    // An account of its own: the shared one may hold the node role from another test.
    let account = BotAccount {
        namespace: "robot-sre".into(),
        name: "robot-sre-no-nodes".into(),
    };
    let ops = bot_as(config, &account).await;
    let scope = Scope {
        namespace: namespace(&ns.name),
        node: name(&node_name),
        ..Scope::default()
    };

    let evidence = collect(&ops, &scope).await;
    let node = evidence.node.as_ref().expect("node evidence");
    let reason = node.node.reason().expect("the node is unknown");
    assert!(reason.starts_with("forbidden: get on Node/"), "{reason}");
    let events = node.events.reason().expect("node events are unknown");
    assert!(events.starts_with("forbidden: "), "{events}");
    // The namespaced part is still read: one forbidden read does not hide the rest.
    let here = known(&node.namespaces[&ns.name].pods, "pods on the node");
    assert_eq!(here.len(), 1);
    assert_eq!(here[0].pod.name, web.metadata.name.unwrap_or_default());
    let json = serde_json::to_value(&evidence).unwrap();
    assert!(
        json["node"]["node"]["unknown"]
            .as_str()
            .is_some_and(|r| r.starts_with("forbidden: ")),
        "{json}"
    );
    let text = evidence.summary();
    assert!(
        text.contains(&format!("Node {node_name}: unknown (forbidden: ")),
        "{text}"
    );
}

#[tokio::test]
async fn workload_and_namespace_evidence_say_why_when_forbidden_missing_or_unsupported() {
    let allowed = TestNamespace::create("ev-allowed").await;
    let foreign = TestNamespace::create("ev-foreign").await;
    scenarios::healthy_deployment(&foreign.client, &foreign.name, "ledger", 1)
        .await
        .unwrap();
    let ops = bot_with(settings(&allowed.name)).await;

    let outside = Scope {
        namespace: namespace(&foreign.name),
        workload: workload("Deployment", "ledger"),
        finished_pods: true,
        ..Scope::default()
    };
    let evidence = collect(&ops, &outside).await;
    for reason in [
        evidence.workload.as_ref().and_then(Collected::reason),
        evidence.namespace.as_ref().and_then(Collected::reason),
    ] {
        let reason = reason.expect("unknown");
        assert!(reason.starts_with("forbidden: "), "{reason}");
        assert!(reason.contains(&foreign.name), "{reason}");
    }

    let missing = Scope {
        namespace: namespace(&allowed.name),
        workload: workload("Deployment", "ghost"),
        ..Scope::default()
    };
    let evidence = collect(&ops, &missing).await;
    let reason = evidence.workload.as_ref().and_then(Collected::reason);
    assert_eq!(
        reason,
        Some(format!("not found: {}/Deployment/ghost", allowed.name).as_str())
    );

    let stateful = Scope {
        namespace: namespace(&allowed.name),
        workload: workload("StatefulSet", "db"),
        ..Scope::default()
    };
    let evidence = collect(&ops, &stateful).await;
    let reason = evidence.workload.as_ref().and_then(Collected::reason);
    assert_eq!(
        reason,
        Some("StatefulSet db: evidence is collected for Deployments only")
    );
    assert!(evidence.summary().contains("StatefulSet db: unknown"));
}
