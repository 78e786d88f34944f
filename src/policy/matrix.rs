//! The policy matrix: the mode of each action class per environment, the cooldowns, and where
//! containment may run automatically. `config/policy.yaml`, embedded as the default.
//!
//! Loading refuses a matrix that would break a hard constraint (a disruptive class set to
//! `auto_execute`, a human-only or disruptive action listed as automatic), so a bad file fails
//! at start-up rather than being silently overridden at decision time — where the constraint is
//! enforced again anyway.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::action::{ActionClass, ActionName};
use super::decision::{ActionTarget, Mode};
use super::error::{LoadError, Problems};
use crate::domain::ActionKind;
use crate::incidents::model::Environment;

/// The matrix shipped with Robot SRE.
pub const BUILTIN: &str = include_str!("../../config/policy.yaml");

/// Cooldowns unless a class, runbook or rule says otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cooldowns {
    #[serde(with = "humantime_serde")]
    pub observation_polling: Duration,
    #[serde(with = "humantime_serde")]
    pub duplicate_suppression: Duration,
    #[serde(with = "humantime_serde")]
    pub same_remediation_retry: Duration,
    #[serde(with = "humantime_serde")]
    pub disruptive_retry: Duration,
}

/// One environment's overlay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Overlay {
    pub description: String,
    /// Replaces the default mode of each class listed.
    #[serde(default)]
    pub modes: BTreeMap<ActionClass, Mode>,
    /// Actions that may run automatically here whatever their class's mode.
    #[serde(default)]
    pub auto_actions: Vec<ActionName>,
}

/// Where contain actions may run automatically.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutoContain {
    #[serde(default)]
    pub allow: Vec<String>,
    #[serde(default)]
    pub never: Vec<String>,
    pub critical_label: String,
}

/// The validated matrix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyMatrix {
    pub version: u32,
    pub defaults: BTreeMap<ActionClass, Mode>,
    pub cooldowns: Cooldowns,
    pub environments: BTreeMap<Environment, Overlay>,
    pub auto_contain: AutoContain,
}

impl PolicyMatrix {
    /// The matrix shipped with Robot SRE.
    pub fn builtin() -> Self {
        Self::from_yaml(BUILTIN, "built-in policy matrix")
            .unwrap_or_else(|errors| unreachable!("the shipped matrix is tested: {errors:?}"))
    }

    /// Parses and validates a matrix; `origin` names it in errors.
    ///
    /// # Errors
    /// Every problem found, with its field path.
    pub fn from_yaml(text: &str, origin: &str) -> Result<Self, Vec<LoadError>> {
        let matrix: Self = serde_yaml::from_str(text)
            .map_err(|e| vec![LoadError::parse(origin, &e.to_string())])?;
        let mut p = Problems::new(origin);
        p.check(
            matrix.version == 1,
            "version",
            format!(
                "version {} is not supported (this build reads [1])",
                matrix.version
            ),
        );
        for class in ActionClass::ALL {
            p.check(
                matrix.defaults.contains_key(&class),
                "defaults",
                format!("the {class} class has no default mode"),
            );
        }
        check_modes(&matrix.defaults, "defaults", &mut p);
        for environment in [
            Environment::Demo,
            Environment::Staging,
            Environment::Production,
        ] {
            let name = format!("{environment:?}").to_lowercase();
            let Some(overlay) = matrix.environments.get(&environment) else {
                p.push("environments", format!("{name} has no overlay"));
                continue;
            };
            check_modes(
                &overlay.modes,
                &format!("environments.{name}.modes"),
                &mut p,
            );
            for (i, action) in overlay.auto_actions.iter().enumerate() {
                p.check(
                    action.executable().is_some() && action.class() < ActionClass::Recover,
                    format!("environments.{name}.auto_actions[{i}]"),
                    format!("{action} is {} and cannot be listed as automatic: only observe, notify and contain actions the bot can run may be", action.class()),
                );
            }
        }
        let c = matrix.cooldowns;
        for (field, value) in [
            ("observation_polling", c.observation_polling),
            ("duplicate_suppression", c.duplicate_suppression),
            ("same_remediation_retry", c.same_remediation_retry),
            ("disruptive_retry", c.disruptive_retry),
        ] {
            p.check(
                !value.is_zero(),
                format!("cooldowns.{field}"),
                "must be longer than zero",
            );
        }
        p.check(
            !matrix.auto_contain.critical_label.is_empty(),
            "auto_contain.critical_label",
            "must not be empty",
        );
        p.finish(matrix)
    }

    /// The mode of `class` in `environment` (the overlay, else the default), and whether
    /// `action` is one the environment lets run automatically anyway.
    pub fn mode(&self, environment: Environment, class: ActionClass) -> Mode {
        self.environments
            .get(&environment)
            .and_then(|overlay| overlay.modes.get(&class))
            .or_else(|| self.defaults.get(&class))
            .copied()
            .unwrap_or(Mode::ApprovalRequired)
    }

    /// Whether the environment lists `action` as automatic whatever its class's mode.
    pub fn auto_action(&self, environment: Environment, action: ActionName) -> bool {
        self.environments
            .get(&environment)
            .is_some_and(|overlay| overlay.auto_actions.contains(&action))
    }

    /// The class of an executable action on `target`. Scaling to zero is `Contain` where the
    /// target may be contained automatically, else `Disruptive` (it takes the whole workload
    /// away); other scales are `Recover`.
    pub fn class_of(
        &self,
        kind: ActionKind,
        target: &ActionTarget,
        replicas: Option<u32>,
        labels: &BTreeMap<String, String>,
        extra_allow: &[String],
    ) -> ActionClass {
        match (kind, replicas) {
            (ActionKind::Scale, Some(0)) => match self.containable(target, labels, extra_allow) {
                Ok(()) => ActionClass::Contain,
                Err(_) => ActionClass::Disruptive,
            },
            _ => ActionName::from(kind).class(),
        }
    }

    /// `Ok` when contain actions may run automatically on `target`; else why not.
    /// `extra_allow` are patterns operator rules add.
    ///
    /// # Errors
    /// A sentence naming the pattern or label that forbids it.
    pub fn containable(
        &self,
        target: &ActionTarget,
        labels: &BTreeMap<String, String>,
        extra_allow: &[String],
    ) -> Result<(), String> {
        let name = target.to_string();
        let rules = &self.auto_contain;
        if let Some(pattern) = rules.never.iter().find(|p| glob(p, &name)) {
            return Err(format!(
                "{name} matches the never-auto-contain pattern {pattern:?}"
            ));
        }
        if labels
            .get(&rules.critical_label)
            .is_some_and(|v| v == "true")
        {
            return Err(format!("{name} is labelled {}=true", rules.critical_label));
        }
        let allowed = rules
            .allow
            .iter()
            .chain(extra_allow)
            .any(|p| glob(p, &name));
        if allowed {
            Ok(())
        } else {
            Err(format!("{name} is not on the auto-contain allowlist"))
        }
    }
}

fn check_modes(modes: &BTreeMap<ActionClass, Mode>, at: &str, p: &mut Problems) {
    for (class, mode) in modes {
        p.check(
            !(*class == ActionClass::Disruptive && *mode == Mode::AutoExecute),
            format!("{at}.disruptive"),
            "disruptive actions can never be automatic",
        );
    }
}

/// `*` matches any run of characters (including none); everything else matches itself.
pub fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let [first, middle @ .., last] = parts.as_slice() else {
        return pattern == text;
    };
    if parts.len() == 1 {
        return pattern == text;
    }
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
#[path = "matrix_tests.rs"]
mod tests;
