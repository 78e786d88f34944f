//! Sliding windows in the memory store: members and their admission times.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::time::Instant;

use super::{Entry, Value, live, wrong_type};
use crate::store::window::{cutoff, millis};
use crate::store::{Admission, StoreError, WindowEntry};

/// The arguments of one admission.
pub(super) struct Request<'a> {
    pub key: &'a str,
    pub member: &'a str,
    pub now: DateTime<Utc>,
    pub window: Duration,
    pub limit: usize,
}

fn members<'a>(
    entries: &'a mut HashMap<String, Entry>,
    key: &str,
    operation: &'static str,
    instant: Instant,
) -> Result<Option<&'a mut HashMap<String, i64>>, StoreError> {
    match live(entries, key, instant).map(|e| &mut e.value) {
        None => Ok(None),
        Some(Value::Window(members)) => Ok(Some(members)),
        Some(_) => Err(wrong_type(key, operation)),
    }
}

fn time(key: &str, at: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_millis(at).ok_or_else(|| StoreError::Corrupt {
        key: key.to_owned(),
        reason: format!("admission time {at} ms is out of range"),
    })
}

pub(super) fn admit(
    entries: &mut HashMap<String, Entry>,
    request: &Request<'_>,
    instant: Instant,
) -> Result<Admission, StoreError> {
    let Request {
        key,
        member,
        now,
        window,
        limit,
    } = *request;
    let oldest_kept = cutoff(now, window);
    let mut window_members = members(entries, key, "admit", instant)?
        .map(std::mem::take)
        .unwrap_or_default();
    let mut expires_at = entries.get(key).and_then(|entry| entry.expires_at);
    window_members.retain(|_, at| *at >= oldest_kept);
    let count = window_members.len();
    let admitted = window_members.contains_key(member) || count < limit;
    if admitted {
        window_members.insert(member.to_owned(), millis(now));
        expires_at = Some(instant + window);
    }
    let oldest = window_members.values().min().copied();
    let count_after = window_members.len();
    if window_members.is_empty() {
        entries.remove(key);
    } else {
        let value = Value::Window(window_members);
        entries.insert(key.to_owned(), Entry { value, expires_at });
    }
    if admitted {
        return Ok(Admission::Admitted { count: count_after });
    }
    let oldest = oldest.map_or(Ok(now), |at| time(key, at))?;
    Ok(Admission::Full { count, oldest })
}

pub(super) fn read(
    entries: &mut HashMap<String, Entry>,
    key: &str,
    now: DateTime<Utc>,
    window: Duration,
    instant: Instant,
) -> Result<Vec<WindowEntry>, StoreError> {
    let oldest_kept = cutoff(now, window);
    let Some(members) = members(entries, key, "window", instant)? else {
        return Ok(Vec::new());
    };
    let mut inside: Vec<(i64, &String)> = members
        .iter()
        .filter(|(_, at)| **at >= oldest_kept)
        .map(|(member, at)| (*at, member))
        .collect();
    // Ties broken by member, as a Redis sorted set orders equal scores.
    inside.sort();
    inside
        .into_iter()
        .map(|(at, member)| {
            Ok(WindowEntry {
                member: member.clone(),
                at: time(key, at)?,
            })
        })
        .collect()
}

pub(super) fn withdraw(
    entries: &mut HashMap<String, Entry>,
    key: &str,
    member: &str,
    instant: Instant,
) -> Result<(), StoreError> {
    let Some(members) = members(entries, key, "withdraw", instant)? else {
        return Ok(());
    };
    members.remove(member);
    if members.is_empty() {
        entries.remove(key);
    }
    Ok(())
}
