//! The in-memory store: one process, no persistence. The embedded default and the quick start.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::{CasOutcome, Claim, SideEffect, Store, StoreError, Version, Versioned, Write};

#[derive(Debug)]
enum Value {
    Document { version: Version, value: Vec<u8> },
    Text(String),
    Set(HashSet<String>),
}

#[derive(Debug)]
struct Entry {
    value: Value,
    expires_at: Option<Instant>,
}

impl Entry {
    fn live(&self, now: Instant) -> bool {
        self.expires_at.is_none_or(|at| at > now)
    }
}

/// A [`Store`] held in this process's memory. Expired entries are dropped when next touched.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    entries: HashMap<String, Entry>,
    operations: u64,
}

/// How many operations pass between full sweeps of expired entries that nobody touched.
const SWEEP_EVERY: u64 = 4096;

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs `f` on the live entries. A poisoned lock only means another task panicked while
    /// holding it; every mutation below is completed before the lock is released, so the map
    /// is still consistent and is used as is.
    fn with_entries<T>(&self, f: impl FnOnce(&mut HashMap<String, Entry>, Instant) -> T) -> T {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let now = Instant::now();
        state.operations += 1;
        if state.operations.is_multiple_of(SWEEP_EVERY) {
            state.entries.retain(|_, entry| entry.live(now));
        }
        f(&mut state.entries, now)
    }
}

/// The live value at `key`, dropping it first if it has expired.
fn live<'a>(
    entries: &'a mut HashMap<String, Entry>,
    key: &str,
    now: Instant,
) -> Option<&'a mut Entry> {
    if entries.get(key).is_some_and(|entry| !entry.live(now)) {
        entries.remove(key);
    }
    entries.get_mut(key)
}

fn wrong_type(key: &str, operation: &'static str) -> StoreError {
    StoreError::Refused {
        operation,
        source: format!("key {key} holds a different kind of value").into(),
    }
}

fn current_version(
    entries: &mut HashMap<String, Entry>,
    key: &str,
    now: Instant,
) -> Result<Version, StoreError> {
    match live(entries, key, now).map(|e| &e.value) {
        None => Ok(0),
        Some(Value::Document { version, .. }) => Ok(*version),
        Some(_) => Err(wrong_type(key, "compare-and-set")),
    }
}

/// Whether `effect` can apply: `Ok(false)` when a bind finds its key held by another value.
fn admissible(
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
    }
}

fn apply(entries: &mut HashMap<String, Entry>, effect: SideEffect, now: Instant) {
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
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn get(&self, key: &str) -> Result<Option<Versioned>, StoreError> {
        self.with_entries(
            |entries, now| match live(entries, key, now).map(|e| &e.value) {
                None => Ok(None),
                Some(Value::Document { version, value }) => Ok(Some(Versioned {
                    version: *version,
                    value: value.clone(),
                })),
                Some(_) => Err(wrong_type(key, "get")),
            },
        )
    }

    async fn compare_and_set(
        &self,
        key: &str,
        expected: Version,
        write: Write,
    ) -> Result<CasOutcome, StoreError> {
        self.with_entries(|entries, now| {
            let current = current_version(entries, key, now)?;
            if current != expected {
                return Ok(CasOutcome::Conflict { current });
            }
            for effect in &write.effects {
                if !admissible(entries, effect, now)? {
                    return Ok(CasOutcome::Conflict { current });
                }
            }
            let version = current + 1;
            let entry = Entry {
                value: Value::Document {
                    version,
                    value: write.value,
                },
                expires_at: write.ttl.map(|ttl| now + ttl),
            };
            entries.insert(key.to_owned(), entry);
            for effect in write.effects {
                apply(entries, effect, now);
            }
            Ok(CasOutcome::Written { version })
        })
    }

    async fn claim(
        &self,
        key: &str,
        value: &str,
        ttl: Option<Duration>,
    ) -> Result<Claim, StoreError> {
        self.with_entries(
            |entries, now| match live(entries, key, now).map(|e| &e.value) {
                Some(Value::Text(held)) => Ok(Claim::Held(held.clone())),
                Some(_) => Err(wrong_type(key, "claim")),
                None => {
                    let entry = Entry {
                        value: Value::Text(value.to_owned()),
                        expires_at: ttl.map(|ttl| now + ttl),
                    };
                    entries.insert(key.to_owned(), entry);
                    Ok(Claim::Claimed)
                }
            },
        )
    }

    async fn members(&self, set: &str) -> Result<Vec<String>, StoreError> {
        self.with_entries(
            |entries, now| match live(entries, set, now).map(|e| &e.value) {
                None => Ok(Vec::new()),
                Some(Value::Set(members)) => Ok(members.iter().cloned().collect()),
                Some(_) => Err(wrong_type(set, "members")),
            },
        )
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
}
