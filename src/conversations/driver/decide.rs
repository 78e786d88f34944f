//! From a recorded incident to a [`Plan`]: evidence, the policy decision (audited with every
//! reason), ops' proposal with its live checks and dry run, tokens and the rendered prompt.

use chrono::{DateTime, Utc};

use super::{Driver, DriverError, persist};
use crate::conversations::event::{Event, Plan};
use crate::conversations::prompt::{self, PromptParts};
use crate::conversations::state::{Conversation, Pending, PromptTokens};
use crate::conversations::tokens::Grant;
use crate::domain::ActionKind;
use crate::incidents::{Incident, IncidentId, Outcome, Recorded};
use crate::ops::{Action, ActionRequest, Proposal};
use crate::policy::action::{ActionClass, ActionName};
use crate::policy::decision::{
    Decision, DecisionContext, EvidenceSummary, GuardrailState, IncidentFacts, Mode, PlannedAction,
};
use crate::policy::effective_confidence;

impl Driver {
    /// Starts the conversation work an ingest outcome calls for, in the background: a new
    /// or reopened incident gets evidence, a decision and (maybe) a prompt; a resolved alert
    /// withdraws what is open.
    pub fn on_recorded(&self, recorded: &Recorded) {
        let driver = self.clone();
        let id = recorded.incident_id.clone();
        let outcome = recorded.outcome;
        tokio::spawn(async move {
            let result = match outcome {
                Outcome::Opened | Outcome::Reopened => driver.opened(&id).await,
                Outcome::Resolved => driver.dispatch(&id, Event::AlertResolved).await.map(|_| ()),
                Outcome::Duplicate | Outcome::LateResolution => Ok(()),
            };
            if let Err(error) = result {
                let error = crate::telemetry::error_chain(&error);
                tracing::warn!(incident = %id, %error, "conversation step failed; the resumption loop retries");
            }
        });
    }

    /// Collects evidence, creates the conversation and decides.
    ///
    /// # Errors
    /// When the store fails or ops cannot be asked now.
    pub async fn opened(&self, id: &IncidentId) -> Result<(), DriverError> {
        if let Some(collector) = &self.inner.evidence
            && let Err(error) = collector.collect_for(&self.inner.incidents, id).await
        {
            let error = crate::telemetry::error_chain(&error);
            tracing::warn!(incident = %id, %error, "evidence not attached; deciding without it");
        }
        let Some((incident, _)) = self.inner.incidents.repository().load(id).await? else {
            return Ok(());
        };
        let now = Utc::now();
        self.ensure(Conversation::new(
            id.clone(),
            incident.environment,
            incident.severity,
            now,
        ))
        .await?;
        self.decide(id).await
    }

    /// Decides (again) for an incident and tells its conversation.
    ///
    /// # Errors
    /// When the store fails or ops cannot be asked now.
    pub(super) async fn decide(&self, id: &IncidentId) -> Result<(), DriverError> {
        let store = self.inner.store.as_ref();
        let Some((incident, _)) = self.inner.incidents.repository().load(id).await? else {
            return Ok(());
        };
        let Some((conversation, _)) = persist::load(store, id).await? else {
            return Ok(());
        };
        let now = Utc::now();
        let facts = IncidentFacts::of(&incident);
        let mut context = DecisionContext {
            now,
            evidence: EvidenceSummary::confirmed(u32::from(incident.evidence.is_some())),
            guardrails: GuardrailState {
                last_decision_at: self.last_decision(&incident, &facts, now).await?,
                ..GuardrailState::default()
            },
        };
        let mut decision = self.inner.policy.decide(&facts, &context);
        let mut proposal = None;
        if let Some(action) = decision.action.clone()
            && decision.mode >= Mode::ApprovalRequired
            && !decision.suppressed
        {
            proposal = self.propose(id, &action).await?;
            if let Some(Ok((_, offered))) = &proposal
                && offered.offerable()
            {
                // The proposal read the target live: a second check of the evidence.
                context.evidence.checks += 1;
                let again = self.inner.policy.decide(&facts, &context);
                if again.action == decision.action {
                    decision = again;
                }
            }
        }
        self.inner
            .policy_audit
            .record_decision(id, &facts, &context, &decision, self.inner.bot.clone())
            .await?;
        if decision.suppressed {
            self.inner.metrics.policy_suppressions.inc();
        }
        let confidence = effective_confidence(&facts, &context);
        let plan = self
            .plan(
                &incident,
                &conversation,
                &decision,
                proposal,
                confidence,
                now,
            )
            .await?;
        let plan = Box::new(plan);
        self.dispatch(id, Event::IncidentUpdated { plan }).await?;
        Ok(())
    }

    /// When policy last decided for another incident of the same type and scope, within the
    /// suppression window.
    async fn last_decision(
        &self,
        incident: &Incident,
        facts: &IncidentFacts,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, DriverError> {
        let window = chrono::Duration::from_std(self.inner.suppression_window)
            .unwrap_or(chrono::Duration::zero());
        let decisions = self
            .inner
            .policy_audit
            .decisions_since(now - window)
            .await?;
        Ok(decisions
            .values()
            .filter(|d| {
                d.incident != incident.id
                    && d.facts.incident_type == facts.incident_type
                    && d.facts.scope == facts.scope
            })
            .map(|d| d.context.now)
            .max())
    }

    /// Ops' proposal for `action`: `None` without cluster access, `Err(why)` when the action
    /// cannot even be expressed.
    async fn propose(
        &self,
        id: &IncidentId,
        action: &PlannedAction,
    ) -> Result<Option<Result<(ActionRequest, Proposal), String>>, DriverError> {
        let Some(ops) = &self.inner.ops else {
            return Ok(None);
        };
        let parsed = match Action::parse(action.kind, &action.target.spec(), action.replicas) {
            Ok(parsed) => parsed,
            Err(error) => return Ok(Some(Err(error.to_string()))),
        };
        let request = ActionRequest::new(id.clone(), parsed);
        match ops.propose(&request).await {
            Ok(proposal) => Ok(Some(Ok((request, proposal)))),
            Err(error) if error.is_transient() => Err(error.into()),
            Err(error) => Ok(Some(Err(crate::telemetry::error_chain(&error)))),
        }
    }

    async fn plan(
        &self,
        incident: &Incident,
        conversation: &Conversation,
        decision: &Decision,
        proposal: Option<Result<(ActionRequest, Proposal), String>>,
        confidence: crate::incidents::model::Confidence,
        now: DateTime<Utc>,
    ) -> Result<Plan, DriverError> {
        let reasons = decision.summary();
        if decision.suppressed {
            return Ok(Plan::Suppress { reason: reasons });
        }
        let Some(action) = decision.action.as_ref() else {
            let mut text = format!("Policy: {reasons}.");
            if let Some(recommendation) = &decision.recommendation {
                text.push_str(&format!(" Recommended: {recommendation}."));
            }
            return Ok(Plan::Page { text });
        };
        match decision.mode {
            Mode::Manual => {
                return Ok(Plan::Page {
                    text: format!("Policy: {reasons}."),
                });
            }
            Mode::Suggest => {
                return Ok(Plan::Suggest {
                    text: format!("Suggested: {action}. Policy: {reasons}."),
                });
            }
            Mode::ApprovalRequired | Mode::AutoExecute => {}
        }
        let (request, proposal) = match proposal {
            None => {
                return Ok(Plan::Page {
                    text: format!(
                        "Policy would {} {action}, but the bot has no Kubernetes access. Policy: {reasons}.",
                        if decision.mode == Mode::AutoExecute {
                            "run"
                        } else {
                            "ask to approve"
                        }
                    ),
                });
            }
            Some(Err(why)) => {
                return Ok(Plan::Page {
                    text: format!("{action} cannot be offered: {why}."),
                });
            }
            Some(Ok((_, proposal))) if !proposal.offerable() => {
                return Ok(Plan::Page {
                    text: format!(
                        "{action} cannot be offered: {}.",
                        proposal.refusals.join("; ")
                    ),
                });
            }
            Some(Ok(offered)) => offered,
        };
        let class = class_of(action.kind, action.replicas);
        if decision.mode == Mode::AutoExecute {
            return Ok(Plan::Auto {
                pending: Pending {
                    action: action.clone(),
                    class,
                    request,
                    fingerprint: None,
                },
                text: format!(
                    "Running {action} automatically: {}. Verification: {}. Policy: {reasons}.",
                    proposal.summary, proposal.verification
                ),
            });
        }
        let pending = Pending {
            action: action.clone(),
            class,
            request,
            fingerprint: Some(proposal.fingerprint.clone()),
        };
        let needed = self
            .inner
            .approvers
            .required(class, incident.environment)
            .max(1);
        let expires_at = now
            + chrono::Duration::from_std(self.inner.settings.prompt_expiry)
                .unwrap_or(chrono::Duration::minutes(15));
        let mut rounds = Vec::new();
        for round in 0..needed {
            let n = conversation.prompts + 1 + u32::try_from(round).unwrap_or(0);
            let tokens = self.mint(&pending, incident, n, expires_at, now).await?;
            let rendered = prompt::render(&PromptParts {
                incident,
                decision,
                action,
                proposal: &proposal,
                confidence,
                cluster: &self.inner.cluster,
                expires_at,
                tokens: &tokens,
                second: round > 0,
            });
            if !persist::save_prompt(self.inner.store.as_ref(), &rendered, n, now).await? {
                tracing::info!(incident = %incident.id, prompt = n, "prompt already made elsewhere");
            }
            rounds.push(tokens);
        }
        let tokens = rounds.remove(0);
        Ok(Plan::Ask {
            pending,
            expires_at,
            tokens,
            later: rounds,
            needed,
        })
    }

    async fn mint(
        &self,
        pending: &Pending,
        incident: &Incident,
        prompt: u32,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<PromptTokens, DriverError> {
        let grant = |approves| Grant {
            incident: incident.id.clone(),
            prompt,
            action: pending.action.kind.to_string(),
            target: pending.action.target.to_string(),
            fingerprint: pending.fingerprint.clone(),
            approves,
            expires_at,
        };
        let tokens = &self.inner.tokens;
        let approve = tokens.mint(&grant(true), now).await?;
        let reject = tokens.mint(&grant(false), now).await?;
        Ok(PromptTokens { approve, reject })
    }
}

/// The class approvers are checked against. Scaling to zero takes a workload away: disruptive.
fn class_of(kind: ActionKind, replicas: Option<u32>) -> ActionClass {
    match (kind, replicas) {
        (ActionKind::Scale, Some(0)) => ActionClass::Disruptive,
        _ => ActionName::from(kind).class(),
    }
}
