//! The hard safety constraints, applied to every decision last so that no taxonomy, overlay,
//! runbook or operator rule can get past them:
//!
//! - unclassified incidents and human-only actions go to a human: no action, mode `manual`;
//! - disruptive actions are never automatic;
//! - automatic actions need high confidence and an auto-allowed category;
//! - a shadow runbook never acts: its decision records what it would have done.
//!
//! "No shell commands" and "no secret values" are enforced when rules and runbooks load
//! (`hygiene`); actions are named, so there is nothing to run besides them.

use super::Policy;
use super::action::{ActionClass, ActionName};
use super::decide::effective_confidence;
use super::decision::{Decision, DecisionContext, IncidentFacts, Mode, Reason};
use super::rules::OperatorRule;
use super::taxonomy::Listing;
use crate::incidents::model::{Confidence, IncidentType};

pub(super) fn enforce(
    policy: &Policy,
    facts: &IncidentFacts,
    ctx: &DecisionContext,
    rules: &[&OperatorRule],
    mut decision: Decision,
) -> Decision {
    let lower = |decision: &mut Decision, cap: Mode, reason: String| {
        if decision.mode > cap {
            decision.mode = cap;
            decision.reasons.push(Reason(reason));
        }
    };
    let class = policy.taxonomy.class(facts.incident_type);
    if facts.incident_type == IncidentType::Unclassified || class.is_none() {
        lower(
            &mut decision,
            Mode::Manual,
            "hard constraint: unclassified incidents go to a human".into(),
        );
    }
    if let (Some(action), Some(class)) = (decision.action.clone(), class) {
        let name = ActionName::from(action.kind);
        if name.is_human_only() {
            lower(
                &mut decision,
                Mode::Manual,
                format!("hard constraint: {name} is human-only"),
            );
        }
        let allow = super::judge::rule_allowlist(rules, name);
        let labels = &ctx.guardrails.target_labels;
        let action_class =
            policy
                .matrix
                .class_of(action.kind, &action.target, action.replicas, labels, &allow);
        if action_class == ActionClass::Disruptive {
            lower(
                &mut decision,
                Mode::ApprovalRequired,
                "hard constraint: disruptive actions are never automatic".into(),
            );
        }
        if effective_confidence(facts, ctx) < Confidence::High {
            lower(
                &mut decision,
                Mode::ApprovalRequired,
                "hard constraint: automatic actions need high confidence".into(),
            );
        }
        if class.listing(name) != Listing::AutoAllowed {
            lower(
                &mut decision,
                Mode::ApprovalRequired,
                format!(
                    "hard constraint: {name} is not auto-allowed for {}",
                    facts.incident_type.as_str()
                ),
            );
        }
        let shadow = action
            .runbook
            .as_ref()
            .and_then(|name| policy.runbooks.iter().find(|r| &r.name == name))
            .filter(|r| policy.is_shadow(r, facts.environment));
        if let Some(runbook) = shadow
            && decision.mode > Mode::Manual
        {
            decision.shadow = Some(decision.mode);
            let would = decision.mode;
            lower(
                &mut decision,
                Mode::Suggest,
                format!(
                    "shadow: runbook {} would have chosen {would}; recorded, not run",
                    runbook.name
                ),
            );
        }
    }
    if decision.mode == Mode::Manual
        && let Some(action) = decision.action.take()
    {
        decision
            .recommendation
            .get_or_insert_with(|| action.to_string());
    }
    decision
}
