//! Live state of an action's target, read immediately before every decision. Guardrails,
//! plans and the packet's "before" all come from here, never from the alert.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::autoscaling::v1::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::api::{ApiResource, DynamicObject, ListParams};
use kube::{Api, ResourceExt};
use serde::Serialize;

use super::cluster::Cluster;
use super::error::OpsError;
use super::request::Target;
use super::summary;

/// The object whose labels decide opt-in and GitOps ownership: the Deployment for its pods,
/// the node, the CronJob; for a namespace-wide cleanup there is none.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Governing {
    pub kind: String,
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

impl Governing {
    fn of(kind: &str, meta: &ObjectMeta) -> Self {
        Self {
            kind: kind.to_owned(),
            name: meta.name.clone().unwrap_or_default(),
            labels: meta.labels.clone().unwrap_or_default(),
            annotations: meta.annotations.clone().unwrap_or_default(),
        }
    }
}

/// What was read for one target.
#[derive(Debug, Clone)]
pub struct Observation {
    pub target: Target,
    pub governing: Option<Governing>,
    /// `Pod/x → ReplicaSet/y → Deployment/z`, as far as it could be read.
    pub owner_chain: Vec<String>,
    pub live: Live,
}

/// The live objects, per kind of target.
#[derive(Debug, Clone)]
pub enum Live {
    Deployment {
        deployment: Box<Deployment>,
        replica_sets: Vec<ReplicaSet>,
        /// The HorizontalPodAutoscaler scaling this Deployment, if any.
        autoscaler: Option<String>,
    },
    Pod {
        pod: Box<Pod>,
        /// The pod's controller, when it has one.
        controller: Option<OwnerReference>,
        /// Other pods of the same controller, not being deleted.
        siblings: Vec<Pod>,
    },
    Node {
        node: Box<Node>,
    },
    CronJob {
        object: Box<DynamicObject>,
        resource: ApiResource,
    },
    Namespace {
        /// Pods in phase Succeeded or Failed, oldest first.
        finished: Vec<Pod>,
    },
}

impl Observation {
    /// Identity and spec version of the target. If it differs between the prompt and the
    /// approval, the target changed materially and the approval is stale.
    pub fn fingerprint(&self) -> String {
        let meta = |m: &ObjectMeta| {
            format!(
                "{}@{}",
                m.uid.as_deref().unwrap_or("?"),
                m.generation.unwrap_or_default()
            )
        };
        match &self.live {
            Live::Deployment { deployment, .. } => meta(&deployment.metadata),
            Live::Pod { pod, .. } => meta(&pod.metadata),
            Live::Node { node } => format!(
                "{}@unschedulable={}",
                node.metadata.uid.as_deref().unwrap_or("?"),
                summary::unschedulable(node)
            ),
            Live::CronJob { object, .. } => meta(&object.metadata),
            Live::Namespace { .. } => format!("namespace {}", self.target.name()),
        }
    }

    /// A concise, serialisable picture of the live state for the packet.
    pub fn summary(&self) -> serde_json::Value {
        match &self.live {
            Live::Deployment {
                deployment,
                replica_sets,
                autoscaler,
            } => summary::deployment(deployment, replica_sets, autoscaler.as_deref()),
            Live::Pod {
                pod,
                controller,
                siblings,
            } => summary::pod_with_siblings(pod, controller.as_ref(), siblings),
            Live::Node { node } => summary::node(node),
            Live::CronJob { object, resource } => summary::cronjob(object, resource),
            Live::Namespace { finished } => summary::finished_pods(finished),
        }
    }
}

/// Reads the live state of `target`.
///
/// # Errors
/// When the target does not exist ([`OpsError::NotFound`]) or the API fails.
pub async fn observe(cluster: &Cluster, target: &Target) -> Result<Observation, OpsError> {
    match target {
        Target::Deployment { namespace, name } => {
            deployment(cluster, target, namespace.as_str(), name.as_str()).await
        }
        Target::Pod { namespace, name } => {
            pod(cluster, target, namespace.as_str(), name.as_str()).await
        }
        Target::Node { name } => {
            let api: Api<Node> = Api::all(cluster.client().clone());
            let node = cluster
                .call("get", &target.to_string(), api.get(name.as_str()))
                .await?;
            Ok(Observation {
                target: target.clone(),
                governing: Some(Governing::of("Node", &node.metadata)),
                owner_chain: vec![format!("Node/{name}")],
                live: Live::Node {
                    node: Box::new(node),
                },
            })
        }
        Target::CronJob { namespace, name } => {
            let resource = cluster.cronjob_resource().await?;
            let api = cluster.dynamic(&resource, Some(namespace.as_str()));
            let object = cluster
                .call("get", &target.to_string(), api.get(name.as_str()))
                .await?;
            Ok(Observation {
                target: target.clone(),
                governing: Some(Governing::of("CronJob", &object.metadata)),
                owner_chain: vec![format!("CronJob/{name}")],
                live: Live::CronJob {
                    object: Box::new(object),
                    resource,
                },
            })
        }
        Target::Namespace { namespace } => {
            let finished = finished_pods(cluster, namespace.as_str()).await?;
            Ok(Observation {
                target: target.clone(),
                governing: None,
                owner_chain: Vec::new(),
                live: Live::Namespace { finished },
            })
        }
    }
}

async fn deployment(
    cluster: &Cluster,
    target: &Target,
    namespace: &str,
    name: &str,
) -> Result<Observation, OpsError> {
    let object = target.to_string();
    let deployments: Api<Deployment> = Api::namespaced(cluster.client().clone(), namespace);
    let deployment = cluster.call("get", &object, deployments.get(name)).await?;
    let replica_sets = owned_replica_sets(cluster, namespace, &deployment).await?;
    let autoscaler = autoscaler(cluster, namespace, name)
        .await?
        .map(|hpa| hpa.name_any());
    Ok(Observation {
        target: target.clone(),
        governing: Some(Governing::of("Deployment", &deployment.metadata)),
        owner_chain: vec![format!("Deployment/{name}")],
        live: Live::Deployment {
            deployment: Box::new(deployment),
            replica_sets,
            autoscaler,
        },
    })
}

/// The HorizontalPodAutoscaler scaling Deployment `name`, if any.
///
/// # Errors
/// When listing autoscalers fails.
pub async fn autoscaler(
    cluster: &Cluster,
    namespace: &str,
    name: &str,
) -> Result<Option<HorizontalPodAutoscaler>, OpsError> {
    let api: Api<HorizontalPodAutoscaler> = Api::namespaced(cluster.client().clone(), namespace);
    let listed = cluster
        .call(
            "list horizontalpodautoscalers",
            namespace,
            api.list(&ListParams::default()),
        )
        .await?;
    Ok(listed.items.into_iter().find(|hpa| {
        hpa.spec.as_ref().is_some_and(|spec| {
            spec.scale_target_ref.kind == "Deployment" && spec.scale_target_ref.name == name
        })
    }))
}

/// The ReplicaSets a Deployment controls, by owner uid.
///
/// # Errors
/// When listing ReplicaSets fails.
pub async fn owned_replica_sets(
    cluster: &Cluster,
    namespace: &str,
    deployment: &Deployment,
) -> Result<Vec<ReplicaSet>, OpsError> {
    let uid = deployment.metadata.uid.clone().unwrap_or_default();
    let api: Api<ReplicaSet> = Api::namespaced(cluster.client().clone(), namespace);
    let listed = cluster
        .call(
            "list replicasets",
            namespace,
            api.list(&ListParams::default()),
        )
        .await?;
    Ok(listed
        .items
        .into_iter()
        .filter(|rs| controller_of(&rs.metadata).is_some_and(|owner| owner.uid == uid))
        .collect())
}

async fn pod(
    cluster: &Cluster,
    target: &Target,
    namespace: &str,
    name: &str,
) -> Result<Observation, OpsError> {
    let pods: Api<Pod> = Api::namespaced(cluster.client().clone(), namespace);
    let pod = cluster
        .call("get", &target.to_string(), pods.get(name))
        .await?;
    let controller = controller_of(&pod.metadata).cloned();
    let mut owner_chain = vec![format!("Pod/{name}")];
    let mut governing = Governing::of("Pod", &pod.metadata);
    let mut siblings = Vec::new();
    if let Some(owner) = &controller {
        owner_chain.push(format!("{}/{}", owner.kind, owner.name));
        let listed = cluster
            .call("list pods", namespace, pods.list(&ListParams::default()))
            .await?;
        siblings = listed
            .items
            .into_iter()
            .filter(|other| {
                other.metadata.uid != pod.metadata.uid
                    && other.metadata.deletion_timestamp.is_none()
                    && controller_of(&other.metadata).is_some_and(|o| o.uid == owner.uid)
            })
            .collect();
        if owner.kind == "ReplicaSet" {
            let replica_sets: Api<ReplicaSet> =
                Api::namespaced(cluster.client().clone(), namespace);
            let rs = cluster
                .call(
                    "get",
                    &format!("{namespace}/ReplicaSet/{}", owner.name),
                    replica_sets.get(&owner.name),
                )
                .await?;
            if let Some(top) = controller_of(&rs.metadata).filter(|o| o.kind == "Deployment") {
                owner_chain.push(format!("Deployment/{}", top.name));
                let deployments: Api<Deployment> =
                    Api::namespaced(cluster.client().clone(), namespace);
                let deployment = cluster
                    .call(
                        "get",
                        &format!("{namespace}/Deployment/{}", top.name),
                        deployments.get(&top.name),
                    )
                    .await?;
                governing = Governing::of("Deployment", &deployment.metadata);
            }
        }
    }
    Ok(Observation {
        target: target.clone(),
        governing: Some(governing),
        owner_chain,
        live: Live::Pod {
            pod: Box::new(pod),
            controller,
            siblings,
        },
    })
}

/// Pods in phase Succeeded or Failed, oldest first.
///
/// # Errors
/// When listing pods fails.
pub async fn finished_pods(cluster: &Cluster, namespace: &str) -> Result<Vec<Pod>, OpsError> {
    let pods: Api<Pod> = Api::namespaced(cluster.client().clone(), namespace);
    let mut finished: Vec<Pod> = cluster
        .call("list pods", namespace, pods.list(&ListParams::default()))
        .await?
        .items
        .into_iter()
        .filter(summary::is_finished)
        .collect();
    finished.sort_by(|a, b| {
        a.metadata
            .creation_timestamp
            .cmp(&b.metadata.creation_timestamp)
    });
    Ok(finished)
}

/// The owner reference marked `controller: true`.
pub fn controller_of(meta: &ObjectMeta) -> Option<&OwnerReference> {
    meta.owner_references
        .as_ref()?
        .iter()
        .find(|owner| owner.controller == Some(true))
}
