//! Guardrails: each one looks at live state (or shared limits in the state store) and passes or
//! refuses with a reason a service owner understands. All are evaluated and reported, so the
//! packet shows every verdict, not just the first refusal.
//!
//! - this file: the checks that need only the observation and the settings;
//! - [`limits`]: cooldown, rate, concurrency, blast radius and the circuit breaker, shared by
//!   every bot replica through the state store;
//! - [`rbac`]: SelfSubjectAccessReview for the exact verbs a plan needs.

pub mod limits;
pub mod rbac;

use serde::{Deserialize, Serialize};

use super::observe::{Live, Observation};
use super::request::Action;
use super::summary;
use crate::config::OpsSettings;
use crate::domain::ActionKind;

/// The name of a guardrail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Guard {
    ActionEnabled,
    NamespaceAllowlist,
    OptInLabel,
    ControllerOwnership,
    MinReadyReplicas,
    NotMidRollout,
    NotPaused,
    GitOps,
    PreviousRevision,
    ScaleBounds,
    Autoscaler,
    Cooldown,
    RateLimit,
    Concurrency,
    BlastRadius,
    CircuitBreaker,
    Rbac,
    DryRun,
    Unchanged,
}

/// What a guardrail decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Refuse,
    /// The guardrail does not concern this action or target.
    NotApplicable,
}

/// One guardrail's verdict and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuardResult {
    pub guard: Guard,
    pub verdict: Verdict,
    pub detail: String,
}

impl GuardResult {
    pub fn pass(guard: Guard, detail: impl Into<String>) -> Self {
        Self {
            guard,
            verdict: Verdict::Pass,
            detail: detail.into(),
        }
    }

    pub fn refuse(guard: Guard, detail: impl Into<String>) -> Self {
        Self {
            guard,
            verdict: Verdict::Refuse,
            detail: detail.into(),
        }
    }

    pub fn not_applicable(guard: Guard, detail: impl Into<String>) -> Self {
        Self {
            guard,
            verdict: Verdict::NotApplicable,
            detail: detail.into(),
        }
    }

    fn check(guard: Guard, ok: bool, pass: String, refuse: String) -> Self {
        if ok {
            Self::pass(guard, pass)
        } else {
            Self::refuse(guard, refuse)
        }
    }

    pub fn refused(&self) -> bool {
        self.verdict == Verdict::Refuse
    }
}

/// The refusals among `results`, as one line each.
pub fn refusals(results: &[GuardResult]) -> Vec<String> {
    results
        .iter()
        .filter(|r| r.refused())
        .map(|r| r.detail.clone())
        .collect()
}

/// The guardrails decided by configuration alone, checked before the cluster is even read:
/// outside its scope the bot neither acts nor looks.
pub fn scope(action: &Action, settings: &OpsSettings) -> Vec<GuardResult> {
    vec![
        enabled(action.kind, settings),
        namespace_allowed(action, settings),
    ]
}

/// The guardrails that need live state and settings.
pub fn evaluate(
    action: &Action,
    observed: &Observation,
    settings: &OpsSettings,
) -> Vec<GuardResult> {
    vec![
        opted_in(observed, settings),
        gitops(observed, settings),
        controller_owned(observed),
        min_ready(observed, settings),
        not_mid_rollout(action.kind, observed),
    ]
}

fn enabled(kind: ActionKind, settings: &OpsSettings) -> GuardResult {
    GuardResult::check(
        Guard::ActionEnabled,
        settings.actions.contains(&kind),
        format!("{kind} is enabled"),
        format!("{kind} is not enabled in ops.actions"),
    )
}

fn namespace_allowed(action: &Action, settings: &OpsSettings) -> GuardResult {
    let Some(namespace) = action.target.namespace() else {
        return GuardResult::not_applicable(Guard::NamespaceAllowlist, "nodes have no namespace");
    };
    GuardResult::check(
        Guard::NamespaceAllowlist,
        settings.namespaces.contains(namespace),
        format!("namespace {namespace} is in ops.namespaces"),
        format!("namespace {namespace} is not in the bot's allowed namespaces (ops.namespaces)"),
    )
}

fn opted_in(observed: &Observation, settings: &OpsSettings) -> GuardResult {
    let label = &settings.opt_in_label;
    let Some(governing) = &observed.governing else {
        return GuardResult::not_applicable(
            Guard::OptInLabel,
            "a namespace-wide cleanup of finished pods has no workload to label",
        );
    };
    let found = governing.labels.get(&label.key);
    GuardResult::check(
        Guard::OptInLabel,
        found == Some(&label.value),
        format!(
            "{} {} has {}={}",
            governing.kind, governing.name, label.key, label.value
        ),
        format!(
            "{} {} has not opted in: it needs the label {}={} (found {})",
            governing.kind,
            governing.name,
            label.key,
            label.value,
            found.map_or("no such label".to_owned(), |v| format!("{v:?}"))
        ),
    )
}

fn gitops(observed: &Observation, settings: &OpsSettings) -> GuardResult {
    let Some(governing) = &observed.governing else {
        return GuardResult::not_applicable(Guard::GitOps, "no workload to check");
    };
    let marker = settings.gitops.markers.iter().find(|key| {
        governing.labels.contains_key(*key) || governing.annotations.contains_key(*key)
    });
    match marker {
        None => GuardResult::pass(Guard::GitOps, "no GitOps controller marker found"),
        Some(key) if settings.gitops.allow_mutation => GuardResult::pass(
            Guard::GitOps,
            format!("managed by GitOps ({key}); mutation allowed by ops.gitops.allow_mutation"),
        ),
        Some(key) => GuardResult::refuse(
            Guard::GitOps,
            format!(
                "{} {} is managed by a GitOps controller ({key}), which would revert the change; \
                 fix it in Git instead",
                governing.kind, governing.name
            ),
        ),
    }
}

fn controller_owned(observed: &Observation) -> GuardResult {
    let Live::Pod {
        pod, controller, ..
    } = &observed.live
    else {
        return GuardResult::not_applicable(Guard::ControllerOwnership, "not a pod");
    };
    let name = pod.metadata.name.as_deref().unwrap_or("?");
    match controller {
        Some(owner) => GuardResult::pass(
            Guard::ControllerOwnership,
            format!("pod {name} is owned by {} {}", owner.kind, owner.name),
        ),
        None => GuardResult::refuse(
            Guard::ControllerOwnership,
            format!("pod {name} has no controller, so nothing would replace it"),
        ),
    }
}

fn min_ready(observed: &Observation, settings: &OpsSettings) -> GuardResult {
    let Live::Pod {
        controller,
        siblings,
        ..
    } = &observed.live
    else {
        return GuardResult::not_applicable(Guard::MinReadyReplicas, "not a pod");
    };
    let ready = siblings.iter().filter(|p| summary::is_ready(p)).count();
    // The replacement counts as one of the minimum: the rest must already be Ready.
    let needed = settings.min_ready_replicas.saturating_sub(1) as usize;
    let owner = controller
        .as_ref()
        .map_or("its owner".to_owned(), |o| format!("{} {}", o.kind, o.name));
    GuardResult::check(
        Guard::MinReadyReplicas,
        ready >= needed,
        format!("{ready} other Ready pod(s) of {owner} remain (need {needed})"),
        format!(
            "deleting it would leave {owner} with {ready} Ready pod(s) while the replacement \
             starts; at least {needed} must stay Ready (min_ready_replicas {})",
            settings.min_ready_replicas
        ),
    )
}

fn not_mid_rollout(kind: ActionKind, observed: &Observation) -> GuardResult {
    let Live::Deployment {
        deployment,
        replica_sets,
        ..
    } = &observed.live
    else {
        return GuardResult::not_applicable(Guard::NotMidRollout, "not a Deployment");
    };
    if kind != ActionKind::Restart {
        return GuardResult::not_applicable(Guard::NotMidRollout, "only a restart waits");
    }
    let status = deployment.status.clone().unwrap_or_default();
    let caught_up = status.observed_generation >= deployment.metadata.generation;
    let desired = summary::desired(deployment);
    let updated = status.updated_replicas.unwrap_or(0);
    let current = summary::revision(&deployment.metadata);
    let old_pods: i32 = replica_sets
        .iter()
        .filter(|rs| summary::revision(&rs.metadata) != current)
        .map(|rs| rs.status.as_ref().map_or(0, |s| s.replicas))
        .sum();
    GuardResult::check(
        Guard::NotMidRollout,
        caught_up && updated >= desired && old_pods == 0,
        "no rollout in progress".to_owned(),
        format!(
            "a rollout is in progress ({updated}/{desired} updated, {old_pods} old pod(s) \
             still running); restarting now would stack a second rollout on it"
        ),
    )
}
