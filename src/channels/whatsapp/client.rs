//! The Graph API over `reqwest`: send a message, read the phone number. Every call carries the
//! bearer token and the configured timeout, and fails with an error classified by
//! [`super::errors`].

use std::time::Duration;

use crate::channels::DeliveryError;
use crate::config::{Secret, WhatsAppSettings};

use super::errors::{self, Failure};
use super::wire::{OutboundMessage, SendResponse};

/// The HTTP client could not be built (no TLS backend, say): a start-up failure.
#[derive(Debug, thiserror::Error)]
#[error("cannot build the WhatsApp HTTP client")]
pub struct ClientError(#[source] reqwest::Error);

/// A Graph API client bound to one sending phone number.
#[derive(Clone)]
pub struct GraphClient {
    http: reqwest::Client,
    messages_url: String,
    phone_url: String,
    token: Secret,
    timeout: Duration,
}

impl GraphClient {
    /// A client for `settings.phone_number_id` at `settings.api_url`/`settings.api_version`.
    ///
    /// # Errors
    /// [`ClientError`] when the HTTP client cannot be built.
    pub fn new(settings: &WhatsAppSettings) -> Result<Self, ClientError> {
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .build()
            .map_err(ClientError)?;
        let base = settings.api_url.as_str().trim_end_matches('/');
        let phone_url = format!(
            "{base}/{}/{}",
            settings.api_version, settings.phone_number_id
        );
        Ok(Self {
            http,
            messages_url: format!("{phone_url}/messages"),
            phone_url,
            token: settings.access_token.clone(),
            timeout: settings.timeout,
        })
    }

    /// Sends `message` and returns the `wamid` WhatsApp assigned to it.
    ///
    /// # Errors
    /// [`Failure::WindowClosed`] for error 131047 (only a template can reach this recipient
    /// now), else the classified [`DeliveryError`].
    ///
    /// # Idempotency
    /// None: the Cloud API has no idempotency key, so a retry after a timeout may deliver twice.
    pub async fn send(&self, message: &OutboundMessage) -> Result<String, Failure> {
        let request = self
            .http
            .post(&self.messages_url)
            .bearer_auth(self.token.expose())
            .json(message);
        let body = self.call(request).await?;
        let response: SendResponse = serde_json::from_slice(&body)
            .map_err(|_| Failure::Delivery(self.unreadable("a send response")))?;
        response
            .messages
            .into_iter()
            .next()
            .map(|sent| sent.id)
            .ok_or_else(|| {
                Failure::Delivery(self.unreadable("a send response without a message id"))
            })
    }

    /// Reads the phone number object (`GET /{Version}/{Phone-Number-ID}?fields=id`): the
    /// cheapest authenticated call.
    ///
    /// # Errors
    /// The classified [`DeliveryError`].
    pub async fn phone_number(&self) -> Result<(), DeliveryError> {
        let request = self
            .http
            .get(&self.phone_url)
            .query(&[("fields", "id")])
            .bearer_auth(self.token.expose());
        match self.call(request).await {
            Ok(_) => Ok(()),
            Err(Failure::Delivery(error)) => Err(error),
            Err(Failure::WindowClosed) => Err(DeliveryError::Refused {
                channel: crate::channels::ChannelKind::WhatsApp,
                code: format!("graph_{}", errors::WINDOW_CLOSED),
            }),
        }
    }

    /// Sends `request` and returns the body of a 2xx answer.
    async fn call(&self, request: reqwest::RequestBuilder) -> Result<Vec<u8>, Failure> {
        let transport =
            |error: reqwest::Error| Failure::Delivery(errors::transport(&error, self.timeout));
        let response = request.send().await.map_err(transport)?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(transport)?;
        if status.is_success() {
            return Ok(body.to_vec());
        }
        Err(errors::response(status, &headers, &body))
    }

    fn unreadable(&self, what: &str) -> DeliveryError {
        DeliveryError::Server {
            channel: crate::channels::ChannelKind::WhatsApp,
            reason: format!("the API answered with something that is not {what}"),
        }
    }
}
