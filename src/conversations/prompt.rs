//! The approval prompt: every field of the design page, from the incident, the policy decision
//! and ops' proposal (live state, guardrails and the server-side dry run).

use chrono::{DateTime, Utc};

use super::state::PromptTokens;
use super::step::hhmm;
use crate::channels::{Choice, Prompt};
use crate::incidents::Incident;
use crate::incidents::model::Confidence;
use crate::ops::Proposal;
use crate::ops::guard::Verdict;
use crate::policy::decision::{Decision, PlannedAction};

/// What a prompt is made of.
pub struct PromptParts<'a> {
    pub incident: &'a Incident,
    pub decision: &'a Decision,
    pub action: &'a PlannedAction,
    pub proposal: &'a Proposal,
    pub confidence: Confidence,
    pub cluster: &'a str,
    pub expires_at: DateTime<Utc>,
    pub tokens: &'a PromptTokens,
    /// The prompt asks for a second, different approver.
    pub second: bool,
}

/// Renders the prompt.
pub fn render(parts: &PromptParts<'_>) -> Prompt {
    let incident = parts.incident;
    let action = parts.action;
    let target = &action.target;
    let mut title = format!(
        "Approve {} of {} {}",
        action.kind,
        target.kind.to_lowercase(),
        target.name
    );
    if let Some(namespace) = &target.namespace {
        title.push_str(&format!(" in {namespace}"));
    }
    if let Some(replicas) = action.replicas {
        title.push_str(&format!(" to {replicas} replicas"));
    }
    if parts.second {
        title.push_str(" (second approver: someone other than the first)");
    }
    Prompt {
        incident: incident.id.clone(),
        severity: parts.decision.severity,
        title,
        action: action.kind.to_string(),
        target: format!("{}/{target}", parts.cluster),
        why_now: why_now(incident),
        impact: impact(parts.proposal),
        fallback: parts.proposal.fallback.clone(),
        expires_at: parts.expires_at,
        cause: format!(
            "{} ({})",
            incident.incident_type.as_str(),
            incident.classification
        ),
        confidence: parts.confidence.as_str().to_owned(),
        evidence: incident
            .evidence
            .as_ref()
            .map_or_else(|| "not collected".to_owned(), |e| e.summary.clone()),
        guardrails: parts
            .proposal
            .guards
            .iter()
            .map(|g| {
                let verdict = match g.verdict {
                    Verdict::Pass => "pass",
                    Verdict::Refuse => "refuse",
                    Verdict::NotApplicable => "n/a",
                };
                format!("{verdict}: {:?} ({})", g.guard, g.detail)
            })
            .collect(),
        verification: parts.proposal.verification.clone(),
        dry_run: dry_run(parts.proposal),
        choices: vec![
            Choice {
                label: "Approve".into(),
                token: parts.tokens.approve.clone(),
                approves: true,
            },
            Choice {
                label: "Reject".into(),
                token: parts.tokens.reject.clone(),
                approves: false,
            },
        ],
        details_url: None,
    }
}

/// The alert's own words, when it has them, and since when it fires.
fn why_now(incident: &Incident) -> String {
    let said = ["summary", "description", "message"]
        .iter()
        .find_map(|key| incident.annotations.get(*key))
        .cloned()
        .unwrap_or_else(|| incident.alertname().to_owned());
    format!(
        "{said} (firing since {}, {} deliveries)",
        hhmm(incident.starts_at),
        incident.deliveries
    )
}

fn impact(proposal: &Proposal) -> String {
    if proposal.changes.is_empty() {
        return proposal.summary.clone();
    }
    let changes: Vec<String> = proposal
        .changes
        .iter()
        .map(|c| format!("{}: {} → {}", c.field, c.from, c.to))
        .collect();
    format!("{} ({})", proposal.summary, changes.join("; "))
}

fn dry_run(proposal: &Proposal) -> String {
    if proposal.preview.is_empty() {
        return "no server-side dry run (nothing to write, or refused before it)".into();
    }
    let writes: Vec<String> = proposal
        .preview
        .iter()
        .map(|applied| {
            let generation = applied
                .generation
                .map_or_else(String::new, |g| format!(", generation {g}"));
            format!("{} accepted (dryRun=All{generation})", applied.request)
        })
        .collect();
    writes.join("; ")
}
