//! The verify phase: an Applied packet's verification run under its deadline, the circuit
//! breaker fed, and the final packet stored, by one replica at a time.

use std::time::Instant;

use serde_json::{Value, json};

use super::observe;
use super::packet::{self, Packet, Status, VerifyPlan};
use super::request::RequestId;
use super::verify::{self, Verdict};
use super::{Ops, OpsError};
use crate::audit::AuditKind;
use crate::audit::kube_event::Severity;
use crate::store::Claim;

impl Ops {
    /// Verifies an applied request and returns its final packet, [`Status::Verified`] or
    /// [`Status::VerificationFailed`].
    ///
    /// The verification is the one planned on the state read before the writes (stored in the
    /// packet's [`VerifyPlan`]), so it may run in a fresh process after a restart. Its deadline
    /// (`verify.deadline`, then the settle window) starts when this call starts.
    ///
    /// # Guarantees
    /// As a one-call execution did: the after state, the breaker count against the workload,
    /// a Verified or VerificationFailed Kubernetes Event, the Verification audit record, the
    /// stored and exported packet; a FAIL or an open breaker sets `escalate`. The request's
    /// concurrency slot is freed.
    ///
    /// # Idempotency
    /// A packet that is not Applied (already verified, or refused, stale or failed) is returned
    /// as stored and nothing is looked at. One replica verifies at a time (claim
    /// `ops:verify:<id>`, held at most the lease); the others get [`OpsError::InProgress`]. A
    /// replica that dies while verifying leaves the packet Applied, and the next call after
    /// the lease verifies it again from the start.
    ///
    /// # Errors
    /// [`OpsError::NotApplied`] when no packet is stored for `request`; [`OpsError::Corrupt`]
    /// when an Applied packet lacks its verification plan; store failures (the claim is then
    /// released, so the call may be repeated).
    pub async fn verify_applied(&self, request: &RequestId) -> Result<Packet, OpsError> {
        let packet = self.applied_packet(request).await?;
        if packet.status != Status::Applied {
            return Ok(packet);
        }
        let claim_key = format!("ops:verify:{request}");
        let holder = format!("verifier-{:016x}", rand::random::<u64>());
        let lease = self.limits.lease();
        if let Claim::Held(_) = self.store.claim(&claim_key, &holder, Some(lease)).await? {
            return Err(OpsError::InProgress {
                request: request.to_string(),
            });
        }
        let result = self.verify_claimed(request).await;
        // The final packet now answers every later call; on error the next call may try again.
        let _ = self.store.release(&claim_key, &holder).await;
        result
    }

    async fn applied_packet(&self, request: &RequestId) -> Result<Packet, OpsError> {
        packet::load(self.store.as_ref(), request)
            .await?
            .ok_or_else(|| OpsError::NotApplied {
                request: request.to_string(),
            })
    }

    async fn verify_claimed(&self, request: &RequestId) -> Result<Packet, OpsError> {
        // Read again under the claim: another replica may have finished in between.
        let mut packet = self.applied_packet(request).await?;
        if packet.status != Status::Applied {
            return Ok(packet);
        }
        let Some(plan) = packet.verify_plan.clone() else {
            return Err(OpsError::Corrupt {
                key: format!("ops:packet:{request}"),
                reason: "an Applied packet without its verification plan".into(),
            });
        };
        let started = Instant::now();
        packet.mark("verification started");
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
        self.observe_after(&mut packet).await;
        self.count_verdict(&mut packet, &plan, &verdict).await?;
        self.report_verdict(&mut packet, &plan, &verdict).await;
        packet.verification = Some(verdict);
        self.limits.finish(request.as_str()).await;
        self.finish(&mut packet, started).await?;
        Ok(packet)
    }

    async fn observe_after(&self, packet: &mut Packet) {
        let target = packet.request.action.target.clone();
        match observe::observe(&self.cluster, &target).await {
            Ok(after) => packet.after = Some(after.summary()),
            Err(OpsError::NotFound { object }) => packet.after = Some(json!({ "gone": object })),
            Err(error) => packet.unavailable("after", error),
        }
    }

    /// Feeds the circuit breaker of the workload; a FAIL or an open breaker escalates.
    async fn count_verdict(
        &self,
        packet: &mut Packet,
        plan: &VerifyPlan,
        verdict: &Verdict,
    ) -> Result<(), OpsError> {
        let first_reason = verdict.reasons.first().cloned();
        let breaker = self
            .limits
            .record_verdict(&plan.workload, verdict.passed(), first_reason)
            .await?;
        packet.escalate = !verdict.passed() || breaker.open;
        if breaker.open {
            packet.mark("circuit breaker open: further actions on this workload are refused until a human resets it");
        }
        packet.breaker = Some(breaker);
        Ok(())
    }

    /// The Verified or VerificationFailed Event and the Verification audit record.
    async fn report_verdict(&self, packet: &mut Packet, plan: &VerifyPlan, verdict: &Verdict) {
        let line = format!(
            "verification {:?}: {}",
            verdict.outcome,
            if verdict.reasons.is_empty() {
                "all predicates held".to_owned()
            } else {
                verdict.reasons.join("; ")
            }
        );
        let (severity, what) = if verdict.passed() {
            (Severity::Normal, "Verified")
        } else {
            (Severity::Warning, "VerificationFailed")
        };
        let reason = super::execute::reason_of(&packet.request, what);
        let message = format!("{line} (incident {})", packet.request.incident);
        self.event(&plan.subject, packet, severity, &reason, &message)
            .await;
        let detail = serde_json::to_value(verdict).unwrap_or(Value::Null);
        self.audit_into(packet, AuditKind::Verification, line, detail)
            .await;
    }
}

#[cfg(test)]
#[path = "phases_tests.rs"]
mod tests;
