//! Following the demo's incidents: which incident each seed became, one status line whenever
//! its conversation moves, and whether it reached the end it must reach.

use std::sync::Arc;

use chrono::Utc;

use super::approve::ConsoleClient;
use super::seeds::Seed;
use crate::conversations::driver::persist;
use crate::conversations::state::State;
use crate::incidents::{IncidentId, IncidentRepository};
use crate::store::Store;

/// One seed and what became of it.
struct Row {
    seed: Seed,
    incident: Option<IncidentId>,
    line: String,
    /// `Some(true)` once it reached its expected end, `Some(false)` once it ended otherwise.
    verdict: Option<bool>,
    /// The prompt numbers already answered by `--approve-all`.
    answered: Vec<u32>,
}

/// The seeds being followed.
pub struct Watch {
    store: Arc<dyn Store>,
    repository: IncidentRepository,
    rows: Vec<Row>,
}

impl Watch {
    pub fn new(store: Arc<dyn Store>, seeds: Vec<Seed>) -> Self {
        let rows = seeds
            .into_iter()
            .map(|seed| Row {
                seed,
                incident: None,
                line: String::new(),
                verdict: None,
                answered: Vec::new(),
            })
            .collect();
        Self {
            repository: IncidentRepository::new(store.clone()),
            store,
            rows,
        }
    }

    /// Reads every seed's state once, prints what changed, and approves open prompts through
    /// the console when `approver` is given.
    ///
    /// # Errors
    /// When the store or the console fails.
    pub async fn poll(&mut self, approver: Option<&ConsoleClient>) -> anyhow::Result<()> {
        self.bind_incidents().await?;
        for row in &mut self.rows {
            let Some(id) = &row.incident else { continue };
            let Some((conversation, _)) = persist::load(self.store.as_ref(), id).await? else {
                continue;
            };
            let line = describe(&conversation.state);
            if line != row.line {
                println!(
                    "{}  {:<18} {}  {line}",
                    Utc::now().format("%H:%M:%S"),
                    row.seed.target,
                    id
                );
                row.line = line;
            }
            row.verdict = row.seed.expected.judge(&conversation.state);
            if let (Some(approver), State::AwaitingApproval(awaiting)) =
                (approver, &conversation.state)
                && !row.answered.contains(&awaiting.prompt)
            {
                approver.approve(id).await?;
                row.answered.push(awaiting.prompt);
            }
        }
        Ok(())
    }

    /// Finds the incident of each seed that has none yet, by its alert's labels.
    async fn bind_incidents(&mut self) -> anyhow::Result<()> {
        if self.rows.iter().all(|row| row.incident.is_some()) {
            return Ok(());
        }
        for id in self.repository.open_ids().await? {
            if self
                .rows
                .iter()
                .any(|row| row.incident.as_ref() == Some(&id))
            {
                continue;
            }
            let Some((incident, _)) = self.repository.load(&id).await? else {
                continue;
            };
            if let Some(row) = self
                .rows
                .iter_mut()
                .find(|row| row.incident.is_none() && row.seed.owns(&incident.labels))
            {
                println!(
                    "{}  {:<18} {id}  recorded: {}",
                    Utc::now().format("%H:%M:%S"),
                    row.seed.target,
                    row.seed.title()
                );
                row.incident = Some(id);
            }
        }
        Ok(())
    }

    /// Whether every seed has ended (as expected or not).
    pub fn ended(&self) -> bool {
        self.rows.iter().all(|row| row.verdict.is_some())
    }

    /// The incidents found so far.
    pub fn incidents(&self) -> Vec<IncidentId> {
        self.rows
            .iter()
            .filter_map(|r| r.incident.clone())
            .collect()
    }

    /// One line per seed: expected end, what happened; `true` when every seed met its end.
    pub fn report(&self) -> bool {
        let mut all = true;
        for row in &self.rows {
            let what = match (&row.incident, row.verdict) {
                (None, _) => "no incident was recorded".to_owned(),
                (Some(_), None) => format!("did not end in time; last: {}", row.line),
                (Some(_), Some(_)) => row.line.clone(),
            };
            let mark = if row.verdict == Some(true) {
                "ok  "
            } else {
                "FAIL"
            };
            all &= row.verdict == Some(true);
            println!(
                "  {mark} {} (expected: {}): {what}",
                row.seed.title(),
                row.seed.expected.describe()
            );
        }
        all
    }
}

/// A conversation's state in one line.
fn describe(state: &State) -> String {
    let name = state.name().as_str();
    match state {
        State::Triaged => name.to_owned(),
        State::AwaitingApproval(awaiting) => format!(
            "{name}: {} ({} of {} approval(s))",
            awaiting.pending.action,
            awaiting.approvals.len(),
            awaiting.needed
        ),
        State::Approved(running) | State::Executing(running) | State::Verifying(running) => {
            format!(
                "{name}: {} (approved by {})",
                running.pending.action,
                running.approvers.join(" and ")
            )
        }
        State::Rejected(closed)
        | State::Expired(closed)
        | State::Resolved(closed)
        | State::Escalated(closed)
        | State::Failed(closed)
        | State::Suppressed { closed, .. } => format!("{name}: {}", closed.reason),
    }
}
