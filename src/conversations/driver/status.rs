//! Answers to `/incident status` and `/incident list`.

use chrono::{DateTime, Utc};

use super::{Driver, DriverError, persist};
use crate::conversations::state::{Conversation, State};
use crate::conversations::step::hhmm;
use crate::incidents::IncidentId;

/// The longest list answered in chat; the rest are counted.
const LIST_LIMIT: usize = 20;

impl Driver {
    /// One incident: state, age, last action and verification.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn status(&self, id: &IncidentId) -> Result<String, DriverError> {
        let store = self.inner.store.as_ref();
        let Some((conversation, _)) = persist::load(store, id).await? else {
            return Ok(format!("no incident {id} (or it ended and was forgotten)"));
        };
        let what = match self.inner.incidents.repository().load(id).await? {
            Some((incident, _)) => format!(
                "{} {} in {}",
                incident.severity.as_str(),
                incident.incident_type.as_str(),
                incident.environment.as_str()
            ),
            None => "incident record expired".to_owned(),
        };
        Ok(describe(&conversation, &what, Utc::now()))
    }

    /// Every open incident, one line each.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn list(&self) -> Result<String, DriverError> {
        let store = self.inner.store.as_ref();
        let mut ids = store.members(persist::OPEN).await?;
        ids.sort();
        if ids.is_empty() {
            return Ok("No open incidents.".into());
        }
        let mut lines = vec![format!("{} open incident(s):", ids.len())];
        for id in ids.iter().take(LIST_LIMIT) {
            let id = IncidentId::from_stored(id.as_str());
            if let Some((conversation, _)) = persist::load(store, &id).await? {
                lines.push(format!(
                    "• {id}: {} for {}",
                    conversation.state.name(),
                    age(conversation.opened_at, Utc::now())
                ));
            }
        }
        if ids.len() > LIST_LIMIT {
            lines.push(format!("… and {} more", ids.len() - LIST_LIMIT));
        }
        Ok(lines.join("\n"))
    }
}

/// The `/incident status` line of `conversation`; `what` names the incident ("critical
/// stuck_rollout in production").
pub fn describe(conversation: &Conversation, what: &str, now: DateTime<Utc>) -> String {
    let state = &conversation.state;
    let mut text = format!(
        "{} ({what}): {}, open for {}",
        conversation.incident,
        state.name(),
        age(conversation.opened_at, now)
    );
    match state {
        State::AwaitingApproval(awaiting) => text.push_str(&format!(
            ". Asking to approve {}; expires {}; {} of {} approval(s)",
            awaiting.pending.action,
            hhmm(awaiting.expires_at),
            awaiting.approvals.len(),
            awaiting.needed
        )),
        State::Approved(running) | State::Executing(running) | State::Verifying(running) => text
            .push_str(&format!(
                ". Last action: {} approved by {}",
                running.pending.action,
                running.approvers.join(" and ")
            )),
        _ => {
            if let Some(pending) = state.pending() {
                text.push_str(&format!(". Last action: {}", pending.action));
            }
        }
    }
    if let State::Rejected(closed)
    | State::Expired(closed)
    | State::Resolved(closed)
    | State::Escalated(closed)
    | State::Failed(closed)
    | State::Suppressed { closed, .. } = state
    {
        text.push_str(&format!(". {}", closed.reason));
    }
    if let Some(by) = &conversation.acked_by {
        text.push_str(&format!(". Acknowledged by {by}"));
    }
    text
}

fn age(since: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let minutes = (now - since).num_minutes().max(0);
    if minutes < 60 {
        format!("{minutes}m")
    } else {
        format!("{}h{:02}m", minutes / 60, minutes % 60)
    }
}
