//! The ops commands of the binary: RBAC manifests, evidence packets, the circuit breaker.

use std::sync::Arc;

use robot_sre::audit::{Actor, AuditKind, AuditLog};
use robot_sre::config::OpsSettings;
use robot_sre::domain::ActionKind;
use robot_sre::incidents::IncidentId;
use robot_sre::ops::guard::limits::Limits;
use robot_sre::ops::packet::{self, Packet, Status};
use robot_sre::ops::{Action, ActionRequest};

use crate::cli::{redis_env, robot_sre, text};
use crate::helpers::{redis_store, redis_url, unique_prefix};

const EXAMPLE_CONFIG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/config/robot-sre.example.yaml");
const SHIPPED_RBAC: &str = include_str!("../../deploy/rbac.yaml");

#[test]
fn rbac_prints_the_manifests_the_configuration_needs() {
    let output = robot_sre(&["rbac", "--config", EXAMPLE_CONFIG], &[]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(
        SHIPPED_RBAC.ends_with(&stdout),
        "deploy/rbac.yaml differs from:\n{stdout}"
    );
    assert_eq!(
        stdout.matches("\nkind: Role\n").count(),
        5,
        "four namespaces and node events"
    );
    assert!(stdout.contains("\nkind: ClusterRole\n"));
}

#[tokio::test]
async fn packet_prints_or_exports_an_incidents_packets_and_says_when_there_are_none() {
    let (url, prefix) = (redis_url().await, unique_prefix());
    let store = redis_store(&url, &prefix);
    let incident = IncidentId::from_stored("inc-cli0packet01");
    let action = Action::parse(ActionKind::Restart, "payments/checkout", None).unwrap();
    let mut refused = Packet::new(
        ActionRequest::new(incident.clone(), action),
        Actor::robot_sre(),
    );
    refused.status = Status::Refused;
    refused.summary = "restart Deployment checkout in payments".into();
    refused.reasons = vec!["namespace payments is not in the bot's allowed namespaces".into()];
    refused.mark("refused");
    packet::save(store.as_ref(), &refused, std::time::Duration::from_secs(60))
        .await
        .unwrap();
    let env = redis_env(&url, &prefix);

    let output = robot_sre(&["packet", incident.as_str()], &env);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stdout.contains(&format!("Evidence packet {}", refused.request.id)),
        "{stdout}"
    );
    assert!(
        stdout.contains("not in the bot's allowed namespaces"),
        "{stdout}"
    );

    let dir = tempfile::tempdir().unwrap();
    let output = robot_sre(
        &[
            "packet",
            incident.as_str(),
            "--out",
            dir.path().to_str().unwrap(),
        ],
        &env,
    );
    assert!(output.status.success(), "{}", text(&output).1);
    let exported = dir
        .path()
        .join(refused.request.id.as_str())
        .join("packet.json");
    let read: Packet = serde_json::from_slice(&std::fs::read(exported).unwrap()).unwrap();
    assert_eq!(read, refused);

    let output = robot_sre(&["packet", "inc-none00000000"], &env);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output)
            .1
            .contains("no evidence packets for incident inc-none00000000")
    );
}

#[tokio::test]
async fn breaker_reset_closes_an_open_breaker_and_records_who_did_it() {
    let (url, prefix) = (redis_url().await, unique_prefix());
    let store = redis_store(&url, &prefix);
    let limits = Limits::new(store.clone(), Arc::new(OpsSettings::default()));
    let workload = "payments/Deployment/checkout";
    for _ in 0..3 {
        limits
            .record_verdict(workload, false, Some("rollout_complete not reached".into()))
            .await
            .unwrap();
    }
    assert!(limits.breaker(workload).await.unwrap().open);
    let env = redis_env(&url, &prefix);

    let output = robot_sre(&["breaker", "show", workload], &env);
    assert!(
        text(&output).0.contains("\"open\":true"),
        "{}",
        text(&output).0
    );
    let incident = "inc-cli0breaker1";
    let output = robot_sre(
        &[
            "breaker",
            "reset",
            workload,
            "--incident",
            incident,
            "--by",
            "alice",
        ],
        &env,
    );
    assert!(output.status.success(), "{}", text(&output).1);
    assert!(!limits.breaker(workload).await.unwrap().open);
    let trail = AuditLog::new(store)
        .trail(&IncidentId::from_stored(incident))
        .await
        .unwrap();
    assert_eq!(trail.len(), 1);
    assert_eq!(trail[0].entry.kind, AuditKind::BreakerReset);
    assert_eq!(
        trail[0].entry.actor,
        Actor::Human {
            id: "alice".into(),
            channel: "cli".into()
        }
    );
    assert!(
        trail[0]
            .entry
            .reason
            .contains("was open after 3 failure(s)"),
        "{}",
        trail[0].entry.reason
    );
}
