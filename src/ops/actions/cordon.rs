//! Cordon or uncordon a node: set `spec.unschedulable`. Running pods stay; only new pods are
//! kept off (cordon) or let back on (uncordon).

use k8s_openapi::api::core::v1::Node;
use kube::api::ApiResource;
use kube::{Resource, ResourceExt};
use serde_json::json;

use super::{Change, Plan, wrong_target};
use crate::ops::mutation::{Mutation, Write};
use crate::ops::observe::{Live, Observation};
use crate::ops::summary;
use crate::ops::verify::{Predicate, Verification};

pub(super) fn plan(observed: &Observation, cordon: bool) -> Plan {
    let Live::Node { node } = &observed.live else {
        return wrong_target(observed, "Node");
    };
    let name = node.name_any();
    let current = summary::unschedulable(node);
    // No resourceVersion here: the kubelet updates node status every few seconds, and the one
    // field written is absolute, so a conflict would only ever be retried to the same result.
    let patch = json!({ "spec": { "unschedulable": cordon } });
    Plan {
        summary: if cordon {
            format!("cordon node {name}: no new pods are scheduled on it; running pods stay")
        } else {
            format!("uncordon node {name}: new pods may be scheduled on it again")
        },
        changes: vec![Change::new("unschedulable", current, cordon)],
        mutations: if current == cordon {
            Vec::new()
        } else {
            vec![Mutation {
                resource: ApiResource::erase::<Node>(&()),
                plural: Node::plural(&()).into_owned(),
                namespace: None,
                name: name.clone(),
                write: Write::MergePatch {
                    subresource: None,
                    patch,
                },
            }]
        },
        checks: Vec::new(),
        verification: Verification {
            predicates: vec![Predicate::NodeUnschedulable {
                node: name.clone(),
                expected: cordon,
            }],
            settle: None,
        },
        disruptive: false,
        fallback: if cordon {
            format!("uncordon {name} once it is healthy")
        } else {
            format!("cordon {name} again")
        },
    }
}
