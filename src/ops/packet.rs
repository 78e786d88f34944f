//! The evidence packet: everything a reviewer needs to trust (or question) one executed or
//! refused action. Stored in the state store per request, listed per incident, and exported as
//! a directory of JSON files plus a readable `packet.txt`. A field that could not be observed
//! is `null` and the reason is in `notes`; nothing is invented.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::actions::Change;
use super::error::OpsError;
use super::guard::GuardResult;
use super::guard::limits::Breaker;
use super::guard::rbac::CanI;
use super::mutation::Applied;
use super::request::{ActionRequest, RequestId};
use super::verify::{Verdict, Verification};
use crate::audit::kube_event::Involved;
use crate::audit::{Actor, AuditId};
use crate::incidents::IncidentId;
use crate::store::{CasOutcome, SideEffect, Store, StoreError, Write};

/// How the request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// A guardrail said no; nothing was changed.
    Refused,
    /// The target changed materially since the prompt; the human must be asked again.
    Stale,
    /// Written to the cluster; verification pending ([`crate::ops::Ops::verify_applied`]).
    Applied,
    /// Applied and verified: PASS.
    Verified,
    /// Applied, but verification said FAIL.
    VerificationFailed,
    /// The API refused or failed the write.
    Failed,
}

/// One moment of the request's life.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Moment {
    pub at: DateTime<Utc>,
    pub what: String,
}

/// The verification of an applied request, as planned on the state read before the writes.
///
/// Re-planning after the writes would be wrong: a rollback planned on the rolled-back
/// Deployment would name the revision before that one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyPlan {
    /// The predicates and settle window; rollout predicates carry the `since` instant they
    /// judge progress-deadline reports against.
    pub verification: Verification,
    /// The workload the circuit breaker counts the verdict against.
    pub workload: String,
    /// The object the verification's Kubernetes Event is about.
    pub subject: EventSubject,
}

/// The object a Kubernetes Event is about, in a storable form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventSubject {
    pub api_version: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    pub uid: Option<String>,
}

impl From<&EventSubject> for Involved {
    fn from(subject: &EventSubject) -> Self {
        Involved {
            api_version: subject.api_version.clone(),
            kind: subject.kind.clone(),
            namespace: subject.namespace.clone(),
            name: subject.name.clone(),
            uid: subject.uid.clone(),
        }
    }
}

/// The packet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Packet {
    pub request: ActionRequest,
    /// Who decided: the approving human, or the bot under an auto-execute policy.
    pub actor: Actor,
    pub status: Status,
    pub summary: String,
    /// Why it was refused, failed or escalated, one line each.
    pub reasons: Vec<String>,
    pub changes: Vec<Change>,
    pub fallback: String,
    pub guards: Vec<GuardResult>,
    pub permissions: Option<Vec<CanI>>,
    /// The owner chain of the target, as read.
    pub owner_chain: Vec<String>,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub applied: Vec<Applied>,
    /// resourceVersion conflicts met, each followed by a fresh read and decision.
    pub conflicts: u32,
    pub verification: Option<Verdict>,
    /// What the verify phase needs, fixed when the writes were sent, so that any replica can
    /// verify after a restart. `None` until the apply phase wrote (and on older packets).
    #[serde(default)]
    pub verify_plan: Option<VerifyPlan>,
    pub breaker: Option<Breaker>,
    /// A human must look: verification failed or the breaker is open.
    pub escalate: bool,
    pub events: Vec<String>,
    pub timeline: Vec<Moment>,
    pub audit_ids: Vec<AuditId>,
    /// Fields that are unavailable, and why.
    pub notes: Vec<String>,
    pub took_ms: u64,
}

impl Packet {
    pub fn new(request: ActionRequest, actor: Actor) -> Self {
        Self {
            request,
            actor,
            status: Status::Refused,
            summary: String::new(),
            reasons: Vec::new(),
            changes: Vec::new(),
            fallback: String::new(),
            guards: Vec::new(),
            permissions: None,
            owner_chain: Vec::new(),
            before: None,
            after: None,
            applied: Vec::new(),
            conflicts: 0,
            verification: None,
            verify_plan: None,
            breaker: None,
            escalate: false,
            events: Vec::new(),
            timeline: Vec::new(),
            audit_ids: Vec::new(),
            notes: Vec::new(),
            took_ms: 0,
        }
    }

    /// Adds a moment to the timeline, now.
    pub fn mark(&mut self, what: impl Into<String>) {
        self.timeline.push(Moment {
            at: Utc::now(),
            what: what.into(),
        });
    }

    /// Notes a field that could not be filled.
    pub fn unavailable(&mut self, field: &str, why: impl std::fmt::Display) {
        self.notes.push(format!("{field} unavailable: {why}"));
    }
}

fn packet_key(request: &RequestId) -> String {
    format!("ops:packet:{request}")
}

fn index_key(incident: &IncidentId) -> String {
    format!("ops:packets:{incident}")
}

/// Stores a packet and indexes it under its incident.
///
/// # Errors
/// When the store fails.
pub async fn save(
    store: &dyn Store,
    packet: &Packet,
    retention: std::time::Duration,
) -> Result<(), OpsError> {
    let key = packet_key(&packet.request.id);
    let value = serde_json::to_vec(packet).map_err(|e| StoreError::Corrupt {
        key: key.clone(),
        reason: e.to_string(),
    })?;
    let write = |value: Vec<u8>| Write {
        value,
        ttl: Some(retention),
        effects: vec![SideEffect::AddToSet {
            set: index_key(&packet.request.incident),
            member: packet.request.id.to_string(),
        }],
    };
    let current = store.get(&key).await?.map_or(0, |v| v.version);
    match store.compare_and_set(&key, current, write(value)).await? {
        CasOutcome::Written { .. } => Ok(()),
        // Another replica finished the same request first; its packet stands.
        CasOutcome::Conflict { .. } => Ok(()),
    }
}

/// The packet of one request, if any.
///
/// # Errors
/// When the store fails or the packet cannot be read.
pub async fn load(store: &dyn Store, request: &RequestId) -> Result<Option<Packet>, OpsError> {
    let key = packet_key(request);
    match store.get(&key).await? {
        None => Ok(None),
        Some(stored) => serde_json::from_slice(&stored.value)
            .map(Some)
            .map_err(|e| OpsError::Corrupt {
                key,
                reason: e.to_string(),
            }),
    }
}

/// Every packet of an incident, oldest first.
///
/// # Errors
/// When the store fails or a packet cannot be read.
pub async fn for_incident(
    store: &dyn Store,
    incident: &IncidentId,
) -> Result<Vec<Packet>, OpsError> {
    let mut packets = Vec::new();
    for member in store.members(&index_key(incident)).await? {
        let Ok(request) = RequestId::parse(member) else {
            continue;
        };
        if let Some(packet) = load(store, &request).await? {
            packets.push(packet);
        }
    }
    packets.sort_by_key(|p| p.timeline.first().map(|m| m.at));
    Ok(packets)
}

/// Writes a packet as `<dir>/<request-id>/`: one JSON file per part and `packet.txt`.
///
/// # Errors
/// When a file cannot be written.
pub fn export(packet: &Packet, dir: &Path) -> std::io::Result<PathBuf> {
    let out = dir.join(packet.request.id.as_str());
    std::fs::create_dir_all(&out)?;
    let parts: [(&str, Value); 9] = [
        ("packet.json", json(packet)),
        ("guards.json", json(&packet.guards)),
        ("rbac.json", json(&packet.permissions)),
        ("before.json", json(&packet.before)),
        ("after.json", json(&packet.after)),
        (
            "action.json",
            json(&(&packet.applied, &packet.changes, packet.took_ms)),
        ),
        ("verification.json", json(&packet.verification)),
        ("timeline.json", json(&packet.timeline)),
        ("audit.json", json(&packet.audit_ids)),
    ];
    for (name, value) in parts {
        let text = serde_json::to_string_pretty(&value).unwrap_or_default();
        std::fs::write(out.join(name), text + "\n")?;
    }
    std::fs::write(out.join("packet.txt"), readable(packet))?;
    Ok(out)
}

fn json(value: &impl Serialize) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// The packet as text a reviewer reads top to bottom.
pub fn readable(packet: &Packet) -> String {
    let mut text = String::new();
    let request = &packet.request;
    let _ = writeln!(
        text,
        "Evidence packet {} for incident {}",
        request.id, request.incident
    );
    let _ = writeln!(text, "Action:   {}", request.action);
    let _ = writeln!(text, "Summary:  {}", packet.summary);
    let _ = writeln!(text, "Decided:  {}", actor(&packet.actor));
    let _ = writeln!(
        text,
        "Status:   {:?}{}",
        packet.status,
        if packet.escalate {
            " — escalated to a human"
        } else {
            ""
        }
    );
    for reason in &packet.reasons {
        let _ = writeln!(text, "  reason: {reason}");
    }
    let _ = writeln!(text, "\nGuardrails:");
    for guard in &packet.guards {
        let _ = writeln!(
            text,
            "  {:<9} {:?}: {}",
            format!("{:?}", guard.verdict).to_uppercase(),
            guard.guard,
            guard.detail
        );
    }
    let _ = writeln!(text, "\nRBAC (can-i):");
    match &packet.permissions {
        Some(answers) => {
            for answer in answers {
                let _ = writeln!(
                    text,
                    "  {} {}",
                    if answer.allowed { "yes" } else { "NO " },
                    answer.permission
                );
            }
        }
        None => {
            let _ = writeln!(text, "  not checked");
        }
    }
    let _ = writeln!(text, "\nChanges:");
    for change in &packet.changes {
        let _ = writeln!(text, "  {}: {} → {}", change.field, change.from, change.to);
    }
    let _ = writeln!(
        text,
        "\nRequests sent ({} conflict retries):",
        packet.conflicts
    );
    for applied in &packet.applied {
        let _ = writeln!(
            text,
            "  {} in {} ms{}",
            applied.request,
            applied.took_ms,
            if applied.already_gone {
                " (already gone)"
            } else {
                ""
            }
        );
    }
    let _ = writeln!(text, "\nVerification:");
    match &packet.verification {
        Some(verdict) => {
            let _ = writeln!(
                text,
                "  {:?} after {} ms ({} looks, deadline {} ms)",
                verdict.outcome, verdict.took_ms, verdict.looks, verdict.deadline_ms
            );
            for reason in &verdict.reasons {
                let _ = writeln!(text, "  reason: {reason}");
            }
            for (name, value) in &verdict.observed {
                let _ = writeln!(text, "  {name}: {value}");
            }
        }
        None if packet.status == Status::Applied => {
            let _ = writeln!(text, "  pending");
        }
        None => {
            let _ = writeln!(text, "  not run");
        }
    }
    let _ = writeln!(text, "\nFallback: {}", packet.fallback);
    let _ = writeln!(text, "\nTimeline:");
    for moment in &packet.timeline {
        let _ = writeln!(
            text,
            "  {}  {}",
            moment.at.format("%H:%M:%S%.3f"),
            moment.what
        );
    }
    let ids: Vec<String> = packet.audit_ids.iter().map(ToString::to_string).collect();
    let _ = writeln!(text, "\nAudit records: {}", ids.join(", "));
    for note in &packet.notes {
        let _ = writeln!(text, "Note: {note}");
    }
    text
}

fn actor(actor: &Actor) -> String {
    match actor {
        Actor::Bot { identity } => format!("the bot ({identity})"),
        Actor::Human { id, channel } => format!("{id} on {channel}"),
    }
}
