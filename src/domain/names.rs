//! Kubernetes object names as types, so guardrails and config never handle raw strings.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a string is not a valid Kubernetes name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not a valid {kind}: {reason}")]
pub struct NameError {
    pub kind: &'static str,
    pub value: String,
    pub reason: &'static str,
}

/// Checks the DNS-1123 rules Kubernetes applies to names: lowercase alphanumerics and `-`
/// (and `.` for subdomains), starting and ending with an alphanumeric.
/// Source: https://kubernetes.io/docs/concepts/overview/working-with-objects/names/
fn check_dns1123(
    kind: &'static str,
    value: &str,
    max_len: usize,
    allow_dot: bool,
) -> Result<(), NameError> {
    let error = |reason| NameError {
        kind,
        value: value.to_owned(),
        reason,
    };
    if value.is_empty() {
        return Err(error("it is empty"));
    }
    if value.len() > max_len {
        return Err(error("it is too long"));
    }
    let allowed = |c: char| {
        c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || (allow_dot && c == '.')
    };
    if !value.chars().all(allowed) {
        return Err(error(if allow_dot {
            "only lowercase letters, digits, '-' and '.' are allowed"
        } else {
            "only lowercase letters, digits and '-' are allowed"
        }));
    }
    let alphanumeric = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    if !alphanumeric(value.chars().next()) || !alphanumeric(value.chars().last()) {
        return Err(error("it must start and end with a letter or digit"));
    }
    Ok(())
}

macro_rules! name_type {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $max:literal, $dot:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Parses a name.
            ///
            /// # Errors
            /// When the value breaks the Kubernetes naming rules for this kind of name.
            pub fn parse(value: impl Into<String>) -> Result<Self, NameError> {
                let value = value.into();
                check_dns1123($kind, &value, $max, $dot)?;
                Ok(Self(value))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = NameError;
            fn try_from(value: String) -> Result<Self, NameError> {
                Self::parse(value)
            }
        }

        impl From<$name> for String {
            fn from(name: $name) -> String {
                name.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

name_type!(
    /// A namespace name (a DNS-1123 label, at most 63 characters).
    Namespace, "namespace name", 63, false
);
name_type!(
    /// An object name such as a Deployment, Pod or Node (a DNS-1123 subdomain, at most 253).
    ResourceName, "object name", 253, true
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_accepts_a_dns_label() {
        assert_eq!(
            Namespace::parse("payments-2").unwrap().as_str(),
            "payments-2"
        );
    }

    #[test]
    fn namespace_rejects_uppercase_dots_edges_and_length() {
        for bad in ["Payments", "a.b", "-a", "a-", "", &"a".repeat(64)] {
            assert!(Namespace::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn resource_name_accepts_dots_but_not_underscores() {
        assert!(ResourceName::parse("node-1.example.internal").is_ok());
        let error = ResourceName::parse("my_pod").unwrap_err();
        assert!(error.to_string().contains("my_pod"));
    }

    #[test]
    fn names_deserialize_through_validation() {
        let error = serde_json::from_str::<Namespace>("\"Bad\"").unwrap_err();
        assert!(error.to_string().contains("not a valid namespace name"));
    }
}
