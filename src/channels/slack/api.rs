//! The slack-morphism Web API client, aimed at a configurable base URL, with one time limit
//! on every call and every failure classified by [`errors::classify`].

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use slack_morphism::errors::SlackClientError;
use slack_morphism::prelude::*;

use super::errors;
use crate::channels::{ChannelKind, DeliveryError};
use crate::config::Secret;

/// The connector every Slack client here uses: rustls with the system's roots.
pub type Connector = SlackClientHyperHttpsConnector;

/// The Web API with the bot token: `chat.postMessage`, `chat.update`, `auth.test`.
#[derive(Clone)]
pub struct SlackApi {
    client: Arc<SlackClient<Connector>>,
    token: SlackApiToken,
    timeout: Duration,
}

/// The client could not be built.
#[derive(Debug, thiserror::Error)]
#[error("cannot build the Slack client (TLS roots)")]
pub struct ApiSetupError(#[source] pub std::io::Error);

impl fmt::Debug for SlackApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SlackApi")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl SlackApi {
    /// A client for `api_url` (e.g. `https://slack.com/api`) using `bot_token`.
    ///
    /// # Errors
    /// [`ApiSetupError`] when the system's TLS root certificates cannot be loaded.
    pub fn new(
        api_url: &url::Url,
        bot_token: &Secret,
        timeout: Duration,
    ) -> Result<Self, ApiSetupError> {
        Ok(Self {
            client: Arc::new(SlackClient::new(connector(api_url)?)),
            token: token(bot_token),
            timeout,
        })
    }

    /// The underlying client (Socket Mode shares it).
    pub fn client(&self) -> Arc<SlackClient<Connector>> {
        self.client.clone()
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// `chat.postMessage`.
    ///
    /// # Errors
    /// Any [`DeliveryError`]; nothing was posted unless the call timed out (then it may have been).
    pub async fn post_message(
        &self,
        request: &SlackApiChatPostMessageRequest,
    ) -> Result<SlackApiChatPostMessageResponse, DeliveryError> {
        let session = self.client.open_session(&self.token);
        self.bounded(session.chat_post_message(request)).await
    }

    /// `chat.update`.
    ///
    /// # Errors
    /// Any [`DeliveryError`].
    ///
    /// # Idempotency
    /// Updating again with the same content leaves the message as it is.
    pub async fn update(
        &self,
        request: &SlackApiChatUpdateRequest,
    ) -> Result<SlackApiChatUpdateResponse, DeliveryError> {
        let session = self.client.open_session(&self.token);
        self.bounded(session.chat_update(request)).await
    }

    /// `auth.test`: the cheapest authenticated call.
    ///
    /// # Errors
    /// Any [`DeliveryError`]; `Refused { code: "invalid_auth" }` for a bad token.
    pub async fn auth_test(&self) -> Result<SlackApiAuthTestResponse, DeliveryError> {
        let session = self.client.open_session(&self.token);
        self.bounded(session.auth_test()).await
    }

    async fn bounded<T>(
        &self,
        call: impl Future<Output = Result<T, SlackClientError>>,
    ) -> Result<T, DeliveryError> {
        match tokio::time::timeout(self.timeout, call).await {
            Ok(result) => result.map_err(errors::classify),
            Err(_) => Err(DeliveryError::Timeout {
                channel: ChannelKind::Slack,
                after: self.timeout,
            }),
        }
    }
}

/// A slack-morphism token from a configured secret.
pub(crate) fn token(secret: &Secret) -> SlackApiToken {
    SlackApiToken::new(SlackApiTokenValue::new(secret.expose().to_owned()))
}

/// slack-morphism's own constructor is https-only; a loopback `http` URL (a local test double,
/// the only plain-http URL the settings accept) needs the connector to allow http as well.
fn connector(api_url: &url::Url) -> Result<Connector, ApiSetupError> {
    let builder = hyper_rustls::HttpsConnectorBuilder::new()
        .with_native_roots()
        .map_err(ApiSetupError)?;
    let builder = if api_url.scheme() == "http" {
        builder.https_or_http()
    } else {
        builder.https_only()
    };
    let https = builder.enable_http1().enable_http2().build();
    let base = api_url.as_str().trim_end_matches('/');
    Ok(SlackClientHyperConnector::from(https).with_slack_api_url(base))
}
