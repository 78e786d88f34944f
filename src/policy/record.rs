//! Auditing policy: every decision in its incident's trail (and in a log of decisions that
//! `robot-sre policy test` replays), and every operator-rule change in the `policy` trail.
//!
//! Keys: the log `policy:decisions` holds `{incident, decision}` records, oldest first; the
//! document `policy:rules` holds the rule set last recorded; the audit log `audit:policy` (the
//! trail of the pseudo-incident [`POLICY_TRAIL`]) holds `rule_changed` records.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::decision::{Decision, DecisionContext, IncidentFacts};
use super::rules::{OperatorRule, RuleSet};
use crate::audit::{Actor, AuditEntry, AuditId, AuditKind, AuditLog};
use crate::incidents::IncidentId;
use crate::store::{CasOutcome, LogId, Store, StoreError, Write};

/// The audit trail of policy itself (`robot-sre audit policy`).
pub const POLICY_TRAIL: &str = "policy";
const DECISIONS_LOG: &str = "policy:decisions";
const RULES_KEY: &str = "policy:rules";
/// Compare-and-set attempts before giving up on recording rule changes.
const MAX_ATTEMPTS: usize = 16;

/// One decision as the decisions log keeps it: with its inputs, so it can be replayed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedDecision {
    pub incident: IncidentId,
    pub facts: IncidentFacts,
    pub context: DecisionContext,
    pub decision: Decision,
}

/// Writes decisions and rule changes to the audit trail.
#[derive(Clone)]
pub struct PolicyAudit {
    store: Arc<dyn Store>,
    audit: AuditLog,
}

impl PolicyAudit {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            audit: AuditLog::new(store.clone()),
            store,
        }
    }

    /// Records a decision in the incident's trail (kind `policy_decision`, every reason in
    /// `reason`, the whole decision in `detail`) and, with the facts and context it was made
    /// from, in the decisions log.
    ///
    /// # Errors
    /// When the store fails; the trail record is written first, so an error after it leaves
    /// the decision audited but not replayable.
    ///
    /// # Idempotency
    /// None: recording twice writes two records (a later decision is a new fact).
    pub async fn record_decision(
        &self,
        incident: &IncidentId,
        facts: &IncidentFacts,
        context: &DecisionContext,
        decision: &Decision,
        actor: Actor,
    ) -> Result<AuditId, StoreError> {
        let mut entry = AuditEntry::new(AuditKind::PolicyDecision, actor, decision.summary())
            .with_detail(serde_json::to_value(decision).unwrap_or_default());
        if let Some(action) = &decision.action {
            entry = entry
                .with_action(action.kind.as_str())
                .with_target(action.target.to_string());
        }
        let id = self.audit.record(incident, entry).await?;
        let record = RecordedDecision {
            incident: incident.clone(),
            facts: facts.clone(),
            context: context.clone(),
            decision: decision.clone(),
        };
        let value = serde_json::to_vec(&record).map_err(|e| corrupt(DECISIONS_LOG, e))?;
        self.store.append(DECISIONS_LOG, &value).await?;
        Ok(id)
    }

    /// The decisions recorded since `since`; the latest per incident wins.
    ///
    /// # Errors
    /// When the store fails or a record cannot be read.
    pub async fn decisions_since(
        &self,
        since: DateTime<Utc>,
    ) -> Result<BTreeMap<IncidentId, RecordedDecision>, StoreError> {
        let start = u64::try_from(since.timestamp_millis()).unwrap_or(0);
        let mut after = Some(LogId::new(start.saturating_sub(1), u64::MAX));
        let mut found = BTreeMap::new();
        loop {
            let page = self
                .store
                .read_log(DECISIONS_LOG, after.as_ref(), 256)
                .await?;
            let done = page.len() < 256;
            for entry in page {
                after = Some(entry.id);
                let record: RecordedDecision =
                    serde_json::from_slice(&entry.value).map_err(|e| corrupt(DECISIONS_LOG, e))?;
                found.insert(record.incident.clone(), record);
            }
            if done {
                return Ok(found);
            }
        }
    }

    /// Compares `rules` with the rule set recorded last and writes one `rule_changed` record
    /// per added, changed or removed rule (the rule's owner as the actor), together with the
    /// new rule set, in one compare-and-set. Returns the changes.
    ///
    /// # Errors
    /// When the store fails, the stored rule set is unreadable, or other writers keep winning.
    ///
    /// # Idempotency
    /// Loading the same rules again records nothing; replicas loading the same change at once
    /// record it once.
    pub async fn record_rules(
        &self,
        rules: &RuleSet,
        now: DateTime<Utc>,
    ) -> Result<Vec<RuleChange>, StoreError> {
        let trail = IncidentId::from_stored(POLICY_TRAIL);
        for _ in 0..MAX_ATTEMPTS {
            let stored = self.store.get(RULES_KEY).await?;
            let (version, before) = match &stored {
                Some(doc) => (
                    doc.version,
                    serde_json::from_slice::<RuleSet>(&doc.value)
                        .map_err(|e| corrupt(RULES_KEY, e))?,
                ),
                None => (0, RuleSet::default()),
            };
            let changes = diff(&before, rules);
            if changes.is_empty() {
                return Ok(changes);
            }
            let effects = changes
                .iter()
                .map(|c| AuditLog::append_effect(&trail, &c.entry(now)))
                .collect();
            let value = serde_json::to_vec(rules).map_err(|e| corrupt(RULES_KEY, e))?;
            let write = Write {
                value,
                ttl: None,
                effects,
            };
            if let CasOutcome::Written { .. } = self
                .store
                .compare_and_set(RULES_KEY, version, write)
                .await?
            {
                return Ok(changes);
            }
        }
        Err(StoreError::Corrupt {
            key: RULES_KEY.into(),
            reason: format!(
                "the recorded rule set kept changing; gave up after {MAX_ATTEMPTS} attempts"
            ),
        })
    }
}

fn corrupt(key: &str, error: serde_json::Error) -> StoreError {
    StoreError::Corrupt {
        key: key.into(),
        reason: error.to_string(),
    }
}

/// One rule change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleChange {
    pub id: String,
    pub owner: String,
    /// `added`, `removed` or `changed`.
    pub change: &'static str,
    pub from_version: Option<u32>,
    pub to_version: Option<u32>,
    /// The top-level fields that differ.
    pub fields: Vec<String>,
}

impl RuleChange {
    /// The sentence audit records and logs show.
    pub fn describe(&self) -> String {
        let version = |v: Option<u32>| v.map_or_else(String::new, |v| format!("@{v}"));
        match self.change {
            "added" => format!(
                "rule {}{} added by {}",
                self.id,
                version(self.to_version),
                self.owner
            ),
            "removed" => format!(
                "rule {}{} removed (owner {})",
                self.id,
                version(self.from_version),
                self.owner
            ),
            _ => format!(
                "rule {} changed by {} from version {} to {}: {}",
                self.id,
                self.owner,
                self.from_version.unwrap_or_default(),
                self.to_version.unwrap_or_default(),
                self.fields.join(", ")
            ),
        }
    }

    fn entry(&self, now: DateTime<Utc>) -> AuditEntry {
        let actor = Actor::Human {
            id: self.owner.clone(),
            channel: "rules".into(),
        };
        AuditEntry::new(AuditKind::RuleChanged, actor, self.describe())
            .with_time(now)
            .with_target(format!("rule/{}", self.id))
            .with_detail(serde_json::to_value(self).unwrap_or_default())
    }
}

/// The changes from `before` to `after`, by rule id, in id order.
pub fn diff(before: &RuleSet, after: &RuleSet) -> Vec<RuleChange> {
    let index = |set: &RuleSet| -> BTreeMap<String, OperatorRule> {
        set.rules
            .iter()
            .map(|r| (r.id.clone(), r.clone()))
            .collect()
    };
    let (old, new) = (index(before), index(after));
    let mut changes = Vec::new();
    for (id, rule) in &new {
        match old.get(id) {
            None => changes.push(change(rule, "added", None, Some(rule.version), Vec::new())),
            Some(previous) if previous != rule => {
                let fields = changed_fields(previous, rule);
                changes.push(change(
                    rule,
                    "changed",
                    Some(previous.version),
                    Some(rule.version),
                    fields,
                ));
            }
            Some(_) => {}
        }
    }
    for (id, rule) in &old {
        if !new.contains_key(id) {
            changes.push(change(
                rule,
                "removed",
                Some(rule.version),
                None,
                Vec::new(),
            ));
        }
    }
    changes.sort_by(|a, b| a.id.cmp(&b.id));
    changes
}

fn change(
    rule: &OperatorRule,
    kind: &'static str,
    from: Option<u32>,
    to: Option<u32>,
    fields: Vec<String>,
) -> RuleChange {
    RuleChange {
        id: rule.id.clone(),
        owner: rule.owner.clone(),
        change: kind,
        from_version: from,
        to_version: to,
        fields,
    }
}

fn changed_fields(before: &OperatorRule, after: &OperatorRule) -> Vec<String> {
    let as_map = |rule: &OperatorRule| match serde_json::to_value(rule) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    };
    let (old, new) = (as_map(before), as_map(after));
    let mut fields: Vec<String> = new
        .iter()
        .filter(|(key, value)| old.get(*key) != Some(*value))
        .map(|(key, _)| key.clone())
        .chain(old.keys().filter(|key| !new.contains_key(*key)).cloned())
        .collect();
    fields.sort();
    fields.dedup();
    fields
}

#[cfg(test)]
#[path = "record_tests.rs"]
mod tests;
