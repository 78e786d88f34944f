//! Operator rules: site-specific adjustments on top of the built-ins — thresholds, severity
//! escalation, routing, cooldowns, automation switched off per incident type and environment,
//! and resources allowlisted for automatic containment.
//!
//! A rule can only tighten, except one thing: it may allowlist resources for automatic
//! containment, within the contain actions (the pre-approved family). Anything else that would
//! loosen a hard constraint is refused at load, and the decision engine enforces the hard
//! constraints again whatever a rule says.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::action::{ActionClass, ActionName};
use super::decision::{IncidentFacts, Mode};
use super::error::{LoadError, Problems};
use super::hygiene;
use super::taxonomy::is_snake_case;
use crate::incidents::model::{Confidence, Environment, IncidentType, Severity};

/// Which incidents a rule applies to; an empty list matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleMatch {
    #[serde(default)]
    pub incident_types: Vec<IncidentType>,
    #[serde(default)]
    pub environments: Vec<Environment>,
    #[serde(default)]
    pub namespaces: Vec<String>,
}

/// Contain actions a rule lets run automatically on the listed resources (`scale`: to zero).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowAuto {
    pub action: ActionName,
    /// Patterns as in `auto_contain.allow` of the policy matrix.
    pub resources: Vec<String>,
}

/// One operator rule. Every effect is optional.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorRule {
    pub id: String,
    pub version: u32,
    pub owner: String,
    #[serde(default)]
    pub description: String,
    #[serde(default, rename = "match")]
    pub matches: RuleMatch,
    /// `false`: no action is proposed for matching incidents; a human is paged.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// The most the bot may do for matching incidents.
    #[serde(default)]
    pub max_mode: Option<Mode>,
    /// Below this confidence the bot only suggests.
    #[serde(default)]
    pub min_confidence: Option<Confidence>,
    /// Raise the severity to at least this.
    #[serde(default)]
    pub escalate_severity: Option<Severity>,
    /// A routing hint for the conversation layer (a channel, a team).
    #[serde(default)]
    pub route: Option<String>,
    /// Replaces the taxonomy's cooldown for matching incidents.
    #[serde(default, with = "humantime_serde")]
    pub cooldown: Option<Duration>,
    #[serde(default)]
    pub allow_auto: Vec<AllowAuto>,
}

impl OperatorRule {
    /// Whether the rule applies to the incident.
    pub fn applies(&self, facts: &IncidentFacts) -> bool {
        let m = &self.matches;
        let namespace = facts.scope.namespace.as_ref().map(|n| n.as_str());
        (m.incident_types.is_empty() || m.incident_types.contains(&facts.incident_type))
            && (m.environments.is_empty() || m.environments.contains(&facts.environment))
            && (m.namespaces.is_empty()
                || namespace
                    .is_some_and(|ns| m.namespaces.iter().any(|p| super::matrix::glob(p, ns))))
    }

    /// `id@version (owner)`, how reasons name the rule.
    pub fn label(&self) -> String {
        format!("{}@{} ({})", self.id, self.version, self.owner)
    }
}

/// The rules file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSet {
    #[serde(default = "one")]
    pub version: u32,
    #[serde(default)]
    pub rules: Vec<OperatorRule>,
}

fn one() -> u32 {
    1
}

impl RuleSet {
    /// Parses and validates a rules file; `origin` names it in errors.
    ///
    /// # Errors
    /// Every problem, with its field path; rules never partly load (a rule set is reviewed and
    /// changed as a whole).
    pub fn from_yaml(text: &str, origin: &str) -> Result<Self, Vec<LoadError>> {
        let raw: serde_json::Value = serde_yaml::from_str(text)
            .map_err(|e| vec![LoadError::parse(origin, &e.to_string())])?;
        let unsafe_fields: Vec<LoadError> = hygiene::scan(&raw)
            .into_iter()
            .map(|(field, reason)| LoadError::new(origin, field, reason))
            .collect();
        if !unsafe_fields.is_empty() {
            return Err(unsafe_fields);
        }
        if raw.is_null() {
            return Ok(Self::default());
        }
        let set: Self = serde_yaml::from_str(text)
            .map_err(|e| vec![LoadError::parse(origin, &e.to_string())])?;
        let mut p = Problems::new(origin);
        p.check(
            set.version == 1,
            "version",
            format!(
                "version {} is not supported (this build reads [1])",
                set.version
            ),
        );
        let mut ids = std::collections::BTreeSet::new();
        for (i, rule) in set.rules.iter().enumerate() {
            validate(rule, &format!("rules[{i}]"), &mut p);
            p.check(
                ids.insert(rule.id.as_str()),
                format!("rules[{i}].id"),
                format!("{} is used twice", rule.id),
            );
        }
        p.finish(set)
    }

    /// The rules that apply to an incident, in file order.
    pub fn matching<'a>(
        &'a self,
        facts: &'a IncidentFacts,
    ) -> impl Iterator<Item = &'a OperatorRule> {
        self.rules.iter().filter(|rule| rule.applies(facts))
    }
}

fn validate(rule: &OperatorRule, at: &str, p: &mut Problems) {
    p.check(
        rule.id.len() <= 63 && is_snake_case(&rule.id.replace('-', "_")),
        format!("{at}.id"),
        "must be 1 to 63 lowercase letters, digits, '-' or '_'",
    );
    p.check(
        rule.version >= 1,
        format!("{at}.version"),
        "must be at least 1",
    );
    p.check(
        !rule.owner.trim().is_empty(),
        format!("{at}.owner"),
        "must not be empty",
    );
    if let Some(cooldown) = rule.cooldown {
        p.check(
            cooldown >= Duration::from_secs(60),
            format!("{at}.cooldown"),
            "must be at least 1m",
        );
    }
    for (i, allow) in rule.allow_auto.iter().enumerate() {
        let field = format!("{at}.allow_auto[{i}]");
        let action = allow.action;
        p.check(
            !action.is_human_only(),
            format!("{field}.action"),
            format!("{action} is human-only: no rule can make it automatic"),
        );
        p.check(
            action.is_human_only() || containing(action),
            format!("{field}.action"),
            format!("{action} is {}: rules may allowlist only contain actions (cleanup, suspend_cronjob, scale to zero)", action.class()),
        );
        p.check(
            !allow.resources.is_empty(),
            format!("{field}.resources"),
            "must list at least one resource pattern",
        );
        for (j, pattern) in allow.resources.iter().enumerate() {
            p.check(
                pattern != "*" && !pattern.trim().is_empty(),
                format!("{field}.resources[{j}]"),
                "must name resources, not everything",
            );
        }
    }
}

/// The pre-approved family: contain actions, and scale (to zero only: any other count is
/// recover, and the allowlist does not apply to it).
pub fn containing(action: ActionName) -> bool {
    action == ActionName::Scale
        || (action.class() == ActionClass::Contain && action.executable().is_some())
}

#[cfg(test)]
#[path = "rules_tests.rs"]
mod tests;
