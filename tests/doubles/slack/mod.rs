//! A local Slack for tests: the Web API (`/api/<method>`) checked against Slack's published
//! spec and message limits, Socket Mode websockets, and signed (or badly signed) callbacks to
//! the bot. Failure modes switch at runtime.
//!
//! ```ignore
//! let slack = Double::start().await;           // listening on 127.0.0.1:<port>
//! // aim the bot at slack.url() with BOT_TOKEN …
//! slack.set_mode(Mode::RateLimited(Duration::from_secs(7))).await;
//! slack.sent();                                // what the bot sent, parsed
//! slack.assert_valid();                        // panics on any spec or limit violation
//! ```

#![allow(dead_code)]

mod api;
mod blocks;
mod callbacks;
mod form;
mod socket;
mod spec;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::routing::any;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

#[allow(unused_imports)]
pub use self::blocks::{BUTTON_TEXT, BUTTON_VALUE, HEADER_TEXT, MAX_BLOCKS, SECTION_TEXT};
pub use self::callbacks::{Callback, Signing, block_action, slash_command};

/// The bot token the double accepts for the Web API.
pub const BOT_TOKEN: &str = "fake-slack-bot-token-for-tests";
/// The app-level token the double accepts for `apps.connections.open`.
pub const APP_TOKEN: &str = "fake-slack-app-token-for-tests";
/// A signing secret for callbacks (give the bot the same one).
pub const SIGNING_SECRET: &str = "double-signing-secret-0123456789";
/// The channel tests post to.
pub const CHANNEL: &str = "C0DOUBLE01";
pub const TEAM: &str = "T0DOUBLE";
pub const APP_ID: &str = "A0DOUBLE";
pub const BOT_USER: &str = "U0DOUBLEBOT";
pub const BOT_BOT_ID: &str = "B0DOUBLE";

/// How the Web API behaves.
#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    Normal,
    /// Not listening: connections are refused.
    Down,
    /// Accepts, reads the request, never answers.
    Hang,
    /// Answers normally after this delay.
    Slow(Duration),
    /// HTTP 429 with `Retry-After` in whole seconds and `{"ok":false,"error":"ratelimited"}`.
    RateLimited(Duration),
    /// HTTP 500 with an HTML body.
    ServerError,
    /// `{"ok":false,"error":"invalid_auth"}`.
    InvalidAuth,
    /// `{"ok":false,"error":<code>}`, e.g. `channel_not_found`.
    ApiError(String),
}

/// One Web API request as the double received it.
#[derive(Debug, Clone)]
pub struct Sent {
    /// `chat.postMessage`, `chat.update`, `auth.test`, …
    pub method: String,
    /// `POST` or `GET`.
    pub verb: String,
    /// The arguments (JSON body, form or query), as a JSON object.
    pub params: Value,
    /// What was wrong with it; empty when valid.
    pub violations: Vec<String>,
    /// When it arrived.
    pub at: std::time::Instant,
}

pub(crate) struct Shared {
    mode: Mutex<Mode>,
    sent: Mutex<Vec<Sent>>,
    spec: Arc<spec::Spec>,
    next_ts: AtomicU64,
    posted: Mutex<HashSet<(String, String)>>,
    socket_addr: SocketAddr,
}

impl Shared {
    fn mode(&self) -> Mode {
        self.mode.lock().unwrap().clone()
    }

    fn record(&self, sent: Sent) {
        self.sent.lock().unwrap().push(sent);
    }

    fn socket_url(&self) -> String {
        format!(
            "ws://{}/link/?ticket=double&app_id={APP_ID}",
            self.socket_addr
        )
    }
}

struct Server {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

/// The Slack double.
pub struct Double {
    addr: SocketAddr,
    shared: Arc<Shared>,
    server: tokio::sync::Mutex<Option<Server>>,
    socket: socket::SocketServer,
}

impl Double {
    /// A double listening on a free loopback port.
    pub async fn start() -> Self {
        let socket = socket::SocketServer::start().await;
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let addr = listener.local_addr().expect("a bound address");
        let shared = Arc::new(Shared {
            mode: Mutex::new(Mode::Normal),
            sent: Mutex::new(Vec::new()),
            spec: spec::spec(),
            next_ts: AtomicU64::new(1),
            posted: Mutex::new(HashSet::new()),
            socket_addr: socket.addr,
        });
        let server = serve(listener, shared.clone());
        Self {
            addr,
            shared,
            server: tokio::sync::Mutex::new(Some(server)),
            socket,
        }
    }

    /// The Web API base URL (`http://127.0.0.1:<port>/api`), for `channels.slack.api_url`.
    pub fn url(&self) -> String {
        format!("http://{}/api", self.addr)
    }

    /// Switches the failure mode; `Down` stops listening (returns once connections are refused).
    pub async fn set_mode(&self, mode: Mode) {
        let mut server = self.server.lock().await;
        if mode == Mode::Down {
            if let Some(running) = server.take() {
                let _ = running.stop.send(());
                if tokio::time::timeout(Duration::from_secs(1), running.task)
                    .await
                    .is_err()
                {
                    // A hanging request keeps the graceful stop waiting; the port is closed.
                }
            }
        } else if server.is_none() {
            let listener = TcpListener::bind(self.addr)
                .await
                .expect("re-bind the double's port");
            *server = Some(serve(listener, self.shared.clone()));
        }
        *self.shared.mode.lock().unwrap() = mode;
    }

    /// Every Web API request received, in order.
    pub fn sent(&self) -> Vec<Sent> {
        self.shared.sent.lock().unwrap().clone()
    }

    /// The requests to `method`, in order.
    pub fn sent_to(&self, method: &str) -> Vec<Sent> {
        self.sent()
            .into_iter()
            .filter(|s| s.method == method)
            .collect()
    }

    /// Every violation of the spec or the limits, across all requests.
    pub fn violations(&self) -> Vec<String> {
        self.sent().into_iter().flat_map(|s| s.violations).collect()
    }

    /// Panics listing the violations, if any request broke the spec or a limit.
    pub fn assert_valid(&self) {
        let violations = self.violations();
        assert!(
            violations.is_empty(),
            "requests to the Slack double broke the spec:\n{}",
            violations.join("\n")
        );
    }

    /// Open Socket Mode connections.
    pub fn socket_connections(&self) -> usize {
        self.socket.connections()
    }

    /// Sends a Socket Mode envelope (`interactive`, `slash_commands`) with `payload`; its
    /// `envelope_id`, or `None` when the bot is not connected. `retry_attempt > 0` marks a
    /// redelivery.
    pub fn socket_envelope(
        &self,
        kind: &str,
        payload: Value,
        retry_attempt: u32,
    ) -> Option<String> {
        self.socket.send(kind, payload, retry_attempt)
    }

    /// The frames the bot sent over Socket Mode (acknowledgements).
    pub fn socket_received(&self) -> Vec<Value> {
        self.socket.received()
    }

    /// Whether the bot acknowledged `envelope_id`.
    pub fn acknowledged(&self, envelope_id: &str) -> bool {
        self.socket_received()
            .iter()
            .any(|frame| frame["envelope_id"] == envelope_id)
    }
}

fn serve(listener: TcpListener, shared: Arc<Shared>) -> Server {
    let router = Router::new()
        .route("/api/{method}", any(api::handle))
        .with_state(shared);
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await;
    });
    Server { stop, task }
}
