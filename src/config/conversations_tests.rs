use super::*;

fn person(name: &str, groups: &[&str]) -> Person {
    Person {
        name: name.into(),
        slack: None,
        telegram: None,
        whatsapp: None,
        groups: groups.iter().map(|g| (*g).to_owned()).collect(),
    }
}

fn people() -> Vec<Person> {
    vec![person("alice", &["sre"]), person("bob", &[])]
}

fn rule(who: &[&str], classes: &[ActionClass]) -> ApproverRule {
    ApproverRule {
        who: who.iter().map(|w| (*w).to_owned()).collect(),
        classes: classes.to_vec(),
        environments: Vec::new(),
    }
}

fn problems_of(settings: &ConversationSettings) -> Vec<(String, String)> {
    validate(settings, &people())
}

fn keys(problems: &[(String, String)]) -> Vec<&str> {
    problems.iter().map(|(key, _)| key.as_str()).collect()
}

#[test]
fn defaults_validate_and_warn_that_nobody_may_approve() {
    let settings = ConversationSettings::default();
    assert_eq!(problems_of(&settings), Vec::new());
    assert_eq!(settings.prompt_expiry, Duration::from_secs(900));
    assert!(
        settings
            .second_approver
            .applies(ActionClass::Disruptive, Environment::Production)
    );
    let warnings = warnings(&settings, &people());
    assert_eq!(warnings.len(), 1);
    assert!(
        warnings[0].contains("conversations.approvers"),
        "{warnings:?}"
    );
}

#[test]
fn settings_read_from_yaml_in_snake_case_with_humantime_durations() {
    let yaml = "prompt_expiry: 10m\napprovers:\n  - who: [alice, 'group:sre']\n    classes: [recover, disruptive]\n    environments: [production]\nsecond_approver: { classes: [] }\nescalate_to: [bob]\nsweep_interval: 2s\nlease_ttl: 10s\nsilence_max: 2h\n";
    let settings: ConversationSettings = serde_yaml::from_str(yaml).unwrap();
    assert_eq!(settings.prompt_expiry, Duration::from_secs(600));
    assert_eq!(
        settings.approvers[0].classes,
        [ActionClass::Recover, ActionClass::Disruptive]
    );
    assert_eq!(
        settings.approvers[0].environments,
        [Environment::Production]
    );
    assert!(
        !settings
            .second_approver
            .applies(ActionClass::Disruptive, Environment::Production)
    );
    assert_eq!(settings.silence_max, Duration::from_secs(7200));
    assert_eq!(problems_of(&settings), Vec::new());
    assert!(warnings(&settings, &people()).is_empty());
}

#[test]
fn validate_refuses_durations_outside_their_ranges() {
    let settings = ConversationSettings {
        prompt_expiry: Duration::from_secs(10),
        sweep_interval: Duration::from_secs(600),
        silence_max: Duration::ZERO,
        ..ConversationSettings::default()
    };
    let problems = problems_of(&settings);
    assert_eq!(
        keys(&problems),
        [
            "conversations.prompt_expiry",
            "conversations.sweep_interval",
            "conversations.silence_max",
            "conversations.lease_ttl",
        ]
    );
    assert!(problems[0].1.contains("30s..=1day"), "{problems:?}");
}

#[test]
fn validate_refuses_a_lease_not_longer_than_two_sweeps() {
    let settings = ConversationSettings {
        sweep_interval: Duration::from_secs(5),
        lease_ttl: Duration::from_secs(10),
        ..ConversationSettings::default()
    };
    let problems = problems_of(&settings);
    assert_eq!(keys(&problems), ["conversations.lease_ttl"]);
    assert!(
        problems[0].1.contains("twice sweep_interval (5s)"),
        "{problems:?}"
    );
}

#[test]
fn validate_names_an_unknown_person_and_an_empty_group() {
    let settings = ConversationSettings {
        approvers: vec![
            rule(&["alice"], &[ActionClass::Recover]),
            rule(&["carol", "group:dba"], &[ActionClass::Recover]),
        ],
        escalate_to: vec!["group:".into(), "group:sre".into()],
        ..ConversationSettings::default()
    };
    let problems = problems_of(&settings);
    let texts: Vec<&str> = problems.iter().map(|(_, p)| p.as_str()).collect();
    assert_eq!(
        texts,
        [
            "entry 2: `carol` is not a person in channels.people",
            "entry 2: group `dba` has no members in channels.people",
            "`group:` names no group; write group:<name>",
        ]
    );
    assert_eq!(
        keys(&problems),
        [
            "conversations.approvers",
            "conversations.approvers",
            "conversations.escalate_to"
        ]
    );
}

#[test]
fn validate_refuses_classes_that_need_no_approval() {
    let settings = ConversationSettings {
        approvers: vec![rule(
            &["bob"],
            &[ActionClass::Observe, ActionClass::Contain],
        )],
        second_approver: SecondApprover {
            classes: vec![ActionClass::Notify],
            environments: Vec::new(),
        },
        ..ConversationSettings::default()
    };
    let problems = problems_of(&settings);
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems[0]
            .1
            .contains("entry 1: observe actions need no approval")
    );
    assert_eq!(problems[1].0, "conversations.second_approver.classes");
    assert!(problems[1].1.contains("notify actions need no approval"));
}

#[test]
fn validate_refuses_a_rule_that_grants_nothing() {
    let settings = ConversationSettings {
        approvers: vec![rule(&[], &[])],
        ..ConversationSettings::default()
    };
    let texts: Vec<String> = problems_of(&settings).into_iter().map(|(_, p)| p).collect();
    assert_eq!(
        texts,
        [
            "entry 1: `who` is empty; name people or `group:<name>`",
            "entry 1: `classes` is empty; list contain, recover or disruptive",
        ]
    );
}

#[test]
fn second_approver_with_no_environments_applies_everywhere() {
    let second = SecondApprover {
        classes: vec![ActionClass::Recover],
        environments: Vec::new(),
    };
    assert!(second.applies(ActionClass::Recover, Environment::Demo));
    assert!(!second.applies(ActionClass::Disruptive, Environment::Demo));
}

#[test]
fn warnings_name_the_only_approver_when_two_are_required() {
    let settings = ConversationSettings {
        approvers: vec![
            rule(&["group:sre"], &[ActionClass::Disruptive]),
            rule(&["bob"], &[ActionClass::Recover]),
        ],
        ..ConversationSettings::default()
    };
    assert_eq!(
        warnings(&settings, &people()),
        [
            "conversations.second_approver: disruptive actions in production need two distinct \
          approvers but only alice may approve them, so they can never run"
        ]
    );
    let two = ConversationSettings {
        approvers: vec![rule(&["alice", "bob"], &[ActionClass::Disruptive])],
        ..settings
    };
    assert!(warnings(&two, &people()).is_empty());
}

#[test]
fn load_refuses_an_approver_missing_from_people_naming_the_file() {
    use std::io::Write as _;
    let mut file = tempfile::NamedTempFile::new().unwrap();
    let yaml = "channels:\n  people: [{ name: alice }]\nconversations:\n  approvers:\n    - who: [alice, mallory]\n      classes: [recover]\n";
    file.write_all(yaml.as_bytes()).unwrap();
    let overrides = figment::providers::Serialized::defaults(serde_json::json!({}));
    let error = crate::config::load_from(Some(file.path()), overrides).unwrap_err();
    assert_eq!(error.problems.len(), 1, "{error}");
    let problem = &error.problems[0];
    assert_eq!(problem.key, "conversations.approvers");
    assert_eq!(problem.origin, file.path().display().to_string());
    assert_eq!(
        problem.problem,
        "entry 1: `mallory` is not a person in channels.people"
    );
}
