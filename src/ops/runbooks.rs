//! RemediationRunbook custom resources: found by discovery, listed through the bot's client,
//! and handed to policy to validate. Policy never calls the API; this is the one place that
//! reads runbooks from the cluster.

use kube::api::{DynamicObject, ListParams, TypeMeta};
use kube::error::DiscoveryError;

use super::cluster::Cluster;
use super::error::OpsError;
use crate::policy::runbook::{self, API_VERSION, KIND, RunbookSet};
use crate::policy::{LoadError, Taxonomy};

/// The API group of the custom resource.
pub const GROUP: &str = "robot-sre.io";

/// The runbooks kept in the cluster, validated; `None` when the cluster does not serve the
/// RemediationRunbook kind (the CRD is not installed).
///
/// # Errors
/// When discovery or the list call fails (RBAC, timeouts). One invalid resource is not an
/// error: it is rejected in the returned set, named `RemediationRunbook <namespace>/<name>`.
///
/// # Idempotency
/// Read-only.
pub async fn cluster_runbooks(
    cluster: &Cluster,
    taxonomy: &Taxonomy,
) -> Result<Option<RunbookSet>, OpsError> {
    let client = cluster.client().clone();
    let discovered = cluster
        .call("discover", "API group robot-sre.io", async move {
            match kube::discovery::group(&client, GROUP).await {
                Ok(group) => Ok(Some(group)),
                Err(kube::Error::Discovery(DiscoveryError::MissingApiGroup(_))) => Ok(None),
                Err(error) => Err(error),
            }
        })
        .await?;
    let Some(group) = discovered else {
        return Ok(None);
    };
    let Some((resource, _)) = group.recommended_kind(KIND) else {
        return Ok(None);
    };
    let api = cluster.dynamic(&resource, None);
    let list = cluster
        .call(
            "list",
            "RemediationRunbooks",
            api.list(&ListParams::default()),
        )
        .await?;
    let mut set = RunbookSet::default();
    for object in list.items {
        set.extend(parse(object, taxonomy));
    }
    Ok(Some(set))
}

/// One resource as a runbook (or its rejection). Only the type, name and spec are read: the
/// rest of the metadata (managed fields, annotations) is the API server's, not the owner's.
pub fn parse(object: DynamicObject, taxonomy: &Taxonomy) -> RunbookSet {
    let namespace = object.metadata.namespace.as_deref().unwrap_or("-");
    let name = object.metadata.name.clone().unwrap_or_default();
    let origin = format!("RemediationRunbook {namespace}/{name}");
    // List items may come without their type; the document needs it to validate.
    let types = object.types.clone().unwrap_or_else(|| TypeMeta {
        api_version: API_VERSION.into(),
        kind: KIND.into(),
    });
    let document = serde_json::json!({
        "apiVersion": types.api_version,
        "kind": types.kind,
        "metadata": { "name": name },
        "spec": object.data.get("spec").cloned().unwrap_or(serde_json::Value::Null),
    });
    let parsed = serde_json::from_value::<serde_yaml::Value>(document)
        .map_err(|error| vec![LoadError::new(origin.clone(), "", error.to_string())])
        .and_then(|value| runbook::parse_value(value, &origin, taxonomy));
    match parsed {
        Ok(runbook) => RunbookSet {
            runbooks: vec![runbook],
            rejected: Vec::new(),
        },
        Err(rejected) => RunbookSet {
            runbooks: Vec::new(),
            rejected,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(spec: serde_json::Value) -> DynamicObject {
        serde_json::from_value(serde_json::json!({
            "metadata": {
                "name": "rollback",
                "namespace": "payments",
                "annotations": { "token": "the API server's, not the owner's" },
            },
            "spec": spec,
        }))
        .unwrap()
    }

    fn valid_spec() -> serde_json::Value {
        let text = include_str!("../../config/runbooks/stuck-rollout-rollback.yaml");
        let document: serde_json::Value = serde_yaml::from_str(text).unwrap();
        document["spec"].clone()
    }

    #[test]
    fn a_listed_item_without_its_type_still_parses_and_metadata_is_not_the_owners() {
        let set = parse(object(valid_spec()), &Taxonomy::builtin());
        assert!(set.rejected.is_empty(), "{:?}", set.rejected);
        assert_eq!(
            set.runbooks[0].origin,
            "RemediationRunbook payments/rollback"
        );
    }

    #[test]
    fn an_invalid_resource_is_rejected_by_namespace_name_and_field() {
        let mut spec = valid_spec();
        spec["verification"]["timeout"] = "2h".into();
        let set = parse(object(spec), &Taxonomy::builtin());
        assert!(set.runbooks.is_empty());
        assert_eq!(
            set.rejected[0].to_string(),
            "RemediationRunbook payments/rollback: spec.verification.timeout: must be between 10s and 1h"
        );
    }
}
