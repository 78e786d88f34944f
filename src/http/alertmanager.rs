//! `POST /webhooks/alertmanager`: authenticate, bound, parse, record, and only then answer 2xx.

use std::time::Instant;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use serde::Serialize;

use super::AppState;
use super::auth::AlertmanagerAuth;
use super::error::ApiError;
use crate::incidents::{Notification, Recorded};

/// What the bot recorded, returned with the 200.
#[derive(Debug, Serialize)]
pub struct Receipt {
    pub received: usize,
    pub incidents: Vec<Recorded>,
}

fn body_error(rejection: BytesRejection, limit: usize) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::TooLarge { limit }
    } else {
        ApiError::BadBody(rejection.body_text())
    }
}

/// Records every alert of the notification.
///
/// # Guarantees
/// 200 only after every alert is durably recorded. A 503 may follow a partial success; the
/// retry finds the recorded alerts and treats them as duplicates.
pub async fn receive(
    State(app): State<AppState>,
    _auth: AlertmanagerAuth,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Receipt>, ApiError> {
    let started = Instant::now();
    let result = record(&app, body).await;
    app.metrics
        .ingest_latency
        .observe(started.elapsed().as_secs_f64());
    if let Err(error) = &result {
        app.metrics.reject(error.code());
        match error {
            ApiError::NotRecorded(source) => {
                tracing::error!(error = %source, "alertmanager notification not recorded")
            }
            other => tracing::warn!(reason = other.code(), %other, "alertmanager webhook refused"),
        }
    }
    result.map(Json)
}

async fn record(app: &AppState, body: Result<Bytes, BytesRejection>) -> Result<Receipt, ApiError> {
    let body = body.map_err(|rejection| body_error(rejection, app.max_body_bytes))?;
    let notification = Notification::parse(&body)?;
    let mut incidents = Vec::with_capacity(notification.alerts.len());
    for alert in &notification.alerts {
        let recorded = app
            .incidents
            .record(&notification.group_key, alert)
            .await
            .map_err(ApiError::NotRecorded)?;
        app.metrics
            .record_outcome(recorded.outcome, recorded.incident_type);
        tracing::info!(
            incident = %recorded.incident_id,
            fingerprint = %recorded.fingerprint,
            outcome = ?recorded.outcome,
            incident_type = recorded.incident_type.as_str(),
            "alert recorded"
        );
        incidents.push(recorded);
    }
    Ok(Receipt {
        received: notification.alerts.len(),
        incidents,
    })
}
