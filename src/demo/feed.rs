//! How the demo's alerts reach the bot: through a real Alertmanager when one is installed (as
//! in production), otherwise straight to the bot's webhook in Alertmanager's own format.

use anyhow::Context;
use chrono::Utc;
use serde_json::{Value, json};

use crate::testkit::Alertmanager;
use crate::testkit::alertmanager::Routing;

/// Where alerts go.
pub enum Feed {
    Alertmanager(Alertmanager),
    Direct {
        webhook: String,
        token: String,
        client: reqwest::Client,
    },
}

impl Feed {
    /// A real Alertmanager delivering to `webhook` with `token`, or the direct path when the
    /// program is not installed (said on stderr).
    pub async fn start(webhook: &str, token: &str) -> Self {
        match Alertmanager::start(webhook, token, &Routing::default()).await {
            Ok(alertmanager) => Feed::Alertmanager(alertmanager),
            Err(error) => {
                eprintln!(
                    "    no Alertmanager ({error}); posting alerts to the bot's webhook in Alertmanager's format"
                );
                Feed::Direct {
                    webhook: webhook.to_owned(),
                    token: token.to_owned(),
                    client: reqwest::Client::new(),
                }
            }
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Feed::Alertmanager(alertmanager) => format!("Alertmanager at {}", alertmanager.url()),
            Feed::Direct { webhook, .. } => format!("the webhook {webhook}"),
        }
    }

    /// Fires `alerts` (`{labels, annotations}` each), as Prometheus would.
    ///
    /// # Errors
    /// When Alertmanager or the bot refuses them.
    pub async fn fire(&self, alerts: &[Value]) -> anyhow::Result<()> {
        match self {
            Feed::Alertmanager(alertmanager) => alertmanager
                .post_alerts(&Value::Array(alerts.to_vec()))
                .await
                .map_err(|error| anyhow::anyhow!("Alertmanager refused the alerts: {error}")),
            Feed::Direct {
                webhook,
                token,
                client,
            } => {
                for alert in alerts {
                    let response = client
                        .post(webhook)
                        .bearer_auth(token)
                        .json(&notification(alert))
                        .send()
                        .await
                        .context("the bot's webhook did not answer")?;
                    if !response.status().is_success() {
                        anyhow::bail!("the bot refused an alert: HTTP {}", response.status());
                    }
                }
                Ok(())
            }
        }
    }
}

/// One firing alert as Alertmanager's webhook notification (version 4) carries it.
fn notification(alert: &Value) -> Value {
    let labels = &alert["labels"];
    let alertname = labels["alertname"].as_str().unwrap_or_default();
    let fingerprint = {
        let mut hasher = std::hash::DefaultHasher::new();
        std::hash::Hash::hash(&labels.to_string(), &mut hasher);
        format!("{:016x}", std::hash::Hasher::finish(&hasher))
    };
    json!({
        "version": "4",
        "groupKey": format!("{{}}:{{alertname=\"{alertname}\"}}"),
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "robot-sre",
        "groupLabels": {"alertname": alertname},
        "commonLabels": labels,
        "commonAnnotations": alert["annotations"],
        "externalURL": "http://robot-sre-demo.invalid",
        "alerts": [{
            "status": "firing",
            "labels": labels,
            "annotations": alert["annotations"],
            "startsAt": Utc::now().to_rfc3339(),
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "",
            "fingerprint": fingerprint,
        }],
    })
}
