//! Interaction and slash-command payloads — from the HTTP endpoints or Socket Mode, the same
//! JSON either way — parsed into [`Inbound`] events, deduplicated and queued.
//!
//! Payload shapes: `block_actions` (https://docs.slack.dev/reference/interaction-payloads/block_actions-payload)
//! and slash commands (https://docs.slack.dev/interactivity/implementing-slash-commands).

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use serde::Deserialize;
use serde_json::Value;

use super::render::{APPROVE_ACTION, REJECT_ACTION};
use crate::channels::{ChannelKind, Directory, Inbound, InboundKind, Inbox, InboxFull, MessageRef};
use crate::config::Secret;
use crate::store::{Claim, Store, StoreError};

/// Everything the inbound side needs; cheap to clone into handlers.
#[derive(Clone)]
pub struct SlackInbound {
    inner: Arc<Inner>,
}

struct Inner {
    signing_secret: Secret,
    directory: Directory,
    inbox: Inbox,
    store: Arc<dyn Store>,
    dedupe_ttl: Duration,
}

impl std::fmt::Debug for SlackInbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlackInbound")
            .field("dedupe_ttl", &self.inner.dedupe_ttl)
            .finish_non_exhaustive()
    }
}

/// What became of an accepted payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    /// Queued for the conversation layer.
    Submitted,
    /// A redelivery of something already queued; dropped.
    Duplicate,
}

/// Why a verified payload was not queued.
#[derive(Debug, thiserror::Error)]
pub enum InboundError {
    /// Not a payload this endpoint understands; a redelivery will not fix it.
    #[error("malformed Slack payload: {reason}")]
    Malformed { reason: String },
    /// The queue is full; Slack (or the human) should try again.
    #[error("the inbound queue is full")]
    Full(#[source] InboxFull),
    /// The dedupe claim could not be taken; try again.
    #[error("cannot record the delivery")]
    Store(#[source] StoreError),
}

impl InboundError {
    /// Whether a redelivery may succeed.
    pub fn is_transient(&self) -> bool {
        !matches!(self, InboundError::Malformed { .. })
    }
}

/// A parsed payload: the event and the identity of its delivery, when it has one.
struct Parsed {
    inbound: Inbound,
    delivery: Option<String>,
}

impl SlackInbound {
    /// Inbound Slack handling: `signing_secret` verifies HTTP requests, `directory` resolves
    /// senders, events go to `inbox`, and deliveries are remembered in `store` for `dedupe_ttl`.
    pub fn new(
        signing_secret: Secret,
        directory: Directory,
        inbox: Inbox,
        store: Arc<dyn Store>,
        dedupe_ttl: Duration,
    ) -> Self {
        let inner = Inner {
            signing_secret,
            directory,
            inbox,
            store,
            dedupe_ttl,
        };
        Self {
            inner: Arc::new(inner),
        }
    }

    pub(crate) fn signing_secret(&self) -> &Secret {
        &self.inner.signing_secret
    }

    /// Queues an interaction payload (the JSON of `payload=`, or a Socket Mode `interactive`
    /// envelope's payload).
    ///
    /// # Errors
    /// [`InboundError`]; nothing is queued.
    ///
    /// # Idempotency
    /// A redelivery of the same action (same message, `action_ts` and user) is
    /// [`Accepted::Duplicate`], across replicas, for `dedupe_ttl`.
    pub async fn accept_interaction(&self, payload: &Value) -> Result<Accepted, InboundError> {
        let parsed = interaction(payload, &self.inner.directory)?;
        self.submit(parsed).await
    }

    /// Queues a slash command (its form fields as a JSON object of strings).
    ///
    /// # Errors
    /// [`InboundError`]; nothing is queued.
    ///
    /// # Idempotency
    /// A redelivery of the same invocation (same `trigger_id`) is [`Accepted::Duplicate`].
    pub async fn accept_command(&self, payload: &Value) -> Result<Accepted, InboundError> {
        let parsed = command(payload, &self.inner.directory)?;
        self.submit(parsed).await
    }

    async fn submit(&self, parsed: Parsed) -> Result<Accepted, InboundError> {
        let claim = rand::random::<u64>().to_string();
        if let Some(key) = &parsed.delivery {
            let ttl = Some(self.inner.dedupe_ttl);
            let held = self.inner.store.claim(key, &claim, ttl).await;
            if let Claim::Held(_) = held.map_err(InboundError::Store)? {
                return Ok(Accepted::Duplicate);
            }
        }
        if let Err(full) = self.inner.inbox.submit(parsed.inbound) {
            // Give the delivery back, so that Slack's next attempt is not taken for a duplicate.
            if let Some(key) = &parsed.delivery {
                let _ = self.inner.store.release(key, &claim).await;
            }
            return Err(InboundError::Full(full));
        }
        Ok(Accepted::Submitted)
    }
}

#[derive(Deserialize)]
struct Interaction {
    #[serde(rename = "type")]
    kind: String,
    user: Option<Id>,
    container: Option<Container>,
    channel: Option<Id>,
    #[serde(default)]
    actions: Vec<Action>,
    trigger_id: Option<String>,
}

#[derive(Deserialize)]
struct Id {
    id: String,
}

#[derive(Deserialize)]
struct Container {
    message_ts: Option<String>,
    channel_id: Option<String>,
}

#[derive(Deserialize)]
struct Action {
    action_id: String,
    value: Option<String>,
    action_ts: Option<String>,
}

#[derive(Deserialize)]
struct Command {
    user_id: String,
    channel_id: String,
    command: String,
    #[serde(default)]
    text: String,
    trigger_id: Option<String>,
}

fn malformed(reason: impl Into<String>) -> InboundError {
    InboundError::Malformed {
        reason: reason.into(),
    }
}

fn interaction(payload: &Value, directory: &Directory) -> Result<Parsed, InboundError> {
    let event = Interaction::deserialize(payload).map_err(|e| malformed(e.to_string()))?;
    let user = event.user.as_ref().ok_or_else(|| malformed("no user"))?;
    let sender = directory.sender(ChannelKind::Slack, &user.id);
    let message = message_ref(&event);
    let action = event.actions.first();
    let kind = match action {
        _ if event.kind != "block_actions" => {
            ignored(format!("{} interactions are not served", event.kind))
        }
        None => ignored("block_actions without actions".into()),
        Some(action) => decision(action, message.clone()),
    };
    let delivery = match (action, &message) {
        (
            Some(Action {
                action_ts: Some(at),
                ..
            }),
            Some(m),
        ) => Some(format!(
            "slack:delivery:action:{}:{}:{at}:{}",
            m.conversation, m.id, user.id
        )),
        _ => event
            .trigger_id
            .map(|t| format!("slack:delivery:trigger:{t}")),
    };
    let inbound = Inbound {
        sender,
        received_at: Utc::now(),
        kind,
    };
    Ok(Parsed { inbound, delivery })
}

/// The message holding the button: `container.message_ts` in `container.channel_id` (or
/// `channel.id`).
fn message_ref(event: &Interaction) -> Option<MessageRef> {
    let container = event.container.as_ref()?;
    let conversation = container
        .channel_id
        .clone()
        .or_else(|| event.channel.as_ref().map(|c| c.id.clone()))?;
    Some(MessageRef {
        channel: ChannelKind::Slack,
        conversation,
        id: container.message_ts.clone()?,
    })
}

fn decision(action: &Action, message: Option<MessageRef>) -> InboundKind {
    let ours = [APPROVE_ACTION, REJECT_ACTION]
        .iter()
        .any(|kind| action.action_id == *kind || action.action_id.starts_with(&format!("{kind}-")));
    match &action.value {
        Some(token) if ours && !token.is_empty() => InboundKind::Decision {
            token: token.clone(),
            message,
        },
        _ => ignored(format!("action {:?} is not a choice", action.action_id)),
    }
}

fn ignored(reason: String) -> InboundKind {
    InboundKind::Ignored {
        reason: format!("slack: {reason}"),
    }
}

fn command(payload: &Value, directory: &Directory) -> Result<Parsed, InboundError> {
    let command = Command::deserialize(payload).map_err(|e| malformed(e.to_string()))?;
    let text = format!("{} {}", command.command, command.text)
        .trim()
        .to_owned();
    let reply_to = MessageRef {
        channel: ChannelKind::Slack,
        conversation: command.channel_id,
        id: String::new(),
    };
    let inbound = Inbound {
        sender: directory.sender(ChannelKind::Slack, &command.user_id),
        received_at: Utc::now(),
        kind: InboundKind::Command { text, reply_to },
    };
    let delivery = command
        .trigger_id
        .map(|t| format!("slack:delivery:trigger:{t}"));
    Ok(Parsed { inbound, delivery })
}
