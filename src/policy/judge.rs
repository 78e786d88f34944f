//! Judging a candidate action: the built-in default and the environment overlay set the mode,
//! an operator allowlist may raise a contain action to automatic, and then every limit lowers
//! it — taxonomy, auto-contain allowlist, runbook, operator rules, settings, confidence, enabled
//! actions, guardrails — each saying why.

use super::Policy;
use super::action::{ActionClass, ActionName};
use super::candidate::Candidate;
use super::decide::{Draft, effective_confidence};
use super::decision::{Decision, DecisionContext, IncidentFacts, Mode};
use super::rules::OperatorRule;
use super::taxonomy::{IncidentClass, Listing};
use crate::incidents::model::Confidence;

/// What one judgement reads.
pub(super) struct Judge<'a> {
    pub policy: &'a Policy,
    pub candidate: &'a Candidate<'a>,
    pub class: &'a IncidentClass,
    pub facts: &'a IncidentFacts,
    pub ctx: &'a DecisionContext,
    pub rules: &'a [&'a OperatorRule],
}

impl Judge<'_> {
    /// Sets `draft`'s mode for the candidate; a manual outcome leaves the action as the
    /// decision's recommendation.
    pub fn run(&self, draft: &mut Draft, decision: &mut Decision) {
        let action = &self.candidate.action;
        let name = ActionName::from(action.kind);
        let allow = rule_allowlist(self.rules, name);
        let labels = &self.ctx.guardrails.target_labels;
        let matrix = &self.policy.matrix;
        let action_class =
            matrix.class_of(action.kind, &action.target, action.replicas, labels, &allow);
        let source = match self.candidate.runbook {
            Some(runbook) => format!("runbook {}", runbook.name),
            None => format!("the taxonomy of {}", self.class.id.as_str()),
        };
        draft.say(format!(
            "candidate: {action} ({action_class} class, from {source})"
        ));
        self.base(action_class, name, draft);
        self.operator_allowlist(action_class, name, draft);
        taxonomy_caps(self.class, name, draft);
        if action_class == ActionClass::Contain
            && draft.mode == Mode::AutoExecute
            && let Err(why) = matrix.containable(&action.target, labels, &allow)
        {
            draft.cap(Mode::ApprovalRequired, || {
                format!("approval required: {why}")
            });
        }
        self.limits(draft);
        super::guardrails::check(
            self.policy,
            self.candidate,
            self.class,
            action_class,
            self.ctx,
            self.rules,
            draft,
        );
        if draft.mode == Mode::Manual {
            decision.recommendation = Some(action.to_string());
        }
    }

    /// The built-in default for the class, replaced by the environment overlay.
    fn base(&self, action_class: ActionClass, name: ActionName, draft: &mut Draft) {
        let matrix = &self.policy.matrix;
        let environment = self.facts.environment;
        let default = matrix
            .defaults
            .get(&action_class)
            .copied()
            .unwrap_or(Mode::ApprovalRequired);
        draft.mode = matrix.mode(environment, action_class);
        let here = environment.as_str();
        if matrix.auto_action(environment, name) && draft.mode < Mode::AutoExecute {
            draft.mode = Mode::AutoExecute;
            draft.say(format!(
                "{}: {name} is a safe, idempotent act in {here}",
                phrase(draft.mode)
            ));
        } else if draft.mode != default {
            draft.say(format!(
                "{}: {action_class} class in {here} (default {default})",
                phrase(draft.mode)
            ));
        } else {
            draft.say(format!(
                "{}: {action_class} class in {here}",
                phrase(draft.mode)
            ));
        }
    }

    /// An operator rule that allowlists this contain action on this target makes it automatic.
    fn operator_allowlist(&self, action_class: ActionClass, name: ActionName, draft: &mut Draft) {
        let target = self.candidate.action.target.to_string();
        if action_class == ActionClass::Contain
            && draft.mode < Mode::AutoExecute
            && let Some(rule) = self.rules.iter().find(|r| allows(r, name, &target))
        {
            draft.mode = Mode::AutoExecute;
            draft.say(format!(
                "rule {} allows automatic {name} on {target}",
                rule.label()
            ));
        }
    }

    /// The runbook's, the rules', the settings', confidence and the enabled actions.
    fn limits(&self, draft: &mut Draft) {
        if let Some(runbook) = self.candidate.runbook {
            let most = runbook.spec.decision_mode;
            draft.cap(most, || {
                format!("runbook {} allows at most {most}", runbook.name)
            });
        }
        rule_caps(self.rules, self.facts, self.ctx, draft);
        let environment = self.facts.environment;
        if let Some(most) = self.policy.ceilings.get(&environment).copied() {
            draft.cap(most, || {
                format!("settings: {} allows at most {most}", environment.as_str())
            });
        }
        confidence_caps(self.facts, self.ctx, draft);
        let kind = self.candidate.action.kind;
        if !self.policy.enabled.contains(&kind) {
            draft.cap(Mode::Suggest, || {
                format!("suggest only: {kind} is not enabled in ops.actions")
            });
        }
    }
}

/// How a reason opens for each mode.
fn phrase(mode: Mode) -> &'static str {
    match mode {
        Mode::Manual => "manual",
        Mode::Suggest => "suggest only",
        Mode::ApprovalRequired => "approval required",
        Mode::AutoExecute => "automatic",
    }
}

fn taxonomy_caps(class: &IncidentClass, name: ActionName, draft: &mut Draft) {
    let kind = class.id.as_str();
    match class.listing(name) {
        Listing::AutoAllowed => {}
        Listing::ApprovalRequired => {
            draft.cap(Mode::ApprovalRequired, || {
                format!("approval required: {name} is not auto-allowed for {kind}")
            });
        }
        Listing::NotListed => {
            draft.cap(Mode::ApprovalRequired, || {
                format!("approval required: the taxonomy of {kind} does not list {name}")
            });
        }
        Listing::HumanOnly => draft.cap(Mode::Manual, || {
            format!("manual: {name} is human-only for {kind}")
        }),
    }
}

fn rule_caps(
    rules: &[&OperatorRule],
    facts: &IncidentFacts,
    ctx: &DecisionContext,
    draft: &mut Draft,
) {
    let confidence = effective_confidence(facts, ctx);
    for rule in rules {
        if let Some(most) = rule.max_mode {
            draft.cap(most, || {
                format!("rule {} allows at most {most}", rule.label())
            });
        }
        if let Some(minimum) = rule.min_confidence
            && confidence < minimum
        {
            draft.cap(Mode::Suggest, || {
                format!(
                    "blocked: confidence {} below rule {}'s minimum {}",
                    confidence.as_str(),
                    rule.label(),
                    minimum.as_str()
                )
            });
        }
    }
}

fn confidence_caps(facts: &IncidentFacts, ctx: &DecisionContext, draft: &mut Draft) {
    let confidence = effective_confidence(facts, ctx);
    if ctx.evidence.contradicts {
        draft.say("evidence: live state contradicts the alert".into());
    }
    if confidence < Confidence::High {
        let checks = ctx.evidence.checks;
        draft.cap(Mode::ApprovalRequired, || {
            if facts.confidence == Confidence::High && !ctx.evidence.contradicts {
                format!("blocked: confidence medium below high (live evidence confirmed the alert on {checks} of 2 checks)")
            } else {
                format!("blocked: confidence {} below high", confidence.as_str())
            }
        });
    }
    if confidence == Confidence::Low {
        draft.cap(Mode::Suggest, || "suggest only: confidence low".into());
    }
}

/// Resource patterns the matching rules allowlist for `name`.
pub(super) fn rule_allowlist(rules: &[&OperatorRule], name: ActionName) -> Vec<String> {
    rules
        .iter()
        .flat_map(|r| &r.allow_auto)
        .filter(|a| a.action == name && super::rules::containing(name))
        .flat_map(|a| a.resources.iter().cloned())
        .collect()
}

fn allows(rule: &OperatorRule, name: ActionName, target: &str) -> bool {
    super::rules::containing(name)
        && rule
            .allow_auto
            .iter()
            .any(|a| a.action == name && a.resources.iter().any(|p| super::matrix::glob(p, target)))
}
