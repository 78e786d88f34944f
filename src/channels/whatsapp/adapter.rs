//! The WhatsApp [`Channel`]: every prompt, alert and reply goes to each configured recipient,
//! as an interactive or text message inside the recipient's 24-hour window and as a template
//! outside it.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::Utc;
use futures::future::join_all;

use crate::channels::{Channel, ChannelKind, DeliveryError, Health, MessageRef, Notice, Prompt};
use crate::config::WhatsAppSettings;
use crate::store::Store;

use super::client::{ClientError, GraphClient};
use super::errors::Failure;
use super::ledger::{Delivery, Ledger, Sent};
use super::render;
use super::wire::{Content, OutboundMessage};

/// How long an alert's messages are remembered for replies in its thread.
const NOTICE_MEMORY: chrono::Duration = chrono::Duration::days(3);

/// The WhatsApp Cloud API channel.
///
/// # Guarantees
/// Inside a recipient's customer-service window (a message from them within 24 hours, as
/// recorded by the webhook in the shared store) prompts are interactive reply-button messages;
/// outside it, and whenever WhatsApp answers 131047, they are the approval template (or the
/// alert template with the details link when none is configured). WhatsApp cannot edit a sent
/// message, so [`Channel::close_prompt`] replies to the prompt with the outcome; its buttons
/// stay visible but act no more, because the conversation layer has consumed their tokens.
///
/// A send succeeds when at least one recipient got the message (each failure is logged); the
/// returned [`MessageRef`] names the first recipient's copy, and replies to it reach every
/// recipient's copy.
///
/// # Errors
/// When no recipient got the message, the first recipient's [`DeliveryError`].
pub struct WhatsApp {
    client: GraphClient,
    ledger: Ledger,
    settings: Arc<WhatsAppSettings>,
}

impl WhatsApp {
    /// The channel for `settings`, keeping its state in `store`.
    ///
    /// # Errors
    /// [`ClientError`] when the HTTP client cannot be built.
    pub fn new(settings: &WhatsAppSettings, store: Arc<dyn Store>) -> Result<Self, ClientError> {
        Ok(Self {
            client: GraphClient::new(settings)?,
            ledger: Ledger::new(store),
            settings: Arc::new(settings.clone()),
        })
    }

    /// Sends `in_window` to `recipient` when the window is open, else (or on 131047) the
    /// template `outside()`.
    async fn deliver(
        &self,
        recipient: &str,
        in_window: Content,
        outside: impl FnOnce() -> Content,
        quoting: Option<&str>,
    ) -> Result<Delivery, DeliveryError> {
        let message = |content| {
            let message = OutboundMessage::to(recipient, content);
            match quoting {
                Some(id) => message.replying_to(id),
                None => message,
            }
        };
        if self.window_open(recipient).await {
            match self.client.send(&message(in_window)).await {
                Ok(id) => return Ok(delivered(recipient, id)),
                Err(Failure::Delivery(error)) => return Err(error),
                Err(Failure::WindowClosed) => {
                    tracing::info!(
                        recipient,
                        "whatsapp window closed (131047); sending the template"
                    );
                }
            }
        }
        match self.client.send(&message(outside())).await {
            Ok(id) => Ok(delivered(recipient, id)),
            Err(Failure::Delivery(error)) => Err(error),
            Err(Failure::WindowClosed) => Err(DeliveryError::Refused {
                channel: ChannelKind::WhatsApp,
                code: "graph_131047".into(),
            }),
        }
    }

    /// A window the store cannot confirm is treated as closed: a template always delivers.
    async fn window_open(&self, recipient: &str) -> bool {
        self.ledger
            .window_open(recipient)
            .await
            .unwrap_or_else(|error| {
                tracing::warn!(%error, "whatsapp window unknown; sending a template");
                false
            })
    }

    /// Remembers what was sent; a failure only costs text replies their mapping.
    async fn remember(&self, sent: &Sent, until: chrono::DateTime<Utc>) {
        if let Err(error) = self.ledger.remember(sent, until, Utc::now()).await {
            tracing::warn!(%error, "whatsapp: cannot remember sent messages");
        }
    }

    /// Replies with `text` to every delivery of the message `to`.
    async fn reply_all(&self, to: &MessageRef, text: &str) -> Result<MessageRef, DeliveryError> {
        let known = self.ledger.sent(&to.id).await.unwrap_or_else(|error| {
            tracing::warn!(%error, "whatsapp: replying to one recipient only");
            None
        });
        let targets = match known {
            Some(sent) => sent.deliveries,
            None => vec![Delivery {
                recipient: to.conversation.clone(),
                id: to.id.clone(),
            }],
        };
        let sends = targets.iter().map(|target| {
            let in_window = render::text_message(text, None);
            let outside = || render::alert_template("Update", text, None, &self.settings.templates);
            self.deliver(&target.recipient, in_window, outside, Some(&target.id))
        });
        first_success(join_all(sends).await).map(|(reference, _)| reference)
    }
}

#[async_trait]
impl Channel for WhatsApp {
    fn kind(&self) -> ChannelKind {
        ChannelKind::WhatsApp
    }

    async fn send_prompt(&self, prompt: &Prompt) -> Result<MessageRef, DeliveryError> {
        let templates = &self.settings.templates;
        let outside = || match &templates.approval {
            Some(name) => render::approval_template(prompt, name, templates),
            None => render::prompt_as_alert(prompt, templates),
        };
        let sends = self.settings.recipients.iter().map(|recipient| {
            self.deliver(recipient, render::interactive_prompt(prompt), outside, None)
        });
        let (reference, deliveries) = first_success(join_all(sends).await)?;
        let sent = Sent {
            deliveries,
            choices: prompt.choices.clone(),
        };
        self.remember(&sent, prompt.expires_at).await;
        Ok(reference)
    }

    async fn send_notice(&self, notice: &Notice) -> Result<MessageRef, DeliveryError> {
        let title = notice.title.as_str();
        let outside = || {
            let link = notice.details_url.as_deref();
            render::alert_template(title, &notice.body, link, &self.settings.templates)
        };
        let sends =
            self.settings.recipients.iter().map(|recipient| {
                self.deliver(recipient, render::notice_text(notice), outside, None)
            });
        let (reference, deliveries) = first_success(join_all(sends).await)?;
        let sent = Sent {
            deliveries,
            choices: Vec::new(),
        };
        self.remember(&sent, Utc::now() + NOTICE_MEMORY).await;
        Ok(reference)
    }

    async fn reply(&self, to: &MessageRef, text: &str) -> Result<MessageRef, DeliveryError> {
        self.reply_all(to, text).await
    }

    async fn close_prompt(&self, prompt: &MessageRef, outcome: &str) -> Result<(), DeliveryError> {
        let text = format!("{outcome}\nThis prompt is closed; its buttons no longer act.");
        self.reply_all(prompt, &text).await.map(|_| ())
    }

    async fn health(&self) -> Health {
        match self.client.phone_number().await {
            Ok(()) => Health::Up,
            Err(error) => Health::Down {
                reason: error.to_string(),
            },
        }
    }
}

fn delivered(recipient: &str, id: String) -> Delivery {
    Delivery {
        recipient: recipient.to_owned(),
        id,
    }
}

/// The first delivery as the message's reference, and every delivery; the first error when
/// none went through (each failure is logged).
fn first_success(
    results: Vec<Result<Delivery, DeliveryError>>,
) -> Result<(MessageRef, Vec<Delivery>), DeliveryError> {
    let mut deliveries = Vec::new();
    let mut first_error = None;
    for result in results {
        match result {
            Ok(delivery) => deliveries.push(delivery),
            Err(error) => {
                tracing::warn!(%error, "whatsapp delivery to one recipient failed");
                first_error.get_or_insert(error);
            }
        }
    }
    let Some(first) = deliveries.first() else {
        return Err(first_error.unwrap_or_else(|| DeliveryError::Invalid {
            channel: ChannelKind::WhatsApp,
            reason: "no recipients configured".into(),
        }));
    };
    let reference = MessageRef {
        channel: ChannelKind::WhatsApp,
        conversation: first.recipient.clone(),
        id: first.id.clone(),
    };
    Ok((reference, deliveries))
}
