//! The seed incident scenarios, created through the real API of a lab (or any cluster whose
//! kubelet speaks the [fault vocabulary](super::kubelet::faults)): each helper builds the
//! workload, then waits until the cluster shows the incident the way a real one would.
//!
//! | helper | what the cluster shows |
//! |---|---|
//! | [`stuck_rollout`] | a 2-replica Deployment whose new image cannot be pulled: `Progressing=False`, reason `ProgressDeadlineExceeded`; the old ReplicaSet still serves |
//! | [`crashloop`] | every pod of a Deployment (2 replicas, or 1 — a singleton) in `CrashLoopBackOff` |
//! | [`crash_one_pod`] | one pod of a healthy Deployment in `CrashLoopBackOff` on a pod-local fault; its siblings serve |
//! | [`image_pull_failure`] | a new 1-replica Deployment whose only pod is in `ImagePullBackOff` |
//! | [`disk_pressure`] | a node with `DiskPressure=True`, its taint and events, a BestEffort pod evicted, and a backlog of Succeeded and Failed pods on it |

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Namespace, Node, Pod, ServiceAccount};
use kube::api::{ListParams, Patch, PatchParams, PostParams};
use kube::{Api, Client, Resource};
use serde::de::DeserializeOwned;
use serde_json::json;

use super::LabError;
use super::kubelet::faults::{NODE_FAULT, NodeFault, POD_FAULT, PodFault};
use crate::testkit::process::poll_until;

/// How long a scenario may take to show up. The slowest, a stuck rollout, needs its
/// progress deadline plus the deployment controller's next sync.
pub const SCENARIO_DEADLINE: Duration = Duration::from_secs(60);

/// The progress deadline of [`stuck_rollout`] deployments, in seconds (the Kubernetes default is
/// 600).
pub const PROGRESS_DEADLINE_SECONDS: i32 = 5;

const POLL: Duration = Duration::from_millis(100);

/// Polls `name` until `ready` holds; the object as it then was.
///
/// # Errors
/// [`LabError::NotReady`] naming `what` when the deadline passes.
pub async fn wait_for<K>(
    api: &Api<K>,
    name: &str,
    what: &str,
    deadline: Duration,
    ready: impl Fn(&K) -> bool,
) -> Result<K, LabError>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug,
{
    poll_until(deadline, POLL, || async {
        api.get_opt(name)
            .await
            .ok()
            .flatten()
            .filter(|object| ready(object))
    })
    .await
    .ok_or_else(|| LabError::NotReady {
        what: format!("{what} ({name})"),
        waited: deadline,
        logs: None,
    })
}

/// Polls the pods matching `selector` until `ready` holds for the whole list (and it is not
/// empty); the pods as they then were.
///
/// # Errors
/// [`LabError::NotReady`] naming `what` when the deadline passes.
pub async fn wait_for_pods(
    api: &Api<Pod>,
    selector: &str,
    what: &str,
    deadline: Duration,
    ready: impl Fn(&[Pod]) -> bool,
) -> Result<Vec<Pod>, LabError> {
    let params = ListParams::default().labels(selector);
    poll_until(deadline, POLL, || async {
        let pods = api.list(&params).await.ok()?.items;
        (!pods.is_empty() && ready(&pods)).then_some(pods)
    })
    .await
    .ok_or_else(|| LabError::NotReady {
        what: format!("{what} ({selector})"),
        waited: deadline,
        logs: None,
    })
}

/// Creates `name` (unless it exists) and waits until pods can be created in it: the
/// ServiceAccount admission plugin refuses pods until the token controller has given `default`
/// its token.
///
/// # Errors
/// When the API refuses the namespace, or the token does not appear in time.
pub async fn create_namespace(client: &Client, name: &str) -> Result<(), LabError> {
    let namespace: Namespace = serde_json::from_value(json!({
        "metadata": { "name": name, "labels": { "robot-sre.dev/lab": "true" } }
    }))
    .map_err(|error| LabError::Setup(error.to_string()))?;
    match Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &namespace)
        .await
    {
        Ok(_) => {}
        Err(kube::Error::Api(status)) if status.code == 409 => {}
        Err(error) => return Err(error.into()),
    }
    let accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), name);
    wait_for(
        &accounts,
        "default",
        "the default service account's token",
        SCENARIO_DEADLINE,
        |account| {
            account
                .secrets
                .as_ref()
                .is_some_and(|secrets| !secrets.is_empty())
        },
    )
    .await?;
    Ok(())
}

/// A Deployment of `replicas` pods with one container `app`; `fault` goes on the pod template.
pub fn deployment(name: &str, replicas: i32, image: &str, fault: Option<PodFault>) -> Deployment {
    let mut annotations = BTreeMap::new();
    if let Some(fault) = fault {
        annotations.insert(POD_FAULT.to_owned(), fault.as_str().to_owned());
    }
    serde_json::from_value(json!({
        "metadata": { "name": name, "labels": { "app": name } },
        "spec": {
            "replicas": replicas,
            "progressDeadlineSeconds": PROGRESS_DEADLINE_SECONDS,
            "revisionHistoryLimit": 10,
            "selector": { "matchLabels": { "app": name } },
            "template": {
                "metadata": { "labels": { "app": name }, "annotations": annotations },
                "spec": {
                    "terminationGracePeriodSeconds": 5,
                    "containers": [{ "name": "app", "image": image }],
                },
            },
        },
    }))
    .expect("a valid Deployment")
}

/// Labels the Deployment `namespace/name` with the default opt-in label
/// (`robot-sre.io/enabled=true`), as its owner would.
///
/// # Errors
/// When the API refuses the patch.
pub async fn opt_in(client: &Client, namespace: &str, name: &str) -> Result<(), LabError> {
    let api: Api<Deployment> = Api::namespaced(client.clone(), namespace);
    let patch = json!({ "metadata": { "labels": { "robot-sre.io/enabled": "true" } } });
    api.patch(name, &PatchParams::default(), &Patch::Merge(patch))
        .await?;
    Ok(())
}

/// Whether the Deployment has all its replicas updated and available.
pub fn is_available(deployment: &Deployment) -> bool {
    let wanted = deployment
        .spec
        .as_ref()
        .and_then(|s| s.replicas)
        .unwrap_or(1);
    let generation = deployment.metadata.generation;
    deployment.status.as_ref().is_some_and(|status| {
        status.observed_generation == generation
            && status.updated_replicas == Some(wanted)
            && status.available_replicas == Some(wanted)
            && status.replicas == Some(wanted)
    })
}

/// The reason of the Deployment's `Progressing` condition.
pub fn progressing_reason(deployment: &Deployment) -> Option<&str> {
    deployment
        .status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|condition| condition.type_ == "Progressing")?
        .reason
        .as_deref()
}

/// The waiting reason of the pod's first container, e.g. `CrashLoopBackOff`.
pub fn waiting_reason(pod: &Pod) -> Option<&str> {
    pod.status
        .as_ref()?
        .container_statuses
        .as_ref()?
        .first()?
        .state
        .as_ref()?
        .waiting
        .as_ref()?
        .reason
        .as_deref()
}

fn selector(name: &str) -> String {
    format!("app={name}")
}

/// Creates a healthy Deployment and waits until it is available.
///
/// # Errors
/// When the API refuses it or it is not available in time.
pub async fn healthy_deployment(
    client: &Client,
    namespace: &str,
    name: &str,
    replicas: i32,
) -> Result<Deployment, LabError> {
    let api: Api<Deployment> = Api::namespaced(client.clone(), namespace);
    let image = format!("registry.example/{name}:1");
    api.create(
        &PostParams::default(),
        &deployment(name, replicas, &image, None),
    )
    .await?;
    wait_for(
        &api,
        name,
        "an available deployment",
        SCENARIO_DEADLINE,
        is_available,
    )
    .await
}

/// A stuck rollout: a healthy 2-replica Deployment is rolled out to an image that cannot be
/// pulled; the deployment controller reports `ProgressDeadlineExceeded`.
///
/// # Errors
/// When a step is refused or the condition does not appear in time.
pub async fn stuck_rollout(
    client: &Client,
    namespace: &str,
    name: &str,
) -> Result<Deployment, LabError> {
    healthy_deployment(client, namespace, name, 2).await?;
    let api: Api<Deployment> = Api::namespaced(client.clone(), namespace);
    let broken = format!(
        "registry.example/{name}:fault-{}",
        PodFault::ImagePull.as_str()
    );
    let patch = json!({ "spec": { "template": { "spec": { "containers": [{ "name": "app", "image": broken }] } } } });
    api.patch(name, &PatchParams::default(), &Patch::Strategic(patch))
        .await?;
    wait_for(
        &api,
        name,
        "ProgressDeadlineExceeded",
        SCENARIO_DEADLINE,
        |d| progressing_reason(d) == Some("ProgressDeadlineExceeded"),
    )
    .await
}

/// Every pod of a new Deployment crash-looping: `replicas` 2 for the common case, 1 for a
/// singleton (where deleting the pod is an outage).
///
/// # Errors
/// When a step is refused or the pods do not crash-loop in time.
pub async fn crashloop(
    client: &Client,
    namespace: &str,
    name: &str,
    replicas: i32,
) -> Result<Vec<Pod>, LabError> {
    let api: Api<Deployment> = Api::namespaced(client.clone(), namespace);
    let image = format!("registry.example/{name}:1");
    api.create(
        &PostParams::default(),
        &deployment(name, replicas, &image, Some(PodFault::CrashLoop)),
    )
    .await?;
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    wait_for_pods(
        &pods,
        &selector(name),
        "pods in CrashLoopBackOff",
        SCENARIO_DEADLINE,
        |pods| {
            pods.len() == usize::try_from(replicas).unwrap_or(0)
                && pods
                    .iter()
                    .all(|pod| waiting_reason(pod) == Some("CrashLoopBackOff"))
        },
    )
    .await
}

/// One pod of a healthy Deployment (`app=<name>`) put into `CrashLoopBackOff` through its own
/// fault annotation (a transient, pod-local fault: its replacement starts cleanly); the pod as
/// it then is.
///
/// # Errors
/// When the Deployment has no pod, a step is refused, or the crash loop does not show in time.
pub async fn crash_one_pod(client: &Client, namespace: &str, name: &str) -> Result<Pod, LabError> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let victim = pods
        .list(&ListParams::default().labels(&selector(name)))
        .await?
        .items
        .into_iter()
        .next()
        .ok_or_else(|| LabError::Setup(format!("{namespace}/{name} has no pod to crash")))?;
    let victim = victim.metadata.name.unwrap_or_default();
    let patch =
        json!({ "metadata": { "annotations": { POD_FAULT: PodFault::CrashLoop.as_str() } } });
    pods.patch(&victim, &PatchParams::default(), &Patch::Merge(patch))
        .await?;
    wait_for(
        &pods,
        &victim,
        "CrashLoopBackOff",
        SCENARIO_DEADLINE,
        |pod| waiting_reason(pod) == Some("CrashLoopBackOff"),
    )
    .await
}

/// A new 1-replica Deployment whose image cannot be pulled.
///
/// # Errors
/// When a step is refused or the pod does not reach `ImagePullBackOff` in time.
pub async fn image_pull_failure(
    client: &Client,
    namespace: &str,
    name: &str,
) -> Result<Vec<Pod>, LabError> {
    let api: Api<Deployment> = Api::namespaced(client.clone(), namespace);
    let image = format!(
        "registry.example/{name}:fault-{}",
        PodFault::ImagePull.as_str()
    );
    api.create(&PostParams::default(), &deployment(name, 1, &image, None))
        .await?;
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    wait_for_pods(
        &pods,
        &selector(name),
        "a pod in ImagePullBackOff",
        SCENARIO_DEADLINE,
        |pods| {
            pods.iter()
                .all(|pod| waiting_reason(pod) == Some("ImagePullBackOff"))
        },
    )
    .await
}

/// A bare pod bound straight to `node` (as a static or pre-scheduled pod is), labelled `app=<name>`.
pub fn pod_on_node(name: &str, node: &str, fault: Option<PodFault>, restart_policy: &str) -> Pod {
    let annotations: BTreeMap<String, String> = fault
        .map(|fault| (POD_FAULT.to_owned(), fault.as_str().to_owned()))
        .into_iter()
        .collect();
    serde_json::from_value(json!({
        "metadata": { "name": name, "labels": { "app": name, "robot-sre.dev/backlog": "true" }, "annotations": annotations },
        "spec": {
            "nodeName": node,
            "restartPolicy": restart_policy,
            "tolerations": [{ "operator": "Exists" }],
            "containers": [{ "name": "app", "image": "registry.example/batch:1" }],
        },
    }))
    .expect("a valid Pod")
}

/// What [`disk_pressure`] left on the node.
#[derive(Debug)]
pub struct DiskPressure {
    pub node: Node,
    /// The backlog: finished pods (Succeeded and Failed) still on the node.
    pub finished: Vec<Pod>,
    /// The BestEffort pod the kubelet evicted.
    pub evicted: Pod,
}

/// Node disk pressure with a backlog: `succeeded` + `failed` finished pods and one running
/// BestEffort pod on `node`, then `DiskPressure` on the node, which evicts the running pod.
///
/// The node is cluster-wide state: give each concurrent test its own node.
///
/// # Errors
/// When a step is refused or the node does not show the pressure in time.
pub async fn disk_pressure(
    client: &Client,
    namespace: &str,
    node: &str,
    succeeded: usize,
    failed: usize,
) -> Result<DiskPressure, LabError> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let finished_pods = (0..succeeded)
        .map(|i| (format!("report-ok-{i}"), PodFault::Succeed))
        .chain((0..failed).map(|i| (format!("report-failed-{i}"), PodFault::Fail)));
    for (name, fault) in finished_pods {
        pods.create(
            &PostParams::default(),
            &pod_on_node(&name, node, Some(fault), "Never"),
        )
        .await?;
    }
    let finished = wait_for_pods(
        &pods,
        "robot-sre.dev/backlog=true",
        "the finished backlog",
        SCENARIO_DEADLINE,
        |pods| {
            pods.len() == succeeded + failed
                && pods.iter().all(|pod| {
                    matches!(
                        pod.status.as_ref().and_then(|s| s.phase.as_deref()),
                        Some("Succeeded" | "Failed")
                    )
                })
        },
    )
    .await?;
    let victim = "cache-warmer";
    pods.create(
        &PostParams::default(),
        &pod_on_node(victim, node, None, "Always"),
    )
    .await?;
    wait_for(&pods, victim, "a running pod", SCENARIO_DEADLINE, |pod| {
        pod.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running")
    })
    .await?;
    let nodes: Api<Node> = Api::all(client.clone());
    set_node_fault(client, node, Some(NodeFault::DiskPressure)).await?;
    let node = wait_for(
        &nodes,
        node,
        "DiskPressure=True",
        SCENARIO_DEADLINE,
        |node| node_condition(node, "DiskPressure") == Some("True"),
    )
    .await?;
    let evicted = wait_for(&pods, victim, "an eviction", SCENARIO_DEADLINE, |pod| {
        pod.status.as_ref().and_then(|s| s.reason.as_deref()) == Some("Evicted")
    })
    .await?;
    Ok(DiskPressure {
        node,
        finished,
        evicted,
    })
}

/// Sets (or with `None` clears) the node's fault annotation.
///
/// # Errors
/// When the API refuses the patch.
pub async fn set_node_fault(
    client: &Client,
    node: &str,
    fault: Option<NodeFault>,
) -> Result<(), LabError> {
    let patch =
        json!({ "metadata": { "annotations": { NODE_FAULT: fault.map(NodeFault::as_str) } } });
    Api::<Node>::all(client.clone())
        .patch(node, &PatchParams::default(), &Patch::Merge(patch))
        .await?;
    Ok(())
}

/// The status of the node's condition `kind`.
pub fn node_condition<'a>(node: &'a Node, kind: &str) -> Option<&'a str> {
    node.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|condition| condition.type_ == kind)
        .map(|condition| condition.status.as_str())
}
