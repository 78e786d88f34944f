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
use crate::incidents::{Notification, Outcome, Recorded};
use crate::telemetry::error_chain;

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
            ApiError::NotRecorded(_) | ApiError::NotRecordable { .. } => {
                let error = error_chain(error);
                tracing::error!(%error, "alertmanager notification not fully recorded")
            }
            other => tracing::warn!(reason = other.code(), %other, "alertmanager webhook refused"),
        }
    }
    result.map(Json)
}

async fn record(app: &AppState, body: Result<Bytes, BytesRejection>) -> Result<Receipt, ApiError> {
    let body = body.map_err(|rejection| body_error(rejection, app.max_body_bytes))?;
    let notification = Notification::parse(&body)?;
    if notification.truncated_alerts > 0 {
        app.metrics
            .alerts_truncated
            .inc_by(notification.truncated_alerts);
        tracing::warn!(
            truncated = notification.truncated_alerts,
            group_key = %notification.group_key,
            "Alertmanager dropped alerts of this group (max_alerts); they were never sent"
        );
    }
    let total = notification.alerts.len();
    let mut incidents = Vec::with_capacity(total);
    let mut refused = Vec::new();
    for alert in &notification.alerts {
        match app.incidents.record(&notification.group_key, alert).await {
            Ok(recorded) => {
                app.metrics
                    .record_outcome(recorded.outcome, recorded.incident_type);
                tracing::info!(
                    incident = %recorded.incident_id,
                    fingerprint = %recorded.fingerprint,
                    outcome = ?recorded.outcome,
                    incident_type = recorded.incident_type.as_str(),
                    "alert recorded"
                );
                if let Some(driver) = &app.conversations {
                    driver.on_recorded(&recorded);
                } else if let (Some(collector), Outcome::Opened | Outcome::Reopened) =
                    (&app.evidence, recorded.outcome)
                {
                    collector.spawn(app.incidents.clone(), recorded.incident_id.clone());
                }
                incidents.push(recorded);
            }
            // The store is down: stop here, Alertmanager retries the whole group.
            Err(error) if error.is_transient() => return Err(ApiError::NotRecorded(error)),
            // This alert's data is refused; record the rest of the group before answering.
            Err(error) => {
                let error_text = error_chain(&error);
                tracing::error!(fingerprint = %alert.identity(), error = %error_text, "alert refused by the store");
                refused.push(error);
            }
        }
    }
    match refused.into_iter().next() {
        Some(first) => Err(ApiError::NotRecordable {
            failed: total - incidents.len(),
            total,
            first,
        }),
        None => Ok(Receipt {
            received: total,
            incidents,
        }),
    }
}
