//! Scale within bounds and CronJob suspend/resume (with the CronJob version discovered).

use k8s_openapi::api::apps::v1::Deployment;
use kube::Api;
use kube::api::{ApiResource, DynamicObject, GroupVersionKind, PostParams};
use robot_sre::domain::ActionKind;
use robot_sre::ops::guard::{Guard, Verdict};
use robot_sre::ops::packet::{self, Status};
use robot_sre::ops::summary;
use robot_sre::testkit::lab::scenarios;
use serde_json::json;

use super::{approve_and_verify, approved, bot_with, opt_in, request, settings};
use crate::helpers::TestNamespace;

#[tokio::test]
async fn scale_records_the_previous_count_and_refuses_outside_its_bounds() {
    let ns = TestNamespace::create("ops-scale").await;
    scenarios::healthy_deployment(&ns.client, &ns.name, "search", 1)
        .await
        .unwrap();
    opt_in(&ns.client, &ns.name, "search").await;
    let ops = bot_with(settings(&ns.name)).await;
    let target = format!("{}/search", ns.name);

    let too_many = ops
        .propose(&request(ActionKind::Scale, &target, Some(50)))
        .await
        .unwrap();
    let bounds = too_many
        .guards
        .iter()
        .find(|g| g.guard == Guard::ScaleBounds)
        .unwrap();
    assert_eq!(bounds.verdict, Verdict::Refuse, "{}", bounds.detail);

    let req = request(ActionKind::Scale, &target, Some(3));
    let proposal = ops.propose(&req).await.unwrap();
    assert!(proposal.offerable(), "{:?}", proposal.refusals);
    let change = &proposal.changes[0];
    assert_eq!(
        (
            change.field.as_str(),
            change.from.as_i64(),
            change.to.as_i64()
        ),
        ("replicas", Some(1), Some(3))
    );
    assert_eq!(proposal.fallback, "scale search back to 1 replicas");
    let done = ops
        .execute(&req, &approved(&proposal.fingerprint))
        .await
        .unwrap();
    assert_eq!(done.status, Status::Verified, "{}", packet::readable(&done));
    let deployments: Api<Deployment> = ns.api();
    let live = deployments.get("search").await.unwrap();
    assert_eq!(summary::desired(&live), 3);
    assert_eq!(live.status.unwrap().ready_replicas, Some(3));
}

#[tokio::test]
async fn a_cronjob_is_suspended_and_resumed_on_the_version_the_cluster_serves() {
    let ns = TestNamespace::create("ops-cronjob").await;
    let ops = bot_with(settings(&ns.name)).await;
    let resource = ops.cluster().cronjob_resource().await.unwrap();
    // The lab's Kubernetes 1.20 serves CronJob only as batch/v1beta1; 1.21+ serve batch/v1.
    assert!(["batch/v1", "batch/v1beta1"].contains(&resource.api_version.as_str()));
    let gvk = GroupVersionKind::gvk("batch", &resource.version, "CronJob");
    let api: Api<DynamicObject> =
        Api::namespaced_with(ns.client.clone(), &ns.name, &ApiResource::from_gvk(&gvk));
    let cronjob: DynamicObject = serde_json::from_value(json!({
        "apiVersion": resource.api_version,
        "kind": "CronJob",
        "metadata": { "name": "reports", "labels": { "robot-sre.io/enabled": "true" } },
        "spec": {
            "schedule": "*/5 * * * *",
            "jobTemplate": { "spec": { "template": { "spec": {
                "restartPolicy": "Never",
                "containers": [{ "name": "report", "image": "registry.example/reports:1" }],
            } } } },
        },
    }))
    .unwrap();
    api.create(&PostParams::default(), &cronjob).await.unwrap();

    for (kind, expected) in [
        (ActionKind::SuspendCronjob, true),
        (ActionKind::ResumeCronjob, false),
    ] {
        let req = request(kind, &format!("{}/reports", ns.name), None);
        approve_and_verify(&ops, &req).await;
        assert_eq!(
            summary::suspended(&api.get("reports").await.unwrap()),
            expected
        );
    }
}
