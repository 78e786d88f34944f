//! Errors of the ops module, classified once: transient (retry later), forbidden (RBAC said
//! no), not found, rejected (the API server refused the request as invalid), and store trouble.

use std::time::Duration;

use crate::store::StoreError;

/// An error talking to the cluster or the state store. Guardrail refusals are not errors: they
/// are outcomes (see [`super::Refusal`]).
#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    /// The API server answered 403: the bot's identity lacks the permission.
    #[error("the Kubernetes API server refused {operation} on {object}: forbidden ({message})")]
    Forbidden {
        operation: String,
        object: String,
        message: String,
    },
    /// The object does not exist.
    #[error("{object} was not found")]
    NotFound { object: String },
    /// The object changed since it was read (409): re-read and decide again.
    #[error("{object} changed while {operation} was in flight (resourceVersion conflict)")]
    Conflict { operation: String, object: String },
    /// The API server rejected the request (invalid, admission, …).
    #[error("the Kubernetes API server rejected {operation} on {object}: {message}")]
    Rejected {
        operation: String,
        object: String,
        message: String,
    },
    /// The API server could not be reached, timed out or answered 429/5xx.
    #[error("the Kubernetes API was unavailable during {operation} on {object}")]
    Unavailable {
        operation: String,
        object: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A call took longer than its deadline.
    #[error("{operation} on {object} took longer than {timeout:?}")]
    Timeout {
        operation: String,
        object: String,
        timeout: Duration,
    },
    /// Another execution (or verification) of the same request id is under way.
    #[error("request {request} is already being executed or verified")]
    InProgress { request: String },
    /// [`super::Ops::verify_applied`] was asked about a request with no stored packet: it was
    /// never applied, is still being applied, or its packet outlived its retention.
    #[error("request {request} has no stored packet to verify: apply it first")]
    NotApplied { request: String },
    /// The state store failed.
    #[error("state store trouble")]
    Store(#[from] StoreError),
    /// A stored record could not be read back.
    #[error("stored ops record {key} is unreadable: {reason}")]
    Corrupt { key: String, reason: String },
}

impl OpsError {
    /// Classifies a kube client error for `operation` on `object`.
    pub fn from_kube(operation: &str, object: &str, error: kube::Error) -> Self {
        let operation = operation.to_owned();
        let object = object.to_owned();
        match error {
            kube::Error::Api(status) => match status.code {
                403 => OpsError::Forbidden {
                    operation,
                    object,
                    message: status.message,
                },
                404 => OpsError::NotFound { object },
                409 => OpsError::Conflict { operation, object },
                429 | 500..=599 => OpsError::Unavailable {
                    operation,
                    object,
                    source: Box::new(kube::Error::Api(status)),
                },
                _ => OpsError::Rejected {
                    operation,
                    object,
                    message: status.message,
                },
            },
            other => OpsError::Unavailable {
                operation,
                object,
                source: Box::new(other),
            },
        }
    }

    /// Whether a later retry may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            OpsError::Unavailable { .. } | OpsError::Timeout { .. } => true,
            OpsError::Store(error) => error.is_transient(),
            _ => false,
        }
    }
}
