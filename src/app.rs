//! Start-up: turn validated settings into a running app, and run it until shutdown.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::channels::setup::Channels;
use crate::channels::{Inbound, InboundKind, Router};
use crate::config::{LoadedSettings, Secret, Settings, StoreBackend};
use crate::conversations::EvidenceCollector;
use crate::conversations::delivery_failure::RaiseIncident;
use crate::http;
use crate::incidents::{Classifier, IncidentService, IngestPolicy, Triage};
use crate::metrics::Metrics;
use crate::ops::Cluster;
use crate::store::{MemoryStore, RedisStore, RedisStoreConfig, Store};

/// Everything the HTTP handlers share.
pub struct App {
    pub store: Arc<dyn Store>,
    pub incidents: Arc<IncidentService>,
    /// Collects evidence for new incidents; `None` when the bot has no cluster access.
    pub evidence: Option<EvidenceCollector>,
    /// The failover router over the configured chat channels; `None` when none is configured.
    pub channels: Option<Arc<Router>>,
    /// The chat channels' inbound endpoints (Slack, Telegram and WhatsApp webhooks).
    pub channel_routes: axum::Router,
    pub metrics: Metrics,
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
            channels: None,
            channel_routes: axum::Router::new(),
            store,
            metrics: Metrics::new(),
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
    for warning in &loaded.warnings {
        tracing::warn!("{warning}");
    }
    let settings = loaded.settings;
    let store = open_store(&settings)?;
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
    if let Some(cluster) = connect_cluster(&settings).await {
        app = app.with_evidence(cluster, &settings);
    }
    let channels = start_channels(&settings, &mut app).await?;
    let app = Arc::new(app);
    let listener = bind(settings.server.listen).await?;
    let shutdown = http::termination_signal().context("cannot install signal handlers")?;
    tracing::info!(address = %listener.local_addr()?, "robot-sre serving");
    let router = http::router(app);
    http::serve(listener, router, shutdown, settings.server.shutdown_grace).await?;
    if let Some(channels) = channels {
        channels.shutdown().await;
    }
    tracing::info!("robot-sre stopped");
    Ok(())
}

/// Starts the configured chat channels and hands their inbound events to a reader.
async fn start_channels(settings: &Settings, app: &mut App) -> anyhow::Result<Option<Channels>> {
    let configured = &settings.channels;
    if configured.slack.is_none() && configured.telegram.is_none() && configured.whatsapp.is_none()
    {
        tracing::warn!("no chat channel configured: incidents are recorded but nobody is told");
        return Ok(None);
    }
    let failures = Arc::new(RaiseIncident::new(app.incidents.clone()));
    let counter = app.metrics.chat_delivery_failures.clone();
    let (mut channels, events) =
        crate::channels::setup::build(configured, app.store.clone(), failures, counter).await?;
    app.channels = Some(channels.router.clone());
    app.channel_routes = std::mem::take(&mut channels.routes);
    channels.background.push(tokio::spawn(read_inbound(events)));
    Ok(Some(channels))
}

/// Logs what humans send until the conversation layer answers them: decisions are not acted on
/// yet, and say so.
async fn read_inbound(mut events: tokio::sync::mpsc::Receiver<Inbound>) {
    while let Some(event) = events.recv().await {
        let sender = event.sender.describe();
        match &event.kind {
            InboundKind::Ignored { reason } => tracing::warn!(%sender, %reason, "inbound ignored"),
            kind => {
                tracing::info!(%sender, ?kind, "inbound received; approvals are not acted on in this version")
            }
        }
    }
}

async fn bind(address: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen on {address} (server.listen)"))
}
