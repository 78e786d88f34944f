//! Chat channels: credentials and where each one posts. A channel is off until its section is
//! present; secrets are masked everywhere.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::secret::Secret;
use crate::channels::{ChannelKind, Person};
use crate::incidents::model::{Environment, Severity};

/// Chat channels. Each is off until its section is present.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChannelSettings {
    pub slack: Option<SlackSettings>,
    pub telegram: Option<TelegramSettings>,
    pub whatsapp: Option<WhatsAppSettings>,
    /// People and their identity on each channel; senders not listed here are "unknown".
    pub people: Vec<Person>,
    /// Which channels are tried, in which order, and how fast the router gives up on one.
    pub routing: RoutingSettings,
}

/// Failover between channels.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RoutingSettings {
    /// Ordered channel lists; the first route whose severity and environment match (an absent
    /// field matches anything) is used. No match: every configured channel, in the order
    /// slack, telegram, whatsapp, console.
    pub routes: Vec<Route>,
    /// How long one channel may take to accept a message before the next one is tried.
    #[serde(with = "humantime_serde")]
    pub attempt_timeout: Duration,
    /// Consecutive failures after which a channel is skipped without trying it.
    pub breaker_failures: u32,
    /// How long a tripped channel is skipped before one probe message may try it again.
    #[serde(with = "humantime_serde")]
    pub breaker_open_for: Duration,
    /// First and longest wait between rounds when every channel failed; rounds continue until
    /// the prompt expires.
    #[serde(with = "humantime_serde")]
    pub retry_min: Duration,
    #[serde(with = "humantime_serde")]
    pub retry_max: Duration,
    pub rate_limits: RateLimits,
}

impl Default for RoutingSettings {
    fn default() -> Self {
        Self {
            routes: Vec::new(),
            attempt_timeout: Duration::from_secs(5),
            breaker_failures: 3,
            breaker_open_for: Duration::from_secs(30),
            retry_min: Duration::from_secs(1),
            retry_max: Duration::from_secs(60),
            rate_limits: RateLimits::default(),
        }
    }
}

/// One ordered channel list.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    #[serde(default)]
    pub severity: Option<Severity>,
    #[serde(default)]
    pub environment: Option<Environment>,
    pub channels: Vec<ChannelKind>,
}

/// Messages per conversation that each chat service accepts; the router queues beyond them.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimits {
    /// Slack: about one message per second per channel (chat.postMessage's special tier).
    pub slack_per_second: u32,
    /// Telegram: about one message per second in one chat …
    pub telegram_per_chat_per_second: u32,
    /// … twenty per minute in one group …
    pub telegram_per_group_per_minute: u32,
    /// … and about thirty per second overall.
    pub telegram_per_second: u32,
    /// WhatsApp: one message every six seconds to the same user (the pair rate limit, error
    /// 131056), with a short burst allowed.
    #[serde(with = "humantime_serde")]
    pub whatsapp_per_recipient_interval: Duration,
    pub whatsapp_per_recipient_burst: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            slack_per_second: 1,
            telegram_per_chat_per_second: 1,
            telegram_per_group_per_minute: 20,
            telegram_per_second: 30,
            whatsapp_per_recipient_interval: Duration::from_secs(6),
            whatsapp_per_recipient_burst: 10,
        }
    }
}

/// Slack app credentials and how the bot talks to Slack.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SlackSettings {
    /// Bot token (`xoxb-…`) for the Web API.
    pub bot_token: Secret,
    /// Signing secret that verifies requests from Slack.
    pub signing_secret: Secret,
    /// App-level token (`xapp-…`, scope `connections:write`) for Socket Mode, when used.
    pub app_token: Option<Secret>,
    /// Channel id (`C…`) where incidents are posted.
    pub channel: String,
    /// Web API base URL. Default `https://slack.com/api`. Plain `http` is accepted only for a
    /// loopback host (a local test double), so the bot token never crosses a network in clear.
    #[serde(default = "default_slack_api_url")]
    pub api_url: url::Url,
    /// Time limit of every Web API call. Default 5s.
    #[serde(default = "default_slack_timeout", with = "humantime_serde")]
    pub timeout: Duration,
    /// Receive button presses and slash commands over Socket Mode (an outbound websocket,
    /// for clusters without public ingress) instead of the HTTP endpoints. Needs `app_token`.
    /// Default false.
    #[serde(default)]
    pub socket_mode: bool,
    /// How long a delivered interaction is remembered so that Slack's redeliveries of it are
    /// dropped. Default 1h; at least 10m.
    #[serde(default = "default_slack_dedupe_ttl", with = "humantime_serde")]
    pub dedupe_ttl: Duration,
}

fn default_slack_api_url() -> url::Url {
    url::Url::parse("https://slack.com/api").expect("a valid constant URL")
}

fn default_slack_timeout() -> Duration {
    Duration::from_secs(5)
}

fn default_slack_dedupe_ttl() -> Duration {
    Duration::from_secs(3600)
}

impl SlackSettings {
    /// Problems with these settings, as `(dotted key, what is wrong)`.
    pub fn problems(&self) -> Vec<(String, String)> {
        let mut problems = Vec::new();
        let mut check = |ok: bool, key: &str, problem: &str| {
            if !ok {
                problems.push((format!("channels.slack.{key}"), problem.to_owned()));
            }
        };
        check(!self.bot_token.is_empty(), "bot_token", "must not be empty");
        check(
            !self.signing_secret.is_empty(),
            "signing_secret",
            "must not be empty",
        );
        check(
            !self.channel.trim().is_empty(),
            "channel",
            "must not be empty",
        );
        check(
            api_url_is_safe(&self.api_url),
            "api_url",
            "must be https (plain http only for a loopback host)",
        );
        check(
            (Duration::from_millis(100)..=Duration::from_secs(60)).contains(&self.timeout),
            "timeout",
            "must be between 100ms and 60s",
        );
        check(
            !self.socket_mode || self.app_token.as_ref().is_some_and(|t| !t.is_empty()),
            "app_token",
            "is required when socket_mode is true",
        );
        check(
            self.dedupe_ttl >= Duration::from_secs(600),
            "dedupe_ttl",
            "must be at least 10m",
        );
        problems
    }
}

fn api_url_is_safe(url: &url::Url) -> bool {
    match url.scheme() {
        "https" => url.host().is_some(),
        "http" => match url.host() {
            Some(url::Host::Domain(domain)) => domain == "localhost",
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        },
        _ => false,
    }
}

/// Telegram bot credentials.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TelegramSettings {
    /// Bot token from @BotFather.
    pub bot_token: Secret,
    /// `secret_token` Telegram echoes in `X-Telegram-Bot-Api-Secret-Token` on every webhook.
    pub webhook_secret: Secret,
    /// Chat where incidents are posted.
    pub chat_id: i64,
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn slack(extra: &str) -> SlackSettings {
        let yaml = format!("bot_token: xoxb-1\nsigning_secret: s\nchannel: C1\n{extra}");
        serde_yaml::from_str(&yaml).unwrap()
    }

    fn keys(settings: &SlackSettings) -> Vec<String> {
        settings
            .problems()
            .into_iter()
            .map(|(key, _)| key)
            .collect()
    }

    #[test]
    fn slack_defaults_are_slack_itself_five_seconds_http_mode_and_an_hour() {
        let settings = slack("");
        assert_eq!(settings.api_url.as_str(), "https://slack.com/api");
        assert_eq!(settings.timeout, Duration::from_secs(5));
        assert!(!settings.socket_mode);
        assert_eq!(settings.dedupe_ttl, Duration::from_secs(3600));
        assert!(settings.problems().is_empty(), "{:?}", settings.problems());
    }

    #[test]
    fn plain_http_is_refused_unless_the_host_is_loopback() {
        let remote = slack("api_url: http://slack.example.com/api\n");
        assert_eq!(keys(&remote), ["channels.slack.api_url"]);
        assert!(
            slack("api_url: http://127.0.0.1:9/api\n")
                .problems()
                .is_empty()
        );
        assert!(
            slack("api_url: http://localhost:9/api\n")
                .problems()
                .is_empty()
        );
    }

    #[test]
    fn socket_mode_needs_an_app_token_and_limits_are_checked() {
        let settings = slack("socket_mode: true\ntimeout: 0s\ndedupe_ttl: 1m\n");
        assert_eq!(
            keys(&settings),
            [
                "channels.slack.timeout",
                "channels.slack.app_token",
                "channels.slack.dedupe_ttl"
            ]
        );
        assert!(
            slack("socket_mode: true\napp_token: xapp-1\n")
                .problems()
                .is_empty()
        );
    }

    #[test]
    fn slack_secrets_never_print() {
        let shown = format!("{:?}", slack("app_token: xapp-very-secret\n"));
        assert!(
            !shown.contains("xoxb-1") && !shown.contains("xapp-very-secret"),
            "{shown}"
        );
    }
}
