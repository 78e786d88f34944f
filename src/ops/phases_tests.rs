//! The two phases' bookkeeping without a cluster: the bot's client points at a port nothing
//! listens on, so any test that reached the cluster would fail.

use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::audit::Actor;
use crate::config::OpsSettings;
use crate::domain::ActionKind;
use crate::incidents::IncidentId;
use crate::ops::execute::Approval;
use crate::ops::request::{Action, ActionRequest};
use crate::ops::verify::Verification;
use crate::ops::{Cluster, packet::EventSubject};
use crate::store::{MemoryStore, Store};

fn ops() -> Ops {
    let config = kube::Config::new("http://127.0.0.1:9".parse().unwrap());
    let client = kube::Client::try_from(config).unwrap();
    let cluster = Cluster::new(client, Duration::from_secs(5));
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    Ops::new(cluster, store, OpsSettings::default())
}

fn request() -> ActionRequest {
    let action = Action::parse(ActionKind::Restart, "shop/web", None).unwrap();
    ActionRequest::new(IncidentId::generate(), action)
}

fn stored(ops: &Ops, status: Status, plan: Option<VerifyPlan>) -> impl Future<Output = Packet> {
    let mut packet = Packet::new(request(), ops.bot());
    packet.status = status;
    packet.verify_plan = plan;
    let store = ops.store();
    async move {
        packet::save(store.as_ref(), &packet, Duration::from_secs(60))
            .await
            .unwrap();
        packet
    }
}

fn plan() -> VerifyPlan {
    VerifyPlan {
        verification: Verification::default(),
        workload: "shop/Deployment/web".into(),
        subject: EventSubject {
            api_version: "apps/v1".into(),
            kind: "Deployment".into(),
            namespace: Some("shop".into()),
            name: "web".into(),
            uid: None,
        },
    }
}

#[tokio::test]
async fn verify_applied_says_not_applied_when_no_packet_is_stored() {
    let ops = ops();
    let error = ops.verify_applied(&request().id).await.unwrap_err();
    assert!(matches!(error, OpsError::NotApplied { .. }), "{error:?}");
    assert!(error.to_string().contains("apply it first"), "{error}");
}

#[tokio::test]
async fn verify_applied_returns_a_final_packet_as_stored_when_it_is_not_applied() {
    let ops = ops();
    for status in [
        Status::Verified,
        Status::VerificationFailed,
        Status::Refused,
        Status::Stale,
        Status::Failed,
    ] {
        let packet = stored(&ops, status, Some(plan())).await;
        let again = ops.verify_applied(&packet.request.id).await.unwrap();
        assert_eq!(again, packet, "{status:?}");
    }
}

#[tokio::test]
async fn verify_applied_is_in_progress_when_another_replica_holds_the_claim() {
    let ops = ops();
    let packet = stored(&ops, Status::Applied, Some(plan())).await;
    let key = format!("ops:verify:{}", packet.request.id);
    let held = ops.store().claim(&key, "other", None).await.unwrap();
    assert_eq!(held, crate::store::Claim::Claimed);
    let error = ops.verify_applied(&packet.request.id).await.unwrap_err();
    assert!(matches!(error, OpsError::InProgress { .. }), "{error:?}");
    assert_eq!(
        ops.store().peek(&key).await.unwrap().as_deref(),
        Some("other")
    );
}

#[tokio::test]
async fn verify_applied_reports_corruption_and_frees_its_claim_when_the_plan_is_missing() {
    let ops = ops();
    let packet = stored(&ops, Status::Applied, None).await;
    let error = ops.verify_applied(&packet.request.id).await.unwrap_err();
    assert!(matches!(error, OpsError::Corrupt { .. }), "{error:?}");
    let key = format!("ops:verify:{}", packet.request.id);
    assert_eq!(ops.store().peek(&key).await.unwrap(), None);
}

#[tokio::test]
async fn apply_returns_the_stored_packet_without_the_cluster_when_the_request_ran() {
    let ops = ops();
    let packet = stored(&ops, Status::Applied, Some(plan())).await;
    let approval = Approval {
        actor: ops.bot(),
        fingerprint: None,
    };
    let again = ops.apply(&packet.request, &approval).await.unwrap();
    assert_eq!(again, packet);
}

#[test]
fn a_packet_stored_before_the_phases_split_reads_without_a_verify_plan() {
    let mut value = serde_json::to_value(Packet::new(
        request(),
        Actor::Bot {
            identity: "robot-sre".into(),
        },
    ))
    .unwrap();
    value.as_object_mut().unwrap().remove("verify_plan");
    let packet: Packet = serde_json::from_value(value).unwrap();
    assert_eq!(packet.verify_plan, None);
}

#[test]
fn an_applied_packet_reads_as_pending_verification() {
    let mut packet = Packet::new(
        request(),
        Actor::Bot {
            identity: "robot-sre".into(),
        },
    );
    packet.status = Status::Applied;
    assert_eq!(serde_json::to_value(packet.status).unwrap(), "applied");
    let text = packet::readable(&packet);
    assert!(
        text.contains("Status:   Applied") && text.contains("pending"),
        "{text}"
    );
}
