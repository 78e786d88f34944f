//! Execution in two phases: apply stores an Applied packet before verification, a fresh bot
//! (as after a restart) verifies it, each phase is idempotent, and a re-run after a crash
//! during the writes never writes twice.

use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use kube::Api;
use kube::api::{ListParams, Patch, PatchParams};
use robot_sre::audit::{AuditKind, AuditLog};
use robot_sre::domain::ActionKind;
use robot_sre::ops::packet::{self, Status};
use robot_sre::ops::summary;
use robot_sre::ops::{ActionRequest, Ops};
use robot_sre::testkit::lab::scenarios;
use robot_sre::testkit::process::poll_until;
use serde_json::json;

use super::{approved, bot_with, opt_in, request, settings};
use crate::helpers::{TestNamespace, find};

async fn generation(ns: &TestNamespace, name: &str) -> Option<i64> {
    let api: Api<Deployment> = ns.api();
    api.get(name).await.unwrap().metadata.generation
}

/// The same bot configuration and state store in a new `Ops`, as a restarted process has.
fn restarted(ops: &Ops, namespace: &str) -> Ops {
    Ops::new(ops.cluster().clone(), ops.store(), settings(namespace))
}

/// Starts `req` on a bot that stops for good right before its first write, waits until its
/// intent is stored, and kills it; then frees its request claim, as the lease lapsing would.
async fn crash_before_the_write(ops: &Ops, req: &ActionRequest, fingerprint: &str) {
    let stuck = ops
        .clone()
        .interleave_before_apply(Arc::new(|_| futures::future::pending::<()>().boxed()));
    let (req_c, approval) = (req.clone(), approved(fingerprint));
    let task = tokio::spawn(async move { stuck.apply(&req_c, &approval).await });
    let store = ops.store();
    let intent = format!("ops:intent:{}", req.id);
    let stored = poll_until(
        Duration::from_secs(60),
        Duration::from_millis(50),
        || async { store.get(&intent).await.ok().flatten() },
    )
    .await;
    assert!(stored.is_some(), "the attempt stored its intent");
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    let claim = format!("ops:request:{}", req.id);
    assert!(store.release(&claim, "running").await.unwrap());
}

#[tokio::test]
async fn apply_stores_an_applied_packet_and_a_second_apply_writes_nothing() {
    let ns = TestNamespace::create("ops-apply").await;
    scenarios::healthy_deployment(&ns.client, &ns.name, "web", 2)
        .await
        .unwrap();
    opt_in(&ns.client, &ns.name, "web").await;
    let ops = bot_with(settings(&ns.name)).await;
    let req = request(ActionKind::Restart, &format!("{}/web", ns.name), None);
    let proposal = ops.propose(&req).await.unwrap();
    let before = generation(&ns, "web").await;

    let applied = ops
        .apply(&req, &approved(&proposal.fingerprint))
        .await
        .unwrap();
    assert_eq!(
        applied.status,
        Status::Applied,
        "{}",
        packet::readable(&applied)
    );
    assert_eq!(applied.applied.len(), 1);
    assert!(applied.verification.is_none() && applied.verify_plan.is_some());
    assert_eq!(ops.packet(&req.id).await.unwrap().as_ref(), Some(&applied));
    let written = generation(&ns, "web").await;
    assert!(written > before, "{written:?} after {before:?}");
    let events = ns.events_for("web").await;
    assert!(find(&events, "RobotSRERestartApplied").is_some());
    assert!(find(&events, "RobotSRERestartVerified").is_none());

    let again = ops
        .apply(&req, &approved(&proposal.fingerprint))
        .await
        .unwrap();
    assert_eq!(again, applied);
    assert_eq!(generation(&ns, "web").await, written, "no second write");
}

#[tokio::test]
async fn verify_applied_passes_in_a_fresh_bot_and_returns_the_same_packet_when_repeated() {
    let ns = TestNamespace::create("ops-verify").await;
    scenarios::healthy_deployment(&ns.client, &ns.name, "api", 2)
        .await
        .unwrap();
    opt_in(&ns.client, &ns.name, "api").await;
    let ops = bot_with(settings(&ns.name)).await;
    let req = request(ActionKind::Restart, &format!("{}/api", ns.name), None);
    let proposal = ops.propose(&req).await.unwrap();
    let applied = ops
        .apply(&req, &approved(&proposal.fingerprint))
        .await
        .unwrap();
    assert_eq!(
        applied.status,
        Status::Applied,
        "{}",
        packet::readable(&applied)
    );

    let fresh = restarted(&ops, &ns.name);
    drop(ops);
    let done = fresh.verify_applied(&req.id).await.unwrap();
    assert_eq!(done.status, Status::Verified, "{}", packet::readable(&done));
    assert!(done.verification.as_ref().is_some_and(|v| v.passed()));
    assert!(done.after.is_some() && done.breaker.is_some() && !done.escalate);
    assert_eq!(done.applied, applied.applied);
    let again = fresh.verify_applied(&req.id).await.unwrap();
    assert_eq!(again, done);
    assert_eq!(fresh.packet(&req.id).await.unwrap(), Some(done.clone()));

    let events = ns.events_for("api").await;
    assert!(find(&events, "RobotSRERestartVerified").is_some());
    let trail = AuditLog::new(fresh.store())
        .trail(&req.incident)
        .await
        .unwrap();
    let verifications = trail
        .iter()
        .filter(|r| r.entry.kind == AuditKind::Verification)
        .count();
    assert_eq!(verifications, 1, "verified once");
}

#[tokio::test]
async fn apply_of_a_target_changed_since_the_prompt_is_stale_and_writes_nothing() {
    let ns = TestNamespace::create("ops-stale").await;
    scenarios::healthy_deployment(&ns.client, &ns.name, "cart", 2)
        .await
        .unwrap();
    opt_in(&ns.client, &ns.name, "cart").await;
    let ops = bot_with(settings(&ns.name)).await;
    let req = request(ActionKind::Restart, &format!("{}/cart", ns.name), None);
    let proposal = ops.propose(&req).await.unwrap();
    let deployments: Api<Deployment> = ns.api();
    let patch = json!({ "spec": { "replicas": 3 } });
    deployments
        .patch("cart", &PatchParams::default(), &Patch::Merge(patch))
        .await
        .unwrap();
    let changed = generation(&ns, "cart").await;

    let stale = ops
        .apply(&req, &approved(&proposal.fingerprint))
        .await
        .unwrap();
    assert_eq!(stale.status, Status::Stale, "{}", packet::readable(&stale));
    assert!(stale.applied.is_empty() && stale.verify_plan.is_none());
    assert!(stale.reasons.iter().any(|r| r.contains("ask again")));
    assert_eq!(generation(&ns, "cart").await, changed);
    assert_eq!(ops.verify_applied(&req.id).await.unwrap(), stale);
}

#[tokio::test]
async fn apply_after_a_crash_before_the_write_writes_exactly_once() {
    let ns = TestNamespace::create("ops-crash-early").await;
    scenarios::healthy_deployment(&ns.client, &ns.name, "shop", 2)
        .await
        .unwrap();
    opt_in(&ns.client, &ns.name, "shop").await;
    let ops = bot_with(settings(&ns.name)).await;
    let req = request(ActionKind::Restart, &format!("{}/shop", ns.name), None);
    let proposal = ops.propose(&req).await.unwrap();
    let before = generation(&ns, "shop").await;
    crash_before_the_write(&ops, &req, &proposal.fingerprint).await;
    assert_eq!(generation(&ns, "shop").await, before, "nothing was written");

    let fresh = restarted(&ops, &ns.name);
    let done = fresh
        .execute(&req, &approved(&proposal.fingerprint))
        .await
        .unwrap();
    assert_eq!(done.status, Status::Verified, "{}", packet::readable(&done));
    assert_eq!(done.applied.len(), 1, "the re-run wrote");
    let sets: Api<ReplicaSet> = ns.api();
    let sets = sets.list(&ListParams::default()).await.unwrap().items;
    assert_eq!(sets.len(), 2, "exactly one restart");
}

#[tokio::test]
async fn apply_after_a_crash_once_the_rollback_landed_adopts_it_and_does_not_roll_back_again() {
    let ns = TestNamespace::create("ops-crash-late").await;
    scenarios::stuck_rollout(&ns.client, &ns.name, "checkout")
        .await
        .unwrap();
    opt_in(&ns.client, &ns.name, "checkout").await;
    let crashed = bot_with(settings(&ns.name)).await;
    let req = request(ActionKind::Rollback, &format!("{}/checkout", ns.name), None);
    let proposal = crashed.propose(&req).await.unwrap();
    assert!(proposal.offerable(), "{:?}", proposal.refusals);
    crash_before_the_write(&crashed, &req, &proposal.fingerprint).await;
    // The crashed attempt's write lands: the same request sent by a bot whose state is
    // elsewhere, so the crashed bot's store holds only the intent, as after a crash between
    // the write and the Applied packet.
    let other = bot_with(settings(&ns.name)).await;
    let landed = other
        .apply(&req, &approved(&proposal.fingerprint))
        .await
        .unwrap();
    assert_eq!(
        landed.status,
        Status::Applied,
        "{}",
        packet::readable(&landed)
    );
    let written = generation(&ns, "checkout").await;

    let fresh = restarted(&crashed, &ns.name);
    let adopted = fresh
        .apply(&req, &approved(&proposal.fingerprint))
        .await
        .unwrap();
    assert_eq!(
        adopted.status,
        Status::Applied,
        "{}",
        packet::readable(&adopted)
    );
    assert!(adopted.applied.is_empty(), "nothing sent again");
    assert!(adopted.notes.iter().any(|n| n.contains("interrupted")));
    assert_eq!(
        generation(&ns, "checkout").await,
        written,
        "no second write"
    );

    let done = fresh.verify_applied(&req.id).await.unwrap();
    assert_eq!(done.status, Status::Verified, "{}", packet::readable(&done));
    let deployments: Api<Deployment> = ns.api();
    let live = deployments.get("checkout").await.unwrap();
    assert_eq!(
        summary::images(live.spec.as_ref().map(|s| &s.template)),
        ["registry.example/checkout:1"],
        "rolled back once, to the revision the human approved"
    );
}
