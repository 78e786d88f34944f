//! Reading the policy from the settings: the taxonomy and matrix (built in, or files), runbook
//! files, and operator rules. Runbooks from the cluster arrive separately (see
//! `ops::runbooks`) and join with [`LoadedPolicy::add_runbooks`].

use std::path::Path;

use super::Policy;
use super::error::LoadError;
use super::matrix::PolicyMatrix;
use super::rules::RuleSet;
use super::runbook::{self, RunbookSet};
use super::taxonomy::Taxonomy;
use crate::config::{PolicySettings, Settings};

/// The policy, and the runbooks that were rejected (which do not stop the others).
#[derive(Debug, Clone)]
pub struct LoadedPolicy {
    pub policy: Policy,
    pub rejected_runbooks: Vec<LoadError>,
}

impl LoadedPolicy {
    /// Adds runbooks from another source (the cluster); names already taken are rejected.
    pub fn add_runbooks(&mut self, more: RunbookSet) {
        let mut set = RunbookSet {
            runbooks: self.policy.runbooks.clone(),
            rejected: Vec::new(),
        };
        set.extend(more);
        self.policy.runbooks = set.runbooks;
        self.rejected_runbooks.extend(set.rejected);
    }
}

/// What went wrong starting the policy: the data is invalid, or its rule changes could not be
/// audited (a rule change that cannot be recorded is not applied).
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("the policy is invalid:\n{}", lines(.0))]
    Invalid(Vec<LoadError>),
    #[error("operator rule changes could not be recorded in the audit trail")]
    Audit(#[source] crate::store::StoreError),
}

fn lines(errors: &[LoadError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// [`load`], then records every operator-rule change since the rule set recorded last (see
/// [`super::record::PolicyAudit::record_rules`]). For `serve` at start-up.
///
/// # Errors
/// [`StartError::Invalid`] with every problem, or [`StartError::Audit`] when the store fails.
///
/// # Idempotency
/// Starting again with the same rules records nothing more.
pub async fn load_audited(
    settings: &Settings,
    store: std::sync::Arc<dyn crate::store::Store>,
) -> Result<LoadedPolicy, StartError> {
    let loaded = load(settings).map_err(StartError::Invalid)?;
    super::record::PolicyAudit::new(store)
        .record_rules(loaded.policy.rules(), chrono::Utc::now())
        .await
        .map_err(StartError::Audit)?;
    Ok(loaded)
}

/// Loads the policy the settings describe.
///
/// # Errors
/// Every problem of the taxonomy, matrix and rules (any of which stops the bot: a policy
/// without them is not the one reviewed). Rejected runbooks are not errors; they are listed
/// in [`LoadedPolicy::rejected_runbooks`].
pub fn load(settings: &Settings) -> Result<LoadedPolicy, Vec<LoadError>> {
    let p = &settings.policy;
    let mut errors = Vec::new();
    let taxonomy = read(
        p.taxonomy.as_deref(),
        "policy.taxonomy",
        Taxonomy::builtin,
        Taxonomy::from_yaml,
        &mut errors,
    );
    let matrix = read(
        p.matrix.as_deref(),
        "policy.matrix",
        PolicyMatrix::builtin,
        PolicyMatrix::from_yaml,
        &mut errors,
    );
    let rules = read(
        p.rules.as_deref(),
        "policy.rules",
        RuleSet::default,
        RuleSet::from_yaml,
        &mut errors,
    );
    let (Some(taxonomy), Some(matrix), Some(rules)) = (taxonomy, matrix, rules) else {
        return Err(errors);
    };
    let runbooks = match &p.runbooks_dir {
        Some(dir) => runbook::load_dir(dir, &taxonomy),
        None => RunbookSet::default(),
    };
    let policy = policy(taxonomy, matrix, runbooks.runbooks, rules, settings, p);
    Ok(LoadedPolicy {
        policy,
        rejected_runbooks: runbooks.rejected,
    })
}

fn policy(
    taxonomy: Taxonomy,
    matrix: PolicyMatrix,
    runbooks: Vec<runbook::Runbook>,
    rules: RuleSet,
    settings: &Settings,
    p: &PolicySettings,
) -> Policy {
    Policy::new(taxonomy, matrix, runbooks, rules)
        .with_enabled_actions(settings.ops.actions.iter().copied())
        .with_shadow(p.shadow_by_default, p.shadow_environments.clone())
        .with_ceilings(p.ceilings.clone())
}

/// The built-in value when `path` is unset, else the file parsed by `parse`.
fn read<T>(
    path: Option<&Path>,
    key: &str,
    builtin: impl FnOnce() -> T,
    parse: impl FnOnce(&str, &str) -> Result<T, Vec<LoadError>>,
    errors: &mut Vec<LoadError>,
) -> Option<T> {
    let Some(path) = path else {
        return Some(builtin());
    };
    let origin = path.display().to_string();
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) => {
            errors.push(LoadError::new(
                origin,
                "",
                format!("cannot read the file named by {key}: {error}"),
            ));
            return None;
        }
    };
    parse(&text, &origin)
        .map_err(|found| errors.extend(found))
        .ok()
}

#[cfg(test)]
#[path = "load_tests.rs"]
mod tests;
