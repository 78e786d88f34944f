use std::path::Path;

use super::*;
use crate::policy::Taxonomy;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/config/runbooks");
const VALID: &str = include_str!("../../config/runbooks/stuck-rollout-rollback.yaml");

fn reject(text: &str) -> Vec<LoadError> {
    let set = parse_all(text, "bad.yaml", &Taxonomy::builtin());
    assert!(set.runbooks.is_empty(), "{:?}", set.runbooks);
    set.rejected
}

fn edited(from: &str, to: &str) -> String {
    assert!(VALID.contains(from), "{from:?}");
    VALID.replacen(from, to, 1)
}

#[test]
fn shipped_runbooks_all_load() {
    let set = load_dir(Path::new(DIR), &Taxonomy::builtin());
    assert!(set.rejected.is_empty(), "{:?}", set.rejected);
    let names: Vec<&str> = set.runbooks.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "batch-suspend-cronjob",
            "crashloop-delete-pod",
            "stuck-rollout-rollback"
        ]
    );
    assert_eq!(set.runbooks[1].spec.shadow, Some(true));
    assert_eq!(set.runbooks[2].spec.shadow, Some(false));
}

#[test]
fn runbook_with_a_human_only_action_is_rejected_naming_the_field() {
    let got = reject(&edited("kind: rollback", "kind: rotate_secret"));
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].origin, "bad.yaml");
    assert_eq!(got[0].field, "spec.action.kind");
    assert_eq!(
        got[0].reason,
        "rotate_secret is human-only: no runbook can make the bot run it"
    );
}

#[test]
fn runbook_with_an_unknown_confidence_names_the_field_and_values() {
    let got = reject(&edited(
        "minimumConfidence: medium",
        "minimumConfidence: certain",
    ));
    assert_eq!(got[0].field, "spec.triggers.minimumConfidence", "{got:?}");
    assert!(
        got[0].reason.contains("unknown variant `certain`"),
        "{got:?}"
    );
}

#[test]
fn runbook_with_a_shell_command_is_rejected() {
    let got = reject(&edited(
        "    kind: rollback\n",
        "    kind: rollback\n    command: kubectl delete ns payments\n",
    ));
    assert_eq!(got[0].field, "spec.action.command");
    assert!(
        got[0].reason.starts_with("shell commands are not allowed"),
        "{got:?}"
    );
}

#[test]
fn runbook_with_a_secret_value_is_rejected_without_echoing_it() {
    let token = crate::policy::hygiene::fake_slack_token();
    let got = reject(&edited("owner: team-payments", &format!("owner: {token}")));
    assert_eq!(got[0].field, "spec.owner");
    assert!(!got[0].to_string().contains(&token), "{got:?}");
}

#[test]
fn runbook_problems_are_all_reported_with_their_fields() {
    let text = edited(
        "probableCauses: [bad_release, image_unavailable, failing_readiness_probe]",
        "probableCauses: [cosmic_rays]",
    )
    .replace("maxExecutionsPerHour: 2", "maxExecutionsPerHour: 0")
    .replace(
        "checks: [rollout_complete, restarts_stable]",
        "checks: [node_schedulable]",
    )
    .replace(
        "decisionMode: approval_required",
        "decisionMode: auto_execute",
    );
    let got = reject(&text);
    let fields: Vec<(&str, &str)> = got
        .iter()
        .map(|e| (e.field.as_str(), e.reason.as_str()))
        .collect();
    assert_eq!(
        fields,
        [
            (
                "spec.triggers.probableCauses[0]",
                "\"cosmic_rays\" is not a root-cause hypothesis of the listed incident types"
            ),
            ("spec.decisionMode", "auto_execute needs risk: low"),
            ("spec.guardrails.maxExecutionsPerHour", "must be at least 1"),
            (
                "spec.verification.checks[0]",
                "node_schedulable cannot verify rollback"
            ),
        ]
    );
}

#[test]
fn one_bad_runbook_does_not_disable_the_others() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a-good.yaml"), VALID).unwrap();
    std::fs::write(
        dir.path().join("b-bad.yaml"),
        edited("kind: rollback", "kind: delete_namespace"),
    )
    .unwrap();
    std::fs::write(dir.path().join("c-dup.yml"), VALID).unwrap();
    std::fs::write(dir.path().join("notes.txt"), "ignored").unwrap();
    let set = load_dir(dir.path(), &Taxonomy::builtin());
    assert_eq!(set.runbooks.len(), 1);
    let problems: Vec<String> = set.rejected.iter().map(ToString::to_string).collect();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].ends_with("b-bad.yaml: spec.action.kind: delete_namespace is human-only: no runbook can make the bot run it"), "{problems:?}");
    assert!(
        problems[1]
            .contains("c-dup.yml: metadata.name: stuck-rollout-rollback is already defined by"),
        "{problems:?}"
    );
}

#[test]
fn a_missing_directory_is_one_clear_problem() {
    let set = load_dir(Path::new("/nonexistent/runbooks"), &Taxonomy::builtin());
    assert!(set.runbooks.is_empty());
    assert!(
        set.rejected[0]
            .reason
            .starts_with("cannot read the runbook directory")
    );
}
