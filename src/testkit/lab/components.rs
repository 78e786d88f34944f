//! The command lines of the four control-plane components, on loopback ports only.
//!
//! Flags follow the lab issue's checked set for Kubernetes 1.20. The controller manager and the
//! scheduler serve `/healthz` on a loopback-only plain-HTTP port (the 1.20 `--port`/`--address`
//! flags) so readiness can be probed; their secure ports are off.

use std::path::Path;

use super::pki::Credentials;

/// Loopback ports of one lab.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
pub struct Ports {
    pub etcd_client: u16,
    pub etcd_peer: u16,
    pub apiserver: u16,
    pub controller_manager_health: u16,
    pub scheduler_health: u16,
}

/// The controllers the lab runs: all but those that need a real kubelet, cloud or node IPAM.
/// `nodelifecycle` is off so simulated nodes are never marked unreachable for missing
/// heartbeats; node faults are injected by the simulated kubelet instead.
const CONTROLLERS: &str = "*,-nodeipam,-nodelifecycle,-attachdetach,-persistentvolume-binder,-ttl";

fn flag(name: &str, value: impl std::fmt::Display) -> String {
    format!("--{name}={value}")
}

pub fn etcd(ports: &Ports, data_dir: &Path) -> Vec<String> {
    let client = format!("http://127.0.0.1:{}", ports.etcd_client);
    let peer = format!("http://127.0.0.1:{}", ports.etcd_peer);
    vec![
        flag("name", "lab"),
        flag("data-dir", data_dir.display()),
        flag("listen-client-urls", &client),
        flag("advertise-client-urls", &client),
        flag("listen-peer-urls", &peer),
        flag("initial-advertise-peer-urls", &peer),
        flag("initial-cluster", format!("lab={peer}")),
        // A lab's data is thrown away; fsync would only slow every write.
        "--unsafe-no-fsync".into(),
        flag("logger", "zap"),
        flag("log-level", "warn"),
    ]
}

pub fn apiserver(ports: &Ports, credentials: &Credentials) -> Vec<String> {
    vec![
        flag(
            "etcd-servers",
            format!("http://127.0.0.1:{}", ports.etcd_client),
        ),
        flag("bind-address", "127.0.0.1"),
        flag("advertise-address", "127.0.0.1"),
        flag("secure-port", ports.apiserver),
        flag("insecure-port", 0),
        flag("tls-cert-file", credentials.serving_cert.display()),
        flag("tls-private-key-file", credentials.serving_key.display()),
        flag("token-auth-file", credentials.token_file.display()),
        flag("authorization-mode", "RBAC"),
        flag(
            "service-account-key-file",
            credentials.service_account_public_key.display(),
        ),
        flag(
            "service-account-signing-key-file",
            credentials.service_account_key.display(),
        ),
        flag(
            "service-account-issuer",
            "https://kubernetes.default.svc.cluster.local",
        ),
        flag("service-cluster-ip-range", "10.96.0.0/16"),
        flag("profiling", false),
        flag("v", 1),
    ]
}

pub fn controller_manager(
    ports: &Ports,
    kubeconfig: &Path,
    credentials: &Credentials,
) -> Vec<String> {
    vec![
        flag("kubeconfig", kubeconfig.display()),
        flag("leader-elect", false),
        flag(
            "service-account-private-key-file",
            credentials.service_account_key.display(),
        ),
        flag("root-ca-file", credentials.ca_cert.display()),
        flag("controllers", CONTROLLERS),
        flag("secure-port", 0),
        flag("port", ports.controller_manager_health),
        flag("address", "127.0.0.1"),
        flag("profiling", false),
        flag("v", 1),
    ]
}

pub fn scheduler(ports: &Ports, kubeconfig: &Path) -> Vec<String> {
    vec![
        flag("kubeconfig", kubeconfig.display()),
        flag("leader-elect", false),
        flag("secure-port", 0),
        flag("port", ports.scheduler_health),
        flag("address", "127.0.0.1"),
        flag("profiling", false),
        flag("v", 1),
    ]
}
