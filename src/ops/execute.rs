//! Execution in two phases, and the steps they share with [`super::propose`].
//!
//! [`Ops::apply`](super::apply) reads live state again, refuses if the target changed
//! materially or a guardrail now fails, writes (re-deciding after any resourceVersion
//! conflict), records the result and a Kubernetes Event, and stores the packet as
//! [`Status::Applied`]. [`Ops::verify_applied`](super::verify_applied) then proves the outcome
//! under a deadline, feeds the circuit breaker and stores the final packet. Between the two the
//! packet is durable, so a caller that persists its own state between "executing" and
//! "verifying" can crash anywhere and resume without writing twice. [`Ops::execute`] runs both.

use std::time::Instant;

use chrono::Utc;
use serde_json::Value;

use super::actions::Plan;
use super::guard::rbac::{self, CanI};
use super::guard::{self, GuardResult};
use super::observe::{Live, Observation};
use super::packet::{self, EventSubject, Packet, Status};
use super::request::ActionRequest;
use super::{Ops, OpsError, scope};
use crate::audit::kube_event::{self, Severity};
use crate::audit::{Actor, AuditEntry, AuditId, AuditKind};

/// Who approved, and what they saw.
#[derive(Debug, Clone)]
pub struct Approval {
    pub actor: Actor,
    /// The proposal's fingerprint; `None` when no human saw a proposal (auto-execute).
    pub fingerprint: Option<String>,
}

impl Ops {
    /// Executes an approved action at most once per request id, and returns its final packet:
    /// [`Ops::apply`] and then, if that wrote, [`Ops::verify_applied`].
    ///
    /// # Idempotency
    /// A request id that already ran returns the stored packet and sends nothing to the
    /// cluster; one left [`Status::Applied`] (by a crash, or a caller that stopped after
    /// `apply`) is verified now. While another replica applies or verifies it, the answer is
    /// [`OpsError::InProgress`].
    ///
    /// # Errors
    /// As [`Ops::apply`] and [`Ops::verify_applied`].
    pub async fn execute(
        &self,
        request: &ActionRequest,
        approval: &Approval,
    ) -> Result<Packet, OpsError> {
        let packet = self.apply(request, approval).await?;
        if packet.status != Status::Applied {
            return Ok(packet);
        }
        self.verify_applied(&request.id).await
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
                subject(observed)
                    .namespace
                    .unwrap_or_else(|| "default".into()),
            ),
            name: None,
        });
        rbac::can_i(&self.cluster, &permissions).await
    }

    pub(super) async fn refuse(
        &self,
        packet: &mut Packet,
        refusals: Vec<String>,
    ) -> Result<(), OpsError> {
        packet.status = Status::Refused;
        packet.mark(format!("refused: {}", refusals.join("; ")));
        packet.reasons.extend(refusals);
        let line = packet.reasons.join("; ");
        self.audit_into(packet, AuditKind::Refusal, line, Value::Null)
            .await;
        Ok(())
    }

    pub(super) async fn event(
        &self,
        subject: &EventSubject,
        packet: &mut Packet,
        severity: Severity,
        reason: &str,
        message: &str,
    ) {
        match kube_event::emit(
            self.cluster.client(),
            &self.settings.identity,
            &subject.into(),
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
    pub(super) async fn audit_into(
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

    /// Adds the time since `started` to the packet's duration (apply and verify each add
    /// theirs), stores the packet and writes it to the packet directory.
    pub(super) async fn finish(
        &self,
        packet: &mut Packet,
        started: Instant,
    ) -> Result<(), OpsError> {
        let took = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        packet.took_ms = packet.took_ms.saturating_add(took);
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

/// The object the Events of an action on `observed` are about.
pub(super) fn subject(observed: &Observation) -> EventSubject {
    let (api_version, meta) = match &observed.live {
        Live::Deployment { deployment, .. } => ("apps/v1".to_owned(), Some(&deployment.metadata)),
        Live::Pod { pod, .. } => ("v1".to_owned(), Some(&pod.metadata)),
        Live::Node { node } => ("v1".to_owned(), Some(&node.metadata)),
        Live::CronJob { object, resource } => {
            (resource.api_version.clone(), Some(&object.metadata))
        }
        Live::Namespace { .. } => ("v1".to_owned(), None),
    };
    EventSubject {
        api_version,
        kind: observed.target.kind().to_owned(),
        namespace: observed.target.namespace().map(ToString::to_string),
        name: observed.target.name().to_owned(),
        uid: meta.and_then(|m| m.uid.clone()),
    }
}

pub(super) fn reason_of(request: &ActionRequest, what: &str) -> String {
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

pub(super) fn guard_line(guards: &[GuardResult]) -> String {
    let refused = guards.iter().filter(|g| g.refused()).count();
    format!("{} guardrails evaluated, {refused} refused", guards.len())
}
