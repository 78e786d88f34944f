//! The bot's handle on the Kubernetes API: one client (the bot's own identity), a deadline on
//! every call, and API discovery for kinds whose version differs between clusters.

use std::future::Future;
use std::time::Duration;

use kube::Client;
use kube::api::{ApiResource, DynamicObject};
use kube::config::{KubeConfigOptions, Kubeconfig};
use tokio::sync::OnceCell;

use super::error::OpsError;
use crate::config::OpsSettings;

/// A Kubernetes client with a deadline per call.
#[derive(Clone)]
pub struct Cluster {
    client: Client,
    timeout: Duration,
    cronjobs: std::sync::Arc<OnceCell<ApiResource>>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Cluster {
    pub fn new(client: Client, timeout: Duration) -> Self {
        Self {
            client,
            timeout,
            cronjobs: Default::default(),
        }
    }

    /// Connects with the configured kubeconfig, or `KUBECONFIG`/`~/.kube/config`/in-cluster.
    ///
    /// # Errors
    /// When the kubeconfig cannot be read or names no usable cluster.
    pub async fn connect(settings: &OpsSettings) -> Result<Self, OpsError> {
        let object = "the kubeconfig";
        let unavailable = |error: Box<dyn std::error::Error + Send + Sync>| OpsError::Unavailable {
            operation: "connect".into(),
            object: object.into(),
            source: error,
        };
        let config = match &settings.kubeconfig {
            Some(path) => {
                let kubeconfig = Kubeconfig::read_from(path).map_err(|e| unavailable(e.into()))?;
                kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
                    .await
                    .map_err(|e| unavailable(e.into()))?
            }
            None => kube::Config::infer()
                .await
                .map_err(|e| unavailable(e.into()))?,
        };
        let client = Client::try_from(config).map_err(|e| unavailable(e.into()))?;
        Ok(Self::new(client, settings.api_timeout))
    }

    /// The same client with another deadline per call: evidence collectors run under
    /// `collect_timeout`, which is shorter than an action's `api_timeout` because an incident
    /// report must not wait on a slow API server.
    pub fn with_timeout(&self, timeout: Duration) -> Self {
        Self {
            timeout,
            ..self.clone()
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Runs one API call under the deadline, classifying its error.
    ///
    /// # Errors
    /// [`OpsError::Timeout`] past the deadline, otherwise the classified kube error.
    pub async fn call<T>(
        &self,
        operation: &str,
        object: &str,
        call: impl Future<Output = Result<T, kube::Error>>,
    ) -> Result<T, OpsError> {
        match tokio::time::timeout(self.timeout, call).await {
            Ok(result) => result.map_err(|error| OpsError::from_kube(operation, object, error)),
            Err(_) => Err(OpsError::Timeout {
                operation: operation.into(),
                object: object.into(),
                timeout: self.timeout,
            }),
        }
    }

    /// The CronJob resource this cluster serves: `batch/v1` (Kubernetes 1.21+) or
    /// `batch/v1beta1` (older), found by discovery once and remembered.
    ///
    /// # Errors
    /// When discovery fails or the cluster serves no CronJob kind.
    pub async fn cronjob_resource(&self) -> Result<ApiResource, OpsError> {
        let found = self
            .cronjobs
            .get_or_try_init(|| async {
                let group = self
                    .call(
                        "discover",
                        "API group batch",
                        kube::discovery::group(&self.client, "batch"),
                    )
                    .await?;
                // Newest version first; the preferred version may not serve the kind (batch/v1
                // before 1.21 has Jobs but no CronJobs).
                group
                    .versions()
                    .find_map(|version| {
                        group
                            .versioned_resources(version)
                            .into_iter()
                            .find(|(resource, _)| resource.kind == "CronJob")
                            .map(|(resource, _)| resource)
                    })
                    .ok_or_else(|| OpsError::NotFound {
                        object: "the CronJob kind in API group batch".into(),
                    })
            })
            .await?;
        Ok(found.clone())
    }

    /// A dynamic API for `resource` in `namespace` (cluster-scoped when `None`).
    pub fn dynamic(
        &self,
        resource: &ApiResource,
        namespace: Option<&str>,
    ) -> kube::Api<DynamicObject> {
        match namespace {
            Some(namespace) => kube::Api::namespaced_with(self.client.clone(), namespace, resource),
            None => kube::Api::all_with(self.client.clone(), resource),
        }
    }
}
