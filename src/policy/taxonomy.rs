//! The incident taxonomy as data: `config/taxonomy.yaml`, embedded as the default and
//! replaceable by a file of the same shape (`policy.taxonomy` in the settings).
//!
//! Loading validates everything types cannot: every incident class present exactly once, each
//! action in at most one list of its class, and the hard constraints — no human-only or
//! disruptive action may be listed as auto-allowed.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::action::{ActionClass, ActionName};
use super::error::{LoadError, Problems};
use crate::incidents::alertmanager::LabelSet;
use crate::incidents::model::{Environment, IncidentType, Severity};

/// The taxonomy shipped with Robot SRE.
pub const BUILTIN: &str = include_str!("../../config/taxonomy.yaml");

/// The taxonomy format versions this build reads.
pub const SUPPORTED_VERSIONS: [u32; 1] = [1];

/// The domains incident classes belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DomainId {
    Infrastructure,
    RuntimeServices,
    ApplicationServices,
    NetworkIngress,
    GoldenSignals,
    IdentitySecurity,
    ReleaseConfiguration,
    OperatorChannels,
}

impl DomainId {
    /// The snake_case name used in config and reasons.
    pub fn as_str(self) -> &'static str {
        match self {
            DomainId::Infrastructure => "infrastructure",
            DomainId::RuntimeServices => "runtime_services",
            DomainId::ApplicationServices => "application_services",
            DomainId::NetworkIngress => "network_ingress",
            DomainId::GoldenSignals => "golden_signals",
            DomainId::IdentitySecurity => "identity_security",
            DomainId::ReleaseConfiguration => "release_configuration",
            DomainId::OperatorChannels => "operator_channels",
        }
    }
}

/// One domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Domain {
    pub id: DomainId,
    pub description: String,
}

/// Raises (or lowers) an incident's severity when all of its matchers match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeverityRule {
    pub severity: Severity,
    /// What the rule means, for humans.
    pub when: String,
    /// Environments the rule applies in; empty: all.
    #[serde(default)]
    pub environments: Vec<Environment>,
    /// Alert labels that must hold one of the listed values; empty: any labels.
    #[serde(default)]
    pub labels: BTreeMap<String, Vec<String>>,
}

impl SeverityRule {
    fn applies(&self, environment: Environment, labels: &LabelSet) -> bool {
        (self.environments.is_empty() || self.environments.contains(&environment))
            && self
                .labels
                .iter()
                .all(|(name, values)| labels.get(name).is_some_and(|value| values.contains(value)))
    }
}

/// A possible root cause; runbooks name these ids as their probable causes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hypothesis {
    pub id: String,
    pub description: String,
}

/// What each confidence band means for this class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfidenceRules {
    pub high: String,
    pub medium: String,
    pub low: String,
}

/// One incident class of the taxonomy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentClass {
    pub id: IncidentType,
    pub domain: DomainId,
    pub description: String,
    pub default_severity: Severity,
    #[serde(default)]
    pub severity_rules: Vec<SeverityRule>,
    pub primary_signals: Vec<String>,
    #[serde(default)]
    pub secondary_signals: Vec<String>,
    pub root_cause_hypotheses: Vec<Hypothesis>,
    pub evidence_rules: Vec<String>,
    pub confidence_rules: ConfidenceRules,
    /// May run without approval where environment, confidence and guardrails allow.
    #[serde(default)]
    pub auto_allowed: Vec<ActionName>,
    /// May be offered for approval (auto-allowed ones may be too).
    #[serde(default)]
    pub approval_required: Vec<ActionName>,
    /// Named as the fix, never executed by the bot.
    #[serde(default)]
    pub human_only: Vec<ActionName>,
    /// The same remediation is not retried for this long.
    #[serde(with = "humantime_serde")]
    pub cooldown: Duration,
    pub exit_criteria: Vec<String>,
}

/// How a class lists an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    AutoAllowed,
    ApprovalRequired,
    HumanOnly,
    /// Not listed: only suggested for this class.
    NotListed,
}

impl IncidentClass {
    /// How this class lists `action`.
    pub fn listing(&self, action: ActionName) -> Listing {
        if self.human_only.contains(&action) {
            Listing::HumanOnly
        } else if self.auto_allowed.contains(&action) {
            Listing::AutoAllowed
        } else if self.approval_required.contains(&action) {
            Listing::ApprovalRequired
        } else {
            Listing::NotListed
        }
    }

    /// The severity for an incident of this class: the last matching severity rule, else the
    /// alert's own severity.
    pub fn severity(
        &self,
        alert: Severity,
        environment: Environment,
        labels: &LabelSet,
    ) -> Severity {
        self.severity_rules
            .iter()
            .rev()
            .find(|rule| rule.applies(environment, labels))
            .map_or(alert, |rule| rule.severity)
    }

    /// Whether `id` is one of this class's root-cause hypotheses.
    pub fn has_hypothesis(&self, id: &str) -> bool {
        self.root_cause_hypotheses.iter().any(|h| h.id == id)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TaxonomyFile {
    version: u32,
    domains: Vec<Domain>,
    classes: Vec<IncidentClass>,
}

/// The validated taxonomy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taxonomy {
    pub version: u32,
    pub domains: Vec<Domain>,
    classes: BTreeMap<IncidentType, IncidentClass>,
}

impl Taxonomy {
    /// The taxonomy shipped with Robot SRE.
    pub fn builtin() -> Self {
        Self::from_yaml(BUILTIN, "built-in taxonomy")
            .unwrap_or_else(|errors| unreachable!("the shipped taxonomy is tested: {errors:?}"))
    }

    /// Parses and validates a taxonomy; `origin` names it in errors.
    ///
    /// # Errors
    /// Every problem found, each with the field path and reason.
    pub fn from_yaml(text: &str, origin: &str) -> Result<Self, Vec<LoadError>> {
        let file: TaxonomyFile = serde_yaml::from_str(text)
            .map_err(|e| vec![LoadError::parse(origin, &e.to_string())])?;
        let mut problems = Problems::new(origin);
        problems.check(
            SUPPORTED_VERSIONS.contains(&file.version),
            "version",
            format!(
                "version {} is not supported (this build reads {SUPPORTED_VERSIONS:?})",
                file.version
            ),
        );
        let domains: BTreeSet<DomainId> = file.domains.iter().map(|d| d.id).collect();
        problems.check(
            domains.len() == file.domains.len(),
            "domains",
            "a domain is listed twice",
        );
        let mut classes = BTreeMap::new();
        for (index, class) in file.classes.into_iter().enumerate() {
            let at = format!("classes[{index}]");
            validate_class(&class, &at, &domains, &mut problems);
            if classes.contains_key(&class.id) {
                problems.push(
                    format!("{at}.id"),
                    format!("{} is listed twice", class.id.as_str()),
                );
            }
            classes.insert(class.id, class);
        }
        for kind in IncidentType::ALL {
            let needed = kind != IncidentType::Unclassified;
            problems.check(
                !needed || classes.contains_key(&kind),
                "classes",
                format!("incident class {} is missing", kind.as_str()),
            );
        }
        problems.finish(Self {
            version: file.version,
            domains: file.domains,
            classes,
        })
    }

    /// The class of an incident type; `None` for `unclassified`, which always goes to a human.
    pub fn class(&self, kind: IncidentType) -> Option<&IncidentClass> {
        self.classes.get(&kind)
    }

    /// Every class, in incident-type order.
    pub fn classes(&self) -> impl Iterator<Item = &IncidentClass> {
        self.classes.values()
    }
}

fn validate_class(class: &IncidentClass, at: &str, domains: &BTreeSet<DomainId>, p: &mut Problems) {
    p.check(
        class.id != IncidentType::Unclassified,
        format!("{at}.id"),
        "unclassified is not a class: it always goes to a human",
    );
    p.check(
        domains.contains(&class.domain),
        format!("{at}.domain"),
        "is not listed under domains",
    );
    for (field, empty) in [
        ("description", class.description.trim().is_empty()),
        ("primary_signals", class.primary_signals.is_empty()),
        (
            "root_cause_hypotheses",
            class.root_cause_hypotheses.is_empty(),
        ),
        ("evidence_rules", class.evidence_rules.is_empty()),
        ("exit_criteria", class.exit_criteria.is_empty()),
    ] {
        p.check(!empty, format!("{at}.{field}"), "must not be empty");
    }
    let mut ids = BTreeSet::new();
    for (i, hypothesis) in class.root_cause_hypotheses.iter().enumerate() {
        p.check(
            is_snake_case(&hypothesis.id),
            format!("{at}.root_cause_hypotheses[{i}].id"),
            format!("{:?} must be snake_case (a-z, 0-9, _)", hypothesis.id),
        );
        p.check(
            ids.insert(hypothesis.id.as_str()),
            format!("{at}.root_cause_hypotheses[{i}].id"),
            format!("{} is listed twice", hypothesis.id),
        );
    }
    for (i, rule) in class.severity_rules.iter().enumerate() {
        p.check(
            !rule.environments.is_empty() || !rule.labels.is_empty(),
            format!("{at}.severity_rules[{i}]"),
            "needs `environments` or `labels`, or it would always apply",
        );
    }
    validate_actions(class, at, p);
    p.check(
        class.cooldown >= Duration::from_secs(60),
        format!("{at}.cooldown"),
        "must be at least 1m (the observation polling interval)",
    );
}

fn validate_actions(class: &IncidentClass, at: &str, p: &mut Problems) {
    for (i, action) in class.auto_allowed.iter().enumerate() {
        let field = format!("{at}.auto_allowed[{i}]");
        p.check(
            !action.is_human_only(),
            &field,
            format!("{action} is human-only and can never be automatic"),
        );
        p.check(
            action.class() != ActionClass::Disruptive,
            &field,
            format!("{action} is disruptive and can never be auto-allowed"),
        );
    }
    let lists = [
        ("auto_allowed", &class.auto_allowed),
        ("approval_required", &class.approval_required),
        ("human_only", &class.human_only),
    ];
    let mut seen: BTreeMap<ActionName, &str> = BTreeMap::new();
    for (list, actions) in lists {
        for (i, action) in actions.iter().enumerate() {
            if let Some(first) = seen.insert(*action, list) {
                p.push(
                    format!("{at}.{list}[{i}]"),
                    format!("{action} is already listed under {first}"),
                );
            }
        }
    }
    for (i, action) in class.approval_required.iter().enumerate() {
        p.check(
            !action.is_human_only(),
            format!("{at}.approval_required[{i}]"),
            format!("{action} is human-only: list it under human_only"),
        );
    }
}

pub(crate) fn is_snake_case(text: &str) -> bool {
    !text.is_empty()
        && text.starts_with(|c: char| c.is_ascii_lowercase())
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[cfg(test)]
#[path = "taxonomy_tests.rs"]
mod tests;
