//! The seed scenarios of the demo: four incidents broken into the lab for real, the alerts
//! Prometheus would raise for them, and the end each one must reach.

use kube::{Client, ResourceExt};
use serde_json::{Value, json};

use crate::conversations::state::{State, StateName};
use crate::testkit::lab::{LabError, scenarios};

/// The namespaces the demo breaks things in (and where the bot may act).
pub const NAMESPACES: [&str; 4] = ["payments", "shop", "search", "batch"];

/// The node the disk-pressure scenario fills: an isolated node (tainted so that no other
/// workload lands there), so the evictions it causes touch no other scenario.
pub const PRESSURED_NODE: &str = "lab-isolated-1";

/// How a scenario must end for the demo to pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// The action ran and its verification said PASS.
    Pass,
    /// The bot refused to offer the action (a guardrail failed) and asked a human instead.
    Refused,
}

impl Expected {
    pub fn describe(self) -> &'static str {
        match self {
            Expected::Pass => "verified PASS",
            Expected::Refused => "refused by a guardrail",
        }
    }

    /// Whether `state` is this end; `None` while the conversation may still move.
    pub fn judge(self, state: &State) -> Option<bool> {
        let reason = match state {
            State::Resolved(closed)
            | State::Failed(closed)
            | State::Escalated(closed)
            | State::Rejected(closed)
            | State::Expired(closed) => &closed.reason,
            State::Suppressed { closed, .. } => &closed.reason,
            _ => return None,
        };
        Some(match self {
            Expected::Pass => {
                state.name() == StateName::Resolved && reason.starts_with("Verification PASS")
            }
            Expected::Refused => {
                state.name() == StateName::Escalated && reason.contains("cannot be offered")
            }
        })
    }
}

/// What each seed is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    StuckRollout,
    CrashLoopOfTwo,
    CrashLoopSingleton,
    DiskPressure,
}

/// One seed scenario.
#[derive(Debug, Clone)]
pub struct Seed {
    pub kind: Kind,
    /// `namespace/name`, or the node.
    pub target: String,
    pub expected: Expected,
    /// The alert, once the scenario is in place (the crash-looping pod's name is only known
    /// then).
    pub alert: Value,
}

impl Seed {
    /// A one-line description: "stuck rollout of payments/checkout".
    pub fn title(&self) -> String {
        let what = match self.kind {
            Kind::StuckRollout => "stuck rollout of",
            Kind::CrashLoopOfTwo => "crash loop in 1 of 2 pods of",
            Kind::CrashLoopSingleton => "crash loop in the only pod of",
            Kind::DiskPressure => "disk pressure and finished pods on",
        };
        format!("{what} {}", self.target)
    }

    /// Whether an incident with these alert labels is this scenario's.
    pub fn owns(&self, labels: &std::collections::BTreeMap<String, String>) -> bool {
        let Some(wanted) = self.alert["labels"].as_object() else {
            return false;
        };
        ["alertname", "namespace", "node", "deployment", "pod"]
            .iter()
            .all(|key| match wanted.get(*key).and_then(Value::as_str) {
                Some(value) => labels.get(*key).map(String::as_str) == Some(value),
                None => true,
            })
    }
}

/// Breaks every seed into the lab through `admin`, concurrently, and waits until the cluster
/// shows each incident.
///
/// # Errors
/// When a scenario cannot be created or does not show in time.
pub async fn create_all(admin: &Client) -> Result<Vec<Seed>, LabError> {
    for namespace in NAMESPACES {
        scenarios::create_namespace(admin, namespace).await?;
    }
    let (stuck, two, one, disk) = tokio::try_join!(
        stuck_rollout(admin),
        crash_loop_of_two(admin),
        crash_loop_singleton(admin),
        disk_pressure(admin),
    )?;
    Ok(vec![stuck, two, one, disk])
}

async fn stuck_rollout(admin: &Client) -> Result<Seed, LabError> {
    scenarios::stuck_rollout(admin, "payments", "checkout").await?;
    scenarios::opt_in(admin, "payments", "checkout").await?;
    Ok(Seed {
        kind: Kind::StuckRollout,
        target: "payments/checkout".into(),
        expected: Expected::Pass,
        alert: alert(
            json!({"alertname": "KubeDeploymentRolloutStuck", "namespace": "payments",
                   "deployment": "checkout", "severity": "critical"}),
            "checkout's rollout has not progressed for its deadline",
        ),
    })
}

async fn crash_loop_of_two(admin: &Client) -> Result<Seed, LabError> {
    scenarios::healthy_deployment(admin, "shop", "web", 2).await?;
    scenarios::opt_in(admin, "shop", "web").await?;
    let pod = scenarios::crash_one_pod(admin, "shop", "web").await?;
    Ok(crash_seed(
        Kind::CrashLoopOfTwo,
        "shop",
        "web",
        &pod.name_any(),
        Expected::Pass,
    ))
}

async fn crash_loop_singleton(admin: &Client) -> Result<Seed, LabError> {
    let pods = scenarios::crashloop(admin, "search", "indexer", 1).await?;
    scenarios::opt_in(admin, "search", "indexer").await?;
    let pod = pods.first().map(ResourceExt::name_any).unwrap_or_default();
    Ok(crash_seed(
        Kind::CrashLoopSingleton,
        "search",
        "indexer",
        &pod,
        Expected::Refused,
    ))
}

fn crash_seed(kind: Kind, namespace: &str, name: &str, pod: &str, expected: Expected) -> Seed {
    Seed {
        kind,
        target: format!("{namespace}/{name}"),
        expected,
        alert: alert(
            json!({"alertname": "KubePodCrashLooping", "namespace": namespace, "pod": pod,
                   "reason": "CrashLoopBackOff", "severity": "warning"}),
            &format!("{pod} is restarting repeatedly"),
        ),
    }
}

async fn disk_pressure(admin: &Client) -> Result<Seed, LabError> {
    scenarios::disk_pressure(admin, "batch", PRESSURED_NODE, 3, 2).await?;
    Ok(Seed {
        kind: Kind::DiskPressure,
        target: PRESSURED_NODE.into(),
        expected: Expected::Pass,
        // The alert names the namespace whose finished pods fill the node, as a rule joining
        // kube_node_status_condition with kube_pod_status_phase would.
        alert: alert(
            json!({"alertname": "KubeNodeDiskPressure", "node": PRESSURED_NODE,
                   "namespace": "batch", "condition": "DiskPressure", "severity": "warning"}),
            &format!("{PRESSURED_NODE} is short of disk"),
        ),
    })
}

fn alert(mut labels: Value, summary: &str) -> Value {
    labels["cluster"] = json!("lab");
    json!({"labels": labels, "annotations": {"summary": summary}})
}
