//! Graph API failures classified once onto [`DeliveryError`].
//!
//! Codes come from Meta's WhatsApp Cloud API error-codes page
//! (https://developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes,
//! as mirrored at https://docs.ycloud.com/en/api-reference/guides/whatsapp-platform/handle-whatsapp-errors)
//! and the Graph API error-handling guide: branch on `code`, never on the message text.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};

use super::wire::{ErrorEnvelope, GraphError};
use crate::channels::{ChannelKind, DeliveryError};

const CHANNEL: ChannelKind = ChannelKind::WhatsApp;

/// 131047 "Re-engagement message": more than 24 hours since the recipient last wrote.
pub const WINDOW_CLOSED: i64 = 131047;

/// Throttling codes: 4 app call limit, 17/32/613 user/page/API call limits, 80007 WABA rate
/// limit, 130429 Cloud API throughput, 131048 spam rate limit, 131056 pair (same recipient) rate
/// limit, 133016 registration rate limit.
const RATE_LIMITED: &[i64] = &[4, 17, 32, 613, 80007, 130429, 131048, 131056, 133016];

/// Authorisation codes retrying will not fix: 0 AuthException, 3 capability, 10 permission
/// denied, 190 access token expired or invalid, 368 blocked for policy violations, 131005 access
/// denied, 131031 account locked.
const AUTH: &[i64] = &[0, 3, 10, 190, 368, 131005, 131031];

/// Meta's own failures: 1 unknown, 2 service unavailable, 131000 something went wrong, 131016
/// service overloaded, 133004 server temporarily unavailable.
const SERVER: &[i64] = &[1, 2, 131000, 131016, 133004];

/// Requests the bot got wrong: 100 invalid parameter, 131008 required parameter missing, 131009
/// parameter value invalid, 131051 unsupported message type, 132000 template parameter count
/// mismatch, 132012 parameter format mismatch, 132018 template parameter issue.
const INVALID: &[i64] = &[100, 131008, 131009, 131051, 132000, 132012, 132018];

/// What a failed call means to the sender.
#[derive(Debug)]
pub enum Failure {
    /// The 24-hour customer-service window is closed: only a template can be delivered.
    WindowClosed,
    Delivery(DeliveryError),
}

/// A request that never got an HTTP answer.
pub fn transport(error: &reqwest::Error, timeout: Duration) -> DeliveryError {
    if error.is_timeout() {
        return DeliveryError::Timeout {
            channel: CHANNEL,
            after: timeout,
        };
    }
    let reason = if error.is_connect() {
        "connection failed".to_owned()
    } else {
        format!("request failed: {}", describe(error))
    };
    DeliveryError::Unreachable {
        channel: CHANNEL,
        reason,
    }
}

/// An HTTP answer that is not a success: the Graph error envelope when there is one, else the
/// status alone.
pub fn response(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Failure {
    let error = serde_json::from_slice::<ErrorEnvelope>(body)
        .ok()
        .map(|envelope| envelope.error);
    match error {
        Some(error) if error.code == WINDOW_CLOSED => Failure::WindowClosed,
        Some(error) => Failure::Delivery(graph(status, headers, &error)),
        None => Failure::Delivery(by_status(status, headers, None)),
    }
}

/// A Graph error with a code, classified by code first and by HTTP status after.
fn graph(status: StatusCode, headers: &HeaderMap, error: &GraphError) -> DeliveryError {
    let code = error.code;
    let reason = format!(
        "HTTP {}: graph error {code} ({}), fbtrace_id {}",
        status.as_u16(),
        error.kind,
        error.fbtrace_id.as_deref().unwrap_or("-")
    );
    if RATE_LIMITED.contains(&code) {
        return rate_limited(headers, code);
    }
    if AUTH.contains(&code) || (200..=299).contains(&code) {
        return refused(code);
    }
    if SERVER.contains(&code) || error.is_transient == Some(true) {
        return DeliveryError::Server {
            channel: CHANNEL,
            reason,
        };
    }
    if INVALID.contains(&code) {
        return DeliveryError::Invalid {
            channel: CHANNEL,
            reason,
        };
    }
    by_status(status, headers, Some(code))
}

fn by_status(status: StatusCode, headers: &HeaderMap, code: Option<i64>) -> DeliveryError {
    if status == StatusCode::TOO_MANY_REQUESTS {
        return rate_limited(headers, code.unwrap_or(0));
    }
    if status.is_server_error() {
        return DeliveryError::Server {
            channel: CHANNEL,
            reason: format!("HTTP {}", status.as_u16()),
        };
    }
    match code {
        Some(code) => refused(code),
        None => DeliveryError::Refused {
            channel: CHANNEL,
            code: format!("http_{}", status.as_u16()),
        },
    }
}

fn refused(code: i64) -> DeliveryError {
    DeliveryError::Refused {
        channel: CHANNEL,
        code: format!("graph_{code}"),
    }
}

/// Graph errors rarely carry `Retry-After`; without one, wait what the limit implies: a pair
/// limit allows about one message per 6 s to the same user, throughput limits clear within a
/// second, and app or account limits within minutes.
fn rate_limited(headers: &HeaderMap, code: i64) -> DeliveryError {
    let fallback = match code {
        131056 => Duration::from_secs(6),
        130429 => Duration::from_secs(1),
        _ => Duration::from_secs(60),
    };
    DeliveryError::RateLimited {
        channel: CHANNEL,
        retry_after: retry_after(headers).unwrap_or(fallback),
    }
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let seconds: u64 = headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds))
}

/// The error chain without the URL (it names the phone number id, which is no secret, but the
/// chain is what matters).
fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify(status: u16, body: &str) -> Failure {
        let status = StatusCode::from_u16(status).unwrap();
        response(status, &HeaderMap::new(), body.as_bytes())
    }

    fn envelope(code: i64) -> String {
        format!(
            r#"{{"error":{{"message":"m","type":"OAuthException","code":{code},"fbtrace_id":"A"}}}}"#
        )
    }

    #[test]
    fn graph_codes_map_to_the_delivery_error_they_mean() {
        let cases: [(u16, i64, &str); 6] = [
            (401, 190, "graph_190"),
            (400, 131056, "rate_limited"),
            (400, 80007, "rate_limited"),
            (500, 131000, "server_error"),
            (400, 100, "invalid_request"),
            (400, 132001, "graph_132001"),
        ];
        for (status, code, expected) in cases {
            match classify(status, &envelope(code)) {
                Failure::Delivery(error) => assert_eq!(error.code(), expected, "{code}"),
                Failure::WindowClosed => panic!("{code} is not the window"),
            }
        }
    }

    #[test]
    fn re_engagement_error_means_the_window_is_closed() {
        assert!(matches!(
            classify(400, &envelope(131047)),
            Failure::WindowClosed
        ));
    }

    #[test]
    fn pair_rate_limit_waits_six_seconds_without_a_retry_after_header() {
        let Failure::Delivery(error) = classify(400, &envelope(131056)) else {
            panic!("not a delivery error")
        };
        assert_eq!(error.retry_after(), Some(Duration::from_secs(6)));
    }

    #[test]
    fn bodies_without_an_envelope_are_classified_by_status() {
        let codes: Vec<String> = [
            (429, "rate_limited"),
            (503, "server_error"),
            (404, "http_404"),
        ]
        .iter()
        .map(|(status, _)| match classify(*status, "<html>") {
            Failure::Delivery(error) => error.code().to_owned(),
            Failure::WindowClosed => "window".into(),
        })
        .collect();
        assert_eq!(codes, ["rate_limited", "server_error", "http_404"]);
    }
}
