//! Named predicates over live state. Each look answers Pass, Pending (not yet) or Fail (it will
//! not get there), with the values it saw.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::ListParams;
use kube::{Api, ResourceExt};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::ops::cluster::Cluster;
use crate::ops::error::OpsError;
use crate::ops::observe::controller_of;
use crate::ops::summary;

/// One look's result.
#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    Pass(Value),
    Pending(Value),
    Fail { reason: String, observed: Value },
}

/// A statement about live state that must become true before the deadline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "predicate", rename_all = "snake_case")]
pub enum Predicate {
    /// `kubectl rollout status`: observedGeneration caught up, updated = ready = available =
    /// desired, no old pods, Progressing=NewReplicaSetAvailable. Fails early on a
    /// ProgressDeadlineExceeded reported after `since`.
    RolloutComplete {
        namespace: String,
        name: String,
        since: DateTime<Utc>,
    },
    /// The live pod template carries `key: value` (e.g. `restartedAt`).
    TemplateAnnotation {
        namespace: String,
        name: String,
        key: String,
        value: String,
    },
    /// The live pod template runs exactly these images.
    TemplateImages {
        namespace: String,
        name: String,
        images: Vec<String>,
    },
    /// A ReplicaSet is scaled to zero (or gone).
    ReplicaSetScaledDown { namespace: String, name: String },
    /// A pod of the controller that was not among `known` pods is Ready.
    ReplacementReady {
        namespace: String,
        controller_uid: String,
        known: BTreeSet<String>,
    },
    /// A node's `spec.unschedulable` is as intended.
    NodeUnschedulable { node: String, expected: bool },
    /// A CronJob's `spec.suspend` is as intended.
    CronJobSuspended {
        api_version: String,
        namespace: String,
        name: String,
        expected: bool,
    },
    /// These pods (name, uid) no longer exist.
    PodsGone {
        namespace: String,
        pods: Vec<(String, String)>,
    },
}

impl Predicate {
    /// A short name, e.g. `rollout_complete`.
    pub fn name(&self) -> &'static str {
        match self {
            Predicate::RolloutComplete { .. } => "rollout_complete",
            Predicate::TemplateAnnotation { .. } => "template_annotation",
            Predicate::TemplateImages { .. } => "template_images",
            Predicate::ReplicaSetScaledDown { .. } => "previous_replicaset_scaled_down",
            Predicate::ReplacementReady { .. } => "replacement_pod_ready",
            Predicate::NodeUnschedulable { .. } => "node_unschedulable",
            Predicate::CronJobSuspended { .. } => "cronjob_suspended",
            Predicate::PodsGone { .. } => "cleanup_count_reached",
        }
    }

    /// Takes one look.
    ///
    /// # Errors
    /// When the API cannot be read.
    pub async fn check(&self, cluster: &Cluster) -> Result<Check, OpsError> {
        match self {
            Predicate::RolloutComplete {
                namespace,
                name,
                since,
            } => {
                let deployment = get_deployment(cluster, namespace, name).await?;
                Ok(rollout_complete(&deployment, *since))
            }
            Predicate::TemplateAnnotation {
                namespace,
                name,
                key,
                value,
            } => {
                let deployment = get_deployment(cluster, namespace, name).await?;
                let found = deployment
                    .spec
                    .as_ref()
                    .and_then(|s| s.template.metadata.as_ref())
                    .and_then(|m| m.annotations.as_ref())
                    .and_then(|a| a.get(key))
                    .cloned();
                Ok(pass_if(
                    found.as_ref() == Some(value),
                    json!({ key: found }),
                ))
            }
            Predicate::TemplateImages {
                namespace,
                name,
                images,
            } => {
                let deployment = get_deployment(cluster, namespace, name).await?;
                let live = summary::images(deployment.spec.as_ref().map(|s| &s.template));
                Ok(pass_if(&live == images, json!({ "images": live })))
            }
            Predicate::ReplicaSetScaledDown { namespace, name } => {
                let api: Api<ReplicaSet> = Api::namespaced(cluster.client().clone(), namespace);
                let object = format!("{namespace}/ReplicaSet/{name}");
                let Some(rs) = cluster.call("get", &object, api.get_opt(name)).await? else {
                    return Ok(Check::Pass(json!({ "replica_set": name, "gone": true })));
                };
                let spec = rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0);
                let status = rs.status.as_ref().map_or(0, |s| s.replicas);
                Ok(pass_if(
                    spec == 0 && status == 0,
                    json!({ "replica_set": name, "spec_replicas": spec, "replicas": status }),
                ))
            }
            Predicate::ReplacementReady {
                namespace,
                controller_uid,
                known,
            } => {
                let api: Api<Pod> = Api::namespaced(cluster.client().clone(), namespace);
                let pods = cluster
                    .call("list pods", namespace, api.list(&ListParams::default()))
                    .await?;
                let replacements: Vec<Pod> = pods
                    .items
                    .into_iter()
                    .filter(|p| {
                        controller_of(&p.metadata).is_some_and(|o| &o.uid == controller_uid)
                            && !known.contains(p.metadata.uid.as_deref().unwrap_or(""))
                    })
                    .collect();
                Ok(replacement_ready(&replacements))
            }
            Predicate::NodeUnschedulable { node, expected } => {
                let api: Api<Node> = Api::all(cluster.client().clone());
                let live = cluster
                    .call("get", &format!("Node/{node}"), api.get(node))
                    .await?;
                let value = summary::unschedulable(&live);
                Ok(pass_if(
                    value == *expected,
                    json!({ "unschedulable": value }),
                ))
            }
            Predicate::CronJobSuspended {
                namespace,
                name,
                expected,
                ..
            } => {
                let resource = cluster.cronjob_resource().await?;
                let api = cluster.dynamic(&resource, Some(namespace));
                let object = format!("{namespace}/CronJob/{name}");
                let live = cluster.call("get", &object, api.get(name)).await?;
                let value = summary::suspended(&live);
                Ok(pass_if(value == *expected, json!({ "suspend": value })))
            }
            Predicate::PodsGone { namespace, pods } => {
                let api: Api<Pod> = Api::namespaced(cluster.client().clone(), namespace);
                let mut remaining = Vec::new();
                for (name, uid) in pods {
                    let object = format!("{namespace}/Pod/{name}");
                    let live = cluster.call("get", &object, api.get_opt(name)).await?;
                    if live.is_some_and(|p| p.metadata.uid.as_deref() == Some(uid)) {
                        remaining.push(name.clone());
                    }
                }
                let observed = json!({
                    "deleted": pods.len() - remaining.len(),
                    "expected": pods.len(),
                    "remaining": remaining,
                });
                Ok(pass_if(remaining.is_empty(), observed))
            }
        }
    }
}

fn pass_if(ok: bool, observed: Value) -> Check {
    if ok {
        Check::Pass(observed)
    } else {
        Check::Pending(observed)
    }
}

async fn get_deployment(
    cluster: &Cluster,
    namespace: &str,
    name: &str,
) -> Result<Deployment, OpsError> {
    let api: Api<Deployment> = Api::namespaced(cluster.client().clone(), namespace);
    cluster
        .call(
            "get",
            &format!("{namespace}/Deployment/{name}"),
            api.get(name),
        )
        .await
}

/// The rollout-complete predicate on one read of the Deployment.
pub fn rollout_complete(deployment: &Deployment, since: DateTime<Utc>) -> Check {
    let observed = summary::rollout_numbers(deployment);
    let number = |key: &str| observed[key].as_i64().unwrap_or(0);
    let desired = number("desired");
    let counts_match = ["updated", "ready", "available", "replicas"]
        .iter()
        .all(|key| number(key) == desired);
    let caught_up = deployment
        .status
        .as_ref()
        .and_then(|s| s.observed_generation)
        >= deployment.metadata.generation;
    let progressing = summary::deployment_condition(deployment, "Progressing");
    let stuck_since = deployment
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.type_ == "Progressing"))
        .filter(|c| c.reason.as_deref() == Some("ProgressDeadlineExceeded"))
        .and_then(|c| c.last_update_time.as_ref())
        .is_some_and(|t| t.0.as_millisecond() > since.timestamp_millis());
    let mut observed = observed;
    observed["progressing"] = json!(progressing.map(|(s, r)| format!("{s}/{r}")));
    if caught_up && stuck_since {
        return Check::Fail {
            reason: format!(
                "rollout of {} exceeded its progress deadline (ProgressDeadlineExceeded)",
                deployment.name_any()
            ),
            observed,
        };
    }
    let complete =
        caught_up && counts_match && progressing == Some(("True", "NewReplicaSetAvailable"));
    pass_if(complete, observed)
}

/// Reasons that mean a replacement pod will not become Ready by waiting.
const HOPELESS: [&str; 4] = [
    "CrashLoopBackOff",
    "ImagePullBackOff",
    "ErrImagePull",
    "InvalidImageName",
];

fn replacement_ready(replacements: &[Pod]) -> Check {
    let observed =
        json!({ "replacements": replacements.iter().map(summary::pod).collect::<Vec<_>>() });
    if replacements.iter().any(summary::is_ready) {
        return Check::Pass(observed);
    }
    let hopeless = replacements.iter().find_map(|p| {
        summary::container_reason(p)
            .filter(|r| HOPELESS.contains(&r.as_str()))
            .map(|r| format!("replacement pod {} is in {r}", p.name_any()))
    });
    match hopeless {
        Some(reason) => Check::Fail { reason, observed },
        None => Check::Pending(observed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment(status: Value, generation: i64) -> Deployment {
        serde_json::from_value(json!({
            "metadata": { "name": "web", "generation": generation },
            "spec": { "replicas": 2, "selector": {}, "template": {} },
            "status": status,
        }))
        .unwrap()
    }

    fn progressing(reason: &str, status: &str, at: &str) -> Value {
        json!([{ "type": "Progressing", "status": status, "reason": reason, "lastUpdateTime": at }])
    }

    #[test]
    fn a_rollout_is_complete_only_when_every_count_and_the_condition_agree() {
        let since = Utc::now() - chrono::Duration::minutes(1);
        let done = json!({ "observedGeneration": 3, "replicas": 2, "updatedReplicas": 2, "readyReplicas": 2,
            "availableReplicas": 2, "conditions": progressing("NewReplicaSetAvailable", "True", "2026-01-01T00:00:00Z") });
        assert!(matches!(
            rollout_complete(&deployment(done.clone(), 3), since),
            Check::Pass(_)
        ));
        assert!(
            matches!(
                rollout_complete(&deployment(done.clone(), 4), since),
                Check::Pending(_)
            ),
            "generation not observed"
        );
        let mut old_pod = done.clone();
        old_pod["replicas"] = json!(3);
        assert!(
            matches!(
                rollout_complete(&deployment(old_pod, 3), since),
                Check::Pending(_)
            ),
            "an old pod remains"
        );
    }

    #[test]
    fn a_progress_deadline_fails_only_when_reported_after_the_write() {
        let since = Utc::now() - chrono::Duration::minutes(1);
        let stuck = |at: &str| {
            json!({ "observedGeneration": 3, "replicas": 3, "updatedReplicas": 1,
            "readyReplicas": 2, "availableReplicas": 2, "conditions": progressing("ProgressDeadlineExceeded", "False", at) })
        };
        let old = stuck("2020-01-01T00:00:00Z");
        assert!(
            matches!(
                rollout_complete(&deployment(old, 3), since),
                Check::Pending(_)
            ),
            "reported before the write"
        );
        let now = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        assert!(matches!(
            rollout_complete(&deployment(stuck(&now), 3), since),
            Check::Fail { .. }
        ));
    }
}
