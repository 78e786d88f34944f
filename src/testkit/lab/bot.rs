//! The bot's production identity in the lab: the ServiceAccount and RBAC that
//! [`crate::ops::rbac::manifests`] generates, applied by an administrator, and a kubeconfig
//! holding that ServiceAccount's token. Tests and demos act through exactly these permissions.

use std::path::PathBuf;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use kube::api::PostParams;
use kube::{Api, Client, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{Lab, LabError, kubeconfig, scenarios};
use crate::ops::rbac::Manifests;

/// How long the token controller may take to mint the ServiceAccount's token.
const TOKEN_DEADLINE: Duration = Duration::from_secs(30);

/// Applies `manifests` (creating what is missing, replacing what exists) and returns a
/// kubeconfig for the ServiceAccount they name.
///
/// # Errors
/// When an object cannot be applied or the token does not appear in time.
pub async fn install(
    lab: &Lab,
    admin: &Client,
    manifests: &Manifests,
) -> Result<PathBuf, LabError> {
    let account = &manifests.service_account;
    let namespace = account.namespace().unwrap_or_default();
    scenarios::create_namespace(admin, &namespace).await?;
    apply(&Api::namespaced(admin.clone(), &namespace), account).await?;
    for role in &manifests.roles {
        scenarios::create_namespace(admin, &role.namespace().unwrap_or_default()).await?;
        apply::<Role>(
            &Api::namespaced(admin.clone(), &role.namespace().unwrap_or_default()),
            role,
        )
        .await?;
    }
    for binding in &manifests.role_bindings {
        apply::<RoleBinding>(
            &Api::namespaced(admin.clone(), &binding.namespace().unwrap_or_default()),
            binding,
        )
        .await?;
    }
    for role in &manifests.cluster_roles {
        apply::<ClusterRole>(&Api::all(admin.clone()), role).await?;
    }
    for binding in &manifests.cluster_role_bindings {
        apply::<ClusterRoleBinding>(&Api::all(admin.clone()), binding).await?;
    }
    let token = token(admin, &namespace, &account.name_any()).await?;
    let path = lab
        .dir()
        .join(format!("sa-{namespace}-{}.kubeconfig", account.name_any()));
    kubeconfig::write_token(
        &path,
        &account.name_any(),
        lab.server(),
        lab.ca_cert(),
        &token,
    )?;
    Ok(path)
}

async fn apply<K>(api: &Api<K>, object: &K) -> Result<(), LabError>
where
    K: Resource + Clone + Serialize + DeserializeOwned + std::fmt::Debug,
{
    let name = object.name_any();
    // Tests install the shared objects concurrently: a conflicting replace is read and tried
    // again.
    for _ in 0..5 {
        let error = match api.create(&PostParams::default(), object).await {
            Ok(_) => return Ok(()),
            Err(kube::Error::Api(status)) if status.code == 409 => {
                let mut replacement = object.clone();
                replacement.meta_mut().resource_version = api.get(&name).await?.resource_version();
                match api
                    .replace(&name, &PostParams::default(), &replacement)
                    .await
                {
                    Ok(_) => return Ok(()),
                    Err(kube::Error::Api(status)) if status.code == 409 => kube::Error::Api(status),
                    Err(error) => return Err(error.into()),
                }
            }
            Err(error) => return Err(error.into()),
        };
        tracing::debug!(%error, name, "conflict applying a bot manifest; trying again");
    }
    Err(LabError::Setup(format!(
        "{name} kept changing while it was applied"
    )))
}

/// The token the token controller mints for a ServiceAccount (Kubernetes before 1.24).
async fn token(admin: &Client, namespace: &str, name: &str) -> Result<String, LabError> {
    let accounts: Api<ServiceAccount> = Api::namespaced(admin.clone(), namespace);
    let account = scenarios::wait_for(&accounts, name, "a token secret", TOKEN_DEADLINE, |sa| {
        sa.secrets.as_ref().is_some_and(|s| !s.is_empty())
    })
    .await?;
    let secret_name = account
        .secrets
        .and_then(|s| s.into_iter().find_map(|r| r.name))
        .unwrap_or_default();
    let secrets: Api<Secret> = Api::namespaced(admin.clone(), namespace);
    let secret = scenarios::wait_for(&secrets, &secret_name, "the token", TOKEN_DEADLINE, |s| {
        s.data.as_ref().is_some_and(|d| d.contains_key("token"))
    })
    .await?;
    let bytes = secret
        .data
        .and_then(|mut d| d.remove("token"))
        .map(|b| b.0)
        .unwrap_or_default();
    String::from_utf8(bytes)
        .map_err(|_| LabError::Setup("the ServiceAccount token is not UTF-8".into()))
}
