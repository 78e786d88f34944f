//! `robot-sre lab up|down|status`: a lab that outlives the command that started it.
//!
//! `lab up` starts `robot-sre lab up --foreground` as a background process (its own process
//! group, output in `<dir>/lab.log`) and returns once that process has written `<dir>/lab.json`
//! — the lab is ready. `lab down` sends that process SIGTERM and it stops every component it
//! started; if it dies some other way, its watchdogs stop the components anyway. `lab.json`
//! names the process by pid and start time, so a recycled pid is never mistaken for the lab.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use k8s_openapi::api::core::v1::Node;
use kube::Api;
use kube::api::ListParams;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::{Binaries, Identity, KubeletOptions, Lab, LabOptions, scenarios};

/// The lab subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum LabCommand {
    /// Start a Kubernetes lab (etcd, kube-apiserver, kube-controller-manager, kube-scheduler
    /// and the simulated kubelet) on free loopback ports, in the background. Prints the API
    /// server URL and the kubeconfig files (admin, and the bot with no permissions).
    Up {
        #[command(flatten)]
        dir: StateDir,
        /// How many simulated nodes to register.
        #[arg(long, default_value_t = 2)]
        nodes: usize,
        /// Run in the foreground until SIGTERM or Ctrl-C instead.
        #[arg(long)]
        foreground: bool,
    },
    /// Stop the lab started by `lab up`, and every process it started.
    Down {
        #[command(flatten)]
        dir: StateDir,
    },
    /// Say whether the lab is running and ready, with its nodes.
    Status {
        #[command(flatten)]
        dir: StateDir,
    },
    /// Create a seed incident scenario in the running lab, and wait until the cluster shows it.
    Scenario {
        #[command(flatten)]
        dir: StateDir,
        #[command(subcommand)]
        scenario: Scenario,
    },
}

/// The seed incident scenarios (see `testkit::lab::scenarios`).
#[derive(Debug, clap::Subcommand)]
pub enum Scenario {
    /// A 2-replica Deployment rolled out to an image that cannot be pulled, until
    /// ProgressDeadlineExceeded.
    StuckRollout {
        #[command(flatten)]
        target: Target,
    },
    /// A Deployment whose pods all crash-loop (--replicas 1 for a singleton).
    Crashloop {
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value_t = 2)]
        replicas: i32,
    },
    /// A new 1-replica Deployment whose image cannot be pulled.
    ImagePull {
        #[command(flatten)]
        target: Target,
    },
    /// Finished pods piling up on a node, then DiskPressure there (one BestEffort pod evicted).
    DiskPressure {
        /// Namespace of the finished pods (created if missing).
        #[arg(long, default_value = "batch")]
        namespace: String,
        #[arg(long, default_value = "lab-node-2")]
        node: String,
        #[arg(long, default_value_t = 12)]
        succeeded: usize,
        #[arg(long, default_value_t = 4)]
        failed: usize,
    },
}

#[derive(Debug, clap::Args)]
pub struct Target {
    /// Namespace (created if missing).
    #[arg(long, default_value = "shop")]
    namespace: String,
    /// Deployment name.
    #[arg(long)]
    name: String,
}

#[derive(Debug, clap::Args)]
pub struct StateDir {
    /// Where the lab keeps its state, kubeconfigs and logs
    /// [default: $XDG_STATE_HOME/robot-sre/lab, or ~/.local/state/robot-sre/lab].
    #[arg(long, env = "ROBOT_SRE_LAB_DIR", value_name = "DIR")]
    dir: Option<PathBuf>,
}

impl StateDir {
    fn path(&self) -> PathBuf {
        self.dir.clone().unwrap_or_else(default_state_dir)
    }
}

/// `$XDG_STATE_HOME/robot-sre/lab`, or `~/.local/state/robot-sre/lab`.
pub fn default_state_dir() -> PathBuf {
    std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".local/state")))
        .unwrap_or_else(std::env::temp_dir)
        .join("robot-sre/lab")
}

/// What a running lab process publishes in `lab.json`.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct LabState {
    pid: u32,
    /// The process's start time (clock ticks since boot, `/proc/<pid>/stat` field 22).
    pid_started: u64,
    server: String,
    admin_kubeconfig: PathBuf,
    bot_kubeconfig: PathBuf,
    started_in_ms: u128,
    components: Vec<(String, Option<u32>)>,
}

fn state_file(dir: &Path) -> PathBuf {
    dir.join("lab.json")
}

fn read_state(dir: &Path) -> Option<LabState> {
    let text = std::fs::read_to_string(state_file(dir)).ok()?;
    serde_json::from_str(&text).ok()
}

/// When process `pid` started, in clock ticks since boot; `None` if there is no such process.
fn process_started(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces; the fields after it start with the state.
    let after_name = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    if fields.first() == Some(&"Z") {
        return None;
    }
    fields.get(19)?.parse().ok()
}

/// Whether the process `state` names is still running (the same process, not a recycled pid).
fn is_running(state: &LabState) -> bool {
    process_started(state.pid) == Some(state.pid_started)
}

/// The state directory, created, as an absolute path.
fn prepare(dir: &Path) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    dir.canonicalize()
        .with_context(|| format!("resolving {}", dir.display()))
}

impl LabCommand {
    /// Runs the subcommand, reporting progress on stderr and results on stdout.
    ///
    /// # Errors
    /// A lab that cannot start, is already running, or is not running when it should be.
    pub async fn run(self) -> anyhow::Result<()> {
        match self {
            LabCommand::Up {
                dir,
                nodes,
                foreground,
            } => {
                let dir = prepare(&dir.path())?;
                if foreground {
                    self::foreground(&dir, nodes).await
                } else {
                    background(&dir, nodes).await
                }
            }
            LabCommand::Down { dir } => down(&prepare(&dir.path())?).await,
            LabCommand::Status { dir } => status(&prepare(&dir.path())?).await,
            LabCommand::Scenario { dir, scenario } => {
                create_scenario(&prepare(&dir.path())?, scenario).await
            }
        }
    }
}

fn refuse_if_running(dir: &Path) -> anyhow::Result<()> {
    if let Some(state) = read_state(dir)
        && is_running(&state)
    {
        bail!(
            "a lab is already running in {} (pid {}); stop it with `robot-sre lab down`",
            dir.display(),
            state.pid
        );
    }
    Ok(())
}

async fn foreground(dir: &Path, nodes: usize) -> anyhow::Result<()> {
    refuse_if_running(dir)?;
    let _ = std::fs::remove_file(state_file(dir));
    let stop = crate::http::termination_signal().context("installing signal handlers")?;
    tokio::pin!(stop);
    eprintln!("starting the lab in {}", dir.display());
    let start = Lab::start(LabOptions {
        dir: Some(dir.join("cluster")),
        kubelet: KubeletOptions {
            nodes,
            ..KubeletOptions::default()
        },
        ..LabOptions::default()
    });
    // A stop request while starting stops what has started so far.
    let lab = tokio::select! {
        lab = start => lab?,
        () = &mut stop => {
            eprintln!("stopped while starting");
            return Ok(());
        }
    };
    let pid = std::process::id();
    let state = LabState {
        pid,
        pid_started: process_started(pid).context("reading this process's start time")?,
        server: lab.server().to_owned(),
        admin_kubeconfig: lab.kubeconfig(Identity::Admin),
        bot_kubeconfig: lab.kubeconfig(Identity::Bot),
        started_in_ms: lab.started_in().as_millis(),
        components: lab
            .component_pids()
            .into_iter()
            .map(|(name, pid)| (name.to_owned(), pid))
            .collect(),
    };
    let partial = dir.join("lab.json.partial");
    std::fs::write(&partial, serde_json::to_vec_pretty(&state)?)?;
    std::fs::rename(&partial, state_file(dir))?;
    print_state(&state);
    eprintln!("lab ready; stop it with SIGTERM or Ctrl-C");
    stop.await;
    eprintln!("stopping the lab");
    drop(lab);
    let _ = std::fs::remove_file(state_file(dir));
    eprintln!("lab stopped");
    Ok(())
}

fn print_state(state: &LabState) {
    println!("server:            {}", state.server);
    println!("admin kubeconfig:  {}", state.admin_kubeconfig.display());
    println!(
        "bot kubeconfig:    {}  (no permissions until RBAC grants them)",
        state.bot_kubeconfig.display()
    );
    println!("started in:        {} ms", state.started_in_ms);
    println!(
        "try:               KUBECONFIG={} kubectl get nodes",
        state.admin_kubeconfig.display()
    );
}

async fn background(dir: &Path, nodes: usize) -> anyhow::Result<()> {
    use std::os::unix::process::CommandExt;

    refuse_if_running(dir)?;
    Binaries::locate()?;
    let _ = std::fs::remove_file(state_file(dir));
    let log_path = dir.join("lab.log");
    let log = std::fs::File::create(&log_path)?;
    let exe = std::env::current_exe().context("finding the robot-sre executable")?;
    let mut child = Command::new(exe)
        .args([
            "lab",
            "up",
            "--foreground",
            "--nodes",
            &nodes.to_string(),
            "--dir",
        ])
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .process_group(0)
        .spawn()
        .context("starting the lab process")?;
    eprintln!(
        "starting the lab in the background (log: {})",
        log_path.display()
    );
    let began = Instant::now();
    let deadline = Duration::from_secs(120);
    loop {
        if let Some(state) = read_state(dir) {
            print_state(&state);
            return Ok(());
        }
        if let Some(exit) = child.try_wait()? {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            bail!("the lab process exited ({exit}) before it was ready; its log:\n{log}");
        }
        if began.elapsed() > deadline {
            let _ = child.kill();
            bail!(
                "the lab was not ready within {deadline:?}; see {}",
                log_path.display()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn down(dir: &Path) -> anyhow::Result<()> {
    let Some(state) = read_state(dir) else {
        eprintln!("no lab is running in {}", dir.display());
        return Ok(());
    };
    if !is_running(&state) {
        let _ = std::fs::remove_file(state_file(dir));
        eprintln!(
            "no lab is running in {} (removed a stale lab.json)",
            dir.display()
        );
        return Ok(());
    }
    let pid = Pid::from_raw(i32::try_from(state.pid)?);
    kill(pid, Signal::SIGTERM).context("signalling the lab process")?;
    eprintln!("stopping the lab (pid {})", state.pid);
    let began = Instant::now();
    while is_running(&state) {
        if began.elapsed() > Duration::from_secs(30) {
            bail!("the lab process {} did not stop within 30 s", state.pid);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!("lab stopped");
    Ok(())
}

async fn status(dir: &Path) -> anyhow::Result<()> {
    let Some(state) = read_state(dir) else {
        bail!("no lab is running in {}", dir.display());
    };
    if !is_running(&state) {
        bail!(
            "the lab process {} is gone; run `robot-sre lab up`",
            state.pid
        );
    }
    print_state(&state);
    let client = super::kubeconfig::client(&state.admin_kubeconfig).await?;
    let readyz = client
        .request_text(http::Request::get("/readyz").body(Vec::new())?)
        .await
        .context("the API server does not answer /readyz")?;
    println!("api server:        {}", readyz.trim());
    let nodes = Api::<Node>::all(client)
        .list(&ListParams::default())
        .await?;
    for node in nodes.items {
        let ready = node
            .status
            .and_then(|status| status.conditions)
            .into_iter()
            .flatten()
            .find(|condition| condition.type_ == "Ready")
            .map_or_else(|| "Unknown".to_owned(), |condition| condition.status);
        println!(
            "node:              {} Ready={ready}",
            node.metadata.name.unwrap_or_default()
        );
    }
    Ok(())
}

async fn create_scenario(dir: &Path, scenario: Scenario) -> anyhow::Result<()> {
    let Some(state) = read_state(dir).filter(is_running) else {
        bail!(
            "no lab is running in {}; start one with `robot-sre lab up`",
            dir.display()
        );
    };
    let client = super::kubeconfig::client(&state.admin_kubeconfig).await?;
    let namespace = match &scenario {
        Scenario::StuckRollout { target }
        | Scenario::Crashloop { target, .. }
        | Scenario::ImagePull { target } => &target.namespace,
        Scenario::DiskPressure { namespace, .. } => namespace,
    };
    scenarios::create_namespace(&client, namespace).await?;
    eprintln!("creating the scenario and waiting until the cluster shows it");
    match &scenario {
        Scenario::StuckRollout { target } => {
            scenarios::stuck_rollout(&client, namespace, &target.name).await?;
            println!(
                "deployment {namespace}/{}: ProgressDeadlineExceeded",
                target.name
            );
        }
        Scenario::Crashloop { target, replicas } => {
            let pods = scenarios::crashloop(&client, namespace, &target.name, *replicas).await?;
            for pod in pods {
                let name = pod.metadata.name.unwrap_or_default();
                println!("pod {namespace}/{name}: CrashLoopBackOff");
            }
        }
        Scenario::ImagePull { target } => {
            scenarios::image_pull_failure(&client, namespace, &target.name).await?;
            println!("deployment {namespace}/{}: ImagePullBackOff", target.name);
        }
        Scenario::DiskPressure {
            node,
            succeeded,
            failed,
            ..
        } => {
            let pressure =
                scenarios::disk_pressure(&client, namespace, node, *succeeded, *failed).await?;
            println!(
                "node {node}: DiskPressure=True, {} finished pods in {namespace}, pod {} evicted",
                pressure.finished.len(),
                pressure.evicted.metadata.name.unwrap_or_default()
            );
        }
    }
    Ok(())
}
