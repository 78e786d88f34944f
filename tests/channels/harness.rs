//! Three doubles, the three adapters aimed at them, and a router over them.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use prometheus_client::metrics::counter::Counter;
use robot_sre::channels::slack::{SlackApi, SlackChannel};
use robot_sre::channels::telegram::TelegramChannel;
use robot_sre::channels::whatsapp::WhatsApp;
use robot_sre::channels::{Channel, ChannelKind, Choice, Prompt, Router};
use robot_sre::config::{Route, RoutingSettings, Secret, TelegramMode, TelegramSettings};
use robot_sre::conversations::delivery_failure::RaiseIncident;
use robot_sre::incidents::model::{Environment, Severity};
use robot_sre::incidents::{Classifier, IncidentId, IncidentService, IngestPolicy, Triage};
use robot_sre::store::{MemoryStore, Store};

use crate::{slack, telegram, whatsapp};

/// The Telegram chat incidents go to.
pub const CHAT: i64 = -1_001_234_567_890;
/// The WhatsApp recipient.
pub const PHONE: &str = "15550100";
/// How long the router gives one channel.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(600);

pub struct Doubles {
    pub slack: slack::Double,
    pub telegram: telegram::TelegramDouble,
    pub whatsapp: whatsapp::Double,
}

impl Doubles {
    pub async fn start() -> Self {
        Self {
            slack: slack::Double::start().await,
            telegram: telegram::TelegramDouble::start().await,
            whatsapp: whatsapp::Double::start().await,
        }
    }

    /// Fails the test if the bot sent any request the published specs reject.
    pub fn assert_valid(&self) {
        self.slack.assert_valid();
        self.telegram.assert_valid();
        self.whatsapp.assert_valid();
    }
}

pub struct Bot {
    pub router: Router,
    pub store: Arc<dyn Store>,
    pub incidents: Arc<IncidentService>,
    pub failures: Counter,
}

/// Routing for tests: critical prompts go Slack → Telegram → WhatsApp; retries are quick.
pub fn routing() -> RoutingSettings {
    RoutingSettings {
        routes: vec![Route {
            severity: Some(Severity::Critical),
            environment: None,
            channels: vec![
                ChannelKind::Slack,
                ChannelKind::Telegram,
                ChannelKind::WhatsApp,
            ],
        }],
        attempt_timeout: ATTEMPT_TIMEOUT,
        retry_min: Duration::from_millis(100),
        retry_max: Duration::from_millis(300),
        ..RoutingSettings::default()
    }
}

fn incidents(store: Arc<dyn Store>) -> Arc<IncidentService> {
    let triage = Triage {
        classifier: Classifier::builtin(),
        cluster: "lab".into(),
        environment_label: "environment".into(),
        default_environment: Environment::Production,
        namespace_environments: HashMap::new(),
    };
    let policy = IngestPolicy {
        suppression_window: Duration::from_secs(900),
        retention: Duration::from_secs(86_400),
        history_limit: 50,
    };
    Arc::new(IncidentService::new(store, triage, policy))
}

/// The router over all three adapters, with `routing`.
pub fn bot(doubles: &Doubles, routing: RoutingSettings) -> Bot {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    // Each adapter's own timeout is longer than the router's: the router decides when to move on.
    let adapter_timeout = ATTEMPT_TIMEOUT * 4;
    let url = url::Url::parse(&doubles.slack.url()).unwrap();
    let api = SlackApi::new(&url, &Secret::new(slack::BOT_TOKEN), adapter_timeout).unwrap();
    let slack = Arc::new(SlackChannel::new(api, slack::CHANNEL, store.clone()));
    let telegram = TelegramSettings {
        bot_token: Secret::new(telegram::TOKEN),
        webhook_secret: Some(Secret::new(telegram::WEBHOOK_SECRET)),
        chat_id: CHAT,
        allowed_chats: Vec::new(),
        api_url: doubles.telegram.url(),
        timeout: adapter_timeout,
        mode: TelegramMode::Webhook,
        poll_timeout: Duration::from_secs(1),
    };
    let telegram = TelegramChannel::new(&telegram, store.clone()).unwrap();
    let mut whatsapp_settings = doubles.whatsapp.settings(&[PHONE]);
    whatsapp_settings.timeout = adapter_timeout;
    let whatsapp = WhatsApp::new(&whatsapp_settings, store.clone()).unwrap();
    let channels: Vec<Arc<dyn Channel>> =
        vec![slack.clone(), Arc::new(telegram), Arc::new(whatsapp)];
    let incidents = incidents(store.clone());
    let failures = Counter::default();
    let router = Router::new(channels, routing).with_failure_reporting(
        Arc::new(RaiseIncident::new(incidents.clone())),
        failures.clone(),
    );
    Bot {
        router,
        store,
        incidents,
        failures,
    }
}

/// A critical prompt for `incident`, expiring in `expires_in`, with the given tokens.
pub fn prompt(incident: &IncidentId, expires_in: Duration, tokens: [&str; 2]) -> Prompt {
    Prompt {
        incident: incident.clone(),
        severity: Severity::Critical,
        title: "Approve rollback of deployment checkout in payments to revision 41".into(),
        action: "rollback".into(),
        target: "lab/payments/Deployment/checkout".into(),
        why_now: "rollout stuck 12 min (ProgressDeadlineExceeded)".into(),
        impact: "pods of revision 42 are replaced by 41".into(),
        fallback: "roll forward after the image is fixed".into(),
        expires_at: Utc::now() + chrono::Duration::from_std(expires_in).unwrap(),
        cause: "image tag 42 does not exist".into(),
        confidence: "high".into(),
        evidence: "1/3 new pods ImagePullBackOff".into(),
        guardrails: vec!["pass: min ready replicas (2 of 3 ready)".into()],
        verification: "rollout complete within 5m".into(),
        dry_run: "image checkout:42 -> checkout:41".into(),
        choices: vec![
            Choice {
                label: "Approve".into(),
                token: tokens[0].into(),
                approves: true,
            },
            Choice {
                label: "Reject".into(),
                token: tokens[1].into(),
                approves: false,
            },
        ],
        details_url: Some("https://robot-sre.example/incidents/inc".into()),
    }
}

/// A prompt with placeholder tokens, for tests that never answer it.
pub fn any_prompt(expires_in: Duration) -> Prompt {
    prompt(
        &IncidentId::generate(),
        expires_in,
        [
            "0123456789abcdef0123456789abcdef",
            "fedcba9876543210fedcba9876543210",
        ],
    )
}
