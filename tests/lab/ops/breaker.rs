//! Verification that fails: a restart that cannot fix a broken image is FAIL, not success, and
//! repeated failures open the circuit breaker until a human resets it.

use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use kube::Api;
use kube::api::PostParams;
use robot_sre::domain::ActionKind;
use robot_sre::ops::Approval;
use robot_sre::ops::guard::{Guard, Verdict};
use robot_sre::ops::packet::{self, Status};
use serde_json::json;

use super::{bot_with, request, settings};
use crate::helpers::TestNamespace;

/// One replica that always crashes, replaced all at once on a restart (Recreate), so a new
/// restart is never blocked by the previous one still rolling.
fn broken_worker() -> Deployment {
    serde_json::from_value(json!({
        "metadata": { "name": "worker", "labels": { "app": "worker", "robot-sre.io/enabled": "true" } },
        "spec": {
            "replicas": 1,
            "strategy": { "type": "Recreate" },
            "selector": { "matchLabels": { "app": "worker" } },
            "template": {
                "metadata": { "labels": { "app": "worker" } },
                "spec": { "containers": [{ "name": "app", "image": "registry.example/worker:fault-crashloop" }] },
            },
        },
    }))
    .unwrap()
}

#[tokio::test]
async fn restarts_that_do_not_help_fail_verification_and_open_the_breaker() {
    let ns = TestNamespace::create("ops-breaker").await;
    let deployments: Api<Deployment> = ns.api();
    deployments
        .create(&PostParams::default(), &broken_worker())
        .await
        .unwrap();
    let mut config = settings(&ns.name);
    config.breaker_threshold = 2;
    config.cooldown = Duration::from_millis(1);
    config.verify.deadline = Duration::from_secs(3);
    let ops = bot_with(config).await;
    let target = format!("{}/worker", ns.name);
    let bot = || Approval {
        actor: ops.bot(),
        fingerprint: None,
    };

    for attempt in 1..=2 {
        let done = ops
            .execute(&request(ActionKind::Restart, &target, None), &bot())
            .await
            .unwrap();
        assert_eq!(
            done.status,
            Status::VerificationFailed,
            "attempt {attempt}: {}",
            packet::readable(&done)
        );
        assert!(done.escalate, "a failed verification escalates");
        let verdict = done.verification.as_ref().unwrap();
        assert!(
            verdict
                .reasons
                .iter()
                .any(|r| r.contains("rollout_complete")),
            "{:?}",
            verdict.reasons
        );
        let breaker = done.breaker.as_ref().unwrap();
        assert_eq!((breaker.failures, breaker.open), (attempt, attempt == 2));
    }

    let refused = ops
        .propose(&request(ActionKind::Restart, &target, None))
        .await
        .unwrap();
    let breaker = refused
        .guards
        .iter()
        .find(|g| g.guard == Guard::CircuitBreaker)
        .unwrap();
    assert_eq!(breaker.verdict, Verdict::Refuse);
    assert!(
        breaker.detail.contains("a human must reset it"),
        "{}",
        breaker.detail
    );
    let done = ops
        .execute(&request(ActionKind::Restart, &target, None), &bot())
        .await
        .unwrap();
    assert_eq!(done.status, Status::Refused);
    assert!(done.applied.is_empty());

    let workload = format!("{}/Deployment/worker", ns.name);
    let before = ops.limits().reset_breaker(&workload).await.unwrap();
    assert!(before.open);
    let after = ops
        .propose(&request(ActionKind::Restart, &target, None))
        .await
        .unwrap();
    let breaker = after
        .guards
        .iter()
        .find(|g| g.guard == Guard::CircuitBreaker)
        .unwrap();
    assert_eq!(breaker.verdict, Verdict::Pass);
}
