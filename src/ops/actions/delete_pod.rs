//! Delete one pod so its controller replaces it. Only pods with a controller qualify (the
//! ownership and min-ready guardrails see to that); the delete is conditional on the pod's uid,
//! so a same-named successor is never deleted by mistake.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::Pod;
use kube::api::ApiResource;
use kube::{Resource, ResourceExt};

use super::{Change, Plan, wrong_target};
use crate::ops::mutation::{Mutation, Write};
use crate::ops::observe::{Live, Observation};
use crate::ops::summary;
use crate::ops::verify::{PodSet, Predicate, Verification};

pub(super) fn plan(observed: &Observation) -> Plan {
    let Live::Pod {
        pod,
        controller,
        siblings,
    } = &observed.live
    else {
        return wrong_target(observed, "Pod");
    };
    let name = pod.name_any();
    let namespace = pod.namespace().unwrap_or_default();
    let uid = pod.metadata.uid.clone().unwrap_or_default();
    let owner = controller.as_ref().map_or("no controller".to_owned(), |o| {
        format!("{} {}", o.kind, o.name)
    });
    // The replacement is any pod of the same controller that did not exist when we looked.
    let known: BTreeSet<String> = siblings
        .iter()
        .chain(std::iter::once(pod.as_ref()))
        .filter_map(|p| p.metadata.uid.clone())
        .collect();
    let predicates = controller
        .iter()
        .map(|owner| Predicate::ReplacementReady {
            namespace: namespace.clone(),
            controller_uid: owner.uid.clone(),
            known: known.clone(),
        })
        .collect();
    Plan {
        summary: format!(
            "delete pod {name} in {namespace} ({}, {} restarts); {owner} starts a replacement",
            summary::container_reason(pod).unwrap_or_else(|| summary::phase(pod).to_owned()),
            summary::restarts(pod)
        ),
        changes: vec![Change::new("pod", &name, "replaced by a new pod")],
        mutations: vec![Mutation {
            resource: ApiResource::erase::<Pod>(&()),
            plural: Pod::plural(&()).into_owned(),
            namespace: Some(namespace.clone()),
            name,
            write: Write::Delete { uid },
        }],
        checks: Vec::new(),
        verification: Verification {
            predicates,
            settle: owner_pods(pod, &namespace),
        },
        disruptive: false,
        fallback: "if the replacement fails the same way, the fault is in the workload: restart \
                   or roll back the Deployment"
            .into(),
    }
}

/// The pods sharing the deleted pod's template, by its `pod-template-hash` label.
fn owner_pods(pod: &Pod, namespace: &str) -> Option<PodSet> {
    let hash = pod.labels().get("pod-template-hash")?;
    Some(PodSet {
        namespace: namespace.to_owned(),
        selector: format!("pod-template-hash={hash}"),
    })
}
