//! The Alertmanager webhook payload, version 4, as `notify/webhook/webhook.go` and
//! `template/template.go` of prometheus/alertmanager define it (v0.25 to v0.34).
//! Unknown fields are ignored: newer releases add `notification_reason` and `routeLabels`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Labels or annotations: Alertmanager sends maps sorted by key and never null.
pub type LabelSet = BTreeMap<String, String>;

/// A webhook notification for one alert group.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    pub version: String,
    pub group_key: String,
    #[serde(default)]
    pub truncated_alerts: u64,
    pub receiver: String,
    pub status: AlertStatus,
    pub alerts: Vec<Alert>,
    #[serde(default)]
    pub group_labels: LabelSet,
    #[serde(default)]
    pub common_labels: LabelSet,
    #[serde(default)]
    pub common_annotations: LabelSet,
    #[serde(default, rename = "externalURL")]
    pub external_url: String,
}

/// Whether an alert (or a group) is firing or resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertStatus {
    Firing,
    Resolved,
}

impl std::fmt::Display for AlertStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AlertStatus::Firing => "firing",
            AlertStatus::Resolved => "resolved",
        })
    }
}

/// One alert of a notification.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    pub status: AlertStatus,
    #[serde(default)]
    pub labels: LabelSet,
    #[serde(default)]
    pub annotations: LabelSet,
    pub starts_at: DateTime<Utc>,
    /// `0001-01-01T00:00:00Z` while the alert is not resolved; read it through [`Alert::ended_at`].
    pub ends_at: DateTime<Utc>,
    #[serde(default, rename = "generatorURL")]
    pub generator_url: String,
    /// Empty only from senders that are not Alertmanager; see [`Alert::identity`].
    #[serde(default)]
    pub fingerprint: String,
}

/// Why a notification was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    #[error("the body is not a valid Alertmanager webhook payload: {0}")]
    Malformed(String),
    #[error(
        "webhook payload version {0:?} is not supported; Robot SRE accepts version \"4\" \
         (Alertmanager 0.16 and later)"
    )]
    UnsupportedVersion(String),
}

impl Notification {
    /// Parses and checks a webhook body, in one pass when it is valid.
    ///
    /// # Errors
    /// [`PayloadError::Malformed`] names the JSON problem and where it is;
    /// [`PayloadError::UnsupportedVersion`] when `version` is not `"4"`.
    pub fn parse(body: &[u8]) -> Result<Self, PayloadError> {
        let parsed: Result<Self, _> = serde_json::from_slice(body);
        match parsed {
            Ok(notification) if notification.version == "4" => Ok(notification),
            Ok(notification) => Err(PayloadError::UnsupportedVersion(notification.version)),
            // Name an unsupported version before any shape problem it explains; this second
            // look happens only for bodies that are refused anyway.
            Err(error) => {
                Err(version_problem(body)
                    .unwrap_or_else(|| PayloadError::Malformed(error.to_string())))
            }
        }
    }
}

/// The version problem of a body that did not parse, when it has one.
fn version_problem(body: &[u8]) -> Option<PayloadError> {
    #[derive(Deserialize)]
    struct Envelope {
        version: Option<serde_json::Value>,
    }
    let envelope: Envelope = serde_json::from_slice(body).ok()?;
    match envelope.version {
        Some(serde_json::Value::String(v)) if v == "4" => None,
        Some(serde_json::Value::String(v)) => Some(PayloadError::UnsupportedVersion(v)),
        Some(other) => Some(PayloadError::UnsupportedVersion(other.to_string())),
        None => None,
    }
}

impl Alert {
    /// When the alert ended, or `None` while Alertmanager does not know (the zero time).
    pub fn ended_at(&self) -> Option<DateTime<Utc>> {
        (self.ends_at > DateTime::UNIX_EPOCH).then_some(self.ends_at)
    }

    /// The alert's identity: Alertmanager's fingerprint, or, from a sender that omits it, the
    /// same 64-bit FNV-1a hash of the sorted label set that Alertmanager computes
    /// (`model.LabelSet.Fingerprint` in prometheus/common: name, 0xff, value, 0xff per label).
    pub fn identity(&self) -> String {
        if !self.fingerprint.is_empty() {
            return self.fingerprint.clone();
        }
        const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
        const PRIME: u64 = 0x0000_0100_0000_01b3;
        let mut hash = OFFSET;
        for (name, value) in &self.labels {
            for byte in name
                .bytes()
                .chain([0xff])
                .chain(value.bytes())
                .chain([0xff])
            {
                hash ^= u64::from(byte);
                hash = hash.wrapping_mul(PRIME);
            }
        }
        format!("{hash:016x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../../tests/fixtures/alertmanager-webhook-example.json");

    #[test]
    fn parse_accepts_the_published_example_with_newer_fields() {
        let notification = Notification::parse(EXAMPLE.as_bytes()).unwrap();
        assert_eq!(notification.alerts.len(), 2);
        assert_eq!(notification.alerts[0].status, AlertStatus::Firing);
        assert_eq!(notification.alerts[0].ended_at(), None);
        assert!(notification.alerts[1].ended_at().is_some());
        assert_eq!(notification.alerts[1].fingerprint, "eaef56ed381e6ceb");
    }

    #[test]
    fn identity_recomputes_alertmanagers_fingerprint_when_missing() {
        // The example's fingerprints are real Alertmanager values computed from the labels.
        let notification = Notification::parse(EXAMPLE.as_bytes()).unwrap();
        for alert in notification.alerts {
            let expected = alert.fingerprint.clone();
            let stripped = Alert {
                fingerprint: String::new(),
                ..alert
            };
            assert_eq!(stripped.identity(), expected);
        }
    }

    #[test]
    fn parse_rejects_a_well_formed_payload_of_another_version() {
        let body = EXAMPLE.replace("\"version\": \"4\"", "\"version\": \"5\"");
        let error = Notification::parse(body.as_bytes()).unwrap_err();
        assert_eq!(error, PayloadError::UnsupportedVersion("5".into()));
    }

    #[test]
    fn parse_rejects_other_versions_by_name() {
        let error = Notification::parse(br#"{"version":"3","alerts":[]}"#).unwrap_err();
        assert_eq!(error, PayloadError::UnsupportedVersion("3".into()));
    }

    #[test]
    fn parse_says_what_is_wrong_with_a_malformed_body() {
        let error = Notification::parse(b"{not json").unwrap_err();
        assert!(matches!(error, PayloadError::Malformed(ref m) if m.contains("line 1")));
        let body = EXAMPLE.replace(
            "\"firing\",\n      \"labels\"",
            "\"burning\",\n      \"labels\"",
        );
        let error = Notification::parse(body.as_bytes()).unwrap_err();
        assert!(error.to_string().contains("burning"), "{error}");
    }
}
