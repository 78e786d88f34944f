use super::*;
use crate::domain::Namespace;

fn target(kind: &str, namespace: Option<&str>, name: &str) -> ActionTarget {
    ActionTarget {
        kind: kind.into(),
        namespace: namespace.map(|n| Namespace::parse(n).unwrap()),
        name: name.into(),
    }
}

#[test]
fn builtin_matrix_follows_the_environment_modes_of_the_design() {
    let m = PolicyMatrix::builtin();
    assert_eq!(
        m.mode(Environment::Demo, ActionClass::Recover),
        Mode::AutoExecute
    );
    assert_eq!(
        m.mode(Environment::Staging, ActionClass::Contain),
        Mode::AutoExecute
    );
    assert_eq!(
        m.mode(Environment::Staging, ActionClass::Recover),
        Mode::ApprovalRequired
    );
    assert_eq!(
        m.mode(Environment::Production, ActionClass::Contain),
        Mode::ApprovalRequired
    );
    assert!(m.auto_action(Environment::Production, ActionName::Cleanup));
    assert_eq!(
        m.mode(Environment::Production, ActionClass::Notify),
        Mode::AutoExecute
    );
    for environment in [
        Environment::Demo,
        Environment::Staging,
        Environment::Production,
    ] {
        assert_eq!(
            m.mode(environment, ActionClass::Disruptive),
            Mode::ApprovalRequired
        );
    }
    assert_eq!(
        m.cooldowns.duplicate_suppression,
        Duration::from_secs(15 * 60)
    );
}

#[test]
fn matrix_rejects_an_automatic_disruptive_class() {
    let text = BUILTIN.replace(
        "modes: { contain: auto_execute, recover: auto_execute, disruptive: approval_required }",
        "modes: { contain: auto_execute, recover: auto_execute, disruptive: auto_execute }",
    );
    let errors = PolicyMatrix::from_yaml(&text, "policy.yaml").unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].field, "environments.demo.modes.disruptive");
    assert_eq!(
        errors[0].reason,
        "disruptive actions can never be automatic"
    );
}

#[test]
fn matrix_rejects_a_recover_action_listed_as_automatic() {
    let text = BUILTIN.replace(
        "auto_actions: [cleanup]",
        "auto_actions: [cleanup, rollback]",
    );
    let errors = PolicyMatrix::from_yaml(&text, "policy.yaml").unwrap_err();
    assert_eq!(errors[0].field, "environments.production.auto_actions[1]");
    assert!(
        errors[0].reason.starts_with("rollback is recover"),
        "{errors:?}"
    );
}

#[test]
fn scaling_to_zero_is_contain_only_where_allowlisted() {
    let m = PolicyMatrix::builtin();
    let none = BTreeMap::new();
    let worker = target("Deployment", Some("batch"), "report-worker");
    let allow = vec!["batch/Deployment/report-*".to_owned()];
    assert_eq!(
        m.class_of(ActionKind::Scale, &worker, Some(0), &none, &allow),
        ActionClass::Contain
    );
    assert_eq!(
        m.class_of(ActionKind::Scale, &worker, Some(0), &none, &[]),
        ActionClass::Disruptive
    );
    assert_eq!(
        m.class_of(ActionKind::Scale, &worker, Some(3), &none, &[]),
        ActionClass::Recover
    );
    let critical = BTreeMap::from([("robot-sre.io/critical".to_owned(), "true".to_owned())]);
    assert_eq!(
        m.class_of(ActionKind::Scale, &worker, Some(0), &critical, &allow),
        ActionClass::Disruptive
    );
}

#[test]
fn never_auto_contain_wins_over_the_allowlist() {
    let m = PolicyMatrix::builtin();
    let system = target("Namespace", None, "kube-system");
    let why = m
        .containable(&system, &BTreeMap::new(), &["*".into()])
        .unwrap_err();
    assert!(why.contains("never-auto-contain"), "{why}");
    assert!(
        m.containable(&target("Namespace", None, "batch"), &BTreeMap::new(), &[])
            .is_ok()
    );
}

#[test]
fn glob_matches_stars_anywhere() {
    assert!(glob("*", ""));
    assert!(glob("a*c", "abbbc"));
    assert!(glob(
        "*/Deployment/*ingress*",
        "web/Deployment/nginx-ingress-ctl"
    ));
    assert!(!glob("a*c", "abcd"));
    assert!(!glob("abc", "abcd"));
    assert!(glob("kube-*/*", "kube-system/Pod/x"));
    assert!(!glob("ab*ba", "aba"));
}
