//! The in-memory store: one process, no persistence. The embedded default and the quick start.
//!
//! Expiry follows tokio's clock ([`tokio::time::Instant`]), which is the system's monotonic
//! clock except in a test that pauses time: there TTLs lapse as the paused clock advances.

mod effects;
mod log;
mod window;

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio::time::Instant;

use super::{
    Admission, CasOutcome, Claim, LogEntry, LogId, Store, StoreError, Version, Versioned,
    WindowEntry, Write,
};

#[derive(Debug)]
enum Value {
    Document {
        version: Version,
        value: Vec<u8>,
    },
    Text(String),
    Set(HashSet<String>),
    Log(log::Log),
    /// Members and their admission times in Unix milliseconds.
    Window(HashMap<String, i64>),
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
                if !effects::admissible(entries, effect, now)? {
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
                effects::apply(entries, effect, now);
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

    async fn release(&self, key: &str, value: &str) -> Result<bool, StoreError> {
        self.with_entries(
            |entries, now| match live(entries, key, now).map(|e| &e.value) {
                None => Ok(false),
                Some(Value::Text(held)) if held == value => {
                    entries.remove(key);
                    Ok(true)
                }
                Some(Value::Text(_)) => Ok(false),
                Some(_) => Err(wrong_type(key, "release")),
            },
        )
    }

    async fn renew(&self, key: &str, value: &str, ttl: Duration) -> Result<bool, StoreError> {
        self.with_entries(|entries, now| match live(entries, key, now) {
            None => Ok(false),
            Some(entry) => match &entry.value {
                Value::Text(held) if held == value => {
                    // A TTL too large to add to the clock is, in effect, forever.
                    entry.expires_at = now.checked_add(ttl);
                    Ok(true)
                }
                Value::Text(_) => Ok(false),
                _ => Err(wrong_type(key, "renew")),
            },
        })
    }

    async fn peek(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.with_entries(
            |entries, now| match live(entries, key, now).map(|e| &e.value) {
                None => Ok(None),
                Some(Value::Text(held)) => Ok(Some(held.clone())),
                Some(_) => Err(wrong_type(key, "peek")),
            },
        )
    }

    async fn take(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.with_entries(
            |entries, now| match live(entries, key, now).map(|e| &e.value) {
                None => Ok(None),
                Some(Value::Text(_)) => match entries.remove(key).map(|e| e.value) {
                    Some(Value::Text(held)) => Ok(Some(held)),
                    _ => Ok(None),
                },
                Some(_) => Err(wrong_type(key, "take")),
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

    async fn append(&self, log: &str, value: &[u8]) -> Result<LogId, StoreError> {
        self.with_entries(|entries, now| log::append(entries, log, value.to_vec(), now))
    }

    async fn read_log(
        &self,
        log: &str,
        after: Option<&LogId>,
        limit: usize,
    ) -> Result<Vec<LogEntry>, StoreError> {
        self.with_entries(|entries, now| log::read(entries, log, after, limit, now))
    }

    async fn admit(
        &self,
        key: &str,
        member: &str,
        now: DateTime<Utc>,
        window: Duration,
        limit: usize,
    ) -> Result<Admission, StoreError> {
        let request = window::Request {
            key,
            member,
            now,
            window,
            limit,
        };
        self.with_entries(|entries, instant| window::admit(entries, &request, instant))
    }

    async fn window(
        &self,
        key: &str,
        now: DateTime<Utc>,
        window: Duration,
    ) -> Result<Vec<WindowEntry>, StoreError> {
        self.with_entries(|entries, instant| window::read(entries, key, now, window, instant))
    }

    async fn withdraw(&self, key: &str, member: &str) -> Result<(), StoreError> {
        self.with_entries(|entries, instant| window::withdraw(entries, key, member, instant))
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
}
