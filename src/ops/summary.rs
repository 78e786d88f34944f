//! Reading Kubernetes objects the way an SRE reads them: phase, readiness, restarts, revision,
//! images, conditions. Pure functions shared by observation, verification and evidence.

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{Node, Pod, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::ResourceExt;
use kube::api::{ApiResource, DynamicObject};
use serde_json::{Value, json};

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
pub fn revision(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> Option<i64> {
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

/// The numbers `kubectl rollout status` looks at.
pub fn rollout_numbers(deployment: &Deployment) -> Value {
    let status = deployment.status.clone().unwrap_or_default();
    json!({
        "generation": deployment.metadata.generation,
        "observed_generation": status.observed_generation,
        "desired": desired(deployment),
        "replicas": status.replicas.unwrap_or(0),
        "updated": status.updated_replicas.unwrap_or(0),
        "ready": status.ready_replicas.unwrap_or(0),
        "available": status.available_replicas.unwrap_or(0),
        "unavailable": status.unavailable_replicas.unwrap_or(0),
    })
}

pub fn deployment(deployment: &Deployment, sets: &[ReplicaSet], hpa: Option<&str>) -> Value {
    let mut sets: Vec<&ReplicaSet> = sets.iter().collect();
    sets.sort_by_key(|rs| std::cmp::Reverse(revision(&rs.metadata)));
    json!({
        "name": deployment.name_any(),
        "resource_version": deployment.metadata.resource_version,
        "revision": revision(&deployment.metadata),
        "images": images(deployment.spec.as_ref().map(|s| &s.template)),
        "paused": deployment.spec.as_ref().and_then(|s| s.paused).unwrap_or(false),
        "rollout": rollout_numbers(deployment),
        "conditions": deployment.status.as_ref().and_then(|s| s.conditions.as_ref()).map(|cs| {
            cs.iter().map(|c| json!({"type": c.type_, "status": c.status, "reason": c.reason, "message": c.message})).collect::<Vec<_>>()
        }),
        "replica_sets": sets.iter().map(|rs| json!({
            "name": rs.name_any(),
            "revision": revision(&rs.metadata),
            "images": images(rs.spec.as_ref().and_then(|s| s.template.as_ref())),
            "replicas": rs.status.as_ref().map_or(0, |s| s.replicas),
            "ready": rs.status.as_ref().and_then(|s| s.ready_replicas).unwrap_or(0),
        })).collect::<Vec<_>>(),
        "autoscaler": hpa,
    })
}

pub fn pod(pod: &Pod) -> Value {
    json!({
        "name": pod.name_any(),
        "uid": pod.metadata.uid,
        "phase": phase(pod),
        "ready": is_ready(pod),
        "restarts": restarts(pod),
        "reason": container_reason(pod),
        "node": pod.spec.as_ref().and_then(|s| s.node_name.clone()),
        "created": pod.metadata.creation_timestamp.as_ref().map(|t| t.0.to_string()),
    })
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

pub fn node(node: &Node) -> Value {
    json!({
        "name": node.name_any(),
        "unschedulable": unschedulable(node),
        "taints": node.spec.as_ref().and_then(|s| s.taints.as_ref()).map(|ts| {
            ts.iter().map(|t| format!("{}:{}", t.key, t.effect)).collect::<Vec<_>>()
        }),
        "conditions": node.status.as_ref().and_then(|s| s.conditions.as_ref()).map(|cs| {
            cs.iter().map(|c| json!({"type": c.type_, "status": c.status, "reason": c.reason})).collect::<Vec<_>>()
        }),
    })
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
            "owner": super::observe::controller_of(&p.metadata).map(|o| format!("{}/{}", o.kind, o.name)),
        })).collect::<Vec<_>>(),
    })
}
