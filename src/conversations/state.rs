//! One conversation per incident: its state, as a data-carrying enum, and the document the
//! driver keeps in the store. Everything here is plain data; [`super::step`] is the only code
//! that changes it.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::event::Effect;
use crate::channels::{ChannelKind, MessageRef};
use crate::incidents::IncidentId;
use crate::incidents::model::{Environment, Severity};
use crate::ops::ActionRequest;
use crate::policy::action::ActionClass;
use crate::policy::decision::PlannedAction;

/// The action a conversation is about, as the prompt (or the auto-execute notice) showed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    pub action: PlannedAction,
    pub class: ActionClass,
    /// The ops request, made once when proposed: the action runs at most once under its id,
    /// and a retry writes exactly what the first attempt would have.
    pub request: ActionRequest,
    /// The target's fingerprint when proposed; a changed target makes an approval stale.
    /// `None` when no human is asked (auto-execute).
    pub fingerprint: Option<String>,
}

/// The two tokens of one prompt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromptTokens {
    pub approve: String,
    pub reject: String,
}

/// A prompt out for decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Awaiting {
    /// The prompt's number within the conversation (tokens are bound to it).
    pub prompt: u32,
    pub pending: Pending,
    pub expires_at: DateTime<Utc>,
    pub tokens: PromptTokens,
    /// Tokens of the follow-up prompts, one per further approval needed.
    pub later: Vec<PromptTokens>,
    /// Every copy of the prompt that a channel accepted.
    pub messages: Vec<MessageRef>,
    /// Channels that reported a copy undelivered; a re-send skips them.
    pub failed: Vec<ChannelKind>,
    /// People who approved so far (distinct), when more than one approval is needed.
    pub approvals: Vec<String>,
    /// How many distinct approvals the action needs (1 or 2).
    pub needed: usize,
}

/// An approved action on its way: approved, executing or verifying.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Running {
    pub pending: Pending,
    /// Who approved (people), or the bot's identity for an auto-execute decision.
    pub approvers: Vec<String>,
    /// The prompt copies to update with the outcome.
    pub messages: Vec<MessageRef>,
}

/// A state the conversation rests in until a human or the alert moves it on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Closed {
    pub at: DateTime<Utc>,
    /// The person who caused it, when one did.
    pub by: Option<String>,
    pub reason: String,
    /// Prompt copies of the conversation, updated again when the outcome changes.
    pub messages: Vec<MessageRef>,
    /// The action that ran or was asked about, if any.
    pub pending: Option<Pending>,
}

/// Where a conversation is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum State {
    /// Recorded and classified; policy has not asked anyone yet.
    Triaged,
    AwaitingApproval(Awaiting),
    Approved(Running),
    Executing(Running),
    Verifying(Running),
    Rejected(Closed),
    Expired(Closed),
    /// Verified PASS, or the alert resolved.
    Resolved(Closed),
    /// A human must act: policy said manual, a prompt expired, or someone escalated.
    Escalated(Closed),
    /// The action was refused, failed, or its verification said FAIL.
    Failed(Closed),
    /// Silenced by a human, or a duplicate policy suppressed. `until` ends a silence.
    Suppressed {
        #[serde(flatten)]
        closed: Closed,
        until: Option<DateTime<Utc>>,
    },
}

/// A state's name, for tables, metrics and chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StateName {
    Triaged,
    AwaitingApproval,
    Approved,
    Executing,
    Verifying,
    Rejected,
    Expired,
    Resolved,
    Escalated,
    Failed,
    Suppressed,
}

impl StateName {
    pub const ALL: [StateName; 11] = [
        StateName::Triaged,
        StateName::AwaitingApproval,
        StateName::Approved,
        StateName::Executing,
        StateName::Verifying,
        StateName::Rejected,
        StateName::Expired,
        StateName::Resolved,
        StateName::Escalated,
        StateName::Failed,
        StateName::Suppressed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StateName::Triaged => "triaged",
            StateName::AwaitingApproval => "awaiting approval",
            StateName::Approved => "approved",
            StateName::Executing => "executing",
            StateName::Verifying => "verifying",
            StateName::Rejected => "rejected",
            StateName::Expired => "expired",
            StateName::Resolved => "resolved",
            StateName::Escalated => "escalated",
            StateName::Failed => "failed",
            StateName::Suppressed => "suppressed",
        }
    }
}

impl fmt::Display for StateName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl State {
    pub fn name(&self) -> StateName {
        match self {
            State::Triaged => StateName::Triaged,
            State::AwaitingApproval(_) => StateName::AwaitingApproval,
            State::Approved(_) => StateName::Approved,
            State::Executing(_) => StateName::Executing,
            State::Verifying(_) => StateName::Verifying,
            State::Rejected(_) => StateName::Rejected,
            State::Expired(_) => StateName::Expired,
            State::Resolved(_) => StateName::Resolved,
            State::Escalated(_) => StateName::Escalated,
            State::Failed(_) => StateName::Failed,
            State::Suppressed { .. } => StateName::Suppressed,
        }
    }

    /// An action is approved and not finished: the state only moves on ops' answer.
    pub fn in_flight(&self) -> bool {
        matches!(
            self,
            State::Approved(_) | State::Executing(_) | State::Verifying(_)
        )
    }

    /// Every prompt copy the state knows of.
    pub fn messages(&self) -> &[MessageRef] {
        match self {
            State::Triaged => &[],
            State::AwaitingApproval(awaiting) => &awaiting.messages,
            State::Approved(running) | State::Executing(running) | State::Verifying(running) => {
                &running.messages
            }
            State::Rejected(closed)
            | State::Expired(closed)
            | State::Resolved(closed)
            | State::Escalated(closed)
            | State::Failed(closed)
            | State::Suppressed { closed, .. } => &closed.messages,
        }
    }

    /// The action asked about, approved or run, if any.
    pub fn pending(&self) -> Option<&Pending> {
        match self {
            State::Triaged => None,
            State::AwaitingApproval(awaiting) => Some(&awaiting.pending),
            State::Approved(running) | State::Executing(running) | State::Verifying(running) => {
                Some(&running.pending)
            }
            State::Rejected(closed)
            | State::Expired(closed)
            | State::Resolved(closed)
            | State::Escalated(closed)
            | State::Failed(closed)
            | State::Suppressed { closed, .. } => closed.pending.as_ref(),
        }
    }
}

/// The stored conversation of one incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    pub incident: IncidentId,
    pub environment: Environment,
    pub severity: Severity,
    pub state: State,
    /// How many transitions were applied; effects are named by it.
    pub seq: u64,
    /// How many prompts were made (the next one is `prompts + 1`).
    pub prompts: u32,
    /// Where replies go: the first prompt copy or notice delivered.
    pub thread: Option<MessageRef>,
    /// Who acknowledged the incident with `/incident ack`, if anyone.
    pub acked_by: Option<String>,
    /// Effects of the last transition not yet performed; a restart performs them.
    pub effects: Vec<Effect>,
    pub opened_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Conversation {
    /// A new conversation for a triaged incident.
    pub fn new(
        incident: IncidentId,
        environment: Environment,
        severity: Severity,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            incident,
            environment,
            severity,
            state: State::Triaged,
            seq: 0,
            prompts: 0,
            thread: None,
            acked_by: None,
            effects: Vec::new(),
            opened_at: now,
            updated_at: now,
        }
    }

    /// Whether the conversation is done with: resolved. Every other state stays on the
    /// resumption loop's list.
    pub fn finished(&self) -> bool {
        matches!(self.state, State::Resolved(_))
    }
}
