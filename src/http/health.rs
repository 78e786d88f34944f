//! `GET /healthz` (the process answers), `GET /readyz` (the store answers), `GET /metrics`.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde_json::json;

use super::AppState;
use crate::telemetry::error_chain;

/// How long readiness waits for the store before answering 503.
const READY_DEADLINE: Duration = Duration::from_secs(2);

pub async fn live() -> impl IntoResponse {
    Json(json!({"status": "ok"}))
}

pub async fn ready(State(app): State<AppState>) -> impl IntoResponse {
    let answer = tokio::time::timeout(READY_DEADLINE, app.store.ping()).await;
    match answer {
        Ok(Ok(())) => (
            StatusCode::OK,
            Json(json!({"status": "ready", "store": "ok"})),
        ),
        Ok(Err(error)) => {
            let reason = error_chain(&error);
            tracing::warn!(%reason, "not ready: state store does not answer");
            let body = json!({"status": "not ready", "store": reason});
            (StatusCode::SERVICE_UNAVAILABLE, Json(body))
        }
        Err(_) => {
            let body = json!({"status": "not ready", "store": "no answer within 2s"});
            (StatusCode::SERVICE_UNAVAILABLE, Json(body))
        }
    }
}

pub async fn metrics(State(app): State<AppState>) -> impl IntoResponse {
    let content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    ([(header::CONTENT_TYPE, content_type)], app.metrics.encode())
}
