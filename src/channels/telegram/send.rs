//! Outbound: the [`Channel`] implementation, each call under a deadline and Telegram's
//! `retry_after`.

use std::future::IntoFuture;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use teloxide::RequestError;
use teloxide::payloads::{EditMessageTextSetters, SendMessageSetters};
use teloxide::prelude::Requester;
use teloxide::types::{ChatId, Message, MessageId, ParseMode, ReplyParameters};

use super::TelegramChannel;
use super::errors::{classify, is_not_modified};
use super::render;
use crate::channels::channel::{Channel, DeliveryError, Health};
use crate::channels::message::{ChannelKind, MessageRef, Notice, Prompt};
use crate::store::{CasOutcome, Write};

const CHANNEL: ChannelKind = ChannelKind::Telegram;

/// A prompt is remembered (to show it again with its outcome) until it expires, plus this.
const REMEMBER_AFTER_EXPIRY: Duration = Duration::from_secs(24 * 3600);

impl TelegramChannel {
    /// Runs one Bot API call under `timeout`. The outer error is the deadline or a standing
    /// `retry_after`; the inner one is Telegram's answer, left unclassified for callers that
    /// treat some answers as success.
    pub(super) async fn call_raw<R>(
        &self,
        timeout: Duration,
        request: impl IntoFuture<Output = Result<R, RequestError>>,
    ) -> Result<Result<R, RequestError>, DeliveryError> {
        if let Some(wait) = self.rate_limit_left() {
            return Err(DeliveryError::RateLimited {
                channel: CHANNEL,
                retry_after: wait,
            });
        }
        let answer = tokio::time::timeout(timeout, request.into_future())
            .await
            .map_err(|_| DeliveryError::Timeout {
                channel: CHANNEL,
                after: timeout,
            })?;
        if let Err(RequestError::RetryAfter(seconds)) = &answer {
            self.block_for(seconds.duration());
        }
        Ok(answer)
    }

    /// [`Self::call_raw`] with every failure classified.
    pub(super) async fn call<R>(
        &self,
        request: impl IntoFuture<Output = Result<R, RequestError>>,
    ) -> Result<R, DeliveryError> {
        self.call_raw(self.timeout, request)
            .await?
            .map_err(|error| classify(&error, self.timeout))
    }

    /// How long Telegram's last `retry_after` still forbids sending.
    fn rate_limit_left(&self) -> Option<Duration> {
        let until = (*self.blocked_until.lock().ok()?)?;
        let left = until.saturating_duration_since(tokio::time::Instant::now());
        (!left.is_zero()).then_some(left)
    }

    fn block_for(&self, wait: Duration) {
        if let Ok(mut until) = self.blocked_until.lock() {
            *until = Some(tokio::time::Instant::now() + wait);
        }
    }

    /// The bot's username, once `getMe` told it.
    pub(super) fn username(&self) -> Option<&str> {
        self.username.get().map(String::as_str)
    }

    async fn remember(&self, prompt: &Prompt, sent: &MessageRef) {
        let left = (prompt.expires_at - Utc::now())
            .to_std()
            .unwrap_or_default();
        let write = match serde_json::to_vec(prompt) {
            Ok(value) => Write {
                value,
                ttl: Some(left + REMEMBER_AFTER_EXPIRY),
                effects: Vec::new(),
            },
            Err(error) => return tracing::warn!(%error, "prompt not remembered"),
        };
        match self
            .store
            .compare_and_set(&self.prompt_key(sent), 0, write)
            .await
        {
            Ok(CasOutcome::Written { .. }) => {}
            Ok(CasOutcome::Conflict { .. }) => {
                tracing::warn!(message = %sent.id, "prompt already remembered")
            }
            // The prompt is out; failing now would post it twice. Closing shows the outcome only.
            Err(error) => tracing::warn!(%error, message = %sent.id, "prompt not remembered"),
        }
    }

    async fn recall(&self, sent: &MessageRef) -> Option<Prompt> {
        let stored = self.store.get(&self.prompt_key(sent)).await.ok()??;
        serde_json::from_slice(&stored.value).ok()
    }

    fn prompt_key(&self, sent: &MessageRef) -> String {
        format!(
            "telegram:{}:prompt:{}:{}",
            self.bot_id, sent.conversation, sent.id
        )
    }

    async fn send_html(
        &self,
        html: String,
        markup: Option<teloxide::types::InlineKeyboardMarkup>,
    ) -> Result<MessageRef, DeliveryError> {
        let mut request = self
            .bot
            .send_message(ChatId(self.chat_id), html)
            .parse_mode(ParseMode::Html);
        if let Some(markup) = markup {
            request = request.reply_markup(markup);
        }
        self.call(request).await.map(|m| message_ref(&m))
    }
}

#[async_trait]
impl Channel for TelegramChannel {
    fn kind(&self) -> ChannelKind {
        CHANNEL
    }

    async fn send_prompt(&self, prompt: &Prompt) -> Result<MessageRef, DeliveryError> {
        let markup = render::keyboard(&prompt.choices).map_err(|label| DeliveryError::Invalid {
            channel: CHANNEL,
            reason: format!("the token of {label:?} does not fit in 64-byte callback_data"),
        })?;
        let sent = self
            .send_html(render::prompt_html(prompt, None), Some(markup))
            .await?;
        self.remember(prompt, &sent).await;
        Ok(sent)
    }

    async fn send_notice(&self, notice: &Notice) -> Result<MessageRef, DeliveryError> {
        self.send_html(render::notice_html(notice), None).await
    }

    async fn reply(&self, to: &MessageRef, text: &str) -> Result<MessageRef, DeliveryError> {
        let (chat, id) = parse_ref(to)?;
        if text.trim().is_empty() {
            return Err(invalid(
                "a reply needs text (Telegram refuses empty messages)",
            ));
        }
        let mut first = None;
        for part in render::split_units(text) {
            let request = self
                .bot
                .send_message(chat, part)
                .reply_parameters(ReplyParameters::new(id).allow_sending_without_reply());
            let sent = message_ref(&self.call(request).await?);
            first.get_or_insert(sent);
        }
        first.ok_or_else(|| invalid("a reply needs text"))
    }

    async fn close_prompt(&self, prompt: &MessageRef, outcome: &str) -> Result<(), DeliveryError> {
        let (chat, id) = parse_ref(prompt)?;
        // Buttons first: once they are gone nobody can press them again, even if the text
        // edit below fails. Without `reply_markup` the inline keyboard is removed.
        let request = self.bot.edit_message_reply_markup(chat, id);
        tolerate_not_modified(self.call_raw(self.timeout, request).await?, self.timeout)?;
        let html = match self.recall(prompt).await {
            Some(original) => render::prompt_html(&original, Some(outcome)),
            None => format!(
                "<b>{}</b>",
                render::escape(&render::shorten_units(outcome, render::MAX_TEXT, None))
            ),
        };
        let request = self
            .bot
            .edit_message_text(chat, id, html)
            .parse_mode(ParseMode::Html);
        tolerate_not_modified(self.call_raw(self.timeout, request).await?, self.timeout)
    }

    async fn health(&self) -> Health {
        match self.call(self.bot.get_me()).await {
            Ok(me) => {
                if let Some(username) = &me.user.username {
                    let _ = self.username.set(username.clone());
                }
                Health::Up
            }
            Err(error) => Health::Down {
                reason: error.to_string(),
            },
        }
    }
}

/// An edit that finds the message already as asked succeeded (closing twice is harmless).
fn tolerate_not_modified<R>(
    answer: Result<R, RequestError>,
    timeout: Duration,
) -> Result<(), DeliveryError> {
    match answer {
        Ok(_) => Ok(()),
        Err(error) if is_not_modified(&error) => Ok(()),
        Err(error) => Err(classify(&error, timeout)),
    }
}

fn message_ref(message: &Message) -> MessageRef {
    MessageRef {
        channel: CHANNEL,
        conversation: message.chat.id.0.to_string(),
        id: message.id.0.to_string(),
    }
}

fn parse_ref(message: &MessageRef) -> Result<(ChatId, MessageId), DeliveryError> {
    let chat = message.conversation.parse().ok().map(ChatId);
    let id = message.id.parse().ok().map(MessageId);
    match (message.channel, chat, id) {
        (CHANNEL, Some(chat), Some(id)) => Ok((chat, id)),
        _ => Err(invalid(&format!(
            "{}:{}/{} is not a Telegram message",
            message.channel, message.conversation, message.id
        ))),
    }
}

fn invalid(reason: &str) -> DeliveryError {
    DeliveryError::Invalid {
        channel: CHANNEL,
        reason: reason.to_owned(),
    }
}
