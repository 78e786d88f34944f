//! Sliding windows as Redis sorted sets scored by admission time in milliseconds.

use std::time::Duration;

use chrono::{DateTime, Utc};
use redis::AsyncCommands;

use super::{RedisStore, classify, millis};
use crate::store::window::{cutoff, millis as at_millis};
use crate::store::{Admission, StoreError, WindowEntry};

fn corrupt(key: &str, reason: String) -> StoreError {
    StoreError::Corrupt {
        key: key.to_owned(),
        reason,
    }
}

/// A score (admission time in ms) as a time.
fn time(key: &str, score: f64) -> Result<DateTime<Utc>, StoreError> {
    // Scores are whole milliseconds, exact in a double up to 2^53 ms (year 287396).
    let at = (score.is_finite() && score.abs() < 9.0e15)
        .then(|| DateTime::from_timestamp_millis(score.round() as i64))
        .flatten();
    at.ok_or_else(|| corrupt(key, format!("admission time {score} ms is out of range")))
}

pub(super) async fn admit(
    store: &RedisStore,
    key: &str,
    member: &str,
    now: DateTime<Utc>,
    window: Duration,
    limit: usize,
) -> Result<Admission, StoreError> {
    let mut connection = store.connection.clone();
    let (admitted, count, oldest): (u8, usize, Option<String>) = store
        .admit
        .key(store.key(key))
        .arg(member)
        .arg(at_millis(now))
        .arg(cutoff(now, window))
        .arg(millis(Some(window)))
        .arg(limit)
        .invoke_async(&mut connection)
        .await
        .map_err(|error| classify("admit", error))?;
    if admitted == 1 {
        return Ok(Admission::Admitted { count });
    }
    let oldest = match oldest {
        None => now,
        Some(score) => {
            let score = score
                .parse::<f64>()
                .map_err(|_| corrupt(key, format!("admission time `{score}` is not a number")))?;
            time(key, score)?
        }
    };
    Ok(Admission::Full { count, oldest })
}

pub(super) async fn read(
    store: &RedisStore,
    key: &str,
    now: DateTime<Utc>,
    window: Duration,
) -> Result<Vec<WindowEntry>, StoreError> {
    let mut connection = store.connection.clone();
    let reply: Vec<(String, f64)> = redis::cmd("ZRANGEBYSCORE")
        .arg(store.key(key))
        .arg(cutoff(now, window))
        .arg("+inf")
        .arg("WITHSCORES")
        .query_async(&mut connection)
        .await
        .map_err(|error| classify("window", error))?;
    reply
        .into_iter()
        .map(|(member, score)| {
            let at = time(key, score)?;
            Ok(WindowEntry { member, at })
        })
        .collect()
}

pub(super) async fn withdraw(
    store: &RedisStore,
    key: &str,
    member: &str,
) -> Result<(), StoreError> {
    let mut connection = store.connection.clone();
    connection
        .zrem::<_, _, ()>(store.key(key), member)
        .await
        .map_err(|error| classify("withdraw", error))
}
