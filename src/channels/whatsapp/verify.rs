//! Webhook authentication, before anything is parsed: `X-Hub-Signature-256` on every POST, and
//! `hub.verify_token` on the GET subscription handshake. Both compare in constant time.
//!
//! Sources: https://developers.facebook.com/docs/graph-api/webhooks/getting-started/ and the
//! official (archived) WhatsApp Node SDK, `src/api/webhooks.ts` (which compares with `==`; this
//! does not).

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The header Meta signs every webhook POST with.
pub const SIGNATURE_HEADER: &str = "x-hub-signature-256";

/// Why a webhook POST is not authentic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the X-Hub-Signature-256 header is missing")]
    Missing,
    #[error("the X-Hub-Signature-256 header is not sha256=<64 hex digits>")]
    Malformed,
    #[error("the X-Hub-Signature-256 signature does not match the body")]
    Mismatch,
}

/// Checks `header` against HMAC-SHA256 of the raw `body` keyed with the app secret.
///
/// # Errors
/// [`SignatureError`] naming what is wrong; never the expected value.
pub fn check_signature(
    app_secret: &str,
    body: &[u8],
    header: Option<&str>,
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let hex = header
        .trim()
        .strip_prefix("sha256=")
        .ok_or(SignatureError::Malformed)?;
    let given = decode_hex(hex).ok_or(SignatureError::Malformed)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(app_secret.as_bytes())
        .map_err(|_| SignatureError::Mismatch)?;
    mac.update(body);
    mac.verify_slice(&given)
        .map_err(|_| SignatureError::Mismatch)
}

/// Whether `given` equals the configured verify token, in time independent of where they
/// differ (both are hashed first, so neither does the length leak).
pub fn verify_token_matches(expected: &str, given: &str) -> bool {
    let expected = Sha256::digest(expected.as_bytes());
    let given = Sha256::digest(given.as_bytes());
    expected.ct_eq(&given).into()
}

/// 32 bytes from 64 hex digits, or `None`.
fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if hex.len() != 64 || !hex.is_ascii() {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign(secret: &str, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(body);
        let tag = mac.finalize().into_bytes();
        let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
        format!("sha256={hex}")
    }

    #[test]
    fn signature_check_accepts_the_right_hmac_and_names_each_failure() {
        let body = br#"{"object":"whatsapp_business_account"}"#;
        let good = sign("app-secret", body);
        assert_eq!(check_signature("app-secret", body, Some(&good)), Ok(()));
        let other = sign("other-secret", body);
        let cases = [
            (None, SignatureError::Missing),
            (Some("sha1=abc"), SignatureError::Malformed),
            (Some("sha256=zz"), SignatureError::Malformed),
            (Some(other.as_str()), SignatureError::Mismatch),
        ];
        for (header, expected) in cases {
            assert_eq!(check_signature("app-secret", body, header), Err(expected));
        }
    }

    #[test]
    fn signature_check_fails_when_one_byte_of_the_body_changes() {
        let good = sign("app-secret", b"{\"a\":1}");
        assert_eq!(
            check_signature("app-secret", b"{\"a\":2}", Some(&good)),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn verify_token_matches_only_itself() {
        assert!(verify_token_matches("hunter2", "hunter2"));
        assert!(!verify_token_matches("hunter2", "hunter3"));
        assert!(!verify_token_matches("hunter2", ""));
    }
}
