//! The web console: a channel served by the bot itself at `/console`, for the in-app view of
//! incidents and as the last resort of the failover list.
//!
//! - [`channel`]: [`ConsoleChannel`], the [`crate::channels::Channel`] that writes messages
//!   into per-incident threads in the store;
//! - [`thread`]: the stored thread entries and the view that folds outcomes onto prompts;
//! - [`auth`]: users with argon2 password hashes, sessions in the store, CSRF tokens;
//! - [`view`]: the incident list and the incident detail, read from the store;
//! - [`api`]: the JSON and server-sent-event endpoints; [`page`]: the page, script and styles.
//!
//! Approve / Reject on the page submit the prompt's one-time token to the [`Inbox`] as a
//! console [`crate::channels::Sender`]: the same token checks and approver rules as every
//! chat channel decide what happens.

pub mod api;
pub mod auth;
pub mod channel;
mod error;
mod page;
pub mod thread;
pub mod view;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use axum::routing::{get, post};

use self::auth::{Sessions, Users};
pub use self::channel::ConsoleChannel;
pub use self::error::ApiError;
use crate::channels::{Inbox, Person};
use crate::config::ConsoleSettings;
use crate::store::Store;

/// How often an open page is told to refresh even when nothing changed on this replica (a
/// change made on another replica, or a state change with no console message).
pub const TICK: Duration = Duration::from_secs(2);

/// Everything the console's endpoints share; cheap to clone.
#[derive(Clone)]
pub struct Console {
    inner: Arc<Inner>,
    tick: Duration,
}

struct Inner {
    channel: ConsoleChannel,
    users: Users,
    sessions: Sessions,
    inbox: Inbox,
    /// Names under `channels.people`: a console user is that person, or nobody.
    people: HashSet<String>,
    secure_cookie: bool,
}

impl Console {
    /// The console for `settings`, writing to `store` and submitting decisions to `inbox`.
    pub fn new(
        settings: &ConsoleSettings,
        store: Arc<dyn Store>,
        people: &[Person],
        inbox: Inbox,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                channel: ConsoleChannel::new(store.clone(), settings.public_url.clone()),
                users: Users::new(settings),
                sessions: Sessions::new(store, settings.session_ttl),
                inbox,
                people: people.iter().map(|p| p.name.clone()).collect(),
                secure_cookie: settings.secure_cookie,
            }),
            tick: TICK,
        }
    }

    /// The same console with another refresh tick (tests).
    pub fn with_tick(self, tick: Duration) -> Self {
        Self { tick, ..self }
    }

    /// The channel, for the router.
    pub fn channel(&self) -> ConsoleChannel {
        self.inner.channel.clone()
    }

    /// Every console route, under `/console`.
    pub fn routes(&self) -> axum::Router {
        axum::Router::new()
            .route("/console", get(page::index))
            .route("/console/app.js", get(page::script))
            .route("/console/app.css", get(page::styles))
            .route("/console/login", post(api::login))
            .route("/console/logout", post(api::logout))
            .route("/console/api/session", get(api::session))
            .route("/console/api/incidents", get(api::incidents))
            .route("/console/api/incidents/{id}", get(api::incident))
            .route("/console/api/decisions", post(api::decide))
            .route("/console/api/events", get(api::events))
            .layer(axum::middleware::map_response(page::guard_headers))
            .with_state(self.clone())
    }
}

#[cfg(test)]
mod api_tests;
#[cfg(test)]
mod view_tests;
