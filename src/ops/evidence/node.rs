//! Node evidence: the node's conditions, taints and capacity, its Events, and what runs on it —
//! looked for only in the namespaces the bot may read, and saying so.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Event, Node, Pod};
use k8s_openapi::jiff::Timestamp;
use kube::Api;
use kube::api::ListParams;
use serde::{Deserialize, Serialize};

use super::Collected;
use super::events::{self, EventEntry};
use super::text::{counted, events_line};
use super::workload::PodEntry;
use crate::domain::Namespace;
use crate::ops::cluster::Cluster;
use crate::ops::state::{Condition, NodeState};

/// What the bot saw of one node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeEvidence {
    pub name: String,
    /// Unknown with "forbidden" when the bot's RBAC grants no read on nodes (cordon disabled).
    pub node: Collected<NodeState>,
    /// Events about the node (recorded in `default`), newest first, capped.
    pub events: Collected<Vec<EventEntry>>,
    /// Per namespace the bot may read: the pods on this node and the evictions from it.
    pub namespaces: BTreeMap<String, NamespaceOnNode>,
    /// Which namespaces were not looked at, in words.
    pub not_looked_at: String,
}

/// Pods on the node in one namespace, and the evictions kubelet recorded there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamespaceOnNode {
    pub pods: Collected<Vec<PodEntry>>,
    pub evictions: Collected<Vec<EventEntry>>,
}

/// The note on scope: the bot may not list pods cluster-wide, so silence elsewhere means
/// nothing.
pub fn not_looked_at(namespaces: &[Namespace]) -> String {
    if namespaces.is_empty() {
        return "no namespace was looked at: the bot may read none".into();
    }
    let names: Vec<&str> = namespaces.iter().map(Namespace::as_str).collect();
    format!(
        "namespaces other than {} were not looked at: the bot may not read them",
        names.join(", ")
    )
}

/// Evidence for node `name`, its pods and evictions looked for in `namespaces`.
pub async fn collect(cluster: &Cluster, namespaces: &[Namespace], name: &str) -> NodeEvidence {
    let nodes: Api<Node> = Api::all(cluster.client().clone());
    let node = async {
        let object = format!("Node/{name}");
        let read = cluster.call("get", &object, nodes.get(name)).await;
        Collected::from(read).map(|node| NodeState::of(&node))
    };
    // Kubelets and the node controller record node Events in `default`.
    let fields = format!("involvedObject.kind=Node,involvedObject.name={name}");
    let node_events = events::list(cluster, "default", &fields);
    let per_namespace = futures::future::join_all(
        namespaces
            .iter()
            .map(|namespace| on_node(cluster, namespace.as_str(), name)),
    );
    let (node, node_events, per_namespace) = futures::join!(node, node_events, per_namespace);
    NodeEvidence {
        name: name.to_owned(),
        node,
        events: Collected::from(node_events).map(|all| events::newest(&all, |_| true)),
        namespaces: namespaces
            .iter()
            .map(|n| n.as_str().to_owned())
            .zip(per_namespace)
            .collect(),
        not_looked_at: not_looked_at(namespaces),
    }
}

async fn on_node(cluster: &Cluster, namespace: &str, node: &str) -> NamespaceOnNode {
    let api: Api<Pod> = Api::namespaced(cluster.client().clone(), namespace);
    let params = ListParams::default().fields(&format!("spec.nodeName={node}"));
    let pods = cluster.call("list pods", namespace, api.list(&params));
    let evictions = events::list(cluster, namespace, "reason=Evicted");
    let (pods, evictions) = futures::join!(pods, evictions);
    let pods = Collected::from(pods).map(|list| list.items);
    let evictions = Collected::from(evictions)
        .map(|all| events::newest(&all, |event| evicted_from(event, node, &pods)));
    let now = Timestamp::now();
    NamespaceOnNode {
        pods: pods.map(|pods| pods.iter().map(|p| PodEntry::of(p, now)).collect()),
        evictions,
    }
}

/// Whether an `Evicted` event is this node's: kubelet names its node as the event's source
/// host; failing that, the evicted pod is still listed on the node.
fn evicted_from(event: &Event, node: &str, pods: &Collected<Vec<Pod>>) -> bool {
    let host = event.source.as_ref().and_then(|s| s.host.as_deref());
    if let Some(host) = host {
        return host == node;
    }
    let name = event.involved_object.name.as_deref();
    let pods = pods.known().map(Vec::as_slice).unwrap_or_default();
    pods.iter().any(|pod| pod.metadata.name.as_deref() == name)
}

impl NodeEvidence {
    /// The node's lines of the text summary: its state, what runs on it, its events.
    pub fn summary_lines(&self) -> Vec<String> {
        let head = match &self.node {
            Collected::Known(state) => format!("Node {}: {}", self.name, node_state(state)),
            Collected::Unknown { reason } => format!("Node {}: unknown ({reason})", self.name),
        };
        let mut seen = Vec::new();
        for (namespace, on_node) in &self.namespaces {
            let pods = match &on_node.pods {
                Collected::Known(pods) => {
                    let not_ready = pods.iter().filter(|p| !p.pod.ready).count();
                    format!("{} ({not_ready} not ready)", counted(pods.len(), "pod"))
                }
                Collected::Unknown { reason } => format!("pods unknown ({reason})"),
            };
            let evictions = match &on_node.evictions {
                Collected::Known(evictions) => counted(evictions.len(), "eviction"),
                Collected::Unknown { reason } => format!("evictions unknown ({reason})"),
            };
            seen.push(format!("in {namespace}: {pods}, {evictions}"));
        }
        seen.push(self.not_looked_at.clone());
        vec![
            head,
            seen.join("; "),
            events_line("node events", &self.events),
        ]
    }
}

/// Ready, plus every other condition that is not `False` (pressure, unavailable network, …).
fn node_state(state: &NodeState) -> String {
    let mut parts: Vec<String> = state
        .conditions
        .iter()
        .filter(|c| c.kind == "Ready" || c.status != "False")
        .map(condition_text)
        .collect();
    if !state.taints.is_empty() {
        parts.push(format!("taints {}", state.taints.join(", ")));
    }
    let schedulable = if state.unschedulable {
        "cordoned"
    } else {
        "schedulable"
    };
    parts.push(schedulable.into());
    parts.join("; ")
}

fn condition_text(c: &Condition) -> String {
    match &c.reason {
        Some(reason) => format!("{}={} ({reason})", c.kind, c.status),
        None => format!("{}={}", c.kind, c.status),
    }
}
