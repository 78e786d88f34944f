//! `POST /integrations/telegram/webhook`: Telegram's update delivery, authenticated by the
//! `secret_token` it echoes in `X-Telegram-Bot-Api-Secret-Token`
//! (<https://core.telegram.org/bots/api#setwebhook>).
//!
//! The header is compared in constant time on the raw request, before the body is parsed.
//! Telegram repeats a delivery that is not answered 2xx, so an update the bot cannot take now is
//! answered 503 and comes again; a malformed one is answered 400.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use teloxide::types::Update;

use super::inbound::{HandleError, TelegramInbound};

/// Where Telegram posts updates; give `<public base URL>/integrations/telegram/webhook` to
/// `setWebhook`.
pub const WEBHOOK_PATH: &str = "/integrations/telegram/webhook";

/// The header carrying the webhook's `secret_token`.
pub const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

/// The webhook endpoint, to merge into the bot's router.
pub fn routes(state: Arc<TelegramInbound>) -> Router {
    Router::new()
        .route(WEBHOOK_PATH, post(webhook))
        .with_state(state)
}

/// Why a webhook request was not taken.
#[derive(Debug, thiserror::Error)]
enum WebhookError {
    #[error("no webhook secret is configured")]
    NotConfigured,
    #[error("missing or wrong X-Telegram-Bot-Api-Secret-Token")]
    Unauthenticated,
    #[error("the body is not a Telegram Update: {0}")]
    Malformed(String),
    #[error("the update cannot be taken now; retry")]
    Busy(#[source] HandleError),
}

impl IntoResponse for WebhookError {
    fn into_response(self) -> Response {
        let status = match &self {
            WebhookError::NotConfigured => StatusCode::SERVICE_UNAVAILABLE,
            WebhookError::Unauthenticated => StatusCode::UNAUTHORIZED,
            WebhookError::Malformed(_) => StatusCode::BAD_REQUEST,
            WebhookError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
        };
        (status, self.to_string()).into_response()
    }
}

async fn webhook(
    State(inbound): State<Arc<TelegramInbound>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, WebhookError> {
    authenticate(&inbound, &headers).inspect_err(|error| {
        tracing::warn!(reason = %error, "telegram webhook refused");
    })?;
    let update: Update = serde_json::from_slice(&body).map_err(|error| {
        tracing::warn!(%error, "telegram webhook body is not an Update");
        WebhookError::Malformed(error.to_string())
    })?;
    match inbound.handle(&update).await {
        Ok(handled) => {
            tracing::debug!(update_id = update.id.0, ?handled, "telegram update");
            Ok(StatusCode::OK)
        }
        Err(error) => {
            tracing::warn!(%error, "telegram update deferred");
            Err(WebhookError::Busy(error))
        }
    }
}

fn authenticate(inbound: &TelegramInbound, headers: &HeaderMap) -> Result<(), WebhookError> {
    let expected = inbound
        .webhook_secret
        .as_ref()
        .ok_or(WebhookError::NotConfigured)?;
    let presented = headers
        .get(SECRET_HEADER)
        .ok_or(WebhookError::Unauthenticated)?;
    if secrets_match(presented.as_bytes(), expected.expose().as_bytes()) {
        Ok(())
    } else {
        Err(WebhookError::Unauthenticated)
    }
}

/// Constant-time equality: hashing first makes the comparison independent of where the values
/// differ and of their lengths.
fn secrets_match(presented: &[u8], expected: &[u8]) -> bool {
    Sha256::digest(presented)
        .ct_eq(&Sha256::digest(expected))
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_match_only_when_equal() {
        assert!(secrets_match(b"abc-123", b"abc-123"));
        assert!(!secrets_match(b"abc-124", b"abc-123"));
        assert!(!secrets_match(b"", b"abc-123"));
        assert!(!secrets_match(b"abc-1234", b"abc-123"));
    }
}
