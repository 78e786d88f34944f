//! Start-up: turn validated settings into a running app, and run it until shutdown.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::channels::setup::Channels;
use crate::channels::{Inbound, Router};
use crate::config::{LoadedSettings, Secret, Settings, StoreBackend};
use crate::conversations::EvidenceCollector;
use crate::conversations::delivery_failure::RaiseIncident;
use crate::conversations::driver::{Driver, Parts};
use crate::http;
use crate::incidents::{Classifier, IncidentService, IngestPolicy, Triage};
use crate::metrics::Metrics;
use crate::ops::{Cluster, Ops};
use crate::policy::load::{LoadedPolicy, StartError, load, load_audited};
use crate::policy::record::PolicyAudit;
use crate::store::{MemoryStore, RedisStore, RedisStoreConfig, Store};

/// Everything the HTTP handlers share.
pub struct App {
    pub store: Arc<dyn Store>,
    pub incidents: Arc<IncidentService>,
    /// Collects evidence for new incidents; `None` when the bot has no cluster access.
    pub evidence: Option<EvidenceCollector>,
    /// The conversation driver; `None` until [`run`] starts it (tests without it only record).
    pub conversations: Option<Driver>,
    /// The failover router over the configured chat channels; `None` when none is configured.
    pub channels: Option<Arc<Router>>,
    /// The chat channels' inbound endpoints (Slack, Telegram and WhatsApp webhooks).
    pub channel_routes: axum::Router,
    pub metrics: Arc<Metrics>,
    pub alertmanager_token: Option<Secret>,
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
}

impl App {
    /// Builds the app on an existing store (tests and benchmarks bring their own).
    pub fn with_store(settings: &Settings, classifier: Classifier, store: Arc<dyn Store>) -> Self {
        let cluster = &settings.cluster;
        let namespace_environments: HashMap<_, _> = cluster
            .environments
            .iter()
            .flat_map(|(env, namespaces)| namespaces.iter().map(|ns| (ns.clone(), *env)))
            .collect();
        let triage = Triage {
            classifier,
            cluster: cluster.name.clone(),
            environment_label: cluster.environment_label.clone(),
            default_environment: cluster.default_environment,
            namespace_environments,
        };
        let policy = IngestPolicy {
            suppression_window: settings.incidents.suppression_window,
            retention: settings.incidents.retention,
            history_limit: settings.incidents.history_limit,
        };
        Self {
            incidents: Arc::new(IncidentService::new(store.clone(), triage, policy)),
            evidence: None,
            conversations: None,
            channels: None,
            channel_routes: axum::Router::new(),
            store,
            metrics: Arc::new(Metrics::new()),
            alertmanager_token: settings.alertmanager.token.clone(),
            max_body_bytes: settings.alertmanager.max_body_bytes,
            request_timeout: settings.server.request_timeout,
        }
    }

    /// Collects evidence for every new or reopened incident through `cluster`.
    pub fn with_evidence(mut self, cluster: Cluster, settings: &Settings) -> Self {
        self.evidence = Some(EvidenceCollector::new(cluster, settings.ops.clone()));
        self
    }
}

/// The bot's cluster connection, or `None` with a warning: without one, incidents are still
/// recorded, but carry no evidence and no action can be taken.
async fn connect_cluster(settings: &Settings) -> Option<Cluster> {
    match Cluster::connect(&settings.ops).await {
        Ok(cluster) => Some(cluster),
        Err(error) => {
            let error = http::error_chain(&error);
            tracing::warn!(%error, "no Kubernetes access (ops.kubeconfig, KUBECONFIG, ~/.kube/config or in-cluster): incidents carry no evidence");
            None
        }
    }
}

/// The store the settings ask for.
///
/// # Errors
/// When the Redis URL cannot be used (an unreachable server is not an error here: the store
/// connects on first use and `/readyz` reports it).
pub fn open_store(settings: &Settings) -> anyhow::Result<Arc<dyn Store>> {
    Ok(match settings.store.backend {
        StoreBackend::Memory => Arc::new(MemoryStore::new()),
        StoreBackend::Redis => {
            let redis = &settings.store.redis;
            let config = RedisStoreConfig {
                url: redis.url.clone(),
                key_prefix: redis.key_prefix.clone(),
                connect_timeout: redis.connect_timeout,
                command_timeout: redis.command_timeout,
            };
            Arc::new(RedisStore::new(&config).context("cannot use store.redis.url")?)
        }
    })
}

/// Runs the bot until SIGTERM or SIGINT.
///
/// # Errors
/// When the listen address cannot be bound or the store cannot be set up.
pub async fn run(loaded: LoadedSettings) -> anyhow::Result<()> {
    let store = open_store(&loaded.settings)?;
    let listener = bind(loaded.settings.server.listen).await?;
    let shutdown = http::termination_signal().context("cannot install signal handlers")?;
    run_on(loaded, store, listener, shutdown).await
}

/// Runs the bot on `store`, serving on `listener`, until `shutdown` completes (the demo runs
/// it in-process this way, on its own store and port).
///
/// # Errors
/// When the store cannot be set up or serving fails.
pub async fn run_on(
    loaded: LoadedSettings,
    store: Arc<dyn Store>,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    for warning in &loaded.warnings {
        tracing::warn!("{warning}");
    }
    let settings = loaded.settings;
    match store.ping().await {
        Ok(()) => {
            if let Some(warning) = store.durability_warning().await {
                tracing::warn!("{warning}");
            }
        }
        Err(error) => {
            let error = http::error_chain(&error);
            tracing::warn!(%error, "state store not answering yet; /readyz reports 503 and alerts get 503 until it does");
        }
    }
    let mut app = App::with_store(&settings, loaded.classifier, store);
    let cluster = connect_cluster(&settings).await;
    if let Some(cluster) = &cluster {
        app = app.with_evidence(cluster.clone(), &settings);
    }
    let (channels, inbound) = start_channels(&settings, &mut app).await?;
    let policy = start_policy(&settings, &app, cluster.as_ref()).await?;
    let driver = Driver::new(
        Parts {
            store: app.store.clone(),
            incidents: app.incidents.clone(),
            policy: Arc::new(policy.policy),
            ops: cluster.map(|c| Ops::new(c, app.store.clone(), settings.ops.clone())),
            evidence: app.evidence.clone(),
            router: app.channels.clone(),
            metrics: app.metrics.clone(),
        },
        &settings,
    );
    app.conversations = Some(driver.clone());
    let (stop_loops, loops_stopped) = tokio::sync::oneshot::channel::<()>();
    let loops = tokio::spawn({
        let driver = driver.clone();
        async move {
            driver
                .run_loops(async move {
                    let _ = loops_stopped.await;
                })
                .await;
        }
    });
    if let Some(inbound) = inbound {
        tokio::spawn(read_inbound(inbound, driver));
    }
    let app = Arc::new(app);
    tracing::info!(address = %listener.local_addr()?, "robot-sre serving");
    let router = http::router(app);
    http::serve(listener, router, shutdown, settings.server.shutdown_grace).await?;
    let _ = stop_loops.send(());
    let _ = loops.await;
    if let Some(channels) = channels {
        channels.shutdown().await;
    }
    tracing::info!("robot-sre stopped");
    Ok(())
}

/// What humans send, as the channels hand it over.
type InboundEvents = tokio::sync::mpsc::Receiver<Inbound>;

/// Starts the configured chat channels; returns them and their inbound events.
async fn start_channels(
    settings: &Settings,
    app: &mut App,
) -> anyhow::Result<(Option<Channels>, Option<InboundEvents>)> {
    let configured = &settings.channels;
    if configured.slack.is_none()
        && configured.telegram.is_none()
        && configured.whatsapp.is_none()
        && configured.console.is_none()
    {
        tracing::warn!("no chat channel configured: incidents are recorded but nobody is told");
        return Ok((None, None));
    }
    let failures = Arc::new(RaiseIncident::new(app.incidents.clone()));
    let counter = app.metrics.chat_delivery_failures.clone();
    let (mut channels, events) =
        crate::channels::setup::build(configured, app.store.clone(), failures, counter).await?;
    app.channels = Some(channels.router.clone());
    app.channel_routes = std::mem::take(&mut channels.routes);
    Ok((Some(channels), Some(events)))
}

/// The policy, loaded and its rules audited; runbooks from the cluster are added when the
/// RemediationRunbook CRD is installed.
///
/// # Errors
/// When the policy files are invalid or the store cannot record the rules.
async fn start_policy(
    settings: &Settings,
    app: &App,
    cluster: Option<&Cluster>,
) -> anyhow::Result<LoadedPolicy> {
    let mut loaded = match load_audited(settings, app.store.clone()).await {
        Ok(loaded) => loaded,
        Err(StartError::Audit(error)) => {
            // The store is down: nothing is recorded or decided until it answers, so the
            // rule changes are recorded as soon as it does, before any decision can use them.
            let error = http::error_chain(&error);
            tracing::warn!(%error, "operator rule changes not recorded yet; retrying in the background");
            let store = app.store.clone();
            let loaded = load(settings).map_err(StartError::Invalid)?;
            let rules = loaded.policy.rules().clone();
            tokio::spawn(async move {
                let record = || async {
                    PolicyAudit::new(store.clone())
                        .record_rules(&rules, chrono::Utc::now())
                        .await
                };
                let retries = backon::ExponentialBuilder::default()
                    .with_max_delay(Duration::from_secs(30))
                    .without_max_times();
                if let Err(error) = backon::Retryable::retry(record, retries).await {
                    let error = http::error_chain(&error);
                    tracing::error!(%error, "operator rule changes never recorded");
                }
            });
            loaded
        }
        Err(error) => return Err(error).context("the policy cannot be loaded"),
    };
    if let Some(cluster) = cluster {
        match crate::ops::runbooks::cluster_runbooks(cluster, loaded.policy.taxonomy()).await {
            Ok(Some(runbooks)) => loaded.add_runbooks(runbooks),
            Ok(None) => {}
            Err(error) => {
                let error = http::error_chain(&error);
                tracing::warn!(%error, "runbooks in the cluster not read; using files only");
            }
        }
    }
    for rejected in &loaded.rejected_runbooks {
        tracing::warn!(%rejected, "runbook rejected");
    }
    Ok(loaded)
}

/// Hands every inbound event to the conversation driver, each in its own task so a slow
/// execution never holds up the next click.
async fn read_inbound(mut events: InboundEvents, driver: Driver) {
    while let Some(event) = events.recv().await {
        let driver = driver.clone();
        tokio::spawn(async move { driver.handle_inbound(event).await });
    }
}

async fn bind(address: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen on {address} (server.listen)"))
}
