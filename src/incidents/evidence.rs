//! Attaching the evidence collected from the cluster to an incident.

use super::ingest::{IncidentService, IngestError, MAX_ATTEMPTS};
use super::model::{EventKind, IncidentEvidence, IncidentId};
use crate::audit::{Actor, AuditEntry, AuditKind, AuditLog};
use crate::store::CasOutcome;

/// What attaching evidence did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attached {
    Attached,
    /// The incident is gone (expired after it closed): nothing to attach to.
    NoIncident,
    /// The incident already holds evidence collected at the same time or later.
    Older,
}

impl IncidentService {
    /// Stores `evidence` as the incident's latest, with a history entry and an
    /// `evidence_collected` audit record written by the same compare-and-set.
    ///
    /// # Idempotency
    /// Attaching the same evidence twice, or older evidence after newer, changes nothing.
    ///
    /// # Errors
    /// When the store fails, or concurrent writers keep winning.
    pub async fn attach_evidence(
        &self,
        id: &IncidentId,
        evidence: IncidentEvidence,
    ) -> Result<Attached, IngestError> {
        for _ in 0..MAX_ATTEMPTS {
            let Some((mut incident, version)) = self.repository.load(id).await? else {
                return Ok(Attached::NoIncident);
            };
            if let Some(held) = &incident.evidence
                && held.collected_at >= evidence.collected_at
            {
                return Ok(Attached::Older);
            }
            let headline = evidence.summary.lines().next().unwrap_or("(empty)");
            let entry = AuditEntry::new(
                AuditKind::EvidenceCollected,
                Actor::robot_sre(),
                format!("evidence collected: {headline}"),
            )
            .with_time(evidence.collected_at)
            .with_detail(serde_json::json!({
                "summary": evidence.summary,
                "evidence": evidence.detail,
            }));
            let at = evidence.collected_at;
            incident.record(
                at,
                EventKind::EvidenceCollected,
                headline.to_owned(),
                self.policy.history_limit,
            );
            incident.evidence = Some(evidence.clone());
            let written = self
                .repository
                .save_with(
                    &incident,
                    version,
                    self.policy.suppression_window,
                    self.policy.retention,
                    vec![AuditLog::append_effect(id, &entry)],
                )
                .await?;
            if let CasOutcome::Written { .. } = written {
                return Ok(Attached::Attached);
            }
        }
        Err(IngestError::Contention {
            incident: id.clone(),
        })
    }
}
