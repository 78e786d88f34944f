//! `robot-sre demo`: the whole loop on one machine, with nothing but this binary and the lab's
//! binaries. It starts the Kubernetes lab, the bot (in this process, on the embedded in-memory
//! store, or Redis when `REDIS_URL` is set) with the web console as its channel, breaks four
//! things in the lab, fires their alerts through a real Alertmanager (when installed), and
//! prints a status line per incident as it moves. The newcomer approves in the console; with
//! `--approve-all` a console user approves everything and the demo exits 0 only when every
//! scenario reached its expected end.

mod approve;
mod config;
mod feed;
mod seeds;
mod watch;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use rand::distr::{Alphanumeric, SampleString};
use tokio::net::TcpListener;

use crate::config::OpsSettings;
use crate::domain::Namespace;
use crate::ops::packet;
use crate::ops::rbac::{BotAccount, manifests};
use crate::store::Store;
use crate::testkit::lab::{Identity, KubeletOptions, Lab, LabOptions, bot};
use crate::testkit::process::poll_until;

/// `robot-sre demo` options.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Approve every prompt through the console as the demo user, then exit: 0 only when every
    /// scenario reached its expected end (verified PASS, or refused for the singleton).
    #[arg(long)]
    pub approve_all: bool,
    /// Port on 127.0.0.1 for the bot and its console (0: any free port).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Where the lab (with its logs), the configuration and the exported evidence packets go: a
    /// new or empty directory, or one an earlier demo used (wiped first; any other non-empty
    /// directory is refused). Default: `robot-sre/demo` under $XDG_STATE_HOME (~/.local/state).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// How long the scenarios may take to reach their ends with --approve-all.
    #[arg(long, default_value = "5m", value_parser = humantime::parse_duration)]
    pub deadline: Duration,
}

fn step(text: &str) {
    eprintln!("\n==> {text}");
}

/// Runs the demo; `Ok(true)` when every scenario reached its expected end (with
/// `--approve-all`), or when the user stopped it with Ctrl-C.
///
/// # Errors
/// When the lab, the bot or a scenario cannot be set up.
pub async fn run(args: DemoArgs) -> anyhow::Result<bool> {
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| crate::testkit::lab::default_state_dir().with_file_name("demo"));
    prepare(&dir)?;

    step(
        "starting the Kubernetes lab: etcd, kube-apiserver, controller manager, scheduler, simulated kubelet",
    );
    let lab = Lab::start(LabOptions {
        dir: Some(dir.join("lab")),
        kubelet: KubeletOptions {
            isolated_nodes: 1,
            ..KubeletOptions::default()
        },
        ..LabOptions::default()
    })
    .await?;
    eprintln!(
        "    API server {}; kubectl: KUBECONFIG={}",
        lab.server(),
        lab.kubeconfig(Identity::Admin).display()
    );
    let admin = lab.client(Identity::Admin).await?;

    step(
        "installing the bot's ServiceAccount with the least-privilege RBAC `robot-sre rbac` prints",
    );
    let kubeconfig = install_bot(&lab, &admin).await?;

    let listener = TcpListener::bind(("127.0.0.1", args.port))
        .await
        .with_context(|| format!("cannot listen on 127.0.0.1:{} (--port)", args.port))?;
    let address = listener.local_addr()?;
    let password = Alphanumeric.sample_string(&mut rand::rng(), 20);
    let token = Alphanumeric.sample_string(&mut rand::rng(), 32);
    let redis_url = std::env::var("REDIS_URL").ok();
    let key_prefix = format!("demo-{}", Alphanumeric.sample_string(&mut rand::rng(), 8));
    let password_hash = crate::channels::console::auth::hash_password(&password)
        .map_err(|error| anyhow::anyhow!("cannot hash the console password: {error}"))?;
    let config_path = dir.join("robot-sre.yaml");
    std::fs::write(
        &config_path,
        config::yaml(&config::DemoConfig {
            listen: address,
            alertmanager_token: &token,
            redis_url: redis_url.as_deref(),
            key_prefix: &key_prefix,
            kubeconfig: &kubeconfig,
            password_hash: &password_hash,
        }),
    )?;
    let loaded = crate::config::load(Some(&config_path))
        .map_err(|error| anyhow::anyhow!("the demo configuration is invalid:\n{error}"))?;
    crate::telemetry::init(&loaded.settings.telemetry);
    let store = crate::app::open_store(&loaded.settings)?;
    step(&format!(
        "starting robot-sre on {address} with {} and the web console",
        match &redis_url {
            Some(_) => "Redis (REDIS_URL)",
            None => "the embedded in-memory store",
        }
    ));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(crate::app::run_on(loaded, store.clone(), listener, async {
        let _ = stopped.await;
    }));
    let base = format!("http://{address}");
    wait_ready(&base).await?;

    step("breaking four things in the lab (this takes about half a minute)");
    let seeds = seeds::create_all(&admin).await?;
    for seed in &seeds {
        eprintln!(
            "    {} (expected end: {})",
            seed.title(),
            seed.expected.describe()
        );
    }
    let feed = feed::Feed::start(&format!("{base}/webhooks/alertmanager"), &token).await;
    step(&format!("firing their alerts through {}", feed.describe()));
    let alerts: Vec<_> = seeds.iter().map(|s| s.alert.clone()).collect();
    feed.fire(&alerts).await?;

    step("the console");
    println!(
        "    {base}/console   user: {}   password: {password}",
        config::USER
    );
    let approver = if args.approve_all {
        eprintln!("    --approve-all: the demo user approves every prompt through the console");
        Some(approve::ConsoleClient::login(&base, config::USER, &password).await?)
    } else {
        eprintln!("    open it, log in, and approve or reject; Ctrl-C stops everything");
        None
    };

    step("incidents as they move");
    let mut watch = watch::Watch::new(store.clone(), seeds);
    let passed = follow(&mut watch, approver.as_ref(), args.deadline).await?;
    export_packets(store.as_ref(), &watch, &dir).await;
    if redis_url.is_some() {
        eprintln!(
            "    the state stays in Redis under the key prefix {key_prefix}: robot-sre --config {} audit <incident>",
            config_path.display()
        );
    }
    if approver.is_none() && passed.is_some() {
        step("every scenario ended; still serving the console until Ctrl-C");
        if let Ok(signal) = crate::http::termination_signal() {
            signal.await;
        }
    }
    let _ = stop.send(());
    let _ = server.await;
    drop(feed);
    drop(lab);
    Ok(passed.unwrap_or(true))
}

/// Polls until every seed ended (`Some(all as expected)`), the deadline passes with
/// `--approve-all` (`Some(false)`), or Ctrl-C (`None`).
async fn follow(
    watch: &mut watch::Watch,
    approver: Option<&approve::ConsoleClient>,
    deadline: Duration,
) -> anyhow::Result<Option<bool>> {
    let started = Instant::now();
    let mut interrupted = std::pin::pin!(crate::http::termination_signal()?);
    loop {
        watch.poll(approver).await?;
        if watch.ended() || (approver.is_some() && started.elapsed() > deadline) {
            step("result");
            return Ok(Some(watch.report()));
        }
        tokio::select! {
            () = &mut interrupted => {
                step("stopped (Ctrl-C)");
                watch.report();
                return Ok(None);
            }
            () = tokio::time::sleep(Duration::from_millis(250)) => {}
        }
    }
}

/// Marks a directory as the demo's, so a later run may wipe it.
const MARKER: &str = ".robot-sre-demo";

/// Empties `dir` for this run: a new or empty directory, or one an earlier demo left (it holds
/// the marker). Anything else is refused, so a mistyped `--dir` never wipes someone's files.
fn prepare(dir: &Path) -> anyhow::Result<()> {
    let used = std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some());
    if used {
        if !dir.join(MARKER).exists() {
            anyhow::bail!(
                "{} is not empty and not a demo directory (no {MARKER} in it); choose a new or empty --dir",
                dir.display()
            );
        }
        std::fs::remove_dir_all(dir).with_context(|| format!("cannot clear {}", dir.display()))?;
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    std::fs::write(
        dir.join(MARKER),
        "written by robot-sre demo; the next run wipes this directory\n",
    )
    .with_context(|| format!("cannot write in {}", dir.display()))
}

async fn install_bot(lab: &Lab, admin: &kube::Client) -> anyhow::Result<PathBuf> {
    let namespaces = seeds::NAMESPACES
        .iter()
        .map(|ns| Namespace::parse(*ns))
        .collect::<Result<Vec<_>, _>>()?;
    let settings = OpsSettings {
        namespaces,
        ..OpsSettings::default()
    };
    let account = BotAccount {
        namespace: "robot-sre".into(),
        name: "robot-sre".into(),
    };
    Ok(bot::install(lab, admin, &manifests(&settings, &account)).await?)
}

async fn wait_ready(base: &str) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    let url = format!("{base}/readyz");
    let ready = poll_until(
        Duration::from_secs(20),
        Duration::from_millis(100),
        || async {
            let answer = client.get(&url).send().await;
            answer.is_ok_and(|r| r.status().is_success()).then_some(())
        },
    )
    .await;
    ready.with_context(|| format!("robot-sre did not become ready at {url}"))
}

/// Writes every evidence packet of the demo's incidents under `dir/packets` and says where.
async fn export_packets(store: &dyn Store, watch: &watch::Watch, dir: &Path) {
    let out = dir.join("packets");
    step(&format!("evidence packets in {}", out.display()));
    for id in watch.incidents() {
        match packet::for_incident(store, &id).await {
            Ok(packets) => {
                for packet in &packets {
                    match packet::export(packet, &out) {
                        Ok(path) => println!("    {id}  {}", path.display()),
                        Err(error) => eprintln!("    {id}  not written: {error:#}"),
                    }
                }
            }
            Err(error) => eprintln!("    {id}  packets not read: {error}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{MARKER, prepare};

    #[test]
    fn prepare_refuses_a_non_empty_directory_that_no_demo_used_and_keeps_its_files() {
        let dir = tempfile::tempdir().unwrap();
        let precious = dir.path().join("precious.txt");
        std::fs::write(&precious, "keep me").unwrap();
        let error = prepare(dir.path()).unwrap_err().to_string();
        assert!(error.contains("not a demo directory"), "{error}");
        assert!(precious.exists());
    }

    #[test]
    fn prepare_wipes_an_earlier_demo_directory_and_marks_new_ones() {
        let dir = tempfile::tempdir().unwrap();
        let fresh = dir.path().join("new");
        prepare(&fresh).unwrap();
        assert!(fresh.join(MARKER).exists());
        let leftover = fresh.join("packets");
        std::fs::create_dir(&leftover).unwrap();
        prepare(&fresh).unwrap();
        assert!(!leftover.exists());
        assert!(fresh.join(MARKER).exists());
    }
}
