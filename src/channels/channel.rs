//! The interface every chat adapter implements, and its errors, classified once.

use std::time::Duration;

use async_trait::async_trait;
use serde::Serialize;

use super::message::{ChannelKind, MessageRef, Notice, Prompt};

/// A chat channel, as the conversation layer and the router use it.
///
/// # Errors
/// Every method fails with a [`DeliveryError`]; the router tries the next channel on any of them
/// (a human must be reached, and a channel that refuses now is no use at 3 a.m.), and
/// [`DeliveryError::is_transient`] says whether the same channel is worth retrying later.
#[async_trait]
pub trait Channel: Send + Sync {
    fn kind(&self) -> ChannelKind;

    /// Posts an approval prompt with its Approve / Reject buttons.
    async fn send_prompt(&self, prompt: &Prompt) -> Result<MessageRef, DeliveryError>;

    /// Posts a plain alert.
    async fn send_notice(&self, notice: &Notice) -> Result<MessageRef, DeliveryError>;

    /// Replies in the thread of `to` (or quoting it, where the channel has no threads).
    async fn reply(&self, to: &MessageRef, text: &str) -> Result<MessageRef, DeliveryError>;

    /// Rewrites a prompt to show its outcome ("Approved by alice on Slack at 14:02 UTC") and
    /// removes its buttons.
    async fn close_prompt(&self, prompt: &MessageRef, outcome: &str) -> Result<(), DeliveryError>;

    /// Whether the channel can deliver right now, checked with the cheapest authenticated call.
    async fn health(&self) -> Health;
}

/// A channel's health.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Health {
    Up,
    Down { reason: String },
}

/// Why a delivery failed.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// Nothing answered (connection refused, DNS, TLS).
    #[error("{channel}: cannot reach the API: {reason}")]
    Unreachable {
        channel: ChannelKind,
        reason: String,
    },
    /// The call did not finish within the channel's timeout.
    #[error("{channel}: no answer within {after:?}")]
    Timeout {
        channel: ChannelKind,
        after: Duration,
    },
    /// The API asked the bot to slow down.
    #[error("{channel}: rate limited; retry after {retry_after:?}")]
    RateLimited {
        channel: ChannelKind,
        retry_after: Duration,
    },
    /// The API failed on its side (5xx, `internal_error`, `service_unavailable`).
    #[error("{channel}: the API failed: {reason}")]
    Server {
        channel: ChannelKind,
        reason: String,
    },
    /// The API refused the request for a reason retrying will not fix (`invalid_auth`,
    /// `channel_not_found`, a chat the bot was removed from).
    #[error("{channel}: refused: {code}")]
    Refused { channel: ChannelKind, code: String },
    /// The bot built a request the API or a local limit rejects (a bug, not an outage).
    #[error("{channel}: invalid request: {reason}")]
    Invalid {
        channel: ChannelKind,
        reason: String,
    },
}

impl DeliveryError {
    pub fn channel(&self) -> ChannelKind {
        match self {
            DeliveryError::Unreachable { channel, .. }
            | DeliveryError::Timeout { channel, .. }
            | DeliveryError::RateLimited { channel, .. }
            | DeliveryError::Server { channel, .. }
            | DeliveryError::Refused { channel, .. }
            | DeliveryError::Invalid { channel, .. } => *channel,
        }
    }

    /// Whether the same channel may succeed later (an outage or a rate limit, not a refusal).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            DeliveryError::Unreachable { .. }
                | DeliveryError::Timeout { .. }
                | DeliveryError::RateLimited { .. }
                | DeliveryError::Server { .. }
        )
    }

    /// How long the API asked the bot to wait, when it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            DeliveryError::RateLimited { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }

    /// A short machine-readable reason, for metrics and the audit.
    pub fn code(&self) -> &str {
        match self {
            DeliveryError::Unreachable { .. } => "unreachable",
            DeliveryError::Timeout { .. } => "timeout",
            DeliveryError::RateLimited { .. } => "rate_limited",
            DeliveryError::Server { .. } => "server_error",
            DeliveryError::Refused { code, .. } => code,
            DeliveryError::Invalid { .. } => "invalid_request",
        }
    }
}
