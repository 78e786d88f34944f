//! The decision engine, scenario by scenario.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeZone, Utc};

use super::*;
use crate::domain::{Namespace, ResourceName};
use crate::incidents::model::{
    Confidence, Environment, IncidentType, ResourceScope, Severity, WorkloadRef,
};

pub(super) fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 14, 14, 17, 0).unwrap()
}

pub(super) fn scope(namespace: &str, kind: &str, workload: &str) -> ResourceScope {
    ResourceScope {
        cluster: "lab".into(),
        namespace: Some(Namespace::parse(namespace).unwrap()),
        workload: Some(WorkloadRef {
            kind: kind.into(),
            name: ResourceName::parse(workload).unwrap(),
        }),
        pod: Some(ResourceName::parse(format!("{workload}-7d9f-x2x4z")).unwrap()),
        node: None,
    }
}

pub(super) fn facts(
    kind: IncidentType,
    environment: Environment,
    confidence: Confidence,
    scope: ResourceScope,
) -> IncidentFacts {
    IncidentFacts {
        incident_type: kind,
        severity: Severity::Warning,
        confidence,
        environment,
        scope,
        labels: BTreeMap::new(),
    }
}

fn crashloop(environment: Environment, confidence: Confidence) -> IncidentFacts {
    facts(
        IncidentType::CrashLoopBackoff,
        environment,
        confidence,
        scope("demo", "Deployment", "web"),
    )
}

fn reasons(decision: &Decision) -> Vec<&str> {
    decision.reasons.iter().map(|r| r.0.as_str()).collect()
}

fn has(decision: &Decision, reason: &str) -> bool {
    decision.reasons.iter().any(|r| r.0 == reason)
}

fn shipped_runbooks() -> Vec<Runbook> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/config/runbooks");
    let set = runbook::load_dir(std::path::Path::new(dir), &Taxonomy::builtin());
    assert!(set.rejected.is_empty(), "{:?}", set.rejected);
    set.runbooks
}

fn shipped_rules() -> RuleSet {
    RuleSet::from_yaml(include_str!("../../config/rules.yaml"), "rules.yaml").unwrap()
}

fn opted_in(ctx: &mut DecisionContext) {
    ctx.guardrails
        .target_labels
        .insert("robot-sre.io/enabled".into(), "true".into());
}

#[test]
fn decide_sends_unclassified_incidents_to_a_human() {
    let f = facts(
        IncidentType::Unclassified,
        Environment::Demo,
        Confidence::High,
        scope("demo", "Deployment", "web"),
    );
    let d = Policy::builtin().decide(&f, &DecisionContext::quiet(now(), 3));
    assert_eq!(d.mode, Mode::Manual);
    assert_eq!(d.action, None);
    assert_eq!(
        reasons(&d),
        ["manual: unclassified incidents always go to a human"]
    );
}

#[test]
fn decide_auto_executes_an_auto_allowed_recover_action_in_demo_on_high_confidence() {
    let d = Policy::builtin().decide(
        &crashloop(Environment::Demo, Confidence::High),
        &DecisionContext::quiet(now(), 2),
    );
    assert_eq!(d.mode, Mode::AutoExecute, "{:?}", d.reasons);
    let action = d.action.unwrap();
    assert_eq!(action.to_string(), "delete_pod demo/Pod/web-7d9f-x2x4z");
    assert_eq!(action.target.spec(), "demo/web-7d9f-x2x4z");
}

#[test]
fn decide_blocks_automation_on_medium_confidence() {
    let d = Policy::builtin().decide(
        &crashloop(Environment::Demo, Confidence::Medium),
        &DecisionContext::quiet(now(), 2),
    );
    assert_eq!(d.mode, Mode::ApprovalRequired);
    assert!(
        has(&d, "blocked: confidence medium below high"),
        "{:?}",
        reasons(&d)
    );
}

#[test]
fn decide_asks_approval_for_recover_class_in_production() {
    let d = Policy::builtin().decide(
        &crashloop(Environment::Production, Confidence::High),
        &DecisionContext::quiet(now(), 2),
    );
    assert_eq!(d.mode, Mode::ApprovalRequired);
    assert!(
        has(&d, "approval required: recover class in production"),
        "{:?}",
        reasons(&d)
    );
}

#[test]
fn decide_needs_two_confirming_checks_before_acting_alone() {
    let d = Policy::builtin().decide(
        &crashloop(Environment::Demo, Confidence::High),
        &DecisionContext::quiet(now(), 1),
    );
    assert_eq!(d.mode, Mode::ApprovalRequired);
    assert!(
        has(
            &d,
            "blocked: confidence medium below high (live evidence confirmed the alert on 1 of 2 checks)"
        ),
        "{:?}",
        reasons(&d)
    );
}

#[test]
fn decide_only_suggests_when_live_state_contradicts_the_alert() {
    let mut ctx = DecisionContext::quiet(now(), 2);
    ctx.evidence.contradicts = true;
    let d = Policy::builtin().decide(&crashloop(Environment::Demo, Confidence::High), &ctx);
    assert_eq!(d.mode, Mode::Suggest);
    assert!(has(&d, "evidence: live state contradicts the alert"));
    assert!(has(&d, "suggest only: confidence low"));
}

#[test]
fn decide_suppresses_a_duplicate_within_fifteen_minutes() {
    let mut ctx = DecisionContext::quiet(now(), 2);
    ctx.guardrails.last_decision_at = Some(now() - chrono::Duration::minutes(5));
    let d = Policy::builtin().decide(&crashloop(Environment::Demo, Confidence::High), &ctx);
    assert!(d.suppressed);
    assert_eq!((d.mode, d.action.clone()), (Mode::Manual, None));
    assert!(
        has(
            &d,
            "suppressed: duplicate within 15m (decided at 14:12 UTC)"
        ),
        "{:?}",
        d.reasons
    );
    ctx.guardrails.last_decision_at = Some(now() - chrono::Duration::minutes(16));
    let later = Policy::builtin().decide(&crashloop(Environment::Demo, Confidence::High), &ctx);
    assert!(!later.suppressed);
}

#[test]
fn decide_waits_out_a_cooldown() {
    let mut ctx = DecisionContext::quiet(now(), 2);
    ctx.guardrails.cooldown_until = Some(now() + chrono::Duration::minutes(15));
    let d = Policy::builtin().decide(&crashloop(Environment::Demo, Confidence::High), &ctx);
    assert_eq!((d.mode, d.action.is_none()), (Mode::Manual, true));
    assert!(has(&d, "cooldown until 14:32 UTC"), "{:?}", d.reasons);
    assert_eq!(
        d.recommendation.as_deref(),
        Some("delete_pod demo/Pod/web-7d9f-x2x4z")
    );
}

#[test]
fn decide_does_not_retry_the_same_action_within_the_class_cooldown() {
    let mut ctx = DecisionContext::quiet(now(), 2);
    ctx.guardrails.history.push(PastExecution {
        kind: ActionKind::DeletePod,
        target: "demo/Pod/web-7d9f-x2x4z".into(),
        at: now() - chrono::Duration::minutes(5),
        verified: true,
    });
    let d = Policy::builtin().decide(&crashloop(Environment::Demo, Confidence::High), &ctx);
    assert_eq!(d.mode, Mode::Manual);
    assert!(
        has(
            &d,
            "cooldown until 14:27 UTC: delete_pod ran on demo/Pod/web-7d9f-x2x4z at 14:12 UTC"
        ),
        "{:?}",
        d.reasons
    );
}

#[test]
fn decide_hands_a_failed_remediation_to_a_human() {
    let mut ctx = DecisionContext::quiet(now(), 2);
    ctx.guardrails.history.push(PastExecution {
        kind: ActionKind::DeletePod,
        target: "demo/Pod/web-7d9f-x2x4z".into(),
        at: now() - chrono::Duration::hours(2),
        verified: false,
    });
    let d = Policy::builtin().decide(&crashloop(Environment::Demo, Confidence::High), &ctx);
    assert_eq!(d.mode, Mode::Manual);
    assert!(has(
        &d,
        "manual: delete_pod on demo/Pod/web-7d9f-x2x4z failed verification at 12:17 UTC; not retried"
    ));
}

#[test]
fn decide_stops_at_an_open_breaker() {
    let mut ctx = DecisionContext::quiet(now(), 2);
    ctx.guardrails.breaker_open = true;
    let d = Policy::builtin().decide(&crashloop(Environment::Demo, Confidence::High), &ctx);
    assert_eq!(d.mode, Mode::Manual);
    assert!(has(
        &d,
        "manual: the circuit breaker of demo/Pod/web-7d9f-x2x4z is open"
    ));
}

#[test]
fn decide_records_a_shadow_runbook_without_acting() {
    let policy = Policy::new(
        Taxonomy::builtin(),
        PolicyMatrix::builtin(),
        shipped_runbooks(),
        RuleSet::default(),
    );
    let mut f = crashloop(Environment::Demo, Confidence::High);
    f.labels
        .insert("alertname".into(), "KubePodCrashLooping".into());
    let mut ctx = DecisionContext::quiet(now(), 2);
    opted_in(&mut ctx);
    ctx.guardrails.ready_replicas = Some(3);
    let d = policy.decide(&f, &ctx);
    assert_eq!(d.mode, Mode::Suggest, "{:?}", d.reasons);
    assert_eq!(d.shadow, Some(Mode::AutoExecute));
    assert_eq!(
        d.action.clone().unwrap().runbook.as_deref(),
        Some("crashloop-delete-pod")
    );
    assert!(has(
        &d,
        "shadow: runbook crashloop-delete-pod would have chosen auto_execute; recorded, not run"
    ));
}

#[test]
fn decide_explains_why_a_runbook_was_not_used() {
    let policy = Policy::new(
        Taxonomy::builtin(),
        PolicyMatrix::builtin(),
        shipped_runbooks(),
        RuleSet::default(),
    );
    let mut f = crashloop(Environment::Demo, Confidence::High);
    f.labels
        .insert("alertname".into(), "KubePodCrashLooping".into());
    let d = policy.decide(&f, &DecisionContext::quiet(now(), 2));
    assert!(
        has(
            &d,
            "runbook crashloop-delete-pod not used: the target lacks the label robot-sre.io/enabled=true"
        ),
        "{:?}",
        d.reasons
    );
    assert_eq!(d.action.clone().unwrap().runbook, None);
}

#[test]
fn decide_applies_runbook_guardrails() {
    let policy = Policy::new(
        Taxonomy::builtin(),
        PolicyMatrix::builtin(),
        shipped_runbooks(),
        RuleSet::default(),
    );
    let f = facts(
        IncidentType::StuckRollout,
        Environment::Demo,
        Confidence::High,
        scope("payments", "Deployment", "checkout"),
    );
    let mut ctx = DecisionContext::quiet(now(), 2);
    opted_in(&mut ctx);
    ctx.guardrails.executions_last_hour = 2;
    let d = policy.decide(&f, &ctx);
    assert_eq!(d.mode, Mode::ApprovalRequired);
    assert!(
        has(
            &d,
            "runbook stuck-rollout-rollback allows at most approval_required"
        ),
        "{:?}",
        d.reasons
    );
    assert!(has(
        &d,
        "candidate: rollback payments/Deployment/checkout (recover class, from runbook stuck-rollout-rollback)"
    ));
}

#[test]
fn decide_follows_operator_rules_for_routing_severity_and_limits() {
    let policy = Policy::new(
        Taxonomy::builtin(),
        PolicyMatrix::builtin(),
        Vec::new(),
        shipped_rules(),
    );
    let f = facts(
        IncidentType::StuckRollout,
        Environment::Production,
        Confidence::High,
        scope("payments", "Deployment", "checkout"),
    );
    let d = policy.decide(&f, &DecisionContext::quiet(now(), 2));
    assert_eq!(d.route.as_deref(), Some("#payments-oncall"));
    assert_eq!(d.severity, Severity::Critical);
    assert_eq!(d.mode, Mode::ApprovalRequired);
    assert!(
        has(
            &d,
            "severity critical by the taxonomy of stuck_rollout (alert said warning)"
        ),
        "{:?}",
        d.reasons
    );
    let staging = facts(
        IncidentType::HttpErrorRateSpike,
        Environment::Production,
        Confidence::High,
        scope("payments", "Deployment", "checkout"),
    );
    let d = policy.decide(&staging, &DecisionContext::quiet(now(), 2));
    assert_eq!(d.severity, Severity::Critical);
    assert!(
        has(
            &d,
            "severity raised to critical by rule payments-approval-only@1 (team-payments)"
        ),
        "{:?}",
        d.reasons
    );
}

#[test]
fn decide_pages_a_human_when_a_rule_disables_automation() {
    let policy = Policy::new(
        Taxonomy::builtin(),
        PolicyMatrix::builtin(),
        Vec::new(),
        shipped_rules(),
    );
    let f = facts(
        IncidentType::DatabaseConnectivityDegraded,
        Environment::Production,
        Confidence::High,
        scope("shop", "Deployment", "api"),
    );
    let d = policy.decide(&f, &DecisionContext::quiet(now(), 2));
    assert_eq!((d.mode, d.action.clone()), (Mode::Manual, None));
    assert!(has(
        &d,
        "manual: automation for database_connectivity_degraded in production is disabled by rule db-incidents-manual@1 (team-platform)"
    ));
}

#[test]
fn decide_lets_a_rule_allowlist_containment_in_production() {
    let policy = Policy::new(
        Taxonomy::builtin(),
        PolicyMatrix::builtin(),
        shipped_runbooks(),
        shipped_rules(),
    );
    let f = facts(
        IncidentType::BackgroundJobBuildup,
        Environment::Production,
        Confidence::High,
        scope("batch", "CronJob", "report-nightly"),
    );
    let mut ctx = DecisionContext::quiet(now(), 2);
    opted_in(&mut ctx);
    let d = policy.decide(&f, &ctx);
    assert_eq!(d.mode, Mode::AutoExecute, "{:?}", d.reasons);
    assert_eq!(
        d.action.clone().unwrap().to_string(),
        "suspend_cronjob batch/CronJob/report-nightly"
    );
    assert!(has(
        &d,
        "rule batch-reports-contain@1 (team-data) allows automatic suspend_cronjob on batch/CronJob/report-nightly"
    ));
    let other = facts(
        IncidentType::BackgroundJobBuildup,
        Environment::Production,
        Confidence::High,
        scope("batch", "CronJob", "billing"),
    );
    let d = policy.decide(&other, &ctx);
    assert_eq!(d.mode, Mode::ApprovalRequired, "{:?}", d.reasons);
}

#[test]
fn decide_never_scales_a_workload_to_zero_automatically_unless_allowlisted() {
    let mut runbooks = shipped_runbooks();
    let rb = runbooks
        .iter_mut()
        .find(|r| r.name == "crashloop-delete-pod")
        .unwrap();
    rb.spec.shadow = Some(false);
    rb.spec.action = runbook::RunbookAction {
        kind: ActionName::Scale,
        replicas: Some(0),
    };
    let policy = Policy::new(
        Taxonomy::builtin(),
        PolicyMatrix::builtin(),
        runbooks,
        RuleSet::default(),
    );
    let mut f = crashloop(Environment::Demo, Confidence::High);
    f.labels
        .insert("alertname".into(), "KubePodCrashLooping".into());
    let mut ctx = DecisionContext::quiet(now(), 2);
    opted_in(&mut ctx);
    ctx.guardrails.ready_replicas = Some(3);
    let d = policy.decide(&f, &ctx);
    assert_eq!(d.mode, Mode::ApprovalRequired, "{:?}", d.reasons);
    assert!(
        has(
            &d,
            "candidate: scale demo/Deployment/web to 0 (disruptive class, from runbook crashloop-delete-pod)"
        ),
        "{:?}",
        d.reasons
    );
}

#[test]
fn decide_only_suggests_actions_ops_does_not_enable() {
    let policy = Policy::builtin().with_enabled_actions([ActionKind::Restart]);
    let d = policy.decide(
        &crashloop(Environment::Demo, Confidence::High),
        &DecisionContext::quiet(now(), 2),
    );
    assert_eq!(d.mode, Mode::Suggest);
    assert!(has(
        &d,
        "suggest only: delete_pod is not enabled in ops.actions"
    ));
}

#[test]
fn decide_suggests_a_fix_the_bot_cannot_run() {
    let f = facts(
        IncidentType::IngressConfigurationDrift,
        Environment::Demo,
        Confidence::High,
        scope("web", "Deployment", "site"),
    );
    let d = Policy::builtin().decide(&f, &DecisionContext::quiet(now(), 2));
    assert_eq!((d.mode, d.action), (Mode::Suggest, None));
    assert_eq!(d.recommendation.as_deref(), Some("reconcile_release"));
}

#[test]
fn decide_is_deterministic() {
    let f = crashloop(Environment::Staging, Confidence::High);
    let ctx = DecisionContext::quiet(now(), 2);
    assert_eq!(
        Policy::builtin().decide(&f, &ctx),
        Policy::builtin().decide(&f, &ctx)
    );
}
