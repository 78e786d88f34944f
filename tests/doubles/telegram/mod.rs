//! A local Telegram Bot API server for tests: the real wire format
//! (`POST /bot<token>/<method>`, JSON in, `{ok, result}` or `{ok:false, error_code,
//! description, parameters}` out), every request checked against `tests/specs/` and recorded,
//! updates queued for `getUpdates` or posted to the bot's webhook with a good, bad or missing
//! secret, and the failures of the real service switchable at runtime.
//!
//! Use: `let double = TelegramDouble::start().await;` aim the bot at `double.url()` with
//! [`TOKEN`], then `double.sent()`, `double.set_mode(Mode::Down).await`,
//! `double.assert_valid()`.
//!
//! 5xx: Telegram answers an internal error with HTTP 500 and
//! `{"ok":false,"error_code":500,"description":"Internal Server Error"}`; [`Mode::ServerError`]
//! does exactly that. teloxide sleeps 10 s before reading any 5xx body (teloxide-core 0.13
//! `src/net/request.rs`), so tests of that mode run under paused tokio time.
#![allow(dead_code)]

mod api;
mod form;
mod html;
mod spec;
mod updates;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use robot_sre::testkit::process::poll_until;
use serde_json::Value;
use tokio::sync::{Notify, oneshot};

pub use self::spec::Spec;
pub use self::updates::SecretHeader;

/// The bot token the double accepts (`<bot id>:<secret>`, as @BotFather issues them).
pub const TOKEN: &str = "7000000001:FAKE-telegram-token";
/// The bot's user id (the token's prefix) and username.
pub const BOT_ID: i64 = 7_000_000_001;
pub const BOT_USERNAME: &str = "RobotSreTestBot";
/// The `secret_token` the double puts in `X-Telegram-Bot-Api-Secret-Token`.
pub const WEBHOOK_SECRET: &str = "double-webhook-secret_0123";

/// How the double answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Normal,
    /// Connections are refused (nothing listens).
    Down,
    /// Requests are accepted and never answered.
    Hang,
    /// Every answer comes after this delay.
    Slow(Duration),
    /// 429 with `parameters.retry_after` = this many seconds.
    RateLimited(u32),
    /// HTTP 500 with Telegram's `ok:false` body.
    ServerError,
    /// 401 Unauthorized, as for a revoked or wrong token.
    InvalidAuth,
    /// 403 "Forbidden: bot was blocked by the user".
    BotBlocked,
    /// 400 "Bad Request: chat not found".
    ChatNotFound,
}

/// One request the bot made.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    pub params: Value,
}

/// A message as the double holds it: its HTML or plain text and its inline keyboard.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredMessage {
    pub text: String,
    pub parse_mode: Option<String>,
    pub reply_markup: Option<Value>,
}

#[derive(Default)]
struct State {
    mode: Mutex<Option<Mode>>,
    calls: Mutex<Vec<Call>>,
    violations: Mutex<Vec<String>>,
    messages: Mutex<HashMap<(i64, i64), StoredMessage>>,
    updates: Mutex<VecDeque<Value>>,
    update_pushed: Notify,
    next_message_id: AtomicI64,
    next_update_id: AtomicI64,
}

/// The running double.
pub struct TelegramDouble {
    state: Arc<State>,
    address: SocketAddr,
    stop: Mutex<Option<oneshot::Sender<()>>>,
}

impl TelegramDouble {
    /// Starts listening on a free loopback port.
    pub async fn start() -> Self {
        let state = Arc::new(State::default());
        state.next_message_id.store(100, Ordering::SeqCst);
        state.next_update_id.store(500_000, Ordering::SeqCst);
        let listener = bind("127.0.0.1:0".parse().unwrap());
        let address = listener.local_addr().unwrap();
        let stop = serve(listener, state.clone());
        Self {
            state,
            address,
            stop: Mutex::new(Some(stop)),
        }
    }

    /// The base URL to give teloxide's `Bot::set_api_url`.
    pub fn url(&self) -> reqwest::Url {
        format!("http://{}", self.address).parse().unwrap()
    }

    /// Switches the failure mode; `Down` returns once connections are refused.
    pub async fn set_mode(&self, mode: Mode) {
        *self.state.mode.lock().unwrap() = Some(mode);
        let running = self.stop.lock().unwrap().is_some();
        match (mode, running) {
            (Mode::Down, true) => {
                let stop = self.stop.lock().unwrap().take();
                let _ = stop.map(|s| s.send(()));
                let address = self.address;
                let refused =
                    || async move { std::net::TcpStream::connect(address).is_err().then_some(()) };
                poll_until(Duration::from_secs(5), Duration::from_millis(5), refused)
                    .await
                    .expect("the double stops listening");
            }
            (Mode::Down, false) | (_, true) => {}
            (_, false) => {
                let stop = serve(bind(self.address), self.state.clone());
                *self.stop.lock().unwrap() = Some(stop);
            }
        }
    }

    /// Every request so far, in order.
    pub fn sent(&self) -> Vec<Call> {
        self.state.calls.lock().unwrap().clone()
    }

    /// The parameters of every call of `method` so far.
    pub fn calls(&self, method: &str) -> Vec<Value> {
        self.sent()
            .into_iter()
            .filter(|c| c.method == method)
            .map(|c| c.params)
            .collect()
    }

    /// Waits (up to 5 s) until `method` was called at least `count` times; its calls.
    pub async fn wait_for(&self, method: &str, count: usize) -> Vec<Value> {
        let enough = || async { (self.calls(method).len() >= count).then_some(()) };
        let reached = poll_until(Duration::from_secs(5), Duration::from_millis(5), enough).await;
        let calls = self.calls(method);
        assert!(
            reached.is_some(),
            "{method} called {} times, wanted {count}",
            calls.len()
        );
        calls
    }

    /// Spec violations seen so far.
    pub fn violations(&self) -> Vec<String> {
        self.state.violations.lock().unwrap().clone()
    }

    /// Panics listing every request that broke the spec.
    pub fn assert_valid(&self) {
        let violations = self.violations();
        assert!(
            violations.is_empty(),
            "requests broke the Bot API spec:\n{}",
            violations.join("\n")
        );
    }

    /// A message the bot sent, as it stands now (after edits).
    pub fn message(&self, chat: i64, message_id: i64) -> Option<StoredMessage> {
        self.state
            .messages
            .lock()
            .unwrap()
            .get(&(chat, message_id))
            .cloned()
    }

    /// Queues an update for `getUpdates`.
    pub fn push_update(&self, update: Value) {
        self.state.updates.lock().unwrap().push_back(update);
        self.state.update_pushed.notify_waiters();
    }

    /// Updates queued and not yet confirmed by a later `offset`.
    pub fn pending_updates(&self) -> usize {
        self.state.updates.lock().unwrap().len()
    }
}

impl Drop for TelegramDouble {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.lock().unwrap().take() {
            let _ = stop.send(());
        }
    }
}

/// A listener that can take the port again right after a previous one closed.
fn bind(address: SocketAddr) -> tokio::net::TcpListener {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_reuseaddr(true).unwrap();
    socket.bind(address).unwrap();
    socket.listen(128).unwrap()
}

fn serve(listener: tokio::net::TcpListener, state: Arc<State>) -> oneshot::Sender<()> {
    let (stop, stopped) = oneshot::channel::<()>();
    let app = api::router(state);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await;
    });
    stop
}
