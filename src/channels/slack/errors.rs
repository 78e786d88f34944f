//! Slack's failures, classified once into [`DeliveryError`].
//!
//! Slack answers most failures with HTTP 200 and `{"ok": false, "error": "<code>"}`; rate
//! limits come as HTTP 429 with a `Retry-After` header in seconds
//! (https://docs.slack.dev/apis/web-api/rate-limits). The codes are those listed for
//! `chat.postMessage`, `chat.update` and `auth.test` (https://api.slack.com/methods/chat.postMessage,
//! https://api.slack.com/methods/chat.update).

use std::time::Duration;

use slack_morphism::errors::SlackClientError;

use crate::channels::{ChannelKind, DeliveryError};

/// Used when a rate-limit answer carries no usable `Retry-After` (Slack always sends one).
pub const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(1);

/// Codes that mean Slack failed on its side; retrying later may work.
const SERVER_CODES: &[&str] = &[
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
];

/// Codes that mean the bot built a request Slack rejects: a bug, not an outage.
const INVALID_CODES: &[&str] = &[
    "invalid_arguments",
    "invalid_arg_name",
    "invalid_array_arg",
    "invalid_blocks",
    "invalid_blocks_format",
    "invalid_charset",
    "invalid_form_data",
    "invalid_json",
    "invalid_post_type",
    "json_not_object",
    "missing_post_type",
    "msg_too_long",
    "no_text",
    "too_many_attachments",
];

const SLACK: ChannelKind = ChannelKind::Slack;

/// The one place a slack-morphism error becomes a [`DeliveryError`]. Reasons carry Slack's
/// code or the HTTP status, never a response body (which could echo request content).
pub fn classify(error: SlackClientError) -> DeliveryError {
    match error {
        SlackClientError::ApiError(api) => from_code(&api.code),
        SlackClientError::RateLimitError(limit) => DeliveryError::RateLimited {
            channel: SLACK,
            retry_after: limit.retry_after.unwrap_or(DEFAULT_RETRY_AFTER),
        },
        SlackClientError::HttpError(http) => from_status(http.status_code.as_u16()),
        SlackClientError::HttpProtocolError(protocol) => DeliveryError::Unreachable {
            channel: SLACK,
            reason: protocol
                .cause
                .map_or_else(|| "connection failed".to_owned(), |c| root_cause(&*c)),
        },
        SlackClientError::ProtocolError(_) => DeliveryError::Server {
            channel: SLACK,
            reason: "unreadable response".to_owned(),
        },
        SlackClientError::EndOfStream(_) | SlackClientError::SocketModeProtocolError(_) => {
            DeliveryError::Unreachable {
                channel: SLACK,
                reason: "connection closed".to_owned(),
            }
        }
        SlackClientError::SystemError(system) => DeliveryError::Invalid {
            channel: SLACK,
            reason: system.message.unwrap_or_else(|| "client error".to_owned()),
        },
    }
}

/// A Web API `error` code.
pub fn from_code(code: &str) -> DeliveryError {
    match code {
        "ratelimited" | "rate_limited" => DeliveryError::RateLimited {
            channel: SLACK,
            retry_after: DEFAULT_RETRY_AFTER,
        },
        code if SERVER_CODES.contains(&code) => DeliveryError::Server {
            channel: SLACK,
            reason: code.to_owned(),
        },
        code if INVALID_CODES.contains(&code) => DeliveryError::Invalid {
            channel: SLACK,
            reason: code.to_owned(),
        },
        code => DeliveryError::Refused {
            channel: SLACK,
            code: code.to_owned(),
        },
    }
}

/// An HTTP status other than 200 and 429.
fn from_status(status: u16) -> DeliveryError {
    match status {
        429 => DeliveryError::RateLimited {
            channel: SLACK,
            retry_after: DEFAULT_RETRY_AFTER,
        },
        500.. => DeliveryError::Server {
            channel: SLACK,
            reason: format!("HTTP {status}"),
        },
        _ => DeliveryError::Refused {
            channel: SLACK,
            code: format!("http_{status}"),
        },
    }
}

/// The innermost error's message ("Connection refused (os error 111)").
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut current = error;
    while let Some(source) = current.source() {
        current = source;
    }
    current.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_their_class() {
        assert!(
            matches!(from_code("invalid_auth"), DeliveryError::Refused { code, .. } if code == "invalid_auth")
        );
        assert!(matches!(
            from_code("channel_not_found"),
            DeliveryError::Refused { .. }
        ));
        assert!(matches!(
            from_code("internal_error"),
            DeliveryError::Server { .. }
        ));
        assert!(matches!(
            from_code("invalid_blocks"),
            DeliveryError::Invalid { .. }
        ));
        assert!(matches!(
            from_code("ratelimited"),
            DeliveryError::RateLimited { .. }
        ));
    }

    #[test]
    fn statuses_map_to_their_class() {
        assert!(matches!(from_status(503), DeliveryError::Server { .. }));
        assert!(
            matches!(from_status(404), DeliveryError::Refused { code, .. } if code == "http_404")
        );
    }
}
