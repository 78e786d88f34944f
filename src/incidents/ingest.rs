//! Recording alerts as incidents: deduplicated, concurrency-safe, durable before acknowledged.
//!
//! Each alert is keyed by its fingerprint. The first delivery claims the fingerprint for a new
//! incident id; later deliveries (Alertmanager HA pairs, repeat_interval re-sends, retries after a
//! 5xx) find the claim and update that incident. Every write is a compare-and-set, so concurrent
//! deliveries of one alert converge on one incident: the loser of a race re-reads and re-applies.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::alertmanager::{Alert, AlertStatus};
use super::model::{EventKind, Incident, IncidentId, IncidentType, Lifecycle};
use super::opened::opened_record;
use super::repository::IncidentRepository;
use super::triage::{Assessment, Triage};
use crate::store::{CasOutcome, Store, StoreError};

/// How many compare-and-set conflicts one alert may meet before the request gives up (and
/// Alertmanager retries). Conflicts need a concurrent writer of the same incident each time.
pub(super) const MAX_ATTEMPTS: usize = 32;

/// Knobs of deduplication and retention.
#[derive(Debug, Clone, Copy)]
pub struct IngestPolicy {
    /// A resolved incident whose alert fires again within this window is reopened, not
    /// duplicated, and no new notification is due.
    pub suppression_window: Duration,
    /// How long a closed incident is kept.
    pub retention: Duration,
    /// How many history entries an incident keeps.
    pub history_limit: usize,
}

/// What one alert delivery did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A new incident; a notification is due.
    Opened,
    /// A repeat of what the incident already knew; no notification.
    Duplicate,
    /// The alert resolved.
    Resolved,
    /// The alert fired again, within the suppression window after it resolved or while the
    /// incident was still recovering; no new notification.
    Reopened,
    /// A resolution for an alert with no incident (it fired before the bot saw it, or its
    /// incident lapsed): recorded as a resolved incident, notifies nobody.
    LateResolution,
}

/// The result of recording one alert.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Recorded {
    pub incident_id: IncidentId,
    pub fingerprint: String,
    pub outcome: Outcome,
    pub incident_type: IncidentType,
}

/// Why an alert could not be recorded. Either way nothing was half-written.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "incident {incident} kept changing under concurrent writes; gave up after {MAX_ATTEMPTS} attempts"
    )]
    Contention { incident: IncidentId },
}

impl IngestError {
    /// Whether retrying later may succeed (the store was unreachable, or writers collided).
    pub fn is_transient(&self) -> bool {
        match self {
            IngestError::Store(error) => error.is_transient(),
            IngestError::Contention { .. } => true,
        }
    }
}

/// Records alerts as incidents.
pub struct IncidentService {
    pub(super) repository: IncidentRepository,
    triage: Triage,
    pub(super) policy: IngestPolicy,
}

impl IncidentService {
    pub fn new(store: Arc<dyn Store>, triage: Triage, policy: IngestPolicy) -> Self {
        Self {
            repository: IncidentRepository::new(store),
            triage,
            policy,
        }
    }

    pub fn repository(&self) -> &IncidentRepository {
        &self.repository
    }

    /// Records one alert of the notification for `group_key`.
    ///
    /// # Guarantees
    /// On `Ok`, the incident is durably in the store; a new one together with its
    /// `incident_opened` audit record, written by the same compare-and-set. On `Err`, the store
    /// holds either the state before the call or, at most, the fingerprint's claim on an id with
    /// no incident (and no audit record) yet, which the next delivery completes.
    ///
    /// # Idempotency
    /// Delivering the same alert again yields [`Outcome::Duplicate`] and one more delivery count,
    /// and no second `incident_opened` record.
    pub async fn record(&self, group_key: &str, alert: &Alert) -> Result<Recorded, IngestError> {
        let fingerprint = alert.identity();
        let candidate = IncidentId::generate();
        let mut id = candidate.clone();
        for _ in 0..MAX_ATTEMPTS {
            // Re-read the claim on every attempt: a conflict may mean it lapsed and moved on.
            id = self
                .repository
                .claim_fingerprint(&fingerprint, &candidate)
                .await?;
            let now = Utc::now();
            let (incident, outcome, expected, effects) = match self.repository.load(&id).await? {
                None => {
                    let assessment = self.triage.assess(alert);
                    let incident = open(id.clone(), group_key, alert, assessment, now, self.policy);
                    let outcome = match alert.status {
                        AlertStatus::Firing => Outcome::Opened,
                        AlertStatus::Resolved => Outcome::LateResolution,
                    };
                    // Written by the creating compare-and-set only: a lost race or a later
                    // delivery finds the incident and writes no second opening record.
                    let audit = opened_record(&incident, &fingerprint, outcome)?;
                    (incident, outcome, 0, vec![audit])
                }
                Some((mut incident, version)) => {
                    let outcome = observe(&mut incident, alert, now, self.policy);
                    if outcome == Outcome::Duplicate && !incident.lifecycle.is_open() {
                        // A repeat for a closed incident changes nothing worth a write, and must
                        // not extend its suppression window or retention.
                        return Ok(recorded(&incident, fingerprint, outcome));
                    }
                    (incident, outcome, version, Vec::new())
                }
            };
            let policy = self.policy;
            let written = self
                .repository
                .save_with(
                    &incident,
                    expected,
                    policy.suppression_window,
                    policy.retention,
                    effects,
                )
                .await?;
            if let CasOutcome::Written { .. } = written {
                return Ok(recorded(&incident, fingerprint, outcome));
            }
        }
        Err(IngestError::Contention { incident: id })
    }
}

fn recorded(incident: &Incident, fingerprint: String, outcome: Outcome) -> Recorded {
    Recorded {
        incident_id: incident.id.clone(),
        fingerprint,
        outcome,
        incident_type: incident.incident_type,
    }
}

/// A new incident for `alert`, observed and triaged.
pub fn open(
    id: IncidentId,
    group_key: &str,
    alert: &Alert,
    assessment: Assessment,
    now: DateTime<Utc>,
    policy: IngestPolicy,
) -> Incident {
    let Assessment {
        classification,
        severity,
        environment,
        scope,
        notes,
    } = assessment;
    let mut incident = Incident {
        id,
        fingerprints: vec![alert.identity()],
        group_key: group_key.to_owned(),
        labels: alert.labels.clone(),
        annotations: alert.annotations.clone(),
        source: Some(alert.generator_url.clone()).filter(|url| !url.is_empty()),
        first_seen: now,
        last_seen: now,
        starts_at: alert.starts_at,
        ends_at: alert.ended_at(),
        status: alert.status,
        severity,
        incident_type: classification.incident_type,
        confidence: classification.confidence,
        classification: classification.reason.clone(),
        environment,
        scope,
        lifecycle: Lifecycle::Observed,
        deliveries: 1,
        history: Vec::new(),
        history_dropped: 0,
        evidence: None,
    };
    let limit = policy.history_limit;
    let observed = format!("alert {} received ({})", incident.alertname(), alert.status);
    incident.record(now, EventKind::Observed, observed, limit);
    let classified = format!(
        "classified as {} with {:?} confidence ({}); severity {:?}; environment {:?}",
        classification.incident_type.as_str(),
        classification.confidence,
        classification.reason,
        severity,
        environment,
    )
    .to_lowercase();
    let mut detail = classified;
    for note in notes {
        detail.push_str("; ");
        detail.push_str(&note);
    }
    incident.record(now, EventKind::Classified, detail, limit);
    incident.lifecycle = Lifecycle::Triaged;
    if alert.status == AlertStatus::Resolved {
        resolve(&mut incident, alert, now, limit);
    }
    incident
}

/// Applies a later delivery of one of the incident's alerts.
pub fn observe(
    incident: &mut Incident,
    alert: &Alert,
    now: DateTime<Utc>,
    policy: IngestPolicy,
) -> Outcome {
    incident.last_seen = now;
    incident.deliveries += 1;
    let limit = policy.history_limit;
    match (incident.lifecycle.is_open(), alert.status) {
        (true, AlertStatus::Firing) if incident.status == AlertStatus::Resolved => {
            // Resolved while the bot's action was being verified, and firing again: the fix
            // did not hold.
            refire(
                incident,
                alert,
                now,
                "alert fired again while recovering".into(),
                limit,
            );
            Outcome::Reopened
        }
        (true, AlertStatus::Firing) => {
            if incident.annotations != alert.annotations || incident.starts_at != alert.starts_at {
                incident.annotations = alert.annotations.clone();
                incident.starts_at = alert.starts_at;
                let detail = "alert re-sent with changed annotations or start time".to_owned();
                incident.record(now, EventKind::Updated, detail, limit);
            }
            Outcome::Duplicate
        }
        (true, AlertStatus::Resolved) => {
            resolve(incident, alert, now, limit);
            Outcome::Resolved
        }
        (false, AlertStatus::Firing) => {
            incident.lifecycle = Lifecycle::Triaged;
            let window = humantime::format_duration(policy.suppression_window);
            let detail = format!("alert fired again within the suppression window ({window})");
            refire(incident, alert, now, detail, limit);
            Outcome::Reopened
        }
        (false, AlertStatus::Resolved) => Outcome::Duplicate,
    }
}

/// The alert fires again: back to firing, with the reason in the history.
fn refire(
    incident: &mut Incident,
    alert: &Alert,
    now: DateTime<Utc>,
    detail: String,
    limit: usize,
) {
    incident.status = AlertStatus::Firing;
    incident.starts_at = alert.starts_at;
    incident.ends_at = None;
    incident.record(now, EventKind::Reopened, detail, limit);
}

/// The alert resolved: an incident the bot acted on waits in `recovering` for verification;
/// any other is resolved.
fn resolve(incident: &mut Incident, alert: &Alert, now: DateTime<Utc>, limit: usize) {
    incident.status = AlertStatus::Resolved;
    incident.ends_at = alert.ended_at().or(Some(now));
    incident.lifecycle = match incident.lifecycle {
        Lifecycle::Contained | Lifecycle::Recovering => Lifecycle::Recovering,
        _ => Lifecycle::Resolved,
    };
    let detail = format!("alert resolved; incident is now {:?}", incident.lifecycle).to_lowercase();
    incident.record(now, EventKind::AlertResolved, detail, limit);
}

#[cfg(test)]
#[path = "ingest_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "ingest_audit_tests.rs"]
mod audit_tests;
