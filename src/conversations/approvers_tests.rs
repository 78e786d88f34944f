use super::*;
use ActionClass::{Contain, Disruptive, Notify, Recover};
use Environment::{Demo, Production, Staging};

fn person(name: &str, groups: &[&str]) -> Person {
    Person {
        name: name.into(),
        slack: None,
        telegram: None,
        whatsapp: None,
        groups: groups.iter().map(|g| (*g).to_owned()).collect(),
    }
}

fn rule(who: &[&str], classes: &[ActionClass], environments: &[Environment]) -> ApproverRule {
    ApproverRule {
        who: who.iter().map(|w| (*w).to_owned()).collect(),
        classes: classes.to_vec(),
        environments: environments.to_vec(),
    }
}

/// alice and bob are in `sre`; carol is a developer who may restart things in staging only;
/// dave is known but granted nothing.
fn team() -> Approvers {
    let people = [
        person("alice", &["sre"]),
        person("bob", &["sre"]),
        person("carol", &["dev"]),
        person("dave", &[]),
    ];
    let rules = [
        rule(&["group:sre"], &[Contain, Recover, Disruptive], &[]),
        rule(&["carol"], &[Recover], &[Staging]),
    ];
    Approvers::new(&rules, &SecondApprover::default(), &people)
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|n| (*n).to_owned()).collect()
}

#[test]
fn authorize_allows_a_group_member_for_a_granted_class_in_any_environment() {
    let approvers = team();
    for environment in [Demo, Staging, Production] {
        assert_eq!(
            approvers.authorize(Some("bob"), Disruptive, environment),
            Ok(())
        );
    }
}

#[test]
fn authorize_allows_a_named_person_only_where_the_rule_says() {
    let approvers = team();
    assert_eq!(approvers.authorize(Some("carol"), Recover, Staging), Ok(()));
    let refused = approvers.authorize(Some("carol"), Recover, Production);
    assert_eq!(
        refused,
        Err(Unauthorized::NotAllowed {
            person: "carol".into(),
            class: Recover,
            environment: Production,
        })
    );
    assert_eq!(
        refused.unwrap_err().to_string(),
        "carol may not approve recover actions in production"
    );
}

#[test]
fn authorize_refuses_a_known_person_without_a_grant_for_the_class() {
    let approvers = team();
    assert!(matches!(
        approvers.authorize(Some("dave"), Contain, Demo),
        Err(Unauthorized::NotAllowed { .. })
    ));
    assert!(matches!(
        approvers.authorize(Some("carol"), Disruptive, Staging),
        Err(Unauthorized::NotAllowed { .. })
    ));
}

#[test]
fn authorize_refuses_an_unknown_sender_when_no_person_or_an_unlisted_name() {
    let approvers = team();
    for person in [None, Some("mallory")] {
        let error = approvers.authorize(person, Recover, Demo).unwrap_err();
        assert_eq!(error, Unauthorized::UnknownUser);
        assert_eq!(
            error.to_string(),
            "you are not in channels.people, so you cannot approve"
        );
    }
}

#[test]
fn authorize_says_nobody_is_configured_when_no_rule_covers_the_decision() {
    let people = [person("alice", &["sre"])];
    let empty = Approvers::new(&[], &SecondApprover::default(), &people);
    let error = empty
        .authorize(Some("alice"), Recover, Production)
        .unwrap_err();
    assert_eq!(
        error,
        Unauthorized::NoApprovers {
            class: Recover,
            environment: Production
        }
    );
    assert!(
        error
            .to_string()
            .starts_with("nobody is configured to approve recover actions in production"),
        "{error}"
    );
    assert!(matches!(
        team().authorize(Some("alice"), Notify, Demo),
        Err(Unauthorized::NoApprovers { .. })
    ));
}

#[test]
fn authorize_grants_nothing_for_a_group_without_members() {
    let people = [person("alice", &[])];
    let rules = [rule(&["group:ghosts", "nobody"], &[Recover], &[])];
    let approvers = Approvers::new(&rules, &SecondApprover::default(), &people);
    assert!(approvers.eligible(Recover, Demo).is_empty());
    assert!(matches!(
        approvers.authorize(Some("alice"), Recover, Demo),
        Err(Unauthorized::NoApprovers { .. })
    ));
}

#[test]
fn eligible_lists_each_person_once_sorted() {
    let approvers = team();
    assert_eq!(
        approvers.eligible(Recover, Staging),
        ["alice", "bob", "carol"]
    );
    assert_eq!(approvers.eligible(Recover, Production), ["alice", "bob"]);
}

#[test]
fn required_is_two_for_disruptive_in_production_by_default() {
    let approvers = team();
    assert_eq!(approvers.required(Disruptive, Production), 2);
    assert_eq!(approvers.required(Disruptive, Staging), 1);
    assert_eq!(approvers.required(Recover, Production), 1);
}

#[test]
fn required_is_one_everywhere_when_second_approver_is_off() {
    let off = SecondApprover {
        classes: Vec::new(),
        environments: Vec::new(),
    };
    let approvers = Approvers::new(&[], &off, &[]);
    assert_eq!(approvers.required(Disruptive, Production), 1);
}

#[test]
fn record_completes_at_once_when_one_approver_is_needed() {
    let approvers = team();
    assert_eq!(
        approvers.record(&[], "alice", Recover, Production),
        Approval::Complete
    );
}

#[test]
fn record_needs_more_after_the_first_of_two_approvers() {
    let approvers = team();
    assert_eq!(
        approvers.record(&[], "alice", Disruptive, Production),
        Approval::NeedsMore { have: 1, need: 2 }
    );
}

#[test]
fn record_completes_when_a_second_distinct_approver_approves() {
    let approvers = team();
    assert_eq!(
        approvers.record(&names(&["alice"]), "bob", Disruptive, Production),
        Approval::Complete
    );
}

#[test]
fn record_does_not_count_twice_when_the_same_person_approves_again() {
    let approvers = team();
    assert_eq!(
        approvers.record(&names(&["alice"]), "alice", Disruptive, Production),
        Approval::Duplicate
    );
    assert_eq!(
        approvers.record(&names(&["alice"]), "alice", Recover, Demo),
        Approval::Duplicate
    );
}
