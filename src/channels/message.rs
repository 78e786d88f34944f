//! What is sent to humans and what comes back, independent of any chat API.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::incidents::IncidentId;
use crate::incidents::model::Severity;

/// A chat channel the bot can speak on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    Slack,
    Telegram,
    #[serde(rename = "whatsapp")]
    WhatsApp,
    Console,
}

impl ChannelKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Slack => "slack",
            ChannelKind::Telegram => "telegram",
            ChannelKind::WhatsApp => "whatsapp",
            ChannelKind::Console => "console",
        }
    }
}

impl fmt::Display for ChannelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A message the bot sent, as its channel names it: enough to update it or reply in its thread.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MessageRef {
    pub channel: ChannelKind,
    /// Where it was posted: a Slack channel id, a Telegram chat id, a WhatsApp phone number.
    pub conversation: String,
    /// The message id: a Slack `ts`, a Telegram `message_id`, a WhatsApp `wamid`.
    pub id: String,
}

/// One answer button of a prompt. The token is opaque to channels: they carry it out in the
/// button and hand it back unchanged in [`InboundKind::Decision`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    /// Button text, e.g. "Approve".
    pub label: String,
    /// The one-time token; at most 43 URL-safe characters, so it fits Telegram's 64-byte
    /// `callback_data` with room for a prefix.
    pub token: String,
    /// Whether the button confirms a change (rendered as primary) or declines it.
    pub approves: bool,
}

/// An approval prompt: every field of the design page, in every channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prompt {
    pub incident: IncidentId,
    pub severity: Severity,
    /// One line: "Approve rollback of deployment checkout in payments to revision 41".
    pub title: String,
    /// The action, e.g. "rollback".
    pub action: String,
    /// cluster/namespace/kind/name.
    pub target: String,
    pub why_now: String,
    pub impact: String,
    /// Rollback, or the next fallback if this does not help.
    pub fallback: String,
    pub expires_at: DateTime<Utc>,
    pub cause: String,
    /// "high", "medium" or "low".
    pub confidence: String,
    pub evidence: String,
    /// One line per guardrail: "pass: min ready replicas (2 of 3 ready)".
    pub guardrails: Vec<String>,
    pub verification: String,
    /// What the server-side dry run says will change.
    pub dry_run: String,
    pub choices: Vec<Choice>,
    /// Where the full prompt can be read when a channel has to shorten it.
    pub details_url: Option<String>,
}

impl Prompt {
    /// The labelled fields in the order every channel shows them, after the title.
    pub fn fields(&self) -> Vec<(&'static str, String)> {
        vec![
            ("Action", self.action.clone()),
            ("Target", self.target.clone()),
            ("Why now", self.why_now.clone()),
            ("Impact", self.impact.clone()),
            ("Fallback", self.fallback.clone()),
            ("Expires", self.expires_at.format("%H:%M UTC").to_string()),
            ("Cause", self.cause.clone()),
            ("Confidence", self.confidence.clone()),
            ("Evidence", self.evidence.clone()),
            ("Guardrails", self.guardrails.join("\n")),
            ("Verification", self.verification.clone()),
            ("Dry run", self.dry_run.clone()),
        ]
    }

    /// The whole prompt as plain text: the title, then one `Label: value` paragraph per field.
    pub fn plain_text(&self) -> String {
        let mut text = self.title.clone();
        for (label, value) in self.fields() {
            text.push_str(&format!("\n{label}: {value}"));
        }
        text
    }
}

/// A plain alert: no buttons.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    pub incident: IncidentId,
    pub severity: Severity,
    pub title: String,
    pub body: String,
    pub details_url: Option<String>,
}

/// Who sent an inbound event: the channel's own user id and the person it maps to, if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sender {
    pub channel: ChannelKind,
    /// Slack `U…`, Telegram user id, WhatsApp phone number.
    pub user_id: String,
    /// The configured person this user id maps to; `None` is an unknown user.
    pub person: Option<String>,
}

impl Sender {
    /// "alice (slack U123)" or "unknown (telegram 42)".
    pub fn describe(&self) -> String {
        let who = self.person.as_deref().unwrap_or("unknown");
        format!("{who} ({} {})", self.channel, self.user_id)
    }
}

/// Something a human (or the chat service) sent the bot, verified and parsed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inbound {
    pub sender: Sender,
    pub received_at: DateTime<Utc>,
    pub kind: InboundKind,
}

/// What an inbound event asks for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum InboundKind {
    /// A button press (or a text reply naming a token): the token, unchanged, and the message
    /// that carried the button.
    Decision {
        token: String,
        message: Option<MessageRef>,
    },
    /// A command: `/incident status inc-…` and friends; `reply_to` is where to answer.
    Command { text: String, reply_to: MessageRef },
    /// The chat service reports that a message it accepted was not delivered (WhatsApp status
    /// `failed`): the router counts it as a delivery failure.
    DeliveryFailed { message: MessageRef, reason: String },
    /// A verified request the bot does not serve (an unknown chat, say); kept for the audit.
    Ignored { reason: String },
}
