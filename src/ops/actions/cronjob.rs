//! Suspend or resume a CronJob: set `spec.suspend`. Jobs already running are left alone. The
//! CronJob API version is discovered (`batch/v1`, or `batch/v1beta1` before Kubernetes 1.21).

use kube::ResourceExt;
use serde_json::json;

use super::{Change, Plan, wrong_target};
use crate::ops::mutation::{Mutation, Write};
use crate::ops::observe::{Live, Observation};
use crate::ops::summary;
use crate::ops::verify::{Predicate, Verification};

pub(super) fn plan(observed: &Observation, suspend: bool) -> Plan {
    let Live::CronJob { object, resource } = &observed.live else {
        return wrong_target(observed, "CronJob");
    };
    let name = object.name_any();
    let namespace = object.namespace().unwrap_or_default();
    let current = summary::suspended(object);
    let patch = json!({
        "metadata": { "resourceVersion": object.metadata.resource_version },
        "spec": { "suspend": suspend },
    });
    Plan {
        summary: format!(
            "{} CronJob {name} in {namespace}: {}",
            if suspend { "suspend" } else { "resume" },
            if suspend {
                "no new Jobs start; running Jobs finish"
            } else {
                "Jobs start again on schedule"
            }
        ),
        changes: vec![Change::new("suspend", current, suspend)],
        mutations: if current == suspend {
            Vec::new()
        } else {
            vec![Mutation {
                resource: resource.clone(),
                plural: resource.plural.clone(),
                namespace: Some(namespace.clone()),
                name: name.clone(),
                write: Write::MergePatch {
                    subresource: None,
                    patch,
                },
            }]
        },
        checks: Vec::new(),
        verification: Verification {
            predicates: vec![Predicate::CronJobSuspended {
                api_version: resource.api_version.clone(),
                namespace,
                name: name.clone(),
                expected: suspend,
            }],
            settle: None,
        },
        disruptive: false,
        fallback: format!(
            "{} {name} when the cause is fixed",
            if suspend { "resume" } else { "suspend" }
        ),
    }
}
