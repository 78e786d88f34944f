//! What humans send: answers (buttons, or `/incident approve|reject`), commands, and the chat
//! service's own delivery reports. Every refusal is told to the human and changes nothing.

use chrono::Utc;

use super::{Dispatched, Driver, DriverError, persist};
use crate::audit::{Actor, AuditEntry, AuditKind};
use crate::channels::{Inbound, InboundKind, MessageRef, Sender};
use crate::conversations::commands::Command;
use crate::conversations::event::{Event, HumanCommand};
use crate::conversations::state::State;
use crate::conversations::tokens::{Grant, RedeemError};
use crate::incidents::IncidentId;

impl Driver {
    /// Acts on one inbound event; failures are logged (the human can ask again).
    pub async fn handle_inbound(&self, inbound: Inbound) {
        let sender = &inbound.sender;
        let result = match &inbound.kind {
            InboundKind::Decision { token, message } => {
                self.answer(sender, token, None, message.as_ref()).await
            }
            InboundKind::Command { text, reply_to } => self.command(sender, text, reply_to).await,
            InboundKind::DeliveryFailed { message, reason } => {
                self.undelivered(message, reason).await
            }
            InboundKind::Ignored { reason } => {
                tracing::info!(sender = %sender.describe(), %reason, "inbound ignored");
                Ok(())
            }
        };
        if let Err(error) = result {
            let error = crate::telemetry::error_chain(&error);
            tracing::warn!(sender = %sender.describe(), %error, "inbound event not handled");
        }
    }

    /// An answer carrying `token`. Checks, in order: the token (without consuming it), the
    /// prompt is still open, the person may approve, a second approval is by someone else;
    /// only then is the token consumed, atomically.
    async fn answer(
        &self,
        sender: &Sender,
        token: &str,
        asked: Option<&IncidentId>,
        tell_at: Option<&MessageRef>,
    ) -> Result<(), DriverError> {
        let now = Utc::now();
        let grant = match self.inner.tokens.inspect(token, asked, now).await {
            Ok(grant) => grant,
            Err(RedeemError::Refused(refusal)) => {
                self.tell(tell_at, sender, &refusal.to_string()).await;
                return Ok(());
            }
            Err(RedeemError::Store(error)) => return Err(error.into()),
        };
        if let Err(why) = self.may_answer(sender, &grant).await? {
            self.refuse(sender, &grant, &why, tell_at).await;
            return Ok(());
        }
        let by = sender.person.clone().unwrap_or_default();
        let grant = match self.inner.tokens.redeem(token, asked, &by, now).await {
            Ok(grant) => grant,
            Err(RedeemError::Refused(refusal)) => {
                self.tell(tell_at, sender, &refusal.to_string()).await;
                return Ok(());
            }
            Err(RedeemError::Store(error)) => return Err(error.into()),
        };
        let event = Event::DecisionReceived {
            prompt: grant.prompt,
            by,
            channel: sender.channel,
            approves: grant.approves,
        };
        match self.dispatch(&grant.incident, event).await? {
            Dispatched::Taken(_) => {
                let metrics = &self.inner.metrics;
                if grant.approves {
                    metrics.approvals_granted.inc();
                } else {
                    metrics.approvals_denied.inc();
                }
            }
            Dispatched::Ignored(why) => self.tell(tell_at, sender, &why).await,
            Dispatched::NoConversation => {
                self.tell(tell_at, sender, "this incident has no conversation")
                    .await;
            }
        }
        Ok(())
    }

    /// `Err(why)` when this sender may not answer this grant now.
    async fn may_answer(
        &self,
        sender: &Sender,
        grant: &Grant,
    ) -> Result<Result<(), String>, DriverError> {
        let store = self.inner.store.as_ref();
        let Some((conversation, _)) = persist::load(store, &grant.incident).await? else {
            return Ok(Err(format!("{} has no conversation", grant.incident)));
        };
        let State::AwaitingApproval(awaiting) = &conversation.state else {
            let state = &conversation.state;
            return Ok(Err(match decided_by(state) {
                Some(by) => format!(
                    "this prompt was already answered by {by} ({} is {})",
                    grant.incident,
                    state.name()
                ),
                None => format!(
                    "this prompt is closed: {} is {}",
                    grant.incident,
                    state.name()
                ),
            }));
        };
        if awaiting.prompt != grant.prompt {
            return Ok(Err("this prompt was replaced by a newer one".into()));
        }
        if let Err(unauthorized) = self.inner.approvers.authorize(
            sender.person.as_deref(),
            awaiting.pending.class,
            conversation.environment,
        ) {
            return Ok(Err(unauthorized.to_string()));
        }
        let person = sender.person.as_deref().unwrap_or_default();
        if grant.approves && awaiting.approvals.iter().any(|a| a == person) {
            return Ok(Err(format!(
                "{person} already approved; a second, different approver is needed"
            )));
        }
        Ok(Ok(()))
    }

    /// Tells the human why, and audits the refused decision.
    async fn refuse(
        &self,
        sender: &Sender,
        grant: &Grant,
        why: &str,
        tell_at: Option<&MessageRef>,
    ) {
        let verb = if grant.approves {
            "approval"
        } else {
            "rejection"
        };
        let entry = AuditEntry::new(
            AuditKind::ApprovalDecision,
            Actor::Human {
                id: sender.describe(),
                channel: sender.channel.to_string(),
            },
            format!("{verb} refused: {why}"),
        )
        .with_action(grant.action.clone())
        .with_target(grant.target.clone());
        if let Err(error) = self.inner.audit.record(&grant.incident, entry).await {
            let error = crate::telemetry::error_chain(&error);
            tracing::warn!(incident = %grant.incident, %error, "refused decision not audited");
        }
        self.tell(tell_at, sender, &format!("Not accepted: {why}."))
            .await;
    }

    /// Answers a human where they spoke.
    pub(super) async fn tell(&self, at: Option<&MessageRef>, sender: &Sender, text: &str) {
        let (Some(router), Some(at)) = (self.inner.router.as_deref(), at) else {
            tracing::info!(sender = %sender.describe(), %text, "answer not delivered: nowhere to say it");
            return;
        };
        let text = match &sender.person {
            Some(person) => format!("{person}: {text}"),
            None => text.to_owned(),
        };
        if let Err(error) = router.reply(at, &text).await {
            tracing::warn!(sender = %sender.describe(), %error, "answer not delivered");
        }
    }

    async fn undelivered(&self, message: &MessageRef, reason: &str) -> Result<(), DriverError> {
        let store = self.inner.store.as_ref();
        let Some(incident) = persist::incident_of(store, message).await? else {
            tracing::info!(channel = %message.channel, id = %message.id, %reason, "an undelivered message that is no prompt copy");
            return Ok(());
        };
        let event = Event::PromptUndelivered {
            message: message.clone(),
            reason: reason.to_owned(),
        };
        self.dispatch(&incident, event).await.map(|_| ())
    }

    async fn command(
        &self,
        sender: &Sender,
        text: &str,
        reply_to: &MessageRef,
    ) -> Result<(), DriverError> {
        let silence_max = self.inner.settings.silence_max;
        let command = match Command::parse(text).and_then(|c| c.within(silence_max)) {
            Ok(command) => command,
            Err(error) => {
                self.tell(Some(reply_to), sender, &error.to_string()).await;
                return Ok(());
            }
        };
        let answer = match command {
            Command::Help => crate::conversations::commands::help_text(),
            Command::List => self.list().await?,
            Command::Status { id } => match id {
                Some(id) => self.status(&id).await?,
                None => self.list().await?,
            },
            Command::Approve { id } => {
                return self.typed_answer(sender, &id, true, reply_to).await;
            }
            Command::Reject { id } => {
                return self.typed_answer(sender, &id, false, reply_to).await;
            }
            Command::Ack { id } => self.human(sender, &id, HumanCommand::Ack).await?,
            Command::Escalate { id } => self.human(sender, &id, HumanCommand::Escalate).await?,
            Command::Silence { id, duration } => {
                let until = Utc::now()
                    + chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::zero());
                self.human(sender, &id, HumanCommand::Silence { until })
                    .await?
            }
        };
        self.tell(Some(reply_to), sender, &answer).await;
        Ok(())
    }

    /// `/incident approve|reject <id>`: the open prompt's own token, through the same checks.
    async fn typed_answer(
        &self,
        sender: &Sender,
        id: &IncidentId,
        approves: bool,
        reply_to: &MessageRef,
    ) -> Result<(), DriverError> {
        let store = self.inner.store.as_ref();
        let token = match persist::load(store, id).await? {
            Some((conversation, _)) => match conversation.state {
                State::AwaitingApproval(awaiting) if approves => awaiting.tokens.approve,
                State::AwaitingApproval(awaiting) => awaiting.tokens.reject,
                state => {
                    let text = format!("{id} has no open prompt (it is {})", state.name());
                    self.tell(Some(reply_to), sender, &text).await;
                    return Ok(());
                }
            },
            None => {
                self.tell(Some(reply_to), sender, &format!("no incident {id}"))
                    .await;
                return Ok(());
            }
        };
        self.answer(sender, &token, Some(id), Some(reply_to)).await
    }

    /// Ack, escalate or silence, by a configured person.
    async fn human(
        &self,
        sender: &Sender,
        id: &IncidentId,
        command: HumanCommand,
    ) -> Result<String, DriverError> {
        let Some(person) = sender.person.clone() else {
            return Ok("you are not in channels.people, so you cannot change incidents".into());
        };
        let event = Event::HumanCommand {
            by: person,
            command,
        };
        Ok(match self.dispatch(id, event).await? {
            Dispatched::Taken(conversation) => {
                format!("{id} is now {}.", conversation.state.name())
            }
            Dispatched::Ignored(why) => format!("Nothing changed: {why}."),
            Dispatched::NoConversation => format!("no incident {id}"),
        })
    }
}

/// Who answered the prompt that led to `state`, when a person did.
fn decided_by(state: &State) -> Option<String> {
    match state {
        State::Approved(running) | State::Executing(running) | State::Verifying(running) => {
            Some(running.approvers.join(" and "))
        }
        State::Rejected(closed) => closed.by.clone(),
        _ => None,
    }
}
