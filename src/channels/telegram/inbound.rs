//! The one path every update takes, whether it came by webhook or long polling: claim its
//! `update_id`, read it, hand the event to the inbox, acknowledge a button press.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use teloxide::types::Update;

use super::TelegramChannel;
use super::interpret::{Context, Meaning, interpret};
use crate::channels::identity::Directory;
use crate::channels::inbox::{Inbox, InboxFull};
use crate::config::Secret;
use crate::store::{Claim, Store, StoreError};

/// Telegram keeps an undelivered update for at most 24 hours
/// (<https://core.telegram.org/bots/api#getting-updates>), so no redelivery comes later.
const DEDUPE_TTL: Duration = Duration::from_secs(24 * 3600);

/// The toast shown on a pressed button; the outcome follows as a reply and an edited prompt.
const RECEIVED: &str = "Received; the outcome follows in the chat.";

/// Everything the inbound side needs, shared by the webhook handler and the polling loop.
pub struct TelegramInbound {
    pub(super) channel: Arc<TelegramChannel>,
    inbox: Inbox,
    directory: Arc<Directory>,
    store: Arc<dyn Store>,
    pub(super) webhook_secret: Option<Secret>,
}

/// What became of an update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    /// An event went to the inbox.
    Submitted,
    /// This `update_id` was handled before (a webhook retry, another replica).
    Duplicate,
    /// Nothing for the bot; why.
    Nothing(&'static str),
}

/// The update could not be handled now; it must come again (webhook: answer 503 so that
/// Telegram retries; polling: do not confirm it).
#[derive(Debug, thiserror::Error)]
pub enum HandleError {
    #[error("update {update_id} not accepted")]
    InboxFull {
        update_id: u32,
        #[source]
        source: InboxFull,
    },
    #[error("update {update_id} not deduplicated")]
    Store {
        update_id: u32,
        #[source]
        source: StoreError,
    },
}

impl TelegramInbound {
    /// `webhook_secret` is required to serve [`super::routes`]; polling does not use it.
    pub fn new(
        channel: Arc<TelegramChannel>,
        inbox: Inbox,
        directory: Arc<Directory>,
        webhook_secret: Option<Secret>,
    ) -> Self {
        let store = channel.store.clone();
        Self {
            channel,
            inbox,
            directory,
            store,
            webhook_secret,
        }
    }

    /// Handles one authenticated update.
    ///
    /// # Errors
    /// [`HandleError`] when the inbox is full or the store cannot dedupe; the claim is released
    /// first, so the redelivery is handled.
    ///
    /// # Idempotency
    /// Each `update_id` yields at most one event, across retries and replicas sharing a store.
    pub async fn handle(&self, update: &Update) -> Result<Handled, HandleError> {
        let update_id = update.id.0;
        let key = format!("telegram:{}:update:{update_id}", self.channel.bot_id);
        let claim_value = claim_value();
        let claim = self
            .store
            .claim(&key, &claim_value, Some(DEDUPE_TTL))
            .await
            .map_err(|source| HandleError::Store { update_id, source })?;
        if let Claim::Held(_) = claim {
            tracing::debug!(update_id, "duplicate telegram update");
            return Ok(Handled::Duplicate);
        }
        let context = Context {
            served: self.channel.served_chats(),
            directory: &self.directory,
            username: self.channel.username(),
            now: Utc::now(),
        };
        let (inbound, answer) = match interpret(update, &context) {
            Meaning::Nothing(why) => return Ok(Handled::Nothing(why)),
            Meaning::Event { inbound, answer } => (inbound, answer),
        };
        if let Err(source) = self.inbox.submit(inbound) {
            self.release(&key, &claim_value).await;
            return Err(HandleError::InboxFull { update_id, source });
        }
        if let Some(query) = answer {
            self.acknowledge(query);
        }
        Ok(Handled::Submitted)
    }

    async fn release(&self, key: &str, value: &str) {
        if let Err(error) = self.store.release(key, value).await {
            // The claim lapses after its TTL; until then a redelivery counts as a duplicate.
            tracing::warn!(%error, key, "telegram update claim not released");
        }
    }

    /// Stops the spinner on the pressed button without holding up the acknowledgement.
    fn acknowledge(&self, query: String) {
        let channel = self.channel.clone();
        tokio::spawn(async move {
            if let Err(error) = channel.answer_callback(&query, RECEIVED).await {
                tracing::warn!(%error, "answerCallbackQuery failed");
            }
        });
    }
}

/// A value no other claimant offers, so that only our own claim is released.
fn claim_value() -> String {
    format!("{:032x}", rand::random::<u128>())
}

impl fmt::Debug for TelegramInbound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TelegramInbound")
            .field("channel", &self.channel)
            .field("webhook_secret", &self.webhook_secret)
            .finish_non_exhaustive()
    }
}
