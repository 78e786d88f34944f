//! Namespace evidence: how many pods have finished, and who keeps creating them.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::ListParams;
use serde::{Deserialize, Serialize};

use super::Collected;
use super::text::counted;
use crate::ops::cluster::Cluster;
use crate::ops::summary;

/// The owner key of pods without a controller (bare pods, static pods).
pub const NO_OWNER: &str = "(no owner)";

/// Pods in one namespace, counted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamespaceEvidence {
    pub namespace: String,
    pub total: usize,
    pub succeeded: Finished,
    pub failed: Finished,
}

/// Finished pods of one phase, and their owners (`Kind/name` → count).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finished {
    pub count: usize,
    pub by_owner: BTreeMap<String, usize>,
}

impl Finished {
    fn add(&mut self, pod: &Pod) {
        self.count += 1;
        let owner = summary::owner(&pod.metadata).unwrap_or_else(|| NO_OWNER.to_owned());
        *self.by_owner.entry(owner).or_default() += 1;
    }
}

/// Counts `pods` of `namespace` by phase and owner.
pub fn tally(namespace: &str, pods: &[Pod]) -> NamespaceEvidence {
    let mut evidence = NamespaceEvidence {
        namespace: namespace.to_owned(),
        total: pods.len(),
        succeeded: Finished::default(),
        failed: Finished::default(),
    };
    for pod in pods {
        match summary::phase(pod) {
            "Succeeded" => evidence.succeeded.add(pod),
            "Failed" => evidence.failed.add(pod),
            _ => {}
        }
    }
    evidence
}

/// Evidence for `namespace`: one list of its pods, counted.
pub async fn collect(cluster: &Cluster, namespace: &str) -> Collected<NamespaceEvidence> {
    let api: Api<Pod> = Api::namespaced(cluster.client().clone(), namespace);
    let params = ListParams::default();
    let listed = cluster
        .call("list pods", namespace, api.list(&params))
        .await;
    Collected::from(listed).map(|list| tally(namespace, &list.items))
}

impl NamespaceEvidence {
    /// `Namespace shop: 7 pods; 4 Succeeded (Job/nightly ×1, (no owner) ×3); 3 Failed (…)`.
    pub fn summary_line(&self) -> String {
        let phase = |label: &str, f: &Finished| {
            let owners: Vec<String> = f
                .by_owner
                .iter()
                .map(|(owner, count)| format!("{owner} ×{count}"))
                .collect();
            if owners.is_empty() {
                format!("{} {label}", f.count)
            } else {
                format!("{} {label} ({})", f.count, owners.join(", "))
            }
        };
        format!(
            "Namespace {}: {}; {}; {}",
            self.namespace,
            counted(self.total, "pod"),
            phase("Succeeded", &self.succeeded),
            phase("Failed", &self.failed)
        )
    }
}
