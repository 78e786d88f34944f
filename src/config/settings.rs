//! The settings tree. Field docs here are the configuration reference; `config/` has an
//! annotated example and the README a table.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use url::Url;

use super::channels::ChannelSettings;
use super::conversations::ConversationSettings;
use super::ops::OpsSettings;
use super::policy::PolicySettings;
use super::secret::Secret;
use crate::domain::Namespace;
use crate::incidents::model::Environment;

/// All settings.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    pub alertmanager: AlertmanagerSettings,
    pub incidents: IncidentSettings,
    pub store: StoreSettings,
    pub cluster: ClusterSettings,
    pub telemetry: TelemetrySettings,
    pub channels: ChannelSettings,
    pub ops: OpsSettings,
    pub policy: PolicySettings,
    pub conversations: ConversationSettings,
}

/// The HTTP server.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerSettings {
    /// Address and port to listen on.
    pub listen: SocketAddr,
    /// How long in-flight requests may take to finish after SIGTERM/SIGINT.
    #[serde(with = "humantime_serde")]
    pub shutdown_grace: Duration,
    /// Deadline for handling one request (503 beyond it, so Alertmanager retries).
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([0, 0, 0, 0], 8080)),
            shutdown_grace: Duration::from_secs(30),
            request_timeout: Duration::from_secs(10),
        }
    }
}

/// The Alertmanager webhook receiver.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertmanagerSettings {
    /// Bearer token Alertmanager sends (`http_config.authorization.credentials`). Without it the
    /// endpoint refuses every request.
    pub token: Option<Secret>,
    /// Largest accepted body, in bytes (413 beyond it).
    pub max_body_bytes: usize,
}

impl Default for AlertmanagerSettings {
    fn default() -> Self {
        Self {
            token: None,
            max_body_bytes: 1024 * 1024,
        }
    }
}

/// Incident bookkeeping.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct IncidentSettings {
    /// A resolved incident whose alert fires again within this window is reopened rather than
    /// opened anew, and notifies nobody.
    #[serde(with = "humantime_serde")]
    pub suppression_window: Duration,
    /// How long resolved incidents are kept in the store.
    #[serde(with = "humantime_serde")]
    pub retention: Duration,
    /// How many history entries one incident keeps (the oldest are dropped and counted).
    pub history_limit: usize,
    /// A classification rules file replacing the built-in rules (see config/classification.yaml).
    pub classification_rules: Option<PathBuf>,
}

impl Default for IncidentSettings {
    fn default() -> Self {
        Self {
            suppression_window: Duration::from_secs(15 * 60),
            retention: Duration::from_secs(30 * 24 * 3600),
            history_limit: 200,
            classification_rules: None,
        }
    }
}

/// Which store backend to use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StoreBackend {
    /// This process only; lost on restart. For the quick start and single-replica trials.
    #[default]
    Memory,
    /// Redis, shared by every replica. For production.
    Redis,
}

/// The state store.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreSettings {
    pub backend: StoreBackend,
    pub redis: RedisSettings,
}

/// Redis connection settings.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RedisSettings {
    /// `redis://[user:password@]host:port/db`, `rediss://…` (TLS) or `unix:///path`. Held as a
    /// secret (it may carry a password); printed with any password masked.
    #[serde(serialize_with = "serialize_masked_url")]
    pub url: Secret,
    /// Prefix of every key, so deployments can share one Redis.
    pub key_prefix: String,
    /// Deadline for connecting.
    #[serde(with = "humantime_serde")]
    pub connect_timeout: Duration,
    /// Deadline for one command.
    #[serde(with = "humantime_serde")]
    pub command_timeout: Duration,
}

impl Default for RedisSettings {
    fn default() -> Self {
        Self {
            url: Secret::new("redis://127.0.0.1:6379"),
            key_prefix: "robot-sre".into(),
            connect_timeout: Duration::from_secs(1),
            command_timeout: Duration::from_secs(2),
        }
    }
}

/// The URL with any password (user info or a `pass`/`password` query parameter) masked; the
/// whole URL masked when it does not parse.
pub fn masked_url(text: &str) -> String {
    let Ok(mut url) = Url::parse(text) else {
        return super::MASK.to_owned();
    };
    if url.password().is_some() && url.set_password(Some(super::MASK)).is_err() {
        return super::MASK.to_owned();
    }
    let secret_key = |key: &str| matches!(key, "pass" | "password");
    if url.query_pairs().any(|(key, _)| secret_key(&key)) {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if secret_key(&k) {
                    super::MASK.into()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.to_string()
}

fn serialize_masked_url<S: serde::Serializer>(
    url: &Secret,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&masked_url(url.expose()))
}

/// The cluster the bot watches, and how incidents map to environments.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClusterSettings {
    /// Cluster name used when an alert has no `cluster` label.
    pub name: String,
    /// Alert label naming the environment (demo, staging, production); it wins over the
    /// namespace map.
    pub environment_label: String,
    /// Environment of alerts that neither the label nor the namespace map place. Production is
    /// the safe default: the bot does the least there.
    pub default_environment: Environment,
    /// Namespaces of each environment.
    pub environments: BTreeMap<Environment, Vec<Namespace>>,
}

impl Default for ClusterSettings {
    fn default() -> Self {
        Self {
            name: "default".into(),
            environment_label: "environment".into(),
            default_environment: Environment::Production,
            environments: BTreeMap::new(),
        }
    }
}

/// Log output.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct TelemetrySettings {
    /// `pretty` for people, `json` for log pipelines.
    pub log_format: LogFormat,
    /// A tracing filter such as `info` or `robot_sre=debug,info`. `RUST_LOG` wins when set.
    pub log_filter: String,
}

impl Default for TelemetrySettings {
    fn default() -> Self {
        Self {
            log_format: LogFormat::Pretty,
            log_filter: "info".into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    Pretty,
    Json,
}
