//! The real controllers at work on simulated pods: Deployments become available, a stuck
//! rollout gets `ProgressDeadlineExceeded` and a rollback heals it, deletions finish, and the
//! API's optimistic concurrency and patch semantics are the real ones.

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::{Error, ResourceExt};
use robot_sre::testkit::lab::scenarios::{
    self, SCENARIO_DEADLINE, is_available, progressing_reason, wait_for, wait_for_pods,
    waiting_reason,
};
use serde_json::json;

use crate::helpers::TestNamespace;

fn ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|all| all.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

async fn replica_sets(ns: &TestNamespace, app: &str) -> Vec<ReplicaSet> {
    let params = ListParams::default().labels(&format!("app={app}"));
    ns.api::<ReplicaSet>().list(&params).await.unwrap().items
}

fn replica_sets_of(all: &[ReplicaSet], image_part: &str) -> Vec<ReplicaSet> {
    all.iter()
        .filter(|rs| {
            rs.spec
                .as_ref()
                .unwrap()
                .template
                .as_ref()
                .unwrap()
                .spec
                .as_ref()
                .unwrap()
                .containers[0]
                .image
                .as_deref()
                .unwrap()
                .contains(image_part)
        })
        .cloned()
        .collect()
}

#[tokio::test]
async fn a_deployment_becomes_available_with_running_ready_pods() {
    let ns = TestNamespace::create("deploy").await;
    let deployment = scenarios::healthy_deployment(&ns.client, &ns.name, "web", 2)
        .await
        .unwrap();
    let status = deployment.status.unwrap();
    assert_eq!(
        (status.ready_replicas, status.available_replicas),
        (Some(2), Some(2))
    );
    let pods = ns
        .api::<Pod>()
        .list(&ListParams::default().labels("app=web"))
        .await
        .unwrap()
        .items;
    assert_eq!(pods.len(), 2);
    for pod in &pods {
        let status = pod.status.as_ref().unwrap();
        assert_eq!(status.phase.as_deref(), Some("Running"));
        assert!(ready(pod));
        assert!(status.pod_ip.is_some() && status.host_ip.is_some() && status.start_time.is_some());
        let container = &status.container_statuses.as_ref().unwrap()[0];
        assert!(container.ready && container.state.as_ref().unwrap().running.is_some());
        assert!(
            pod.spec
                .as_ref()
                .unwrap()
                .node_name
                .as_deref()
                .unwrap()
                .starts_with("lab-node-")
        );
    }
}

#[tokio::test]
async fn a_stuck_rollout_exceeds_its_progress_deadline_and_a_rollback_heals_it() {
    let ns = TestNamespace::create("rollout").await;
    let stuck = scenarios::stuck_rollout(&ns.client, &ns.name, "checkout")
        .await
        .unwrap();
    let status = stuck.status.as_ref().unwrap();
    assert_eq!(
        status.available_replicas,
        Some(2),
        "the old ReplicaSet keeps serving"
    );
    assert_eq!(
        status.unavailable_replicas,
        Some(1),
        "the one surge pod cannot start"
    );
    let pods = ns
        .api::<Pod>()
        .list(&ListParams::default().labels("app=checkout"))
        .await
        .unwrap()
        .items;
    assert!(
        pods.iter()
            .any(|p| waiting_reason(p) == Some("ImagePullBackOff"))
    );

    // What `kubectl rollout undo` does: put the previous ReplicaSet's template back.
    let sets = replica_sets(&ns, "checkout").await;
    let good = replica_sets_of(&sets, ":1")
        .pop()
        .expect("the first ReplicaSet");
    let mut template = serde_json::to_value(good.spec.unwrap().template.unwrap()).unwrap();
    template["metadata"]["labels"]
        .as_object_mut()
        .unwrap()
        .remove("pod-template-hash");
    let deployments = ns.api::<Deployment>();
    deployments
        .patch(
            "checkout",
            &PatchParams::default(),
            &Patch::Merge(json!({ "spec": { "template": template } })),
        )
        .await
        .unwrap();
    let healed = wait_for(
        &deployments,
        "checkout",
        "a completed rollback",
        SCENARIO_DEADLINE,
        |d| is_available(d) && progressing_reason(d) == Some("NewReplicaSetAvailable"),
    )
    .await
    .unwrap();
    assert_eq!(healed.status.unwrap().unavailable_replicas, None);
    let sets = replica_sets(&ns, "checkout").await;
    let broken = replica_sets_of(&sets, ":fault-image-pull")
        .pop()
        .expect("the stuck ReplicaSet");
    assert_eq!(
        broken.spec.unwrap().replicas,
        Some(0),
        "the stuck ReplicaSet is scaled to zero"
    );
}

#[tokio::test]
async fn a_rollout_restart_replaces_every_pod_and_deletions_finish() {
    let ns = TestNamespace::create("restart").await;
    scenarios::healthy_deployment(&ns.client, &ns.name, "api", 2)
        .await
        .unwrap();
    let pods = ns.api::<Pod>();
    let before: Vec<String> = pods
        .list(&ListParams::default().labels("app=api"))
        .await
        .unwrap()
        .items
        .iter()
        .map(|p| p.uid().unwrap())
        .collect();

    // `kubectl rollout restart` stamps the template.
    let stamp = json!({ "spec": { "template": { "metadata": { "annotations": { "kubectl.kubernetes.io/restartedAt": "2026-11-21T10:00:00Z" } } } } });
    let deployments = ns.api::<Deployment>();
    deployments
        .patch("api", &PatchParams::default(), &Patch::Strategic(stamp))
        .await
        .unwrap();
    let after = wait_for_pods(
        &pods,
        "app=api",
        "only new, ready pods",
        SCENARIO_DEADLINE,
        |current| {
            current.len() == 2
                && current.iter().all(|p| {
                    ready(p)
                        && p.metadata.deletion_timestamp.is_none()
                        && !before.contains(&p.uid().unwrap())
                })
        },
    )
    .await
    .unwrap();
    assert_eq!(after.len(), 2);

    // Deleting one pod: the kubelet finishes the deletion and the ReplicaSet replaces it.
    let victim = after[0].name_any();
    let uid = after[0].uid().unwrap();
    pods.delete(&victim, &DeleteParams::default())
        .await
        .unwrap();
    wait_for_pods(
        &pods,
        "app=api",
        "a replacement pod",
        SCENARIO_DEADLINE,
        |current| current.len() == 2 && current.iter().all(|p| p.uid().unwrap() != uid && ready(p)),
    )
    .await
    .unwrap();
    assert!(
        pods.get_opt(&victim).await.unwrap().is_none(),
        "the deleted pod is gone, not Terminating"
    );
}

#[tokio::test]
async fn stale_writes_conflict_and_patches_follow_their_real_semantics() {
    let ns = TestNamespace::create("api").await;
    let deployments = ns.api::<Deployment>();
    deployments
        .create(
            &PostParams::default(),
            &scenarios::deployment("cart", 1, "registry.example/cart:1", None),
        )
        .await
        .unwrap();
    let stale = deployments.get("cart").await.unwrap();
    // Someone else scales it meanwhile (a patch carries no resourceVersion, so it applies).
    let scale = json!({ "spec": { "replicas": 2 } });
    deployments
        .patch("cart", &PatchParams::default(), &Patch::Merge(scale))
        .await
        .unwrap();
    match deployments
        .replace("cart", &PostParams::default(), &stale)
        .await
    {
        Err(Error::Api(status)) => {
            assert_eq!((status.code, status.reason.as_str()), (409, "Conflict"))
        }
        other => panic!("a stale resourceVersion must conflict, got {other:?}"),
    }

    // A strategic-merge patch merges containers by name: the image survives.
    let env = json!({ "spec": { "template": { "spec": { "containers": [{ "name": "app", "env": [{ "name": "MODE", "value": "safe" }] }] } } } });
    let merged = deployments
        .patch("cart", &PatchParams::default(), &Patch::Strategic(env))
        .await
        .unwrap();
    let container = &merged.spec.unwrap().template.spec.unwrap().containers[0];
    assert_eq!(container.image.as_deref(), Some("registry.example/cart:1"));
    assert_eq!(container.env.as_ref().unwrap()[0].name, "MODE");

    // A JSON merge patch replaces the list: without an image the container is invalid.
    let replace =
        json!({ "spec": { "template": { "spec": { "containers": [{ "name": "app" }] } } } });
    match deployments
        .patch("cart", &PatchParams::default(), &Patch::Merge(replace))
        .await
    {
        Err(Error::Api(status)) => assert_eq!(status.code, 422, "{status:?}"),
        other => panic!("expected 422 Invalid, got {other:?}"),
    }
}
