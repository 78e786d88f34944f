//! Proposing: before a human is asked, live state, every guardrail, RBAC pre-flight and a
//! server-side dry run, so the bot never offers what it cannot or must not do.

use std::time::Instant;

use serde::Serialize;
use serde_json::{Value, json};

use super::actions::{self, Change, Plan};
use super::guard::rbac::{self, CanI};
use super::guard::{self, Guard, GuardResult};
use super::mutation::Applied;
use super::observe;
use super::packet::{Packet, Status};
use super::request::ActionRequest;
use super::{Ops, OpsError};
use crate::audit::{AuditId, AuditKind};

/// What the approval prompt shows; `fingerprint` goes back into [`Approval`].
#[derive(Debug, Clone, Serialize)]
pub struct Proposal {
    pub request: ActionRequest,
    pub summary: String,
    pub changes: Vec<Change>,
    pub fallback: String,
    pub guards: Vec<GuardResult>,
    pub permissions: Vec<CanI>,
    /// The server-side dry run of each write.
    pub preview: Vec<Applied>,
    /// How success will be verified: predicate names and the deadline.
    pub verification: String,
    /// The target's identity and spec version when proposed.
    pub fingerprint: String,
    pub before: Value,
    /// Why it must not be offered, one line each; empty when it may be.
    pub refusals: Vec<String>,
    pub audit_ids: Vec<AuditId>,
}

impl Proposal {
    /// Whether the action may be offered to a human.
    pub fn offerable(&self) -> bool {
        self.refusals.is_empty()
    }
}

impl Ops {
    /// Checks and previews an action without changing anything.
    ///
    /// # Errors
    /// When the cluster or the store cannot be read; a missing target is a refusal.
    pub async fn propose(&self, request: &ActionRequest) -> Result<Proposal, OpsError> {
        let target = request.action.target.to_string();
        let scope_guards = guard::scope(&request.action, &self.settings);
        let out_of_scope = guard::refusals(&scope_guards);
        if !out_of_scope.is_empty() {
            return self
                .refuse_unseen(request, out_of_scope, scope_guards)
                .await;
        }
        let observed = match observe::observe(&self.cluster, &request.action.target).await {
            Ok(observed) => observed,
            Err(OpsError::NotFound { object }) => {
                let reasons = vec![format!("{object} does not exist")];
                return self.refuse_unseen(request, reasons, scope_guards).await;
            }
            Err(error) => return Err(error),
        };
        let plan = actions::plan(request, &observed, &self.settings);
        let mut guards = self.guards(request, &observed, &plan).await?;
        let permissions = self.can_i(&plan, &observed).await?;
        guards.push(rbac::verdict(&permissions));
        let mut preview = Vec::new();
        if guard::refusals(&guards).is_empty() {
            match self.dry_run(&plan).await {
                Ok(applied) => {
                    guards.push(GuardResult::pass(
                        Guard::DryRun,
                        "the API server accepts every write (dryRun=All)",
                    ));
                    preview = applied;
                }
                Err(error) => guards.push(GuardResult::refuse(
                    Guard::DryRun,
                    format!("the API server rejected a dry run: {error}"),
                )),
            }
        }
        let refusals = guard::refusals(&guards);
        let kind = if refusals.is_empty() {
            AuditKind::ActionProposed
        } else {
            AuditKind::Refusal
        };
        let reason = if refusals.is_empty() {
            plan.summary.clone()
        } else {
            refusals.join("; ")
        };
        let detail =
            json!({ "changes": plan.changes, "guards": guards, "permissions": permissions });
        let audit_id = self
            .audit(request, self.bot(), kind, &target, reason, detail)
            .await?;
        let proposal = Proposal {
            request: request.clone(),
            summary: plan.summary.clone(),
            changes: plan.changes.clone(),
            fallback: plan.fallback.clone(),
            verification: describe_verification(&plan, &self.settings.verify),
            fingerprint: observed.fingerprint(),
            before: observed.summary(),
            guards,
            permissions,
            preview,
            refusals,
            audit_ids: vec![audit_id],
        };
        if !proposal.offerable() {
            let mut packet = Packet::new(request.clone(), self.bot());
            packet.status = Status::Refused;
            packet.summary = proposal.summary.clone();
            packet.reasons = proposal.refusals.clone();
            packet.changes = proposal.changes.clone();
            packet.guards = proposal.guards.clone();
            packet.permissions = Some(proposal.permissions.clone());
            packet.owner_chain = observed.owner_chain.clone();
            packet.before = Some(proposal.before.clone());
            packet.audit_ids = proposal.audit_ids.clone();
            packet.mark("proposal refused by guardrails");
            self.finish(&mut packet, Instant::now()).await?;
        }
        Ok(proposal)
    }

    /// A refusal decided without reading the target (out of scope, or missing).
    async fn refuse_unseen(
        &self,
        request: &ActionRequest,
        reasons: Vec<String>,
        guards: Vec<GuardResult>,
    ) -> Result<Proposal, OpsError> {
        let mut packet = Packet::new(request.clone(), self.bot());
        packet.summary = request.action.to_string();
        packet.guards = guards;
        packet.mark(format!("refused before acting: {}", reasons.join("; ")));
        packet.reasons = reasons;
        let target = request.action.target.to_string();
        let detail = json!({ "guards": packet.guards });
        let line = packet.reasons.join("; ");
        let id = self
            .audit(
                request,
                self.bot(),
                AuditKind::Refusal,
                &target,
                line,
                detail,
            )
            .await?;
        packet.audit_ids.push(id);
        self.finish(&mut packet, Instant::now()).await?;
        Ok(Proposal::missing(request, packet))
    }

    async fn dry_run(&self, plan: &Plan) -> Result<Vec<Applied>, OpsError> {
        let mut applied = Vec::new();
        for mutation in &plan.mutations {
            applied.push(
                mutation
                    .send(&self.cluster, true, &self.settings.identity)
                    .await?,
            );
        }
        Ok(applied)
    }
}

impl Proposal {
    fn missing(request: &ActionRequest, packet: Packet) -> Self {
        Self {
            request: request.clone(),
            summary: packet.summary,
            changes: Vec::new(),
            fallback: String::new(),
            guards: packet.guards,
            permissions: Vec::new(),
            preview: Vec::new(),
            verification: String::new(),
            fingerprint: String::new(),
            before: Value::Null,
            refusals: packet.reasons,
            audit_ids: packet.audit_ids,
        }
    }
}

fn describe_verification(plan: &Plan, settings: &crate::config::VerifySettings) -> String {
    let names: Vec<&str> = plan
        .verification
        .predicates
        .iter()
        .map(|p| p.name())
        .collect();
    let settle = if plan.verification.settle.is_some() {
        format!(
            ", then no new restarts for {}",
            humantime::format_duration(settings.settle)
        )
    } else {
        String::new()
    };
    format!(
        "{} within {}{settle}",
        names.join(" + "),
        humantime::format_duration(settings.deadline)
    )
}
