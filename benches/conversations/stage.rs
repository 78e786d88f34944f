//! The benchmark's world: its own lab, a throwaway redis-server, the Slack double, the bot's
//! RBAC for one namespace staged as `staging`, `BENCH_INCIDENTS` stuck rollouts in it, and one
//! `robot-sre serve` process.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::Context;
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use kube::Api;
use kube::runtime::watcher;
use robot_sre::ops::rbac::{BotAccount, manifests};
use robot_sre::testkit::RedisServer;
use robot_sre::testkit::lab::{Identity, KubeletOptions, Lab, LabOptions, bot, scenarios};
use serde_json::json;

use crate::bot::{Bot, Setup};
use crate::slack::Double;

pub const NAMESPACE: &str = "bench-conversations";

/// When the bench first saw each Deployment at each generation (a watch, admin client).
pub type Generations = Arc<Mutex<HashMap<(String, i64), Instant>>>;

pub struct Stage {
    pub bot: Bot,
    pub slack: Double,
    pub setup: Setup,
    pub generations: Generations,
    pub deployments: Vec<String>,
    watch: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
    _redis: RedisServer,
    _lab: Lab,
}

impl Stage {
    pub async fn start(incidents: usize) -> anyhow::Result<Self> {
        let options = LabOptions {
            kubelet: KubeletOptions {
                nodes: 2,
                ..KubeletOptions::default()
            },
            ..LabOptions::default()
        };
        let lab = Lab::start(options).await.context("the lab did not start")?;
        let redis = RedisServer::start()
            .await
            .context("cannot start redis-server")?;
        let admin = lab.client(Identity::Admin).await?;
        scenarios::create_namespace(&admin, NAMESPACE).await?;
        let deployments = stuck_rollouts(&admin, incidents).await?;
        let (generations, watch) = watch(Api::namespaced(admin.clone(), NAMESPACE));
        let settings = robot_sre::config::OpsSettings {
            namespaces: vec![robot_sre::domain::Namespace::parse(NAMESPACE)?],
            ..Default::default()
        };
        let account = BotAccount {
            namespace: "robot-sre".into(),
            name: "robot-sre".into(),
        };
        let kubeconfig = bot::install(&lab, &admin, &manifests(&settings, &account))
            .await
            .context("cannot install the bot's RBAC")?;
        let slack = Double::start().await;
        let dir = tempfile::tempdir()?;
        let limits = json!({ "max_executions_per_hour": 1000, "blast_radius": 1000,
            "max_concurrent": 1000 });
        let setup = Setup {
            redis_url: redis.url(),
            key_prefix: format!("bench-conv-{:016x}", rand::random::<u64>()),
            slack_url: slack.url(),
            kubeconfig,
            namespace: NAMESPACE.into(),
            dir: dir.path().to_owned(),
            ops_extra: limits.as_object().cloned().unwrap_or_default(),
        };
        let bot = Bot::start(&setup, "bench", None).await;
        Ok(Self {
            bot,
            slack,
            setup,
            generations,
            deployments,
            watch,
            _dir: dir,
            _redis: redis,
            _lab: lab,
        })
    }
}

impl Stage {
    /// Ends the watch, then stops everything: an open watch would hold up the API server's
    /// graceful shutdown, and with it the lab's.
    pub async fn stop(self) {
        let watch = self.watch;
        watch.abort();
        let _ = watch.await;
    }
}

/// `count` Deployments stuck with a new pod unable to pull its image, opted in.
async fn stuck_rollouts(admin: &kube::Client, count: usize) -> anyhow::Result<Vec<String>> {
    let names: Vec<String> = (0..count).map(|n| format!("web-{n:03}")).collect();
    futures::stream::iter(names.iter())
        .map(|name| async move {
            scenarios::stuck_rollout(admin, NAMESPACE, name).await?;
            scenarios::opt_in(admin, NAMESPACE, name).await?;
            anyhow::Ok(())
        })
        .buffer_unordered(4)
        .try_collect::<Vec<_>>()
        .await
        .context("the stuck rollouts")?;
    Ok(names)
}

fn watch(api: Api<Deployment>) -> (Generations, tokio::task::JoinHandle<()>) {
    let seen: Generations = Arc::default();
    let record = seen.clone();
    let task = tokio::spawn(async move {
        let mut events = watcher(api, watcher::Config::default()).boxed();
        while let Some(event) = events.next().await {
            let at = Instant::now();
            let (Ok(watcher::Event::Apply(d)) | Ok(watcher::Event::InitApply(d))) = event else {
                continue;
            };
            let key = (
                d.metadata.name.unwrap_or_default(),
                d.metadata.generation.unwrap_or(0),
            );
            record
                .lock()
                .expect("the watch record")
                .entry(key)
                .or_insert(at);
        }
    });
    (seen, task)
}
