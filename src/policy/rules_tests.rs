use super::*;
use crate::domain::Namespace;
use crate::incidents::model::ResourceScope;

const SHIPPED: &str = include_str!("../../config/rules.yaml");

fn facts(kind: IncidentType, environment: Environment, namespace: &str) -> IncidentFacts {
    IncidentFacts {
        incident_type: kind,
        severity: Severity::Warning,
        confidence: Confidence::High,
        environment,
        scope: ResourceScope {
            namespace: Some(Namespace::parse(namespace).unwrap()),
            ..ResourceScope::default()
        },
        labels: Default::default(),
    }
}

fn errors(text: &str) -> Vec<LoadError> {
    RuleSet::from_yaml(text, "rules.yaml").unwrap_err()
}

#[test]
fn shipped_rules_load_and_match_by_type_environment_and_namespace() {
    let set = RuleSet::from_yaml(SHIPPED, "rules.yaml").unwrap();
    let payments = facts(
        IncidentType::StuckRollout,
        Environment::Production,
        "payments",
    );
    let ids: Vec<&str> = set.matching(&payments).map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["payments-approval-only"]);
    let staging = facts(IncidentType::StuckRollout, Environment::Staging, "payments");
    assert_eq!(set.matching(&staging).count(), 0);
}

#[test]
fn rules_cannot_allowlist_a_human_only_action() {
    let got = errors(
        "rules:\n  - { id: x, version: 1, owner: me, allow_auto: [{ action: delete_namespace, resources: [\"Namespace/tmp-*\"] }] }\n",
    );
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].field, "rules[0].allow_auto[0].action");
    assert_eq!(
        got[0].reason,
        "delete_namespace is human-only: no rule can make it automatic"
    );
}

#[test]
fn rules_cannot_allowlist_recover_or_disruptive_actions() {
    for action in ["rollback", "drain_node"] {
        let got = errors(&format!(
            "rules:\n  - {{ id: x, version: 1, owner: me, allow_auto: [{{ action: {action}, resources: [a/Deployment/b] }}] }}\n"
        ));
        assert!(
            got[0]
                .reason
                .contains("rules may allowlist only contain actions"),
            "{got:?}"
        );
    }
}

#[test]
fn rules_refuse_secrets_commands_and_duplicate_ids() {
    let got = errors(
        "rules:\n  - { id: x, version: 1, owner: me, token: abc }\n  - { id: y, version: 1, owner: me, script: rm -rf / }\n",
    );
    let fields: Vec<&str> = got.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["rules[0].token", "rules[1].script"]);
    let got = errors(
        "rules:\n  - { id: x, version: 1, owner: me }\n  - { id: x, version: 2, owner: me }\n",
    );
    assert_eq!(got[0].reason, "x is used twice");
}

#[test]
fn an_empty_rules_file_is_no_rules() {
    assert_eq!(
        RuleSet::from_yaml("# nothing yet\n", "rules.yaml")
            .unwrap()
            .rules
            .len(),
        0
    );
}
