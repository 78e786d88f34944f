//! Performing effects. Chat failures are logged and never stop the conversation (a human can
//! always ask `/incident status`); ops failures that may pass leave the effect pending for the
//! resumption loop.

use chrono::Utc;

use super::{Driver, DriverError, persist};
use crate::audit::Actor;
use crate::channels::{Notice, Router};
use crate::conversations::event::{ActionOutcome, Effect, Event};
use crate::conversations::state::{Conversation, State};
use crate::ops::{Approval, OpsError, Packet, RequestId, Status};

impl Driver {
    /// Performs one effect; returns the events it produced.
    pub(super) async fn perform(
        &self,
        conversation: &Conversation,
        effect: &Effect,
    ) -> Result<Vec<Event>, DriverError> {
        match effect {
            // Written with the transition.
            Effect::Audit { .. } => Ok(Vec::new()),
            Effect::SendPrompt { prompt, skip } => {
                self.send_prompt(conversation, *prompt, skip).await
            }
            Effect::ClosePrompts { messages, outcome } => {
                if let Some(router) = self.router() {
                    for (message, error) in router.close_everywhere(messages, outcome).await {
                        tracing::warn!(incident = %conversation.incident, channel = %message.channel, error = %error, "prompt copy not updated");
                    }
                }
                Ok(Vec::new())
            }
            Effect::Reply { text } => Ok(self.reply(conversation, text).await),
            Effect::Notify { title, text } => Ok(self.notify(conversation, title, text).await),
            Effect::Escalate { reason } => {
                let contacts = &self.inner.settings.escalate_to;
                let text = if contacts.is_empty() {
                    format!("{reason} A human must act.")
                } else {
                    format!("{reason} Escalating to {}.", contacts.join(", "))
                };
                Ok(self.notify(conversation, "Escalation", &text).await)
            }
            Effect::Execute { request } => self.execute(conversation, request).await,
            Effect::Verify { request } => self.verify(conversation, request).await,
            Effect::Repropose => {
                // Deciding dispatches again: boxed, as async recursion must be.
                Box::pin(self.decide(&conversation.incident)).await?;
                Ok(Vec::new())
            }
        }
    }

    fn router(&self) -> Option<&Router> {
        self.inner.router.as_deref()
    }

    async fn send_prompt(
        &self,
        conversation: &Conversation,
        n: u32,
        skip: &[crate::channels::ChannelKind],
    ) -> Result<Vec<Event>, DriverError> {
        let incident = &conversation.incident;
        let Some(router) = self.router() else {
            tracing::warn!(incident = %incident, "no chat channel: the prompt is not sent");
            return Ok(Vec::new());
        };
        let Some(prompt) = persist::load_prompt(self.inner.store.as_ref(), incident, n).await?
        else {
            tracing::warn!(incident = %incident, prompt = n, "prompt not found; nothing to send");
            return Ok(Vec::new());
        };
        if prompt.expires_at <= Utc::now() {
            return Ok(Vec::new());
        }
        let environment = conversation.environment;
        let mut delivered = router.send_prompt(&prompt, environment, skip).await;
        if delivered.is_err() {
            // Every channel failed this round: keep trying (and report) until it expires.
            delivered = router.deliver_prompt(&prompt, environment).await;
        }
        match delivered {
            Ok(delivered) => {
                self.inner.metrics.approvals_requested.inc();
                Ok(vec![Event::PromptDelivered {
                    prompt: n,
                    message: delivered.message,
                }])
            }
            Err(undelivered) => {
                tracing::error!(incident = %incident, prompt = n, attempts = ?undelivered.attempts, "prompt expired undelivered");
                Ok(Vec::new())
            }
        }
    }

    async fn reply(&self, conversation: &Conversation, text: &str) -> Vec<Event> {
        let Some(router) = self.router() else {
            return Vec::new();
        };
        match &conversation.thread {
            Some(thread) => {
                if let Err(error) = router.reply(thread, text).await {
                    tracing::warn!(incident = %conversation.incident, %error, "reply not delivered; posting a notice");
                    return self.notify(conversation, "Update", text).await;
                }
                Vec::new()
            }
            None => self.notify(conversation, "Update", text).await,
        }
    }

    async fn notify(&self, conversation: &Conversation, title: &str, text: &str) -> Vec<Event> {
        let Some(router) = self.router() else {
            tracing::info!(incident = %conversation.incident, %title, %text, "no chat channel: notice not sent");
            return Vec::new();
        };
        let notice = Notice {
            incident: conversation.incident.clone(),
            severity: conversation.severity,
            title: format!("{title}: {}", conversation.incident),
            body: text.to_owned(),
            details_url: None,
        };
        // One group per incident: notices about one incident are never merged with others'.
        let group = conversation.incident.to_string();
        match router
            .notify(&group, notice, conversation.environment)
            .await
        {
            Ok(Some(delivered)) => vec![Event::NoticeDelivered {
                message: delivered.message,
            }],
            Ok(None) => Vec::new(),
            Err(undelivered) => {
                tracing::error!(incident = %conversation.incident, attempts = ?undelivered.attempts, "notice undelivered");
                Vec::new()
            }
        }
    }

    /// Marks the action as executing, then hands it to ops (once per request id).
    async fn execute(
        &self,
        conversation: &Conversation,
        request: &RequestId,
    ) -> Result<Vec<Event>, DriverError> {
        let incident = &conversation.incident;
        let Some(ops) = &self.inner.ops else {
            return Ok(vec![failed(
                request,
                "no Kubernetes access: nothing can run",
            )]);
        };
        let Some((running, approvers)) = running_of(&conversation.state) else {
            return Ok(Vec::new());
        };
        super::fault::kill_point("after_approval");
        // Approved → executing is stored before anything is sent to the cluster (a resumed
        // conversation is executing already).
        if matches!(conversation.state, State::Approved(_)) {
            self.transition(incident, &Event::ExecutionStarted).await?;
        }
        let action_request = &running.request;
        let approval = Approval {
            actor: if running.fingerprint.is_some() {
                Actor::Human {
                    id: approvers.join(" and "),
                    channel: "chat".into(),
                }
            } else {
                self.inner.bot.clone()
            },
            fingerprint: running.fingerprint.clone(),
        };
        let started = std::time::Instant::now();
        match ops.apply(action_request, &approval).await {
            Ok(packet) => {
                super::fault::kill_point("after_apply");
                self.inner
                    .metrics
                    .approval_to_execution_latency
                    .observe(started.elapsed().as_secs_f64());
                if running.fingerprint.is_none() {
                    self.inner.metrics.auto_remediations.inc();
                }
                Ok(vec![outcome_of(&packet)])
            }
            Err(error) => self.ops_error(request, error),
        }
    }

    async fn verify(
        &self,
        conversation: &Conversation,
        request: &RequestId,
    ) -> Result<Vec<Event>, DriverError> {
        let Some(ops) = &self.inner.ops else {
            return Ok(Vec::new());
        };
        let packet = match ops.verify_applied(request).await {
            Ok(packet) => packet,
            Err(error) => return self.ops_error(request, error).map(|_| Vec::new()),
        };
        let passed = packet.status == Status::Verified;
        if !passed
            && conversation
                .state
                .pending()
                .is_some_and(|p| p.fingerprint.is_none())
        {
            self.inner.metrics.auto_remediations_failed.inc();
        }
        if let Some(took) = packet.verification.as_ref().map(|v| v.took_ms) {
            self.inner
                .metrics
                .verification_duration
                .observe(took as f64 / 1000.0);
        }
        Ok(vec![Event::VerificationVerdict {
            passed,
            reasons: packet.reasons.clone(),
        }])
    }

    /// An ops error that may pass leaves the effect pending; any other fails the action.
    fn ops_error(&self, request: &RequestId, error: OpsError) -> Result<Vec<Event>, DriverError> {
        if error.is_transient() || matches!(error, OpsError::InProgress { .. }) {
            return Err(error.into());
        }
        Ok(vec![failed(
            request,
            &crate::telemetry::error_chain(&error),
        )])
    }
}

fn running_of(state: &State) -> Option<(&crate::conversations::state::Pending, &[String])> {
    match state {
        State::Approved(running) | State::Executing(running) => {
            Some((&running.pending, &running.approvers))
        }
        _ => None,
    }
}

fn failed(request: &RequestId, why: &str) -> Event {
    Event::ActionResult(ActionOutcome {
        request: request.clone(),
        status: Status::Failed,
        reasons: vec![why.to_owned()],
    })
}

fn outcome_of(packet: &Packet) -> Event {
    Event::ActionResult(ActionOutcome {
        request: packet.request.id.clone(),
        status: packet.status,
        reasons: packet.reasons.clone(),
    })
}
