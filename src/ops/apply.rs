//! The apply phase: live state read again, the stale and guardrail checks, the writes, and a
//! durable [`Status::Applied`] packet, once per request id.
//!
//! # Crash safety
//! Right before its first write an attempt stores an *intent* (`ops:intent:<id>`): the packet
//! so far, with the verification planned on the state it read, and that state's fingerprint.
//! If the process dies after the writes but before the Applied packet is stored, the request
//! claim (`ops:request:<id>`) lapses after [`Limits::lease`](super::guard::limits::Limits::lease)
//! and a re-run finds the intent. It then reads the target once more:
//!
//! - the fingerprint is unchanged (same uid and generation, or the same `unschedulable` for a
//!   node): no write landed, because every planned write changes it. The re-run decides and
//!   writes as a first attempt would;
//! - the fingerprint changed, the target is gone, or the target is a namespace (whose
//!   fingerprint cannot tell): the earlier writes may have landed. Nothing is written again;
//!   the stored intent becomes the packet, marked Applied, and the verification planned before
//!   the writes judges the live state. A human approval is therefore not answered Stale because
//!   of the bot's own write, and a rollback is never rolled back a second revision.
//!
//! If someone else changed the target after the crash and before the re-run, the second case
//! also applies: nothing is written and the verification (most likely FAIL) escalates to a
//! human. That is the price of at-most-once.

use std::time::Instant;

use chrono::Utc;
use serde_json::{Value, json};

use super::actions::{self, Plan};
use super::execute::{Approval, actor_name, guard_line, reason_of, subject};
use super::guard::{self, rbac};
use super::intent::{self, Intent};
use super::observe::{self, Observation};
use super::packet::{self, Packet, Status, VerifyPlan};
use super::request::ActionRequest;
use super::{Ops, OpsError, scope, workload_of};
use crate::audit::AuditKind;
use crate::audit::kube_event::Severity;
use crate::store::Claim;

impl Ops {
    /// Applies an approved action at most once per request id and stores its packet before
    /// verification starts.
    ///
    /// # Guarantees
    /// On return with [`Status::Applied`] the writes were accepted by the API server, the
    /// ActionResult audit record and the Applied Kubernetes Event were recorded (or their
    /// failure noted in the packet), and the packet is stored with the [`VerifyPlan`] that
    /// [`Ops::verify_applied`] needs. The request keeps its concurrency slot until it is
    /// verified (or the lease lapses). Any other status (Refused, Stale, Failed) is final, is
    /// stored, and frees the slot. See the module docs for a crash during the writes.
    ///
    /// # Idempotency
    /// A request id with a stored packet (any status) returns it and touches nothing. While
    /// another replica applies it, the answer is [`OpsError::InProgress`].
    ///
    /// # Errors
    /// When the store or cluster fails before anything was written with a cause that may pass
    /// (the id may then be applied again); once a write was sent, failures are recorded in a
    /// Failed packet instead.
    pub async fn apply(
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
        if packet.status != Status::Applied {
            // This request no longer holds a concurrency slot; an Applied one keeps it while
            // it is verified.
            self.limits.finish(request.id.as_str()).await;
        }
        if let Err(error) = result {
            if packet.applied.is_empty() && error.is_transient() {
                // Nothing was acknowledged and the cause may pass: no packet, and the id may
                // run again (the intent, if any, tells that run a write may have landed).
                let _ = self.store.release(&claim_key, "running").await;
                return Err(error);
            }
            packet.status = Status::Failed;
            packet.reasons.push(error.to_string());
            packet.escalate = true;
            let line = error.to_string();
            self.audit_into(&mut packet, AuditKind::ActionResult, line, Value::Null)
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
        let mut interrupted = intent::load(self.store.as_ref(), &request.id).await?;
        let mut reserved = false;
        let mut attempt = 0;
        loop {
            // Only the first read can judge an earlier attempt's writes.
            let earlier = interrupted.take();
            let observed = match observe::observe(&self.cluster, &request.action.target).await {
                Ok(observed) => observed,
                Err(OpsError::NotFound { object }) => {
                    if let Some(earlier) = earlier {
                        adopt(packet, earlier, &format!("{object} is gone"));
                        break;
                    }
                    packet.reasons.push(format!("{object} no longer exists"));
                    packet.status = Status::Refused;
                    return Ok(());
                }
                Err(error) => return Err(error),
            };
            let fingerprint = observed.fingerprint();
            packet.mark(format!("read live state of {target} ({fingerprint})"));
            if let Some(earlier) = earlier
                && intent::may_have_landed(&earlier, &observed)
            {
                let why = format!("{target} is now {fingerprint}, was {}", earlier.fingerprint);
                adopt(packet, earlier, &why);
                break;
            }
            if packet.before.is_none() {
                packet.before = Some(observed.summary());
                packet.owner_chain = observed.owner_chain.clone();
            }
            if let Some(seen) = &approval.fingerprint
                && *seen != fingerprint
            {
                return self.stale(packet, &target, seen, &fingerprint).await;
            }
            let plan = actions::plan(request, &observed, &self.settings);
            if !self
                .admit(request, &observed, &plan, packet, &mut reserved)
                .await?
            {
                return Ok(());
            }
            packet.verify_plan = Some(VerifyPlan {
                verification: plan.verification.clone(),
                workload: workload_of(&observed),
                subject: subject(&observed),
            });
            let intent = Intent {
                fingerprint,
                packet: packet.clone(),
            };
            intent::save(
                self.store.as_ref(),
                &intent,
                self.settings.request_retention,
            )
            .await?;
            if let Some(hook) = &self.interleave {
                hook(attempt).await;
            }
            match self.send_writes(&plan, packet).await {
                Ok(()) => break,
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
        }
        self.record_applied(packet).await;
        Ok(())
    }

    /// Plans' guardrails, RBAC pre-flight and limits; `false` when refused (the packet says
    /// why).
    async fn admit(
        &self,
        request: &ActionRequest,
        observed: &Observation,
        plan: &Plan,
        packet: &mut Packet,
        reserved: &mut bool,
    ) -> Result<bool, OpsError> {
        packet.summary = plan.summary.clone();
        packet.changes = plan.changes.clone();
        packet.fallback = plan.fallback.clone();
        let mut guards = self.guards(request, observed, plan).await?;
        if packet.permissions.is_none() {
            let permissions = self.can_i(plan, observed).await?;
            guards.push(rbac::verdict(&permissions));
            packet.permissions = Some(permissions);
        }
        packet.guards = guards;
        let refusals = guard::refusals(&packet.guards);
        let detail = json!({ "guards": packet.guards });
        let line = guard_line(&packet.guards);
        self.audit_into(packet, AuditKind::GuardrailResults, line, detail)
            .await;
        if !refusals.is_empty() {
            self.refuse(packet, refusals).await?;
            return Ok(false);
        }
        if *reserved {
            return Ok(true);
        }
        let scope = scope(request, observed, plan.disruptive);
        let now = Utc::now();
        if let Err(refused) = self
            .limits
            .reserve(request.id.as_str(), &scope, now)
            .await?
        {
            let refusals = guard::refusals(&refused);
            packet.guards.extend(refused);
            self.refuse(packet, refusals).await?;
            return Ok(false);
        }
        *reserved = true;
        packet.mark("limits reserved (cooldown, rate, concurrency, blast radius)");
        Ok(true)
    }

    async fn stale(
        &self,
        packet: &mut Packet,
        target: &str,
        seen: &str,
        live: &str,
    ) -> Result<(), OpsError> {
        packet.status = Status::Stale;
        packet.reasons.push(format!(
            "{target} changed since the approval prompt ({seen} → {live}); ask again"
        ));
        let line = packet.reasons.join("; ");
        self.audit_into(packet, AuditKind::Refusal, line, Value::Null)
            .await;
        Ok(())
    }

    async fn send_writes(&self, plan: &Plan, packet: &mut Packet) -> Result<(), OpsError> {
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

    /// The ActionResult audit record and the Applied Event; the packet becomes Applied.
    async fn record_applied(&self, packet: &mut Packet) {
        let line = format!("applied: {}", packet.summary);
        let detail = json!({ "applied": packet.applied });
        self.audit_into(packet, AuditKind::ActionResult, line, detail)
            .await;
        if let Some(plan) = packet.verify_plan.clone() {
            let request = &packet.request;
            let reason = reason_of(request, "Applied");
            let message = format!(
                "{} (incident {}, request {}, decided by {})",
                packet.summary,
                request.incident,
                request.id,
                actor_name(&packet.actor)
            );
            self.event(&plan.subject, packet, Severity::Normal, &reason, &message)
                .await;
        }
        packet.status = Status::Applied;
        packet.mark("applied; verification pending");
    }
}

/// Continues from an earlier attempt's intent instead of writing again.
fn adopt(packet: &mut Packet, earlier: Intent, why: &str) {
    let this_attempt = std::mem::take(&mut packet.timeline);
    *packet = earlier.packet;
    packet.timeline.extend(this_attempt);
    packet.mark(format!(
        "an earlier attempt stopped after it began writing and {why}: nothing is written again"
    ));
    packet.notes.push(
        "an earlier attempt was interrupted during its writes; which of them landed is not \
         recorded, so the verification planned before them judges the live state"
            .into(),
    );
}
