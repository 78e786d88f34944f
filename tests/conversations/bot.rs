//! The real `robot-sre serve` binary with a generated configuration, and readers of what it
//! stored (conversation, audit trail, evidence packet) through the crate's own store types.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use robot_sre::audit::{AuditKind, AuditLog, AuditRecord};
use robot_sre::conversations::driver::persist;
use robot_sre::conversations::state::Conversation;
use robot_sre::incidents::{IncidentId, IncidentRepository};
use robot_sre::ops::packet::{self, Packet};
use robot_sre::store::Store;
use robot_sre::testkit::process::{Supervised, free_port, poll_until};

/// The bot's Alertmanager bearer token.
pub const AM_TOKEN: &str = "alertmanager-token-for-tests";

/// A running bot process; dropping it stops the process.
pub struct Bot {
    pub port: u16,
    process: Supervised,
}

impl Bot {
    /// Writes `config` (YAML with `{port}` still to fill) next to `dir` and starts the binary;
    /// returns once `/readyz` answers 200.
    pub async fn start(dir: &Path, config: &str) -> Self {
        let port = free_port().expect("a free port");
        let path = dir.join(format!("robot-sre-{port}.yaml"));
        std::fs::write(&path, config.replace("{port}", &port.to_string())).unwrap();
        let program = Path::new(env!("CARGO_BIN_EXE_robot-sre"));
        let args = vec![
            "serve".to_owned(),
            "--config".to_owned(),
            path.display().to_string(),
        ];
        let log = dir.join(format!("robot-sre-{port}.log"));
        let process = Supervised::spawn(program, &args, log).expect("robot-sre starts");
        let client = reqwest::Client::new();
        let ready = format!("http://127.0.0.1:{port}/readyz");
        process
            .wait_until(Duration::from_secs(30), || {
                let request = client.get(&ready).send();
                async move { request.await.is_ok_and(|r| r.status().is_success()) }
            })
            .await
            .unwrap_or_else(|error| panic!("the bot is not ready: {error}"));
        Self { port, process }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn log(&self) -> String {
        self.process.log()
    }
}

/// What the bot stored, read from the same Redis under its prefix.
#[derive(Clone)]
pub struct Stored {
    pub store: Arc<dyn Store>,
}

impl Stored {
    pub fn repository(&self) -> IncidentRepository {
        IncidentRepository::new(self.store.clone())
    }

    /// The open incidents' ids.
    pub async fn open_incidents(&self) -> Vec<IncidentId> {
        self.repository().open_ids().await.unwrap_or_default()
    }

    pub async fn conversation(&self, incident: &IncidentId) -> Option<Conversation> {
        persist::load(self.store.as_ref(), incident)
            .await
            .expect("the store answers")
            .map(|(conversation, _)| conversation)
    }

    pub async fn trail(&self, incident: &IncidentId) -> Vec<AuditRecord> {
        AuditLog::new(self.store.clone())
            .trail(incident)
            .await
            .expect("the audit trail reads")
    }

    /// The audit records of `kind`.
    pub async fn audited(&self, incident: &IncidentId, kind: AuditKind) -> Vec<AuditRecord> {
        let mut trail = self.trail(incident).await;
        trail.retain(|record| record.entry.kind == kind);
        trail
    }

    /// The evidence packet of the conversation's action.
    pub async fn packet(&self, incident: &IncidentId) -> Option<Packet> {
        let conversation = self.conversation(incident).await?;
        let request = &conversation.state.pending()?.request.id;
        packet::load(self.store.as_ref(), request)
            .await
            .expect("the packet reads")
    }
}

/// Polls `check` every 100 ms for at most `deadline`; panics naming `what` (and the bot's log
/// tail) when it never holds.
pub async fn eventually<T, F, Fut>(bot: &Bot, deadline: Duration, what: &str, check: F) -> T
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    match poll_until(deadline, Duration::from_millis(100), check).await {
        Some(value) => value,
        None => {
            let log = bot.log();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            panic!(
                "{what}: not within {deadline:?}; the bot's log ends with:\n{}",
                tail.join("\n")
            )
        }
    }
}
