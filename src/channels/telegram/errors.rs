//! Bot API failures classified once onto [`DeliveryError`].
//!
//! teloxide reads only the `description` and `parameters` of an `ok: false` answer, not its
//! `error_code` (teloxide-core 0.13 `src/net/telegram_response.rs`), so the classification keys
//! on the description texts teloxide knows (teloxide-core `src/errors.rs`).

use std::time::Duration;

use teloxide::{ApiError, RequestError};

use crate::channels::channel::DeliveryError;
use crate::channels::message::ChannelKind;

const CHANNEL: ChannelKind = ChannelKind::Telegram;

/// The one mapping from a teloxide error to a delivery error. `timeout` is the call's deadline,
/// reported when the HTTP client itself timed out.
///
/// Never includes a reqwest error's display: it holds the request URL, and a Bot API URL holds
/// the bot token.
pub fn classify(error: &RequestError, timeout: Duration) -> DeliveryError {
    match error {
        RequestError::RetryAfter(seconds) => DeliveryError::RateLimited {
            channel: CHANNEL,
            retry_after: seconds.duration(),
        },
        RequestError::MigrateToChatId(_) => refused("chat_migrated"),
        RequestError::Network(error) if error.is_timeout() && !error.is_connect() => {
            DeliveryError::Timeout {
                channel: CHANNEL,
                after: timeout,
            }
        }
        RequestError::Network(error) => DeliveryError::Unreachable {
            channel: CHANNEL,
            reason: source_chain(error.as_ref()),
        },
        RequestError::Io(error) => DeliveryError::Unreachable {
            channel: CHANNEL,
            reason: error.kind().to_string(),
        },
        // A proxy's HTML error page (502 from a load balancer) or a truncated body.
        RequestError::InvalidJson { .. } => DeliveryError::Server {
            channel: CHANNEL,
            reason: "the answer is not Bot API JSON".into(),
        },
        RequestError::Api(api) => classify_api(api),
    }
}

/// Bot API `ok: false` answers by their description.
fn classify_api(api: &ApiError) -> DeliveryError {
    match api {
        ApiError::InvalidToken => return refused("unauthorized"),
        ApiError::BotBlocked => return refused("bot_blocked"),
        ApiError::ChatNotFound => return refused("chat_not_found"),
        ApiError::BotKicked
        | ApiError::BotKickedFromSupergroup
        | ApiError::BotKickedFromChannel => return refused("bot_kicked"),
        ApiError::MessageToEditNotFound => return refused("message_not_found"),
        ApiError::TerminatedByOtherGetUpdates => return refused("conflict_other_poller"),
        _ => {}
    }
    let description = match api {
        ApiError::Unknown(text) => text.clone(),
        known => known.to_string(),
    };
    if description.starts_with("Forbidden") || description.starts_with("Unauthorized") {
        refused("forbidden")
    } else if description.starts_with("Bad Request") {
        DeliveryError::Invalid {
            channel: CHANNEL,
            reason: description,
        }
    } else {
        // "Internal Server Error", "Bad Gateway" and descriptions nobody documented: the API
        // failed on its side, and a later attempt may succeed.
        DeliveryError::Server {
            channel: CHANNEL,
            reason: description,
        }
    }
}

/// Whether an edit failed only because the message already shows what was asked.
pub fn is_not_modified(error: &RequestError) -> bool {
    matches!(error, RequestError::Api(ApiError::MessageNotModified))
}

fn refused(code: &str) -> DeliveryError {
    DeliveryError::Refused {
        channel: CHANNEL,
        code: code.to_owned(),
    }
}

/// The causes under a reqwest error ("tcp connect error: Connection refused"), without the
/// reqwest error's own display, which names the URL.
fn source_chain(error: &reqwest::Error) -> String {
    let mut reasons = Vec::new();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        reasons.push(cause.to_string());
        source = cause.source();
    }
    if reasons.is_empty() {
        let what = if error.is_connect() {
            "cannot connect"
        } else {
            "the connection failed"
        };
        return what.to_owned();
    }
    reasons.join(": ")
}

#[cfg(test)]
mod tests {
    use teloxide::types::Seconds;

    use super::*;

    const T: Duration = Duration::from_secs(3);

    #[test]
    fn retry_after_maps_to_rate_limited_with_the_servers_seconds() {
        let error = classify(&RequestError::RetryAfter(Seconds::from_seconds(7)), T);
        assert_eq!(error.retry_after(), Some(Duration::from_secs(7)));
    }

    #[test]
    fn refusals_carry_a_code_and_are_not_transient() {
        for (api, code) in [
            (ApiError::InvalidToken, "unauthorized"),
            (ApiError::BotBlocked, "bot_blocked"),
            (ApiError::ChatNotFound, "chat_not_found"),
            (
                ApiError::Unknown("Forbidden: not enough rights".into()),
                "forbidden",
            ),
        ] {
            let error = classify(&RequestError::Api(api), T);
            assert_eq!(error.code(), code);
            assert!(!error.is_transient());
        }
    }

    #[test]
    fn server_side_descriptions_are_transient_and_bad_requests_are_invalid() {
        let server = classify(
            &RequestError::Api(ApiError::Unknown("Internal Server Error".into())),
            T,
        );
        assert!(matches!(server, DeliveryError::Server { .. }), "{server}");
        let invalid = classify(&RequestError::Api(ApiError::MessageIsTooLong), T);
        assert!(
            matches!(invalid, DeliveryError::Invalid { .. }),
            "{invalid}"
        );
    }
}
