//! The harness: the Telegram adapter aimed at the double, its inbound side and an inbox.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use robot_sre::channels::telegram::{TelegramChannel, TelegramInbound, routes};
use robot_sre::channels::{Choice, Directory, Inbound, Inbox, Person, Prompt};
use robot_sre::config::{Secret, TelegramMode, TelegramSettings};
use robot_sre::incidents::IncidentId;
use robot_sre::incidents::model::Severity;
use robot_sre::store::{MemoryStore, Store};
use robot_sre::testkit::process::poll_until;
use tokio::sync::mpsc::Receiver;

use crate::telegram::{TOKEN, TelegramDouble, WEBHOOK_SECRET};

/// Where incidents are posted.
pub const CHAT: i64 = -1_001_234_567_890;
/// A second served chat.
pub const LEADS: i64 = -1_001_111_111_111;
/// A chat the bot was added to but does not serve.
pub const STRANGERS: i64 = -1_009_999_999_999;
pub const ALICE: i64 = 4242;
pub const APPROVE_TOKEN: &str = "tok_approve_0123456789abcdefghijklmnopqrstu";

pub fn settings(double: &TelegramDouble) -> TelegramSettings {
    TelegramSettings {
        bot_token: Secret::new(TOKEN),
        webhook_secret: Some(Secret::new(WEBHOOK_SECRET)),
        chat_id: CHAT,
        allowed_chats: vec![LEADS],
        api_url: double.url(),
        timeout: Duration::from_secs(2),
        mode: TelegramMode::Webhook,
        poll_timeout: Duration::from_secs(1),
    }
}

pub fn directory() -> Arc<Directory> {
    Arc::new(Directory::new(&[Person {
        name: "alice".into(),
        slack: None,
        telegram: Some(ALICE),
        whatsapp: None,
        groups: vec!["sre".into()],
    }]))
}

pub struct Harness {
    pub double: TelegramDouble,
    pub channel: Arc<TelegramChannel>,
    pub inbound: Arc<TelegramInbound>,
    pub events: Receiver<Inbound>,
}

impl Harness {
    pub async fn start() -> Self {
        Self::with_store(Arc::new(MemoryStore::new()), 16).await
    }

    pub async fn with_store(store: Arc<dyn Store>, inbox: usize) -> Self {
        let double = TelegramDouble::start().await;
        let settings = settings(&double);
        let channel = Arc::new(TelegramChannel::new(&settings, store).unwrap());
        let (inbox, events) = Inbox::new(inbox);
        let inbound = Arc::new(TelegramInbound::new(
            channel.clone(),
            inbox,
            directory(),
            settings.webhook_secret.clone(),
        ));
        Self {
            double,
            channel,
            inbound,
            events,
        }
    }

    /// Serves the webhook routes on a free port; the endpoint URL.
    pub async fn webhook(&self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let app = routes(self.inbound.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{address}/integrations/telegram/webhook")
    }

    /// The next event, waiting up to 5 s.
    pub async fn next_event(&mut self) -> Inbound {
        tokio::time::timeout(Duration::from_secs(5), self.events.recv())
            .await
            .expect("an inbound event within 5 s")
            .expect("the inbox is open")
    }

    /// Waits until `count` events have arrived in total.
    pub async fn collect(&mut self, count: usize) -> Vec<Inbound> {
        let mut events = Vec::new();
        for _ in 0..count {
            events.push(self.next_event().await);
        }
        events
    }

    /// Asserts that no further event arrives once the double has nothing left to hand out.
    pub fn assert_no_more_events(&mut self) {
        let extra = self.events.try_recv();
        assert!(extra.is_err(), "unexpected event: {extra:?}");
    }
}

/// Waits up to 5 s for `probe` to hold.
pub async fn eventually(what: &str, probe: impl Fn() -> bool) {
    let holds = || async { probe().then_some(()) };
    let reached = poll_until(Duration::from_secs(5), Duration::from_millis(5), holds).await;
    assert!(reached.is_some(), "{what} did not happen within 5 s");
}

pub fn prompt() -> Prompt {
    Prompt {
        incident: IncidentId::from_stored("inc-7k2m"),
        severity: Severity::Critical,
        title: "Approve rollback of deployment checkout in payments to revision 41".into(),
        action: "rollback".into(),
        target: "prod/payments/Deployment/checkout".into(),
        why_now: "rollout stuck 12 min (ProgressDeadlineExceeded), 1/3 new pods ImagePullBackOff"
            .into(),
        impact: "pods of revision 42 are replaced by 41".into(),
        fallback: "roll forward after the image is fixed".into(),
        expires_at: Utc::now() + chrono::Duration::minutes(15),
        cause: "image registry.example/checkout:42 does not exist".into(),
        confidence: "high".into(),
        evidence: "3 pods, 1 ImagePullBackOff <not found> & 2 Running".into(),
        guardrails: vec!["pass: min ready replicas (2 of 3 ready)".into()],
        verification: "rollout complete within 5m".into(),
        dry_run: "spec.template.spec.containers[0].image: :42 → :41".into(),
        choices: vec![
            Choice {
                label: "Approve".into(),
                token: APPROVE_TOKEN.into(),
                approves: true,
            },
            Choice {
                label: "Reject".into(),
                token: "tok_reject_0123456789abcdefghijklmnopqrstuv".into(),
                approves: false,
            },
        ],
        details_url: Some("https://robot-sre.example/incidents/inc-7k2m".into()),
    }
}
