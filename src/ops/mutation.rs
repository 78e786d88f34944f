//! The writes an action makes, as data: a plan lists them, RBAC pre-flight derives permissions
//! from them, a dry run sends them with `dryRun=All`, and apply sends them for real.

use std::time::Instant;

use kube::api::{
    ApiResource, DeleteParams, DynamicObject, Patch, PatchParams, PostParams, Preconditions,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::cluster::Cluster;
use super::error::OpsError;
use super::guard::rbac::Permission;

/// One write to the API server.
#[derive(Debug, Clone)]
pub struct Mutation {
    pub resource: ApiResource,
    /// Plural resource name, e.g. `deployments`.
    pub plural: String,
    pub namespace: Option<String>,
    pub name: String,
    pub write: Write,
}

/// The kind of write.
#[derive(Debug, Clone)]
pub enum Write {
    /// JSON merge patch, on the object or a subresource. A `metadata.resourceVersion` inside
    /// makes it conditional: the API server answers 409 if the object changed since it was read.
    MergePatch {
        subresource: Option<&'static str>,
        patch: Value,
    },
    /// Replace the whole object (its `metadata.resourceVersion` makes it conditional).
    Replace { object: Box<DynamicObject> },
    /// Delete the object, only if it still has this uid.
    Delete { uid: String },
}

/// What one write did.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Applied {
    pub request: String,
    /// `metadata.generation` the object had after the write, when the API returned it.
    pub generation: Option<i64>,
    pub resource_version: Option<String>,
    /// The object was already gone (deletes only).
    pub already_gone: bool,
    pub dry_run: bool,
    pub took_ms: u64,
}

impl Mutation {
    pub fn verb(&self) -> &'static str {
        match self.write {
            Write::MergePatch { .. } => "patch",
            Write::Replace { .. } => "update",
            Write::Delete { .. } => "delete",
        }
    }

    /// `PATCH deployments/scale payments/checkout`, for packets and logs.
    pub fn describe(&self) -> String {
        let subresource = match &self.write {
            Write::MergePatch {
                subresource: Some(sub),
                ..
            } => format!("/{sub}"),
            _ => String::new(),
        };
        let object = match &self.namespace {
            Some(namespace) => format!("{namespace}/{}", self.name),
            None => self.name.clone(),
        };
        format!(
            "{} {}{subresource} {object}",
            self.verb().to_uppercase(),
            self.plural
        )
    }

    /// The permission this write needs.
    pub fn permission(&self) -> Permission {
        Permission {
            verb: self.verb().into(),
            group: self.resource.group.clone(),
            resource: self.plural.clone(),
            subresource: match &self.write {
                Write::MergePatch { subresource, .. } => subresource.map(str::to_owned),
                _ => None,
            },
            namespace: self.namespace.clone(),
            name: Some(self.name.clone()),
        }
    }

    /// Sends the write; with `dry_run` the API server validates and admits it without storing.
    ///
    /// # Errors
    /// The classified API error; a 409 is [`OpsError::Conflict`]. A delete of an object that
    /// is already gone is not an error.
    pub async fn send(
        &self,
        cluster: &Cluster,
        dry_run: bool,
        field_manager: &str,
    ) -> Result<Applied, OpsError> {
        let api = cluster.dynamic(&self.resource, self.namespace.as_deref());
        let started = Instant::now();
        let what = self.describe();
        let object = match &self.write {
            Write::MergePatch { subresource, patch } => {
                let params = PatchParams {
                    dry_run,
                    field_manager: Some(field_manager.to_owned()),
                    ..PatchParams::default()
                };
                let patch = Patch::Merge(patch);
                let call = async {
                    match subresource {
                        Some(sub) => {
                            api.patch_subresource(sub, &self.name, &params, &patch)
                                .await
                        }
                        None => api.patch(&self.name, &params, &patch).await,
                    }
                };
                Some(cluster.call("patch", &what, call).await?)
            }
            Write::Replace { object } => {
                let params = PostParams {
                    dry_run,
                    field_manager: Some(field_manager.to_owned()),
                };
                Some(
                    cluster
                        .call("update", &what, api.replace(&self.name, &params, object))
                        .await?,
                )
            }
            Write::Delete { uid } => {
                let params = DeleteParams {
                    dry_run,
                    preconditions: Some(Preconditions {
                        uid: Some(uid.clone()),
                        resource_version: None,
                    }),
                    ..DeleteParams::default()
                };
                match cluster
                    .call("delete", &what, api.delete(&self.name, &params))
                    .await
                {
                    Ok(_) => None,
                    // Gone, or replaced by a new object of the same name: either way the object
                    // meant is no more.
                    Err(OpsError::NotFound { .. } | OpsError::Conflict { .. }) => {
                        return Ok(self.applied(None, true, dry_run, started));
                    }
                    Err(error) => return Err(error),
                }
            }
        };
        Ok(self.applied(object, false, dry_run, started))
    }

    fn applied(
        &self,
        object: Option<DynamicObject>,
        already_gone: bool,
        dry_run: bool,
        started: Instant,
    ) -> Applied {
        Applied {
            request: self.describe(),
            generation: object.as_ref().and_then(|o| o.metadata.generation),
            resource_version: object.and_then(|o| o.metadata.resource_version),
            already_gone,
            dry_run,
            took_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        }
    }
}
