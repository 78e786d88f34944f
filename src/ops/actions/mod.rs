//! The actions, one file each. Every action has the same four steps:
//!
//! 1. **parse**: [`Action::parse`](super::request::Action::parse) turns text into a typed
//!    target;
//! 2. **check**: the action's own refusals on live state (no previous revision, outside the
//!    scale bounds, …), next to the shared guardrails in [`super::guard`];
//! 3. **apply**: the [`Mutation`]s to send, conditional on the resourceVersion read where that
//!    matters, so a change in between is a 409 and a fresh decision;
//! 4. **verify**: the [`Verification`] that proves the outcome.
//!
//! Steps 2–4 are [`plan`], a pure function of the observation; the executor sends and verifies.
//!
//! # Idempotency
//! Every plan sets absolute values (a template, a replica count, a flag, a restart stamp taken
//! from the request) or deletes by uid, so applying the same request twice changes nothing more.

mod cleanup;
mod cordon;
mod cronjob;
mod delete_pod;
mod restart;
mod rollback;
mod scale;

use k8s_openapi::api::apps::v1::Deployment;
use kube::Resource;
use kube::api::ApiResource;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::guard::GuardResult;
use super::mutation::{Mutation, Write};
use super::observe::Observation;
use super::request::ActionRequest;
use super::verify::{PodSet, Verification};
use crate::config::OpsSettings;
use crate::domain::ActionKind;

/// One field that changes, for the approval prompt: `revision 42 → 41`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub field: String,
    pub from: Value,
    pub to: Value,
}

impl Change {
    pub fn new(field: &str, from: impl Serialize, to: impl Serialize) -> Self {
        Self {
            field: field.into(),
            from: serde_json::to_value(from).unwrap_or(Value::Null),
            to: serde_json::to_value(to).unwrap_or(Value::Null),
        }
    }
}

/// What an action will do to the live state it was planned on.
#[derive(Debug, Clone)]
pub struct Plan {
    /// One line: what changes, e.g. "roll back checkout from revision 42 to 41".
    pub summary: String,
    pub changes: Vec<Change>,
    /// Empty when the target is already as intended.
    pub mutations: Vec<Mutation>,
    /// The action's own checks.
    pub checks: Vec<GuardResult>,
    pub verification: Verification,
    /// Disruptive actions have the longer cooldown.
    pub disruptive: bool,
    /// How to undo it, or what to do next if it does not help.
    pub fallback: String,
}

impl Plan {
    fn refused(summary: String, check: GuardResult) -> Self {
        Self {
            summary,
            changes: Vec::new(),
            mutations: Vec::new(),
            checks: vec![check],
            verification: Verification::default(),
            disruptive: false,
            fallback: String::new(),
        }
    }
}

/// Plans `request` on the observed live state.
pub fn plan(request: &ActionRequest, observed: &Observation, settings: &OpsSettings) -> Plan {
    let kind = request.action.kind;
    match kind {
        ActionKind::Restart => restart::plan(request, observed, settings),
        ActionKind::Rollback => rollback::plan(observed, settings),
        ActionKind::DeletePod => delete_pod::plan(observed),
        ActionKind::Scale => scale::plan(request, observed, settings),
        ActionKind::Cordon | ActionKind::Uncordon => {
            cordon::plan(observed, kind == ActionKind::Cordon)
        }
        ActionKind::SuspendCronjob | ActionKind::ResumeCronjob => {
            cronjob::plan(observed, kind == ActionKind::SuspendCronjob)
        }
        ActionKind::Cleanup => cleanup::plan(observed, settings),
    }
}

/// A refusal for a target of the wrong kind (a request built by hand, not by `Action::parse`).
fn wrong_target(observed: &Observation, wanted: &str) -> Plan {
    Plan::refused(
        format!("{} is not a {wanted}", observed.target),
        GuardResult::refuse(
            super::guard::Guard::ActionEnabled,
            format!(
                "this action works on a {wanted}, not on {}",
                observed.target
            ),
        ),
    )
}

/// A merge patch on a Deployment, conditional on the resourceVersion read.
fn deployment_patch(
    deployment: &Deployment,
    subresource: Option<&'static str>,
    mut patch: Value,
) -> Mutation {
    patch["metadata"]["resourceVersion"] = Value::from(
        deployment
            .metadata
            .resource_version
            .clone()
            .unwrap_or_default(),
    );
    Mutation {
        resource: ApiResource::erase::<Deployment>(&()),
        plural: Deployment::plural(&()).into_owned(),
        namespace: deployment.metadata.namespace.clone(),
        name: deployment.metadata.name.clone().unwrap_or_default(),
        write: Write::MergePatch { subresource, patch },
    }
}

/// The pods of a Deployment, for the settle window.
fn pods_of(deployment: &Deployment) -> Option<PodSet> {
    Some(PodSet {
        namespace: deployment.metadata.namespace.clone()?,
        selector: super::summary::selector(deployment)?,
    })
}
