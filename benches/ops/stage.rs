//! What the benchmark runs against: its own Kubernetes lab and redis-server, the bot on its
//! production identity (the ServiceAccount bound by the generated RBAC manifests), and a
//! healthy, opted-in Deployment to restart.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use robot_sre::config::{OpsSettings, RedisSettings, Secret};
use robot_sre::domain::{ActionKind, Namespace};
use robot_sre::incidents::IncidentId;
use robot_sre::ops::rbac::{BotAccount, manifests};
use robot_sre::ops::{Action, ActionRequest, Cluster, Ops};
use robot_sre::store::{RedisStore, RedisStoreConfig};
use robot_sre::testkit::RedisServer;
use robot_sre::testkit::lab::{
    Identity, KubeletOptions, Lab, LabOptions, bot, kubeconfig, scenarios,
};

use crate::config::{Config, WARM_UP};

pub const NAMESPACE: &str = "ops-bench";
pub const DEPLOYMENT: &str = "web";

/// The lab, Redis and the bot. Dropping it stops the lab and redis-server.
pub struct Stage {
    pub ops: Ops,
    /// A cluster administrator's client, for set-up and the independent watch.
    pub admin: kube::Client,
    /// The API server's `gitVersion`.
    pub kubernetes: String,
    pub settings_note: String,
    // Last, so the clients go before the processes they talk to.
    _redis: RedisServer,
    _lab: Lab,
}

impl Stage {
    pub async fn start(config: &Config) -> anyhow::Result<Self> {
        eprintln!("ops bench: starting the lab and redis-server…");
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
        let kubernetes = admin.apiserver_version().await?.git_version;
        scenarios::create_namespace(&admin, NAMESPACE).await?;
        let settings = settings(config.runs + WARM_UP)?;
        let settings_note = describe(&settings);
        let ops = bot_on(&lab, &admin, &redis, settings).await?;
        eprintln!("ops bench: creating Deployment {NAMESPACE}/{DEPLOYMENT}…");
        scenarios::healthy_deployment(&admin, NAMESPACE, DEPLOYMENT, config.replicas).await?;
        opt_in(&admin).await?;
        Ok(Self {
            ops,
            admin,
            kubernetes,
            settings_note,
            _redis: redis,
            _lab: lab,
        })
    }

    /// A fresh rollout-restart request, for an incident of its own.
    pub fn restart() -> anyhow::Result<ActionRequest> {
        let target = format!("{NAMESPACE}/{DEPLOYMENT}");
        let action = Action::parse(ActionKind::Restart, &target, None)?;
        Ok(ActionRequest::new(IncidentId::generate(), action))
    }
}

/// Production defaults, except where repeated restarts of one Deployment would be refused or
/// a fixed wait would be measured.
fn settings(executions: usize) -> anyhow::Result<OpsSettings> {
    let mut settings = OpsSettings {
        namespaces: vec![Namespace::parse(NAMESPACE)?],
        ..OpsSettings::default()
    };
    // Every run restarts the same Deployment, right after the previous one.
    settings.cooldown = Duration::from_millis(1);
    settings.max_executions_per_hour = executions;
    // The settle window is a fixed wait after the rollout; it would only add its own length.
    settings.verify.settle = Duration::ZERO;
    // Only reached by a run that fails; the default (5 min) would make a failure slow to show.
    settings.verify.deadline = Duration::from_secs(60);
    Ok(settings)
}

fn describe(settings: &OpsSettings) -> String {
    let verify = &settings.verify;
    let human = humantime::format_duration;
    format!(
        "cooldown {}, at most {} executions per hour, verification looks after {} then \
         doubling up to {} apart (the defaults), settle {}, deadline {}",
        human(settings.cooldown),
        settings.max_executions_per_hour,
        human(verify.poll_min),
        human(verify.poll_max),
        human(verify.settle),
        human(verify.deadline)
    )
}

/// Installs the generated RBAC and builds the bot on its ServiceAccount's token.
async fn bot_on(
    lab: &Lab,
    admin: &kube::Client,
    redis: &RedisServer,
    settings: OpsSettings,
) -> anyhow::Result<Ops> {
    let account = BotAccount {
        namespace: "robot-sre".into(),
        name: "robot-sre".into(),
    };
    let path = bot::install(lab, admin, &manifests(&settings, &account))
        .await
        .context("cannot install the bot's RBAC")?;
    let client = kubeconfig::client(&path).await?;
    let defaults = RedisSettings::default();
    let store = RedisStore::new(&RedisStoreConfig {
        url: Secret::new(redis.url()),
        key_prefix: "ops-bench".into(),
        connect_timeout: defaults.connect_timeout,
        command_timeout: defaults.command_timeout,
    })
    .context("cannot use the redis-server URL")?;
    let cluster = Cluster::new(client, settings.api_timeout);
    Ok(Ops::new(cluster, Arc::new(store), settings))
}

/// Labels the Deployment with the opt-in label, as an administrator would.
async fn opt_in(admin: &kube::Client) -> anyhow::Result<()> {
    scenarios::opt_in(admin, NAMESPACE, DEPLOYMENT)
        .await
        .context("cannot label the Deployment")
}
