//! The Bot API calls besides the [`Channel`] ones: the command menu, the webhook, button
//! acknowledgements and long polls.
//!
//! [`Channel`]: crate::channels::Channel

use std::future::IntoFuture;

use teloxide::payloads::{AnswerCallbackQuerySetters, GetUpdatesSetters, SetWebhookSetters};
use teloxide::prelude::Requester;
use teloxide::types::{AllowedUpdate, CallbackQueryId, Update};

use super::TelegramChannel;
use super::errors::classify;
use crate::channels::channel::DeliveryError;
use crate::channels::message::ChannelKind;
use crate::config::Secret;

const CHANNEL: ChannelKind = ChannelKind::Telegram;

/// The only updates the bot asks for: messages (commands) and button presses.
const ALLOWED_UPDATES: [AllowedUpdate; 2] = [AllowedUpdate::Message, AllowedUpdate::CallbackQuery];

impl TelegramChannel {
    /// Registers the command menu (`setMyCommands`, default scope).
    ///
    /// # Errors
    /// The call's [`DeliveryError`].
    ///
    /// # Idempotency
    /// Setting the same commands again changes nothing.
    pub async fn register_commands(&self) -> Result<(), DeliveryError> {
        self.call(self.bot.set_my_commands(Self::commands()))
            .await
            .map(|_| ())
    }

    /// Points Telegram's webhook at `url` (the public address of [`super::WEBHOOK_PATH`]) with
    /// the `secret_token` it must echo, for button presses and messages only (`setWebhook`).
    ///
    /// # Errors
    /// The call's [`DeliveryError`]; Telegram refuses a URL that is not public HTTPS.
    ///
    /// # Idempotency
    /// Setting the same webhook again changes nothing.
    pub async fn set_webhook(&self, url: url::Url, secret: &Secret) -> Result<(), DeliveryError> {
        let request = self
            .bot
            .set_webhook(url)
            .secret_token(secret.expose().to_owned())
            .allowed_updates(ALLOWED_UPDATES);
        self.call(request).await.map(|_| ())
    }

    /// Removes any webhook, keeping pending updates: Telegram refuses `getUpdates` while one
    /// is set (`deleteWebhook`).
    ///
    /// # Errors
    /// The call's [`DeliveryError`].
    pub async fn delete_webhook(&self) -> Result<(), DeliveryError> {
        self.call(self.bot.delete_webhook()).await.map(|_| ())
    }

    /// Stops the button's progress spinner with a short toast (`answerCallbackQuery`).
    ///
    /// # Errors
    /// The call's [`DeliveryError`] (a query older than Telegram keeps them is `Invalid`).
    pub async fn answer_callback(&self, id: &str, text: &str) -> Result<(), DeliveryError> {
        let request = self
            .bot
            .answer_callback_query(CallbackQueryId(id.to_owned()))
            .text(text);
        // Not subject to a standing retry_after: the spinner must stop.
        tokio::time::timeout(self.timeout, request.into_future())
            .await
            .map_err(|_| DeliveryError::Timeout {
                channel: CHANNEL,
                after: self.timeout,
            })?
            .map(|_| ())
            .map_err(|error| classify(&error, self.timeout))
    }

    /// One long poll: updates from `offset` on, waiting up to the poll timeout for one.
    pub(super) async fn get_updates(&self, offset: i32) -> Result<Vec<Update>, DeliveryError> {
        let deadline = self.poll_timeout + self.timeout;
        let request = self
            .bot
            .get_updates()
            .offset(offset)
            .timeout(self.poll_timeout.as_secs().try_into().unwrap_or(50))
            .allowed_updates(ALLOWED_UPDATES);
        let answer = tokio::time::timeout(deadline, request.into_future())
            .await
            .map_err(|_| DeliveryError::Timeout {
                channel: CHANNEL,
                after: deadline,
            })?;
        answer.map_err(|error| classify(&error, deadline))
    }
}
