//! One test's world: a namespace with a stuck rollout the bot may act on, the bot's RBAC
//! installed from the generated manifests, a fresh key prefix in a real Redis, and a Slack
//! double.

use k8s_openapi::api::apps::v1::Deployment;
use rand::Rng;
use robot_sre::ops::rbac::manifests;
use robot_sre::testkit::RedisServer;
use robot_sre::testkit::lab::bot;
use tokio::sync::OnceCell;

use super::bot::Setup;
use super::slack::Double;
use crate::helpers::{TestNamespace, client, lab};
use crate::ops::{account, opt_in, settings, stuck_and_pulling};

/// The Deployment every test rolls back.
pub const DEPLOYMENT: &str = "checkout";

static REDIS: OnceCell<RedisServer> = OnceCell::const_new();

pub struct Fixture {
    pub ns: TestNamespace,
    pub slack: Double,
    pub setup: Setup,
    _dir: tempfile::TempDir,
}

impl Fixture {
    /// A stuck, opted-in rollout of [`DEPLOYMENT`] in a fresh namespace named `prefix-…`.
    pub async fn start(prefix: &str) -> Self {
        let ns = TestNamespace::create(prefix).await;
        stuck_and_pulling(&ns, DEPLOYMENT).await;
        opt_in(&ns.client, &ns.name, DEPLOYMENT).await;
        let admin = client(robot_sre::testkit::lab::Identity::Admin).await;
        let kubeconfig = bot::install(lab(), &admin, &manifests(&settings(&ns.name), &account()))
            .await
            .unwrap_or_else(|error| panic!("bot RBAC: {error}\n{}", lab().logs_tail(20)));
        let redis = REDIS
            .get_or_init(|| async { RedisServer::start().await.expect("redis-server starts") })
            .await;
        let slack = Double::start().await;
        let dir = tempfile::tempdir().expect("a temporary directory");
        let setup = Setup {
            redis_url: redis.url(),
            key_prefix: format!("conv-test-{:016x}", rand::rng().random::<u64>()),
            slack_url: slack.url(),
            kubeconfig,
            namespace: ns.name.clone(),
            dir: dir.path().to_owned(),
            ops_extra: serde_json::Map::new(),
        };
        Self {
            ns,
            slack,
            setup,
            _dir: dir,
        }
    }

    /// The Deployment's rollout revision annotation and `metadata.generation`: a rollback
    /// adds one to each, a second rollback would add another.
    pub async fn revision(&self) -> (u64, i64) {
        let deployment = self
            .ns
            .api::<Deployment>()
            .get(DEPLOYMENT)
            .await
            .expect("the Deployment");
        let revision = deployment
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get("deployment.kubernetes.io/revision"))
            .and_then(|r| r.parse().ok())
            .unwrap_or_default();
        (revision, deployment.metadata.generation.unwrap_or_default())
    }
}
