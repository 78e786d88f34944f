//! The bot against the lab: every test acts through the ServiceAccount bound by exactly the
//! RBAC manifests `robot-sre rbac` generates, with its state in a real Redis.

mod breaker;
mod evidence;
mod incident_evidence;
mod nodes;
mod outage;
mod phases;
mod rbac;
mod resources;
mod workloads;

use std::sync::Arc;
use std::time::Duration;

use kube::Api;
use rand::Rng;
use robot_sre::audit::Actor;
use robot_sre::config::{OpsSettings, RedisSettings, Secret};
use robot_sre::domain::{ActionKind, Namespace};
use robot_sre::incidents::IncidentId;
use robot_sre::ops::packet::{self, Packet, Status};
use robot_sre::ops::rbac::{BotAccount, manifests};
use robot_sre::ops::{Action, ActionRequest, Approval, Cluster, Ops};
use robot_sre::store::{RedisStore, RedisStoreConfig, Store};
use robot_sre::testkit::RedisServer;
use robot_sre::testkit::lab::{bot, kubeconfig};
use tokio::sync::OnceCell;

use crate::helpers::{TestNamespace, lab};
use k8s_openapi::api::core::v1::Pod;
use robot_sre::testkit::lab::scenarios::{self, SCENARIO_DEADLINE};

static REDIS: OnceCell<RedisServer> = OnceCell::const_new();

/// The account every test's bot runs as.
pub fn account() -> BotAccount {
    BotAccount {
        namespace: "robot-sre".into(),
        name: "robot-sre".into(),
    }
}

/// Settings for a bot allowed in `namespace`, with verification fast enough for tests.
pub fn settings(namespace: &str) -> OpsSettings {
    let mut settings = OpsSettings {
        namespaces: vec![Namespace::parse(namespace).expect("a namespace")],
        ..OpsSettings::default()
    };
    settings.verify.deadline = Duration::from_secs(60);
    settings.verify.settle = Duration::from_secs(1);
    settings.verify.poll_min = Duration::from_millis(100);
    settings.verify.poll_max = Duration::from_millis(500);
    settings
}

async fn store() -> Arc<dyn Store> {
    let url = match std::env::var("REDIS_URL") {
        Ok(url) => url,
        Err(_) => REDIS
            .get_or_init(|| async { RedisServer::start().await.expect("redis-server starts") })
            .await
            .url(),
    };
    let redis = RedisSettings::default();
    let config = RedisStoreConfig {
        url: Secret::new(url),
        key_prefix: format!("ops-test-{:016x}", rand::rng().random::<u64>()),
        connect_timeout: redis.connect_timeout,
        command_timeout: redis.command_timeout,
    };
    Arc::new(RedisStore::new(&config).expect("a redis store"))
}

/// A bot with `settings`, its RBAC installed from the generated manifests, and a fresh store.
pub async fn bot_with(settings: OpsSettings) -> Ops {
    bot_as(settings, &account()).await
}

/// [`bot_with`] as another ServiceAccount: for a test that needs RBAC the shared account may
/// have been given by another test (the cluster-wide node role, say).
pub async fn bot_as(settings: OpsSettings, account: &BotAccount) -> Ops {
    let admin = crate::helpers::client(robot_sre::testkit::lab::Identity::Admin).await;
    let path = bot::install(lab(), &admin, &manifests(&settings, account))
        .await
        .unwrap_or_else(|error| panic!("bot RBAC: {error}\n{}", lab().logs_tail(20)));
    let client = kubeconfig::client(&path).await.expect("a bot client");
    let cluster = Cluster::new(client, settings.api_timeout);
    Ops::new(cluster, store().await, settings)
}

/// A Deployment `name` whose rollout is stuck with a new pod in `ImagePullBackOff`.
pub async fn stuck_and_pulling(ns: &TestNamespace, name: &str) {
    scenarios::stuck_rollout(&ns.client, &ns.name, name)
        .await
        .unwrap();
    let pods: Api<Pod> = ns.api();
    let pulling = |pods: &[Pod]| {
        pods.iter()
            .any(|p| scenarios::waiting_reason(p) == Some("ImagePullBackOff"))
    };
    let selector = format!("app={name}");
    scenarios::wait_for_pods(
        &pods,
        &selector,
        "a pod in ImagePullBackOff",
        SCENARIO_DEADLINE,
        pulling,
    )
    .await
    .unwrap();
}

/// Labels a Deployment with the opt-in label (as an administrator would).
pub async fn opt_in(client: &kube::Client, namespace: &str, name: &str) {
    scenarios::opt_in(client, namespace, name)
        .await
        .expect("opt-in label");
}

/// A request for `kind` on `target`, for a fresh incident.
pub fn request(kind: ActionKind, target: &str, replicas: Option<u32>) -> ActionRequest {
    let action = Action::parse(kind, target, replicas).expect("a valid action");
    ActionRequest::new(IncidentId::generate(), action)
}

/// An approval by the bot itself, with no prompt seen (as under an auto-execute policy).
pub fn by_bot(ops: &Ops) -> Approval {
    Approval {
        actor: ops.bot(),
        fingerprint: None,
    }
}

/// Proposes `req`, expects it to be offerable, executes it as approved by a human who saw the
/// proposal, and expects a verified PASS.
pub async fn approve_and_verify(ops: &Ops, req: &ActionRequest) -> Packet {
    let proposal = ops.propose(req).await.unwrap();
    assert!(
        proposal.offerable(),
        "{}: {:?}",
        req.action,
        proposal.refusals
    );
    let done = ops
        .execute(req, &approved(&proposal.fingerprint))
        .await
        .unwrap();
    assert_eq!(done.status, Status::Verified, "{}", packet::readable(&done));
    done
}

/// An approval by a human who saw `fingerprint`.
pub fn approved(fingerprint: &str) -> Approval {
    Approval {
        actor: Actor::Human {
            id: "U123ONCALL".into(),
            channel: "slack".into(),
        },
        fingerprint: Some(fingerprint.to_owned()),
    }
}
