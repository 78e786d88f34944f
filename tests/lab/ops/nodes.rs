//! Node-level incidents: a disk-pressure backlog cleaned up, and a node cordoned and
//! uncordoned, each verified.

use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{ListParams, Patch, PatchParams};
use kube::{Api, ResourceExt};
use robot_sre::domain::ActionKind;
use robot_sre::ops::packet::{self, Status};
use robot_sre::ops::summary;
use robot_sre::testkit::lab::scenarios;
use serde_json::json;

use super::{approve_and_verify, approved, bot_with, request, settings};
use crate::helpers::{CLEANUP_NODE, CORDON_NODE, TestNamespace, client, events_about, find};

#[tokio::test]
async fn cleanup_after_disk_pressure_deletes_only_finished_pods_up_to_the_cap() {
    let ns = TestNamespace::create("ops-cleanup").await;
    scenarios::healthy_deployment(&ns.client, &ns.name, "frontend", 1)
        .await
        .unwrap();
    let pressure = scenarios::disk_pressure(&ns.client, &ns.name, CLEANUP_NODE, 3, 2)
        .await
        .unwrap();
    scenarios::set_node_fault(&ns.client, CLEANUP_NODE, None)
        .await
        .unwrap();
    let pods: Api<Pod> = ns.api();
    let running_before: Vec<Pod> = pods
        .list(&ListParams::default().labels("app=frontend"))
        .await
        .unwrap()
        .items;
    let finished = pressure.finished.len() + 1; // the backlog and the evicted pod
    let mut config = settings(&ns.name);
    config.cleanup_max_pods = 4;
    let ops = bot_with(config).await;
    let req = request(ActionKind::Cleanup, &ns.name, None);

    let proposal = ops.propose(&req).await.unwrap();
    assert!(proposal.offerable(), "{:?}", proposal.refusals);
    assert!(
        proposal
            .summary
            .contains(&format!("{} more wait", finished - 4)),
        "{}",
        proposal.summary
    );
    let done = ops
        .execute(&req, &approved(&proposal.fingerprint))
        .await
        .unwrap();
    assert_eq!(done.status, Status::Verified, "{}", packet::readable(&done));
    assert_eq!(done.applied.len(), 4);

    let left = pods.list(&ListParams::default()).await.unwrap().items;
    let finished_left = left
        .iter()
        .filter(|p| matches!(summary::phase(p), "Succeeded" | "Failed"))
        .count();
    assert_eq!(finished_left, finished - 4);
    for pod in &running_before {
        let live = pods.get(&pod.name_any()).await.unwrap();
        assert_eq!(
            live.metadata.uid, pod.metadata.uid,
            "running pods are never touched"
        );
    }
}

#[tokio::test]
async fn cordon_and_uncordon_set_the_flag_and_are_verified() {
    let ns = TestNamespace::create("ops-cordon").await;
    let admin = client(robot_sre::testkit::lab::Identity::Admin).await;
    let nodes: Api<Node> = Api::all(admin.clone());
    let label = json!({ "metadata": { "labels": { "robot-sre.io/enabled": "true" } } });
    nodes
        .patch(CORDON_NODE, &PatchParams::default(), &Patch::Merge(label))
        .await
        .unwrap();
    let ops = bot_with(settings(&ns.name)).await;

    for (kind, expected) in [(ActionKind::Cordon, true), (ActionKind::Uncordon, false)] {
        let req = request(kind, CORDON_NODE, None);
        approve_and_verify(&ops, &req).await;
        assert_eq!(
            summary::unschedulable(&nodes.get(CORDON_NODE).await.unwrap()),
            expected
        );
    }
    let events = events_about(&admin, "default", CORDON_NODE).await;
    assert!(find(&events, "RobotSRECordonApplied").is_some());
    assert!(find(&events, "RobotSREUncordonVerified").is_some());
}
