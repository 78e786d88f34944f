//! Choosing the action to consider: the first matching runbook, else the taxonomy's first
//! executable action whose target the incident's scope names.

use super::Policy;
use super::action::ActionName;
use super::decision::{ActionTarget, DecisionContext, IncidentFacts, PlannedAction, Reason};
use super::runbook::Runbook;
use super::taxonomy::IncidentClass;
use crate::domain::ActionKind;
use crate::incidents::model::ResourceScope;

/// The action under consideration and where it came from.
#[derive(Debug, Clone)]
pub(super) struct Candidate<'a> {
    pub action: PlannedAction,
    pub runbook: Option<&'a Runbook>,
}

/// The target of `kind` in the incident's scope.
///
/// # Errors
/// A sentence saying what the scope lacks.
pub fn target_for(kind: ActionKind, scope: &ResourceScope) -> Result<ActionTarget, String> {
    let namespace = scope.namespace.clone();
    let workload = |wanted: &str| {
        scope
            .workload
            .as_ref()
            .filter(|w| w.kind == wanted)
            .map(|w| w.name.to_string())
    };
    let (target_kind, name) = match kind {
        ActionKind::Restart | ActionKind::Rollback | ActionKind::Scale => {
            ("Deployment", workload("Deployment"))
        }
        ActionKind::DeletePod => ("Pod", scope.pod.as_ref().map(ToString::to_string)),
        ActionKind::SuspendCronjob | ActionKind::ResumeCronjob => ("CronJob", workload("CronJob")),
        ActionKind::Cordon | ActionKind::Uncordon => {
            let name = scope.node.as_ref().map(ToString::to_string);
            return name
                .map(|name| ActionTarget {
                    kind: "Node".into(),
                    namespace: None,
                    name,
                })
                .ok_or_else(|| format!("{kind} needs a node in the alert's scope"));
        }
        ActionKind::Cleanup => {
            return namespace
                .map(|ns| ActionTarget {
                    kind: "Namespace".into(),
                    name: ns.to_string(),
                    namespace: Some(ns),
                })
                .ok_or_else(|| format!("{kind} needs a namespace in the alert's scope"));
        }
    };
    match (namespace, name) {
        (Some(namespace), Some(name)) => Ok(ActionTarget {
            kind: target_kind.into(),
            namespace: Some(namespace),
            name,
        }),
        _ => Err(format!(
            "{kind} needs a namespace and a {target_kind} in the alert's scope"
        )),
    }
}

/// Why `runbook` does not apply to the incident, or `None` when it does.
fn mismatch(runbook: &Runbook, facts: &IncidentFacts, ctx: &DecisionContext) -> Option<String> {
    let spec = &runbook.spec;
    let t = &spec.triggers;
    if facts.confidence < t.minimum_confidence {
        return Some(format!(
            "confidence {} below its minimum {}",
            facts.confidence.as_str(),
            t.minimum_confidence.as_str()
        ));
    }
    let alertname = facts
        .labels
        .get("alertname")
        .map(String::as_str)
        .unwrap_or("");
    if !t.symptoms.is_empty() && !t.symptoms.iter().any(|s| s == alertname) {
        return Some(format!("alert {alertname:?} is not one of its symptoms"));
    }
    let scope = &spec.scope;
    if !scope.environments.is_empty() && !scope.environments.contains(&facts.environment) {
        return Some(format!(
            "environment {} is outside its scope",
            facts.environment.as_str()
        ));
    }
    if !scope.namespaces.is_empty()
        && !facts
            .scope
            .namespace
            .as_ref()
            .is_some_and(|ns| scope.namespaces.contains(ns))
    {
        return Some("the namespace is outside its scope".into());
    }
    let labels = &ctx.guardrails.target_labels;
    if let Some((key, value)) = scope
        .required_labels
        .iter()
        .find(|(k, v)| labels.get(*k) != Some(*v))
    {
        return Some(format!("the target lacks the label {key}={value}"));
    }
    None
}

impl Policy {
    /// The candidate action, with a reason for every runbook that was considered and not used.
    pub(super) fn candidate(
        &self,
        class: &IncidentClass,
        facts: &IncidentFacts,
        ctx: &DecisionContext,
        reasons: &mut Vec<Reason>,
    ) -> Option<Candidate<'_>> {
        let triggered = self.runbooks.iter().filter(|r| {
            r.spec
                .triggers
                .incident_types
                .contains(&facts.incident_type)
        });
        for runbook in triggered {
            let not_used =
                |why: String| Reason(format!("runbook {} not used: {why}", runbook.name));
            if let Some(why) = mismatch(runbook, facts, ctx) {
                reasons.push(not_used(why));
                continue;
            }
            let name = runbook.spec.action.kind;
            let Some(kind) = name.executable() else {
                reasons.push(not_used(format!("{name} is not an action the bot can run")));
                continue;
            };
            match target_for(kind, &facts.scope) {
                Ok(target) => {
                    let replicas = runbook
                        .spec
                        .action
                        .replicas
                        .filter(|_| kind == ActionKind::Scale);
                    let action = PlannedAction {
                        kind,
                        target,
                        replicas,
                        runbook: Some(runbook.name.clone()),
                    };
                    return Some(Candidate {
                        action,
                        runbook: Some(runbook),
                    });
                }
                Err(why) => reasons.push(not_used(why)),
            }
        }
        let listed = class.auto_allowed.iter().chain(&class.approval_required);
        listed
            .filter_map(|name| name.executable())
            // Without a runbook there is no replica count to scale to.
            .filter(|kind| *kind != ActionKind::Scale)
            .find_map(|kind| {
                target_for(kind, &facts.scope)
                    .ok()
                    .map(|target| (kind, target))
            })
            .map(|(kind, target)| Candidate {
                action: PlannedAction {
                    kind,
                    target,
                    replicas: None,
                    runbook: None,
                },
                runbook: None,
            })
    }
}

/// A fix the taxonomy offers for the class that the bot does not run itself (reconcile a
/// release, drain a node), if any. Human-only actions are never recommended: they are listed
/// so that nothing runs them, not as a fix.
pub(super) fn recommendation(class: &IncidentClass) -> Option<ActionName> {
    class
        .auto_allowed
        .iter()
        .chain(&class.approval_required)
        .find(|name| name.executable().is_none())
        .copied()
}
