//! Typed snapshots of the objects an SRE reads (rollout numbers, conditions, ReplicaSet history,
//! pods, nodes): pure, serialisable, and shared by the action packets ([`super::summary`]) and
//! the evidence collectors ([`super::evidence`]), so both describe an object the same way.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use kube::ResourceExt;
use serde::{Deserialize, Serialize};

use super::summary::{
    container_reason, desired, images, is_ready, phase, restarts, revision, taints, unschedulable,
};

/// The numbers `kubectl rollout status` looks at.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rollout {
    pub generation: Option<i64>,
    pub observed_generation: Option<i64>,
    pub desired: i32,
    pub replicas: i32,
    pub updated: i32,
    pub ready: i32,
    pub available: i32,
    pub unavailable: i32,
}

impl Rollout {
    pub fn of(deployment: &Deployment) -> Self {
        let status = deployment.status.clone().unwrap_or_default();
        Self {
            generation: deployment.metadata.generation,
            observed_generation: status.observed_generation,
            desired: desired(deployment),
            replicas: status.replicas.unwrap_or(0),
            updated: status.updated_replicas.unwrap_or(0),
            ready: status.ready_replicas.unwrap_or(0),
            available: status.available_replicas.unwrap_or(0),
            unavailable: status.unavailable_replicas.unwrap_or(0),
        }
    }
}

/// One condition of a Deployment or a Node, as `kubectl describe` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Condition {
    #[serde(rename = "type")]
    pub kind: String,
    pub status: String,
    pub reason: Option<String>,
    pub message: Option<String>,
}

/// Condition fields as copied from any of the API's condition types.
fn condition(
    kind: &str,
    status: &str,
    reason: &Option<String>,
    message: &Option<String>,
) -> Condition {
    Condition {
        kind: kind.to_owned(),
        status: status.to_owned(),
        reason: reason.clone(),
        message: message.clone(),
    }
}

pub fn deployment_conditions(deployment: &Deployment) -> Vec<Condition> {
    let conditions = deployment
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref());
    let conditions = conditions.into_iter().flatten();
    conditions
        .map(|c| condition(&c.type_, &c.status, &c.reason, &c.message))
        .collect()
}

pub fn node_conditions(node: &Node) -> Vec<Condition> {
    let conditions = node.status.as_ref().and_then(|s| s.conditions.as_ref());
    let conditions = conditions.into_iter().flatten();
    conditions
        .map(|c| condition(&c.type_, &c.status, &c.reason, &c.message))
        .collect()
}

/// One ReplicaSet of a Deployment's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplicaSetState {
    pub name: String,
    pub revision: Option<i64>,
    pub images: Vec<String>,
    pub replicas: i32,
    pub ready: i32,
}

impl ReplicaSetState {
    pub fn of(rs: &ReplicaSet) -> Self {
        Self {
            name: rs.name_any(),
            revision: revision(&rs.metadata),
            images: images(rs.spec.as_ref().and_then(|s| s.template.as_ref())),
            replicas: rs.status.as_ref().map_or(0, |s| s.replicas),
            ready: rs
                .status
                .as_ref()
                .and_then(|s| s.ready_replicas)
                .unwrap_or(0),
        }
    }
}

/// A Deployment's ReplicaSets, newest revision first.
pub fn replica_set_history(sets: &[ReplicaSet]) -> Vec<ReplicaSetState> {
    let mut history: Vec<ReplicaSetState> = sets.iter().map(ReplicaSetState::of).collect();
    history.sort_by_key(|rs| std::cmp::Reverse(rs.revision));
    history
}

/// A pod as an SRE first looks at it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodState {
    pub name: String,
    pub uid: Option<String>,
    pub phase: String,
    pub ready: bool,
    pub restarts: i32,
    /// The pod's own reason (`Evicted`), else the first waiting or terminated container reason
    /// (`CrashLoopBackOff`): the pod's says why all its containers stopped.
    pub reason: Option<String>,
    pub node: Option<String>,
    pub created: Option<String>,
}

impl PodState {
    pub fn of(pod: &Pod) -> Self {
        Self {
            name: pod.name_any(),
            uid: pod.metadata.uid.clone(),
            phase: phase(pod).to_owned(),
            ready: is_ready(pod),
            restarts: restarts(pod),
            reason: pod
                .status
                .as_ref()
                .and_then(|s| s.reason.clone())
                .or_else(|| container_reason(pod)),
            node: pod.spec.as_ref().and_then(|s| s.node_name.clone()),
            created: pod
                .metadata
                .creation_timestamp
                .as_ref()
                .map(|t| t.0.to_string()),
        }
    }
}

/// The resource quantities an SRE reads first; the others (hugepages, devices) are noise here.
const BASIC_RESOURCES: [&str; 4] = ["cpu", "memory", "ephemeral-storage", "pods"];

/// A node's state: schedulability, taints, conditions, capacity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeState {
    pub name: String,
    pub unschedulable: bool,
    pub taints: Vec<String>,
    pub conditions: Vec<Condition>,
    pub capacity: BTreeMap<String, String>,
    pub allocatable: BTreeMap<String, String>,
}

impl NodeState {
    pub fn of(node: &Node) -> Self {
        let basics = |quantities: Option<&BTreeMap<String, Quantity>>| {
            let quantities = quantities.into_iter().flatten();
            quantities
                .filter(|(name, _)| BASIC_RESOURCES.contains(&name.as_str()))
                .map(|(name, quantity)| (name.clone(), quantity.0.clone()))
                .collect()
        };
        let status = node.status.as_ref();
        Self {
            name: node.name_any(),
            unschedulable: unschedulable(node),
            taints: taints(node),
            conditions: node_conditions(node),
            capacity: basics(status.and_then(|s| s.capacity.as_ref())),
            allocatable: basics(status.and_then(|s| s.allocatable.as_ref())),
        }
    }
}
