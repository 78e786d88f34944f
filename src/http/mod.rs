//! The HTTP surface: the axum router (a plain function, so tests call it without a socket) and
//! the server loop with graceful shutdown.

mod alertmanager;
mod auth;
mod error;
mod health;
mod server;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{get, post};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use crate::telemetry::error_chain;
pub use alertmanager::Receipt;
pub use auth::secrets_match;
pub use error::ApiError;
pub use server::{serve, termination_signal};

/// The state every handler shares.
pub type AppState = std::sync::Arc<crate::app::App>;

/// Every route of the bot.
pub fn router(app: AppState) -> Router {
    let webhooks = Router::new()
        .route("/webhooks/alertmanager", post(alertmanager::receive))
        .layer(DefaultBodyLimit::max(app.max_body_bytes));
    let channels = app.channel_routes.clone();
    Router::new()
        .merge(webhooks)
        .route("/healthz", get(health::live))
        .route("/readyz", get(health::ready))
        .route("/metrics", get(health::metrics))
        .with_state(app.clone())
        .merge(channels)
        // 503, not 408: Alertmanager retries 5xx and drops every 4xx.
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            app.request_timeout,
        ))
        .layer(TraceLayer::new_for_http())
}
