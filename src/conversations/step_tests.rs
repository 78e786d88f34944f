//! The transition table, exhaustively: every sample state against every sample event, checked
//! against a table written out by hand, plus the paths the table cannot show.

use chrono::{DateTime, Duration, TimeZone, Utc};

use super::step;
use crate::channels::{ChannelKind, MessageRef};
use crate::conversations::event::{ActionOutcome, AuditNote, Effect, Event, HumanCommand, Plan};
use crate::conversations::state::{
    Awaiting, Closed, Conversation, Pending, PromptTokens, Running, State, StateName,
};
use crate::domain::{ActionKind, Namespace};
use crate::incidents::IncidentId;
use crate::incidents::model::{Environment, Severity};
use crate::ops::{Action, ActionRequest, RequestId, Status};
use crate::policy::action::ActionClass;
use crate::policy::decision::{ActionTarget, PlannedAction};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 14, 0, 0).unwrap()
}

/// After every sample prompt's expiry.
fn now() -> DateTime<Utc> {
    t0() + Duration::minutes(20)
}

fn request() -> RequestId {
    RequestId::parse("req-running").unwrap()
}

fn action_request() -> ActionRequest {
    let action = Action::parse(ActionKind::Rollback, "payments/checkout", None).unwrap();
    let mut made = ActionRequest::new(IncidentId::from_stored("inc-aaaaaaaaaaaa"), action);
    made.id = request();
    made
}

fn pending() -> Pending {
    Pending {
        action: PlannedAction {
            kind: ActionKind::Rollback,
            target: ActionTarget {
                kind: "Deployment".into(),
                namespace: Some(Namespace::parse("payments").unwrap()),
                name: "checkout".into(),
            },
            replicas: None,
            runbook: None,
        },
        class: ActionClass::Recover,
        request: action_request(),
        fingerprint: Some("uid@7".into()),
    }
}

fn tokens(n: u8) -> PromptTokens {
    PromptTokens {
        approve: format!("{n:032x}"),
        reject: format!("{:032x}", u128::from(n) + 1000),
    }
}

fn copy(channel: ChannelKind, id: &str) -> MessageRef {
    MessageRef {
        channel,
        conversation: "C1".into(),
        id: id.into(),
    }
}

fn awaiting(needed: usize) -> Awaiting {
    Awaiting {
        prompt: 1,
        pending: pending(),
        expires_at: t0() + Duration::minutes(15),
        tokens: tokens(1),
        later: if needed > 1 {
            vec![tokens(2)]
        } else {
            Vec::new()
        },
        messages: vec![copy(ChannelKind::Slack, "1.1")],
        failed: Vec::new(),
        approvals: Vec::new(),
        needed,
    }
}

fn running() -> Running {
    Running {
        pending: pending(),
        approvers: vec!["alice".into()],
        messages: vec![copy(ChannelKind::Slack, "1.1")],
    }
}

fn parked() -> Closed {
    Closed {
        at: t0(),
        by: Some("bob".into()),
        reason: "because".into(),
        messages: vec![copy(ChannelKind::Slack, "1.1")],
        pending: Some(pending()),
    }
}

fn conversation(state: State) -> Conversation {
    let mut c = Conversation::new(
        IncidentId::from_stored("inc-aaaaaaaaaaaa"),
        Environment::Production,
        Severity::Critical,
        t0(),
    );
    c.prompts = u32::from(matches!(state, State::AwaitingApproval(_)));
    c.thread = state.messages().first().cloned();
    c.state = state;
    c
}

/// One sample per state, plus the two kinds of suppression.
fn states() -> Vec<(&'static str, Conversation)> {
    vec![
        ("triaged", State::Triaged),
        ("awaiting", State::AwaitingApproval(awaiting(1))),
        ("approved", State::Approved(running())),
        ("executing", State::Executing(running())),
        ("verifying", State::Verifying(running())),
        ("rejected", State::Rejected(parked())),
        ("expired", State::Expired(parked())),
        ("resolved", State::Resolved(parked())),
        ("escalated", State::Escalated(parked())),
        ("failed", State::Failed(parked())),
        (
            "silenced",
            State::Suppressed {
                closed: parked(),
                until: Some(now() + Duration::hours(1)),
            },
        ),
        (
            "suppressed",
            State::Suppressed {
                closed: parked(),
                until: None,
            },
        ),
    ]
    .into_iter()
    .map(|(label, state)| (label, conversation(state)))
    .collect()
}

fn outcome(status: Status) -> Event {
    Event::ActionResult(ActionOutcome {
        request: request(),
        status,
        reasons: vec!["why".into()],
    })
}

fn decision(prompt: u32, approves: bool) -> Event {
    Event::DecisionReceived {
        prompt,
        by: "alice".into(),
        channel: ChannelKind::Slack,
        approves,
    }
}

fn command(command: HumanCommand) -> Event {
    Event::HumanCommand {
        by: "carol".into(),
        command,
    }
}

/// One sample per event kind and per branch the events take.
fn events() -> Vec<(&'static str, Event)> {
    let plan = |plan| Event::IncidentUpdated {
        plan: Box::new(plan),
    };
    vec![
        (
            "ask",
            plan(Plan::Ask {
                pending: pending(),
                expires_at: now() + Duration::minutes(15),
                tokens: tokens(3),
                later: Vec::new(),
                needed: 1,
            }),
        ),
        (
            "page",
            plan(Plan::Page {
                text: "look".into(),
            }),
        ),
        ("suggest", plan(Plan::Suggest { text: "try".into() })),
        (
            "auto",
            plan(Plan::Auto {
                pending: pending(),
                text: "restarting".into(),
            }),
        ),
        (
            "suppress",
            plan(Plan::Suppress {
                reason: "dup".into(),
            }),
        ),
        (
            "delivered",
            Event::PromptDelivered {
                prompt: 1,
                message: copy(ChannelKind::Telegram, "7"),
            },
        ),
        (
            "delivered_late",
            Event::PromptDelivered {
                prompt: 99,
                message: copy(ChannelKind::Telegram, "8"),
            },
        ),
        (
            "notice",
            Event::NoticeDelivered {
                message: copy(ChannelKind::WhatsApp, "wamid.1"),
            },
        ),
        (
            "undelivered",
            Event::PromptUndelivered {
                message: copy(ChannelKind::Slack, "1.1"),
                reason: "failed".into(),
            },
        ),
        ("approve", decision(1, true)),
        ("reject", decision(1, false)),
        ("approve_old_prompt", decision(99, true)),
        ("expiry", Event::ExpiryReached),
        ("started", Event::ExecutionStarted),
        ("applied", outcome(Status::Applied)),
        ("stale", outcome(Status::Stale)),
        ("refused", outcome(Status::Refused)),
        ("failed", outcome(Status::Failed)),
        (
            "pass",
            Event::VerificationVerdict {
                passed: true,
                reasons: Vec::new(),
            },
        ),
        (
            "fail",
            Event::VerificationVerdict {
                passed: false,
                reasons: vec!["pods not ready".into()],
            },
        ),
        ("alert_resolved", Event::AlertResolved),
        ("ack", command(HumanCommand::Ack)),
        ("escalate", command(HumanCommand::Escalate)),
        (
            "silence",
            command(HumanCommand::Silence {
                until: now() + Duration::hours(2),
            }),
        ),
    ]
}

/// The table: the state each sample moves to, or `None` when the event is ignored.
fn expected(state: &str, event: &str) -> Option<StateName> {
    use StateName::*;
    let same = match state {
        "triaged" => Triaged,
        "awaiting" => AwaitingApproval,
        "approved" => Approved,
        "executing" => Executing,
        "verifying" => Verifying,
        "rejected" => Rejected,
        "expired" => Expired,
        "resolved" => Resolved,
        "escalated" => Escalated,
        "failed" => Failed,
        _ => Suppressed,
    };
    let accepts_plans = matches!(state, "triaged" | "resolved" | "suppressed");
    let in_flight = matches!(state, "approved" | "executing" | "verifying");
    match event {
        "ask" if accepts_plans => Some(AwaitingApproval),
        "page" if accepts_plans => Some(Escalated),
        "suggest" if accepts_plans => Some(Triaged),
        "auto" if accepts_plans => Some(Approved),
        "suppress" if accepts_plans => Some(Suppressed),
        "ask" | "page" | "suggest" | "auto" | "suppress" => None,
        // A copy is kept when its prompt is open, and closed at once otherwise.
        "delivered" | "delivered_late" | "notice" => Some(same),
        "undelivered" | "approve" | "reject" | "expiry" if state == "awaiting" => {
            Some(match event {
                "approve" => Approved,
                "reject" => Rejected,
                "expiry" => Expired,
                _ => AwaitingApproval,
            })
        }
        "undelivered" | "approve" | "reject" | "approve_old_prompt" | "expiry" => None,
        "started" if state == "approved" => Some(Executing),
        "applied" if state == "executing" => Some(Verifying),
        "stale" if state == "executing" => Some(Triaged),
        "refused" | "failed" if state == "executing" => Some(Failed),
        "pass" if state == "verifying" => Some(Resolved),
        "fail" if state == "verifying" => Some(Failed),
        "started" | "applied" | "stale" | "refused" | "failed" | "pass" | "fail" => None,
        _ if state == "resolved" => None,
        "alert_resolved" if in_flight => None,
        "alert_resolved" => Some(Resolved),
        "ack" => Some(same),
        "escalate" | "silence" if in_flight => None,
        "escalate" => Some(Escalated),
        "silence" => Some(Suppressed),
        other => panic!("no expectation for {other}"),
    }
}

#[test]
fn every_event_in_every_state_follows_the_table() {
    let mut pairs = 0;
    for (label, before) in states() {
        for (event_label, event) in events() {
            let transition = step(&before, &event, now());
            let after = &transition.conversation;
            let case = format!("{event_label} while {label}");
            match expected(label, event_label) {
                Some(name) => {
                    assert_eq!(after.state.name(), name, "{case}");
                    assert_eq!(transition.ignored, None, "{case}");
                    assert_eq!(after.seq, before.seq + 1, "{case}");
                    assert_eq!(after.updated_at, now(), "{case}");
                }
                None => {
                    assert_eq!(after, &before, "{case}: an ignored event changes nothing");
                    let reason = transition
                        .ignored
                        .as_deref()
                        .unwrap_or_else(|| panic!("{case}: expected the event to be ignored"));
                    assert!(reason.contains(event.name()), "{case}: {reason}");
                    assert_eq!(
                        transition.effects,
                        vec![Effect::Audit {
                            note: AuditNote::Ignored,
                            reason: reason.to_owned(),
                        }],
                        "{case}: an ignored event is audited and does nothing else"
                    );
                }
            }
            pairs += 1;
        }
    }
    assert_eq!(pairs, states().len() * events().len());
    let covered: std::collections::BTreeSet<_> =
        states().iter().map(|(_, c)| c.state.name()).collect();
    assert_eq!(
        covered.len(),
        StateName::ALL.len(),
        "every state is sampled"
    );
}

fn effects_of(state: State, event: Event) -> (Conversation, Vec<Effect>) {
    let transition = step(&conversation(state), &event, now());
    assert_eq!(transition.ignored, None);
    (transition.conversation, transition.effects)
}

fn has(effects: &[Effect], wanted: impl Fn(&Effect) -> bool) -> bool {
    effects.iter().any(wanted)
}

#[test]
fn approval_closes_every_copy_replies_and_executes_once() {
    let (after, effects) = effects_of(State::AwaitingApproval(awaiting(1)), decision(1, true));
    let State::Approved(running) = &after.state else {
        panic!("approved expected, got {:?}", after.state)
    };
    assert_eq!(running.approvers, vec!["alice".to_owned()]);
    let executes: Vec<_> = effects
        .iter()
        .filter(|e| matches!(e, Effect::Execute { .. }))
        .collect();
    assert_eq!(executes, vec![&Effect::Execute { request: request() }]);
    assert!(has(&effects, |e| matches!(e,
        Effect::ClosePrompts { messages, outcome }
            if messages.len() == 1 && outcome.contains("Approved by alice on slack"))));
    assert!(has(&effects, |e| matches!(e, Effect::Reply { .. })));
    let first_chat = effects
        .iter()
        .position(|e| matches!(e, Effect::ClosePrompts { .. } | Effect::Reply { .. }));
    let execute = effects
        .iter()
        .position(|e| matches!(e, Effect::Execute { .. }));
    assert!(
        execute < first_chat,
        "the action goes to ops before chat messages wait on rate limits: {effects:?}"
    );
}

#[test]
fn two_distinct_approvers_are_needed_when_configured() {
    let (after, effects) = effects_of(State::AwaitingApproval(awaiting(2)), decision(1, true));
    let State::AwaitingApproval(second) = &after.state else {
        panic!("a second prompt expected, got {:?}", after.state)
    };
    assert_eq!((second.prompt, after.prompts), (2, 2));
    assert_eq!(
        second.tokens,
        tokens(2),
        "the follow-up prompt has its own tokens"
    );
    assert_eq!(second.approvals, vec!["alice".to_owned()]);
    assert!(second.messages.is_empty());
    assert!(effects.contains(&Effect::SendPrompt {
        prompt: 2,
        skip: Vec::new()
    }));
    assert!(!has(&effects, |e| matches!(e, Effect::Execute { .. })));

    let again = step(&after, &decision(2, true), now());
    let reason = again.ignored.expect("the same person cannot approve twice");
    assert!(reason.contains("second, different approver"), "{reason}");

    let mut bob = decision(2, true);
    if let Event::DecisionReceived { by, .. } = &mut bob {
        *by = "bob".into();
    }
    let done = step(&after, &bob, now());
    let State::Approved(running) = &done.conversation.state else {
        panic!("approved expected, got {:?}", done.conversation.state)
    };
    assert_eq!(
        running.approvers,
        vec!["alice".to_owned(), "bob".to_owned()]
    );
    assert!(has(&done.effects, |e| matches!(e, Effect::Execute { .. })));
}

#[test]
fn expiry_is_ignored_before_the_prompt_expires() {
    let c = conversation(State::AwaitingApproval(awaiting(1)));
    let early = step(&c, &Event::ExpiryReached, t0() + Duration::minutes(14));
    assert!(
        early
            .ignored
            .is_some_and(|r| r.contains("expires at 14:15 UTC"))
    );
}

#[test]
fn expiry_closes_copies_and_escalates() {
    let (_, effects) = effects_of(State::AwaitingApproval(awaiting(1)), Event::ExpiryReached);
    assert!(has(
        &effects,
        |e| matches!(e, Effect::ClosePrompts { outcome, .. } if outcome.contains("expired at 14:15 UTC"))
    ));
    assert!(has(&effects, |e| matches!(e, Effect::Escalate { .. })));
    assert!(has(&effects, |e| matches!(
        e,
        Effect::Audit {
            note: AuditNote::Escalation,
            ..
        }
    )));
}

#[test]
fn a_result_for_another_request_is_ignored() {
    let c = conversation(State::Executing(running()));
    let other = Event::ActionResult(ActionOutcome {
        request: RequestId::parse("req-other").unwrap(),
        status: Status::Applied,
        reasons: Vec::new(),
    });
    assert!(step(&c, &other, now()).ignored.is_some());
}

#[test]
fn a_stale_target_reprompts_and_a_failed_verification_escalates() {
    let (_, stale) = effects_of(State::Executing(running()), outcome(Status::Stale));
    assert!(stale.contains(&Effect::Repropose));
    let (_, fail) = effects_of(
        State::Verifying(running()),
        Event::VerificationVerdict {
            passed: false,
            reasons: vec!["pods not ready".into()],
        },
    );
    assert!(has(
        &fail,
        |e| matches!(e, Effect::Escalate { reason } if reason.contains("FAIL") && reason.contains("pods not ready"))
    ));
}

#[test]
fn an_undelivered_copy_is_sent_again_skipping_its_channel() {
    let (after, effects) = effects_of(
        State::AwaitingApproval(awaiting(1)),
        Event::PromptUndelivered {
            message: copy(ChannelKind::Slack, "1.1"),
            reason: "131026".into(),
        },
    );
    assert!(effects.contains(&Effect::SendPrompt {
        prompt: 1,
        skip: vec![ChannelKind::Slack]
    }));
    assert_eq!(
        after.thread, None,
        "the undelivered copy is no longer the thread"
    );
}

#[test]
fn a_late_copy_of_a_closed_prompt_is_closed_and_a_repeat_is_not_kept_twice() {
    let (_, effects) = effects_of(
        State::Rejected(parked()),
        Event::PromptDelivered {
            prompt: 1,
            message: copy(ChannelKind::Telegram, "7"),
        },
    );
    assert!(has(
        &effects,
        |e| matches!(e, Effect::ClosePrompts { messages, .. } if messages[0].id == "7")
    ));
    let c = conversation(State::AwaitingApproval(awaiting(1)));
    let repeat = Event::PromptDelivered {
        prompt: 1,
        message: copy(ChannelKind::Slack, "1.1"),
    };
    let after = step(&c, &repeat, now()).conversation;
    assert_eq!(after.state.messages().len(), 1);
}

#[test]
fn resolution_while_awaiting_withdraws_the_prompt_and_runs_nothing() {
    let (after, effects) = effects_of(State::AwaitingApproval(awaiting(1)), Event::AlertResolved);
    assert!(after.finished());
    assert!(has(
        &effects,
        |e| matches!(e, Effect::ClosePrompts { outcome, .. } if outcome.contains("resolved on its own") || outcome.contains("Resolved on its own"))
    ));
    assert!(!has(&effects, |e| matches!(e, Effect::Execute { .. })));
}

#[test]
fn silence_holds_new_plans_until_it_ends() {
    let silenced = conversation(State::Suppressed {
        closed: parked(),
        until: Some(now() + Duration::minutes(5)),
    });
    let page = Event::IncidentUpdated {
        plan: Box::new(Plan::Page {
            text: "look".into(),
        }),
    };
    assert!(step(&silenced, &page, now()).ignored.is_some());
    let later = step(&silenced, &page, now() + Duration::minutes(6));
    assert_eq!(later.conversation.state.name(), StateName::Escalated);
}

#[test]
fn every_sample_conversation_round_trips_through_json() {
    for (label, c) in states() {
        let json = serde_json::to_string(&c).unwrap();
        let back: Conversation = serde_json::from_str(&json).unwrap();
        assert_eq!(back, c, "{label}");
    }
}
