//! Socket Mode: for clusters without public ingress, the bot opens a websocket to Slack
//! (`apps.connections.open` with the app-level token) and receives the same interaction and
//! slash-command payloads as envelopes, acknowledging each by its `envelope_id`
//! (https://docs.slack.dev/apis/events-api/using-socket-mode). The authenticated websocket is
//! the trust, so there is no signature; payloads go through the same parser as HTTP.
//!
//! slack-morphism's Socket Mode client does the connection work (reconnects, pings,
//! `disconnect` frames); it acknowledges an envelope when our callback returns, and withholds
//! the acknowledgement (so that Slack redelivers) when the event could not be queued.

use std::sync::Arc;

use slack_morphism::prelude::*;

use super::api::{Connector, SlackApi, token};
use super::inbound::{InboundError, SlackInbound};
use crate::config::Secret;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A running Socket Mode listener; [`SocketMode::shutdown`] closes its connections.
pub struct SocketMode {
    listener: SlackClientSocketModeListener<Connector>,
}

impl std::fmt::Debug for SocketMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketMode").finish_non_exhaustive()
    }
}

/// Socket Mode could not start.
#[derive(Debug, thiserror::Error)]
#[error("Slack Socket Mode could not start: {reason}")]
pub struct SocketModeError {
    reason: String,
}

impl SocketMode {
    /// Connects with `app_token` (`xapp-…`) through `api`'s base URL and feeds `inbound`.
    /// Connection failures are retried in the background.
    ///
    /// # Errors
    /// [`SocketModeError`] when the listener cannot be registered.
    pub async fn start(
        api: &SlackApi,
        app_token: &Secret,
        inbound: SlackInbound,
    ) -> Result<Self, SocketModeError> {
        let environment = SlackClientEventsListenerEnvironment::new(api.client())
            .with_error_handler(on_error)
            .with_user_state(inbound);
        let callbacks = SlackSocketModeListenerCallbacks::new()
            .with_interaction_events(on_interaction)
            .with_command_events(on_command);
        let config = SlackClientSocketModeConfig::new();
        let listener =
            SlackClientSocketModeListener::new(&config, Arc::new(environment), callbacks);
        listener
            .listen_for(&token(app_token))
            .await
            .map_err(|e| SocketModeError {
                reason: e.to_string(),
            })?;
        listener.start().await;
        Ok(Self { listener })
    }

    /// Closes every connection.
    pub async fn shutdown(&self) {
        self.listener.shutdown().await;
    }
}

async fn inbound(state: &SlackClientEventsUserState) -> Result<SlackInbound, BoxError> {
    let storage = state.read().await;
    storage
        .get_user_state::<SlackInbound>()
        .cloned()
        .ok_or_else(|| "slack: socket mode has no inbound state".into())
}

async fn on_interaction(
    event: SlackInteractionEvent,
    _client: Arc<SlackClient<Connector>>,
    state: SlackClientEventsUserState,
) -> UserCallbackResult<()> {
    let payload = serde_json::to_value(&event)?;
    inbound(&state).await?.accept_interaction(&payload).await?;
    Ok(())
}

async fn on_command(
    event: SlackCommandEvent,
    _client: Arc<SlackClient<Connector>>,
    state: SlackClientEventsUserState,
) -> UserCallbackResult<SlackCommandEventResponse> {
    let payload = serde_json::to_value(&event)?;
    inbound(&state).await?.accept_command(&payload).await?;
    // An empty response: the conversation layer answers in the channel.
    Ok(SlackCommandEventResponse::new(SlackMessageContent::new()))
}

/// Acknowledge unless a redelivery could succeed (a full queue, an unreachable store).
fn on_error(
    error: BoxError,
    _client: Arc<SlackClient<Connector>>,
    _state: SlackClientEventsUserState,
) -> HttpStatusCode {
    let transient = error
        .downcast_ref::<InboundError>()
        .is_some_and(InboundError::is_transient);
    tracing::warn!(%error, transient, "slack: socket mode event not queued");
    if transient {
        HttpStatusCode::SERVICE_UNAVAILABLE
    } else {
        HttpStatusCode::OK
    }
}
