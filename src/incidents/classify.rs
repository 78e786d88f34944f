//! Classification of alerts into the taxonomy, from rules kept as data in
//! `config/classification.yaml` (embedded as the default, replaceable by a file).
//!
//! A rule names an incident type and the signals that point to it; each signal checks one
//! label or annotation and is `strong` or `weak`. The best-supported rule wins:
//! two or more strong signals give `high` confidence, one strong signal `medium`, weak signals
//! alone `low`. Alerts no rule matches are `unclassified`, with low confidence.

use regex::Regex;
use serde::Deserialize;

use super::alertmanager::Alert;
use super::model::{Confidence, IncidentType, Severity};

/// The rules shipped with Robot SRE.
pub const DEFAULT_RULES: &str = include_str!("../../config/classification.yaml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    rules: Vec<RuleSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSpec {
    incident_type: IncidentType,
    default_severity: Severity,
    signals: Vec<SignalSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignalSpec {
    #[serde(default)]
    from: Field,
    name: String,
    #[serde(default)]
    one_of: Vec<String>,
    matches: Option<String>,
    strength: Strength,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Field {
    #[default]
    Label,
    Annotation,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Strength {
    Strong,
    Weak,
}

#[derive(Debug)]
enum Matcher {
    OneOf(Vec<String>),
    Regex(Regex),
}

#[derive(Debug)]
struct Signal {
    from: Field,
    name: String,
    matcher: Matcher,
    strength: Strength,
}

#[derive(Debug)]
struct Rule {
    incident_type: IncidentType,
    default_severity: Severity,
    signals: Vec<Signal>,
}

/// The classification of one alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classification {
    pub incident_type: IncidentType,
    pub confidence: Confidence,
    pub default_severity: Severity,
    /// Which signals matched, e.g. `crash_loop_backoff: label alertname, label reason`.
    pub reason: String,
}

/// A rule file that cannot be used, with the rule and field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("classification rules: {location}: {problem}")]
pub struct RuleError {
    pub location: String,
    pub problem: String,
}

/// Compiled classification rules.
#[derive(Debug)]
pub struct Classifier {
    rules: Vec<Rule>,
}

impl Signal {
    fn compile(spec: SignalSpec, location: &str) -> Result<Self, RuleError> {
        let error = |problem: String| RuleError {
            location: location.to_owned(),
            problem,
        };
        let matcher = match (spec.one_of.is_empty(), spec.matches) {
            (false, None) => Matcher::OneOf(spec.one_of),
            (true, Some(pattern)) => Matcher::Regex(
                Regex::new(&format!("^(?:{pattern})$"))
                    .map_err(|e| error(format!("`matches` is not a valid regex: {e}")))?,
            ),
            _ => return Err(error("give exactly one of `one_of` or `matches`".into())),
        };
        Ok(Signal {
            from: spec.from,
            name: spec.name,
            matcher,
            strength: spec.strength,
        })
    }

    fn matches(&self, alert: &Alert) -> bool {
        let values = match self.from {
            Field::Label => &alert.labels,
            Field::Annotation => &alert.annotations,
        };
        values
            .get(&self.name)
            .is_some_and(|value| match &self.matcher {
                Matcher::OneOf(options) => options.iter().any(|option| option == value),
                Matcher::Regex(regex) => regex.is_match(value),
            })
    }

    fn describe(&self) -> String {
        let from = match self.from {
            Field::Label => "label",
            Field::Annotation => "annotation",
        };
        format!("{from} {}", self.name)
    }
}

fn confidence(strong: usize, weak: usize) -> Option<Confidence> {
    match (strong, weak) {
        (0, 0) => None,
        (0, _) => Some(Confidence::Low),
        (1, _) => Some(Confidence::Medium),
        _ => Some(Confidence::High),
    }
}

impl Classifier {
    /// Compiles rules from YAML text; `origin` names the file in errors.
    ///
    /// # Errors
    /// A [`RuleError`] naming the rule (by index and type) and the field at fault.
    pub fn from_yaml(text: &str, origin: &str) -> Result<Self, RuleError> {
        let file: RuleFile = serde_yaml::from_str(text).map_err(|e| RuleError {
            location: origin.to_owned(),
            problem: e.to_string(),
        })?;
        let mut rules = Vec::with_capacity(file.rules.len());
        for (index, spec) in file.rules.into_iter().enumerate() {
            let rule_at = format!("{origin}: rules[{index}] ({})", spec.incident_type.as_str());
            if spec.signals.is_empty() {
                return Err(RuleError {
                    location: rule_at,
                    problem: "a rule needs at least one signal".into(),
                });
            }
            let signals = spec
                .signals
                .into_iter()
                .enumerate()
                .map(|(i, signal)| Signal::compile(signal, &format!("{rule_at}.signals[{i}]")))
                .collect::<Result<_, _>>()?;
            rules.push(Rule {
                incident_type: spec.incident_type,
                default_severity: spec.default_severity,
                signals,
            });
        }
        Ok(Self { rules })
    }

    /// The rules shipped with Robot SRE.
    pub fn builtin() -> Self {
        Self::from_yaml(DEFAULT_RULES, "built-in classification rules")
            .unwrap_or_else(|error| unreachable!("the shipped rules are tested: {error}"))
    }

    /// Classifies one alert. Ties go to the rule listed first.
    pub fn classify(&self, alert: &Alert) -> Classification {
        let mut best: Option<(Confidence, usize, &Rule, Vec<&Signal>)> = None;
        for rule in &self.rules {
            let matched: Vec<&Signal> = rule.signals.iter().filter(|s| s.matches(alert)).collect();
            let strong = matched
                .iter()
                .filter(|s| s.strength == Strength::Strong)
                .count();
            let Some(band) = confidence(strong, matched.len() - strong) else {
                continue;
            };
            if best
                .as_ref()
                .is_none_or(|(b, n, _, _)| (band, matched.len()) > (*b, *n))
            {
                best = Some((band, matched.len(), rule, matched));
            }
        }
        match best {
            Some((confidence, _, rule, matched)) => Classification {
                incident_type: rule.incident_type,
                confidence,
                default_severity: rule.default_severity,
                reason: format!(
                    "{}: {}",
                    rule.incident_type.as_str(),
                    matched
                        .iter()
                        .map(|s| s.describe())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            },
            None => Classification {
                incident_type: IncidentType::Unclassified,
                confidence: Confidence::Low,
                default_severity: Severity::Warning,
                reason: "unclassified: no classification rule matched".into(),
            },
        }
    }
}

#[cfg(test)]
#[path = "classify_tests.rs"]
mod tests;
