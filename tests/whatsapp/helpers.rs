//! A bot with the WhatsApp adapter and webhook, aimed at a fresh double.

use std::sync::Arc;

use chrono::{Duration, Utc};
use robot_sre::channels::whatsapp::{WebhookState, WhatsApp, routes};
use robot_sre::channels::{Choice, Directory, Inbound, Inbox, Person, Prompt};
use robot_sre::config::WhatsAppSettings;
use robot_sre::incidents::IncidentId;
use robot_sre::incidents::model::Severity;
use robot_sre::store::{MemoryStore, Store};
use serde_json::Value;
use tokio::sync::mpsc;

use crate::double::{Double, Signature, webhooks};

pub const ALICE: &str = "15550100";
pub const BOB: &str = "15550111";

/// The bot side: the adapter, its webhook on a real port, and what the webhook queued.
pub struct Bot {
    pub double: Double,
    pub store: Arc<dyn Store>,
    pub settings: WhatsAppSettings,
    pub channel: WhatsApp,
    pub url: String,
    pub inbox: mpsc::Receiver<Inbound>,
}

pub async fn spawn(recipients: &[&str]) -> Bot {
    spawn_with(recipients, 16, |_| {}).await
}

pub async fn spawn_with(
    recipients: &[&str],
    inbox_capacity: usize,
    adjust: impl FnOnce(&mut WhatsAppSettings),
) -> Bot {
    let double = Double::start().await;
    let mut settings = double.settings(recipients);
    adjust(&mut settings);
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let channel = WhatsApp::new(&settings, store.clone()).expect("client");
    let (inbox, receiver) = Inbox::new(inbox_capacity);
    let state = WebhookState::new(&settings, store.clone(), Arc::new(directory()), inbox);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, routes(state)).await });
    Bot {
        double,
        store,
        settings,
        channel,
        url,
        inbox: receiver,
    }
}

fn directory() -> Directory {
    Directory::new(&[Person {
        name: "alice".into(),
        slack: None,
        telegram: None,
        whatsapp: Some("+1 555 0100".into()),
        groups: vec!["sre".into()],
    }])
}

impl Bot {
    /// `from` writes to the bot (opening their window); the event is drained.
    pub async fn open_window(&mut self, from: &str) {
        let id = format!(
            "wamid.hello-{from}-{}",
            Utc::now().timestamp_nanos_opt().unwrap_or(0)
        );
        let hello = webhooks::messages(from, vec![webhooks::text(from, &id, "hi", None)]);
        self.post(&hello).await;
        self.next().expect("the hello is queued");
    }

    /// POSTs a correctly signed notification and expects 200.
    pub async fn post(&self, notification: &Value) {
        let response = webhooks::post(&self.url, notification, Signature::Good).await;
        assert_eq!(
            response.status(),
            200,
            "{}",
            response.text().await.unwrap_or_default()
        );
    }

    /// The next queued inbound event (queued before the webhook answered), if any.
    pub fn next(&mut self) -> Option<Inbound> {
        self.inbox.try_recv().ok()
    }
}

pub fn choice(label: &str, token: &str, approves: bool) -> Choice {
    Choice {
        label: label.into(),
        token: token.into(),
        approves,
    }
}

/// A prompt with Approve (`tok-approve`) and Reject (`tok-reject`).
pub fn prompt() -> Prompt {
    Prompt {
        incident: IncidentId::from_stored("inc-0123456789ab"),
        severity: Severity::Critical,
        title: "Approve rollback of deployment checkout in payments to revision 41".into(),
        action: "rollback".into(),
        target: "prod/payments/Deployment/checkout".into(),
        why_now: "rollout stuck 12 min (ProgressDeadlineExceeded)".into(),
        impact: "pods of revision 42 are replaced by 41".into(),
        fallback: "roll forward after the image is fixed".into(),
        expires_at: Utc::now() + Duration::minutes(30),
        cause: "ImagePullBackOff on 1/3 new pods".into(),
        confidence: "high".into(),
        evidence: "3 events, 2 log lines".into(),
        guardrails: vec!["pass: min ready replicas (2 of 3 ready)".into()],
        verification: "rollout complete within 5 min".into(),
        dry_run: "1 Deployment patched".into(),
        choices: vec![
            choice("Approve", "tok-approve", true),
            choice("Reject", "tok-reject", false),
        ],
        details_url: Some("https://robot-sre.example/i/inc-0123456789ab".into()),
    }
}

/// The `i`th accepted send.
pub fn sent(double: &Double, i: usize) -> Value {
    double
        .sent()
        .get(i)
        .cloned()
        .unwrap_or_else(|| panic!("no send #{i}: {:?}", double.requests()))
}
