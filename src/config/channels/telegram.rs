//! Telegram: credentials, chats and how updates arrive.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::config::Secret;

/// Telegram bot: credentials, where incidents are posted, which chats are served, and how
/// updates arrive.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TelegramSettings {
    /// Bot token from @BotFather.
    pub bot_token: Secret,
    /// `secret_token` given to `setWebhook`; Telegram echoes it in
    /// `X-Telegram-Bot-Api-Secret-Token` on every webhook request. Required in webhook mode:
    /// 1-256 characters of `A-Z a-z 0-9 _ -` (<https://core.telegram.org/bots/api#setwebhook>).
    #[serde(default)]
    pub webhook_secret: Option<Secret>,
    /// Chat where incidents are posted (a group or supergroup id is negative).
    pub chat_id: i64,
    /// Further chats whose commands and button presses are served (e.g. an SRE leads' group).
    /// Updates from any other chat are not acted on; they are reported for the audit.
    #[serde(default)]
    pub allowed_chats: Vec<i64>,
    /// Bot API base URL; requests go to `{api_url}/bot<token>/<method>`.
    #[serde(default = "default_telegram_api_url")]
    pub api_url: Url,
    /// Deadline for one Bot API call (a long poll gets `poll_timeout` on top).
    #[serde(default = "default_telegram_timeout", with = "humantime_serde")]
    pub timeout: Duration,
    /// How updates (button presses, commands) arrive: `webhook` (Telegram POSTs to
    /// `/integrations/telegram/webhook`) or `polling` (the bot calls `getUpdates`; for clusters
    /// with no public ingress).
    #[serde(default)]
    pub mode: TelegramMode,
    /// How long one `getUpdates` long poll waits for updates (whole seconds, at most 50).
    #[serde(default = "default_telegram_poll_timeout", with = "humantime_serde")]
    pub poll_timeout: Duration,
}

/// How Telegram updates reach the bot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TelegramMode {
    #[default]
    Webhook,
    Polling,
}

impl TelegramSettings {
    /// Every chat the bot serves: `chat_id` first, then `allowed_chats`.
    pub fn served_chats(&self) -> Vec<i64> {
        let mut chats = vec![self.chat_id];
        chats.extend(
            self.allowed_chats
                .iter()
                .copied()
                .filter(|c| *c != self.chat_id),
        );
        chats
    }

    /// Problems as `(dotted key, what is wrong)`; never prints a secret.
    pub fn validate(&self) -> Vec<(String, String)> {
        let mut problems = Vec::new();
        let mut check = |ok: bool, key: &str, problem: &str| {
            if !ok {
                problems.push((format!("channels.telegram.{key}"), problem.to_owned()));
            }
        };
        let token = self.bot_token.expose();
        check(
            token.split_once(':').is_some_and(|(id, rest)| {
                !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) && !rest.is_empty()
            }),
            "bot_token",
            "is not a bot token of the form <bot id>:<secret> from @BotFather",
        );
        let secret_ok = self.webhook_secret.as_ref().is_none_or(|s| {
            (1..=256).contains(&s.expose().len())
                && s.expose()
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        });
        check(
            secret_ok,
            "webhook_secret",
            "must be 1-256 characters of A-Z, a-z, 0-9, _ and -",
        );
        check(
            self.mode != TelegramMode::Webhook || self.webhook_secret.is_some(),
            "webhook_secret",
            "is required in webhook mode (it authenticates Telegram's requests)",
        );
        check(self.chat_id != 0, "chat_id", "must be a chat id, not 0");
        check(
            matches!(self.api_url.scheme(), "http" | "https"),
            "api_url",
            "must be an http or https URL",
        );
        check(
            !self.timeout.is_zero(),
            "timeout",
            "must be longer than zero",
        );
        check(
            (1..=50).contains(&self.poll_timeout.as_secs()),
            "poll_timeout",
            "must be 1s to 50s (whole seconds)",
        );
        problems
    }
}

fn default_telegram_api_url() -> Url {
    // The public Bot API server (https://core.telegram.org/bots/api#making-requests).
    Url::parse("https://api.telegram.org").unwrap_or_else(|_| unreachable!("a valid literal URL"))
}

fn default_telegram_timeout() -> Duration {
    Duration::from_secs(10)
}

fn default_telegram_poll_timeout() -> Duration {
    Duration::from_secs(25)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn telegram(yaml: &str) -> TelegramSettings {
        serde_yaml::from_str(yaml).unwrap()
    }

    #[test]
    fn telegram_defaults_are_the_public_api_in_webhook_mode() {
        let settings = telegram("{bot_token: '123:abc', webhook_secret: s3cret_-x, chat_id: -100}");
        assert_eq!(settings.api_url.as_str(), "https://api.telegram.org/");
        assert_eq!(settings.mode, TelegramMode::Webhook);
        assert_eq!(settings.timeout, Duration::from_secs(10));
        assert_eq!(settings.poll_timeout, Duration::from_secs(25));
        assert!(settings.validate().is_empty(), "{:?}", settings.validate());
        assert_eq!(settings.served_chats(), vec![-100]);
    }

    #[test]
    fn telegram_problems_name_the_key_and_never_the_secret() {
        let settings = telegram(
            "{bot_token: 'not-a-token', webhook_secret: 'bad secret!', chat_id: 0, poll_timeout: 90s, timeout: 0s}",
        );
        let problems = settings.validate();
        let keys: Vec<&str> = problems.iter().map(|(k, _)| k.as_str()).collect();
        for key in [
            "bot_token",
            "webhook_secret",
            "chat_id",
            "poll_timeout",
            "timeout",
        ] {
            assert!(
                keys.contains(&format!("channels.telegram.{key}").as_str()),
                "{key}: {problems:?}"
            );
        }
        assert!(!format!("{problems:?}").contains("not-a-token"));
        assert!(!format!("{problems:?}").contains("bad secret!"));
    }

    #[test]
    fn telegram_webhook_mode_needs_a_secret_and_polling_does_not() {
        let webhook = telegram("{bot_token: '123:abc', chat_id: -100}");
        assert_eq!(webhook.validate()[0].0, "channels.telegram.webhook_secret");
        let polling = telegram(
            "{bot_token: '123:abc', chat_id: -100, mode: polling, allowed_chats: [-100, 7]}",
        );
        assert!(polling.validate().is_empty());
        assert_eq!(polling.served_chats(), vec![-100, 7]);
    }
}
