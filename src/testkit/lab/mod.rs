//! The Kubernetes lab: a real control plane on loopback (etcd, kube-apiserver,
//! kube-controller-manager, kube-scheduler, built from Debian's `kubernetes` source package),
//! a simulated kubelet that makes pods and nodes behave, and the seed incident scenarios.
//!
//! ```no_run
//! # async fn demo() -> Result<(), robot_sre::testkit::lab::LabError> {
//! use robot_sre::testkit::lab::{Identity, Lab, LabOptions};
//! let lab = Lab::start(LabOptions::default()).await?;
//! let admin = lab.client(Identity::Admin).await?;
//! # Ok(()) }
//! ```
//!
//! Every process runs under a watchdog ([`Supervised`]): dropping the [`Lab`] — or the owning
//! process dying — stops exactly the processes this lab started.

mod binaries;
pub mod bot;
mod components;
mod daemon;
pub mod kubeconfig;
pub mod kubelet;
mod pki;
pub mod scenarios;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub use binaries::{BIN_DIR_ENV, Binaries};
pub use components::Ports;
pub use daemon::{LabCommand, default_state_dir};
pub use kubelet::{KubeletHandle, KubeletOptions, isolated_node_name, node_name};
pub use pki::{Credentials, Identity};

use super::process::{ProcessError, Supervised, free_port, poll_until};

/// Why a lab could not start or be used.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    #[error("lab binaries: {0}")]
    Binaries(String),
    #[error("lab setup: {0}")]
    Setup(String),
    #[error(transparent)]
    Process(#[from] ProcessError),
    #[error("kubernetes client: {0}")]
    Client(String),
    #[error("simulated kubelet: {0}")]
    Kubelet(String),
    #[error("{what} was not ready within {waited:?}{}", logs.as_deref().map(|l| format!("; component logs:\n{l}")).unwrap_or_default())]
    NotReady {
        what: String,
        waited: Duration,
        logs: Option<String>,
    },
    #[error("kubernetes API: {0}")]
    Api(#[from] kube::Error),
}

/// How to start a lab.
#[derive(Debug, Clone)]
pub struct LabOptions {
    /// Keep the lab in this directory (wiped first, kept afterwards) instead of a temporary one.
    pub dir: Option<PathBuf>,
    /// How long the whole start may take before it is reported as failed.
    pub start_deadline: Duration,
    pub kubelet: KubeletOptions,
}

impl Default for LabOptions {
    fn default() -> Self {
        Self {
            dir: None,
            start_deadline: Duration::from_secs(60),
            kubelet: KubeletOptions::default(),
        }
    }
}

#[derive(Debug)]
enum LabDir {
    Temporary(tempfile::TempDir),
    Kept(PathBuf),
}

impl LabDir {
    fn path(&self) -> &Path {
        match self {
            LabDir::Temporary(dir) => dir.path(),
            LabDir::Kept(path) => path,
        }
    }
}

/// A running lab. Dropping it stops the kubelet, then the components in reverse start order.
#[derive(Debug)]
pub struct Lab {
    server: String,
    ports: Ports,
    credentials: Credentials,
    kubelet: Option<KubeletHandle>,
    /// In start order: etcd, kube-apiserver, kube-controller-manager, kube-scheduler.
    components: Vec<(&'static str, Supervised)>,
    started_in: Duration,
    // Last, so the files outlive the processes using them.
    dir: LabDir,
}

impl Lab {
    /// Starts every component on free loopback ports, then the simulated kubelet, and waits
    /// until the API server is ready, both controllers answer their health checks and every
    /// simulated node is Ready.
    ///
    /// # Errors
    /// Missing binaries, a component that exits or is not ready by the deadline (with the
    /// component logs), or a kubelet that cannot register its nodes.
    pub async fn start(options: LabOptions) -> Result<Self, LabError> {
        let began = Instant::now();
        let binaries = Binaries::locate()?;
        let dir = match &options.dir {
            Some(path) => {
                let _ = std::fs::remove_dir_all(path);
                std::fs::create_dir_all(path).map_err(|error| {
                    LabError::Setup(format!("creating {}: {error}", path.display()))
                })?;
                LabDir::Kept(path.clone())
            }
            None => LabDir::Temporary(
                tempfile::Builder::new()
                    .prefix("robot-sre-lab-")
                    .tempdir()
                    .map_err(|error| {
                        LabError::Setup(format!("creating a temporary directory: {error}"))
                    })?,
            ),
        };
        let root = dir.path().to_path_buf();
        let logs = root.join("logs");
        std::fs::create_dir_all(&logs)
            .map_err(|error| LabError::Setup(format!("creating {}: {error}", logs.display())))?;
        let credentials = Credentials::generate(&root)?;
        let ports = Ports {
            etcd_client: free_port()?,
            etcd_peer: free_port()?,
            apiserver: free_port()?,
            controller_manager_health: free_port()?,
            scheduler_health: free_port()?,
        };
        let server = format!("https://127.0.0.1:{}", ports.apiserver);
        for identity in Identity::ALL {
            kubeconfig::write(&root, &server, &credentials, identity)?;
        }
        let config_of = |identity: Identity| kubeconfig::path(&root, identity);

        // All four start at once: each retries its upstream until it answers.
        let spawn = |name: &'static str, program: &Path, args: Vec<String>| {
            Supervised::spawn(program, &args, logs.join(format!("{name}.log"))).map(|p| (name, p))
        };
        let mut lab = Self {
            server,
            ports,
            kubelet: None,
            components: Vec::with_capacity(4),
            started_in: Duration::ZERO,
            dir,
            credentials,
        };
        lab.components.push(spawn(
            "etcd",
            &binaries.etcd,
            components::etcd(&ports, &root.join("etcd")),
        )?);
        lab.components.push(spawn(
            "kube-apiserver",
            &binaries.apiserver,
            components::apiserver(&ports, &lab.credentials),
        )?);
        lab.components.push(spawn(
            "kube-controller-manager",
            &binaries.controller_manager,
            components::controller_manager(
                &ports,
                &config_of(Identity::ControllerManager),
                &lab.credentials,
            ),
        )?);
        lab.components.push(spawn(
            "kube-scheduler",
            &binaries.scheduler,
            components::scheduler(&ports, &config_of(Identity::Scheduler)),
        )?);

        let deadline = options.start_deadline;
        let remaining = || deadline.saturating_sub(began.elapsed());
        let admin = lab.client(Identity::Admin).await?;
        lab.wait_ready("kube-apiserver /readyz", remaining(), || api_ready(&admin))
            .await?;
        for (what, port) in [
            (
                "kube-controller-manager /healthz",
                ports.controller_manager_health,
            ),
            ("kube-scheduler /healthz", ports.scheduler_health),
        ] {
            lab.wait_ready(what, remaining(), || http_ok(port)).await?;
        }
        let kubelet = KubeletHandle::spawn(
            config_of(Identity::Kubelet),
            options.kubelet.clone(),
            logs.join("kubelet.log"),
        );
        lab.kubelet = Some(
            tokio::time::timeout(remaining(), kubelet)
                .await
                .map_err(|_| LabError::NotReady {
                    what: "the simulated kubelet's nodes".into(),
                    waited: deadline,
                    logs: Some(lab.logs_tail(40)),
                })??,
        );
        lab.started_in = began.elapsed();
        Ok(lab)
    }

    async fn wait_ready<F, Fut>(
        &self,
        what: &str,
        deadline: Duration,
        probe: F,
    ) -> Result<(), LabError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = bool>,
    {
        let ready = poll_until(deadline, Duration::from_millis(50), || async {
            probe().await.then_some(())
        })
        .await;
        ready.ok_or_else(|| LabError::NotReady {
            what: what.into(),
            waited: deadline,
            logs: Some(self.logs_tail(40)),
        })
    }

    /// The API server URL, `https://127.0.0.1:<port>`.
    pub fn server(&self) -> &str {
        &self.server
    }

    pub fn ports(&self) -> Ports {
        self.ports
    }

    /// The lab directory: kubeconfigs, credentials, etcd data and `logs/`.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The kubeconfig file of `identity`.
    pub fn kubeconfig(&self, identity: Identity) -> PathBuf {
        kubeconfig::path(self.dir(), identity)
    }

    /// The CA that signed the API server's serving certificate.
    pub fn ca_cert(&self) -> &Path {
        &self.credentials.ca_cert
    }

    /// A new client for `identity`. Create one per tokio runtime: a client's connections
    /// belong to the runtime that opened them.
    ///
    /// # Errors
    /// When the kubeconfig cannot be loaded.
    pub async fn client(&self, identity: Identity) -> Result<kube::Client, LabError> {
        kubeconfig::client(&self.kubeconfig(identity)).await
    }

    /// How long [`Lab::start`] took.
    pub fn started_in(&self) -> Duration {
        self.started_in
    }

    /// Process ids of the running components (not their watchdogs), by component name.
    pub fn component_pids(&self) -> Vec<(&'static str, Option<u32>)> {
        self.components
            .iter()
            .map(|(name, process)| (*name, process.server_pid()))
            .collect()
    }

    /// The last `lines` lines of every component's log and of the kubelet's, for a failing test
    /// to print.
    pub fn logs_tail(&self, lines: usize) -> String {
        let mut names: Vec<&str> = self.components.iter().map(|(name, _)| *name).collect();
        names.push("kubelet");
        names
            .into_iter()
            .map(|name| {
                let path = self.dir().join("logs").join(format!("{name}.log"));
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                let all: Vec<&str> = text.lines().collect();
                let tail = all[all.len().saturating_sub(lines)..].join("\n");
                format!("--- {name} ({}) ---\n{tail}\n", path.display())
            })
            .collect()
    }

    /// Stops the kubelet, then every component in reverse start order.
    pub fn stop(&mut self) {
        drop(self.kubelet.take());
        while let Some((_, mut process)) = self.components.pop() {
            process.stop();
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn api_ready(client: &kube::Client) -> bool {
    let request = http::Request::get("/readyz").body(Vec::new());
    match request {
        Ok(request) => client
            .request_text(request)
            .await
            .is_ok_and(|body| body.trim() == "ok"),
        Err(_) => false,
    }
}

async fn http_ok(port: u16) -> bool {
    reqwest::get(format!("http://127.0.0.1:{port}/healthz"))
        .await
        .is_ok_and(|response| response.status().is_success())
}
