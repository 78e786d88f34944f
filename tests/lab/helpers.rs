//! One lab per test binary run, started on first use and shared by every test; a namespace
//! per test, deleted when the test passes and kept (with the lab's logs printed) when it fails.
//!
//! Node faults are cluster-wide, so each test that breaks a node uses its own isolated node
//! (`lab-isolated-N`), listed here.

use std::path::PathBuf;
use std::sync::OnceLock;

use k8s_openapi::api::core::v1::{Event, Namespace};
use kube::api::{DeleteParams, ListParams};
use kube::{Api, Client};
use rand::distr::{Alphanumeric, SampleString};
use robot_sre::testkit::lab::{Identity, KubeletOptions, Lab, LabOptions, scenarios};

/// Isolated nodes, one per test that injects a node fault.
pub const DISK_PRESSURE_NODE: &str = "lab-isolated-1";
pub const NOT_READY_NODE: &str = "lab-isolated-2";
pub const UNREACHABLE_NODE: &str = "lab-isolated-3";
/// Ops tests: disk pressure cleaned up by the bot, and a node the bot cordons.
pub const CLEANUP_NODE: &str = "lab-isolated-4";
pub const CORDON_NODE: &str = "lab-isolated-5";
/// Evidence tests: a node under disk pressure whose evidence is read.
pub const EVIDENCE_NODE: &str = "lab-isolated-6";
const ISOLATED_NODES: usize = 6;

static LAB: OnceLock<Lab> = OnceLock::new();

/// The shared lab, started by the first test that asks, in `target/tmp/lab-<pid>` (kept after
/// the run, with its logs; the next run removes the directories of runs that are over).
pub fn lab() -> &'static Lab {
    LAB.get_or_init(|| {
        let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        remove_finished_runs(&root);
        let options = LabOptions {
            dir: Some(root.join(format!("lab-{}", std::process::id()))),
            kubelet: KubeletOptions {
                nodes: 2,
                isolated_nodes: ISOLATED_NODES,
                ..KubeletOptions::default()
            },
            ..LabOptions::default()
        };
        // Started on a runtime of its own: the calling test's runtime ends with that test.
        std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime")
                .block_on(Lab::start(options))
        })
        .join()
        .expect("the lab start thread")
        .unwrap_or_else(|error| panic!("the lab did not start: {error}"))
    })
}

fn remove_finished_runs(root: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix("lab-")) else {
            continue;
        };
        if !std::path::Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// A client for `identity`, bound to the calling test's runtime.
pub async fn client(identity: Identity) -> Client {
    lab().client(identity).await.expect("a lab client")
}

/// A namespace of its own for one test.
pub struct TestNamespace {
    pub name: String,
    pub client: Client,
}

impl TestNamespace {
    pub async fn create(prefix: &str) -> Self {
        let client = client(Identity::Admin).await;
        let suffix = Alphanumeric
            .sample_string(&mut rand::rng(), 6)
            .to_lowercase();
        let name = format!("{prefix}-{suffix}");
        if let Err(error) = scenarios::create_namespace(&client, &name).await {
            panic!("namespace {name}: {error}\n{}", lab().logs_tail(30));
        }
        Self { name, client }
    }

    pub fn api<K>(&self) -> Api<K>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
        K::DynamicType: Default,
    {
        Api::namespaced(self.client.clone(), &self.name)
    }

    /// The events about object `name` in this namespace, oldest first.
    pub async fn events_for(&self, name: &str) -> Vec<Event> {
        events_about(&self.client, &self.name, name).await
    }
}

/// The events about object `name` (`namespace` "default" for nodes).
pub async fn events_about(client: &Client, namespace: &str, name: &str) -> Vec<Event> {
    let api: Api<Event> = Api::namespaced(client.clone(), namespace);
    let params = ListParams::default().fields(&format!("involvedObject.name={name}"));
    let mut events = api.list(&params).await.expect("events").items;
    events.sort_by_key(|event| event.first_timestamp.clone().map(|t| t.0));
    events
}

/// The event with `reason`, if recorded.
pub fn find<'a>(events: &'a [Event], reason: &str) -> Option<&'a Event> {
    events
        .iter()
        .find(|event| event.reason.as_deref() == Some(reason))
}

impl Drop for TestNamespace {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "namespace {} kept for inspection; the lab's logs end with:\n{}",
                self.name,
                lab().logs_tail(30)
            );
            return;
        }
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime")
                .block_on(async {
                    let client = client(Identity::Admin).await;
                    let _ = Api::<Namespace>::all(client)
                        .delete(&name, &DeleteParams::default())
                        .await;
                });
        })
        .join();
    }
}
