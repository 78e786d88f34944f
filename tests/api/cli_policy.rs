//! The policy commands of the binary: explain a sample alert, replay recorded decisions under
//! the current rules, and check-config over taxonomy, rules and runbooks together.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use chrono::Utc;
use robot_sre::audit::Actor;
use robot_sre::domain::{Namespace, ResourceName};
use robot_sre::incidents::model::{
    Confidence, Environment, IncidentType, ResourceScope, Severity, WorkloadRef,
};
use robot_sre::incidents::{
    Classifier, IncidentId, IncidentService, IngestPolicy, Notification, Triage,
};
use robot_sre::policy::record::PolicyAudit;
use robot_sre::policy::{DecisionContext, IncidentFacts, Mode, Policy};

use crate::cli::{redis_env, robot_sre, text};
use crate::helpers::{redis_store, redis_url, unique_prefix};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const STUCK_ROLLOUT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/policy/stuck-rollout.json"
);

#[test]
fn policy_explain_prints_the_mode_and_every_reason() {
    let output = robot_sre(&["policy", "explain", "--alert", STUCK_ROLLOUT], &[]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(stdout.contains("decision:   approval_required"), "{stdout}");
    assert!(
        stdout.contains("action:     rollback payments/Deployment/checkout"),
        "{stdout}"
    );
    assert!(
        stdout.contains("- approval required: recover class in production"),
        "{stdout}"
    );
}

#[test]
fn policy_explain_decides_for_the_environment_given() {
    let output = robot_sre(
        &[
            "policy",
            "explain",
            "--alert",
            STUCK_ROLLOUT,
            "--env",
            "demo",
        ],
        &[],
    );
    let (stdout, _) = text(&output);
    assert!(stdout.contains("decision:   auto_execute"), "{stdout}");
    let output = robot_sre(
        &[
            "policy",
            "explain",
            "--alert",
            STUCK_ROLLOUT,
            "--env",
            "demo",
            "--checks",
            "1",
        ],
        &[],
    );
    let (stdout, _) = text(&output);
    assert!(
        stdout.contains("blocked: confidence medium below high"),
        "{stdout}"
    );
    let output = robot_sre(
        &[
            "policy",
            "explain",
            "--alert",
            STUCK_ROLLOUT,
            "--env",
            "mars",
        ],
        &[],
    );
    assert!(!output.status.success());
    assert!(
        text(&output).1.contains("--env \"mars\""),
        "{}",
        text(&output).1
    );
}

#[test]
fn check_config_validates_taxonomy_rules_and_runbooks_together() {
    let runbooks = format!("{ROOT}/config/runbooks");
    let rules = format!("{ROOT}/config/rules.yaml");
    let output = robot_sre(
        &["check-config"],
        &[
            ("ROBOT_SRE__POLICY__RUNBOOKS_DIR", &runbooks),
            ("ROBOT_SRE__POLICY__RULES", &rules),
        ],
    );
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(stdout.contains("policy is valid: taxonomy version 1, 13 incident classes, policy matrix version 1, 3 runbook(s), 3 operator rule(s)"), "{stdout}");
}

#[test]
fn check_config_names_the_file_field_and_reason_of_a_bad_runbook_or_rule() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string(format!(
        "{ROOT}/config/runbooks/stuck-rollout-rollback.yaml"
    ))
    .unwrap();
    std::fs::write(dir.path().join("good.yaml"), &good).unwrap();
    std::fs::write(
        dir.path().join("bad.yaml"),
        good.replace("stuck-rollout-rollback", "bad")
            .replace("kind: rollback", "kind: drain_node"),
    )
    .unwrap();
    let runbooks = dir.path().display().to_string();
    let output = robot_sre(
        &["check-config"],
        &[("ROBOT_SRE__POLICY__RUNBOOKS_DIR", &runbooks)],
    );
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    let bad = dir.path().join("bad.yaml");
    assert!(
        stderr.contains(&format!(
            "{}: spec.action.kind: drain_node is not an action the bot can run",
            bad.display()
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("good.yaml"), "{stderr}");

    let rules = dir.path().join("rules.yaml");
    std::fs::write(&rules, "rules:\n  - { id: x, version: 1, owner: me, allow_auto: [{ action: rollback, resources: [a/Deployment/b] }] }\n").unwrap();
    let rules = rules.display().to_string();
    let output = robot_sre(&["check-config"], &[("ROBOT_SRE__POLICY__RULES", &rules)]);
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{rules}: rules[0].allow_auto[0].action: rollback is recover"
        )),
        "{stderr}"
    );
}

fn facts(
    kind: IncidentType,
    environment: Environment,
    namespace: &str,
    deployment: &str,
) -> IncidentFacts {
    IncidentFacts {
        incident_type: kind,
        severity: Severity::Warning,
        confidence: Confidence::High,
        environment,
        scope: ResourceScope {
            cluster: "lab".into(),
            namespace: Some(Namespace::parse(namespace).unwrap()),
            workload: Some(WorkloadRef {
                kind: "Deployment".into(),
                name: ResourceName::parse(deployment).unwrap(),
            }),
            pod: None,
            node: None,
        },
        labels: BTreeMap::new(),
    }
}

#[tokio::test]
async fn policy_test_replays_recorded_decisions_and_shows_those_that_would_change() {
    let (url, prefix) = (redis_url().await, unique_prefix());
    let audit = PolicyAudit::new(redis_store(&url, &prefix));
    let policy = Policy::builtin();
    let context = DecisionContext::quiet(Utc::now(), 2);
    let changing = facts(
        IncidentType::StuckRollout,
        Environment::Production,
        "payments",
        "checkout",
    );
    let steady = facts(
        IncidentType::HttpErrorRateSpike,
        Environment::Staging,
        "shop",
        "web",
    );
    for (id, facts) in [
        ("inc-cli0policy01", &changing),
        ("inc-cli0policy02", &steady),
    ] {
        let decision = policy.decide(facts, &context);
        assert_eq!(decision.mode, Mode::ApprovalRequired);
        audit
            .record_decision(
                &IncidentId::from_stored(id),
                facts,
                &context,
                &decision,
                Actor::robot_sre(),
            )
            .await
            .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.yaml");
    std::fs::write(&rules, "rules:\n  - { id: no-rollouts, version: 1, owner: sre, match: { incident_types: [stuck_rollout] }, enabled: false }\n").unwrap();
    let rules = rules.display().to_string();
    let mut env = redis_env(&url, &prefix).to_vec();
    env.push(("ROBOT_SRE__POLICY__RULES", &rules));
    let output = robot_sre(&["policy", "test", "--since", "1h"], &env);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stdout.contains("inc-cli0policy01  stuck_rollout  approval_required rollback payments/Deployment/checkout -> manual"),
        "{stdout}"
    );
    assert!(
        stdout.contains("disabled by rule no-rollouts@1 (sre)"),
        "{stdout}"
    );
    assert!(!stdout.contains("inc-cli0policy02"), "{stdout}");
    assert!(
        stdout.contains("replayed 2 recorded decision(s): 1 would change, 1 unchanged"),
        "{stdout}"
    );
}

#[tokio::test]
async fn policy_test_decides_open_incidents_that_have_no_recorded_decision() {
    let (url, prefix) = (redis_url().await, unique_prefix());
    let triage = Triage {
        classifier: Classifier::builtin(),
        cluster: "lab".into(),
        environment_label: "environment".into(),
        default_environment: Environment::Production,
        namespace_environments: HashMap::new(),
    };
    let ingest = IngestPolicy {
        suppression_window: Duration::from_secs(900),
        retention: Duration::from_secs(3600),
        history_limit: 50,
    };
    let incidents = IncidentService::new(redis_store(&url, &prefix), triage, ingest);
    let notification = Notification::parse(&std::fs::read(STUCK_ROLLOUT).unwrap()).unwrap();
    let recorded = incidents
        .record(&notification.group_key, &notification.alerts[0])
        .await
        .unwrap();
    let output = robot_sre(
        &["policy", "test", "--since", "1h"],
        &redis_env(&url, &prefix),
    );
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stdout.contains(&format!(
            "{}  stuck_rollout  no decision recorded; now approval_required rollback payments/Deployment/checkout",
            recorded.incident_id
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("1 open incident(s) without a recorded decision"),
        "{stdout}"
    );
}
