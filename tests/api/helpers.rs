//! The test harness: a running bot on a free port, its store, a shared real redis-server.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use robot_sre::app::App;
use robot_sre::config::{Secret, Settings};
use robot_sre::incidents::{Classifier, IncidentRepository};
use robot_sre::store::{MemoryStore, RedisStore, RedisStoreConfig, Store};
use robot_sre::testkit::RedisServer;
use robot_sre::testkit::process::poll_until;
use tokio::net::TcpListener;
use tokio::sync::{OnceCell, oneshot};
use tokio::task::JoinHandle;

pub const TOKEN: &str = "test-token-not-a-secret";
pub const EXAMPLE: &str = include_str!("../fixtures/alertmanager-webhook-example.json");

static SHARED_REDIS: OnceCell<RedisServer> = OnceCell::const_new();

/// The Redis every test shares: `REDIS_URL` when set, else one redis-server per test process.
pub async fn redis_url() -> String {
    if let Ok(url) = std::env::var("REDIS_URL") {
        return url;
    }
    let server = SHARED_REDIS
        .get_or_init(|| async { RedisServer::start().await.expect("redis-server starts") })
        .await;
    server.url()
}

/// A key prefix no other test uses.
pub fn unique_prefix() -> String {
    format!("test-{:016x}", rand::rng().random::<u64>())
}

pub fn redis_store(url: &str, prefix: &str) -> Arc<dyn Store> {
    let config = RedisStoreConfig {
        url: Secret::new(url),
        key_prefix: prefix.to_owned(),
        connect_timeout: Duration::from_millis(500),
        command_timeout: Duration::from_secs(2),
    };
    Arc::new(RedisStore::new(&config).expect("valid redis url"))
}

/// Every key under `prefix`, read straight from Redis.
pub async fn redis_keys(url: &str, prefix: &str) -> Vec<String> {
    let client = redis::Client::open(url).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    redis::cmd("KEYS")
        .arg(format!("{prefix}:*"))
        .query_async(&mut connection)
        .await
        .unwrap()
}

/// Which store a test app uses.
pub enum Backend {
    Memory,
    /// The shared Redis, under a fresh prefix.
    Redis,
    /// A given Redis URL, under a fresh prefix.
    RedisAt(String),
    /// A store the test built.
    Given(Arc<dyn Store>),
}

pub struct TestApp {
    pub address: SocketAddr,
    pub client: reqwest::Client,
    pub repository: IncidentRepository,
    /// The Redis URL and prefix, when the app uses Redis.
    pub redis: Option<(String, String)>,
    shutdown: Option<oneshot::Sender<()>>,
    pub server: JoinHandle<std::io::Result<()>>,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// POSTs a webhook body with the right token.
    pub async fn post_alerts(&self, body: impl Into<reqwest::Body>) -> reqwest::Response {
        self.client
            .post(self.url("/webhooks/alertmanager"))
            .bearer_auth(TOKEN)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("request sent")
    }

    /// GETs a path.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request sent")
    }

    /// The `/metrics` text.
    pub async fn metrics(&self) -> String {
        self.get("/metrics")
            .await
            .text()
            .await
            .expect("metrics body")
    }

    /// Keys the app wrote to Redis (panics for the memory backend).
    pub async fn stored_keys(&self) -> Vec<String> {
        let (url, prefix) = self.redis.as_ref().expect("a Redis-backed app");
        redis_keys(url, prefix).await
    }

    /// Triggers graceful shutdown.
    pub fn shut_down(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

/// A bot with the memory store and the test token.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(Backend::Memory, |_| {}).await
}

/// A bot on `backend`, with settings adjusted by `adjust` (the token is set first).
pub async fn spawn_app_with(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let mut settings = Settings::default();
    settings.alertmanager.token = Some(Secret::new(TOKEN));
    settings.cluster.name = "lab".into();
    adjust(&mut settings);
    let (store, redis): (Arc<dyn Store>, _) = match backend {
        Backend::Memory => (Arc::new(MemoryStore::new()), None),
        Backend::Redis => {
            let url = redis_url().await;
            let prefix = unique_prefix();
            (redis_store(&url, &prefix), Some((url, prefix)))
        }
        Backend::RedisAt(url) => {
            let prefix = unique_prefix();
            (redis_store(&url, &prefix), Some((url, prefix)))
        }
        Backend::Given(store) => (store, None),
    };
    let app = Arc::new(App::with_store(
        &settings,
        Classifier::builtin(),
        store.clone(),
    ));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (shutdown, shutdown_rx) = oneshot::channel::<()>();
    let router = robot_sre::http::router(app.clone());
    let server = tokio::spawn(robot_sre::http::serve(
        listener,
        router,
        async {
            let _ = shutdown_rx.await;
        },
        settings.server.shutdown_grace,
    ));
    TestApp {
        address,
        client: reqwest::Client::new(),
        repository: IncidentRepository::new(store),
        redis,
        shutdown: Some(shutdown),
        server,
    }
}

/// Polls `check` every 50 ms until it returns `Some`, for at most `deadline`.
pub async fn eventually<T, F, Fut>(deadline: Duration, what: &str, check: F) -> T
where
    F: Fn() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    poll_until(deadline, Duration::from_millis(50), check)
        .await
        .unwrap_or_else(|| panic!("{what}: not within {deadline:?}"))
}

/// One firing alert as Alertmanager sends it.
pub fn firing_payload(alertname: &str, fingerprint: &str, labels: &[(&str, &str)]) -> String {
    let mut all: serde_json::Map<String, serde_json::Value> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), serde_json::Value::from(*v)))
        .collect();
    all.insert("alertname".into(), alertname.into());
    serde_json::json!({
        "version": "4",
        "groupKey": format!("{{}}:{{alertname=\"{alertname}\"}}"),
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "robot-sre",
        "groupLabels": {"alertname": alertname},
        "commonLabels": all,
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": [{
            "status": "firing",
            "labels": all,
            "annotations": {"summary": "test"},
            "startsAt": "2026-11-21T05:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus:9090/graph",
            "fingerprint": fingerprint,
        }],
    })
    .to_string()
}

/// The same notification, resolved (every `status` field).
pub fn resolved(payload: &str) -> String {
    payload.replace("\"status\":\"firing\"", "\"status\":\"resolved\"")
}
