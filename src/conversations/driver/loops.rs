//! Background loops, run on exactly one replica at a time under the store lease
//! `lease:conversations`: every `conversations.sweep_interval` the sweeper walks the open
//! conversations and
//! - expires prompts whose time passed (buttons off everywhere, escalation, audit);
//! - resumes conversations whose effects were stored but not performed (a crash, a store
//!   outage, ops busy) once they are older than one lease period, so work a live replica is
//!   doing right now is not repeated;
//! - re-sends prompts that no channel holds (their delivery was interrupted), and calls ops
//!   again for an approved action whose execution or verification was interrupted;
//! - ends silences whose time passed by deciding again.

use std::future::Future;

use chrono::{DateTime, Utc};

use super::{Driver, DriverError, persist};
use crate::conversations::event::{Effect, Event};
use crate::conversations::lease::{Lease, run_while_leader};
use crate::conversations::state::{Conversation, State};
use crate::incidents::IncidentId;

impl Driver {
    /// Runs the sweeper until `shutdown`, whenever this replica holds the lease.
    pub async fn run_loops(&self, shutdown: impl Future<Output = ()>) {
        let settings = &self.inner.settings;
        let lease = Lease::new(
            self.inner.store.clone(),
            "conversations",
            Lease::holder_id(),
            settings.lease_ttl,
        );
        let driver = self.clone();
        run_while_leader(lease, settings.sweep_interval, shutdown, move || {
            let driver = driver.clone();
            async move {
                if let Err(error) = driver.sweep(Utc::now()).await {
                    let error = crate::telemetry::error_chain(&error);
                    tracing::warn!(%error, "conversation sweep failed; next tick retries");
                }
            }
        })
        .await;
    }

    /// One pass over every open conversation. Returns how many were acted on.
    ///
    /// # Errors
    /// When the open set cannot be read; a failure on one conversation is logged and the
    /// others go on.
    pub async fn sweep(&self, now: DateTime<Utc>) -> Result<usize, DriverError> {
        let store = self.inner.store.as_ref();
        let mut acted = 0;
        for id in store.members(persist::OPEN).await? {
            let id = IncidentId::from_stored(id);
            match self.sweep_one(&id, now).await {
                Ok(true) => acted += 1,
                Ok(false) => {}
                Err(error) => {
                    let error = crate::telemetry::error_chain(&error);
                    tracing::warn!(incident = %id, %error, "conversation not swept");
                }
            }
        }
        Ok(acted)
    }

    async fn sweep_one(&self, id: &IncidentId, now: DateTime<Utc>) -> Result<bool, DriverError> {
        let Some((conversation, _)) = persist::load(self.inner.store.as_ref(), id).await? else {
            return Ok(false);
        };
        match due(&conversation, now, self.grace()) {
            Due::Nothing => Ok(false),
            Due::Expire => {
                self.dispatch(id, Event::ExpiryReached).await?;
                Ok(true)
            }
            Due::Resume => {
                tracing::info!(incident = %id, state = %conversation.state.name(), "resuming stored effects");
                self.resume(id).await?;
                Ok(true)
            }
            Due::Perform(effect) => {
                tracing::info!(incident = %id, state = %conversation.state.name(), ?effect, "performing what the state owes");
                for event in self.perform(&conversation, &effect).await? {
                    self.dispatch(id, event).await?;
                }
                Ok(true)
            }
            Due::Decide => {
                self.decide(id).await?;
                Ok(true)
            }
        }
    }

    /// How old stored effects must be before another replica's work is presumed dead.
    fn grace(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.inner.settings.lease_ttl)
            .unwrap_or(chrono::Duration::seconds(30))
    }
}

/// What the sweeper owes a conversation.
#[derive(Debug, PartialEq, Eq)]
enum Due {
    Nothing,
    Expire,
    Resume,
    /// A state that owes work without a stored effect: a prompt no channel holds, or an
    /// approved action whose ops call was interrupted.
    Perform(Effect),
    Decide,
}

fn due(conversation: &Conversation, now: DateTime<Utc>, grace: chrono::Duration) -> Due {
    let stalled = now - conversation.updated_at >= grace;
    match &conversation.state {
        State::AwaitingApproval(awaiting) if now >= awaiting.expires_at => Due::Expire,
        _ if !conversation.effects.is_empty() && stalled => Due::Resume,
        State::AwaitingApproval(awaiting) if awaiting.messages.is_empty() && stalled => {
            Due::Perform(Effect::SendPrompt {
                prompt: awaiting.prompt,
                skip: awaiting.failed.clone(),
            })
        }
        // Ops runs each request id once and answers "in progress" while another call runs.
        State::Approved(running) | State::Executing(running) if stalled => {
            Due::Perform(Effect::Execute {
                request: running.pending.request.id.clone(),
            })
        }
        State::Verifying(running) if stalled => Due::Perform(Effect::Verify {
            request: running.pending.request.id.clone(),
        }),
        State::Suppressed {
            until: Some(until), ..
        } if now >= *until => Due::Decide,
        _ => Due::Nothing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incidents::model::{Environment, Severity};

    fn conversation(updated: DateTime<Utc>) -> Conversation {
        let mut c = Conversation::new(
            IncidentId::from_stored("inc-aaaaaaaaaaaa"),
            Environment::Staging,
            Severity::Warning,
            updated,
        );
        c.updated_at = updated;
        c
    }

    #[test]
    fn stored_effects_are_resumed_only_after_the_grace_period() {
        let now = Utc::now();
        let grace = chrono::Duration::seconds(30);
        let mut c = conversation(now - chrono::Duration::seconds(5));
        c.effects = vec![Effect::Repropose];
        assert_eq!(
            due(&c, now, grace),
            Due::Nothing,
            "a live replica may be at it"
        );
        c.updated_at = now - chrono::Duration::seconds(31);
        assert_eq!(due(&c, now, grace), Due::Resume);
    }

    #[test]
    fn an_interrupted_execution_is_called_again_once_stalled() {
        let now = Utc::now();
        let grace = chrono::Duration::seconds(30);
        let action = crate::ops::Action::parse(
            crate::domain::ActionKind::Restart,
            "payments/checkout",
            None,
        )
        .unwrap();
        let request = crate::ops::ActionRequest::new(IncidentId::from_stored("inc-a"), action);
        let running = crate::conversations::state::Running {
            pending: crate::conversations::state::Pending {
                action: crate::policy::decision::PlannedAction {
                    kind: crate::domain::ActionKind::Restart,
                    target: crate::policy::decision::ActionTarget {
                        kind: "Deployment".into(),
                        namespace: None,
                        name: "checkout".into(),
                    },
                    replicas: None,
                    runbook: None,
                },
                class: crate::policy::ActionClass::Recover,
                request: request.clone(),
                fingerprint: None,
            },
            approvers: vec!["alice".into()],
            messages: Vec::new(),
        };
        let mut c = conversation(now - chrono::Duration::seconds(5));
        c.state = State::Executing(running.clone());
        assert_eq!(due(&c, now, grace), Due::Nothing, "ops may still be at it");
        c.updated_at = now - chrono::Duration::minutes(1);
        assert_eq!(
            due(&c, now, grace),
            Due::Perform(Effect::Execute {
                request: request.id.clone()
            })
        );
        c.state = State::Verifying(running);
        assert_eq!(
            due(&c, now, grace),
            Due::Perform(Effect::Verify {
                request: request.id
            })
        );
    }

    #[test]
    fn a_quiet_conversation_owes_nothing() {
        let now = Utc::now();
        let c = conversation(now - chrono::Duration::hours(3));
        assert_eq!(due(&c, now, chrono::Duration::seconds(30)), Due::Nothing);
    }
}
