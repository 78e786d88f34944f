//! Slack: credentials and how the bot talks to Slack.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::Secret;

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

#[cfg(test)]
mod tests {
    use super::*;

    fn slack(extra: &str) -> SlackSettings {
        let yaml = format!("bot_token: fake-bot-token\nsigning_secret: s\nchannel: C1\n{extra}");
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
            slack("socket_mode: true\napp_token: fake-app-token\n")
                .problems()
                .is_empty()
        );
    }

    #[test]
    fn slack_secrets_never_print() {
        let shown = format!("{:?}", slack("app_token: fake-app-token-secret\n"));
        assert!(
            !shown.contains("fake-bot-token") && !shown.contains("fake-app-token-secret"),
            "{shown}"
        );
    }
}
