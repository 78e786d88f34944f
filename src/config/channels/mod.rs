//! Chat channels: credentials and where each one posts. A channel is off until its section is
//! present; secrets are masked everywhere.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::channels::{ChannelKind, Person};

mod console;
mod slack;
mod telegram;
mod whatsapp;

use crate::incidents::model::{Environment, Severity};
pub use console::{ConsoleSettings, ConsoleUser};
pub use slack::SlackSettings;
pub use telegram::{TelegramMode, TelegramSettings};
pub use whatsapp::{WhatsAppSettings, WhatsAppTemplates};

/// Chat channels. Each is off until its section is present.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChannelSettings {
    pub slack: Option<SlackSettings>,
    pub telegram: Option<TelegramSettings>,
    pub whatsapp: Option<WhatsAppSettings>,
    /// The web console at `/console`; also the last resort of the failover list.
    pub console: Option<ConsoleSettings>,
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
