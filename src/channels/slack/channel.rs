//! [`SlackChannel`]: the [`Channel`] trait over the Web API.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use slack_morphism::prelude::*;

use super::api::SlackApi;
use super::render;
use crate::channels::{Channel, ChannelKind, DeliveryError, Health, MessageRef, Notice, Prompt};
use crate::store::{Store, Write};

/// How long after its expiry a prompt's body is kept for [`Channel::close_prompt`].
const BODY_KEPT_AFTER_EXPIRY: Duration = Duration::from_secs(24 * 3600);

/// Slack as a [`Channel`]: posts to one channel with the bot token.
///
/// A prompt's rendered body is kept in the store under `slack:prompt:<channel>:<ts>` so that
/// closing it (possibly on another replica) rewrites the same fields with the outcome.
#[derive(Clone)]
pub struct SlackChannel {
    api: SlackApi,
    channel: String,
    store: Arc<dyn Store>,
}

impl std::fmt::Debug for SlackChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlackChannel")
            .field("channel", &self.channel)
            .finish_non_exhaustive()
    }
}

impl SlackChannel {
    /// Posts to `channel` (`C…`) through `api`, keeping prompt bodies in `store`.
    pub fn new(api: SlackApi, channel: impl Into<String>, store: Arc<dyn Store>) -> Self {
        Self {
            api,
            channel: channel.into(),
            store,
        }
    }

    async fn post(
        &self,
        conversation: &str,
        content: SlackMessageContent,
        thread: Option<&str>,
    ) -> Result<MessageRef, DeliveryError> {
        let request = SlackApiChatPostMessageRequest::new(conversation.to_owned().into(), content)
            .opt_thread_ts(thread.map(|ts| ts.to_owned().into()));
        let posted = self.api.post_message(&request).await?;
        Ok(MessageRef {
            channel: ChannelKind::Slack,
            conversation: posted.channel.to_string(),
            id: posted.ts.to_string(),
        })
    }

    /// Best effort: without the kept body a closed prompt shows the outcome alone.
    async fn keep_body(&self, message: &MessageRef, prompt: &Prompt) {
        let Ok(value) = serde_json::to_vec(&render::prompt_body(prompt)) else {
            return;
        };
        let until_expiry = (prompt.expires_at - Utc::now())
            .to_std()
            .unwrap_or_default();
        let write = Write {
            value,
            ttl: Some(until_expiry + BODY_KEPT_AFTER_EXPIRY),
            effects: Vec::new(),
        };
        if let Err(error) = self
            .store
            .compare_and_set(&body_key(message), 0, write)
            .await
        {
            tracing::warn!(%error, message = %message.id, "slack: prompt body not kept");
        }
    }

    async fn kept_body(&self, message: &MessageRef) -> Option<Vec<SlackBlock>> {
        match self.store.get(&body_key(message)).await {
            Ok(found) => found.and_then(|doc| serde_json::from_slice(&doc.value).ok()),
            Err(error) => {
                tracing::warn!(%error, message = %message.id, "slack: prompt body unreadable");
                None
            }
        }
    }
}

impl SlackChannel {
    /// The thread's parent ts: Slack asks for the parent's ts, never a reply's, as `thread_ts`
    /// (https://api.slack.com/methods/chat.postMessage#arg_thread_ts).
    async fn thread_parent(&self, to: &MessageRef) -> String {
        match self.store.get(&parent_key(to)).await {
            Ok(Some(doc)) => String::from_utf8(doc.value).unwrap_or_else(|_| to.id.clone()),
            Ok(None) => to.id.clone(),
            Err(error) => {
                tracing::warn!(%error, message = %to.id, "slack: thread parent unknown");
                to.id.clone()
            }
        }
    }

    /// Best effort: a reply to this reply then lands in the same thread.
    async fn remember_parent(&self, reply: &MessageRef, parent: &str) {
        let write = Write {
            value: parent.as_bytes().to_vec(),
            ttl: Some(THREAD_KEPT),
            effects: Vec::new(),
        };
        if let Err(error) = self
            .store
            .compare_and_set(&parent_key(reply), 0, write)
            .await
        {
            tracing::warn!(%error, message = %reply.id, "slack: thread parent not kept");
        }
    }
}

/// How long a reply is remembered as belonging to its thread.
const THREAD_KEPT: Duration = Duration::from_secs(7 * 24 * 3600);

fn parent_key(message: &MessageRef) -> String {
    format!("slack:thread:{}:{}", message.conversation, message.id)
}

fn body_key(message: &MessageRef) -> String {
    format!("slack:prompt:{}:{}", message.conversation, message.id)
}

#[async_trait]
impl Channel for SlackChannel {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Slack
    }

    async fn send_prompt(&self, prompt: &Prompt) -> Result<MessageRef, DeliveryError> {
        let message = self
            .post(&self.channel, render::prompt(prompt)?, None)
            .await?;
        self.keep_body(&message, prompt).await;
        Ok(message)
    }

    async fn send_notice(&self, notice: &Notice) -> Result<MessageRef, DeliveryError> {
        self.post(&self.channel, render::notice(notice), None).await
    }

    /// Replies in the thread of `to`; a reference without a message id (a slash command's
    /// channel) gets a top-level message in that channel.
    async fn reply(&self, to: &MessageRef, text: &str) -> Result<MessageRef, DeliveryError> {
        if to.id.is_empty() {
            return self.post(&to.conversation, render::reply(text), None).await;
        }
        let parent = self.thread_parent(to).await;
        let message = self
            .post(&to.conversation, render::reply(text), Some(&parent))
            .await?;
        self.remember_parent(&message, &parent).await;
        Ok(message)
    }

    async fn close_prompt(&self, prompt: &MessageRef, outcome: &str) -> Result<(), DeliveryError> {
        let body = self.kept_body(prompt).await;
        let request = SlackApiChatUpdateRequest::new(
            prompt.conversation.clone().into(),
            render::closed(body, outcome),
            prompt.id.clone().into(),
        );
        self.api.update(&request).await.map(|_| ())
    }

    async fn health(&self) -> Health {
        match self.api.auth_test().await {
            Ok(_) => Health::Up,
            Err(error) => Health::Down {
                reason: error.to_string(),
            },
        }
    }
}
