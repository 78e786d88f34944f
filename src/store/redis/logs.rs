//! Logs as Redis streams: one entry per value, in the field `v`.

use super::{RedisStore, classify};
use crate::store::{LogEntry, LogId, StoreError};

/// The stream field that holds a log entry's value.
const VALUE_FIELD: &str = "v";

/// One XRANGE entry: its id and its flat field/value list.
type StreamEntry = (String, Vec<Vec<u8>>);

fn corrupt(log: &str, reason: String) -> StoreError {
    StoreError::Corrupt {
        key: log.to_owned(),
        reason,
    }
}

fn log_id(log: &str, id: &str) -> Result<LogId, StoreError> {
    LogId::parse(id).map_err(|error| corrupt(log, error.to_string()))
}

fn log_entry(log: &str, (id, fields): StreamEntry) -> Result<LogEntry, StoreError> {
    let id = log_id(log, &id)?;
    let value = fields
        .chunks_exact(2)
        .find(|pair| pair[0] == VALUE_FIELD.as_bytes())
        .map(|pair| pair[1].clone())
        .ok_or_else(|| corrupt(log, format!("entry {id} has no `{VALUE_FIELD}` field")))?;
    Ok(LogEntry { id, value })
}

pub(super) async fn append(
    store: &RedisStore,
    log: &str,
    value: &[u8],
) -> Result<LogId, StoreError> {
    let mut connection = store.connection.clone();
    let id: String = redis::cmd("XADD")
        .arg(store.key(log))
        .arg("*")
        .arg(VALUE_FIELD)
        .arg(value)
        .query_async(&mut connection)
        .await
        .map_err(|error| classify("append", error))?;
    log_id(log, &id)
}

pub(super) async fn read(
    store: &RedisStore,
    log: &str,
    after: Option<&LogId>,
    limit: usize,
) -> Result<Vec<LogEntry>, StoreError> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    // The inclusive start just past `after`, as exclusive ranges need Redis 6.2.
    let start = after.map_or_else(|| "-".to_owned(), |id| id.successor().to_string());
    let mut connection = store.connection.clone();
    let reply: Vec<StreamEntry> = redis::cmd("XRANGE")
        .arg(store.key(log))
        .arg(start)
        .arg("+")
        .arg("COUNT")
        .arg(limit)
        .query_async(&mut connection)
        .await
        .map_err(|error| classify("read-log", error))?;
    reply
        .into_iter()
        .map(|entry| log_entry(log, entry))
        .collect()
}
