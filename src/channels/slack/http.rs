//! The HTTP endpoints Slack calls: interactivity (`POST /integrations/slack/actions`, a form
//! with one `payload` field holding JSON) and slash commands (`POST
//! /integrations/slack/commands`, form fields). Each request is verified on its raw body before
//! anything is parsed, then queued and acknowledged with an empty 200 — Slack expects the
//! acknowledgement within 3 seconds (https://docs.slack.dev/interactivity/handling-user-interaction).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use chrono::Utc;
use serde_json::{Map, Value};

use super::inbound::{Accepted, InboundError, SlackInbound};
use super::verify::{self, SignatureError};

/// Where Slack posts button presses (the app's Interactivity request URL).
pub const ACTIONS_PATH: &str = "/integrations/slack/actions";
/// Where Slack posts slash commands (each command's request URL).
pub const COMMANDS_PATH: &str = "/integrations/slack/commands";
/// Slack's redelivery headers (`X-Slack-Retry-Num`, `X-Slack-Retry-Reason`).
pub const RETRY_NUM_HEADER: &str = "x-slack-retry-num";
pub const RETRY_REASON_HEADER: &str = "x-slack-retry-reason";
/// Interaction payloads carry the whole message (up to 50 blocks); this is ample.
const MAX_BODY: usize = 1024 * 1024;

/// The Slack endpoints, ready to merge into the bot's router.
pub fn routes(state: SlackInbound) -> Router {
    Router::new()
        .route(ACTIONS_PATH, post(actions))
        .route(COMMANDS_PATH, post(commands))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

async fn actions(State(state): State<SlackInbound>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(error) = verify::verify(state.signing_secret(), &headers, &body, Utc::now()) {
        return refuse(error);
    }
    note_retry(&headers);
    let payload = match interaction_payload(&body) {
        Ok(payload) => payload,
        Err(error) => return failure(error),
    };
    answer(state.accept_interaction(&payload).await)
}

async fn commands(State(state): State<SlackInbound>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(error) = verify::verify(state.signing_secret(), &headers, &body, Utc::now()) {
        return refuse(error);
    }
    note_retry(&headers);
    let fields: Map<String, Value> = url::form_urlencoded::parse(&body)
        .map(|(name, value)| (name.into_owned(), Value::String(value.into_owned())))
        .collect();
    answer(state.accept_command(&Value::Object(fields)).await)
}

/// The JSON in the `payload` form field.
fn interaction_payload(body: &[u8]) -> Result<Value, InboundError> {
    let malformed = |reason: String| InboundError::Malformed { reason };
    let (_, json) = url::form_urlencoded::parse(body)
        .find(|(name, _)| name == "payload")
        .ok_or_else(|| malformed("no payload field".into()))?;
    serde_json::from_str(&json).map_err(|e| malformed(format!("payload is not JSON: {e}")))
}

/// A redelivery is still checked against the delivery claims: it is dropped only when the
/// first attempt was queued.
fn note_retry(headers: &HeaderMap) {
    if let Some(attempt) = headers.get(RETRY_NUM_HEADER) {
        let reason = headers.get(RETRY_REASON_HEADER);
        tracing::debug!(?attempt, ?reason, "slack: redelivery");
    }
}

fn answer(result: Result<Accepted, InboundError>) -> Response {
    match result {
        Ok(_) => StatusCode::OK.into_response(),
        Err(error) => failure(error),
    }
}

fn refuse(error: SignatureError) -> Response {
    tracing::warn!(%error, "slack: request refused");
    (StatusCode::UNAUTHORIZED, error.to_string()).into_response()
}

fn failure(error: InboundError) -> Response {
    tracing::warn!(%error, "slack: request not queued");
    let status = if error.is_transient() {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::BAD_REQUEST
    };
    (status, error.to_string()).into_response()
}
