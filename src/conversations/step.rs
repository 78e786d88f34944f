//! The transition function: `(conversation, event) -> (conversation, effects)`, pure. An event
//! a state cannot take leaves the conversation as it was and says why; the driver audits that.

use chrono::{DateTime, Utc};

use super::event::{ActionOutcome, AuditNote, Effect, Event, HumanCommand, Plan};
use super::state::{Awaiting, Closed, Conversation, Pending, Running, State};
use crate::channels::{ChannelKind, MessageRef};
use crate::ops::Status;

/// The result of one step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// The conversation after the event (unchanged when ignored).
    pub conversation: Conversation,
    /// What the driver must do, in order.
    pub effects: Vec<Effect>,
    /// Why the event was ignored, when it was.
    pub ignored: Option<String>,
}

/// Applies `event` to `conversation` at `now`.
///
/// # Guarantees
/// Never panics; every (state, event) pair has an answer. A taken event bumps `seq` and sets
/// `updated_at`; an ignored one changes nothing and yields one [`AuditNote::Ignored`] effect.
pub fn step(conversation: &Conversation, event: &Event, now: DateTime<Utc>) -> Transition {
    let mut next = conversation.clone();
    match apply(&mut next, event, now) {
        Ok(effects) => {
            next.seq += 1;
            next.updated_at = now;
            Transition {
                conversation: next,
                effects,
                ignored: None,
            }
        }
        Err(why) => {
            let reason = format!(
                "{} ignored while {}: {why}",
                event.name(),
                conversation.state.name()
            );
            Transition {
                conversation: conversation.clone(),
                effects: vec![Effect::Audit {
                    note: AuditNote::Ignored,
                    reason: reason.clone(),
                }],
                ignored: Some(reason),
            }
        }
    }
}

type Taken = Result<Vec<Effect>, String>;

fn apply(c: &mut Conversation, event: &Event, now: DateTime<Utc>) -> Taken {
    match event {
        Event::IncidentUpdated { plan } => updated(c, plan, now),
        Event::PromptDelivered { prompt, message } => delivered(c, *prompt, message),
        Event::NoticeDelivered { message } => {
            c.thread.get_or_insert_with(|| message.clone());
            Ok(Vec::new())
        }
        Event::PromptUndelivered { message, reason } => undelivered(c, message, reason),
        Event::DecisionReceived {
            prompt,
            by,
            channel,
            approves,
        } => decided(c, *prompt, by, *channel, *approves, now),
        Event::ExpiryReached => expired(c, now),
        Event::ExecutionStarted => match &c.state {
            State::Approved(running) => {
                c.state = State::Executing(running.clone());
                Ok(Vec::new())
            }
            _ => Err("nothing is approved".into()),
        },
        Event::ActionResult(outcome) => action_result(c, outcome, now),
        Event::VerificationVerdict { passed, reasons } => verdict(c, *passed, reasons, now),
        Event::AlertResolved => alert_resolved(c, now),
        Event::HumanCommand { by, command } => human(c, by, command, now),
    }
}

/// Policy decided: legal when nothing is under way for the incident.
fn updated(c: &mut Conversation, plan: &Plan, now: DateTime<Utc>) -> Taken {
    match &c.state {
        State::Triaged | State::Resolved(_) => {}
        State::Suppressed { until, closed } => match until {
            Some(until) if *until > now => {
                let by = closed.by.as_deref().unwrap_or("policy");
                return Err(format!("silenced by {by} until {}", hhmm(*until)));
            }
            _ => {}
        },
        State::AwaitingApproval(_) => return Err("a prompt is already out".into()),
        state if state.in_flight() => return Err("an action is already running".into()),
        state => return Err(format!("a human has it ({})", state.name())),
    }
    Ok(match plan {
        Plan::Page { text } => {
            c.state = State::Escalated(closed(now, None, text, Vec::new(), None));
            vec![
                notify(c, "Needs a human", text),
                Effect::Audit {
                    note: AuditNote::Escalation,
                    reason: text.clone(),
                },
            ]
        }
        Plan::Suggest { text } => {
            c.state = State::Triaged;
            vec![notify(c, "Suggestion", text)]
        }
        Plan::Ask {
            pending,
            expires_at,
            tokens,
            later,
            needed,
        } => {
            c.prompts += 1;
            c.state = State::AwaitingApproval(Awaiting {
                prompt: c.prompts,
                pending: pending.clone(),
                expires_at: *expires_at,
                tokens: tokens.clone(),
                later: later.clone(),
                messages: Vec::new(),
                failed: Vec::new(),
                approvals: Vec::new(),
                needed: *needed,
            });
            vec![
                Effect::SendPrompt {
                    prompt: c.prompts,
                    skip: Vec::new(),
                },
                Effect::Audit {
                    note: AuditNote::ApprovalRequested,
                    reason: format!(
                        "asked to approve {} (prompt {}, expires {}, {} approval(s) needed)",
                        pending.action,
                        c.prompts,
                        hhmm(*expires_at),
                        needed
                    ),
                },
            ]
        }
        Plan::Auto { pending, text } => {
            c.state = State::Approved(Running {
                pending: pending.clone(),
                approvers: vec![crate::audit::Actor::ROBOT_SRE.to_owned()],
                messages: Vec::new(),
            });
            vec![
                notify(c, "Acting automatically", text),
                Effect::Execute {
                    request: pending.request.id.clone(),
                },
            ]
        }
        Plan::Suppress { reason } => {
            c.state = State::Suppressed {
                closed: closed(now, None, reason, Vec::new(), None),
                until: None,
            };
            vec![Effect::Audit {
                note: AuditNote::Transition,
                reason: reason.clone(),
            }]
        }
    })
}

fn notify(c: &Conversation, title: &str, text: &str) -> Effect {
    Effect::Notify {
        title: format!("{title}: {}", c.incident),
        text: text.to_owned(),
    }
}

/// A channel took a copy: remember it, or close it at once when its prompt is no longer open.
fn delivered(c: &mut Conversation, prompt: u32, message: &MessageRef) -> Taken {
    if let State::AwaitingApproval(awaiting) = &mut c.state
        && awaiting.prompt == prompt
    {
        if !awaiting.messages.contains(message) {
            awaiting.messages.push(message.clone());
        }
        if c.thread.is_none() {
            c.thread = Some(message.clone());
        }
        return Ok(Vec::new());
    }
    Ok(vec![Effect::ClosePrompts {
        messages: vec![message.clone()],
        outcome: format!("This prompt is closed: the incident is {}.", c.state.name()),
    }])
}

/// A copy went undelivered after all: send the prompt again, skipping that channel.
fn undelivered(c: &mut Conversation, message: &MessageRef, reason: &str) -> Taken {
    let State::AwaitingApproval(awaiting) = &mut c.state else {
        return Err("no prompt is out".into());
    };
    if !awaiting.messages.contains(message) {
        return Err("that message is not a copy of the open prompt".into());
    }
    awaiting.messages.retain(|m| m != message);
    if !awaiting.failed.contains(&message.channel) {
        awaiting.failed.push(message.channel);
    }
    if c.thread.as_ref() == Some(message) {
        c.thread = awaiting.messages.first().cloned();
    }
    Ok(vec![
        Effect::Audit {
            note: AuditNote::Transition,
            reason: format!(
                "prompt {} undelivered on {} ({reason}); sending it on the next channel",
                awaiting.prompt, message.channel
            ),
        },
        Effect::SendPrompt {
            prompt: awaiting.prompt,
            skip: awaiting.failed.clone(),
        },
    ])
}

fn decided(
    c: &mut Conversation,
    prompt: u32,
    by: &str,
    channel: ChannelKind,
    approves: bool,
    now: DateTime<Utc>,
) -> Taken {
    let State::AwaitingApproval(awaiting) = &mut c.state else {
        return Err("no prompt is open".into());
    };
    if awaiting.prompt != prompt {
        return Err(format!(
            "prompt {prompt} is closed; prompt {} is open",
            awaiting.prompt
        ));
    }
    let when = format!("on {channel} at {}", hhmm(now));
    if !approves {
        let outcome = format!("Rejected by {by} {when}. Nothing was run.");
        let messages = std::mem::take(&mut awaiting.messages);
        let pending = awaiting.pending.clone();
        c.state = State::Rejected(closed(
            now,
            Some(by),
            &outcome,
            messages.clone(),
            Some(pending),
        ));
        return Ok(vec![
            Effect::Audit {
                note: AuditNote::ApprovalDecision,
                reason: format!("rejected by {by} {when}"),
            },
            Effect::ClosePrompts {
                messages,
                outcome: outcome.clone(),
            },
            Effect::Reply { text: outcome },
        ]);
    }
    if awaiting.approvals.iter().any(|a| a == by) {
        return Err(format!(
            "{by} already approved; a second, different approver is needed"
        ));
    }
    awaiting.approvals.push(by.to_owned());
    let audit = Effect::Audit {
        note: AuditNote::ApprovalDecision,
        reason: format!(
            "approved by {by} {when} ({} of {})",
            awaiting.approvals.len(),
            awaiting.needed
        ),
    };
    if awaiting.approvals.len() < awaiting.needed && !awaiting.later.is_empty() {
        let outcome = format!("Approved by {by} {when}; waiting for a second approver.");
        let messages = std::mem::take(&mut awaiting.messages);
        awaiting.tokens = awaiting.later.remove(0);
        c.prompts += 1;
        awaiting.prompt = c.prompts;
        return Ok(vec![
            audit,
            Effect::ClosePrompts { messages, outcome },
            Effect::SendPrompt {
                prompt: c.prompts,
                skip: Vec::new(),
            },
        ]);
    }
    let approvers = awaiting.approvals.join(" and ");
    let outcome = format!("Approved by {approvers} {when}. Executing.");
    let running = Running {
        pending: awaiting.pending.clone(),
        approvers: awaiting.approvals.clone(),
        messages: awaiting.messages.clone(),
    };
    let request = running.pending.request.id.clone();
    let messages = running.messages.clone();
    c.state = State::Approved(running);
    // Execute first: the human waits on the cluster, not on chat rate limits.
    Ok(vec![
        audit,
        Effect::Execute { request },
        Effect::ClosePrompts {
            messages,
            outcome: outcome.clone(),
        },
        Effect::Reply { text: outcome },
    ])
}

fn expired(c: &mut Conversation, now: DateTime<Utc>) -> Taken {
    let State::AwaitingApproval(awaiting) = &c.state else {
        return Err("no prompt is open".into());
    };
    if now < awaiting.expires_at {
        return Err(format!(
            "prompt {} expires at {}",
            awaiting.prompt,
            hhmm(awaiting.expires_at)
        ));
    }
    let reason = format!(
        "Prompt expired at {} undecided: {} was not run.",
        hhmm(awaiting.expires_at),
        awaiting.pending.action
    );
    let messages = awaiting.messages.clone();
    c.state = State::Expired(closed(
        now,
        None,
        &reason,
        messages.clone(),
        Some(awaiting.pending.clone()),
    ));
    Ok(vec![
        Effect::ClosePrompts {
            messages,
            outcome: reason.clone(),
        },
        Effect::Audit {
            note: AuditNote::Escalation,
            reason: reason.clone(),
        },
        Effect::Escalate { reason },
    ])
}

fn action_result(c: &mut Conversation, outcome: &ActionOutcome, now: DateTime<Utc>) -> Taken {
    let State::Executing(running) = &c.state else {
        return Err("nothing is executing".into());
    };
    if running.pending.request.id != outcome.request {
        return Err(format!(
            "request {} is not the one executing ({})",
            outcome.request, running.pending.request.id
        ));
    }
    let running = running.clone();
    let why = outcome.reasons.join("; ");
    match outcome.status {
        Status::Applied | Status::Verified | Status::VerificationFailed => {
            let request = running.pending.request.id.clone();
            c.state = State::Verifying(running);
            Ok(vec![Effect::Verify { request }])
        }
        Status::Stale => {
            let text =
                format!("Not run: the target changed since the prompt ({why}). Asking again.");
            c.state = State::Triaged;
            Ok(vec![
                Effect::ClosePrompts {
                    messages: running.messages,
                    outcome: text.clone(),
                },
                Effect::Reply { text },
                Effect::Repropose,
            ])
        }
        Status::Refused | Status::Failed => {
            let verb = if outcome.status == Status::Refused {
                "Refused at execution"
            } else {
                "Failed"
            };
            let text = format!("{verb}: {} — {why}", running.pending.action);
            fail(c, running, text, now)
        }
    }
}

fn verdict(c: &mut Conversation, passed: bool, reasons: &[String], now: DateTime<Utc>) -> Taken {
    let State::Verifying(running) = &c.state else {
        return Err("nothing is being verified".into());
    };
    let running = running.clone();
    let approvers = running.approvers.join(" and ");
    let (action, packet) = (&running.pending.action, &running.pending.request.id);
    let text = if passed {
        format!("Verification PASS: {action} (approved by {approvers}). Evidence packet {packet}.")
    } else {
        format!(
            "Verification FAIL after {action} (approved by {approvers}): {}. Evidence packet {packet}.",
            reasons.join("; ")
        )
    };
    conclude(c, running, text, passed, now)
}

/// Fails an action that will not run or did not help.
fn fail(c: &mut Conversation, running: Running, text: String, now: DateTime<Utc>) -> Taken {
    conclude(c, running, text, false, now)
}

/// Ends an action: the outcome is replied in the thread and shown on every prompt copy; a
/// failure escalates.
fn conclude(
    c: &mut Conversation,
    running: Running,
    text: String,
    passed: bool,
    now: DateTime<Utc>,
) -> Taken {
    let messages = running.messages.clone();
    let closed = closed(now, None, &text, messages.clone(), Some(running.pending));
    c.state = if passed {
        State::Resolved(closed)
    } else {
        State::Failed(closed)
    };
    let mut effects = vec![
        Effect::Reply { text: text.clone() },
        Effect::ClosePrompts {
            messages,
            outcome: text.clone(),
        },
    ];
    if !passed {
        effects.push(Effect::Escalate { reason: text });
    }
    Ok(effects)
}

fn alert_resolved(c: &mut Conversation, now: DateTime<Utc>) -> Taken {
    let (text, close) = match &c.state {
        State::Resolved(_) => return Err("already resolved".into()),
        state if state.in_flight() => {
            return Err("an action is running; its verification decides".into());
        }
        State::AwaitingApproval(awaiting) => (
            format!(
                "Resolved on its own before anyone decided: {} was not run.",
                awaiting.pending.action
            ),
            true,
        ),
        _ => ("The alert resolved.".to_owned(), false),
    };
    let messages = c.state.messages().to_vec();
    let pending = c.state.pending().cloned();
    c.state = State::Resolved(closed(now, None, &text, messages.clone(), pending));
    let mut effects = Vec::new();
    if close {
        effects.push(Effect::ClosePrompts {
            messages,
            outcome: text.clone(),
        });
    }
    if c.thread.is_some() {
        effects.push(Effect::Reply { text });
    }
    Ok(effects)
}

fn human(c: &mut Conversation, by: &str, command: &HumanCommand, now: DateTime<Utc>) -> Taken {
    if matches!(c.state, State::Resolved(_)) {
        return Err("the incident is resolved".into());
    }
    let (state, mut effects) = match command {
        HumanCommand::Ack => {
            c.acked_by = Some(by.to_owned());
            let text = format!("Acknowledged by {by}.");
            return Ok(vec![
                Effect::Audit {
                    note: AuditNote::Transition,
                    reason: text.clone(),
                },
                Effect::Reply { text },
            ]);
        }
        _ if c.state.in_flight() => {
            return Err("an action is running; it reports when verified".into());
        }
        HumanCommand::Escalate => {
            let text = format!("Escalated by {by}.");
            let state = State::Escalated(park(c, by, &text, now));
            let effects = vec![
                Effect::Audit {
                    note: AuditNote::Escalation,
                    reason: text.clone(),
                },
                Effect::Escalate { reason: text },
            ];
            (state, effects)
        }
        HumanCommand::Silence { until } => {
            let text = format!("Silenced by {by} until {}.", hhmm(*until));
            let state = State::Suppressed {
                closed: park(c, by, &text, now),
                until: Some(*until),
            };
            let effects = vec![
                Effect::Audit {
                    note: AuditNote::Transition,
                    reason: text.clone(),
                },
                Effect::Reply { text },
            ];
            (state, effects)
        }
    };
    if let State::AwaitingApproval(awaiting) = &c.state {
        let outcome = match &state {
            State::Escalated(closed) | State::Suppressed { closed, .. } => &closed.reason,
            _ => "Closed.",
        };
        effects.push(Effect::ClosePrompts {
            messages: awaiting.messages.clone(),
            outcome: format!("{outcome} Nothing was run."),
        });
    }
    c.state = state;
    Ok(effects)
}

/// The current state's prompt copies and action, closed by `by` for `reason`.
fn park(c: &Conversation, by: &str, reason: &str, now: DateTime<Utc>) -> Closed {
    closed(
        now,
        Some(by),
        reason,
        c.state.messages().to_vec(),
        c.state.pending().cloned(),
    )
}

fn closed(
    at: DateTime<Utc>,
    by: Option<&str>,
    reason: &str,
    messages: Vec<MessageRef>,
    pending: Option<Pending>,
) -> Closed {
    Closed {
        at,
        by: by.map(ToOwned::to_owned),
        reason: reason.to_owned(),
        messages,
        pending,
    }
}

/// A clock time as chat shows it.
pub fn hhmm(at: DateTime<Utc>) -> String {
    at.format("%H:%M UTC").to_string()
}

#[cfg(test)]
#[path = "step_tests.rs"]
mod tests;
