//! WhatsApp Cloud API: credentials, endpoints and templates.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::Secret;

/// WhatsApp Cloud API (Meta Graph API) credentials, endpoints and message templates.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WhatsAppSettings {
    /// System-user access token for the Graph API.
    pub access_token: Secret,
    /// App secret that verifies `X-Hub-Signature-256` on webhooks.
    pub app_secret: Secret,
    /// Token echoed back during webhook verification (`hub.verify_token`).
    pub verify_token: Secret,
    /// Sending phone number id (digits, from the WhatsApp Manager).
    pub phone_number_id: String,
    /// Recipients in international format without `+`; every prompt and alert goes to each.
    pub recipients: Vec<String>,
    /// Graph API base URL. Default `https://graph.facebook.com`; tests point it at a double.
    #[serde(default = "default_whatsapp_api_url")]
    pub api_url: url::Url,
    /// Graph API version used in every request path. Default `v23.0`.
    #[serde(default = "default_whatsapp_api_version")]
    pub api_version: String,
    /// Deadline of each Graph API call, connection included. Default 10s.
    #[serde(default = "default_whatsapp_timeout", with = "humantime_serde")]
    pub timeout: Duration,
    /// How long webhook message ids are remembered so redeliveries are dropped. Meta retries a
    /// failed webhook for up to 7 days, so that is the default.
    #[serde(default = "default_whatsapp_dedupe_ttl", with = "humantime_serde")]
    pub dedupe_ttl: Duration,
    /// Message templates used outside the 24-hour customer-service window (see
    /// `deploy/whatsapp-templates.json` for their definitions).
    #[serde(default)]
    pub templates: WhatsAppTemplates,
}

/// Names of the message templates an operator registered for the bot. Outside the 24-hour
/// customer-service window WhatsApp delivers only approved templates.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct WhatsAppTemplates {
    /// Language (locale) code the templates were registered in. Default `en_US`.
    pub language: String,
    /// Alert template: body `{{1}}` title, `{{2}}` summary, `{{3}}` details link. Default
    /// `robot_sre_alert`.
    pub alert: String,
    /// Approval template: body `{{1}}` title, `{{2}}` summary, `{{3}}` expiry, `{{4}}` details
    /// link, and the quick-reply buttons Approve (index 0) and Reject (index 1). Default
    /// `robot_sre_approval`; `null` sends the alert template instead, and the human answers by
    /// replying "approve" or "reject" to it once the window is open.
    pub approval: Option<String>,
}

impl Default for WhatsAppTemplates {
    fn default() -> Self {
        Self {
            language: "en_US".into(),
            alert: "robot_sre_alert".into(),
            approval: Some("robot_sre_approval".into()),
        }
    }
}

fn default_whatsapp_api_url() -> url::Url {
    url::Url::parse("https://graph.facebook.com").expect("a constant, valid URL")
}

fn default_whatsapp_api_version() -> String {
    "v23.0".into()
}

fn default_whatsapp_timeout() -> Duration {
    Duration::from_secs(10)
}

fn default_whatsapp_dedupe_ttl() -> Duration {
    Duration::from_secs(7 * 24 * 3600)
}

impl WhatsAppSettings {
    /// What is wrong with these settings, as `(dotted key, problem)` pairs; empty when valid.
    pub fn problems(&self) -> Vec<(String, String)> {
        let mut problems = Vec::new();
        let mut check = |ok: bool, key: &str, problem: &str| {
            if !ok {
                problems.push((format!("channels.whatsapp.{key}"), problem.to_owned()));
            }
        };
        for (key, secret) in [
            ("access_token", &self.access_token),
            ("app_secret", &self.app_secret),
            ("verify_token", &self.verify_token),
        ] {
            check(!secret.is_empty(), key, "must not be empty");
        }
        check(
            is_digits(&self.phone_number_id, 1, 32),
            "phone_number_id",
            "must be the numeric phone number id",
        );
        check(
            !self.recipients.is_empty(),
            "recipients",
            "must list at least one number",
        );
        check(
            self.recipients.iter().all(|r| is_digits(r, 6, 15)),
            "recipients",
            "every number must be 6 to 15 digits, international format without `+`",
        );
        check(
            matches!(self.api_url.scheme(), "http" | "https"),
            "api_url",
            "must be an http or https URL",
        );
        check(
            is_api_version(&self.api_version),
            "api_version",
            "must look like v23.0",
        );
        check(
            (Duration::from_millis(100)..=Duration::from_secs(120)).contains(&self.timeout),
            "timeout",
            "must be between 100ms and 2m",
        );
        check(
            self.dedupe_ttl >= Duration::from_secs(60),
            "dedupe_ttl",
            "must be at least 1m",
        );
        let t = &self.templates;
        check(
            !t.language.trim().is_empty(),
            "templates.language",
            "must not be empty",
        );
        check(
            is_template_name(&t.alert),
            "templates.alert",
            "must be 1 to 512 lowercase letters, digits or underscores",
        );
        check(
            t.approval.as_deref().is_none_or(is_template_name),
            "templates.approval",
            "must be 1 to 512 lowercase letters, digits or underscores, or null",
        );
        problems
    }
}

fn is_digits(value: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_digit())
}

fn is_api_version(value: &str) -> bool {
    value
        .strip_prefix('v')
        .and_then(|rest| rest.split_once('.'))
        .is_some_and(|(major, minor)| is_digits(major, 1, 4) && is_digits(minor, 1, 4))
}

/// Meta accepts template names of lowercase letters, digits and underscores.
fn is_template_name(name: &str) -> bool {
    (1..=512).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

#[cfg(test)]
mod whatsapp_tests {
    use super::*;

    fn settings() -> WhatsAppSettings {
        serde_yaml::from_str(
            "access_token: t\napp_secret: s\nverify_token: v\nphone_number_id: '106853218861309'\nrecipients: ['15551234567']\n",
        )
        .unwrap()
    }

    #[test]
    fn whatsapp_settings_take_the_real_defaults_when_omitted() {
        let settings = settings();
        assert_eq!(settings.api_url.as_str(), "https://graph.facebook.com/");
        assert_eq!(settings.api_version, "v23.0");
        assert_eq!(
            settings.templates.approval.as_deref(),
            Some("robot_sre_approval")
        );
        assert!(settings.problems().is_empty(), "{:?}", settings.problems());
    }

    #[test]
    fn whatsapp_settings_name_each_wrong_value() {
        let mut settings = settings();
        settings.recipients = vec!["+1 555".into()];
        settings.api_version = "23".into();
        settings.templates.alert = "Robot Alert".into();
        settings.timeout = Duration::ZERO;
        let keys: Vec<String> = settings
            .problems()
            .into_iter()
            .map(|(key, _)| key)
            .collect();
        for key in ["recipients", "api_version", "templates.alert", "timeout"] {
            assert!(
                keys.contains(&format!("channels.whatsapp.{key}")),
                "{key}: {keys:?}"
            );
        }
    }
}
