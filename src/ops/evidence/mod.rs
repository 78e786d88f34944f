//! Evidence: the observe class of actions. Always allowed, read-only, run as the bot's own
//! least-privilege identity, and never failing: every part that makes its own API call runs
//! under `collect_timeout` and degrades to [`Collected::Unknown`] with the reason (forbidden,
//! not found, timed out, …), so one slow or forbidden read never hides the rest.
//!
//! - [`workload`]: a Deployment (rollout, ReplicaSet history, pods, events, autoscaler) and a
//!   single pod with its owner chain;
//! - [`node`]: a node and what the bot may see on it;
//! - [`namespace`]: finished pods and their owners;
//! - [`events`]: the Events about a set of objects, newest first;
//! - [`text`]: the few lines a human reads on a phone.

pub mod events;
pub mod namespace;
pub mod node;
pub mod text;
pub mod workload;

#[cfg(test)]
mod tests;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize, Serializer};

pub use self::events::EventEntry;
pub use self::namespace::{Finished, NamespaceEvidence};
pub use self::node::{NamespaceOnNode, NodeEvidence};
pub use self::workload::{Autoscaler, PodEntry, PodEvidence, WorkloadEvidence};
use super::cluster::Cluster;
use super::error::OpsError;
use crate::config::OpsSettings;
use crate::domain::{Namespace, ResourceName};
use crate::incidents::model::{ResourceScope, WorkloadRef};

/// A part of the evidence: what was read, or why it could not be.
///
/// Serialised as the value itself when known, and as `{"unknown": "<reason>"}` when not, so a
/// reader of the JSON never mistakes a missing read for an empty one.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "Repr<T>", bound(deserialize = "T: Deserialize<'de>"))]
pub enum Collected<T> {
    Known(T),
    Unknown { reason: String },
}

impl<T> Collected<T> {
    pub fn unknown(reason: impl Into<String>) -> Self {
        Collected::Unknown {
            reason: reason.into(),
        }
    }

    pub fn known(&self) -> Option<&T> {
        match self {
            Collected::Known(value) => Some(value),
            Collected::Unknown { .. } => None,
        }
    }

    pub fn reason(&self) -> Option<&str> {
        match self {
            Collected::Known(_) => None,
            Collected::Unknown { reason } => Some(reason),
        }
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Collected<U> {
        match self {
            Collected::Known(value) => Collected::Known(f(value)),
            Collected::Unknown { reason } => Collected::Unknown { reason },
        }
    }
}

impl<T> From<Result<T, OpsError>> for Collected<T> {
    fn from(result: Result<T, OpsError>) -> Self {
        match result {
            Ok(value) => Collected::Known(value),
            Err(error) => Collected::unknown(unknown_reason(&error)),
        }
    }
}

/// Why a read is unknown, in words that start with the class of failure (`forbidden:`,
/// `not found:`, `timed out:`, `unavailable:`), because that is what the human acts on.
pub fn unknown_reason(error: &OpsError) -> String {
    match error {
        OpsError::Forbidden {
            operation,
            object,
            message,
        } => format!("forbidden: {operation} on {object} ({message})"),
        OpsError::NotFound { object } => format!("not found: {object}"),
        OpsError::Timeout {
            operation,
            object,
            timeout,
        } => format!("timed out: {operation} on {object} took longer than {timeout:?}"),
        OpsError::Unavailable { source, .. } => format!("unavailable: {error} ({source})"),
        OpsError::Rejected { .. } => format!("rejected: {error}"),
        other => other.to_string(),
    }
}

impl<T: Serialize> Serialize for Collected<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Collected::Known(value) => value.serialize(serializer),
            Collected::Unknown { reason } => Unknown {
                unknown: reason.clone(),
            }
            .serialize(serializer),
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Unknown {
    unknown: String,
}

/// The wire form: `{"unknown": …}` is tried first, so a known value is anything else.
#[derive(Deserialize)]
#[serde(untagged)]
enum Repr<T> {
    Unknown(Unknown),
    Known(T),
}

impl<T> From<Repr<T>> for Collected<T> {
    fn from(repr: Repr<T>) -> Self {
        match repr {
            Repr::Unknown(Unknown { unknown }) => Collected::Unknown { reason: unknown },
            Repr::Known(value) => Collected::Known(value),
        }
    }
}

/// What to collect evidence about.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    pub namespace: Option<Namespace>,
    /// The workload; only `Deployment` is collected, other kinds are reported as unknown.
    pub workload: Option<WorkloadRef>,
    /// A pod; without `workload`, its Deployment is found through its owner chain.
    pub pod: Option<ResourceName>,
    pub node: Option<ResourceName>,
    /// Count the namespace's finished pods and their owners.
    pub finished_pods: bool,
}

impl From<&ResourceScope> for Scope {
    /// The alert's scope. Namespace-wide counts are collected when the alert names a namespace
    /// but no workload or pod (job build-up, disk pressure): with a workload they would only
    /// add noise to the summary.
    fn from(scope: &ResourceScope) -> Self {
        Self {
            namespace: scope.namespace.clone(),
            workload: scope.workload.clone(),
            pod: scope.pod.clone(),
            node: scope.node.clone(),
            finished_pods: scope.namespace.is_some()
                && scope.workload.is_none()
                && scope.pod.is_none(),
        }
    }
}

/// The evidence about one incident's scope; a part is `None` when the scope did not ask for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// What was asked for.
    pub scope: Scope,
    pub collected_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload: Option<Collected<WorkloadEvidence>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod: Option<Collected<PodEvidence>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<NodeEvidence>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<Collected<NamespaceEvidence>>,
}

impl Evidence {
    /// The short text summary for the incident and the approval prompt; see [`text::render`].
    pub fn summary(&self) -> String {
        text::render(self)
    }
}

/// Collects the evidence `scope` asks for, the parts concurrently.
///
/// # Guarantees
/// Read-only; never fails: each API call runs under `settings.collect_timeout` and a part that
/// cannot be read is [`Collected::Unknown`] with the reason. It reads only through `cluster`,
/// the bot's own identity, so it sees exactly what the bot's RBAC grants.
pub async fn collect(cluster: &Cluster, settings: &OpsSettings, scope: &Scope) -> Evidence {
    let cluster = cluster.with_timeout(settings.collect_timeout);
    let namespace = scope.namespace.as_ref();
    let named_workload = async {
        let workload = scope.workload.as_ref()?;
        Some(workload::named(&cluster, namespace, workload).await)
    };
    let pod = async {
        let pod = scope.pod.as_ref()?;
        Some(workload::pod(&cluster, namespace, pod, scope.workload.is_none()).await)
    };
    let node = async {
        let node = scope.node.as_ref()?;
        Some(node::collect(&cluster, &settings.namespaces, node.as_str()).await)
    };
    let finished = async {
        if !scope.finished_pods {
            return None;
        }
        Some(match namespace {
            Some(namespace) => namespace::collect(&cluster, namespace.as_str()).await,
            None => Collected::unknown("the scope names no namespace"),
        })
    };
    let (named_workload, pod, node, finished) = futures::join!(named_workload, pod, node, finished);
    let (pod, owning_workload) = match pod {
        Some((pod, owning)) => (Some(pod), owning),
        None => (None, None),
    };
    Evidence {
        scope: scope.clone(),
        collected_at: Utc::now(),
        workload: named_workload.or(owning_workload),
        pod,
        node,
        namespace: finished,
    }
}
