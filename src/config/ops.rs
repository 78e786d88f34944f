//! Settings of the part that touches the cluster: which actions are enabled, where, and the
//! guardrails every action passes on live state.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::domain::{ActionKind, Namespace};

/// Kubernetes actions and their guardrails.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct OpsSettings {
    /// Kubeconfig file of the bot's identity. Unset: `KUBECONFIG`, `~/.kube/config`, then the
    /// in-cluster service account.
    pub kubeconfig: Option<PathBuf>,
    /// Name of the bot in audit records and as the source of Kubernetes Events it emits.
    pub identity: String,
    /// Actions the bot may take at all. Each needs RBAC verbs (`robot-sre rbac` prints them).
    pub actions: BTreeSet<ActionKind>,
    /// Namespaces the bot may act in. Empty: it acts in none (it still collects evidence).
    pub namespaces: Vec<Namespace>,
    /// Workloads (and nodes) must carry this label to be acted on.
    pub opt_in_label: LabelSelector,
    /// Deleting a pod must leave its owner this many Ready replicas, counting the replacement:
    /// with 2, at least one other Ready pod of the same owner must exist.
    pub min_ready_replicas: u32,
    /// The same action on the same target is refused for this long after it ran.
    #[serde(with = "humantime_serde")]
    pub cooldown: Duration,
    /// The cooldown of disruptive actions (scaling to zero).
    #[serde(with = "humantime_serde")]
    pub disruptive_cooldown: Duration,
    /// Executions allowed per rolling hour, across all targets and bot replicas.
    pub max_executions_per_hour: usize,
    /// Actions that may be running (applied, not yet verified) at once.
    pub max_concurrent: usize,
    /// Distinct workloads acted on per namespace within `blast_radius_window`.
    pub blast_radius: usize,
    #[serde(with = "humantime_serde")]
    pub blast_radius_window: Duration,
    /// Failed verifications on one target before the circuit breaker opens. An open breaker
    /// refuses every action on the target until a human resets it (`robot-sre breaker reset`).
    pub breaker_threshold: u32,
    /// Workloads managed by a GitOps controller.
    pub gitops: GitOpsSettings,
    /// Replica counts the scale action may set.
    pub scale: ScaleBounds,
    /// Most finished pods one cleanup run deletes.
    pub cleanup_max_pods: usize,
    /// Deadline for each evidence collector; beyond it the evidence is "unknown".
    #[serde(with = "humantime_serde")]
    pub collect_timeout: Duration,
    /// Deadline for one Kubernetes API call made by an action.
    #[serde(with = "humantime_serde")]
    pub api_timeout: Duration,
    /// Re-reads after a resourceVersion conflict before an apply gives up.
    pub conflict_retries: u32,
    /// How outcomes are verified.
    pub verify: VerifySettings,
    /// How long an action request id is remembered, so a retry does nothing more.
    #[serde(with = "humantime_serde")]
    pub request_retention: Duration,
    /// Where evidence packets are also written as files. Unset: only in the state store.
    pub packet_dir: Option<PathBuf>,
}

impl Default for OpsSettings {
    fn default() -> Self {
        Self {
            kubeconfig: None,
            identity: "robot-sre".into(),
            actions: ActionKind::ALL.into_iter().collect(),
            namespaces: Vec::new(),
            opt_in_label: LabelSelector {
                key: "robot-sre.io/enabled".into(),
                value: "true".into(),
            },
            min_ready_replicas: 2,
            cooldown: Duration::from_secs(15 * 60),
            disruptive_cooldown: Duration::from_secs(60 * 60),
            max_executions_per_hour: 20,
            max_concurrent: 3,
            blast_radius: 3,
            blast_radius_window: Duration::from_secs(60 * 60),
            breaker_threshold: 3,
            gitops: GitOpsSettings::default(),
            scale: ScaleBounds { min: 1, max: 10 },
            cleanup_max_pods: 50,
            collect_timeout: Duration::from_secs(5),
            api_timeout: Duration::from_secs(10),
            conflict_retries: 3,
            verify: VerifySettings::default(),
            request_retention: Duration::from_secs(7 * 24 * 3600),
            packet_dir: None,
        }
    }
}

/// A label that must be present with this value.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LabelSelector {
    pub key: String,
    pub value: String,
}

/// GitOps ownership: a managed workload is reported, and by default not mutated, because the
/// GitOps controller would revert the change.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct GitOpsSettings {
    /// Mutate GitOps-managed workloads anyway.
    pub allow_mutation: bool,
    /// Label or annotation keys whose presence marks a workload as GitOps-managed.
    pub markers: Vec<String>,
}

impl Default for GitOpsSettings {
    fn default() -> Self {
        Self {
            allow_mutation: false,
            // Argo CD annotation tracking (its default since 3.0) and the instance label many
            // installations configure; Flux kustomize- and helm-controller ownership labels.
            // Sources: argo-cd.readthedocs.io "Resource Tracking"; fluxcd.io kustomize and helm
            // controller docs. Argo CD's older default, app.kubernetes.io/instance, is also set
            // by plain Helm, so it is not a marker unless added here.
            markers: vec![
                "argocd.argoproj.io/tracking-id".into(),
                "argocd.argoproj.io/instance".into(),
                "kustomize.toolkit.fluxcd.io/name".into(),
                "helm.toolkit.fluxcd.io/name".into(),
            ],
        }
    }
}

/// Inclusive replica bounds for the scale action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ScaleBounds {
    pub min: u32,
    pub max: u32,
}

/// Verification deadlines and polling.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct VerifySettings {
    /// Deadline for the outcome of an action (rollout complete, replacement Ready, …).
    #[serde(with = "humantime_serde")]
    pub deadline: Duration,
    /// After a rollout completes, restarts must not grow for this long.
    #[serde(with = "humantime_serde")]
    pub settle: Duration,
    /// First pause between two looks at live state; it doubles up to `poll_max`.
    #[serde(with = "humantime_serde")]
    pub poll_min: Duration,
    #[serde(with = "humantime_serde")]
    pub poll_max: Duration,
}

impl Default for VerifySettings {
    fn default() -> Self {
        Self {
            deadline: Duration::from_secs(5 * 60),
            settle: Duration::from_secs(30),
            poll_min: Duration::from_millis(250),
            poll_max: Duration::from_secs(5),
        }
    }
}

/// Problems types cannot express, as `(dotted key, problem)`.
pub(super) fn validate(ops: &OpsSettings) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    let mut check = |ok: bool, key: &str, problem: &str| {
        if !ok {
            problems.push((format!("ops.{key}"), problem.to_owned()));
        }
    };
    check(
        !ops.identity.trim().is_empty(),
        "identity",
        "must not be empty",
    );
    check(
        !ops.opt_in_label.key.is_empty(),
        "opt_in_label.key",
        "must not be empty",
    );
    check(
        ops.scale.min <= ops.scale.max,
        "scale",
        "min must not exceed max",
    );
    for (key, value) in [
        ("max_executions_per_hour", ops.max_executions_per_hour),
        ("max_concurrent", ops.max_concurrent),
        ("blast_radius", ops.blast_radius),
        ("cleanup_max_pods", ops.cleanup_max_pods),
    ] {
        check(value > 0, key, "must be at least 1");
    }
    check(
        ops.breaker_threshold > 0,
        "breaker_threshold",
        "must be at least 1",
    );
    for (key, value) in [
        ("collect_timeout", ops.collect_timeout),
        ("api_timeout", ops.api_timeout),
        ("blast_radius_window", ops.blast_radius_window),
        ("request_retention", ops.request_retention),
        ("verify.deadline", ops.verify.deadline),
        ("verify.poll_min", ops.verify.poll_min),
    ] {
        check(!value.is_zero(), key, "must be longer than zero");
    }
    check(
        ops.verify.poll_min <= ops.verify.poll_max,
        "verify.poll_max",
        "must be at least verify.poll_min",
    );
    problems
}
