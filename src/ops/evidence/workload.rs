//! Workload evidence: a Deployment's spec and status, its ReplicaSet history, its pods, the
//! recent Events about all of them and its autoscaler; and a single pod, resolved through its
//! owner chain to the Deployment that runs it.

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::autoscaling::v1::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{Event, Pod};
use k8s_openapi::jiff::Timestamp;
use kube::api::ListParams;
use kube::{Api, ResourceExt};
use serde::{Deserialize, Serialize};

use super::Collected;
use super::events::{self, EventEntry};
use crate::domain::{Namespace, ResourceName};
use crate::incidents::model::WorkloadRef;
use crate::ops::cluster::Cluster;
use crate::ops::observe::{self, Live};
use crate::ops::request::Target;
use crate::ops::state::{Condition, PodState, ReplicaSetState, Rollout};
use crate::ops::{state, summary};

/// A pod with its age at collection time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodEntry {
    #[serde(flatten)]
    pub pod: PodState,
    pub age_seconds: Option<i64>,
}

impl PodEntry {
    pub fn of(pod: &Pod, now: Timestamp) -> Self {
        let created = pod.metadata.creation_timestamp.as_ref();
        Self {
            pod: PodState::of(pod),
            age_seconds: created.map(|t| now.as_second() - t.0.as_second()),
        }
    }
}

/// The HorizontalPodAutoscaler (autoscaling/v1) scaling the Deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Autoscaler {
    pub name: String,
    pub min: i32,
    pub max: i32,
    pub current: i32,
    pub desired: i32,
}

impl Autoscaler {
    pub fn of(hpa: &HorizontalPodAutoscaler) -> Self {
        let spec = hpa.spec.clone().unwrap_or_default();
        let status = hpa.status.clone().unwrap_or_default();
        Self {
            name: hpa.name_any(),
            // The API's default when minReplicas is unset.
            min: spec.min_replicas.unwrap_or(1),
            max: spec.max_replicas,
            current: status.current_replicas,
            desired: status.desired_replicas,
        }
    }
}

/// Everything read about one Deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkloadEvidence {
    pub namespace: String,
    pub name: String,
    /// How it was reached: `Pod/x → ReplicaSet/y → Deployment/z`, or the Deployment and what
    /// controls it.
    pub owner_chain: Vec<String>,
    pub revision: Option<i64>,
    pub images: Vec<String>,
    pub paused: bool,
    pub selector: Option<String>,
    pub rollout: Rollout,
    pub conditions: Vec<Condition>,
    /// Newest revision first.
    pub replica_sets: Collected<Vec<ReplicaSetState>>,
    /// The pods its selector matches.
    pub pods: Collected<Vec<PodEntry>>,
    /// About the Deployment, its ReplicaSets and their pods; newest first, capped.
    pub events: Collected<Vec<EventEntry>>,
    /// `null` when no autoscaler targets it.
    pub autoscaler: Collected<Option<Autoscaler>>,
}

/// A single pod and how it is owned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodEvidence {
    pub namespace: String,
    pub pod: PodEntry,
    pub owner_chain: Vec<String>,
    pub events: Collected<Vec<EventEntry>>,
}

const NO_NAMESPACE: &str = "the scope names no namespace";

/// Evidence for a workload named by kind and name.
pub async fn named(
    cluster: &Cluster,
    namespace: Option<&Namespace>,
    workload: &WorkloadRef,
) -> Collected<WorkloadEvidence> {
    let Some(namespace) = namespace else {
        return Collected::unknown(NO_NAMESPACE);
    };
    let name = workload.name.as_str();
    if workload.kind != "Deployment" {
        return Collected::unknown(format!(
            "{} {name}: evidence is collected for Deployments only",
            workload.kind
        ));
    }
    deployment(cluster, namespace.as_str(), name, None).await
}

/// Evidence for Deployment `name`; `chain` is the owner chain that led to it, if any.
pub async fn deployment(
    cluster: &Cluster,
    namespace: &str,
    name: &str,
    chain: Option<Vec<String>>,
) -> Collected<WorkloadEvidence> {
    let api: Api<Deployment> = Api::namespaced(cluster.client().clone(), namespace);
    let object = format!("{namespace}/Deployment/{name}");
    let deployment = match cluster.call("get", &object, api.get(name)).await {
        Ok(deployment) => deployment,
        Err(error) => return Err(error).into(),
    };
    let selector = summary::selector(&deployment);
    let pods = async {
        let Some(selector) = selector.as_deref() else {
            return Collected::unknown("the Deployment's selector is not a label selector");
        };
        let api: Api<Pod> = Api::namespaced(cluster.client().clone(), namespace);
        let params = ListParams::default().labels(selector);
        let listed = cluster
            .call("list pods", namespace, api.list(&params))
            .await;
        Collected::from(listed).map(|list| list.items)
    };
    let (sets, pods, all_events, autoscaler) = futures::join!(
        observe::owned_replica_sets(cluster, namespace, &deployment),
        pods,
        events::list(cluster, namespace, ""),
        observe::autoscaler(cluster, namespace, name),
    );
    let sets = Collected::from(sets);
    let events = Collected::from(all_events)
        .map(|all| events::newest(&all, |event| concerns(event, name, &sets, &pods)));
    let now = Timestamp::now();
    let chain = chain.unwrap_or_else(|| {
        let mut chain = vec![format!("Deployment/{name}")];
        chain.extend(summary::owner(&deployment.metadata));
        chain
    });
    Collected::Known(WorkloadEvidence {
        namespace: namespace.to_owned(),
        name: name.to_owned(),
        owner_chain: chain,
        revision: summary::revision(&deployment.metadata),
        images: summary::images(deployment.spec.as_ref().map(|s| &s.template)),
        paused: summary::paused(&deployment),
        selector,
        rollout: Rollout::of(&deployment),
        conditions: state::deployment_conditions(&deployment),
        replica_sets: sets.map(|sets| state::replica_set_history(&sets)),
        pods: pods.map(|pods| pods.iter().map(|p| PodEntry::of(p, now)).collect()),
        events,
        autoscaler: Collected::from(autoscaler).map(|hpa| hpa.as_ref().map(Autoscaler::of)),
    })
}

/// Whether `event` is about the Deployment, one of its ReplicaSets, or a pod of one of them
/// (including pods already replaced: their names start with their ReplicaSet's).
fn concerns(
    event: &Event,
    deployment: &str,
    sets: &Collected<Vec<ReplicaSet>>,
    pods: &Collected<Vec<Pod>>,
) -> bool {
    let involved = &event.involved_object;
    let name = involved.name.as_deref().unwrap_or("");
    let sets = sets.known().map(Vec::as_slice).unwrap_or_default();
    let set_names = sets.iter().filter_map(|rs| rs.metadata.name.as_deref());
    match involved.kind.as_deref() {
        Some("Deployment") => name == deployment,
        Some("ReplicaSet") => set_names.into_iter().any(|rs| rs == name),
        Some("Pod") => {
            let pods = pods.known().map(Vec::as_slice).unwrap_or_default();
            pods.iter()
                .any(|p| p.metadata.name.as_deref() == Some(name))
                || set_names
                    .into_iter()
                    .any(|rs| name.strip_prefix(rs).is_some_and(|r| r.starts_with('-')))
        }
        _ => false,
    }
}

/// Evidence for pod `name`: the pod, its owner chain (Pod → ReplicaSet → Deployment) and its
/// events; with `resolve`, also the evidence of the Deployment at the end of the chain (`None`
/// when the pod is not run by a Deployment).
pub async fn pod(
    cluster: &Cluster,
    namespace: Option<&Namespace>,
    name: &ResourceName,
    resolve: bool,
) -> (Collected<PodEvidence>, Option<Collected<WorkloadEvidence>>) {
    let Some(namespace) = namespace else {
        let workload = resolve.then(|| Collected::unknown(NO_NAMESPACE));
        return (Collected::unknown(NO_NAMESPACE), workload);
    };
    let target = Target::Pod {
        namespace: namespace.clone(),
        name: name.clone(),
    };
    // The action path's observation already walks the owner chain; reading it the same way
    // means evidence and actions agree on which Deployment a pod belongs to.
    let observed = observe::observe(cluster, &target).await;
    let (pod, chain) = match observed {
        Ok(observation) => match observation.live {
            Live::Pod { pod, .. } => (pod, observation.owner_chain),
            _ => return (Collected::unknown("the pod was read as another kind"), None),
        },
        Err(error) => {
            let reason = super::unknown_reason(&error);
            let owner = format!("the pod's owner chain could not be read: {reason}");
            return (
                Collected::unknown(reason),
                resolve.then(|| Collected::unknown(owner)),
            );
        }
    };
    let namespace = namespace.as_str();
    let top = chain
        .last()
        .and_then(|link| link.strip_prefix("Deployment/"));
    let workload = async {
        match top.filter(|_| resolve) {
            Some(top) => Some(deployment(cluster, namespace, top, Some(chain.clone())).await),
            None => None,
        }
    };
    let fields = format!("involvedObject.kind=Pod,involvedObject.name={name}");
    let (events, workload) = futures::join!(events::list(cluster, namespace, &fields), workload);
    let evidence = PodEvidence {
        namespace: namespace.to_owned(),
        pod: PodEntry::of(&pod, Timestamp::now()),
        owner_chain: chain.clone(),
        events: Collected::from(events).map(|all| events::newest(&all, |_| true)),
    };
    (Collected::Known(evidence), workload)
}
