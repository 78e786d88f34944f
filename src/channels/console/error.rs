//! Console API errors, mapped to status codes in one place and answered as
//! `{"error": "..."}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::auth::AuthError;
use super::view::DetailError;
use crate::store::StoreError;

/// Why a console request failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// The body is not what the endpoint takes.
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("no incident {0}")]
    NotFound(String),
    /// The inbound queue is full; the human clicks again in a moment.
    #[error("the bot is busy; try again in a moment")]
    Busy,
    #[error("the state store failed")]
    Store(#[from] StoreError),
    #[error("evidence packets could not be read")]
    Packets(#[source] crate::ops::OpsError),
}

impl From<DetailError> for ApiError {
    fn from(error: DetailError) -> Self {
        match error {
            DetailError::NotFound(id) => ApiError::NotFound(id.to_string()),
            DetailError::Store(error) => ApiError::Store(error),
            DetailError::Packets(error) => ApiError::Packets(error),
        }
    }
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            ApiError::Auth(AuthError::BadLogin | AuthError::NoSession) => StatusCode::UNAUTHORIZED,
            ApiError::Auth(AuthError::Csrf) => StatusCode::FORBIDDEN,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Busy | ApiError::Auth(AuthError::Store(_)) | ApiError::Store(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Packets(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            let error = crate::telemetry::error_chain(&self);
            tracing::warn!(%error, "console request failed");
        }
        // Server-side causes stay in the log; the page gets the headline.
        (status, Json(json!({ "error": self.to_string() }))).into_response()
    }
}
