//! Delete Succeeded and Failed pods in a namespace, oldest first, at most
//! `ops.cleanup_max_pods` per run. Running and pending pods are never touched: the list comes
//! from live phases, and each delete is conditional on the pod's uid.

use k8s_openapi::api::core::v1::Pod;
use kube::api::ApiResource;
use kube::{Resource, ResourceExt};

use super::{Change, Plan, wrong_target};
use crate::config::OpsSettings;
use crate::ops::mutation::{Mutation, Write};
use crate::ops::observe::{Live, Observation};
use crate::ops::summary;
use crate::ops::verify::{Predicate, Verification};

pub(super) fn plan(observed: &Observation, settings: &OpsSettings) -> Plan {
    let Live::Namespace { finished } = &observed.live else {
        return wrong_target(observed, "Namespace");
    };
    let namespace = observed.target.name().to_owned();
    let chosen: Vec<&Pod> = finished.iter().take(settings.cleanup_max_pods).collect();
    let count = |phase: &str| chosen.iter().filter(|p| summary::phase(p) == phase).count();
    let left = finished.len() - chosen.len();
    let pods: Vec<(String, String)> = chosen
        .iter()
        .map(|p| (p.name_any(), p.metadata.uid.clone().unwrap_or_default()))
        .collect();
    Plan {
        summary: format!(
            "delete {} finished pod(s) in {namespace} ({} Succeeded, {} Failed){}",
            chosen.len(),
            count("Succeeded"),
            count("Failed"),
            if left > 0 {
                format!("; {left} more wait for the next run")
            } else {
                String::new()
            }
        ),
        changes: vec![Change::new("finished pods", finished.len(), left)],
        mutations: pods
            .iter()
            .map(|(name, uid)| Mutation {
                resource: ApiResource::erase::<Pod>(&()),
                plural: Pod::plural(&()).into_owned(),
                namespace: Some(namespace.clone()),
                name: name.clone(),
                write: Write::Delete { uid: uid.clone() },
            })
            .collect(),
        checks: Vec::new(),
        verification: Verification {
            predicates: vec![Predicate::PodsGone {
                namespace: namespace.clone(),
                pods,
            }],
            settle: None,
        },
        disruptive: false,
        fallback: "nothing to undo: finished pods hold no running work (their logs go with them)"
            .into(),
    }
}
