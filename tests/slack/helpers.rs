//! The harness: the Slack double and the adapter aimed at it, with a local HTTP server for the
//! inbound routes and the inbox's receiving end.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use robot_sre::channels::slack::{SlackApi, SlackChannel, SlackInbound, routes};
use robot_sre::channels::{Choice, Directory, Inbound, Inbox, Person, Prompt};
use robot_sre::config::Secret;
use robot_sre::incidents::IncidentId;
use robot_sre::incidents::model::Severity;
use robot_sre::store::{MemoryStore, Store};
use robot_sre::testkit::process::poll_until;
use tokio::sync::mpsc::Receiver;

use crate::slack::{BOT_TOKEN, Double, SIGNING_SECRET};

pub const ALICE: &str = "U0ALICE";
/// Per-call timeout of the adapter under test: short, so hang tests stay fast.
pub const TIMEOUT: Duration = Duration::from_millis(400);
pub const DEDUPE_TTL: Duration = Duration::from_secs(3600);

/// The adapter and its inbound side, wired to a double.
pub struct Bot {
    pub channel: SlackChannel,
    pub api: SlackApi,
    pub inbound: SlackInbound,
    pub events: Receiver<Inbound>,
    /// Where the inbound routes listen (`http://127.0.0.1:<port>`).
    pub base: String,
}

pub fn api(double: &Double) -> SlackApi {
    let url = url::Url::parse(&double.url()).unwrap();
    SlackApi::new(&url, &Secret::new(BOT_TOKEN), TIMEOUT).unwrap()
}

pub fn directory() -> Directory {
    Directory::new(&[Person {
        name: "alice".into(),
        slack: Some(ALICE.into()),
        telegram: None,
        whatsapp: None,
        groups: vec!["sre".into()],
    }])
}

/// A bot on the in-memory store.
pub async fn bot(double: &Double) -> Bot {
    bot_with(double, Arc::new(MemoryStore::new()), 16).await
}

/// A bot on `store` with an inbox of `capacity`.
pub async fn bot_with(double: &Double, store: Arc<dyn Store>, capacity: usize) -> Bot {
    let api = api(double);
    let (inbox, events) = Inbox::new(capacity);
    let inbound = SlackInbound::new(
        Secret::new(SIGNING_SECRET),
        directory(),
        inbox,
        store.clone(),
        DEDUPE_TTL,
    );
    let channel = SlackChannel::new(api.clone(), crate::slack::CHANNEL, store);
    let base = serve(inbound.clone()).await;
    Bot {
        channel,
        api,
        inbound,
        events,
        base,
    }
}

async fn serve(inbound: SlackInbound) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, routes(inbound)).await });
    format!("http://{addr}")
}

/// The next event in the inbox, waiting at most two seconds.
pub async fn next_event(events: &mut Receiver<Inbound>) -> Option<Inbound> {
    tokio::time::timeout(Duration::from_secs(2), events.recv())
        .await
        .ok()
        .flatten()
}

/// Polls `probe` every 20 ms for up to `deadline`.
pub async fn eventually<F: Fn() -> bool>(deadline: Duration, probe: F) -> bool {
    poll_until(deadline, Duration::from_millis(20), || {
        let ok = probe();
        async move { ok.then_some(()) }
    })
    .await
    .is_some()
}

pub fn prompt() -> Prompt {
    Prompt {
        incident: IncidentId::from_stored("inc-0123456789ab"),
        severity: Severity::Critical,
        title: "Approve rollback of deployment checkout in payments to revision 41".into(),
        action: "rollback".into(),
        target: "lab/payments/Deployment/checkout".into(),
        why_now: "rollout stuck 12 min (ProgressDeadlineExceeded), 1/3 new pods ImagePullBackOff"
            .into(),
        impact: "pods of revision 42 are replaced by 41".into(),
        fallback: "roll forward after the image is fixed".into(),
        expires_at: Utc.with_ymd_and_hms(2030, 1, 1, 14, 32, 0).unwrap(),
        cause: "image tag 42 does not exist in the registry".into(),
        confidence: "high".into(),
        evidence: "3 events: Failed to pull image <registry>/checkout:42 & retried".into(),
        guardrails: vec![
            "pass: min ready replicas (2 of 3 ready)".into(),
            "pass: not GitOps-managed".into(),
        ],
        verification: "rollout complete within 5m".into(),
        dry_run: "spec.template image checkout:42 -> checkout:41".into(),
        choices: vec![
            Choice {
                label: "Approve".into(),
                token: "tok_approve_0123456789abcdefghijklmnopqrstu".into(),
                approves: true,
            },
            Choice {
                label: "Reject".into(),
                token: "tok_reject_0123456789abcdefghijklmnopqrstuv".into(),
                approves: false,
            },
        ],
        details_url: Some("https://robot-sre.example/incidents/inc-0123456789ab".into()),
    }
}
