//! Bearer-token authentication for Alertmanager, checked before the body is read.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::AppState;
use super::error::ApiError;

/// Proof that the request carried the configured Alertmanager token.
#[derive(Debug)]
pub struct AlertmanagerAuth;

/// Compares two secrets in constant time. Hashing first makes the comparison independent of
/// where they differ and of their lengths.
pub fn secrets_match(presented: &[u8], expected: &[u8]) -> bool {
    let presented = Sha256::digest(presented);
    let expected = Sha256::digest(expected);
    presented.ct_eq(&expected).into()
}

fn bearer(parts: &Parts) -> Option<&[u8]> {
    let value = parts.headers.get(AUTHORIZATION)?.as_bytes();
    let scheme = value.get(..7)?;
    scheme
        .eq_ignore_ascii_case(b"bearer ")
        .then(|| value[7..].trim_ascii())
}

impl FromRequestParts<AppState> for AlertmanagerAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, ApiError> {
        let outcome = match (&app.alertmanager_token, bearer(parts)) {
            (None, _) => Err(ApiError::AuthNotConfigured),
            (Some(_), None) => Err(ApiError::Unauthenticated),
            (Some(expected), Some(presented)) => {
                if secrets_match(presented, expected.expose().as_bytes()) {
                    Ok(AlertmanagerAuth)
                } else {
                    Err(ApiError::Forbidden)
                }
            }
        };
        if let Err(error) = &outcome {
            app.metrics.reject(error.code());
            tracing::warn!(reason = error.code(), "alertmanager webhook refused");
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_match_only_when_equal() {
        assert!(secrets_match(b"token", b"token"));
        assert!(!secrets_match(b"token", b"tokem"));
        assert!(!secrets_match(b"token", b"token-longer"));
        assert!(!secrets_match(b"", b"token"));
    }
}
