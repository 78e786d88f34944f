//! The bot as production runs it: the real `robot-sre serve` binary, configured by a YAML file
//! against a real Redis, the lab's API server (through the ServiceAccount its generated RBAC
//! binds) and the Slack double. Also what a test reads back: the prompt the double received,
//! and the conversation, packets and audit trail in the bot's Redis.
//!
//! Shared by the lab tests and `benches/conversations`; it needs a sibling module `slack` (the
//! Slack double).

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::time::Duration;

use robot_sre::audit::{AuditKind, AuditLog, AuditRecord};
use robot_sre::config::Secret;
use robot_sre::conversations::driver::persist;
use robot_sre::conversations::state::{Conversation, StateName};
use robot_sre::incidents::IncidentId;
use robot_sre::ops::packet::{self, Packet};
use robot_sre::store::{RedisStore, RedisStoreConfig, Store};
use robot_sre::testkit::process::{free_port, poll_until};
use serde_json::{Value, json};

use super::slack::{self, Callback, Double, Signing, block_action};

/// The bearer token Alertmanager would send.
pub const ALERTMANAGER_TOKEN: &str = "conversations-lab-alertmanager-token";
/// Slack member ids of the two people allowed to approve recover actions in staging.
pub const APPROVERS: [&str; 2] = ["U0ALICE", "U0BOB"];
/// How long a bot may take to come up (a debug build, on a busy machine).
const START_DEADLINE: Duration = Duration::from_secs(60);

/// What every bot of one test shares: its store, the Slack double, the cluster and namespace.
#[derive(Debug, Clone)]
pub struct Setup {
    pub redis_url: String,
    /// A random key prefix, so tests sharing a Redis never see each other's state.
    pub key_prefix: String,
    pub slack_url: String,
    /// Kubeconfig of the bot's ServiceAccount.
    pub kubeconfig: PathBuf,
    /// The namespace the bot may act in; mapped to the staging environment, where policy asks
    /// approval for a rollback of a stuck rollout (recover class).
    pub namespace: String,
    /// Where configs and logs go.
    pub dir: PathBuf,
    /// Further `ops` settings (a benchmark raises the hourly and blast-radius limits).
    pub ops_extra: serde_json::Map<String, Value>,
}

impl Setup {
    /// Writes the configuration of a bot listening on `port`; returns its path.
    pub fn write_config(&self, name: &str, port: u16) -> PathBuf {
        let path = self.dir.join(format!("{name}.yaml"));
        let yaml = serde_yaml::to_string(&self.config(port)).expect("a YAML config");
        std::fs::write(&path, yaml).expect("the config is written");
        path
    }

    fn config(&self, port: u16) -> Value {
        let mut config = self.base_config(port);
        for (key, value) in &self.ops_extra {
            config["ops"][key] = value.clone();
        }
        config
    }

    fn base_config(&self, port: u16) -> Value {
        json!({
            "server": { "listen": format!("127.0.0.1:{port}"), "shutdown_grace": "2s" },
            "alertmanager": { "token": ALERTMANAGER_TOKEN },
            "store": { "backend": "redis", "redis": {
                "url": self.redis_url, "key_prefix": self.key_prefix } },
            "cluster": { "name": "lab", "default_environment": "production",
                "environments": { "staging": [self.namespace] } },
            "telemetry": { "log_format": "pretty", "log_filter": "info" },
            "channels": {
                "slack": { "bot_token": slack::BOT_TOKEN, "signing_secret": slack::SIGNING_SECRET,
                    "channel": slack::CHANNEL, "api_url": self.slack_url },
                "people": [
                    { "name": "alice", "slack": APPROVERS[0], "groups": ["sre"] },
                    { "name": "bob", "slack": APPROVERS[1], "groups": ["sre"] },
                ],
            },
            "ops": {
                "kubeconfig": self.kubeconfig, "namespaces": [self.namespace],
                "verify": { "deadline": "60s", "settle": "1s", "poll_min": "100ms",
                    "poll_max": "500ms" },
            },
            "conversations": {
                "approvers": [{ "who": ["group:sre"], "classes": ["recover"] }],
                "sweep_interval": "1s", "lease_ttl": "3s",
            },
        })
    }

    /// A client of the bot's store (the same Redis, the same prefix).
    pub fn store(&self) -> Arc<dyn Store> {
        let config = RedisStoreConfig {
            url: Secret::new(self.redis_url.clone()),
            key_prefix: self.key_prefix.clone(),
            connect_timeout: Duration::from_secs(2),
            command_timeout: Duration::from_secs(5),
        };
        Arc::new(RedisStore::new(&config).expect("a redis store"))
    }
}

/// One `robot-sre serve` process; SIGKILLed when dropped.
pub struct Bot {
    child: tokio::process::Child,
    base: String,
    log: PathBuf,
}

impl Bot {
    /// Starts a bot named `name` (its config and log file names) on a free port and waits
    /// until it is ready. `kill_at` arms a crash drill (`ROBOT_SRE_FAULT_KILL_AT`).
    pub async fn start(setup: &Setup, name: &str, kill_at: Option<&str>) -> Self {
        let port = free_port().expect("a free port");
        let config = setup.write_config(name, port);
        let log = setup.dir.join(format!("{name}.log"));
        let mut bot = Self {
            child: spawn(&config, &log, kill_at),
            base: format!("http://127.0.0.1:{port}"),
            log,
        };
        bot.wait_ready().await;
        bot
    }

    async fn wait_ready(&mut self) {
        let client = reqwest::Client::new();
        let url = format!("{}/readyz", self.base);
        let ready = poll_until(START_DEADLINE, Duration::from_millis(50), || async {
            let response = client.get(&url).send().await.ok()?;
            response.status().is_success().then_some(())
        })
        .await;
        if ready.is_none() {
            panic!(
                "{} did not become ready; its log:\n{}",
                self.base,
                self.log()
            );
        }
    }

    /// The base URL (`http://127.0.0.1:<port>`).
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The exit status, once the process has ended within `deadline`.
    pub async fn exited(&mut self, deadline: Duration) -> Option<ExitStatus> {
        tokio::time::timeout(deadline, self.child.wait())
            .await
            .ok()?
            .ok()
    }

    /// What the process logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The last `lines` lines of the log.
    pub fn log_tail(&self, lines: usize) -> String {
        let log = self.log();
        let all: Vec<&str> = log.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}

fn spawn(config: &Path, log: &Path, kill_at: Option<&str>) -> tokio::process::Child {
    let out = std::fs::File::create(log).expect("a log file");
    let err = out.try_clone().expect("a log file handle");
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_robot-sre"));
    command
        .arg("serve")
        .arg("--config")
        .arg(config)
        .env_remove("ROBOT_SRE_CONFIG")
        .env_remove("ROBOT_SRE_FAULT_KILL_AT")
        .env_remove("RUST_LOG")
        .env_remove("KUBECONFIG")
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .kill_on_drop(true);
    if let Some(point) = kill_at {
        command.env("ROBOT_SRE_FAULT_KILL_AT", point);
    }
    command.spawn().expect("robot-sre serve starts")
}

/// Posts a firing `KubeDeploymentRolloutStuck` alert for `namespace/deployment` to the bot's
/// `/webhooks/alertmanager`, as Alertmanager would; returns the incident it opened.
pub async fn post_stuck_rollout(base: &str, namespace: &str, deployment: &str) -> IncidentId {
    let labels = json!({
        "alertname": "KubeDeploymentRolloutStuck", "namespace": namespace,
        "deployment": deployment, "reason": "ProgressDeadlineExceeded", "severity": "warning",
    });
    let body = json!({
        "receiver": "robot-sre", "status": "firing", "version": "4",
        "groupKey": format!("{{}}:{{alertname=\"KubeDeploymentRolloutStuck\", deployment=\"{deployment}\"}}"),
        "truncatedAlerts": 0, "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {},
        "externalURL": "http://alertmanager.lab:9093",
        "alerts": [{
            "status": "firing", "labels": labels, "annotations": {},
            "startsAt": chrono::Utc::now().to_rfc3339(), "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "", "fingerprint": format!("{:016x}", rand::random::<u64>()),
        }],
    });
    let response = reqwest::Client::new()
        .post(format!("{base}/webhooks/alertmanager"))
        .bearer_auth(ALERTMANAGER_TOKEN)
        .json(&body)
        .send()
        .await
        .expect("the bot answers the webhook");
    assert_eq!(response.status(), 200, "the alert is accepted");
    let receipt: Value = response.json().await.expect("a JSON receipt");
    let id = receipt["incidents"][0]["incident_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no incident in the receipt {receipt}"));
    IncidentId::from_stored(id)
}

/// A prompt as a human sees it on Slack: the message and its Approve button's value.
#[derive(Debug, Clone)]
pub struct SlackPrompt {
    /// The message's `ts`, as the bot stored it for the prompt copy.
    pub ts: String,
    /// The Approve button's value (the one-time token).
    pub approve: String,
}

/// The Approve button of every prompt the double accepted (`chat.postMessage` with buttons).
pub fn approve_buttons(slack: &Double) -> Vec<String> {
    slack
        .sent_to("chat.postMessage")
        .iter()
        .filter_map(|sent| approve_value(&sent.params["blocks"]))
        .collect()
}

fn approve_value(blocks: &Value) -> Option<String> {
    let blocks = match blocks {
        Value::String(text) => serde_json::from_str(text).ok()?,
        other => other.clone(),
    };
    blocks
        .as_array()?
        .iter()
        .filter_map(|block| block["elements"].as_array())
        .flatten()
        .find(|element| element["action_id"] == "approve")
        .and_then(|button| button["value"].as_str().map(str::to_owned))
}

/// Presses Approve on `prompt` as `user`; `press` numbers the press (its `action_ts`), so every
/// press is a distinct interaction, not a redelivery. Returns the HTTP status.
pub async fn press_approve(base: &str, user: &str, prompt: &SlackPrompt, press: u32) -> u16 {
    let action_ts = format!("1700000000.{press:06}");
    let payload = block_action(user, &prompt.ts, "approve", &prompt.approve, &action_ts);
    let callback = Callback::interaction(&payload, Signing::Good(slack::SIGNING_SECRET.into()));
    callback.post(base).await.status().as_u16()
}

/// The incident's records in the bot's store.
pub struct View {
    store: Arc<dyn Store>,
}

impl View {
    pub fn new(setup: &Setup) -> Self {
        Self {
            store: setup.store(),
        }
    }

    pub async fn conversation(&self, incident: &IncidentId) -> Option<Conversation> {
        let loaded = persist::load(self.store.as_ref(), incident).await;
        loaded
            .expect("the conversation is readable")
            .map(|(c, _)| c)
    }

    /// The conversation's state, once it is one of `wanted` within `deadline`.
    pub async fn wait_for_state(
        &self,
        incident: &IncidentId,
        wanted: &[StateName],
        deadline: Duration,
    ) -> Option<Conversation> {
        poll_until(deadline, Duration::from_millis(50), || async {
            let conversation = self.conversation(incident).await?;
            wanted
                .contains(&conversation.state.name())
                .then_some(conversation)
        })
        .await
    }

    /// The prompt copy on Slack, once the conversation awaits approval with one.
    pub async fn wait_for_slack_prompt(
        &self,
        slack: &Double,
        incident: &IncidentId,
        deadline: Duration,
    ) -> Option<SlackPrompt> {
        poll_until(deadline, Duration::from_millis(20), || async {
            let conversation = self.conversation(incident).await?;
            let robot_sre::conversations::state::State::AwaitingApproval(awaiting) =
                &conversation.state
            else {
                return None;
            };
            let copy = awaiting.messages.first()?;
            let approve = approve_buttons(slack)
                .into_iter()
                .find(|token| *token == awaiting.tokens.approve)?;
            Some(SlackPrompt {
                ts: copy.id.clone(),
                approve,
            })
        })
        .await
    }

    pub async fn packets(&self, incident: &IncidentId) -> Vec<Packet> {
        packet::for_incident(self.store.as_ref(), incident)
            .await
            .expect("the packets are readable")
    }

    pub async fn trail(&self, incident: &IncidentId) -> Vec<AuditRecord> {
        AuditLog::new(self.store.clone())
            .trail(incident)
            .await
            .expect("the audit trail is readable")
    }

    /// The audit records of `kind`.
    pub async fn records(&self, incident: &IncidentId, kind: AuditKind) -> Vec<AuditRecord> {
        let trail = self.trail(incident).await;
        trail.into_iter().filter(|r| r.entry.kind == kind).collect()
    }
}
