//! What the bot is asked to do: an action on one target, under one request id.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{ActionKind, NameError, Namespace, ResourceName};
use crate::incidents::IncidentId;

/// The id of one action request. Executing the same id twice does nothing more the second
/// time: the first outcome is returned.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RequestId(String);

impl RequestId {
    /// A fresh random id, `req-` and 16 hex characters.
    pub fn generate() -> Self {
        Self(format!("req-{:016x}", rand::random::<u64>()))
    }

    /// Parses an id: 1 to 64 ASCII letters, digits, `-`, `_` or `.`.
    ///
    /// # Errors
    /// When the id is empty, too long or holds other characters.
    pub fn parse(value: impl Into<String>) -> Result<Self, RequestParseError> {
        let value = value.into();
        let fine = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
        if value.is_empty() || value.len() > 64 || !value.chars().all(fine) {
            return Err(RequestParseError::BadRequestId(value));
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for RequestId {
    type Error = RequestParseError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl From<RequestId> for String {
    fn from(id: RequestId) -> String {
        id.0
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why an action could not be read from text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestParseError {
    #[error("{0:?} is not a request id: use 1 to 64 letters, digits, '-', '_' or '.'")]
    BadRequestId(String),
    #[error("{action} needs a target written as {expected}, not {given:?}")]
    BadTarget {
        action: ActionKind,
        expected: &'static str,
        given: String,
    },
    #[error("{action} needs a replica count")]
    MissingReplicas { action: ActionKind },
    #[error(transparent)]
    Name(#[from] NameError),
}

/// The object an action works on.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum Target {
    Deployment {
        namespace: Namespace,
        name: ResourceName,
    },
    Pod {
        namespace: Namespace,
        name: ResourceName,
    },
    Node {
        name: ResourceName,
    },
    CronJob {
        namespace: Namespace,
        name: ResourceName,
    },
    Namespace {
        namespace: Namespace,
    },
}

impl Target {
    pub fn kind(&self) -> &'static str {
        match self {
            Target::Deployment { .. } => "Deployment",
            Target::Pod { .. } => "Pod",
            Target::Node { .. } => "Node",
            Target::CronJob { .. } => "CronJob",
            Target::Namespace { .. } => "Namespace",
        }
    }

    /// The namespace acted in; `None` for a node.
    pub fn namespace(&self) -> Option<&Namespace> {
        match self {
            Target::Deployment { namespace, .. }
            | Target::Pod { namespace, .. }
            | Target::CronJob { namespace, .. }
            | Target::Namespace { namespace } => Some(namespace),
            Target::Node { .. } => None,
        }
    }

    /// The object's name (a namespace target's name is the namespace).
    pub fn name(&self) -> &str {
        match self {
            Target::Deployment { name, .. }
            | Target::Pod { name, .. }
            | Target::CronJob { name, .. }
            | Target::Node { name } => name.as_str(),
            Target::Namespace { namespace } => namespace.as_str(),
        }
    }
}

/// `payments/Deployment/checkout`, `Node/lab-node-1`, `Namespace/batch`.
impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Node { .. } | Target::Namespace { .. } => {
                write!(f, "{}/{}", self.kind(), self.name())
            }
            _ => match self.namespace() {
                Some(namespace) => write!(f, "{namespace}/{}/{}", self.kind(), self.name()),
                None => write!(f, "{}/{}", self.kind(), self.name()),
            },
        }
    }
}

/// One action with its target and parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    pub kind: ActionKind,
    pub target: Target,
    /// The replica count to set (scale only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<u32>,
}

impl Action {
    /// Reads an action as a human or a runbook writes it: the kind, the target
    /// (`namespace/name`, a node name, or a namespace for cleanup) and, for scale, a count.
    ///
    /// # Errors
    /// When the target does not have the shape the action needs or a name is invalid.
    pub fn parse(
        kind: ActionKind,
        target: &str,
        replicas: Option<u32>,
    ) -> Result<Self, RequestParseError> {
        let namespaced = |expected| -> Result<(Namespace, ResourceName), RequestParseError> {
            let (namespace, name) =
                target
                    .split_once('/')
                    .ok_or_else(|| RequestParseError::BadTarget {
                        action: kind,
                        expected,
                        given: target.to_owned(),
                    })?;
            Ok((Namespace::parse(namespace)?, ResourceName::parse(name)?))
        };
        let target = match kind {
            ActionKind::Restart | ActionKind::Rollback | ActionKind::Scale => {
                let (namespace, name) = namespaced("namespace/deployment")?;
                Target::Deployment { namespace, name }
            }
            ActionKind::DeletePod => {
                let (namespace, name) = namespaced("namespace/pod")?;
                Target::Pod { namespace, name }
            }
            ActionKind::SuspendCronjob | ActionKind::ResumeCronjob => {
                let (namespace, name) = namespaced("namespace/cronjob")?;
                Target::CronJob { namespace, name }
            }
            ActionKind::Cordon | ActionKind::Uncordon => Target::Node {
                name: ResourceName::parse(target)?,
            },
            ActionKind::Cleanup => Target::Namespace {
                namespace: Namespace::parse(target)?,
            },
        };
        if kind == ActionKind::Scale && replicas.is_none() {
            return Err(RequestParseError::MissingReplicas { action: kind });
        }
        Ok(Self {
            kind,
            target,
            replicas: replicas.filter(|_| kind == ActionKind::Scale),
        })
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind, self.target)?;
        if let Some(replicas) = self.replicas {
            write!(f, " to {replicas}")?;
        }
        Ok(())
    }
}

/// A request to perform one action for one incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionRequest {
    pub id: RequestId,
    pub incident: IncidentId,
    pub action: Action,
    /// When the request was made. A restart stamps this time on the pod template, so a retry of
    /// the same request writes the same value and changes nothing.
    pub requested_at: DateTime<Utc>,
}

impl ActionRequest {
    pub fn new(incident: IncidentId, action: Action) -> Self {
        Self {
            id: RequestId::generate(),
            incident,
            action,
            requested_at: Utc::now(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_parse_their_target_shapes() {
        let rollback = Action::parse(ActionKind::Rollback, "payments/checkout", None).unwrap();
        assert_eq!(rollback.target.to_string(), "payments/Deployment/checkout");
        let cordon = Action::parse(ActionKind::Cordon, "node-1", None).unwrap();
        assert_eq!(cordon.target.to_string(), "Node/node-1");
        let cleanup = Action::parse(ActionKind::Cleanup, "batch", None).unwrap();
        assert_eq!(cleanup.to_string(), "cleanup Namespace/batch");
        let scale = Action::parse(ActionKind::Scale, "shop/web", Some(4)).unwrap();
        assert_eq!(scale.to_string(), "scale shop/Deployment/web to 4");
    }

    #[test]
    fn actions_refuse_a_wrong_shape_or_a_missing_count() {
        let error = Action::parse(ActionKind::DeletePod, "lonely-pod", None).unwrap_err();
        assert!(error.to_string().contains("namespace/pod"), "{error}");
        let error = Action::parse(ActionKind::Scale, "shop/web", None).unwrap_err();
        assert_eq!(
            error,
            RequestParseError::MissingReplicas {
                action: ActionKind::Scale
            }
        );
        assert!(Action::parse(ActionKind::Cordon, "Node_1", None).is_err());
    }

    #[test]
    fn request_ids_are_checked() {
        assert!(RequestId::parse("req-0123abcd").is_ok());
        for bad in ["", "has space", &"x".repeat(65)] {
            assert!(RequestId::parse(bad).is_err(), "{bad:?}");
        }
        assert!(RequestId::generate().as_str().starts_with("req-"));
    }
}
