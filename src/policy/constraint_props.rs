//! Property: whatever operator rules and runbooks say — even ones that skip load-time
//! validation — no human-only action becomes executable, no disruptive action becomes
//! automatic, no shadow runbook acts, and nothing runs on its own below high confidence.

use std::collections::BTreeMap;
use std::time::Duration;

use proptest::prelude::*;

use super::decide_tests::{now, scope};
use super::rules::{AllowAuto, RuleMatch};
use super::runbook::{Risk, RunbookAction};
use super::taxonomy::Listing;
use super::*;
use crate::domain::ResourceName;
use crate::incidents::model::{Confidence, Environment, IncidentType, ResourceScope, Severity};

fn any_action() -> impl Strategy<Value = ActionName> {
    prop::sample::select(ActionName::ALL.to_vec())
}

fn any_mode() -> impl Strategy<Value = Mode> {
    prop::sample::select(Mode::ALL.to_vec())
}

fn any_confidence() -> impl Strategy<Value = Confidence> {
    prop::sample::select(vec![Confidence::Low, Confidence::Medium, Confidence::High])
}

fn any_environment() -> impl Strategy<Value = Environment> {
    prop::sample::select(vec![
        Environment::Demo,
        Environment::Staging,
        Environment::Production,
    ])
}

fn any_type() -> impl Strategy<Value = IncidentType> {
    prop::sample::select(IncidentType::ALL.to_vec())
}

const PATTERNS: [&str; 6] = [
    "*",
    "demo/*",
    "Namespace/*",
    "demo/Deployment/web",
    "kube-*/*",
    "*/Pod/*",
];

fn rule() -> impl Strategy<Value = OperatorRule> {
    let allow = prop::collection::vec(
        (
            any_action(),
            prop::sample::subsequence(PATTERNS.to_vec(), 1..3),
        )
            .prop_map(|(action, p)| AllowAuto {
                action,
                resources: p.into_iter().map(String::from).collect(),
            }),
        0..3,
    );
    (
        prop::option::of(any::<bool>()),
        prop::option::of(any_mode()),
        prop::option::of(any_confidence()),
        allow,
        prop::option::of(1u64..120),
    )
        .prop_map(
            |(enabled, max_mode, min_confidence, allow_auto, minutes)| OperatorRule {
                id: "generated".into(),
                version: 1,
                owner: "prop".into(),
                description: String::new(),
                matches: RuleMatch::default(),
                enabled,
                max_mode,
                min_confidence,
                escalate_severity: Some(Severity::Critical),
                route: None,
                cooldown: minutes.map(|m| Duration::from_secs(m * 60)),
                allow_auto,
            },
        )
}

fn runbook(template: Runbook) -> impl Strategy<Value = Runbook> {
    (
        any_action(),
        prop::sample::select(vec![None, Some(0u32), Some(3)]),
        any_mode(),
        prop::option::of(any::<bool>()),
        prop::collection::vec(any_type(), 1..3),
        any_confidence(),
        0u32..3,
    )
        .prop_map(
            move |(kind, replicas, mode, shadow, types, minimum, min_ready)| {
                let mut r = template.clone();
                r.name = format!(
                    "rb-{}-{}",
                    kind.as_str().replace('_', "-"),
                    mode.as_str().replace('_', "-")
                );
                r.spec.action = RunbookAction { kind, replicas };
                r.spec.decision_mode = mode;
                r.spec.risk = Risk::Low;
                r.spec.shadow = shadow;
                r.spec.triggers.incident_types = types;
                r.spec.triggers.minimum_confidence = minimum;
                r.spec.triggers.symptoms.clear();
                r.spec.scope = Default::default();
                r.spec.guardrails.min_ready_replicas = Some(min_ready);
                r
            },
        )
}

fn template() -> Runbook {
    let text = include_str!("../../config/runbooks/stuck-rollout-rollback.yaml");
    runbook::parse_all(text, "template", &Taxonomy::builtin())
        .runbooks
        .remove(0)
}

fn any_scope() -> impl Strategy<Value = ResourceScope> {
    prop::sample::select(vec![0, 1, 2, 3]).prop_map(|i| match i {
        0 => scope("demo", "Deployment", "web"),
        1 => scope("kube-system", "Deployment", "coredns"),
        2 => scope("batch", "CronJob", "report"),
        _ => ResourceScope {
            node: Some(ResourceName::parse("node-1").unwrap()),
            ..ResourceScope::default()
        },
    })
}

fn context() -> impl Strategy<Value = DecisionContext> {
    (
        0u32..4,
        any::<bool>(),
        any::<bool>(),
        prop::option::of(0u32..5),
    )
        .prop_map(|(checks, contradicts, critical, ready)| {
            let mut ctx = DecisionContext::quiet(now(), checks);
            ctx.evidence.contradicts = contradicts;
            ctx.guardrails.ready_replicas = ready;
            ctx.guardrails.target_labels =
                BTreeMap::from([("robot-sre.io/enabled".to_owned(), "true".to_owned())]);
            if critical {
                ctx.guardrails
                    .target_labels
                    .insert("robot-sre.io/critical".into(), "true".into());
            }
            ctx
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn no_rules_or_runbooks_make_human_only_executable_or_disruptive_automatic(
        rules in prop::collection::vec(rule(), 0..4),
        runbooks in prop::collection::vec(runbook(template()), 0..4),
        kind in any_type(),
        environment in any_environment(),
        confidence in any_confidence(),
        scope in any_scope(),
        ctx in context(),
    ) {
        let mut seen = std::collections::BTreeSet::new();
        let runbooks: Vec<Runbook> = runbooks.into_iter().filter(|r| seen.insert(r.name.clone())).collect();
        let rule_set = RuleSet { version: 1, rules: rules.into_iter().enumerate().map(|(i, mut r)| { r.id = format!("r{i}"); r }).collect() };
        let policy = Policy::new(Taxonomy::builtin(), PolicyMatrix::builtin(), runbooks.clone(), rule_set.clone());
        let facts = IncidentFacts { incident_type: kind, severity: Severity::Warning, confidence, environment, scope, labels: BTreeMap::new() };
        let d = policy.decide(&facts, &ctx);

        if d.mode == Mode::Manual {
            prop_assert!(d.action.is_none(), "manual with an action: {:?}", d);
        }
        if d.shadow.is_some() {
            prop_assert!(d.mode <= Mode::Suggest, "a shadow runbook acted: {:?}", d);
        }
        if let Some(action) = &d.action {
            let name = ActionName::from(action.kind);
            prop_assert!(!name.is_human_only());
            if let Some(source) = &action.runbook {
                let rb = runbooks.iter().find(|r| &r.name == source).unwrap();
                prop_assert!(!rb.spec.action.kind.is_human_only(), "a human-only runbook action was chosen");
            }
        }
        if d.mode == Mode::AutoExecute {
            let action = d.action.as_ref().expect("auto_execute carries an action");
            let name = ActionName::from(action.kind);
            let allow: Vec<String> = rule_set.matching(&facts).flat_map(|r| &r.allow_auto)
                .filter(|a| a.action == name && rules::containing(name))
                .flat_map(|a| a.resources.clone()).collect();
            let class = policy.matrix().class_of(action.kind, &action.target, action.replicas, &ctx.guardrails.target_labels, &allow);
            prop_assert!(class < ActionClass::Disruptive, "disruptive action automatic: {:?}", d);
            prop_assert_eq!(effective_confidence(&facts, &ctx), Confidence::High);
            let listing = policy.taxonomy().class(kind).map(|c| c.listing(name));
            prop_assert_eq!(listing, Some(Listing::AutoAllowed));
            prop_assert!(!ctx.guardrails.target_labels.contains_key("robot-sre.io/critical") || class != ActionClass::Contain,
                "a critical target was contained automatically: {:?}", d);
        }
    }
}
