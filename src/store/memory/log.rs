//! Logs in the memory store: entries in id order, ids in the Redis stream format.

use std::collections::HashMap;

use chrono::Utc;
use tokio::time::Instant;

use super::{Entry, Value, live, wrong_type};
use crate::store::{LogEntry, LogId, StoreError};

#[derive(Debug)]
pub(super) struct Log {
    entries: Vec<LogEntry>,
    /// The last id handed out; `0-0` before the first, as in Redis.
    last: LogId,
}

impl Log {
    /// Appends with the next id: the current millisecond, or the last id's millisecond when
    /// the clock stepped back, so ids keep increasing as Redis's do.
    fn push(&mut self, value: Vec<u8>) -> LogId {
        let clock = u64::try_from(Utc::now().timestamp_millis()).unwrap_or(0);
        let id = if clock > self.last.millis() {
            LogId::new(clock, 0)
        } else {
            self.last.successor()
        };
        self.last = id;
        self.entries.push(LogEntry { id, value });
        id
    }
}

impl Default for Log {
    fn default() -> Self {
        Self {
            entries: Vec::new(),
            last: LogId::new(0, 0),
        }
    }
}

pub(super) fn append(
    entries: &mut HashMap<String, Entry>,
    key: &str,
    value: Vec<u8>,
    now: Instant,
) -> Result<LogId, StoreError> {
    if live(entries, key, now).is_none() {
        let log = Entry {
            value: Value::Log(Log::default()),
            expires_at: None,
        };
        entries.insert(key.to_owned(), log);
    }
    match entries.get_mut(key).map(|e| &mut e.value) {
        Some(Value::Log(log)) => Ok(log.push(value)),
        _ => Err(wrong_type(key, "append")),
    }
}

pub(super) fn read(
    entries: &mut HashMap<String, Entry>,
    key: &str,
    after: Option<&LogId>,
    limit: usize,
    now: Instant,
) -> Result<Vec<LogEntry>, StoreError> {
    match live(entries, key, now).map(|e| &e.value) {
        None => Ok(Vec::new()),
        Some(Value::Log(log)) => {
            let start = after.map_or(0, |after| {
                log.entries.partition_point(|entry| entry.id <= *after)
            });
            Ok(log.entries[start..].iter().take(limit).cloned().collect())
        }
        Some(_) => Err(wrong_type(key, "read-log")),
    }
}
