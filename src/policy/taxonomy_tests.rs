use super::*;

fn replace(from: &str, to: &str) -> String {
    assert!(BUILTIN.contains(from), "the shipped taxonomy has {from:?}");
    BUILTIN.replacen(from, to, 1)
}

fn errors(text: &str) -> Vec<LoadError> {
    Taxonomy::from_yaml(text, "taxonomy.yaml").expect_err("invalid")
}

#[test]
fn builtin_taxonomy_has_every_class_but_unclassified() {
    let taxonomy = Taxonomy::builtin();
    assert_eq!(taxonomy.version, 1);
    assert_eq!(taxonomy.domains.len(), 8);
    for kind in IncidentType::ALL {
        assert_eq!(
            taxonomy.class(kind).is_some(),
            kind != IncidentType::Unclassified,
            "{}",
            kind.as_str()
        );
    }
}

#[test]
fn builtin_taxonomy_never_auto_allows_disruptive_or_human_only_actions() {
    for class in Taxonomy::builtin().classes() {
        for action in &class.auto_allowed {
            assert!(
                action.class() < ActionClass::Disruptive,
                "{}: {action}",
                class.id.as_str()
            );
        }
    }
}

#[test]
fn taxonomy_rejects_an_unsupported_version() {
    let got = errors(&replace("version: 1", "version: 9"));
    assert_eq!(got[0].field, "version");
    assert!(got[0].reason.contains("not supported"), "{got:?}");
}

#[test]
fn taxonomy_rejects_a_disruptive_auto_allowed_action_naming_the_field() {
    let got = errors(&replace(
        "auto_allowed: [cleanup]",
        "auto_allowed: [reboot_node]",
    ));
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].origin, "taxonomy.yaml");
    assert_eq!(got[0].field, "classes[3].auto_allowed[0]");
    assert_eq!(
        got[0].reason,
        "reboot_node is disruptive and can never be auto-allowed"
    );
}

#[test]
fn taxonomy_rejects_a_human_only_action_offered_for_approval() {
    let got = errors(&replace(
        "approval_required: [rollback]\n    human_only: [rotate_secret]",
        "approval_required: [rollback, rotate_secret]\n    human_only: []",
    ));
    assert!(
        got.iter().any(|e| e.reason.contains("human-only")),
        "{got:?}"
    );
}

#[test]
fn taxonomy_rejects_a_missing_class() {
    let start = BUILTIN.find("  - id: chatops_delivery_failure").unwrap();
    let got = errors(&BUILTIN[..start]);
    assert!(
        got.iter()
            .any(|e| e.reason == "incident class chatops_delivery_failure is missing"),
        "{got:?}"
    );
}

#[test]
fn taxonomy_rejects_an_unknown_field_with_its_path() {
    let got = errors(&replace(
        "    cooldown: 60m\n",
        "    cooldown: 60m\n    command: reboot\n",
    ));
    assert!(got[0].reason.contains("unknown field `command`"), "{got:?}");
}

#[test]
fn severity_rules_apply_by_environment_and_labels() {
    let taxonomy = Taxonomy::builtin();
    let class = taxonomy.class(IncidentType::StuckRollout).unwrap();
    let labels = LabelSet::new();
    assert_eq!(
        class.severity(Severity::Warning, Environment::Production, &labels),
        Severity::Critical
    );
    assert_eq!(
        class.severity(Severity::Warning, Environment::Staging, &labels),
        Severity::Warning
    );
}
