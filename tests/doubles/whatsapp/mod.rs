//! A local double of the WhatsApp Cloud API (Meta Graph API) for tests and benchmarks.
//!
//! It is a real HTTP server on 127.0.0.1 that answers `POST /{Version}/{Phone-Number-ID}/messages`
//! and `GET /{Version}/{Phone-Number-ID}` the way Meta does, checks every send-message body
//! against the published OpenAPI spec (`tests/specs/whatsapp-cloud-api.openapi.yaml`) and the
//! documented limits, records what was sent, can enforce the 24-hour window (error 131047), and
//! can be switched into failure modes at runtime. It also crafts signed webhook notifications
//! and the subscription handshake, and sends them to the bot.
//!
//! ```ignore
//! #[path = "../doubles/whatsapp/mod.rs"]
//! mod whatsapp;
//! let double = whatsapp::Double::start().await;
//! let settings = double.settings(&["15550100"]);
//! // … build robot_sre::channels::whatsapp::WhatsApp::new(&settings, store) and use it …
//! double.assert_valid();
//! ```
#![allow(dead_code)]

mod limits;
mod server;
mod spec;
pub mod webhooks;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use robot_sre::config::{Secret, WhatsAppSettings, WhatsAppTemplates};
use serde_json::Value;

pub use self::spec::Spec;
pub use self::webhooks::Signature;

/// The access token the double accepts.
pub const ACCESS_TOKEN: &str = "fake-whatsapp-access-token";
/// The app secret the double signs webhooks with.
pub const APP_SECRET: &str = "double-app-secret";
/// The verify token of the subscription handshake.
pub const VERIFY_TOKEN: &str = "double-verify-token";
/// The sending phone number id.
pub const PHONE_NUMBER_ID: &str = "106853218861309";
/// The spec's path of the send-message operation.
pub const MESSAGES_PATH: &str = "/{Version}/{Phone-Number-ID}/messages";

/// How the double answers.
#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    /// Answers like the real API.
    Normal,
    /// Not listening: connection refused.
    Down,
    /// Accepts the request and never answers.
    Hang,
    /// Answers normally after this delay.
    Slow(Duration),
    /// HTTP 429 with `Retry-After` and error 130429 (Cloud API throughput reached).
    RateLimited(Duration),
    /// HTTP 500 with error 131000 ("Something went wrong").
    ServerError,
    /// HTTP 401 with error 190 (invalid OAuth access token), type `OAuthException`.
    InvalidAuth,
    /// Any Graph error: HTTP status and error code (e.g. 400 and 131056, the pair rate limit).
    GraphError { status: u16, code: i64 },
}

/// One request the double received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub body: Value,
    /// The HTTP status the double answered with.
    pub status: u16,
}

/// The state the handlers share.
pub(crate) struct Shared {
    pub mode: Mutex<Mode>,
    pub recorded: Mutex<Vec<Recorded>>,
    pub violations: Mutex<Vec<String>>,
    /// `Some`: only these recipients have an open 24-hour window.
    pub windows: Mutex<Option<HashSet<String>>>,
    pub next_id: Mutex<u64>,
    pub release: tokio::sync::Notify,
}

/// The running double.
pub struct Double {
    addr: SocketAddr,
    shared: Arc<Shared>,
    server: tokio::sync::Mutex<Option<server::Running>>,
}

impl Double {
    /// Starts the double on a free loopback port.
    pub async fn start() -> Double {
        let shared = Arc::new(Shared {
            mode: Mutex::new(Mode::Normal),
            recorded: Mutex::new(Vec::new()),
            violations: Mutex::new(Vec::new()),
            windows: Mutex::new(None),
            next_id: Mutex::new(0),
            release: tokio::sync::Notify::new(),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let running = server::serve(listener, shared.clone());
        Double {
            addr,
            shared,
            server: tokio::sync::Mutex::new(Some(running)),
        }
    }

    /// The base URL to configure as `api_url`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Settings for the adapter, aimed at this double, sending to `recipients`.
    pub fn settings(&self, recipients: &[&str]) -> WhatsAppSettings {
        WhatsAppSettings {
            access_token: Secret::new(ACCESS_TOKEN),
            app_secret: Secret::new(APP_SECRET),
            verify_token: Secret::new(VERIFY_TOKEN),
            phone_number_id: PHONE_NUMBER_ID.into(),
            recipients: recipients.iter().map(|r| (*r).to_owned()).collect(),
            api_url: self.url().parse().expect("double URL"),
            api_version: "v23.0".into(),
            timeout: Duration::from_secs(2),
            dedupe_ttl: Duration::from_secs(3600),
            templates: WhatsAppTemplates::default(),
        }
    }

    /// Switches the failure mode; `Down` stops listening, anything else listens again.
    pub async fn set_mode(&self, mode: Mode) {
        let down = mode == Mode::Down;
        *self.shared.mode.lock().unwrap() = mode;
        self.shared.release.notify_waiters();
        let mut server = self.server.lock().await;
        match (down, server.is_some()) {
            (true, true) => {
                if let Some(running) = server.take() {
                    running.stop().await;
                }
            }
            (false, false) => {
                let listener = tokio::net::TcpListener::bind(self.addr)
                    .await
                    .expect("rebind");
                *server = Some(server::serve(listener, self.shared.clone()));
            }
            _ => {}
        }
    }

    /// Enforces the 24-hour window: non-template messages to anyone but `open` fail with 131047.
    pub fn enforce_window(&self, open: &[&str]) {
        let open = open.iter().map(|r| (*r).to_owned()).collect();
        *self.shared.windows.lock().unwrap() = Some(open);
    }

    /// Every request received, in order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.recorded.lock().unwrap().clone()
    }

    /// The bodies of the send-message requests the double accepted, in order.
    pub fn sent(&self) -> Vec<Value> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == "POST" && r.status == 200)
            .map(|r| r.body)
            .collect()
    }

    /// Every spec or limit violation seen so far.
    pub fn violations(&self) -> Vec<String> {
        self.shared.violations.lock().unwrap().clone()
    }

    /// Panics listing the violations, if there were any.
    pub fn assert_valid(&self) {
        let violations = self.violations();
        assert!(
            violations.is_empty(),
            "the bot sent requests that break the WhatsApp spec:\n{}",
            violations.join("\n")
        );
    }

    /// What is wrong with a send-message body, by the spec and the documented limits.
    pub fn validate(body: &Value) -> Vec<String> {
        let spec = Spec::get();
        let schema = spec
            .request_schema(MESSAGES_PATH, "post")
            .expect("the spec has the send-message request schema");
        let mut problems = spec.validate(schema, body);
        problems.extend(limits::check(body));
        problems
    }
}
