//! Chat channels: credentials and where each one posts. A channel is off until its section is
//! present; secrets are masked everywhere.

use serde::{Deserialize, Serialize};

use super::secret::Secret;
use crate::channels::Person;

/// Chat channels. Each is off until its section is present.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChannelSettings {
    pub slack: Option<SlackSettings>,
    pub telegram: Option<TelegramSettings>,
    pub whatsapp: Option<WhatsAppSettings>,
    /// People and their identity on each channel; senders not listed here are "unknown".
    pub people: Vec<Person>,
}

/// Slack app credentials.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SlackSettings {
    /// Bot token (`xoxb-…`) for the Web API.
    pub bot_token: Secret,
    /// Signing secret that verifies requests from Slack.
    pub signing_secret: Secret,
    /// App-level token (`xapp-…`) for Socket Mode, when used.
    pub app_token: Option<Secret>,
    /// Channel id (`C…`) where incidents are posted.
    pub channel: String,
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

/// WhatsApp Cloud API credentials.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WhatsAppSettings {
    /// System-user access token for the Graph API.
    pub access_token: Secret,
    /// App secret that verifies `X-Hub-Signature-256` on webhooks.
    pub app_secret: Secret,
    /// Token echoed back during webhook verification (`hub.verify_token`).
    pub verify_token: Secret,
    /// Sending phone number id.
    pub phone_number_id: String,
    /// Recipients in international format without `+`.
    pub recipients: Vec<String>,
}
