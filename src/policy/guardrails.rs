//! The guardrail step of a decision: the circuit breaker, cooldowns, earlier failures and the
//! runbook's own limits, all read from the context the caller passes in (ops re-checks them on
//! live state at execution time; this step decides what to offer).

use std::time::Duration;

use super::Policy;
use super::action::ActionClass;
use super::candidate::Candidate;
use super::decide::{Draft, hhmm};
use super::decision::{DecisionContext, Mode};
use super::rules::OperatorRule;
use super::taxonomy::IncidentClass;

/// How long the same action on the same target waits before it runs again.
pub fn cooldown(
    policy: &Policy,
    candidate: &Candidate<'_>,
    class: &IncidentClass,
    action_class: ActionClass,
    rules: &[&OperatorRule],
) -> Duration {
    let base = rules
        .iter()
        .rev()
        .find_map(|r| r.cooldown)
        .or(candidate.runbook.map(|r| r.spec.guardrails.cooldown))
        .unwrap_or(class.cooldown);
    if action_class == ActionClass::Disruptive {
        base.max(policy.matrix.cooldowns.disruptive_retry)
    } else {
        base
    }
}

pub(super) fn check(
    policy: &Policy,
    candidate: &Candidate<'_>,
    class: &IncidentClass,
    action_class: ActionClass,
    ctx: &DecisionContext,
    rules: &[&OperatorRule],
    draft: &mut Draft,
) {
    let action = &candidate.action;
    let target = action.target.to_string();
    let g = &ctx.guardrails;
    if g.breaker_open {
        draft.cap(Mode::Manual, || {
            format!("manual: the circuit breaker of {target} is open")
        });
    }
    let same: Vec<_> = g
        .history
        .iter()
        .filter(|e| e.kind == action.kind && e.target == target)
        .collect();
    if let Some(failed) = same.iter().rev().find(|e| !e.verified) {
        draft.cap(Mode::Manual, || {
            format!(
                "manual: {} on {target} failed verification at {}; not retried",
                action.kind,
                hhmm(failed.at)
            )
        });
    }
    if let Some(until) = g.cooldown_until.filter(|until| *until > ctx.now) {
        draft.cap(Mode::Manual, || format!("cooldown until {}", hhmm(until)));
    }
    let wait = cooldown(policy, candidate, class, action_class, rules);
    if let Some(last) = same.iter().map(|e| e.at).max() {
        let until = last + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX);
        if until > ctx.now {
            draft.cap(Mode::Manual, || {
                format!(
                    "cooldown until {}: {} ran on {target} at {}",
                    hhmm(until),
                    action.kind,
                    hhmm(last)
                )
            });
        }
    }
    if let Some(runbook) = candidate.runbook {
        runbook_limits(runbook, ctx, draft);
    }
}

fn runbook_limits(runbook: &super::runbook::Runbook, ctx: &DecisionContext, draft: &mut Draft) {
    let limits = &runbook.spec.guardrails;
    let g = &ctx.guardrails;
    let name = &runbook.name;
    if g.executions_last_hour >= limits.max_executions_per_hour {
        draft.cap(Mode::ApprovalRequired, || {
            format!(
                "approval required: {} executions in the last hour reach runbook {name}'s limit of {}",
                g.executions_last_hour, limits.max_executions_per_hour
            )
        });
    }
    if g.concurrent >= limits.max_concurrent {
        draft.cap(Mode::ApprovalRequired, || {
            format!(
                "approval required: {} actions in flight reach runbook {name}'s limit of {}",
                g.concurrent, limits.max_concurrent
            )
        });
    }
    if let Some(minimum) = limits.min_ready_replicas {
        match g.ready_replicas {
            Some(ready) if ready < minimum => draft.cap(Mode::ApprovalRequired, || {
                format!("approval required: {ready} Ready replicas, runbook {name} needs {minimum}")
            }),
            None => draft.cap(Mode::ApprovalRequired, || {
                format!("approval required: Ready replicas unknown, runbook {name} needs {minimum}")
            }),
            Some(_) => {}
        }
    }
}
