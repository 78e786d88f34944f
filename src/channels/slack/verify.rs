//! Slack's v0 request signature, checked on the raw body before anything is parsed.
//!
//! `X-Slack-Signature: v0=<hex HMAC-SHA256(signing secret, "v0:" + timestamp + ":" + body)>`
//! with `X-Slack-Request-Timestamp` at most five minutes from now
//! (https://docs.slack.dev/authentication/verifying-requests-from-slack).

use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::config::Secret;

/// The signature header.
pub const SIGNATURE_HEADER: &str = "x-slack-signature";
/// The timestamp header (unix seconds).
pub const TIMESTAMP_HEADER: &str = "x-slack-request-timestamp";
/// A request older or newer than this (in seconds) may be a replay and is refused.
pub const MAX_SKEW_SECONDS: i64 = 5 * 60;

/// Why a request is not from Slack (or not fresh). The messages name no secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("missing {0} header")]
    Missing(&'static str),
    #[error("X-Slack-Request-Timestamp is not a unix time")]
    BadTimestamp,
    #[error("request timestamp is more than five minutes from now")]
    Stale,
    #[error("signature does not match")]
    Mismatch,
}

/// Checks the signature of a request whose raw body is `body`.
///
/// # Errors
/// [`SignatureError`] for a missing header, a timestamp outside the window, or a signature that
/// does not match (compared in constant time).
pub fn verify(
    secret: &Secret,
    headers: &HeaderMap,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<(), SignatureError> {
    let signature = header(headers, SIGNATURE_HEADER)?;
    let timestamp = header(headers, TIMESTAMP_HEADER)?;
    let seconds: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| SignatureError::BadTimestamp)?;
    if (now.timestamp() - seconds).abs() > MAX_SKEW_SECONDS {
        return Err(SignatureError::Stale);
    }
    let expected = sign(secret.expose().as_bytes(), timestamp.trim(), body);
    if bool::from(expected.as_bytes().ct_eq(signature.trim().as_bytes())) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// `v0=<hex>` for `body` sent at `timestamp` (the header's text, unix seconds).
pub fn sign(secret: &[u8], timestamp: &str, body: &[u8]) -> String {
    // HMAC takes keys of any length; were it ever to refuse one, nothing would match.
    let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(secret) else {
        return String::new();
    };
    mac.update(b"v0:");
    mac.update(timestamp.as_bytes());
    mac.update(b":");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let mut out = String::with_capacity(3 + digest.len() * 2);
    out.push_str("v0=");
    for byte in digest {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

fn header<'a>(headers: &'a HeaderMap, name: &'static str) -> Result<&'a str, SignatureError> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .ok_or(SignatureError::Missing(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    // Slack's documented example request.
    const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
    const TIMESTAMP: &str = "1531420618";
    const BODY: &str = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    const SIGNATURE: &str = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

    fn headers(signature: &str, timestamp: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(SIGNATURE_HEADER, signature.parse().unwrap());
        headers.insert(TIMESTAMP_HEADER, timestamp.parse().unwrap());
        headers
    }

    fn sent_at() -> DateTime<Utc> {
        Utc.timestamp_opt(1_531_420_618, 0).unwrap()
    }

    #[test]
    fn signing_matches_slacks_documented_example() {
        assert_eq!(
            sign(SECRET.as_bytes(), TIMESTAMP, BODY.as_bytes()),
            SIGNATURE
        );
    }

    #[test]
    fn verify_accepts_the_documented_example_within_the_window() {
        let secret = Secret::new(SECRET);
        let now = sent_at() + chrono::Duration::seconds(299);
        assert_eq!(
            verify(
                &secret,
                &headers(SIGNATURE, TIMESTAMP),
                BODY.as_bytes(),
                now
            ),
            Ok(())
        );
    }

    #[test]
    fn verify_refuses_a_stale_a_tampered_and_an_unsigned_request() {
        let secret = Secret::new(SECRET);
        let late = sent_at() + chrono::Duration::seconds(301);
        let h = headers(SIGNATURE, TIMESTAMP);
        assert_eq!(
            verify(&secret, &h, BODY.as_bytes(), late),
            Err(SignatureError::Stale)
        );
        let tampered = BODY.replace("foobar", "foobaz");
        assert_eq!(
            verify(&secret, &h, tampered.as_bytes(), sent_at()),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(&secret, &HeaderMap::new(), BODY.as_bytes(), sent_at()),
            Err(SignatureError::Missing(SIGNATURE_HEADER))
        );
    }
}
