//! The text summary: what a human reads first, and unknown parts said with their reason.

use std::collections::BTreeMap;

use super::*;
use crate::domain::Namespace;
use crate::ops::evidence::events::EventEntry;
use crate::ops::evidence::namespace::tally;
use crate::ops::evidence::node::{NamespaceOnNode, NodeEvidence, not_looked_at};
use crate::ops::evidence::tests::{forbidden, pod};
use crate::ops::evidence::workload::{Autoscaler, PodEntry, PodEvidence, WorkloadEvidence};
use crate::ops::state::{Condition, NodeState, PodState, ReplicaSetState, Rollout};

fn entry(name: &str, ready: bool, restarts: i32, reason: Option<&str>) -> PodEntry {
    PodEntry {
        pod: PodState {
            name: name.into(),
            uid: None,
            phase: if ready { "Running" } else { "Pending" }.into(),
            ready,
            restarts,
            reason: reason.map(Into::into),
            node: Some("lab-node-1".into()),
            created: None,
        },
        age_seconds: Some(300),
    }
}

fn stuck_checkout() -> WorkloadEvidence {
    let rs = |name: &str, revision, image: &str| ReplicaSetState {
        name: name.into(),
        revision: Some(revision),
        images: vec![image.into()],
        replicas: 1,
        ready: 1,
    };
    WorkloadEvidence {
        namespace: "shop".into(),
        name: "checkout".into(),
        owner_chain: vec!["Deployment/checkout".into()],
        revision: Some(2),
        images: vec!["registry.example/checkout:fault-image-pull".into()],
        paused: false,
        selector: Some("app=checkout".into()),
        rollout: Rollout {
            desired: 2,
            replicas: 3,
            updated: 1,
            ready: 1,
            available: 1,
            ..Rollout::default()
        },
        conditions: vec![Condition {
            kind: "Progressing".into(),
            status: "False".into(),
            reason: Some("ProgressDeadlineExceeded".into()),
            message: None,
        }],
        replica_sets: Collected::Known(vec![
            rs(
                "checkout-2",
                2,
                "registry.example/checkout:fault-image-pull",
            ),
            rs("checkout-1", 1, "registry.example/checkout:1"),
        ]),
        pods: Collected::Known(vec![
            entry("checkout-1-a", true, 0, None),
            entry("checkout-2-x", false, 0, Some("ImagePullBackOff")),
        ]),
        events: Collected::Known(vec![EventEntry {
            object: "Pod/checkout-2-x".into(),
            reason: "Failed".into(),
            kind: "Warning".into(),
            message: "Error: ImagePullBackOff".into(),
            count: 3,
            last: None,
        }]),
        autoscaler: Collected::Known(Some(Autoscaler {
            name: "checkout".into(),
            min: 2,
            max: 5,
            current: 2,
            desired: 2,
        })),
    }
}

fn evidence() -> Evidence {
    Evidence {
        scope: Scope::default(),
        collected_at: chrono::Utc::now(),
        workload: None,
        pod: None,
        node: None,
        namespace: None,
    }
}

#[test]
fn the_summary_of_a_stuck_rollout_names_the_deadline_revisions_pod_and_events() {
    let text = render(&Evidence {
        workload: Some(Collected::Known(stuck_checkout())),
        ..evidence()
    });
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [
            "Deployment checkout: 1/2 ready, rollout ProgressDeadlineExceeded; revision 2 (registry.example/checkout:fault-image-pull) after 1 (registry.example/checkout:1); HPA checkout 2–5, at 2 (wants 2)",
            "pod checkout-2-x ImagePullBackOff, 0 restarts; 1 ready",
            "last events: Failed ×3 (Error: ImagePullBackOff)",
        ]
    );
}

#[test]
fn the_summary_says_which_parts_are_unknown_and_why() {
    let mut checkout = stuck_checkout();
    checkout.pods = Err(forbidden()).into();
    let pod = PodEvidence {
        namespace: "shop".into(),
        pod: entry("checkout-2-x", false, 4, Some("CrashLoopBackOff")),
        owner_chain: vec![
            "Pod/checkout-2-x".into(),
            "ReplicaSet/checkout-2".into(),
            "Deployment/checkout".into(),
        ],
        events: Collected::unknown("timed out: list events on shop took longer than 5s"),
    };
    let node = NodeEvidence {
        name: "n1".into(),
        node: Err(forbidden()).into(),
        events: Collected::Known(Vec::new()),
        namespaces: BTreeMap::from([(
            "shop".into(),
            NamespaceOnNode {
                pods: Collected::Known(vec![entry("a", true, 0, None)]),
                evictions: Collected::Known(Vec::new()),
            },
        )]),
        not_looked_at: not_looked_at(&[Namespace::parse("shop").unwrap()]),
    };
    let text = render(&Evidence {
        workload: Some(Collected::Known(checkout)),
        pod: Some(Collected::Known(pod)),
        node: Some(node),
        namespace: Some(Collected::unknown("not found: namespace gone")),
        scope: Scope {
            namespace: Some(Namespace::parse("gone").unwrap()),
            ..Scope::default()
        },
        ..evidence()
    });
    for expected in [
        "pods unknown (forbidden: get on Node/n1",
        "Pod checkout-2-x CrashLoopBackOff, 4 restarts, not ready, on lab-node-1, age 5m; Pod/checkout-2-x → ReplicaSet/checkout-2 → Deployment/checkout",
        "Node n1: unknown (forbidden: ",
        "in shop: 1 pod (0 not ready), 0 evictions; namespaces other than shop were not looked at",
        "node events: none",
        "Namespace gone: unknown (not found: namespace gone)",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }
    assert!(
        !text.contains("pod events"),
        "the workload's events cover the pod:\n{text}"
    );
}

#[test]
fn the_summary_of_a_crash_loop_puts_warnings_first_and_says_the_rollout_is_unavailable() {
    let mut api = stuck_checkout();
    api.conditions.clear();
    api.rollout = Rollout {
        desired: 2,
        replicas: 2,
        updated: 2,
        ..Rollout::default()
    };
    api.replica_sets = Collected::Known(Vec::new());
    api.autoscaler = Collected::Known(None);
    api.pods = Collected::Known(vec![
        entry("api-1", false, 1, Some("CrashLoopBackOff")),
        entry("api-2", false, 3, Some("CrashLoopBackOff")),
    ]);
    let event = |reason: &str, kind: &str, count| EventEntry {
        object: "Pod/api-1".into(),
        reason: reason.into(),
        kind: kind.into(),
        message: "m".into(),
        count,
        last: None,
    };
    api.events = Collected::Known(vec![
        event("Pulled", "Normal", 2),
        event("BackOff", "Warning", 2),
        event("BackOff", "Warning", 1),
    ]);
    let text = render(&Evidence {
        workload: Some(Collected::Known(api)),
        ..evidence()
    });
    assert_eq!(
        text,
        "Deployment checkout: 0/2 ready, rollout updated but 2 unavailable\n\
         pod api-2 CrashLoopBackOff, 3 restarts; pod api-1 CrashLoopBackOff, 1 restart\n\
         last events: BackOff ×3 (m); Pulled ×2 (m)"
    );
}

#[test]
fn the_summary_of_a_node_names_abnormal_conditions_and_taints() {
    let condition = |kind: &str, status: &str, reason: &str| Condition {
        kind: kind.into(),
        status: status.into(),
        reason: Some(reason.into()),
        message: None,
    };
    let state = NodeState {
        name: "n1".into(),
        unschedulable: false,
        taints: vec!["node.kubernetes.io/disk-pressure:NoSchedule".into()],
        conditions: vec![
            condition("MemoryPressure", "False", "KubeletHasSufficientMemory"),
            condition("DiskPressure", "True", "KubeletHasDiskPressure"),
            condition("Ready", "True", "KubeletReady"),
        ],
        capacity: BTreeMap::new(),
        allocatable: BTreeMap::new(),
    };
    let node = NodeEvidence {
        name: "n1".into(),
        node: Collected::Known(state),
        events: Collected::Known(Vec::new()),
        namespaces: BTreeMap::new(),
        not_looked_at: not_looked_at(&[]),
    };
    let text = render(&Evidence {
        node: Some(node),
        ..evidence()
    });
    assert!(
        text.starts_with("Node n1: DiskPressure=True (KubeletHasDiskPressure); Ready=True (KubeletReady); taints node.kubernetes.io/disk-pressure:NoSchedule; schedulable\n"),
        "{text}"
    );
    assert!(!text.contains("MemoryPressure"), "{text}");
}

#[test]
fn the_summary_of_a_namespace_counts_finished_pods_by_owner() {
    let counted = tally(
        "shop",
        &[
            pod("a", "Succeeded", Some(("Job", "nightly"))),
            pod("d", "Failed", None),
        ],
    );
    let text = render(&Evidence {
        namespace: Some(Collected::Known(counted)),
        ..evidence()
    });
    assert_eq!(
        text,
        "Namespace shop: 2 pods; 1 Succeeded (Job/nightly ×1); 1 Failed ((no owner) ×1)"
    );
}

#[test]
fn ages_read_like_kubectl() {
    assert_eq!(
        [
            age_text(-3),
            age_text(45),
            age_text(600),
            age_text(10_800),
            age_text(200_000)
        ],
        ["0s", "45s", "10m", "3h", "2d"]
    );
}
