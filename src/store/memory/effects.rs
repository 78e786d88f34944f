//! Side effects of a compare-and-set in the memory store: checked first, then applied.

use std::collections::{HashMap, HashSet};

use tokio::time::Instant;

use super::{Entry, Value, live, log, wrong_type};
use crate::store::{SideEffect, StoreError};

/// Whether `effect` can apply: `Ok(false)` when a bind finds its key held by another value.
pub(super) fn admissible(
    entries: &mut HashMap<String, Entry>,
    effect: &SideEffect,
    now: Instant,
) -> Result<bool, StoreError> {
    match effect {
        SideEffect::AddToSet { set, .. } | SideEffect::RemoveFromSet { set, .. } => {
            match live(entries, set, now).map(|e| &e.value) {
                None | Some(Value::Set(_)) => Ok(true),
                Some(_) => Err(wrong_type(set, "compare-and-set")),
            }
        }
        SideEffect::Bind { key, value, .. } => match live(entries, key, now).map(|e| &e.value) {
            None => Ok(true),
            Some(Value::Text(held)) => Ok(held == value),
            Some(_) => Err(wrong_type(key, "compare-and-set")),
        },
        SideEffect::Append { log, .. } => match live(entries, log, now).map(|e| &e.value) {
            None | Some(Value::Log(_)) => Ok(true),
            Some(_) => Err(wrong_type(log, "compare-and-set")),
        },
    }
}

pub(super) fn apply(entries: &mut HashMap<String, Entry>, effect: SideEffect, now: Instant) {
    match effect {
        SideEffect::AddToSet { set, member } => {
            let entry = entries.entry(set).or_insert_with(|| Entry {
                value: Value::Set(HashSet::new()),
                expires_at: None,
            });
            if let Value::Set(members) = &mut entry.value {
                members.insert(member);
            }
        }
        SideEffect::RemoveFromSet { set, member } => {
            if let Some(Entry {
                value: Value::Set(members),
                ..
            }) = entries.get_mut(&set)
            {
                members.remove(&member);
                if members.is_empty() {
                    entries.remove(&set);
                }
            }
        }
        SideEffect::Bind { key, value, ttl } => {
            let expires_at = ttl.map(|ttl| now + ttl);
            entries.insert(
                key,
                Entry {
                    value: Value::Text(value),
                    expires_at,
                },
            );
        }
        SideEffect::Append { log, value } => {
            // Checked by `admissible` under the same lock, so the append cannot be refused.
            let _ = log::append(entries, &log, value, now);
        }
    }
}
