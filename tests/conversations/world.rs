//! One scenario: a namespace on the shared lab with a Deployment whose rollout is stuck
//! pulling an image, the bot's ServiceAccount installed from the RBAC it generates, the chat
//! doubles, a fresh Redis key prefix, the bot binary configured for all of it, and a real
//! Alertmanager that delivers to the bot.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use rand::Rng;
use robot_sre::config::{OpsSettings, Secret};
use robot_sre::domain::Namespace;
use robot_sre::incidents::IncidentId;
use robot_sre::ops::rbac::{BotAccount, manifests};
use robot_sre::store::{RedisStore, RedisStoreConfig, Store};
use robot_sre::testkit::lab::scenarios::{self, SCENARIO_DEADLINE};
use robot_sre::testkit::lab::{Identity, bot as lab_bot};
use robot_sre::testkit::{Alertmanager, RedisServer, alertmanager::Routing};
use serde_json::{Value, json};
use tokio::sync::OnceCell;

use crate::bot::{AM_TOKEN, Bot, Stored, eventually};
use crate::helpers::{TestNamespace, lab};
use crate::{slack, telegram};

/// The Telegram chat prompts go to.
pub const CHAT: i64 = -1_001_234_567_890;
/// Approvers (group `sre`): Slack and Telegram identities.
pub const ALICE_SLACK: &str = "U0ALICE01";
pub const ALICE_TELEGRAM: i64 = 1001;
pub const BOB_SLACK: &str = "U0BOB0001";
/// A configured person who is not an approver.
pub const MALLORY_SLACK: &str = "U0MALLORY";

static REDIS: OnceCell<RedisServer> = OnceCell::const_new();

async fn redis_url() -> String {
    if let Ok(url) = std::env::var("REDIS_URL") {
        return url;
    }
    REDIS
        .get_or_init(|| async { RedisServer::start().await.expect("redis-server starts") })
        .await
        .url()
}

/// What a scenario varies.
#[derive(Debug, Clone)]
pub struct Options {
    /// `conversations.prompt_expiry` (30 s at least).
    pub prompt_expiry: Duration,
    /// The Slack double refuses connections from the start.
    pub slack_down: bool,
    /// The web console configured with this login (alice's argon2 hash), and the channels
    /// prompts go to in order (e.g. `[console]`, or `[slack, console]`).
    pub console: Option<ConsoleLogin>,
}

/// The console's one user and the route that includes it.
#[derive(Debug, Clone)]
pub struct ConsoleLogin {
    /// alice's password hash, as `robot-sre console hash-password` prints it.
    pub password_hash: String,
    pub routes: Vec<&'static str>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            prompt_expiry: Duration::from_secs(900),
            slack_down: false,
            console: None,
        }
    }
}

pub struct World {
    pub ns: TestNamespace,
    pub deployment: String,
    pub slack: slack::Double,
    pub telegram: telegram::TelegramDouble,
    pub stored: Stored,
    pub bot: Bot,
    pub alertmanager: Alertmanager,
}

impl World {
    /// Everything up, the stuck rollout in place; no alert fired yet.
    pub async fn start(prefix: &str, options: Options) -> Self {
        let ns = TestNamespace::create(prefix).await;
        let deployment = "checkout".to_owned();
        stuck_and_pulling(&ns, &deployment).await;
        opt_in(&ns, &deployment).await;
        let kubeconfig = install_bot_account(&ns).await;
        let slack = slack::Double::start().await;
        if options.slack_down {
            slack.set_mode(slack::Mode::Down).await;
        }
        let telegram = telegram::TelegramDouble::start().await;
        let url = redis_url().await;
        let key_prefix = format!("e2e-{:016x}", rand::rng().random::<u64>());
        let config = config(&Config {
            ns: &ns.name,
            redis_url: &url,
            key_prefix: &key_prefix,
            kubeconfig: &kubeconfig,
            slack_url: &slack.url(),
            telegram_url: telegram.url().as_str(),
            prompt_expiry: options.prompt_expiry,
            console: options.console.as_ref(),
        });
        let bot = Bot::start(lab().dir(), &config).await;
        let webhook = format!("{}/webhooks/alertmanager", bot.base());
        let alertmanager = Alertmanager::start(&webhook, AM_TOKEN, &Routing::default())
            .await
            .expect("alertmanager starts");
        let stored = Stored {
            store: redis_store(&url, &key_prefix),
        };
        Self {
            ns,
            deployment,
            slack,
            telegram,
            stored,
            bot,
            alertmanager,
        }
    }

    /// The alert Prometheus would raise for the stuck rollout.
    pub fn alert(&self) -> Value {
        json!({
            "labels": {
                "alertname": "KubeDeploymentRolloutStuck", "namespace": self.ns.name,
                "deployment": self.deployment, "severity": "critical", "cluster": "lab",
            },
            "annotations": {"summary": format!("{} rollout is stuck", self.deployment)},
        })
    }

    /// Fires the alert through Alertmanager; the incident it became.
    pub async fn fire(&self) -> IncidentId {
        self.alertmanager
            .post_alerts(&json!([self.alert()]))
            .await
            .expect("alertmanager takes the alert");
        eventually(
            &self.bot,
            Duration::from_secs(30),
            "an incident from Alertmanager",
            || async { self.stored.open_incidents().await.into_iter().next() },
        )
        .await
    }

    /// Resolves the alert the way Prometheus does: re-sent with an end time passed.
    pub async fn resolve(&self) {
        let mut alert = self.alert();
        alert["endsAt"] = json!((chrono::Utc::now() - chrono::Duration::seconds(1)).to_rfc3339());
        self.alertmanager
            .post_alerts(&json!([alert]))
            .await
            .expect("alertmanager takes the resolution");
    }

    pub fn deployments(&self) -> Api<Deployment> {
        self.ns.api()
    }

    /// The Deployment's container image now.
    pub async fn image(&self) -> String {
        let deployment = self.deployments().get(&self.deployment).await.unwrap();
        deployment
            .spec
            .and_then(|s| s.template.spec)
            .and_then(|s| s.containers.into_iter().next())
            .and_then(|c| c.image)
            .unwrap_or_default()
    }

    /// Nothing was executed for `incident`: the image is still `broken` and no action result
    /// is in its audit trail.
    pub async fn assert_nothing_ran(&self, incident: &IncidentId, broken: &str) {
        assert_eq!(self.image().await, broken, "nothing ran on the cluster");
        let results = self
            .stored
            .audited(incident, robot_sre::audit::AuditKind::ActionResult)
            .await;
        assert!(results.is_empty(), "no action result expected: {results:?}");
    }
}

struct Config<'a> {
    ns: &'a str,
    redis_url: &'a str,
    key_prefix: &'a str,
    kubeconfig: &'a std::path::Path,
    slack_url: &'a str,
    telegram_url: &'a str,
    prompt_expiry: Duration,
    console: Option<&'a ConsoleLogin>,
}

/// The bot's configuration: the test namespace is production (a rollback needs approval),
/// Slack first then Telegram, alice and bob (group `sre`) may approve recover actions,
/// mallory is known but may not. `{port}` is filled in by [`Bot::start`].
fn config(c: &Config<'_>) -> String {
    let mut value = json!({
        "server": {"listen": "127.0.0.1:{port}", "shutdown_grace": "1s"},
        "alertmanager": {"token": AM_TOKEN},
        "store": {"backend": "redis", "redis": {"url": c.redis_url, "key_prefix": c.key_prefix}},
        "cluster": {"name": "lab", "environments": {"production": [c.ns]}},
        "telemetry": {"log_format": "pretty", "log_filter": "info"},
        "channels": {
            "slack": {
                "bot_token": slack::BOT_TOKEN, "signing_secret": slack::SIGNING_SECRET,
                "channel": slack::CHANNEL, "api_url": c.slack_url, "timeout": "2s",
            },
            "telegram": {
                "bot_token": telegram::TOKEN, "webhook_secret": telegram::WEBHOOK_SECRET,
                "chat_id": CHAT, "api_url": c.telegram_url, "mode": "webhook", "timeout": "2s",
            },
            "people": [
                {"name": "alice", "slack": ALICE_SLACK, "telegram": ALICE_TELEGRAM, "groups": ["sre"]},
                {"name": "bob", "slack": BOB_SLACK, "groups": ["sre"]},
                {"name": "mallory", "slack": MALLORY_SLACK},
            ],
            "routing": {
                "routes": [{"channels": ["slack", "telegram"]}],
                "attempt_timeout": "2s", "retry_min": "100ms", "retry_max": "500ms",
            },
        },
        "ops": {
            "kubeconfig": c.kubeconfig,
            "namespaces": [c.ns],
            "verify": {"deadline": "60s", "settle": "1s", "poll_min": "100ms", "poll_max": "500ms"},
        },
        "conversations": {
            "prompt_expiry": format!("{}s", c.prompt_expiry.as_secs()),
            "approvers": [{"who": ["group:sre"], "classes": ["recover"]}],
            "sweep_interval": "1s",
            "lease_ttl": "3s",
        },
    });
    if let Some(console) = c.console {
        value["channels"]["console"] = json!({
            "users": [{"name": "alice", "password_hash": console.password_hash}],
            "secure_cookie": false,
        });
        value["channels"]["routing"]["routes"] = json!([{"channels": console.routes}]);
    }
    serde_yaml::to_string(&value).expect("yaml")
}

fn redis_store(url: &str, prefix: &str) -> Arc<dyn Store> {
    let config = RedisStoreConfig {
        url: Secret::new(url),
        key_prefix: prefix.to_owned(),
        connect_timeout: Duration::from_secs(1),
        command_timeout: Duration::from_secs(2),
    };
    Arc::new(RedisStore::new(&config).expect("a redis store"))
}

/// The bot's own ServiceAccount for this namespace, bound by exactly the RBAC `robot-sre rbac`
/// generates; its kubeconfig.
async fn install_bot_account(ns: &TestNamespace) -> std::path::PathBuf {
    let settings = OpsSettings {
        namespaces: vec![Namespace::parse(&ns.name).expect("a namespace")],
        ..OpsSettings::default()
    };
    let account = BotAccount {
        namespace: "robot-sre".into(),
        name: format!("bot-{}", ns.name),
    };
    let admin = crate::helpers::client(Identity::Admin).await;
    lab_bot::install(lab(), &admin, &manifests(&settings, &account))
        .await
        .unwrap_or_else(|error| panic!("bot RBAC: {error}\n{}", lab().logs_tail(20)))
}

/// A Deployment whose rollout is stuck with a new pod in `ImagePullBackOff`.
async fn stuck_and_pulling(ns: &TestNamespace, name: &str) {
    scenarios::stuck_rollout(&ns.client, &ns.name, name)
        .await
        .unwrap();
    let pods: Api<Pod> = ns.api();
    let pulling = |pods: &[Pod]| {
        pods.iter()
            .any(|p| scenarios::waiting_reason(p) == Some("ImagePullBackOff"))
    };
    scenarios::wait_for_pods(
        &pods,
        &format!("app={name}"),
        "a pod in ImagePullBackOff",
        SCENARIO_DEADLINE,
        pulling,
    )
    .await
    .unwrap();
}

/// Labels the Deployment with the opt-in label, as its owner would.
async fn opt_in(ns: &TestNamespace, name: &str) {
    scenarios::opt_in(&ns.client, &ns.name, name)
        .await
        .expect("opt-in label");
}
