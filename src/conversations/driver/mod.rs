//! The driver: the only place that joins incidents, policy, ops and the chat channels. It turns
//! what happens into [`Event`]s, stores each transition with compare-and-set *before* acting
//! on it, then performs the transition's effects and clears them.
//!
//! # Crash safety
//! A transition is stored together with the effects it asks for. A crash after the store and
//! before the effects are cleared leaves them in the document, and the resumption loop
//! ([`loops`]) performs them again: chat sends are at least once, ops calls are once per
//! request id (ops keeps its own record), audit records were written with the transition.

mod decide;
mod effects;
pub mod fault;
mod inbound;
pub mod loops;
pub mod persist;
mod status;

pub use self::status::describe;

use std::collections::VecDeque;
use std::sync::Arc;

use chrono::Utc;

use super::EvidenceCollector;
use super::approvers::Approvers;
use super::event::Event;
use super::state::Conversation;
use super::step::step;
use super::tokens::Tokens;
use crate::audit::{Actor, AuditLog};
use crate::channels::Router;
use crate::config::{ConversationSettings, Settings};
use crate::incidents::{IncidentId, IncidentService};
use crate::metrics::Metrics;
use crate::ops::Ops;
use crate::policy::Policy;
use crate::policy::record::PolicyAudit;
use crate::store::{CasOutcome, Store, StoreError};

/// How often a transition is retried after losing a compare-and-set race.
const MAX_ATTEMPTS: usize = 32;

/// Why the driver could not go on. The conversation stays as stored; the resumption loop
/// picks it up again.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    #[error("the state store failed")]
    Store(#[from] StoreError),
    #[error("conversation of {0} kept changing under {MAX_ATTEMPTS} attempts")]
    Contended(IncidentId),
    #[error("no approval token could be minted")]
    Mint(#[from] super::tokens::MintError),
    #[error("ops could not run now: {0}")]
    Ops(#[from] crate::ops::OpsError),
}

/// What a dispatched event did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dispatched {
    Taken(Box<Conversation>),
    /// The state could not take it: why (audited).
    Ignored(String),
    /// There is no conversation for the incident.
    NoConversation,
}

/// What the driver is built from.
pub struct Parts {
    pub store: Arc<dyn Store>,
    pub incidents: Arc<IncidentService>,
    pub policy: Arc<Policy>,
    pub ops: Option<Ops>,
    pub evidence: Option<EvidenceCollector>,
    pub router: Option<Arc<Router>>,
    pub metrics: Arc<Metrics>,
}

/// The conversation driver; cheap to clone.
#[derive(Clone)]
pub struct Driver {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    incidents: Arc<IncidentService>,
    policy: Arc<Policy>,
    policy_audit: PolicyAudit,
    audit: AuditLog,
    ops: Option<Ops>,
    evidence: Option<EvidenceCollector>,
    router: Option<Arc<Router>>,
    tokens: Tokens,
    approvers: Approvers,
    settings: ConversationSettings,
    cluster: String,
    retention: std::time::Duration,
    suppression_window: std::time::Duration,
    metrics: Arc<Metrics>,
    bot: Actor,
}

impl Driver {
    pub fn new(parts: Parts, settings: &Settings) -> Self {
        let conversations = &settings.conversations;
        let approvers = Approvers::new(
            &conversations.approvers,
            &conversations.second_approver,
            &settings.channels.people,
        );
        Self {
            inner: Arc::new(Inner {
                policy_audit: PolicyAudit::new(parts.store.clone()),
                tokens: Tokens::new(parts.store.clone()),
                audit: AuditLog::new(parts.store.clone()),
                bot: Actor::Bot {
                    identity: settings.ops.identity.clone(),
                },
                store: parts.store,
                incidents: parts.incidents,
                policy: parts.policy,
                ops: parts.ops,
                evidence: parts.evidence,
                router: parts.router,
                approvers,
                settings: conversations.clone(),
                cluster: settings.cluster.name.clone(),
                retention: settings.incidents.retention,
                suppression_window: settings.incidents.suppression_window,
                metrics: parts.metrics,
            }),
        }
    }

    /// Applies `event` to the incident's conversation and performs what follows, including
    /// the events the effects produce (an execution's result, a verification's verdict).
    ///
    /// # Errors
    /// When the store fails or ops cannot run now; what was stored stays, and the resumption
    /// loop performs the rest.
    pub async fn dispatch(
        &self,
        incident: &IncidentId,
        event: Event,
    ) -> Result<Dispatched, DriverError> {
        let mut queue = VecDeque::from([event]);
        let mut first = None;
        let mut settled = Vec::new();
        while let Some(event) = queue.pop_front() {
            let outcome = self.transition(incident, &event).await?;
            if let Dispatched::Taken(conversation) = &outcome {
                queue.extend(self.perform_all(conversation).await?);
                settled.push(conversation.seq);
            }
            first.get_or_insert(outcome);
        }
        // Effects whose follow-up events were all stored are replaced already; the others
        // (their follow-ups were ignored) are cleared now.
        for seq in settled {
            self.clear_effects(incident, seq).await?;
        }
        Ok(first.unwrap_or(Dispatched::NoConversation))
    }

    /// Performs the effects a stored conversation still carries (after a crash, say), then
    /// whatever follows from them.
    ///
    /// # Errors
    /// As [`Driver::dispatch`].
    pub async fn resume(&self, incident: &IncidentId) -> Result<(), DriverError> {
        let Some((conversation, _)) = persist::load(self.inner.store.as_ref(), incident).await?
        else {
            return Ok(());
        };
        if conversation.effects.is_empty() {
            return Ok(());
        }
        let follow = self.perform_all(&conversation).await?;
        for event in follow {
            self.dispatch(incident, event).await?;
        }
        self.clear_effects(incident, conversation.seq).await
    }

    /// Loads, steps and stores: the event is applied exactly once, or ignored and audited.
    async fn transition(
        &self,
        incident: &IncidentId,
        event: &Event,
    ) -> Result<Dispatched, DriverError> {
        let store = self.inner.store.as_ref();
        for _ in 0..MAX_ATTEMPTS {
            let Some((current, version)) = persist::load(store, incident).await? else {
                return Ok(Dispatched::NoConversation);
            };
            let transition = step(&current, event, Utc::now());
            if let Some(why) = transition.ignored {
                self.audit_ignored(incident, &why).await;
                return Ok(Dispatched::Ignored(why));
            }
            let mut next = transition.conversation;
            next.effects = transition.effects;
            match persist::save(store, &next, version, self.inner.retention, &self.inner.bot)
                .await?
            {
                CasOutcome::Written { .. } => {
                    tracing::info!(incident = %incident, event = event.name(), state = %next.state.name(), "conversation moved");
                    return Ok(Dispatched::Taken(Box::new(next)));
                }
                CasOutcome::Conflict { .. } => continue,
            }
        }
        Err(DriverError::Contended(incident.clone()))
    }

    /// Creates the conversation of an incident if it has none.
    async fn ensure(&self, conversation: Conversation) -> Result<(), DriverError> {
        // Version 0 creates: a conflict means it exists already (perhaps made by another
        // replica just now), which is as good.
        persist::save(
            self.inner.store.as_ref(),
            &conversation,
            0,
            self.inner.retention,
            &self.inner.bot,
        )
        .await?;
        Ok(())
    }

    async fn audit_ignored(&self, incident: &IncidentId, why: &str) {
        let entry = persist::audit_entry(
            super::event::AuditNote::Ignored,
            why,
            self.inner.bot.clone(),
            Utc::now(),
        );
        if let Err(error) = self.inner.audit.record(incident, entry).await {
            let error = crate::telemetry::error_chain(&error);
            tracing::warn!(incident = %incident, %error, "ignored event not audited");
        }
        tracing::info!(incident = %incident, %why, "conversation event ignored");
    }

    /// Performs every effect of `conversation`'s last transition and returns the events they
    /// produced. The effects stay stored until those events replace them or the caller clears
    /// them, so a crash in between performs them again rather than losing them.
    async fn perform_all(&self, conversation: &Conversation) -> Result<Vec<Event>, DriverError> {
        let mut follow = Vec::new();
        for effect in &conversation.effects {
            follow.extend(self.perform(conversation, effect).await?);
        }
        Ok(follow)
    }

    /// Clears the stored effects of transition `seq`, unless a later transition replaced them.
    async fn clear_effects(&self, incident: &IncidentId, seq: u64) -> Result<(), DriverError> {
        let store = self.inner.store.as_ref();
        for _ in 0..MAX_ATTEMPTS {
            let Some((mut current, version)) = persist::load(store, incident).await? else {
                return Ok(());
            };
            if current.seq != seq || current.effects.is_empty() {
                return Ok(());
            }
            current.effects.clear();
            let outcome = persist::save(
                store,
                &current,
                version,
                self.inner.retention,
                &self.inner.bot,
            )
            .await?;
            if let CasOutcome::Written { .. } = outcome {
                return Ok(());
            }
        }
        Err(DriverError::Contended(incident.clone()))
    }

    pub fn settings(&self) -> &ConversationSettings {
        &self.inner.settings
    }
}
