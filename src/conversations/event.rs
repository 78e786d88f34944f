//! What happens to a conversation ([`Event`]) and what the driver must do about it
//! ([`Effect`]). Plain data: the driver turns the world into events, and effects into calls.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::state::{Pending, PromptTokens};
use crate::channels::{ChannelKind, MessageRef};
use crate::ops::{RequestId, Status};

/// What policy (and, for an approval, ops' proposal) made of the incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Plan {
    /// Page a human (manual mode, or an action the bot may not offer): the text says why.
    Page { text: String },
    /// Recommend an action; never run it.
    Suggest { text: String },
    /// Ask for approval with a fresh prompt.
    Ask {
        pending: Pending,
        expires_at: DateTime<Utc>,
        tokens: PromptTokens,
        /// Tokens of the follow-up prompts when more than one approval is needed.
        later: Vec<PromptTokens>,
        needed: usize,
    },
    /// Run the action now and report (auto-execute).
    Auto { pending: Pending, text: String },
    /// A duplicate within the suppression window: tell nobody anew.
    Suppress { reason: String },
}

/// A `/incident …` command that changes a conversation (approve and reject arrive as
/// [`Event::DecisionReceived`]; status, list and help change nothing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum HumanCommand {
    Ack,
    Escalate,
    Silence { until: DateTime<Utc> },
}

/// How an execution attempt ended, as ops reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionOutcome {
    pub request: RequestId,
    pub status: Status,
    /// Why it was refused, went stale or failed.
    pub reasons: Vec<String>,
}

/// Something that happened to an incident's conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Event {
    /// Policy decided anew for the incident (opened, reopened, or asked again).
    IncidentUpdated { plan: Box<Plan> },
    /// A channel accepted a copy of prompt `prompt`.
    PromptDelivered { prompt: u32, message: MessageRef },
    /// A plain alert about the incident was delivered; the first one becomes the thread when
    /// no prompt copy is.
    NoticeDelivered { message: MessageRef },
    /// A channel that accepted a copy reports it undelivered (WhatsApp status `failed`).
    PromptUndelivered { message: MessageRef, reason: String },
    /// A human's answer to prompt `prompt`; the driver has already checked the token (consumed
    /// it atomically) and the approver.
    DecisionReceived {
        prompt: u32,
        by: String,
        channel: ChannelKind,
        approves: bool,
    },
    /// The sweeper found the prompt's expiry passed.
    ExpiryReached,
    /// The driver picked up an approved action and is about to hand it to ops.
    ExecutionStarted,
    /// Ops answered the execution.
    ActionResult(ActionOutcome),
    /// Ops' verification under its deadline.
    VerificationVerdict { passed: bool, reasons: Vec<String> },
    /// Alertmanager says the alert resolved.
    AlertResolved,
    /// A human typed a command about this incident.
    HumanCommand { by: String, command: HumanCommand },
}

impl Event {
    /// A short name, for audit records and logs.
    pub fn name(&self) -> &'static str {
        match self {
            Event::IncidentUpdated { .. } => "incident updated",
            Event::PromptDelivered { .. } => "prompt delivered",
            Event::NoticeDelivered { .. } => "notice delivered",
            Event::PromptUndelivered { .. } => "prompt undelivered",
            Event::DecisionReceived { .. } => "decision received",
            Event::ExpiryReached => "expiry reached",
            Event::ExecutionStarted => "execution started",
            Event::ActionResult(_) => "action result",
            Event::VerificationVerdict { .. } => "verification verdict",
            Event::AlertResolved => "alert resolved",
            Event::HumanCommand { .. } => "human command",
        }
    }
}

/// The kind of audit record an [`Effect::Audit`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditNote {
    ApprovalRequested,
    ApprovalDecision,
    Escalation,
    /// An event the state could not take: ignored, and recorded.
    Ignored,
    Transition,
}

/// Work the driver performs after a transition is stored. Every effect is safe to perform
/// again after a crash: sends are at least once, ops calls are once per request id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Effect {
    /// Send prompt `prompt` (the conversation's current one) to the first healthy channel,
    /// skipping `skip`.
    SendPrompt { prompt: u32, skip: Vec<ChannelKind> },
    /// Take the buttons off these copies and show `outcome` instead.
    ClosePrompts {
        messages: Vec<MessageRef>,
        outcome: String,
    },
    /// Reply in the conversation's thread (a new notice when there is none).
    Reply { text: String },
    /// Post a plain alert (no buttons); it becomes the thread when there is none.
    Notify { title: String, text: String },
    /// Hand the approved action to ops.
    Execute { request: RequestId },
    /// Verify what ops applied.
    Verify { request: RequestId },
    /// Tell the escalation contacts that a human must act.
    Escalate { reason: String },
    /// Decide and propose again (the target changed since the prompt).
    Repropose,
    /// Write an audit record for the conversation.
    Audit { note: AuditNote, reason: String },
}
