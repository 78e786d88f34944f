//! Verification: the named predicates of an action must all pass before an explicit deadline,
//! looked at with capped exponential backoff; then, for workloads, restarts must not grow during
//! a settle window. Command success alone is never reported as success.

pub mod predicates;

use std::collections::BTreeMap;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use k8s_openapi::api::core::v1::Pod;
use kube::api::ListParams;
use kube::{Api, ResourceExt};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::time::Instant;

pub use self::predicates::{Check, Predicate};
use super::cluster::Cluster;
use super::summary;
use crate::config::VerifySettings;

/// What proves an action worked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    pub predicates: Vec<Predicate>,
    /// Pods whose restart counts must not grow during the settle window.
    pub settle: Option<PodSet>,
}

/// Pods selected by a label selector in one namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodSet {
    pub namespace: String,
    pub selector: String,
}

/// PASS or FAIL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Outcome {
    Pass,
    Fail,
}

/// The verdict with its reasons and everything observed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub outcome: Outcome,
    pub reasons: Vec<String>,
    /// The last value each predicate saw, by predicate name.
    pub observed: BTreeMap<String, Value>,
    pub deadline_ms: u64,
    pub settle_ms: u64,
    pub took_ms: u64,
    pub looks: u32,
}

impl Verdict {
    pub fn passed(&self) -> bool {
        self.outcome == Outcome::Pass
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// Runs a verification to its verdict.
pub async fn verify(
    cluster: &Cluster,
    verification: &Verification,
    settings: &VerifySettings,
) -> Verdict {
    let started = Instant::now();
    let deadline = started + settings.deadline;
    let mut delays = ExponentialBuilder::default()
        .with_min_delay(settings.poll_min)
        .with_max_delay(settings.poll_max)
        .without_max_times()
        .build();
    let mut verdict = Verdict {
        outcome: Outcome::Fail,
        reasons: Vec::new(),
        observed: BTreeMap::new(),
        deadline_ms: millis(settings.deadline),
        settle_ms: millis(settings.settle),
        took_ms: 0,
        looks: 0,
    };
    loop {
        verdict.looks += 1;
        match look(cluster, verification, &mut verdict.observed).await {
            Look::Fail(reasons) => {
                verdict.reasons = reasons;
                break;
            }
            Look::Pass => {
                verdict.outcome = Outcome::Pass;
                break;
            }
            Look::Pending(pending) if Instant::now() >= deadline => {
                verdict.reasons = pending
                    .into_iter()
                    .map(|name| format!("{name} not reached within {:?}", settings.deadline))
                    .collect();
                break;
            }
            Look::Pending(_) => {}
        }
        let pause = delays.next().unwrap_or(settings.poll_max);
        tokio::time::sleep_until((Instant::now() + pause).min(deadline)).await;
    }
    if verdict.passed()
        && let Some(pods) = &verification.settle
    {
        settle(cluster, pods, settings, &mut verdict).await;
    }
    verdict.took_ms = millis(started.elapsed());
    verdict
}

enum Look {
    Pass,
    Pending(Vec<&'static str>),
    Fail(Vec<String>),
}

async fn look(
    cluster: &Cluster,
    verification: &Verification,
    observed: &mut BTreeMap<String, Value>,
) -> Look {
    let mut pending = Vec::new();
    let mut failed = Vec::new();
    for predicate in &verification.predicates {
        let name = predicate.name();
        match predicate.check(cluster).await {
            Ok(Check::Pass(value)) => {
                observed.insert(name.into(), value);
            }
            Ok(Check::Pending(value)) => {
                observed.insert(name.into(), value);
                pending.push(name);
            }
            Ok(Check::Fail {
                reason,
                observed: value,
            }) => {
                observed.insert(name.into(), value);
                failed.push(reason);
            }
            // A transient API error is another reason to look again; a permanent one ends it.
            Err(error) if error.is_transient() => {
                observed.insert(name.into(), json!({ "error": error.to_string() }));
                pending.push(name);
            }
            Err(error) => failed.push(format!("{name}: {error}")),
        }
    }
    if !failed.is_empty() {
        Look::Fail(failed)
    } else if pending.is_empty() {
        Look::Pass
    } else {
        Look::Pending(pending)
    }
}

/// Watches restart counts for the settle window; growth turns the verdict to FAIL.
async fn settle(
    cluster: &Cluster,
    pods: &PodSet,
    settings: &VerifySettings,
    verdict: &mut Verdict,
) {
    let end = Instant::now() + settings.settle;
    let Ok(baseline) = restarts(cluster, pods).await else {
        verdict.outcome = Outcome::Fail;
        verdict
            .reasons
            .push("could not read pod restarts to start the settle window".into());
        return;
    };
    verdict
        .observed
        .insert("no_new_restarts".into(), json!({ "baseline": baseline }));
    while Instant::now() < end {
        tokio::time::sleep_until((Instant::now() + settings.poll_max).min(end)).await;
        let Ok(now) = restarts(cluster, pods).await else {
            continue;
        };
        let grown: Vec<String> = now
            .iter()
            .filter_map(|(pod, count)| {
                let before = baseline.get(pod).copied().unwrap_or(0);
                (*count > before).then(|| format!("pod {pod} restarted {before} → {count}"))
            })
            .collect();
        verdict.observed.insert(
            "no_new_restarts".into(),
            json!({ "baseline": baseline, "now": now }),
        );
        if !grown.is_empty() {
            verdict.outcome = Outcome::Fail;
            verdict.reasons.push(format!(
                "restarts grew during the {:?} settle window: {}",
                settings.settle,
                grown.join(", ")
            ));
            return;
        }
    }
}

async fn restarts(
    cluster: &Cluster,
    pods: &PodSet,
) -> Result<BTreeMap<String, i32>, super::error::OpsError> {
    let api: Api<Pod> = Api::namespaced(cluster.client().clone(), &pods.namespace);
    let listed = cluster
        .call(
            "list pods",
            &pods.namespace,
            api.list(&ListParams::default().labels(&pods.selector)),
        )
        .await?;
    Ok(listed
        .items
        .iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .map(|p| (p.name_any(), summary::restarts(p)))
        .collect())
}
