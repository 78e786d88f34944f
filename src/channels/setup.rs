//! Start-up glue: the configured adapters, their inbound routes and background listeners, the
//! failover router over them, and the inbox their events go to.

use std::sync::Arc;

use anyhow::Context;
use prometheus_client::metrics::counter::Counter;
use tokio::sync::mpsc::Receiver;
use tokio::task::JoinHandle;

use super::slack::{SlackApi, SlackChannel, SlackInbound, SocketMode};
use super::telegram::{TelegramChannel, TelegramInbound};
use super::whatsapp::{WebhookState, WhatsApp};
use super::{Channel, DeliveryFailures, Directory, Inbound, Inbox, Router};
use crate::config::{ChannelSettings, TelegramMode};
use crate::store::Store;

/// How many verified inbound events may wait for the conversation layer.
pub const INBOX_CAPACITY: usize = 1024;

/// The running channels.
pub struct Channels {
    pub router: Arc<Router>,
    /// The inbound endpoints of the channels that receive over HTTP.
    pub routes: axum::Router,
    /// Long polling and other listeners; aborted at shutdown.
    pub background: Vec<JoinHandle<()>>,
    socket_mode: Option<SocketMode>,
}

impl Channels {
    /// Stops the listeners.
    pub async fn shutdown(self) {
        if let Some(socket) = &self.socket_mode {
            socket.shutdown().await;
        }
        for task in self.background {
            task.abort();
        }
    }
}

/// Builds every configured channel; the receiver yields their verified inbound events.
///
/// # Errors
/// When an adapter cannot be built (a TLS backend, a Socket Mode connection refused at start).
pub async fn build(
    settings: &ChannelSettings,
    store: Arc<dyn Store>,
    failures: Arc<dyn DeliveryFailures>,
    failure_counter: Counter,
) -> anyhow::Result<(Channels, Receiver<Inbound>)> {
    let directory = Arc::new(Directory::new(&settings.people));
    let (inbox, events) = Inbox::new(INBOX_CAPACITY);
    let mut channels: Vec<Arc<dyn Channel>> = Vec::new();
    let mut routes = axum::Router::new();
    let mut background = Vec::new();
    let mut socket_mode = None;
    if let Some(slack) = &settings.slack {
        let api = SlackApi::new(&slack.api_url, &slack.bot_token, slack.timeout)
            .context("cannot build the Slack client")?;
        channels.push(Arc::new(SlackChannel::new(
            api.clone(),
            &slack.channel,
            store.clone(),
        )));
        let inbound = SlackInbound::new(
            slack.signing_secret.clone(),
            (*directory).clone(),
            inbox.clone(),
            store.clone(),
            slack.dedupe_ttl,
        );
        match (&slack.app_token, slack.socket_mode) {
            (Some(app_token), true) => {
                let socket = SocketMode::start(&api, app_token, inbound)
                    .await
                    .context("cannot open Slack Socket Mode")?;
                socket_mode = Some(socket);
            }
            _ => routes = routes.merge(super::slack::routes(inbound)),
        }
    }
    if let Some(telegram) = &settings.telegram {
        let channel = Arc::new(
            TelegramChannel::new(telegram, store.clone())
                .context("cannot build the Telegram client")?,
        );
        if let Err(error) = channel.register_commands().await {
            tracing::warn!(%error, "Telegram command menu not registered; commands still work");
        }
        let inbound = Arc::new(TelegramInbound::new(
            channel.clone(),
            inbox.clone(),
            directory.clone(),
            telegram.webhook_secret.clone(),
        ));
        match telegram.mode {
            TelegramMode::Webhook => routes = routes.merge(super::telegram::routes(inbound)),
            TelegramMode::Polling => background.push(tokio::spawn(super::telegram::poll(
                inbound,
                std::future::pending(),
            ))),
        }
        channels.push(channel);
    }
    if let Some(whatsapp) = &settings.whatsapp {
        channels.push(Arc::new(
            WhatsApp::new(whatsapp, store.clone()).context("cannot build the WhatsApp client")?,
        ));
        let state = WebhookState::new(whatsapp, store.clone(), directory.clone(), inbox.clone());
        routes = routes.merge(super::whatsapp::routes(state));
    }
    // Last: the console is the in-app channel and the failover list's last resort.
    if let Some(console) = &settings.console {
        let console =
            super::console::Console::new(console, store.clone(), &settings.people, inbox.clone());
        channels.push(Arc::new(console.channel()));
        routes = routes.merge(console.routes());
    }
    let router = Router::new(channels, settings.routing.clone())
        .with_failure_reporting(failures, failure_counter);
    let channels = Channels {
        router: Arc::new(router),
        routes,
        background,
        socket_mode,
    };
    Ok((channels, events))
}
