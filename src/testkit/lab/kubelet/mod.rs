//! The simulated kubelet: registers nodes and makes the pods bound to them behave, through the
//! real API (status subresource, Events), with the documented fault vocabulary in [`faults`].
//!
//! It runs on its own thread and tokio runtime, so it outlives any one test's runtime, and stops
//! when its [`KubeletHandle`] is dropped. What it does is written to the lab's
//! `logs/kubelet.log`.

mod events;
pub mod faults;
mod nodes;
mod pods;
pub mod timeline;

use std::collections::HashMap;
use std::fmt::Display;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::jiff::Timestamp;
use kube::Api;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher;
use tokio::sync::{Mutex, oneshot};

pub use faults::{NodeFault, PodFault};
pub use timeline::Timing;

use super::LabError;
use super::kubeconfig;
use faults::NodeFault as Fault;

/// How the simulated kubelet behaves.
#[derive(Debug, Clone)]
pub struct KubeletOptions {
    /// How many ordinary nodes to register: `lab-node-1` … `lab-node-N`.
    pub nodes: usize,
    /// How many isolated nodes to register: `lab-isolated-1` … . They carry the taint
    /// [`ISOLATED_TAINT`]`:NoSchedule`, so only pods bound to them on purpose run there, and a
    /// test can break one without disturbing the others.
    pub isolated_nodes: usize,
    pub timing: Timing,
}

impl Default for KubeletOptions {
    fn default() -> Self {
        Self {
            nodes: 2,
            isolated_nodes: 0,
            timing: Timing::default(),
        }
    }
}

/// The taint key that keeps ordinary pods off isolated nodes.
pub const ISOLATED_TAINT: &str = "lab.robot-sre.dev/isolated";

/// The name of ordinary node number `n` (from 1).
pub fn node_name(n: usize) -> String {
    format!("lab-node-{n}")
}

/// The name of isolated node number `n` (from 1).
pub fn isolated_node_name(n: usize) -> String {
    format!("lab-isolated-{n}")
}

#[derive(Debug, thiserror::Error)]
pub enum KubeletError {
    #[error(transparent)]
    Api(#[from] kube::Error),
}

/// What the kubelet remembers about a pod it runs.
#[derive(Debug, Clone)]
pub struct PodRecord {
    /// When the kubelet first saw the pod bound to its node: time zero of its timeline.
    pub seen: Instant,
    pub seen_wall: Timestamp,
    /// Per container, how many of its timeline's events were already recorded.
    pub emitted: Vec<usize>,
}

impl PodRecord {
    fn new(containers: usize) -> Self {
        Self {
            seen: Instant::now(),
            seen_wall: Timestamp::now(),
            emitted: vec![0; containers],
        }
    }
}

/// Now, to the second: the precision the API stores times with.
fn now_seconds() -> Timestamp {
    let now = Timestamp::now();
    Timestamp::from_second(now.as_second()).unwrap_or(now)
}

/// An append-only activity log.
pub struct Journal(std::sync::Mutex<std::fs::File>);

impl Journal {
    pub fn line(&self, text: impl Display) {
        if let Ok(mut file) = self.0.lock() {
            let _ = writeln!(file, "{} {text}", Timestamp::now());
        }
    }
}

/// The shared state of the simulated kubelet.
pub struct Kubelet {
    client: kube::Client,
    options: KubeletOptions,
    nodes: Vec<String>,
    node_faults: Mutex<HashMap<String, Option<Fault>>>,
    pods: Mutex<HashMap<String, PodRecord>>,
    recorder: events::Recorder,
    journal: Journal,
}

impl Kubelet {
    fn node_index(&self, name: &str) -> Option<usize> {
        self.nodes.iter().position(|node| node == name)
    }

    async fn node_runs_pods(&self, name: &str) -> bool {
        !matches!(
            self.node_faults.lock().await.get(name),
            Some(Some(Fault::NotReady | Fault::Unreachable))
        )
    }

    /// The node's fault as last applied (`None` if never seen).
    async fn node_fault(&self, name: &str) -> Option<Option<Fault>> {
        self.node_faults.lock().await.get(name).copied()
    }

    async fn set_node_fault(&self, name: &str, fault: Option<Fault>) {
        self.node_faults.lock().await.insert(name.to_owned(), fault);
    }

    async fn pod_record(&self, uid: &str, containers: usize) -> PodRecord {
        self.pods
            .lock()
            .await
            .entry(uid.to_owned())
            .or_insert_with(|| PodRecord::new(containers))
            .clone()
    }

    async fn mark_emitted(&self, uid: &str, container: usize) {
        if let Some(record) = self.pods.lock().await.get_mut(uid) {
            record.emitted[container] += 1;
        }
    }

    async fn forget_pod(&self, uid: &str) {
        self.pods.lock().await.remove(uid);
        self.recorder.forget(uid).await;
    }

    async fn start(
        kubeconfig: PathBuf,
        options: KubeletOptions,
        log: PathBuf,
    ) -> Result<Arc<Self>, LabError> {
        let file = std::fs::File::create(&log)
            .map_err(|error| LabError::Setup(format!("creating {}: {error}", log.display())))?;
        let client = kubeconfig::client(&kubeconfig).await?;
        let nodes: Vec<String> = (1..=options.nodes)
            .map(node_name)
            .chain((1..=options.isolated_nodes).map(isolated_node_name))
            .collect();
        for (index, name) in nodes.iter().enumerate() {
            let isolated = index >= options.nodes;
            nodes::register(&client, name, index, isolated)
                .await
                .map_err(|error| LabError::Kubelet(format!("registering node {name}: {error}")))?;
        }
        let kubelet = Arc::new(Self {
            recorder: events::Recorder::new(client.clone()),
            node_faults: Mutex::new(nodes.iter().map(|name| (name.clone(), None)).collect()),
            client,
            options,
            nodes,
            pods: Mutex::new(HashMap::new()),
            journal: Journal(std::sync::Mutex::new(file)),
        });
        kubelet.journal.line(format_args!(
            "registered nodes {}",
            kubelet.nodes.join(", ")
        ));
        Ok(kubelet)
    }

    async fn run(self: Arc<Self>) {
        let pods = Controller::new(
            Api::<Pod>::all(self.client.clone()),
            watcher::Config::default(),
        )
        .run(pods::reconcile, retry, self.clone())
        .for_each(|_| async {});
        let nodes = Controller::new(
            Api::<Node>::all(self.client.clone()),
            watcher::Config::default(),
        )
        .run(nodes::reconcile, retry, self.clone())
        .for_each(|_| async {});
        futures::join!(pods, nodes);
    }
}

/// Error policy of both controllers: note the error and try again soon.
fn retry<K>(_: Arc<K>, error: &KubeletError, kubelet: Arc<Kubelet>) -> Action {
    kubelet
        .journal
        .line(format_args!("retrying after: {error}"));
    Action::requeue(Duration::from_millis(500))
}

/// The running simulated kubelet; dropping it stops it.
#[derive(Debug)]
pub struct KubeletHandle {
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl KubeletHandle {
    /// Starts the kubelet on its own thread and returns once its nodes are registered Ready.
    ///
    /// # Errors
    /// When the kubeconfig is unusable or node registration fails.
    pub async fn spawn(
        kubeconfig: PathBuf,
        options: KubeletOptions,
        log: PathBuf,
    ) -> Result<Self, LabError> {
        let (ready_tx, ready_rx) = oneshot::channel();
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("lab-kubelet".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .thread_name("lab-kubelet")
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(error) => {
                        let _ = ready_tx.send(Err(LabError::Kubelet(format!(
                            "starting its runtime: {error}"
                        ))));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let started = Kubelet::start(kubeconfig, options, log).await;
                    let kubelet = started.as_ref().ok().cloned();
                    // Nobody waiting any more (the start timed out): stop here.
                    if ready_tx.send(started.map(|_| ())).is_err() {
                        return;
                    }
                    if let Some(kubelet) = kubelet {
                        tokio::select! {
                            () = kubelet.run() => {}
                            _ = stop_rx => {}
                        }
                    }
                });
                runtime.shutdown_timeout(Duration::from_secs(2));
            })
            .map_err(|error| LabError::Kubelet(format!("starting its thread: {error}")))?;
        let mut handle = Self {
            stop: Some(stop_tx),
            thread: Some(thread),
        };
        match ready_rx.await {
            Ok(Ok(())) => Ok(handle),
            Ok(Err(error)) => Err(error),
            Err(_) => {
                handle.stop = None;
                Err(LabError::Kubelet(
                    "its thread ended before registering nodes".into(),
                ))
            }
        }
    }
}

impl Drop for KubeletHandle {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
