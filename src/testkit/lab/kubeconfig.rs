//! Kubeconfig files for each lab identity, readable by kubectl, the Go components and kube-rs.

use std::path::{Path, PathBuf};

use kube::config::{KubeConfigOptions, Kubeconfig};

use super::LabError;
use super::pki::{Credentials, Identity, write_private};

/// Where the kubeconfig of `identity` is: `<dir>/<identity>.kubeconfig`.
pub fn path(dir: &Path, identity: Identity) -> PathBuf {
    dir.join(format!("{}.kubeconfig", identity.file_stem()))
}

/// Writes the kubeconfig of `identity`, pointing at `server`, and returns its path.
pub fn write(
    dir: &Path,
    server: &str,
    credentials: &Credentials,
    identity: Identity,
) -> Result<PathBuf, LabError> {
    let path = path(dir, identity);
    write_token(
        &path,
        identity.file_stem(),
        server,
        &credentials.ca_cert,
        credentials.token(identity),
    )?;
    Ok(path)
}

/// Writes a kubeconfig at `path` for `user` authenticating with a bearer `token`.
pub fn write_token(
    path: &Path,
    user: &str,
    server: &str,
    ca_cert: &Path,
    token: &str,
) -> Result<(), LabError> {
    let text = format!(
        "apiVersion: v1
kind: Config
clusters:
- name: robot-sre-lab
  cluster:
    server: {server}
    certificate-authority: {ca}
users:
- name: {user}
  user:
    token: {token}
contexts:
- name: lab-{user}
  context:
    cluster: robot-sre-lab
    user: {user}
    namespace: default
current-context: lab-{user}
",
        ca = ca_cert.display(),
    );
    write_private(path, &text)
}

/// A kube client that authenticates with the kubeconfig at `path`.
///
/// # Errors
/// When the file cannot be read or describes no usable cluster.
pub async fn client(path: &Path) -> Result<kube::Client, LabError> {
    let failed = |error: String| LabError::Client(format!("{}: {error}", path.display()));
    let kubeconfig = Kubeconfig::read_from(path).map_err(|error| failed(error.to_string()))?;
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .map_err(|error| failed(error.to_string()))?;
    kube::Client::try_from(config).map_err(|error| failed(error.to_string()))
}
