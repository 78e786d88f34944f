//! Simulated nodes: registration as a kubelet does it, and the node faults (conditions, taints,
//! events and a disk-pressure eviction) that kubelet and the node lifecycle controller produce.

use std::sync::Arc;

use k8s_openapi::api::core::v1::{Node, ObjectReference, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{ListParams, Patch, PatchParams, PostParams};
use kube::runtime::controller::Action;
use kube::{Api, ResourceExt};
use serde_json::{Value, json};

use super::events::Subject;
use super::faults::{self, NodeFault};
use super::{Kubelet, KubeletError};

/// Taint keys the simulation manages; any other taint on a node is left alone.
const MANAGED_TAINTS: [&str; 3] = [
    "node.kubernetes.io/not-ready",
    "node.kubernetes.io/unreachable",
    "node.kubernetes.io/disk-pressure",
];

/// The node's address (and every pod's hostIP on it).
pub fn internal_ip(node_index: usize) -> String {
    format!("172.18.0.{}", node_index + 2)
}

fn now() -> String {
    super::now_seconds().to_string()
}

/// Creates (or adopts) the node and makes it Ready and schedulable.
pub async fn register(
    client: &kube::Client,
    name: &str,
    index: usize,
    isolated: bool,
) -> Result<(), KubeletError> {
    let api: Api<Node> = Api::all(client.clone());
    let node = Node {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            labels: Some(
                [
                    ("kubernetes.io/hostname", name),
                    ("kubernetes.io/os", "linux"),
                    ("kubernetes.io/arch", "amd64"),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            ),
            ..ObjectMeta::default()
        },
        ..Node::default()
    };
    match api.create(&PostParams::default(), &node).await {
        Ok(_) => {}
        Err(kube::Error::Api(status)) if status.code == 409 => {}
        Err(error) => return Err(error.into()),
    }
    let capacity = json!({
        "cpu": "4", "memory": "8Gi", "pods": "110", "ephemeral-storage": "50Gi",
    });
    let status = json!({ "status": {
        "capacity": capacity,
        "allocatable": capacity,
        "conditions": conditions(None, &now(), None),
        "addresses": [
            { "type": "InternalIP", "address": internal_ip(index) },
            { "type": "Hostname", "address": name },
        ],
        "daemonEndpoints": { "kubeletEndpoint": { "Port": 10250 } },
        "nodeInfo": {
            "machineID": "", "systemUUID": "", "bootID": "",
            "kernelVersion": "6.1.0", "osImage": "Debian GNU/Linux 12 (bookworm)",
            "containerRuntimeVersion": "containerd://1.6.20", "kubeletVersion": "v1.20.2",
            "kubeProxyVersion": "v1.20.2", "operatingSystem": "linux", "architecture": "amd64",
        },
    }});
    api.patch_status(name, &PatchParams::default(), &Patch::Merge(status))
        .await?;
    // The TaintNodesByCondition admission plugin taints a new node not-ready until its kubelet
    // reports Ready; with Ready reported, the taint goes.
    let current = api.get(name).await?;
    let mut taints = taints(&current, None);
    if isolated && !taints.iter().any(|t| t["key"] == super::ISOLATED_TAINT) {
        taints.push(json!({ "key": super::ISOLATED_TAINT, "effect": "NoSchedule" }));
    }
    api.patch(
        name,
        &PatchParams::default(),
        &Patch::Merge(json!({ "spec": { "taints": taints } })),
    )
    .await?;
    Ok(())
}

/// The four kubelet conditions for a node with `fault`. A condition whose status is unchanged
/// from `current` keeps its lastTransitionTime.
fn conditions(fault: Option<NodeFault>, now: &str, current: Option<&Node>) -> Vec<Value> {
    let unknown = fault == Some(NodeFault::Unreachable);
    let since = |kind: &str, status: &str| -> String {
        current
            .and_then(|node| node.status.as_ref()?.conditions.as_ref())
            .and_then(|all| all.iter().find(|c| c.type_ == kind && c.status == status))
            .and_then(|c| c.last_transition_time.as_ref())
            .map_or_else(|| now.to_owned(), |t| t.0.to_string())
    };
    let entry = |kind: &str, status: &str, reason: &str, message: &str| {
        json!({
            "type": kind, "status": status, "reason": reason, "message": message,
            "lastHeartbeatTime": now, "lastTransitionTime": since(kind, status),
        })
    };
    let lost = |kind| {
        entry(
            kind,
            "Unknown",
            "NodeStatusUnknown",
            "Kubelet stopped posting node status.",
        )
    };
    if unknown {
        return ["MemoryPressure", "DiskPressure", "PIDPressure", "Ready"]
            .into_iter()
            .map(lost)
            .collect();
    }
    let disk = if fault == Some(NodeFault::DiskPressure) {
        entry(
            "DiskPressure",
            "True",
            "KubeletHasDiskPressure",
            "kubelet has disk pressure",
        )
    } else {
        entry(
            "DiskPressure",
            "False",
            "KubeletHasNoDiskPressure",
            "kubelet has no disk pressure",
        )
    };
    let ready = if fault == Some(NodeFault::NotReady) {
        entry(
            "Ready",
            "False",
            "KubeletNotReady",
            "container runtime status check may not have completed yet, runtime network not ready",
        )
    } else {
        entry(
            "Ready",
            "True",
            "KubeletReady",
            "kubelet is posting ready status",
        )
    };
    vec![
        entry(
            "MemoryPressure",
            "False",
            "KubeletHasSufficientMemory",
            "kubelet has sufficient memory available",
        ),
        disk,
        entry(
            "PIDPressure",
            "False",
            "KubeletHasSufficientPID",
            "kubelet has sufficient PID available",
        ),
        ready,
    ]
}

/// The node's taints with the managed ones replaced by those `fault` implies.
fn taints(node: &Node, fault: Option<NodeFault>) -> Vec<Value> {
    let mut taints: Vec<Value> = node
        .spec
        .as_ref()
        .and_then(|spec| spec.taints.as_ref())
        .into_iter()
        .flatten()
        .filter(|taint| !MANAGED_TAINTS.contains(&taint.key.as_str()))
        .map(|taint| serde_json::to_value(taint).unwrap_or(Value::Null))
        .collect();
    let now = now();
    let mut add = |key: &str, effect: &str| {
        let mut taint = json!({ "key": key, "effect": effect });
        if effect == "NoExecute" {
            taint["timeAdded"] = json!(now);
        }
        taints.push(taint);
    };
    match fault {
        None => {}
        Some(NodeFault::DiskPressure) => add(MANAGED_TAINTS[2], "NoSchedule"),
        Some(NodeFault::NotReady) => {
            add(MANAGED_TAINTS[0], "NoSchedule");
            add(MANAGED_TAINTS[0], "NoExecute");
        }
        Some(NodeFault::Unreachable) => {
            add(MANAGED_TAINTS[1], "NoSchedule");
            add(MANAGED_TAINTS[1], "NoExecute");
        }
    }
    taints
}

/// The (key, effect) pairs among `taints` that the simulation manages, sorted.
fn managed(taints: impl Iterator<Item = (String, String)>) -> Vec<(String, String)> {
    let mut keys: Vec<(String, String)> = taints
        .filter(|(key, _)| MANAGED_TAINTS.contains(&key.as_str()))
        .collect();
    keys.sort();
    keys
}

fn condition_statuses(conditions: &[Value]) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = conditions
        .iter()
        .map(|c| {
            (
                c["type"].as_str().unwrap_or_default().to_owned(),
                c["status"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    pairs.sort();
    pairs
}

/// Brings one node's conditions and taints in line with its fault annotation.
pub async fn reconcile(node: Arc<Node>, kubelet: Arc<Kubelet>) -> Result<Action, KubeletError> {
    let name = node.name_any();
    if kubelet.node_index(&name).is_none() {
        return Ok(Action::await_change());
    }
    let fault = match NodeFault::parse(
        node.annotations()
            .get(faults::NODE_FAULT)
            .map(String::as_str),
    ) {
        Ok(fault) => fault,
        Err(problem) => {
            kubelet.journal.line(format_args!("node {name}: {problem}"));
            kubelet
                .recorder
                .emit(
                    &node_subject(&name, "kubelet"),
                    true,
                    "InvalidLabFault",
                    &problem,
                )
                .await?;
            return Ok(Action::await_change());
        }
    };
    let previous = kubelet.node_fault(&name).await;
    if previous != Some(fault) {
        kubelet.journal.line(format_args!(
            "node {name}: {}",
            fault.map_or("healthy", NodeFault::as_str)
        ));
        // Events first, so whoever sees the new conditions also finds the events.
        announce(&kubelet, &name, previous.flatten(), fault).await?;
    }
    let api: Api<Node> = Api::all(kubelet.client.clone());
    let desired = conditions(fault, &now(), Some(&node));
    let current: Vec<Value> = node
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .into_iter()
        .flatten()
        .map(|c| json!({ "type": c.type_, "status": c.status }))
        .collect();
    if condition_statuses(&current) != condition_statuses(&desired) {
        api.patch_status(
            &name,
            &PatchParams::default(),
            &Patch::Merge(json!({ "status": { "conditions": desired } })),
        )
        .await?;
    }
    let wanted = taints(&node, fault);
    let wanted_keys = managed(wanted.iter().map(|t| {
        (
            t["key"].as_str().unwrap_or_default().to_owned(),
            t["effect"].as_str().unwrap_or_default().to_owned(),
        )
    }));
    let current_keys = managed(
        node.spec
            .as_ref()
            .and_then(|spec| spec.taints.as_ref())
            .into_iter()
            .flatten()
            .map(|taint| (taint.key.clone(), taint.effect.clone())),
    );
    if current_keys != wanted_keys {
        api.patch(
            &name,
            &PatchParams::default(),
            &Patch::Merge(json!({ "spec": { "taints": wanted } })),
        )
        .await?;
    }

    if previous != Some(fault) && fault == Some(NodeFault::DiskPressure) {
        evict_one(&kubelet, &name).await?;
    }
    // Last, so a failed step above is retried in full.
    kubelet.set_node_fault(&name, fault).await;
    Ok(Action::await_change())
}

fn node_subject(name: &str, component: &'static str) -> Subject {
    Subject {
        // kubelet names its node by name and uses the name as the UID in its events.
        reference: ObjectReference {
            kind: Some("Node".into()),
            name: Some(name.to_owned()),
            uid: Some(name.to_owned()),
            ..ObjectReference::default()
        },
        host: name.to_owned(),
        component,
    }
}

/// The "status is now" events kubelet records when a condition changes.
async fn announce(
    kubelet: &Kubelet,
    name: &str,
    before: Option<NodeFault>,
    after: Option<NodeFault>,
) -> Result<(), KubeletError> {
    let say = |reason: &str| format!("Node {name} status is now: {reason}");
    let mut emit = Vec::new();
    match after {
        Some(NodeFault::DiskPressure) => {
            emit.push((false, "NodeHasDiskPressure", say("NodeHasDiskPressure")));
            emit.push((
                true,
                "EvictionThresholdMet",
                "Attempting to reclaim ephemeral-storage".to_owned(),
            ));
        }
        Some(NodeFault::NotReady) => emit.push((false, "NodeNotReady", say("NodeNotReady"))),
        // A silent kubelet says nothing: the node lifecycle controller concludes it.
        Some(NodeFault::Unreachable) => emit.push((false, "NodeNotReady", say("NodeNotReady"))),
        None => {}
    }
    match before {
        Some(NodeFault::DiskPressure) if after != Some(NodeFault::DiskPressure) => {
            emit.push((false, "NodeHasNoDiskPressure", say("NodeHasNoDiskPressure")));
        }
        Some(NodeFault::NotReady | NodeFault::Unreachable)
            if after.is_none() || after == Some(NodeFault::DiskPressure) =>
        {
            emit.push((false, "NodeReady", say("NodeReady")));
        }
        _ => {}
    }
    let reporter = if after == Some(NodeFault::Unreachable) {
        "node-controller"
    } else {
        "kubelet"
    };
    let subject = node_subject(name, reporter);
    for (warning, reason, message) in emit {
        kubelet
            .recorder
            .emit(&subject, warning, reason, &message)
            .await?;
    }
    Ok(())
}

/// Evicts one running BestEffort pod from the node, as kubelet's eviction manager does when
/// ephemeral storage runs out (it ranks BestEffort pods first).
async fn evict_one(kubelet: &Kubelet, node: &str) -> Result<(), KubeletError> {
    let pods: Api<Pod> = Api::all(kubelet.client.clone());
    let on_node = pods
        .list(&ListParams::default().fields(&format!("spec.nodeName={node},status.phase=Running")))
        .await?;
    let mut candidates: Vec<&Pod> = on_node
        .items
        .iter()
        .filter(|pod| pod.metadata.deletion_timestamp.is_none())
        .filter(|pod| {
            pod.status.as_ref().and_then(|s| s.qos_class.as_deref()) == Some("BestEffort")
        })
        .collect();
    candidates.sort_by_key(|pod| (pod.namespace(), pod.name_any()));
    let Some(pod) = candidates.first() else {
        return Ok(());
    };
    let container = pod
        .spec
        .as_ref()
        .and_then(|spec| spec.containers.first())
        .map_or("app", |c| c.name.as_str());
    let message = format!(
        "The node was low on resource: ephemeral-storage. Container {container} was using 1Gi, which exceeds its request of 0. "
    );
    // Events first, so whoever sees the eviction also finds its event.
    let subject = super::pods::subject(pod, node, None);
    kubelet
        .recorder
        .emit(&subject, true, "Evicted", &message)
        .await?;
    let api: Api<Pod> =
        Api::namespaced(kubelet.client.clone(), &pod.namespace().unwrap_or_default());
    let patch = json!({
        "metadata": { "resourceVersion": pod.resource_version() },
        "status": evicted_status(pod, &message),
    });
    api.patch_status(
        &pod.name_any(),
        &PatchParams::default(),
        &Patch::Merge(patch),
    )
    .await?;
    kubelet.journal.line(format_args!(
        "evicted pod {}/{} from {node}",
        pod.namespace().unwrap_or_default(),
        pod.name_any()
    ));
    Ok(())
}

/// The status of a pod whose containers the eviction manager killed: Failed, `Evicted`, every
/// container terminated (137) and not ready.
fn evicted_status(pod: &Pod, message: &str) -> Value {
    let now = now();
    let status = pod.status.clone().unwrap_or_default();
    let mut unready = Vec::new();
    let containers: Vec<Value> = status
        .container_statuses
        .unwrap_or_default()
        .into_iter()
        .map(|container| {
            unready.push(container.name.clone());
            let started = container
                .state
                .as_ref()
                .and_then(|state| state.running.as_ref())
                .and_then(|running| running.started_at.as_ref())
                .map_or_else(|| now.clone(), |t| t.0.to_string());
            let mut value = serde_json::to_value(&container).unwrap_or(Value::Null);
            value["ready"] = json!(false);
            value["started"] = json!(false);
            value["state"] = json!({ "terminated": {
                "exitCode": 137, "reason": "Error", "startedAt": started, "finishedAt": now,
                "containerID": container.container_id,
            }});
            value
        })
        .collect();
    let not_ready = format!("containers with unready status: [{}]", unready.join(" "));
    let conditions: Vec<Value> = status
        .conditions
        .unwrap_or_default()
        .into_iter()
        .map(|condition| {
            let mut value = serde_json::to_value(&condition).unwrap_or(Value::Null);
            if matches!(condition.type_.as_str(), "Ready" | "ContainersReady") {
                value["status"] = json!("False");
                value["reason"] = json!("ContainersNotReady");
                value["message"] = json!(not_ready);
                value["lastTransitionTime"] = json!(now);
            }
            value
        })
        .collect();
    json!({
        "phase": "Failed",
        "reason": "Evicted",
        "message": message,
        "conditions": conditions,
        "containerStatuses": containers,
    })
}
