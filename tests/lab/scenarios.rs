//! The seed scenarios show up through the real API as the incidents they stand for.
//! (The stuck rollout is in `workloads`, the node disk pressure in `nodes`.)

use k8s_openapi::api::apps::v1::Deployment;
use robot_sre::testkit::lab::scenarios::{self, SCENARIO_DEADLINE, wait_for, waiting_reason};

use crate::helpers::TestNamespace;

fn restarts(pod: &k8s_openapi::api::core::v1::Pod) -> i32 {
    pod.status
        .as_ref()
        .unwrap()
        .container_statuses
        .as_ref()
        .unwrap()[0]
        .restart_count
}

#[tokio::test]
async fn crashloop_in_a_two_replica_deployment_and_in_a_singleton() {
    let ns = TestNamespace::create("scn-crash").await;
    let (pair, single) = tokio::join!(
        scenarios::crashloop(&ns.client, &ns.name, "payments", 2),
        scenarios::crashloop(&ns.client, &ns.name, "ledger", 1),
    );
    let (pair, single) = (pair.unwrap(), single.unwrap());
    assert_eq!(pair.len(), 2);
    assert_eq!(single.len(), 1);
    for pod in pair.iter().chain(&single) {
        assert_eq!(waiting_reason(pod), Some("CrashLoopBackOff"));
        assert!(restarts(pod) >= 1);
    }
    // A crash-looping singleton serves nothing.
    let deployments = ns.api::<Deployment>();
    let ledger = wait_for(
        &deployments,
        "ledger",
        "an observed status",
        SCENARIO_DEADLINE,
        |d| d.status.as_ref().and_then(|s| s.replicas) == Some(1),
    )
    .await
    .unwrap();
    assert_eq!(ledger.status.unwrap().available_replicas, None);
}

#[tokio::test]
async fn image_pull_failure_in_a_new_deployment() {
    let ns = TestNamespace::create("scn-pull").await;
    let pods = scenarios::image_pull_failure(&ns.client, &ns.name, "search")
        .await
        .unwrap();
    assert_eq!(pods.len(), 1);
    assert_eq!(waiting_reason(&pods[0]), Some("ImagePullBackOff"));
    let deployments = ns.api::<Deployment>();
    wait_for(
        &deployments,
        "search",
        "one unavailable replica",
        SCENARIO_DEADLINE,
        |d| d.status.as_ref().and_then(|s| s.unavailable_replicas) == Some(1),
    )
    .await
    .unwrap();
}
