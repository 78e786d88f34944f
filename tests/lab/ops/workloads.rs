//! Deployment and pod actions: rollback of a stuck rollout, deleting a crash-looping pod,
//! the replica guardrail, idempotent re-runs, cooldown, GitOps ownership and conflicts.

use std::sync::Arc;

use futures::FutureExt;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{ListParams, Patch, PatchParams};
use kube::{Api, ResourceExt};
use robot_sre::audit::{AuditKind, AuditLog};
use robot_sre::domain::ActionKind;
use robot_sre::ops::guard::{Guard, Verdict};
use robot_sre::ops::packet::{self, Status};
use robot_sre::ops::summary::{self, RESTARTED_AT};
use robot_sre::testkit::lab::scenarios;
use serde_json::json;

use super::{approve_and_verify, approved, bot_with, by_bot, opt_in, request, settings};
use crate::helpers::{TestNamespace, find};

fn refused_by(packet_guards: &[robot_sre::ops::guard::GuardResult], guard: Guard) -> bool {
    packet_guards
        .iter()
        .any(|g| g.guard == guard && g.verdict == Verdict::Refuse)
}

#[tokio::test]
async fn rollback_of_a_stuck_rollout_is_verified_and_leaves_a_packet() {
    let ns = TestNamespace::create("ops-rollback").await;
    scenarios::stuck_rollout(&ns.client, &ns.name, "checkout")
        .await
        .unwrap();
    opt_in(&ns.client, &ns.name, "checkout").await;
    let ops = bot_with(settings(&ns.name)).await;
    let req = request(ActionKind::Rollback, &format!("{}/checkout", ns.name), None);

    let proposal = ops.propose(&req).await.unwrap();
    assert!(proposal.offerable(), "{:?}", proposal.refusals);
    assert!(
        proposal.summary.contains("from revision 2 to 1"),
        "{}",
        proposal.summary
    );
    assert!(
        proposal.summary.contains("registry.example/checkout:1"),
        "{}",
        proposal.summary
    );
    assert!(!proposal.preview.is_empty() && proposal.preview.iter().all(|a| a.dry_run));
    assert!(proposal.permissions.iter().all(|p| p.allowed));

    let done = ops
        .execute(&req, &approved(&proposal.fingerprint))
        .await
        .unwrap();
    assert_eq!(done.status, Status::Verified, "{}", packet::readable(&done));
    assert!(done.verification.as_ref().is_some_and(|v| v.passed()));
    assert!(done.before.is_some() && done.after.is_some());
    let deployments: Api<Deployment> = ns.api();
    let live = deployments.get("checkout").await.unwrap();
    assert_eq!(
        summary::images(live.spec.as_ref().map(|s| &s.template)),
        ["registry.example/checkout:1"]
    );

    // A Kubernetes Event on the Deployment names the incident.
    let events = ns.events_for("checkout").await;
    let applied = find(&events, "RobotSRERollbackApplied").expect("an Applied event");
    assert!(
        applied
            .message
            .as_deref()
            .unwrap_or("")
            .contains(req.incident.as_str())
    );
    assert!(find(&events, "RobotSRERollbackVerified").is_some());

    // The audit trail holds the proposal, the guardrails, the write, the result and the verdict.
    let trail = AuditLog::new(ops.store())
        .trail(&req.incident)
        .await
        .unwrap();
    let kinds: Vec<AuditKind> = trail.iter().map(|r| r.entry.kind).collect();
    for kind in [
        AuditKind::ActionProposed,
        AuditKind::GuardrailResults,
        AuditKind::ToolCall,
        AuditKind::ActionResult,
        AuditKind::Verification,
    ] {
        assert!(kinds.contains(&kind), "{kind:?} missing from {kinds:?}");
    }
    assert_eq!(
        done.audit_ids.len(),
        trail.len() - 1,
        "all but the proposal"
    );

    // The packet is stored and exports as files.
    let stored = ops.packet(&req.id).await.unwrap().expect("a stored packet");
    assert_eq!(stored, done);
    let dir = tempfile::tempdir().unwrap();
    let out = packet::export(&stored, dir.path()).unwrap();
    for file in [
        "packet.json",
        "guards.json",
        "rbac.json",
        "before.json",
        "after.json",
        "verification.json",
        "timeline.json",
        "audit.json",
        "packet.txt",
    ] {
        assert!(out.join(file).is_file(), "{file} missing");
    }
    let text = std::fs::read_to_string(out.join("packet.txt")).unwrap();
    assert!(
        text.contains("Status:   Verified") && text.contains("U123ONCALL on slack"),
        "{text}"
    );

    // The same request id again sends nothing: same packet, no new generation.
    let generation = live.metadata.generation;
    let again = ops
        .execute(&req, &approved(&proposal.fingerprint))
        .await
        .unwrap();
    assert_eq!(again, done);
    assert_eq!(
        deployments
            .get("checkout")
            .await
            .unwrap()
            .metadata
            .generation,
        generation
    );
}

async fn crash_one_pod(ns: &TestNamespace, app: &str) -> Pod {
    scenarios::crash_one_pod(&ns.client, &ns.name, app)
        .await
        .unwrap()
}

#[tokio::test]
async fn deleting_the_crash_looping_pod_of_two_gets_a_ready_replacement_then_cools_down() {
    let ns = TestNamespace::create("ops-delete").await;
    scenarios::healthy_deployment(&ns.client, &ns.name, "api", 2)
        .await
        .unwrap();
    opt_in(&ns.client, &ns.name, "api").await;
    let bad = crash_one_pod(&ns, "api").await;
    let ops = bot_with(settings(&ns.name)).await;
    let req = request(
        ActionKind::DeletePod,
        &format!("{}/{}", ns.name, bad.name_any()),
        None,
    );

    let done = approve_and_verify(&ops, &req).await;
    assert!(
        done.verification
            .as_ref()
            .unwrap()
            .observed
            .contains_key("replacement_pod_ready")
    );
    let pods: Api<Pod> = ns.api();
    let live = pods
        .list(&ListParams::default().labels("app=api"))
        .await
        .unwrap()
        .items;
    assert!(
        live.iter().all(|p| p.metadata.uid != bad.metadata.uid),
        "the bad pod is gone"
    );
    assert_eq!(live.iter().filter(|p| summary::is_ready(p)).count(), 2);

    // Another pod of the same Deployment within the cooldown: refused, nothing deleted.
    let other = &live[0];
    let second = request(
        ActionKind::DeletePod,
        &format!("{}/{}", ns.name, other.name_any()),
        None,
    );
    let refused = ops.execute(&second, &by_bot(&ops)).await.unwrap();
    assert_eq!(refused.status, Status::Refused);
    assert!(
        refused_by(&refused.guards, Guard::Cooldown),
        "{:?}",
        refused.guards
    );
    assert!(refused.applied.is_empty());
    assert_eq!(
        pods.get(&other.name_any()).await.unwrap().metadata.uid,
        other.metadata.uid
    );
}

#[tokio::test]
async fn deleting_the_only_pod_of_a_singleton_is_refused_and_nothing_is_deleted() {
    let ns = TestNamespace::create("ops-singleton").await;
    let pods = scenarios::crashloop(&ns.client, &ns.name, "solo", 1)
        .await
        .unwrap();
    opt_in(&ns.client, &ns.name, "solo").await;
    let ops = bot_with(settings(&ns.name)).await;
    let target = format!("{}/{}", ns.name, pods[0].name_any());
    let req = request(ActionKind::DeletePod, &target, None);

    let proposal = ops.propose(&req).await.unwrap();
    assert!(!proposal.offerable());
    assert!(
        refused_by(&proposal.guards, Guard::MinReadyReplicas),
        "{:?}",
        proposal.guards
    );
    assert!(
        proposal
            .refusals
            .iter()
            .any(|r| r.contains("0 Ready pod(s)")),
        "{:?}",
        proposal.refusals
    );

    // Even with an approval in hand, execute re-checks live state and refuses.
    let second = request(ActionKind::DeletePod, &target, None);
    let done = ops.execute(&second, &by_bot(&ops)).await.unwrap();
    assert_eq!(done.status, Status::Refused);
    assert!(done.applied.is_empty());
    let api: Api<Pod> = ns.api();
    let still = api.get(&pods[0].name_any()).await.unwrap();
    assert_eq!(still.metadata.uid, pods[0].metadata.uid);
    assert!(still.metadata.deletion_timestamp.is_none());
}

#[tokio::test]
async fn a_gitops_managed_workload_is_reported_and_not_mutated() {
    let ns = TestNamespace::create("ops-gitops").await;
    scenarios::healthy_deployment(&ns.client, &ns.name, "web", 1)
        .await
        .unwrap();
    opt_in(&ns.client, &ns.name, "web").await;
    let deployments: Api<Deployment> = ns.api();
    let patch = json!({ "metadata": { "annotations": { "argocd.argoproj.io/tracking-id": "shop:apps/Deployment:web/web" } } });
    deployments
        .patch("web", &PatchParams::default(), &Patch::Merge(patch))
        .await
        .unwrap();
    let ops = bot_with(settings(&ns.name)).await;
    let req = request(ActionKind::Restart, &format!("{}/web", ns.name), None);

    let proposal = ops.propose(&req).await.unwrap();
    assert!(
        refused_by(&proposal.guards, Guard::GitOps),
        "{:?}",
        proposal.guards
    );
    assert!(
        proposal
            .refusals
            .iter()
            .any(|r| r.contains("argocd.argoproj.io/tracking-id"))
    );
    let done = ops
        .execute(
            &request(ActionKind::Restart, &format!("{}/web", ns.name), None),
            &by_bot(&ops),
        )
        .await
        .unwrap();
    assert_eq!(done.status, Status::Refused);
    let live = deployments.get("web").await.unwrap();
    let stamped = live
        .spec
        .and_then(|s| s.template.metadata)
        .and_then(|m| m.annotations)
        .is_some_and(|a| a.contains_key(RESTARTED_AT));
    assert!(!stamped, "the template was not touched");
}

#[tokio::test]
async fn a_resource_version_conflict_during_apply_is_read_again_and_retried() {
    let ns = TestNamespace::create("ops-conflict").await;
    scenarios::healthy_deployment(&ns.client, &ns.name, "cart", 2)
        .await
        .unwrap();
    opt_in(&ns.client, &ns.name, "cart").await;
    let deployments: Api<Deployment> = ns.api();
    // Between the bot's read and its write, someone else labels the Deployment (a label, not
    // an annotation: annotations bump a Deployment's generation, which would make the approval
    // stale instead).
    let meddler = deployments.clone();
    let ops = bot_with(settings(&ns.name))
        .await
        .interleave_before_apply(Arc::new(move |attempt| {
            let api = meddler.clone();
            async move {
                if attempt == 0 {
                    let patch = json!({ "metadata": { "labels": { "team": "payments" } } });
                    api.patch("cart", &PatchParams::default(), &Patch::Merge(patch))
                        .await
                        .expect("a concurrent write");
                }
            }
            .boxed()
        }));
    let req = request(ActionKind::Restart, &format!("{}/cart", ns.name), None);
    let proposal = ops.propose(&req).await.unwrap();
    let done = ops
        .execute(&req, &approved(&proposal.fingerprint))
        .await
        .unwrap();

    assert_eq!(done.conflicts, 1, "{}", packet::readable(&done));
    assert_eq!(done.status, Status::Verified, "{}", packet::readable(&done));
    assert_eq!(done.applied.len(), 1, "one write went through");
    let live = deployments.get("cart").await.unwrap();
    assert_eq!(
        live.labels().get("team").map(String::as_str),
        Some("payments"),
        "the other write survives"
    );
    let template = live
        .spec
        .unwrap()
        .template
        .metadata
        .unwrap()
        .annotations
        .unwrap();
    assert!(template.contains_key(RESTARTED_AT));
    let sets: Api<ReplicaSet> = ns.api();
    assert_eq!(
        sets.list(&ListParams::default()).await.unwrap().items.len(),
        2,
        "exactly one restart"
    );
}
