//! The one error of loading policy data: which file (or custom resource), which field, and why.

use std::fmt;

/// Policy data that cannot be used, named precisely enough to fix it.
///
/// `origin` is a file path, `built-in taxonomy` or `RemediationRunbook <namespace>/<name>`;
/// `field` is a dotted path inside it (`spec.triggers.minimumConfidence`), empty when the whole
/// document is at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct LoadError {
    pub origin: String,
    pub field: String,
    pub reason: String,
}

impl LoadError {
    pub fn new(
        origin: impl Into<String>,
        field: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Self {
            origin: origin.into(),
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// A YAML or JSON document that does not deserialize. serde_yaml names the path of the
    /// offending field in its message; it is split out as the field when present.
    pub fn parse(origin: &str, message: &str) -> Self {
        match message.split_once(": ") {
            Some((path, rest)) if looks_like_path(path) => Self::new(origin, path, rest),
            _ => Self::new(origin, "", message),
        }
    }
}

fn looks_like_path(text: &str) -> bool {
    !text.is_empty()
        && !text.contains(' ')
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '[' | ']' | '-'))
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "{}: {}", self.origin, self.reason)
        } else {
            write!(f, "{}: {}: {}", self.origin, self.field, self.reason)
        }
    }
}

/// Collects problems while validating one document, each under a field path.
#[derive(Debug)]
pub(crate) struct Problems {
    origin: String,
    pub(crate) found: Vec<LoadError>,
}

impl Problems {
    pub(crate) fn new(origin: impl Into<String>) -> Self {
        Self {
            origin: origin.into(),
            found: Vec::new(),
        }
    }

    /// Records `reason` at `field` unless `ok`.
    pub(crate) fn check(&mut self, ok: bool, field: impl Into<String>, reason: impl Into<String>) {
        if !ok {
            self.push(field, reason);
        }
    }

    pub(crate) fn push(&mut self, field: impl Into<String>, reason: impl Into<String>) {
        self.found
            .push(LoadError::new(self.origin.clone(), field, reason));
    }

    /// `Ok(value)` when nothing was found, else every problem.
    pub(crate) fn finish<T>(self, value: T) -> Result<T, Vec<LoadError>> {
        if self.found.is_empty() {
            Ok(value)
        } else {
            Err(self.found)
        }
    }
}
