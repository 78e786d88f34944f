//! The first audit record of an incident, written by the same compare-and-set that creates the
//! incident, so neither exists without the other.

use serde::Serialize;

use super::alertmanager::AlertStatus;
use super::ingest::Outcome;
use super::model::{Confidence, Environment, Incident, IncidentType, ResourceScope, Severity};
use crate::audit::{Actor, AuditEntry, AuditKind, AuditLog};
use crate::store::{SideEffect, StoreError};

/// What the bot knew when it opened the incident, for the audit record's detail.
#[derive(Serialize)]
struct OpenedDetail<'a> {
    fingerprint: &'a str,
    alertname: &'a str,
    status: AlertStatus,
    incident_type: IncidentType,
    confidence: Confidence,
    severity: Severity,
    environment: Environment,
    scope: &'a ResourceScope,
}

/// The `incident_opened` record of a newly created incident, as a side effect of its creation.
///
/// # Errors
/// [`StoreError::Corrupt`] if the detail cannot be encoded; the incident is then not written
/// either.
pub(super) fn opened_record(
    incident: &Incident,
    fingerprint: &str,
    outcome: Outcome,
) -> Result<SideEffect, StoreError> {
    let detail = OpenedDetail {
        fingerprint,
        alertname: incident.alertname(),
        status: incident.status,
        incident_type: incident.incident_type,
        confidence: incident.confidence,
        severity: incident.severity,
        environment: incident.environment,
        scope: &incident.scope,
    };
    let detail = serde_json::to_value(detail).map_err(|error| StoreError::Corrupt {
        key: AuditLog::log_key(&incident.id),
        reason: format!("detail of the opening record cannot be encoded: {error}"),
    })?;
    let class = incident.incident_type.as_str();
    let confidence = format!("{:?}", incident.confidence).to_lowercase();
    let alertname = incident.alertname();
    let reason = match outcome {
        Outcome::LateResolution => format!(
            "alert {alertname} ({class}, {confidence} confidence) resolved before it was seen \
             firing; recorded as a resolved incident"
        ),
        _ => format!("alert {alertname} opened an incident: {class}, {confidence} confidence"),
    };
    let entry = AuditEntry::new(AuditKind::IncidentOpened, Actor::robot_sre(), reason)
        .with_time(incident.first_seen)
        .with_detail(detail);
    Ok(AuditLog::append_effect(&incident.id, &entry))
}
