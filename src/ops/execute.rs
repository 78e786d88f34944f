//! Execution, and the steps it shares with [`super::propose`]. [`Ops::execute`] runs once per request id after approval: it reads live state again,
//! refuses if the target changed materially or a guardrail now fails, applies (re-deciding
//! after any resourceVersion conflict), emits Kubernetes Events, verifies under a deadline,
//! feeds the circuit breaker, and stores the packet.

use std::time::Instant;

use chrono::Utc;
use serde_json::{Value, json};

use super::actions::{self, Plan};
use super::guard::rbac::{self, CanI};
use super::guard::{self, GuardResult};
use super::observe::{self, Observation};
use super::packet::{self, Packet, Status};
use super::request::ActionRequest;
use super::verify;
use super::{Ops, OpsError, scope, workload_of};
use crate::audit::kube_event::{self, Involved, Severity};
use crate::audit::{Actor, AuditEntry, AuditId, AuditKind};
use crate::store::Claim;

/// Who approved, and what they saw.
#[derive(Debug, Clone)]
pub struct Approval {
    pub actor: Actor,
    /// The proposal's fingerprint; `None` when no human saw a proposal (auto-execute).
    pub fingerprint: Option<String>,
}

impl Ops {
    /// Executes an approved action at most once per request id, and returns its packet.
    ///
    /// # Idempotency
    /// A request id that already ran returns the stored packet and sends nothing to the
    /// cluster. While another replica runs it, the answer is [`OpsError::InProgress`].
    ///
    /// # Errors
    /// When the store or cluster fails before anything was applied; once a write was sent,
    /// failures are recorded in the packet instead.
    pub async fn execute(
        &self,
        request: &ActionRequest,
        approval: &Approval,
    ) -> Result<Packet, OpsError> {
        if let Some(done) = packet::load(self.store.as_ref(), &request.id).await? {
            return Ok(done);
        }
        let claim_key = format!("ops:request:{}", request.id);
        let lease = self.limits.lease();
        if let Claim::Held(_) = self.store.claim(&claim_key, "running", Some(lease)).await? {
            return Err(OpsError::InProgress {
                request: request.id.to_string(),
            });
        }
        let started = Instant::now();
        let mut packet = Packet::new(request.clone(), approval.actor.clone());
        packet.mark(format!(
            "execution started, decided by {}",
            actor_name(&approval.actor)
        ));
        let result = self.run(request, approval, &mut packet).await;
        // Whatever happened, this request no longer holds a concurrency slot.
        self.limits.finish(request.id.as_str()).await;
        if let Err(error) = result {
            if packet.applied.is_empty() && error.is_transient() {
                // Nothing was sent and the cause may pass: no packet, and the id may run again.
                let _ = self.store.release(&claim_key, "running").await;
                return Err(error);
            }
            packet.status = Status::Failed;
            packet.reasons.push(error.to_string());
            packet.escalate = true;
            self.audit_into(
                &mut packet,
                AuditKind::ActionResult,
                error.to_string(),
                Value::Null,
            )
            .await;
        }
        self.finish(&mut packet, started).await?;
        Ok(packet)
    }

    async fn run(
        &self,
        request: &ActionRequest,
        approval: &Approval,
        packet: &mut Packet,
    ) -> Result<(), OpsError> {
        let target = request.action.target.to_string();
        let out_of_scope = guard::refusals(&guard::scope(&request.action, &self.settings));
        if !out_of_scope.is_empty() {
            packet.guards = guard::scope(&request.action, &self.settings);
            return self.refuse(packet, out_of_scope).await;
        }
        let mut reserved = false;
        let mut attempt = 0;
        let (observed, plan) = loop {
            let observed = match observe::observe(&self.cluster, &request.action.target).await {
                Ok(observed) => observed,
                Err(OpsError::NotFound { object }) => {
                    packet.reasons.push(format!("{object} no longer exists"));
                    packet.status = Status::Refused;
                    return Ok(());
                }
                Err(error) => return Err(error),
            };
            packet.mark(format!(
                "read live state of {target} ({})",
                observed.fingerprint()
            ));
            if packet.before.is_none() {
                packet.before = Some(observed.summary());
                packet.owner_chain = observed.owner_chain.clone();
            }
            if let Some(seen) = &approval.fingerprint
                && *seen != observed.fingerprint()
            {
                packet.status = Status::Stale;
                packet.reasons.push(format!(
                    "{target} changed since the approval prompt ({seen} → {}); ask again",
                    observed.fingerprint()
                ));
                self.audit_into(
                    packet,
                    AuditKind::Refusal,
                    packet.reasons.join("; "),
                    Value::Null,
                )
                .await;
                return Ok(());
            }
            let plan = actions::plan(request, &observed, &self.settings);
            packet.summary = plan.summary.clone();
            packet.changes = plan.changes.clone();
            packet.fallback = plan.fallback.clone();
            let mut guards = self.guards(request, &observed, &plan).await?;
            if packet.permissions.is_none() {
                let permissions = self.can_i(&plan, &observed).await?;
                guards.push(rbac::verdict(&permissions));
                packet.permissions = Some(permissions);
            }
            packet.guards = guards;
            let refusals = guard::refusals(&packet.guards);
            let detail = json!({ "guards": packet.guards });
            self.audit_into(
                packet,
                AuditKind::GuardrailResults,
                guard_line(&packet.guards),
                detail,
            )
            .await;
            if !refusals.is_empty() {
                return self.refuse(packet, refusals).await;
            }
            if !reserved {
                let scope = scope(request, &observed, plan.disruptive);
                match self
                    .limits
                    .reserve(request.id.as_str(), &scope, Utc::now())
                    .await?
                {
                    Ok(()) => reserved = true,
                    Err(refused) => {
                        let refusals = guard::refusals(&refused);
                        packet.guards.extend(refused);
                        return self.refuse(packet, refusals).await;
                    }
                }
                packet.mark("limits reserved (cooldown, rate, concurrency, blast radius)");
            }
            if let Some(hook) = &self.interleave {
                hook(attempt).await;
            }
            match self.apply(&plan, packet).await {
                Ok(()) => break (observed, plan),
                Err(OpsError::Conflict { object, .. })
                    if attempt < self.settings.conflict_retries =>
                {
                    attempt += 1;
                    packet.conflicts += 1;
                    packet.mark(format!(
                        "{object} changed under the write (409); reading it again"
                    ));
                }
                Err(error) => return Err(error),
            }
        };
        self.audit_into(
            packet,
            AuditKind::ActionResult,
            format!("applied: {}", plan.summary),
            json!({ "applied": packet.applied }),
        )
        .await;
        self.event(
            &observed,
            packet,
            Severity::Normal,
            &reason_of(request, "Applied"),
            &format!(
                "{} (incident {}, request {}, decided by {})",
                plan.summary,
                request.incident,
                request.id,
                actor_name(&packet.actor)
            ),
        )
        .await;
        let verdict =
            verify::verify(&self.cluster, &plan.verification, &self.settings.verify).await;
        packet.mark(format!(
            "verification {:?} after {} ms",
            verdict.outcome, verdict.took_ms
        ));
        packet.status = if verdict.passed() {
            Status::Verified
        } else {
            Status::VerificationFailed
        };
        packet.reasons.extend(verdict.reasons.iter().cloned());
        match observe::observe(&self.cluster, &request.action.target).await {
            Ok(after) => packet.after = Some(after.summary()),
            Err(OpsError::NotFound { object }) => packet.after = Some(json!({ "gone": object })),
            Err(error) => packet.unavailable("after", error),
        }
        let breaker = self
            .limits
            .record_verdict(
                &workload_of(&observed),
                verdict.passed(),
                verdict.reasons.first().cloned(),
            )
            .await?;
        packet.escalate = !verdict.passed() || breaker.open;
        if breaker.open {
            packet.mark("circuit breaker open: further actions on this workload are refused until a human resets it");
        }
        packet.breaker = Some(breaker);
        let line = format!(
            "verification {:?}: {}",
            verdict.outcome,
            if verdict.reasons.is_empty() {
                "all predicates held".to_owned()
            } else {
                verdict.reasons.join("; ")
            }
        );
        let severity = if verdict.passed() {
            Severity::Normal
        } else {
            Severity::Warning
        };
        self.event(
            &observed,
            packet,
            severity,
            &reason_of(
                request,
                if verdict.passed() {
                    "Verified"
                } else {
                    "VerificationFailed"
                },
            ),
            &format!("{line} (incident {})", request.incident),
        )
        .await;
        self.audit_into(
            packet,
            AuditKind::Verification,
            line,
            serde_json::to_value(&verdict).unwrap_or(Value::Null),
        )
        .await;
        packet.verification = Some(verdict);
        Ok(())
    }

    pub(super) async fn guards(
        &self,
        request: &ActionRequest,
        observed: &Observation,
        plan: &Plan,
    ) -> Result<Vec<GuardResult>, OpsError> {
        let mut guards = guard::scope(&request.action, &self.settings);
        guards.extend(guard::evaluate(&request.action, observed, &self.settings));
        guards.extend(plan.checks.iter().cloned());
        let scope = scope(request, observed, plan.disruptive);
        guards.extend(
            self.limits
                .check(request.id.as_str(), &scope, Utc::now())
                .await?,
        );
        Ok(guards)
    }

    /// RBAC pre-flight for every write of the plan and the Event that reports it.
    pub(super) async fn can_i(
        &self,
        plan: &Plan,
        observed: &Observation,
    ) -> Result<Vec<CanI>, OpsError> {
        let mut permissions: Vec<_> = plan
            .mutations
            .iter()
            .map(|m| {
                let mut p = m.permission();
                // Deletes of many pods need one answer, not one per pod.
                if plan.mutations.len() > 1 {
                    p.name = None;
                }
                p
            })
            .collect();
        permissions.dedup();
        permissions.push(rbac::Permission {
            verb: "create".into(),
            group: String::new(),
            resource: "events".into(),
            subresource: None,
            namespace: Some(
                involved(observed)
                    .namespace
                    .unwrap_or_else(|| "default".into()),
            ),
            name: None,
        });
        rbac::can_i(&self.cluster, &permissions).await
    }

    async fn apply(&self, plan: &Plan, packet: &mut Packet) -> Result<(), OpsError> {
        if plan.mutations.is_empty() {
            packet.mark("already as intended: nothing to write");
        }
        for mutation in &plan.mutations {
            let applied = mutation
                .send(&self.cluster, false, &self.settings.identity)
                .await?;
            packet.mark(format!("{} sent ({} ms)", applied.request, applied.took_ms));
            let line = format!("{} as {}", applied.request, self.settings.identity);
            packet.applied.push(applied);
            self.audit_into(packet, AuditKind::ToolCall, line, Value::Null)
                .await;
        }
        Ok(())
    }

    async fn refuse(&self, packet: &mut Packet, refusals: Vec<String>) -> Result<(), OpsError> {
        packet.status = Status::Refused;
        packet.mark(format!("refused: {}", refusals.join("; ")));
        packet.reasons.extend(refusals);
        let line = packet.reasons.join("; ");
        self.audit_into(packet, AuditKind::Refusal, line, Value::Null)
            .await;
        Ok(())
    }

    async fn event(
        &self,
        observed: &Observation,
        packet: &mut Packet,
        severity: Severity,
        reason: &str,
        message: &str,
    ) {
        let involved = involved(observed);
        match kube_event::emit(
            self.cluster.client(),
            &self.settings.identity,
            &involved,
            severity,
            reason,
            message,
        )
        .await
        {
            Ok(name) => packet.events.push(name),
            Err(error) => packet
                .notes
                .push(format!("Kubernetes Event {reason} not recorded: {error}")),
        }
    }

    pub(super) async fn audit(
        &self,
        request: &ActionRequest,
        actor: Actor,
        kind: AuditKind,
        target: &str,
        reason: String,
        detail: Value,
    ) -> Result<AuditId, OpsError> {
        let entry = AuditEntry::new(kind, actor, reason)
            .with_request(request.id.to_string())
            .with_action(request.action.kind.to_string())
            .with_target(target.to_owned())
            .with_detail(detail);
        Ok(self.audit.record(&request.incident, entry).await?)
    }

    /// Audits during execution; a failure is noted in the packet rather than stopping an action
    /// already under way.
    async fn audit_into(
        &self,
        packet: &mut Packet,
        kind: AuditKind,
        reason: String,
        detail: Value,
    ) {
        let request = packet.request.clone();
        let target = request.action.target.to_string();
        match self
            .audit(
                &request,
                packet.actor.clone(),
                kind,
                &target,
                reason,
                detail,
            )
            .await
        {
            Ok(id) => packet.audit_ids.push(id),
            Err(error) => {
                tracing::error!(%error, request = %request.id, "audit record not written");
                packet.notes.push(format!(
                    "an audit record ({kind:?}) could not be written: {error}"
                ));
            }
        }
    }

    /// Stamps the duration, stores the packet and writes it to the packet directory.
    pub(super) async fn finish(
        &self,
        packet: &mut Packet,
        started: Instant,
    ) -> Result<(), OpsError> {
        packet.took_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        packet.mark("packet stored");
        packet::save(self.store.as_ref(), packet, self.settings.request_retention).await?;
        if let Some(dir) = &self.settings.packet_dir
            && let Err(error) = packet::export(packet, dir)
        {
            tracing::warn!(%error, dir = %dir.display(), "evidence packet not written to the packet directory");
        }
        Ok(())
    }
}

fn involved(observed: &Observation) -> Involved {
    use super::observe::Live;
    let (api_version, meta) = match &observed.live {
        Live::Deployment { deployment, .. } => ("apps/v1".to_owned(), Some(&deployment.metadata)),
        Live::Pod { pod, .. } => ("v1".to_owned(), Some(&pod.metadata)),
        Live::Node { node } => ("v1".to_owned(), Some(&node.metadata)),
        Live::CronJob { object, resource } => {
            (resource.api_version.clone(), Some(&object.metadata))
        }
        Live::Namespace { .. } => ("v1".to_owned(), None),
    };
    Involved {
        api_version,
        kind: observed.target.kind().to_owned(),
        namespace: observed.target.namespace().map(ToString::to_string),
        name: observed.target.name().to_owned(),
        uid: meta.and_then(|m| m.uid.clone()),
    }
}

fn reason_of(request: &ActionRequest, what: &str) -> String {
    let action: String = request
        .action
        .kind
        .as_str()
        .split('_')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or(String::new(), |c| {
                c.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect();
    format!("RobotSRE{action}{what}")
}

pub(super) fn actor_name(actor: &Actor) -> String {
    match actor {
        Actor::Bot { identity } => identity.clone(),
        Actor::Human { id, channel } => format!("{id} ({channel})"),
    }
}

fn guard_line(guards: &[GuardResult]) -> String {
    let refused = guards.iter().filter(|g| g.refused()).count();
    format!("{} guardrails evaluated, {refused} refused", guards.len())
}
