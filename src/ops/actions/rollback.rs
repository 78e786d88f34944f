//! Roll a Deployment back to its previous revision, as `kubectl rollout undo` does: find the
//! ReplicaSet with the highest revision below the current one and put its pod template (without
//! the `pod-template-hash` label) back on the Deployment.
//! Source: kubectl `pkg/polymorphichelpers/rollback.go` (DeploymentRollbacker).

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use kube::api::{DynamicObject, TypeMeta};
use kube::{Resource, ResourceExt};

use super::{Change, Plan, pods_of, wrong_target};
use crate::config::OpsSettings;
use crate::ops::guard::{Guard, GuardResult};
use crate::ops::mutation::{Mutation, Write};
use crate::ops::observe::{Live, Observation};
use crate::ops::summary::{self, revision};
use crate::ops::verify::{Predicate, Verification};

/// The label the Deployment controller adds to each ReplicaSet's template.
const POD_TEMPLATE_HASH: &str = "pod-template-hash";

pub(super) fn plan(observed: &Observation, _: &OpsSettings) -> Plan {
    let Live::Deployment {
        deployment,
        replica_sets,
        ..
    } = &observed.live
    else {
        return wrong_target(observed, "Deployment");
    };
    let name = deployment.name_any();
    let current = revision(&deployment.metadata);
    let Some(previous) = previous_revision(replica_sets, current) else {
        return Plan::refused(
            format!("roll back Deployment {name}"),
            GuardResult::refuse(
                Guard::PreviousRevision,
                format!(
                    "Deployment {name} has no revision before {} to roll back to",
                    current.map_or("its current one".into(), |r| r.to_string())
                ),
            ),
        );
    };
    if deployment
        .spec
        .as_ref()
        .and_then(|s| s.paused)
        .unwrap_or(false)
    {
        return Plan::refused(
            format!("roll back Deployment {name}"),
            GuardResult::refuse(
                Guard::NotPaused,
                format!(
                    "Deployment {name} is paused; kubectl refuses to roll back a paused Deployment too"
                ),
            ),
        );
    }
    let to = revision(&previous.metadata);
    let from_images = summary::images(deployment.spec.as_ref().map(|s| &s.template));
    let mut template = previous
        .spec
        .as_ref()
        .and_then(|s| s.template.clone())
        .unwrap_or_default();
    if let Some(labels) = template.metadata.as_mut().and_then(|m| m.labels.as_mut()) {
        labels.remove(POD_TEMPLATE_HASH);
    }
    let to_images = summary::images(Some(&template));
    let unchanged = deployment.spec.as_ref().map(|s| &s.template) == Some(&template);
    let namespace = deployment.namespace().unwrap_or_default();
    let current_set = replica_sets
        .iter()
        .find(|rs| revision(&rs.metadata) == current)
        .map(ResourceExt::name_any);
    let mut predicates = vec![
        Predicate::TemplateImages {
            namespace: namespace.clone(),
            name: name.clone(),
            images: to_images.clone(),
        },
        Predicate::RolloutComplete {
            namespace: namespace.clone(),
            name: name.clone(),
            since: chrono::Utc::now(),
        },
    ];
    if let Some(set) = &current_set {
        predicates.push(Predicate::ReplicaSetScaledDown {
            namespace: namespace.clone(),
            name: set.clone(),
        });
    }
    Plan {
        summary: format!(
            "roll back Deployment {name} in {namespace} from revision {} to {} ({} → {})",
            show(current),
            show(to),
            from_images.join(", "),
            to_images.join(", ")
        ),
        changes: vec![
            Change::new("revision", current, to),
            Change::new("images", &from_images, &to_images),
        ],
        mutations: if unchanged {
            Vec::new()
        } else {
            vec![replace_template(deployment, template)]
        },
        checks: vec![GuardResult::pass(
            Guard::PreviousRevision,
            format!(
                "revision {} (ReplicaSet {}) is available",
                show(to),
                previous.name_any()
            ),
        )],
        verification: Verification {
            predicates,
            settle: pods_of(deployment),
        },
        disruptive: false,
        fallback: format!(
            "roll forward again once the problem of revision {} is fixed",
            show(current)
        ),
    }
}

fn show(revision: Option<i64>) -> String {
    revision.map_or("?".into(), |r| r.to_string())
}

/// The ReplicaSet with the highest revision below `current`.
fn previous_revision(sets: &[ReplicaSet], current: Option<i64>) -> Option<&ReplicaSet> {
    let current = current?;
    sets.iter()
        .filter(|rs| revision(&rs.metadata).is_some_and(|r| r < current))
        .max_by_key(|rs| revision(&rs.metadata))
}

/// The Deployment with its template replaced, sent as an update conditional on the
/// resourceVersion it was read at.
fn replace_template(
    deployment: &Deployment,
    template: k8s_openapi::api::core::v1::PodTemplateSpec,
) -> Mutation {
    let mut updated = deployment.clone();
    if let Some(spec) = updated.spec.as_mut() {
        spec.template = template;
    }
    let mut metadata = updated.metadata;
    metadata.managed_fields = None;
    // The read resourceVersion stays in the metadata: the update is refused with 409 if the
    // Deployment changed since it was read.
    let object = DynamicObject {
        types: Some(TypeMeta {
            api_version: "apps/v1".into(),
            kind: "Deployment".into(),
        }),
        metadata,
        data: serde_json::json!({ "spec": updated.spec }),
    };
    Mutation {
        resource: kube::api::ApiResource::erase::<Deployment>(&()),
        plural: Deployment::plural(&()).into_owned(),
        namespace: deployment.namespace(),
        name: deployment.name_any(),
        write: Write::Replace {
            object: Box::new(object),
        },
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    use super::*;

    fn set(name: &str, revision: i64) -> ReplicaSet {
        ReplicaSet {
            metadata: ObjectMeta {
                name: Some(name.into()),
                annotations: Some([(summary::REVISION.to_owned(), revision.to_string())].into()),
                ..ObjectMeta::default()
            },
            ..ReplicaSet::default()
        }
    }

    #[test]
    fn the_previous_revision_is_the_highest_below_the_current() {
        let sets = [set("a", 1), set("c", 3), set("b", 2), set("d", 4)];
        assert_eq!(
            previous_revision(&sets, Some(3)).map(|rs| rs.name_any()),
            Some("b".into())
        );
        assert!(previous_revision(&sets, Some(1)).is_none());
        assert!(previous_revision(&sets, None).is_none());
    }
}
