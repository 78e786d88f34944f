//! Runs the pods bound to simulated nodes: writes their status through the status subresource
//! (guarded by the resourceVersion it read), emits their events, and finishes their deletion.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{ObjectReference, Pod, PodCondition};
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::api::{DeleteParams, Patch, PatchParams, Preconditions};
use kube::runtime::controller::Action;
use kube::{Api, ResourceExt};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::events::Subject;
use super::faults::{self, PodFault};
use super::timeline::{self, Plan, RestartPolicy, State, Status};
use super::{Kubelet, KubeletError, PodRecord};

/// One reconcile of one pod: the status it should have now, and when to look again.
pub async fn reconcile(pod: Arc<Pod>, kubelet: Arc<Kubelet>) -> Result<Action, KubeletError> {
    let Some(node) = pod.spec.as_ref().and_then(|spec| spec.node_name.clone()) else {
        return Ok(Action::await_change());
    };
    let Some(node_index) = kubelet.node_index(&node) else {
        return Ok(Action::await_change());
    };
    let namespace = pod.namespace().unwrap_or_default();
    let name = pod.name_any();
    let uid = pod.uid().unwrap_or_default();
    let api: Api<Pod> = Api::namespaced(kubelet.client.clone(), &namespace);

    // A NotReady or unreachable node runs nothing, and confirms no deletion either: its pods
    // stay Terminating, as on a real cluster.
    if !kubelet.node_runs_pods(&node).await {
        return Ok(Action::requeue(Duration::from_secs(1)));
    }
    if pod.metadata.deletion_timestamp.is_some() {
        // The containers are "stopped" at once; the kubelet then confirms the deletion.
        let params = DeleteParams {
            grace_period_seconds: Some(0),
            preconditions: Some(Preconditions {
                uid: Some(uid.clone()),
                resource_version: None,
            }),
            ..DeleteParams::default()
        };
        match api.delete(&name, &params).await {
            Ok(_) => {}
            Err(kube::Error::Api(status)) if status.code == 404 || status.code == 409 => {}
            Err(error) => return Err(error.into()),
        }
        kubelet.forget_pod(&uid).await;
        kubelet
            .journal
            .line(format_args!("deleted pod {namespace}/{name}"));
        return Ok(Action::await_change());
    }
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
    if matches!(phase, Some("Succeeded" | "Failed")) {
        return Ok(Action::await_change());
    }
    let plans = match plans(&pod, &kubelet, &format!("{name}_{namespace}({uid})")) {
        Ok(plans) => plans,
        Err(problem) => {
            kubelet
                .journal
                .line(format_args!("pod {namespace}/{name}: {problem}"));
            let subject = subject(&pod, &node, None);
            kubelet
                .recorder
                .emit(&subject, true, "InvalidLabFault", &problem)
                .await?;
            return Ok(Action::await_change());
        }
    };
    let record = kubelet.pod_record(&uid, plans.len()).await;
    let elapsed = record.seen.elapsed();
    let mut statuses = Vec::with_capacity(plans.len());
    let mut next: Option<Duration> = None;
    let mut new_events = Vec::new();
    for (index, plan) in plans.iter().enumerate() {
        let (status, events, change) = timeline::at(plan, elapsed);
        let already = record.emitted[index];
        new_events.extend(events.into_iter().skip(already).map(|event| (index, event)));
        next = match (next, change) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        statuses.push(status);
    }

    // Events first, so whoever sees the new status also finds the events that explain it.
    for (index, event) in new_events {
        let subject = subject(&pod, &node, Some(&plans[index].container));
        kubelet
            .recorder
            .emit(&subject, event.warning, event.reason, &event.message)
            .await?;
        kubelet.mark_emitted(&uid, index).await;
    }
    let body = status_patch(&pod, &plans, &statuses, &record, node_index);
    match api
        .patch_status(&name, &PatchParams::default(), &Patch::Merge(body))
        .await
    {
        Ok(_) => {}
        // Someone else wrote first (an eviction, a deletion): look again with the new object.
        Err(kube::Error::Api(status)) if status.code == 409 => {
            return Ok(Action::requeue(Duration::from_millis(50)));
        }
        Err(kube::Error::Api(status)) if status.code == 404 => {
            kubelet.forget_pod(&uid).await;
            return Ok(Action::await_change());
        }
        Err(error) => return Err(error.into()),
    }
    Ok(match next {
        Some(at) => Action::requeue(at.saturating_sub(record.seen.elapsed())),
        None => Action::await_change(),
    })
}

fn plans(pod: &Pod, kubelet: &Kubelet, pod_label: &str) -> Result<Vec<Plan>, String> {
    let annotations = pod.annotations();
    let fault_annotation = annotations.get(faults::POD_FAULT).map(String::as_str);
    let mut timing = kubelet.options.timing;
    if let Some(ready) =
        faults::ready_after(annotations.get(faults::READY_AFTER).map(String::as_str))?
    {
        timing.ready = ready;
    }
    let spec = pod.spec.as_ref().ok_or("the pod has no spec")?;
    let restart = RestartPolicy::parse(spec.restart_policy.as_deref());
    spec.containers
        .iter()
        .map(|container| {
            let image = container.image.clone().unwrap_or_default();
            Ok(Plan {
                fault: PodFault::for_container(&image, fault_annotation)?,
                container: container.name.clone(),
                image,
                pod: pod_label.to_owned(),
                restart,
                timing,
            })
        })
        .collect()
}

/// The kubelet of `node` speaking about `pod` (or one of its containers).
pub(super) fn subject(pod: &Pod, node: &str, container: Option<&str>) -> Subject {
    Subject {
        reference: ObjectReference {
            api_version: Some("v1".into()),
            kind: Some("Pod".into()),
            namespace: pod.namespace(),
            name: Some(pod.name_any()),
            uid: pod.uid(),
            resource_version: pod.resource_version(),
            field_path: container.map(|name| format!("spec.containers{{{name}}}")),
        },
        host: node.to_owned(),
        component: "kubelet",
    }
}

/// Seconds precision, as the API stores times.
fn wall(record: &PodRecord, offset: Duration) -> String {
    let at = record.seen_wall + SignedDuration::try_from(offset).unwrap_or(SignedDuration::ZERO);
    Timestamp::from_second(at.as_second())
        .unwrap_or(at)
        .to_string()
}

fn hex_id(seed: &str) -> String {
    Sha256::digest(seed.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

fn state_json(state: &State, record: &PodRecord, container_id: &str) -> Value {
    match state {
        State::Waiting { reason, message } => {
            let mut waiting = json!({ "reason": reason });
            if let Some(message) = message {
                waiting["message"] = json!(message);
            }
            json!({ "waiting": waiting })
        }
        State::Running { started } => json!({ "running": { "startedAt": wall(record, *started) } }),
        State::Terminated {
            exit_code,
            reason,
            started,
            finished,
        } => json!({ "terminated": {
            "exitCode": exit_code,
            "reason": reason,
            "startedAt": wall(record, *started),
            "finishedAt": wall(record, *finished),
            "containerID": container_id,
        }}),
    }
}

fn container_json(plan: &Plan, status: &Status, record: &PodRecord, uid: &str) -> Value {
    let id = |restart: u32| {
        format!(
            "containerd://{}",
            hex_id(&format!("{uid}/{}/{restart}", plan.container))
        )
    };
    let mut value = json!({
        "name": plan.container,
        "image": plan.image,
        "imageID": "",
        "ready": status.ready,
        "restartCount": status.restarts,
        "started": matches!(status.state, State::Running { .. }),
        "state": state_json(&status.state, record, &id(status.restarts)),
        "lastState": status.last.as_ref().map_or(json!({}), |last| state_json(last, record, &id(status.restarts.saturating_sub(1)))),
    });
    if status.started {
        value["imageID"] = json!(format!(
            "{}@sha256:{}",
            faults::split_image(&plan.image).0,
            hex_id(&plan.image)
        ));
        value["containerID"] = json!(id(status.restarts));
    }
    value
}

/// The pod phase kubelet derives from its containers.
fn phase(plans: &[Plan], statuses: &[Status]) -> &'static str {
    let all_final = plans
        .iter()
        .zip(statuses)
        .all(|(plan, status)| status.is_final(plan.restart));
    if all_final {
        let all_ok = statuses
            .iter()
            .all(|s| matches!(s.state, State::Terminated { exit_code: 0, .. }));
        return if all_ok { "Succeeded" } else { "Failed" };
    }
    if statuses.iter().all(|status| status.started) {
        "Running"
    } else {
        "Pending"
    }
}

fn condition(
    pod: &Pod,
    kind: &str,
    status: bool,
    reason: Option<&str>,
    message: Option<String>,
    now: &str,
) -> Value {
    let status = if status { "True" } else { "False" };
    // Keep the transition time while the condition's status stays the same, as kubelet does.
    let previous: Option<&PodCondition> = pod
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|all| all.iter().find(|c| c.type_ == kind));
    let since = previous
        .filter(|c| c.status == status)
        .and_then(|c| c.last_transition_time.as_ref())
        .map_or_else(|| now.to_owned(), |t| t.0.to_string());
    let mut value = json!({ "type": kind, "status": status, "lastProbeTime": null, "lastTransitionTime": since });
    if let Some(reason) = reason {
        value["reason"] = json!(reason);
    }
    if let Some(message) = message {
        value["message"] = json!(message);
    }
    value
}

fn status_patch(
    pod: &Pod,
    plans: &[Plan],
    statuses: &[Status],
    record: &PodRecord,
    node_index: usize,
) -> Value {
    let uid = pod.uid().unwrap_or_default();
    let phase = phase(plans, statuses);
    let now = wall(record, record.seen.elapsed());
    let unready: Vec<&str> = plans
        .iter()
        .zip(statuses)
        .filter(|(_, s)| !s.ready)
        .map(|(p, _)| p.container.as_str())
        .collect();
    let ready = unready.is_empty();
    let (reason, message) = if ready {
        (None, None)
    } else if phase == "Succeeded" {
        (Some("PodCompleted"), None)
    } else {
        (
            Some("ContainersNotReady"),
            Some(format!(
                "containers with unready status: [{}]",
                unready.join(" ")
            )),
        )
    };
    let pod_ip = format!(
        "10.244.{node_index}.{}",
        2 + u32::from(hex_id(&uid).as_bytes()[0]) % 250
    );
    json!({
        "metadata": { "resourceVersion": pod.resource_version() },
        "status": {
            "phase": phase,
            "hostIP": super::nodes::internal_ip(node_index),
            "podIP": pod_ip,
            "podIPs": [{ "ip": pod_ip }],
            "startTime": wall(record, Duration::ZERO),
            "conditions": [
                condition(pod, "Initialized", true, None, None, &now),
                condition(pod, "Ready", ready, reason, message.clone(), &now),
                condition(pod, "ContainersReady", ready, reason, message, &now),
                condition(pod, "PodScheduled", true, None, None, &now),
            ],
            "containerStatuses": plans
                .iter()
                .zip(statuses)
                .map(|(plan, status)| container_json(plan, status, record, &uid))
                .collect::<Vec<_>>(),
        }
    })
}
