//! Simulated nodes register like kubelets, and node faults show the conditions, taints and
//! events of the Kubernetes documentation ("Node status", "Taints and Tolerations": taints by
//! condition, "Node-pressure Eviction").

use std::time::Duration;

use k8s_openapi::api::core::v1::{Node, Pod};
use kube::Api;
use kube::api::{ListParams, PostParams};
use robot_sre::testkit::lab::kubelet::NodeFault;
use robot_sre::testkit::lab::scenarios::{
    self, SCENARIO_DEADLINE, node_condition, pod_on_node, set_node_fault, wait_for,
};
use robot_sre::testkit::lab::{Identity, isolated_node_name, node_name};
use robot_sre::testkit::process::poll_until;

use crate::helpers::{
    DISK_PRESSURE_NODE, NOT_READY_NODE, TestNamespace, UNREACHABLE_NODE, client, events_about, find,
};

fn taints(node: &Node) -> Vec<(String, String)> {
    let mut taints: Vec<(String, String)> = node
        .spec
        .as_ref()
        .and_then(|s| s.taints.clone())
        .unwrap_or_default()
        .into_iter()
        .map(|t| (t.key, t.effect))
        .collect();
    taints.sort();
    taints
}

fn reason<'a>(node: &'a Node, kind: &str) -> Option<&'a str> {
    node.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == kind)?
        .reason
        .as_deref()
}

fn pair(key: &str, effect: &str) -> (String, String) {
    (key.to_owned(), effect.to_owned())
}

#[tokio::test]
async fn nodes_register_ready_schedulable_and_with_capacity() {
    crate::helpers::lab();
    let nodes: Api<Node> = Api::all(client(Identity::Admin).await);
    let all = nodes.list(&ListParams::default()).await.unwrap().items;
    let names: Vec<String> = all
        .iter()
        .map(|n| n.metadata.name.clone().unwrap())
        .collect();
    for expected in [node_name(1), node_name(2), isolated_node_name(1)] {
        assert!(names.contains(&expected), "{names:?}");
    }
    let ordinary = nodes.get(&node_name(1)).await.unwrap();
    assert_eq!(node_condition(&ordinary, "Ready"), Some("True"));
    assert_eq!(reason(&ordinary, "Ready"), Some("KubeletReady"));
    for kind in ["MemoryPressure", "DiskPressure", "PIDPressure"] {
        assert_eq!(node_condition(&ordinary, kind), Some("False"), "{kind}");
    }
    assert!(
        taints(&ordinary).is_empty(),
        "the not-ready taint is removed: {:?}",
        taints(&ordinary)
    );
    let capacity = ordinary.status.as_ref().unwrap().capacity.as_ref().unwrap();
    for resource in ["cpu", "memory", "pods", "ephemeral-storage"] {
        assert!(capacity.contains_key(resource), "{resource}");
    }
    // (Other tests break isolated nodes meanwhile, so only the isolation taint is checked.)
    let isolated = nodes.get(&isolated_node_name(1)).await.unwrap();
    assert!(
        taints(&isolated).contains(&pair("lab.robot-sre.dev/isolated", "NoSchedule")),
        "{:?}",
        taints(&isolated)
    );
}

#[tokio::test]
async fn disk_pressure_taints_the_node_evicts_a_best_effort_pod_and_heals() {
    let ns = TestNamespace::create("disk").await;
    let pressure = scenarios::disk_pressure(&ns.client, &ns.name, DISK_PRESSURE_NODE, 3, 2)
        .await
        .unwrap();

    assert_eq!(
        reason(&pressure.node, "DiskPressure"),
        Some("KubeletHasDiskPressure")
    );
    assert_eq!(node_condition(&pressure.node, "Ready"), Some("True"));
    let nodes: Api<Node> = Api::all(ns.client.clone());
    let node = wait_for(
        &nodes,
        DISK_PRESSURE_NODE,
        "the disk-pressure taint",
        SCENARIO_DEADLINE,
        |n| taints(n).contains(&pair("node.kubernetes.io/disk-pressure", "NoSchedule")),
    )
    .await
    .unwrap();
    assert!(
        taints(&node).contains(&pair("lab.robot-sre.dev/isolated", "NoSchedule")),
        "other taints are kept"
    );

    let phases: Vec<&str> = pressure
        .finished
        .iter()
        .map(|p| p.status.as_ref().unwrap().phase.as_deref().unwrap())
        .collect();
    assert_eq!(phases.iter().filter(|p| **p == "Succeeded").count(), 3);
    assert_eq!(phases.iter().filter(|p| **p == "Failed").count(), 2);

    let evicted = pressure.evicted.status.as_ref().unwrap();
    assert_eq!(evicted.phase.as_deref(), Some("Failed"));
    assert!(
        evicted
            .message
            .as_deref()
            .unwrap()
            .starts_with("The node was low on resource: ephemeral-storage.")
    );
    let eviction = poll_until(SCENARIO_DEADLINE, Duration::from_millis(100), || async {
        find(&ns.events_for("cache-warmer").await, "Evicted").cloned()
    })
    .await
    .expect("an Evicted event");
    assert_eq!(eviction.type_.as_deref(), Some("Warning"));

    let node_events = events_about(&ns.client, "default", DISK_PRESSURE_NODE).await;
    let announced = find(&node_events, "NodeHasDiskPressure").expect("NodeHasDiskPressure");
    assert_eq!(
        announced.message.as_deref(),
        Some(format!("Node {DISK_PRESSURE_NODE} status is now: NodeHasDiskPressure").as_str())
    );
    assert_eq!(announced.involved_object.kind.as_deref(), Some("Node"));
    assert_eq!(
        find(&node_events, "EvictionThresholdMet")
            .unwrap()
            .type_
            .as_deref(),
        Some("Warning")
    );

    set_node_fault(&ns.client, DISK_PRESSURE_NODE, None)
        .await
        .unwrap();
    let healed = wait_for(
        &nodes,
        DISK_PRESSURE_NODE,
        "no disk pressure",
        SCENARIO_DEADLINE,
        |n| {
            node_condition(n, "DiskPressure") == Some("False")
                && !taints(n).contains(&pair("node.kubernetes.io/disk-pressure", "NoSchedule"))
        },
    )
    .await
    .unwrap();
    assert_eq!(
        reason(&healed, "DiskPressure"),
        Some("KubeletHasNoDiskPressure")
    );
    let node_events = events_about(&ns.client, "default", DISK_PRESSURE_NODE).await;
    assert!(find(&node_events, "NodeHasNoDiskPressure").is_some());
}

#[tokio::test]
async fn a_not_ready_node_is_tainted_and_runs_nothing_until_it_heals() {
    let ns = TestNamespace::create("notready").await;
    let nodes: Api<Node> = Api::all(ns.client.clone());
    set_node_fault(&ns.client, NOT_READY_NODE, Some(NodeFault::NotReady))
        .await
        .unwrap();
    let node = wait_for(
        &nodes,
        NOT_READY_NODE,
        "Ready=False",
        SCENARIO_DEADLINE,
        |n| node_condition(n, "Ready") == Some("False") && taints(n).len() == 3,
    )
    .await
    .unwrap();
    assert_eq!(reason(&node, "Ready"), Some("KubeletNotReady"));
    assert_eq!(
        taints(&node),
        [
            pair("lab.robot-sre.dev/isolated", "NoSchedule"),
            pair("node.kubernetes.io/not-ready", "NoExecute"),
            pair("node.kubernetes.io/not-ready", "NoSchedule"),
        ]
    );
    let events = events_about(&ns.client, "default", NOT_READY_NODE).await;
    assert!(find(&events, "NodeNotReady").is_some());

    // A pod bound to the node is not run while the node is NotReady: a pod created after it
    // on a healthy node runs, so the kubelet has seen both…
    let pods = ns.api::<Pod>();
    for (name, node) in [("stranded", NOT_READY_NODE), ("witness", "lab-node-1")] {
        pods.create(
            &PostParams::default(),
            &pod_on_node(name, node, None, "Always"),
        )
        .await
        .unwrap();
    }
    wait_for(&pods, "witness", "Running", SCENARIO_DEADLINE, |p| {
        p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running")
    })
    .await
    .unwrap();
    let stranded = pods.get("stranded").await.unwrap();
    assert!(
        stranded
            .status
            .as_ref()
            .and_then(|s| s.container_statuses.as_ref())
            .is_none(),
        "{stranded:?}"
    );
    assert!(ns.events_for("stranded").await.is_empty());
    // …and runs once the node is Ready again.
    set_node_fault(&ns.client, NOT_READY_NODE, None)
        .await
        .unwrap();
    wait_for(&pods, "stranded", "Running", SCENARIO_DEADLINE, |p| {
        p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running")
    })
    .await
    .unwrap();
    let node = nodes.get(NOT_READY_NODE).await.unwrap();
    assert_eq!(node_condition(&node, "Ready"), Some("True"));
    assert_eq!(
        taints(&node),
        [pair("lab.robot-sre.dev/isolated", "NoSchedule")]
    );
}

#[tokio::test]
async fn an_unreachable_node_reports_every_condition_unknown() {
    let ns = TestNamespace::create("unreachable").await;
    let nodes: Api<Node> = Api::all(ns.client.clone());
    set_node_fault(&ns.client, UNREACHABLE_NODE, Some(NodeFault::Unreachable))
        .await
        .unwrap();
    let node = wait_for(
        &nodes,
        UNREACHABLE_NODE,
        "Ready=Unknown",
        SCENARIO_DEADLINE,
        |n| node_condition(n, "Ready") == Some("Unknown") && taints(n).len() == 3,
    )
    .await
    .unwrap();
    for kind in ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"] {
        assert_eq!(node_condition(&node, kind), Some("Unknown"), "{kind}");
        assert_eq!(reason(&node, kind), Some("NodeStatusUnknown"), "{kind}");
    }
    assert!(taints(&node).contains(&pair("node.kubernetes.io/unreachable", "NoExecute")));
    assert!(taints(&node).contains(&pair("node.kubernetes.io/unreachable", "NoSchedule")));
    let events = events_about(&ns.client, "default", UNREACHABLE_NODE).await;
    let not_ready = find(&events, "NodeNotReady").expect("NodeNotReady");
    assert_eq!(
        not_ready.source.as_ref().unwrap().component.as_deref(),
        Some("node-controller"),
        "a silent kubelet reports nothing; the control plane does"
    );

    set_node_fault(&ns.client, UNREACHABLE_NODE, None)
        .await
        .unwrap();
    let healed = wait_for(
        &nodes,
        UNREACHABLE_NODE,
        "Ready=True",
        SCENARIO_DEADLINE,
        |n| node_condition(n, "Ready") == Some("True"),
    )
    .await
    .unwrap();
    assert_eq!(
        taints(&healed),
        [pair("lab.robot-sre.dev/isolated", "NoSchedule")]
    );
    let events = events_about(&ns.client, "default", UNREACHABLE_NODE).await;
    assert!(find(&events, "NodeReady").is_some());
}
