//! Rollout restart of a Deployment, as `kubectl rollout restart` does it: stamp the pod
//! template with `kubectl.kubernetes.io/restartedAt`, and the Deployment controller replaces
//! every pod with the usual rolling update.

use chrono::SecondsFormat;
use kube::ResourceExt;
use serde_json::json;

use super::{Change, Plan, deployment_patch, pods_of, wrong_target};
use crate::config::OpsSettings;
use crate::ops::guard::{Guard, GuardResult};
use crate::ops::observe::{Live, Observation};
use crate::ops::request::ActionRequest;
use crate::ops::summary::{self, RESTARTED_AT};
use crate::ops::verify::{Predicate, Verification};

pub(super) fn plan(request: &ActionRequest, observed: &Observation, _: &OpsSettings) -> Plan {
    let Live::Deployment { deployment, .. } = &observed.live else {
        return wrong_target(observed, "Deployment");
    };
    let name = deployment.name_any();
    let namespace = deployment.namespace().unwrap_or_default();
    // The stamp comes from the request, so a retry writes the same value and changes nothing.
    let stamp = request
        .requested_at
        .to_rfc3339_opts(SecondsFormat::Millis, true);
    let current = deployment
        .spec
        .as_ref()
        .and_then(|s| s.template.metadata.as_ref())
        .and_then(|m| m.annotations.as_ref())
        .and_then(|a| a.get(RESTARTED_AT))
        .cloned();
    let paused = deployment
        .spec
        .as_ref()
        .and_then(|s| s.paused)
        .unwrap_or(false);
    let checks = vec![if paused {
        GuardResult::refuse(
            Guard::NotPaused,
            format!("Deployment {name} is paused: a restart would not roll out until resumed"),
        )
    } else {
        GuardResult::pass(Guard::NotPaused, "the Deployment is not paused")
    }];
    let replicas = summary::desired(deployment);
    let patch = json!({ "spec": { "template": { "metadata": { "annotations": { RESTARTED_AT: stamp } } } } });
    Plan {
        summary: format!(
            "restart Deployment {name} in {namespace}: its {replicas} pod(s) are replaced one by one"
        ),
        changes: vec![Change::new("template restartedAt", &current, &stamp)],
        mutations: if current.as_deref() == Some(stamp.as_str()) {
            Vec::new()
        } else {
            vec![deployment_patch(deployment, None, patch)]
        },
        checks,
        verification: Verification {
            predicates: vec![
                Predicate::TemplateAnnotation {
                    namespace: namespace.clone(),
                    name: name.clone(),
                    key: RESTARTED_AT.into(),
                    value: stamp,
                },
                Predicate::RolloutComplete {
                    namespace,
                    name,
                    since: chrono::Utc::now(),
                },
            ],
            settle: pods_of(deployment),
        },
        disruptive: false,
        fallback: "a restart is its own rollback; if the new pods fail the same way, roll back \
                   to the previous revision or page the owner"
            .into(),
    }
}
