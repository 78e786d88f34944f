//! The webhook endpoint, `/integrations/whatsapp/webhook`: the GET subscription handshake and
//! the signed POST notifications, acknowledged at once and handed to the [`Inbox`].

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::Utc;

use crate::channels::{Directory, Inbox};
use crate::config::{Secret, WhatsAppSettings};
use crate::store::{Store, StoreError};

use super::inbound::{self, Event};
use super::ledger::Ledger;
use super::payload::Notification;
use super::verify::{self, SIGNATURE_HEADER, SignatureError};

/// Where Meta is told to deliver webhooks.
pub const WEBHOOK_PATH: &str = "/integrations/whatsapp/webhook";

/// What the webhook handlers share.
#[derive(Clone)]
pub struct WebhookState {
    app_secret: Secret,
    verify_token: Secret,
    dedupe_ttl: Duration,
    ledger: Ledger,
    directory: Arc<Directory>,
    inbox: Inbox,
}

impl WebhookState {
    pub fn new(
        settings: &WhatsAppSettings,
        store: Arc<dyn Store>,
        directory: Arc<Directory>,
        inbox: Inbox,
    ) -> Self {
        Self {
            app_secret: settings.app_secret.clone(),
            verify_token: settings.verify_token.clone(),
            dedupe_ttl: settings.dedupe_ttl,
            ledger: Ledger::new(store),
            directory,
            inbox,
        }
    }
}

/// `GET` and `POST` [`WEBHOOK_PATH`], for the HTTP server to merge.
pub fn routes(state: WebhookState) -> Router {
    Router::new()
        .route(WEBHOOK_PATH, get(handshake).post(notify))
        .with_state(Arc::new(state))
}

/// Why a webhook request was not taken.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("unauthenticated webhook")]
    Unauthenticated(#[source] SignatureError),
    #[error("the webhook body is not a WhatsApp notification: {0}")]
    Malformed(String),
    #[error("state store unavailable; redeliver later")]
    Store(#[source] StoreError),
    #[error("the inbound queue is full; redeliver later")]
    Busy,
}

impl IntoResponse for WebhookError {
    fn into_response(self) -> Response {
        let status = match &self {
            WebhookError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            WebhookError::Malformed(_) => StatusCode::BAD_REQUEST,
            WebhookError::Store(_) | WebhookError::Busy => StatusCode::SERVICE_UNAVAILABLE,
        };
        tracing::warn!(error = %self, status = status.as_u16(), "whatsapp webhook refused");
        (status, self.to_string()).into_response()
    }
}

/// The subscription handshake: echo `hub.challenge` when `hub.mode` is `subscribe` and
/// `hub.verify_token` matches; 403 otherwise.
async fn handshake(
    State(state): State<Arc<WebhookState>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let param = |name: &str| query.get(name).map(String::as_str);
    let token_ok = param("hub.verify_token")
        .is_some_and(|given| verify::verify_token_matches(state.verify_token.expose(), given));
    match (param("hub.mode"), param("hub.challenge")) {
        (Some("subscribe"), Some(challenge)) if token_ok => {
            (StatusCode::OK, challenge.to_owned()).into_response()
        }
        _ => (StatusCode::FORBIDDEN, "verification failed").into_response(),
    }
}

/// A notification: signature checked on the raw body first, then parsed, deduplicated and
/// queued.
///
/// # Idempotency
/// Each message (and each failed status) is queued once per `dedupe_ttl`, across replicas; an
/// event that could not be queued is forgotten again so its redelivery is processed.
async fn notify(
    State(state): State<Arc<WebhookState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, WebhookError> {
    let signature = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    verify::check_signature(state.app_secret.expose(), &body, signature)
        .map_err(WebhookError::Unauthenticated)?;
    let notification: Notification =
        serde_json::from_slice(&body).map_err(|e| WebhookError::Malformed(e.to_string()))?;
    if notification.object != "whatsapp_business_account" {
        let reason = format!("object {:?}", notification.object);
        return Err(WebhookError::Malformed(reason));
    }
    let now = Utc::now();
    let events = inbound::events(&notification, &state.ledger, &state.directory, now)
        .await
        .map_err(WebhookError::Store)?;
    for event in events {
        queue(&state, event).await?;
    }
    Ok(StatusCode::OK)
}

async fn queue(state: &WebhookState, event: Event) -> Result<(), WebhookError> {
    let ledger = &state.ledger;
    let first = ledger
        .first_sighting(&event.dedupe_id, state.dedupe_ttl)
        .await
        .map_err(WebhookError::Store)?;
    if !first {
        tracing::debug!(id = %event.dedupe_id, "whatsapp redelivery dropped");
        return Ok(());
    }
    if state.inbox.submit(event.inbound).is_err() {
        ledger
            .forget_sighting(&event.dedupe_id)
            .await
            .map_err(WebhookError::Store)?;
        return Err(WebhookError::Busy);
    }
    Ok(())
}
