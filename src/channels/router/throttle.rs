//! Per-conversation rate limits of each chat service, enforced by queueing (waiting for a
//! slot) rather than by dropping. GCRA limiters from the `governor` crate.
//!
//! A new message's conversation is the channel's configured one, keyed as `""`; replies and
//! updates are keyed by the conversation they go to. Telegram's group limit is applied to the
//! configured chat too, because incident chats are usually groups.

use std::num::NonZeroU32;

use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::channels::ChannelKind;
use crate::config::RateLimits;

/// The limiters of every channel.
pub struct Throttle {
    slack: DefaultKeyedRateLimiter<String>,
    telegram_chat: DefaultKeyedRateLimiter<String>,
    telegram_group: DefaultKeyedRateLimiter<String>,
    telegram_all: DefaultDirectRateLimiter,
    whatsapp: DefaultKeyedRateLimiter<String>,
}

fn at_least_one(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

impl Throttle {
    pub fn new(limits: &RateLimits) -> Self {
        let whatsapp = Quota::with_period(limits.whatsapp_per_recipient_interval)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(at_least_one(limits.whatsapp_per_recipient_burst));
        Self {
            slack: RateLimiter::keyed(Quota::per_second(at_least_one(limits.slack_per_second))),
            telegram_chat: RateLimiter::keyed(Quota::per_second(at_least_one(
                limits.telegram_per_chat_per_second,
            ))),
            telegram_group: RateLimiter::keyed(Quota::per_minute(at_least_one(
                limits.telegram_per_group_per_minute,
            ))),
            telegram_all: RateLimiter::direct(Quota::per_second(at_least_one(
                limits.telegram_per_second,
            ))),
            whatsapp: RateLimiter::keyed(whatsapp),
        }
    }

    /// Waits until one more message may go to `conversation` on `channel` (`""` for the
    /// channel's configured conversation).
    pub async fn wait(&self, channel: ChannelKind, conversation: &str) {
        let key = conversation.to_owned();
        match channel {
            ChannelKind::Slack => self.slack.until_key_ready(&key).await,
            ChannelKind::Telegram => {
                if conversation.is_empty() || conversation.starts_with('-') {
                    self.telegram_group.until_key_ready(&key).await;
                }
                self.telegram_chat.until_key_ready(&key).await;
                self.telegram_all.until_ready().await;
            }
            ChannelKind::WhatsApp => self.whatsapp.until_key_ready(&key).await,
            ChannelKind::Console => {}
        }
    }
}
