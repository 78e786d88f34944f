//! Settings of the policy engine: where its data comes from (built in, or files), the shadow
//! defaults for runbooks, and per-environment ceilings.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::incidents::model::Environment;
use crate::policy::Mode;

/// The policy engine. Every path is optional: unset, the built-in data is used (taxonomy,
/// matrix) or there is none (runbooks, rules).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct PolicySettings {
    /// A taxonomy file replacing the built-in one (the shape of config/taxonomy.yaml).
    pub taxonomy: Option<PathBuf>,
    /// A policy matrix file replacing the built-in one (the shape of config/policy.yaml).
    pub matrix: Option<PathBuf>,
    /// A directory of runbook files (`*.yaml`, `*.yml`). An invalid runbook is rejected with
    /// its file, field and reason; the others load.
    pub runbooks_dir: Option<PathBuf>,
    /// Also read RemediationRunbook custom resources from the cluster, when the CRD is
    /// installed (deploy/crds/remediationrunbook.yaml).
    pub cluster_runbooks: bool,
    /// The operator rules file (the shape of config/rules.yaml).
    pub rules: Option<PathBuf>,
    /// Runbooks that do not say `shadow:` start in shadow mode: they record what they would
    /// have done until their owner sets `shadow: false`.
    pub shadow_by_default: bool,
    /// Environments where every runbook runs in shadow mode, whatever it says (a trial).
    pub shadow_environments: Vec<Environment>,
    /// The most the bot may do per environment, below what the matrix allows (e.g.
    /// `production: suggest` while the team builds trust). Tightens only.
    pub ceilings: BTreeMap<Environment, Mode>,
}

impl Default for PolicySettings {
    fn default() -> Self {
        Self {
            taxonomy: None,
            matrix: None,
            runbooks_dir: None,
            cluster_runbooks: false,
            rules: None,
            shadow_by_default: true,
            shadow_environments: Vec::new(),
            ceilings: BTreeMap::new(),
        }
    }
}

/// Problems types cannot express, as `(dotted key, problem)`.
pub(super) fn validate(policy: &PolicySettings) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    for (key, path) in [
        ("policy.taxonomy", &policy.taxonomy),
        ("policy.matrix", &policy.matrix),
        ("policy.runbooks_dir", &policy.runbooks_dir),
        ("policy.rules", &policy.rules),
    ] {
        if path.as_ref().is_some_and(|p| p.as_os_str().is_empty()) {
            problems.push((
                key.to_owned(),
                "is empty; remove the key to leave it unset".to_owned(),
            ));
        }
    }
    problems
}
