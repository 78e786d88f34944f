//! The decision engine: a pure function of the policy, the incident's facts and the live
//! context. Steps run in the resolution order of the design — taxonomy, built-in defaults,
//! environment overlay, runbook and operator rules, guardrails — and the hard constraints run
//! last, so they always win. Every step that changes the outcome leaves a reason.

use chrono::{DateTime, Utc};

use super::Policy;
use super::action::{ActionClass, ActionName};
use super::candidate::{Candidate, band, env, recommendation};
use super::decision::{Decision, DecisionContext, IncidentFacts, Mode, Reason};
use super::rules::OperatorRule;
use super::taxonomy::{IncidentClass, Listing};
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
                env(facts.environment),
                severity_name(decision.severity),
                band(facts.confidence),
            )),
        );
        if self.suppressed(ctx, &mut draft) {
            decision.suppressed = true;
        } else if let Some(rule) = rules.iter().find(|r| r.enabled == Some(false)) {
            draft.say(format!(
                "manual: automation for {} in {} is disabled by rule {}",
                class.id.as_str(),
                env(facts.environment),
                rule.label()
            ));
        } else {
            match self.candidate(class, facts, ctx, &mut draft.reasons) {
                Some(candidate) => {
                    self.judge(
                        &candidate,
                        class,
                        facts,
                        ctx,
                        &rules,
                        &mut draft,
                        &mut decision,
                    );
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

    /// The mode of a candidate action, step by step.
    #[allow(clippy::too_many_arguments)]
    fn judge(
        &self,
        candidate: &Candidate<'_>,
        class: &IncidentClass,
        facts: &IncidentFacts,
        ctx: &DecisionContext,
        rules: &[&OperatorRule],
        draft: &mut Draft,
        decision: &mut Decision,
    ) {
        let action = &candidate.action;
        let name = ActionName::from(action.kind);
        let labels = &ctx.guardrails.target_labels;
        let allow = rule_allowlist(rules, name);
        let action_class =
            self.matrix
                .class_of(action.kind, &action.target, action.replicas, labels, &allow);
        let source = match candidate.runbook {
            Some(runbook) => format!("runbook {}", runbook.name),
            None => format!("the taxonomy of {}", class.id.as_str()),
        };
        draft.say(format!(
            "candidate: {action} ({action_class} class, from {source})"
        ));
        // Built-in default, then the environment overlay replaces it.
        let default = self
            .matrix
            .defaults
            .get(&action_class)
            .copied()
            .unwrap_or(Mode::ApprovalRequired);
        draft.mode = self.matrix.mode(facts.environment, action_class);
        let here = env(facts.environment);
        if self.matrix.auto_action(facts.environment, name) && draft.mode < Mode::AutoExecute {
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
        if action_class == ActionClass::Contain
            && let Some(rule) = rules
                .iter()
                .find(|r| allows(r, name, &action.target.to_string()))
            && draft.mode < Mode::AutoExecute
        {
            draft.mode = Mode::AutoExecute;
            draft.say(format!(
                "rule {} allows automatic {name} on {}",
                rule.label(),
                action.target
            ));
        }
        taxonomy_caps(class, name, draft);
        if action_class == ActionClass::Contain
            && draft.mode == Mode::AutoExecute
            && let Err(why) = self.matrix.containable(&action.target, labels, &allow)
        {
            draft.cap(Mode::ApprovalRequired, || {
                format!("approval required: {why}")
            });
        }
        if let Some(runbook) = candidate.runbook {
            let most = runbook.spec.decision_mode;
            draft.cap(most, || {
                format!("runbook {} allows at most {most}", runbook.name)
            });
        }
        rule_caps(rules, facts, ctx, draft);
        if let Some(most) = self.ceilings.get(&facts.environment).copied() {
            draft.cap(most, || format!("settings: {here} allows at most {most}"));
        }
        confidence_caps(facts, ctx, draft);
        if !self.enabled.contains(&action.kind) {
            draft.cap(Mode::Suggest, || {
                format!(
                    "suggest only: {} is not enabled in ops.actions",
                    action.kind
                )
            });
        }
        super::guardrails::check(self, candidate, class, action_class, ctx, rules, draft);
        if draft.mode == Mode::Manual {
            decision.recommendation = Some(action.to_string());
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
            severity_name(severity),
            class.id.as_str(),
            severity_name(facts.severity)
        ));
    }
    for rule in rules {
        if let Some(raised) = rule.escalate_severity.filter(|s| *s > severity) {
            severity = raised;
            draft.say(format!(
                "severity raised to {} by rule {}",
                severity_name(raised),
                rule.label()
            ));
        }
    }
    severity
}

fn severity_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Info => "info",
        Severity::Warning => "warning",
        Severity::Critical => "critical",
    }
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
                    band(confidence),
                    rule.label(),
                    band(minimum)
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
                format!("blocked: confidence {} below high", band(confidence))
            }
        });
    }
    if confidence == Confidence::Low {
        draft.cap(Mode::Suggest, || "suggest only: confidence low".into());
    }
}

/// Resource patterns the matching rules allowlist for `name`.
fn rule_allowlist(rules: &[&OperatorRule], name: ActionName) -> Vec<String> {
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
