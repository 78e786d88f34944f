//! The Redis store: the production implementation, shared by every bot replica.
//!
//! Documents are hashes `{v: version, d: value}`; compare-and-set, claims, releases, renewals
//! and admissions are Lua scripts (in `scripts`), so each is one atomic round trip. Logs are
//! streams whose entries hold the value in the field `v`; windows are sorted sets scored by
//! admission time in milliseconds. Connections go through a lazy [`ConnectionManager`]: the
//! service starts while Redis is down and reconnects when it returns.

mod logs;
mod scripts;
mod windows;

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands, RedisError, Script};

use crate::config::Secret;

use super::{
    Admission, CasOutcome, Claim, LogEntry, LogId, SideEffect, Store, StoreError, Version,
    Versioned, WindowEntry, Write,
};

/// How to reach Redis.
#[derive(Debug, Clone)]
pub struct RedisStoreConfig {
    /// `redis://`, `rediss://` or `unix://` URL; a secret, as it may hold a password.
    pub url: Secret,
    /// Prepended, with a `:`, to every key this store touches.
    pub key_prefix: String,
    /// Deadline for establishing a connection.
    pub connect_timeout: Duration,
    /// Deadline for one command's answer.
    pub command_timeout: Duration,
}

/// A [`Store`] in Redis.
#[derive(Clone)]
pub struct RedisStore {
    connection: ConnectionManager,
    prefix: String,
    cas: Script,
    claim: Script,
    release: Script,
    renew: Script,
    admit: Script,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

fn classify(operation: &'static str, error: RedisError) -> StoreError {
    let transient = error.is_io_error()
        || error.is_timeout()
        || error.is_connection_dropped()
        || error.is_connection_refusal()
        || error.is_unrecoverable_error();
    let source = Box::new(error);
    if transient {
        StoreError::Unavailable { operation, source }
    } else {
        StoreError::Refused { operation, source }
    }
}

fn millis(ttl: Option<Duration>) -> u64 {
    // A TTL under one millisecond would mean "forever" to the scripts; round it up instead.
    ttl.map_or(0, |ttl| {
        u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
    })
}

impl RedisStore {
    /// Builds the store without connecting; the first command connects.
    ///
    /// # Errors
    /// Only a malformed URL fails here; an unreachable server surfaces on the first command.
    pub fn new(config: &RedisStoreConfig) -> Result<Self, StoreError> {
        let client =
            redis::Client::open(config.url.expose()).map_err(|error| classify("connect", error))?;
        let manager_config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(config.connect_timeout))
            .set_response_timeout(Some(config.command_timeout))
            // Fail the request fast and let the next one reconnect: Alertmanager retries on 503.
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_secs(2));
        let connection = ConnectionManager::new_lazy_with_config(client, manager_config)
            .map_err(|error| classify("connect", error))?;
        Ok(Self {
            connection,
            prefix: config.key_prefix.clone(),
            cas: Script::new(scripts::CAS),
            claim: Script::new(scripts::CLAIM),
            release: Script::new(scripts::RELEASE),
            renew: Script::new(scripts::RENEW),
            admit: Script::new(scripts::ADMIT),
        })
    }

    fn key(&self, key: &str) -> String {
        format!("{}:{key}", self.prefix)
    }
}

#[async_trait]
impl Store for RedisStore {
    async fn get(&self, key: &str) -> Result<Option<Versioned>, StoreError> {
        let mut connection = self.connection.clone();
        let (version, value): (Option<Version>, Option<Vec<u8>>) = redis::cmd("HMGET")
            .arg(self.key(key))
            .arg("v")
            .arg("d")
            .query_async(&mut connection)
            .await
            .map_err(|error| classify("get", error))?;
        match (version, value) {
            (Some(version), Some(value)) => Ok(Some(Versioned { version, value })),
            (None, None) => Ok(None),
            _ => Err(StoreError::Corrupt {
                key: key.to_owned(),
                reason: "document has a version or a value but not both".into(),
            }),
        }
    }

    async fn compare_and_set(
        &self,
        key: &str,
        expected: Version,
        write: Write,
    ) -> Result<CasOutcome, StoreError> {
        let mut invocation = self.cas.prepare_invoke();
        invocation
            .key(self.key(key))
            .arg(expected)
            .arg(write.value)
            .arg(millis(write.ttl));
        for effect in &write.effects {
            let (target, op, arg, ttl) = match effect {
                SideEffect::AddToSet { set, member } => (set, "sadd", member.as_bytes(), None),
                SideEffect::RemoveFromSet { set, member } => (set, "srem", member.as_bytes(), None),
                SideEffect::Bind { key, value, ttl } => (key, "bind", value.as_bytes(), *ttl),
                SideEffect::Append { log, value } => (log, "xadd", value.as_slice(), None),
            };
            invocation
                .key(self.key(target))
                .arg(op)
                .arg(arg)
                .arg(millis(ttl));
        }
        let mut connection = self.connection.clone();
        let (written, version): (u8, Version) = invocation
            .invoke_async(&mut connection)
            .await
            .map_err(|error| classify("compare-and-set", error))?;
        Ok(if written == 1 {
            CasOutcome::Written { version }
        } else {
            CasOutcome::Conflict { current: version }
        })
    }

    async fn claim(
        &self,
        key: &str,
        value: &str,
        ttl: Option<Duration>,
    ) -> Result<Claim, StoreError> {
        let mut connection = self.connection.clone();
        let held: Option<String> = self
            .claim
            .key(self.key(key))
            .arg(value)
            .arg(millis(ttl))
            .invoke_async(&mut connection)
            .await
            .map_err(|error| classify("claim", error))?;
        Ok(held.map_or(Claim::Claimed, Claim::Held))
    }

    async fn release(&self, key: &str, value: &str) -> Result<bool, StoreError> {
        let mut connection = self.connection.clone();
        let deleted: u8 = self
            .release
            .key(self.key(key))
            .arg(value)
            .invoke_async(&mut connection)
            .await
            .map_err(|error| classify("release", error))?;
        Ok(deleted == 1)
    }

    async fn renew(&self, key: &str, value: &str, ttl: Duration) -> Result<bool, StoreError> {
        let mut connection = self.connection.clone();
        let renewed: u8 = self
            .renew
            .key(self.key(key))
            .arg(value)
            .arg(millis(Some(ttl)))
            .invoke_async(&mut connection)
            .await
            .map_err(|error| classify("renew", error))?;
        Ok(renewed == 1)
    }

    async fn peek(&self, key: &str) -> Result<Option<String>, StoreError> {
        let mut connection = self.connection.clone();
        connection
            .get(self.key(key))
            .await
            .map_err(|error| classify("peek", error))
    }

    async fn take(&self, key: &str) -> Result<Option<String>, StoreError> {
        let mut connection = self.connection.clone();
        redis::cmd("GETDEL")
            .arg(self.key(key))
            .query_async(&mut connection)
            .await
            .map_err(|error| classify("take", error))
    }

    async fn members(&self, set: &str) -> Result<Vec<String>, StoreError> {
        let mut connection = self.connection.clone();
        connection
            .smembers(self.key(set))
            .await
            .map_err(|error| classify("members", error))
    }

    async fn append(&self, log: &str, value: &[u8]) -> Result<LogId, StoreError> {
        logs::append(self, log, value).await
    }

    async fn read_log(
        &self,
        log: &str,
        after: Option<&LogId>,
        limit: usize,
    ) -> Result<Vec<LogEntry>, StoreError> {
        logs::read(self, log, after, limit).await
    }

    async fn admit(
        &self,
        key: &str,
        member: &str,
        now: DateTime<Utc>,
        window: Duration,
        limit: usize,
    ) -> Result<Admission, StoreError> {
        windows::admit(self, key, member, now, window, limit).await
    }

    async fn window(
        &self,
        key: &str,
        now: DateTime<Utc>,
        window: Duration,
    ) -> Result<Vec<WindowEntry>, StoreError> {
        windows::read(self, key, now, window).await
    }

    async fn withdraw(&self, key: &str, member: &str) -> Result<(), StoreError> {
        windows::withdraw(self, key, member).await
    }

    async fn durability_warning(&self) -> Option<String> {
        let mut connection = self.connection.clone();
        let info: String = redis::cmd("INFO")
            .arg("persistence")
            .query_async(&mut connection)
            .await
            .ok()?;
        let aof_off = info.lines().any(|line| line.trim() == "aof_enabled:0");
        aof_off.then(|| {
            "Redis runs without append-only persistence (appendonly no): an acknowledged alert \
             lives only in Redis memory until the next snapshot; set `appendonly yes` on Redis"
                .to_owned()
        })
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let mut connection = self.connection.clone();
        redis::cmd("PING")
            .query_async::<String>(&mut connection)
            .await
            .map(drop)
            .map_err(|error| classify("ping", error))
    }
}
