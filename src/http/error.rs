//! Every HTTP error answer, mapped to its status code in one place.
//!
//! Alertmanager retries 5xx and drops everything else (notify/util.go `Retrier.Check`), so the
//! mapping is a promise: 4xx only for requests that can never succeed, 503 when a retry may, and
//! 500 when some alerts were refused by the store (the healthy ones of the group are recorded, so
//! one broken document does not hold the rest back).

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::incidents::{IngestError, PayloadError};

/// A refused request.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("missing bearer token: send `Authorization: Bearer <token>`")]
    Unauthenticated,
    #[error("the bearer token is not valid for this endpoint")]
    Forbidden,
    #[error(
        "no Alertmanager token is configured, so every request is refused; \
         set alertmanager.token (or ROBOT_SRE__ALERTMANAGER__TOKEN)"
    )]
    AuthNotConfigured,
    #[error("the body is larger than the {limit}-byte limit (alertmanager.max_body_bytes)")]
    TooLarge { limit: usize },
    #[error(transparent)]
    BadPayload(#[from] PayloadError),
    #[error("the body could not be read: {0}")]
    BadBody(String),
    #[error("the alert could not be recorded; nothing was acknowledged, so retry later")]
    NotRecorded(#[source] IngestError),
    #[error(
        "{failed} of {total} alerts could not be recorded (the store refused them); the others \
         were recorded"
    )]
    NotRecordable {
        failed: usize,
        total: usize,
        #[source]
        first: IngestError,
    },
}

#[derive(Serialize)]
struct Body {
    error: &'static str,
    message: String,
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthenticated => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::BadPayload(_) | ApiError::BadBody(_) => StatusCode::BAD_REQUEST,
            ApiError::AuthNotConfigured | ApiError::NotRecorded(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            // Still a 5xx: no 2xx may acknowledge an alert that is not recorded.
            ApiError::NotRecordable { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A short machine-readable code, also the `reason` label of `ops_webhook_rejections_total`.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthenticated => "unauthenticated",
            ApiError::Forbidden => "forbidden",
            ApiError::AuthNotConfigured => "auth_not_configured",
            ApiError::TooLarge { .. } => "too_large",
            ApiError::BadPayload(PayloadError::UnsupportedVersion(_)) => "unsupported_version",
            ApiError::BadPayload(PayloadError::Malformed(_)) | ApiError::BadBody(_) => "malformed",
            ApiError::NotRecorded(_) => "store_unavailable",
            ApiError::NotRecordable { .. } => "store_refused",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = Body {
            error: self.code(),
            message: self.to_string(),
        };
        let mut response = (status, Json(body)).into_response();
        let headers = response.headers_mut();
        match self {
            ApiError::Unauthenticated => {
                let challenge = HeaderValue::from_static("Bearer realm=\"robot-sre\"");
                headers.insert(header::WWW_AUTHENTICATE, challenge);
            }
            ApiError::NotRecorded(_) | ApiError::AuthNotConfigured => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            }
            _ => {}
        }
        response
    }
}
