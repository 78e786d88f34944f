//! RBAC pre-flight: asks the API server, as the bot, whether it may perform each exact request
//! a plan needs (SelfSubjectAccessReview), before an action is even offered to a human.

use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use kube::Api;
use kube::api::PostParams;
use serde::{Deserialize, Serialize};

use super::{Guard, GuardResult};
use crate::ops::cluster::Cluster;
use crate::ops::error::OpsError;

/// One permission the bot needs: `kubectl auth can-i <verb> <resource>[/<subresource>]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Permission {
    pub verb: String,
    pub group: String,
    pub resource: String,
    pub subresource: Option<String>,
    pub namespace: Option<String>,
    pub name: Option<String>,
}

impl std::fmt::Display for Permission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.verb, self.resource)?;
        if let Some(sub) = &self.subresource {
            write!(f, "/{sub}")?;
        }
        if !self.group.is_empty() {
            write!(f, ".{}", self.group)?;
        }
        if let Some(name) = &self.name {
            write!(f, " {name}")?;
        }
        match &self.namespace {
            Some(namespace) => write!(f, " in {namespace}"),
            None => f.write_str(" (cluster-wide)"),
        }
    }
}

/// The API server's answer for one permission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CanI {
    pub permission: Permission,
    pub allowed: bool,
    /// The authorizer's reason, when it gave one.
    pub reason: Option<String>,
}

/// Asks, for each permission, whether the bot holds it.
///
/// # Errors
/// When the review itself cannot be created.
pub async fn can_i(cluster: &Cluster, permissions: &[Permission]) -> Result<Vec<CanI>, OpsError> {
    let api: Api<SelfSubjectAccessReview> = Api::all(cluster.client().clone());
    let mut answers = Vec::with_capacity(permissions.len());
    for permission in permissions {
        let review = SelfSubjectAccessReview {
            spec: SelfSubjectAccessReviewSpec {
                resource_attributes: Some(ResourceAttributes {
                    verb: Some(permission.verb.clone()),
                    group: Some(permission.group.clone()),
                    resource: Some(permission.resource.clone()),
                    subresource: permission.subresource.clone(),
                    namespace: permission.namespace.clone(),
                    name: permission.name.clone(),
                    ..ResourceAttributes::default()
                }),
                ..SelfSubjectAccessReviewSpec::default()
            },
            ..SelfSubjectAccessReview::default()
        };
        let answer = cluster
            .call(
                "create selfsubjectaccessreview",
                &permission.to_string(),
                api.create(&PostParams::default(), &review),
            )
            .await?;
        let status = answer.status.unwrap_or_default();
        answers.push(CanI {
            permission: permission.clone(),
            allowed: status.allowed,
            reason: status.reason.filter(|r| !r.is_empty()),
        });
    }
    Ok(answers)
}

/// The guard verdict for a set of answers.
pub fn verdict(answers: &[CanI]) -> GuardResult {
    let denied: Vec<String> = answers
        .iter()
        .filter(|a| !a.allowed)
        .map(|a| a.permission.to_string())
        .collect();
    if denied.is_empty() {
        GuardResult::pass(
            Guard::Rbac,
            format!("the bot may perform all {} request(s)", answers.len()),
        )
    } else {
        GuardResult::refuse(
            Guard::Rbac,
            format!(
                "the bot's Kubernetes identity may not {}; it would fail, so it is not offered",
                denied.join(", ")
            ),
        )
    }
}
