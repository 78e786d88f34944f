//! Scale a Deployment to a replica count within the configured bounds, through the `scale`
//! subresource (the narrowest permission). The previous count is recorded: it is the rollback.

use kube::ResourceExt;
use serde_json::json;

use super::{Change, Plan, deployment_patch, pods_of, wrong_target};
use crate::config::OpsSettings;
use crate::ops::guard::{Guard, GuardResult};
use crate::ops::observe::{Live, Observation};
use crate::ops::request::ActionRequest;
use crate::ops::summary;
use crate::ops::verify::{Predicate, Verification};

pub(super) fn plan(
    request: &ActionRequest,
    observed: &Observation,
    settings: &OpsSettings,
) -> Plan {
    let Live::Deployment {
        deployment,
        autoscaler,
        ..
    } = &observed.live
    else {
        return wrong_target(observed, "Deployment");
    };
    let name = deployment.name_any();
    let namespace = deployment.namespace().unwrap_or_default();
    let from = summary::desired(deployment);
    let to = request.action.replicas.unwrap_or(0);
    let bounds = settings.scale;
    let checks = vec![
        if (bounds.min..=bounds.max).contains(&to) {
            GuardResult::pass(
                Guard::ScaleBounds,
                format!("{to} is within {}..={}", bounds.min, bounds.max),
            )
        } else {
            GuardResult::refuse(
                Guard::ScaleBounds,
                format!(
                    "{to} replicas is outside the allowed {}..={} (ops.scale)",
                    bounds.min, bounds.max
                ),
            )
        },
        match autoscaler {
            Some(hpa) => GuardResult::refuse(
                Guard::Autoscaler,
                format!(
                    "HorizontalPodAutoscaler {hpa} scales {name} and would undo a manual scale; \
                     change the autoscaler instead"
                ),
            ),
            None => GuardResult::pass(Guard::Autoscaler, "no HorizontalPodAutoscaler targets it"),
        },
    ];
    let patch = json!({ "spec": { "replicas": to } });
    Plan {
        summary: format!("scale Deployment {name} in {namespace} from {from} to {to} replicas"),
        changes: vec![Change::new("replicas", from, to)],
        mutations: if i64::from(from) == i64::from(to) {
            Vec::new()
        } else {
            vec![deployment_patch(deployment, Some("scale"), patch)]
        },
        checks,
        verification: Verification {
            predicates: vec![Predicate::RolloutComplete {
                namespace,
                name: name.clone(),
                since: chrono::Utc::now(),
            }],
            settle: pods_of(deployment),
        },
        disruptive: to == 0,
        fallback: format!("scale {name} back to {from} replicas"),
    }
}
