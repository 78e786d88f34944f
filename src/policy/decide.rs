//! The decision engine: a pure function of the policy, the incident's facts and the live
//! context. Steps run in the resolution order of the design — taxonomy, built-in defaults,
//! environment overlay, runbook and operator rules, guardrails — and the hard constraints run
//! last, so they always win. Every step that changes the outcome leaves a reason.

use chrono::{DateTime, Utc};

use super::Policy;
use super::candidate::recommendation;
use super::decision::{Decision, DecisionContext, IncidentFacts, Mode, Reason};
use super::rules::OperatorRule;
use super::taxonomy::IncidentClass;
use crate::incidents::model::{Confidence, Severity};

/// The decision under construction.
pub(super) struct Draft {
    pub(super) mode: Mode,
    pub(super) reasons: Vec<Reason>,
}

impl Draft {
    pub(super) fn say(&mut self, reason: String) {
        self.reasons.push(Reason(reason));
    }

    /// Lowers the mode to `cap`, saying why, if it is above it.
    pub(super) fn cap(&mut self, cap: Mode, reason: impl FnOnce() -> String) {
        if self.mode > cap {
            self.mode = cap;
            self.say(reason());
        }
    }
}

/// A clock time as reasons show it.
pub(super) fn hhmm(at: DateTime<Utc>) -> String {
    at.format("%H:%M UTC").to_string()
}

/// The confidence the decision may rely on: the classifier's band, lowered when live evidence
/// contradicts the alert (low) or has not confirmed it on two checks (at most medium).
pub fn effective_confidence(facts: &IncidentFacts, ctx: &DecisionContext) -> Confidence {
    if ctx.evidence.contradicts {
        Confidence::Low
    } else if ctx.evidence.checks < 2 {
        facts.confidence.min(Confidence::Medium)
    } else {
        facts.confidence
    }
}

impl Policy {
    /// Decides what the bot may do about an incident. See [`Policy::decide`].
    pub(super) fn decide_inner(&self, facts: &IncidentFacts, ctx: &DecisionContext) -> Decision {
        let rules: Vec<&OperatorRule> = self.rules.matching(facts).collect();
        let mut decision = Decision {
            mode: Mode::Manual,
            action: None,
            reasons: Vec::new(),
            severity: facts.severity,
            recommendation: None,
            route: rules.iter().rev().find_map(|r| r.route.clone()),
            shadow: None,
            suppressed: false,
        };
        let Some(class) = self.taxonomy.class(facts.incident_type) else {
            decision.reasons.push(Reason(
                "manual: unclassified incidents always go to a human".into(),
            ));
            return decision;
        };
        let mut draft = Draft {
            mode: Mode::Manual,
            reasons: Vec::new(),
        };
        decision.severity = severity(class, facts, &rules, &mut draft);
        draft.reasons.insert(
            0,
            Reason(format!(
                "{} ({} domain) in {}, severity {}, confidence {}",
                class.id.as_str(),
                class.domain.as_str(),
                facts.environment.as_str(),
                decision.severity.as_str(),
                facts.confidence.as_str(),
            )),
        );
        if self.suppressed(ctx, &mut draft) {
            decision.suppressed = true;
        } else if let Some(rule) = rules.iter().find(|r| r.enabled == Some(false)) {
            draft.say(format!(
                "manual: automation for {} in {} is disabled by rule {}",
                class.id.as_str(),
                facts.environment.as_str(),
                rule.label()
            ));
        } else {
            match self.candidate(class, facts, ctx, &mut draft.reasons) {
                Some(candidate) => {
                    let judge = super::judge::Judge {
                        policy: self,
                        candidate: &candidate,
                        class,
                        facts,
                        ctx,
                        rules: &rules,
                    };
                    judge.run(&mut draft, &mut decision);
                    decision.action = Some(candidate.action);
                }
                None => {
                    decision.recommendation = recommendation(class).map(|name| name.to_string());
                    no_candidate(&decision, &mut draft);
                }
            }
        }
        decision.mode = draft.mode;
        decision.reasons = draft.reasons;
        super::constraints::enforce(self, facts, ctx, &rules, decision)
    }

    fn suppressed(&self, ctx: &DecisionContext, draft: &mut Draft) -> bool {
        let window = self.matrix.cooldowns.duplicate_suppression;
        let Some(last) = ctx.guardrails.last_decision_at else {
            return false;
        };
        let within = ctx
            .now
            .signed_duration_since(last)
            .to_std()
            .is_ok_and(|age| age < window);
        if within {
            draft.say(format!(
                "suppressed: duplicate within {} (decided at {})",
                humantime::format_duration(window),
                hhmm(last)
            ));
        }
        within
    }
}

/// The severity after the class's severity rules and the rules' escalations, saying why when
/// it moved.
fn severity(
    class: &IncidentClass,
    facts: &IncidentFacts,
    rules: &[&OperatorRule],
    draft: &mut Draft,
) -> Severity {
    let mut severity = class.severity(facts.severity, facts.environment, &facts.labels);
    if severity != facts.severity {
        draft.say(format!(
            "severity {} by the taxonomy of {} (alert said {})",
            severity.as_str(),
            class.id.as_str(),
            facts.severity.as_str()
        ));
    }
    for rule in rules {
        if let Some(raised) = rule.escalate_severity.filter(|s| *s > severity) {
            severity = raised;
            draft.say(format!(
                "severity raised to {} by rule {}",
                raised.as_str(),
                rule.label()
            ));
        }
    }
    severity
}

fn no_candidate(decision: &Decision, draft: &mut Draft) {
    match &decision.recommendation {
        Some(fix) => {
            draft.mode = Mode::Suggest;
            draft.say(format!(
                "suggest: {fix} is the likely fix; it is not a cluster action the bot runs"
            ));
        }
        None => draft.say("manual: no action of the taxonomy fits the alert's scope".into()),
    }
}
