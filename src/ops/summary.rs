//! Reading Kubernetes objects the way an SRE reads them: phase, readiness, restarts, revision,
//! images, conditions. Pure functions shared by observation, verification and evidence; the
//! typed snapshots they build are in [`super::state`].

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{Node, Pod, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::ResourceExt;
use kube::api::{ApiResource, DynamicObject};
use serde::Serialize;
use serde_json::{Value, json};

use super::state::{NodeState, PodState, Rollout, deployment_conditions, replica_set_history};

/// The annotation the Deployment controller puts on each ReplicaSet (and the Deployment).
pub const REVISION: &str = "deployment.kubernetes.io/revision";

/// The template annotation `kubectl rollout restart` sets.
pub const RESTARTED_AT: &str = "kubectl.kubernetes.io/restartedAt";

pub fn phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("Unknown")
}

/// Whether the pod's Ready condition is True.
pub fn is_ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|conditions| {
            conditions
                .iter()
                .any(|c| c.type_ == "Ready" && c.status == "True")
        })
}

/// Restarts summed over the pod's containers.
pub fn restarts(pod: &Pod) -> i32 {
    pod.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .map_or(0, |statuses| statuses.iter().map(|c| c.restart_count).sum())
}

/// The first waiting or terminated reason among the pod's containers, e.g. `CrashLoopBackOff`.
pub fn container_reason(pod: &Pod) -> Option<String> {
    let statuses = pod.status.as_ref()?.container_statuses.as_ref()?;
    statuses.iter().find_map(|c| {
        let state = c.state.as_ref()?;
        state
            .waiting
            .as_ref()
            .and_then(|w| w.reason.clone())
            .or_else(|| state.terminated.as_ref().and_then(|t| t.reason.clone()))
    })
}

pub fn unschedulable(node: &Node) -> bool {
    node.spec
        .as_ref()
        .and_then(|s| s.unschedulable)
        .unwrap_or(false)
}

/// A ReplicaSet's (or Deployment's) revision number.
pub fn revision(meta: &ObjectMeta) -> Option<i64> {
    meta.annotations.as_ref()?.get(REVISION)?.parse().ok()
}

/// The container images of a pod template, in order.
pub fn images(template: Option<&PodTemplateSpec>) -> Vec<String> {
    template
        .and_then(|t| t.spec.as_ref())
        .map(|spec| {
            spec.containers
                .iter()
                .filter_map(|c| c.image.clone())
                .collect()
        })
        .unwrap_or_default()
}

/// The status of a Deployment condition and its reason, e.g. `("False", "ProgressDeadlineExceeded")`.
pub fn deployment_condition<'a>(
    deployment: &'a Deployment,
    kind: &str,
) -> Option<(&'a str, &'a str)> {
    let conditions = deployment.status.as_ref()?.conditions.as_ref()?;
    let condition = conditions.iter().find(|c| c.type_ == kind)?;
    Some((
        condition.status.as_str(),
        condition.reason.as_deref().unwrap_or(""),
    ))
}

/// Desired replicas (`spec.replicas`, default 1).
pub fn desired(deployment: &Deployment) -> i32 {
    deployment
        .spec
        .as_ref()
        .and_then(|s| s.replicas)
        .unwrap_or(1)
}

/// Whether the Deployment's rollout is paused.
pub fn paused(deployment: &Deployment) -> bool {
    deployment
        .spec
        .as_ref()
        .and_then(|s| s.paused)
        .unwrap_or(false)
}

/// [`Rollout`] as JSON.
pub fn rollout_numbers(deployment: &Deployment) -> Value {
    to_json(&Rollout::of(deployment))
}

/// The Deployment's pod selector in `kubectl -l` syntax (`matchLabels` and `matchExpressions`);
/// `None` when it selects nothing expressible.
pub fn selector(deployment: &Deployment) -> Option<String> {
    let selector = &deployment.spec.as_ref()?.selector;
    let labels = selector.match_labels.iter().flatten();
    let mut terms: Vec<String> = labels.map(|(k, v)| format!("{k}={v}")).collect();
    for expression in selector.match_expressions.iter().flatten() {
        let values = expression.values.clone().unwrap_or_default().join(",");
        let key = &expression.key;
        terms.push(match expression.operator.as_str() {
            "In" => format!("{key} in ({values})"),
            "NotIn" => format!("{key} notin ({values})"),
            "Exists" => key.clone(),
            "DoesNotExist" => format!("!{key}"),
            // An operator this code does not know would widen the selection if dropped.
            _ => return None,
        });
    }
    (!terms.is_empty()).then(|| terms.join(","))
}

pub fn deployment(deployment: &Deployment, sets: &[ReplicaSet], hpa: Option<&str>) -> Value {
    json!({
        "name": deployment.name_any(),
        "resource_version": deployment.metadata.resource_version,
        "revision": revision(&deployment.metadata),
        "images": images(deployment.spec.as_ref().map(|s| &s.template)),
        "paused": paused(deployment),
        "rollout": rollout_numbers(deployment),
        "conditions": deployment_conditions(deployment),
        "replica_sets": replica_set_history(sets),
        "autoscaler": hpa,
    })
}

pub fn pod(pod: &Pod) -> Value {
    to_json(&PodState::of(pod))
}

/// Whether the pod is done: phase Succeeded or Failed.
pub fn is_finished(pod: &Pod) -> bool {
    matches!(phase(pod), "Succeeded" | "Failed")
}

/// The pod's (or any object's) controller as `Kind/name`.
pub fn owner(meta: &ObjectMeta) -> Option<String> {
    super::observe::controller_of(meta).map(|o| format!("{}/{}", o.kind, o.name))
}

pub fn pod_with_siblings(
    pod: &Pod,
    controller: Option<&OwnerReference>,
    siblings: &[Pod],
) -> Value {
    json!({
        "pod": self::pod(pod),
        "controller": controller.map(|o| format!("{}/{}", o.kind, o.name)),
        "siblings": siblings.iter().map(self::pod).collect::<Vec<_>>(),
        "ready_siblings": siblings.iter().filter(|p| is_ready(p)).count(),
    })
}

/// Taints as `kubectl describe node` prints them: `key=value:effect`.
pub fn taints(node: &Node) -> Vec<String> {
    let taints = node.spec.as_ref().and_then(|s| s.taints.as_ref());
    taints
        .into_iter()
        .flatten()
        .map(|t| match &t.value {
            Some(value) => format!("{}={value}:{}", t.key, t.effect),
            None => format!("{}:{}", t.key, t.effect),
        })
        .collect()
}

pub fn node(node: &Node) -> Value {
    to_json(&NodeState::of(node))
}

/// Whether a CronJob object has `spec.suspend: true`.
pub fn suspended(object: &DynamicObject) -> bool {
    object.data["spec"]["suspend"].as_bool().unwrap_or(false)
}

pub fn cronjob(object: &DynamicObject, resource: &ApiResource) -> Value {
    json!({
        "name": object.name_any(),
        "api_version": resource.api_version,
        "schedule": object.data["spec"]["schedule"],
        "suspended": suspended(object),
        "active": object.data["status"]["active"].as_array().map_or(0, Vec::len),
        "last_schedule_time": object.data["status"]["lastScheduleTime"],
    })
}

pub fn finished_pods(pods: &[Pod]) -> Value {
    let count = |wanted: &str| pods.iter().filter(|p| phase(p) == wanted).count();
    json!({
        "succeeded": count("Succeeded"),
        "failed": count("Failed"),
        "pods": pods.iter().map(|p| json!({
            "name": p.name_any(),
            "phase": phase(p),
            "owner": owner(&p.metadata),
        })).collect::<Vec<_>>(),
    })
}

/// A summary type as JSON. Serialising these plain structs cannot fail; if it ever did, the
/// packet would show `null` rather than the action failing over a report.
fn to_json(value: &impl Serialize) -> Value {
    serde_json::to_value(value).unwrap_or_default()
}
