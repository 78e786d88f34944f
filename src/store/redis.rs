//! The Redis store: the production implementation, shared by every bot replica.
//!
//! Documents are hashes `{v: version, d: value}`; compare-and-set and claims are Lua scripts, so
//! each is one atomic round trip. Every key named by a script is passed in `KEYS`, as Redis
//! requires for scripts that must run unchanged behind proxies. Connections go through a lazy
//! [`ConnectionManager`]: the service starts while Redis is down and reconnects when it returns.

use std::time::Duration;

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands, RedisError, Script};

use crate::config::Secret;

use super::{CasOutcome, Claim, SideEffect, Store, StoreError, Version, Versioned, Write};

/// Compare-and-set. KEYS[1] is the document; KEYS[2..] are the side-effect targets.
/// ARGV: expected version, value, ttl in ms (0 = none), then one (op, arg, ttl) triple per side
/// effect. Every side effect is checked before the first write, so a refusal writes nothing (Lua
/// scripts do not roll back).
const CAS_SCRIPT: &str = r#"
local current = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if current ~= tonumber(ARGV[1]) then return {0, current} end
for i = 2, #KEYS do
  local op, arg = ARGV[3 * i - 2], ARGV[3 * i - 1]
  local kind = redis.call('TYPE', KEYS[i])['ok']
  if op == 'sadd' or op == 'srem' then
    if kind ~= 'set' and kind ~= 'none' then return redis.error_reply('WRONGTYPE ' .. KEYS[i] .. ' is not a set') end
  elseif op == 'bind' then
    if kind ~= 'string' and kind ~= 'none' then return redis.error_reply('WRONGTYPE ' .. KEYS[i] .. ' is not a claim') end
    local held = redis.call('GET', KEYS[i])
    if held and held ~= arg then return {0, current} end
  else
    return redis.error_reply('unknown side effect ' .. op)
  end
end
local version = current + 1
redis.call('HSET', KEYS[1], 'v', version, 'd', ARGV[2])
if tonumber(ARGV[3]) > 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
else
  redis.call('PERSIST', KEYS[1])
end
for i = 2, #KEYS do
  local op, arg, ttl = ARGV[3 * i - 2], ARGV[3 * i - 1], tonumber(ARGV[3 * i])
  if op == 'sadd' then redis.call('SADD', KEYS[i], arg)
  elseif op == 'srem' then redis.call('SREM', KEYS[i], arg)
  elseif ttl > 0 then redis.call('SET', KEYS[i], arg, 'PX', ttl)
  else redis.call('SET', KEYS[i], arg) end
end
return {1, version}
"#;

/// Claim. KEYS[1] is the key; ARGV: value, ttl in ms (0 = none). Returns false when claimed.
const CLAIM_SCRIPT: &str = r#"
local held = redis.call('GET', KEYS[1])
if held then return held end
if tonumber(ARGV[2]) > 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
else
  redis.call('SET', KEYS[1], ARGV[1])
end
return false
"#;

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
            cas: Script::new(CAS_SCRIPT),
            claim: Script::new(CLAIM_SCRIPT),
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
                SideEffect::AddToSet { set, member } => (set, "sadd", member, None),
                SideEffect::RemoveFromSet { set, member } => (set, "srem", member, None),
                SideEffect::Bind { key, value, ttl } => (key, "bind", value, *ttl),
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

    async fn members(&self, set: &str) -> Result<Vec<String>, StoreError> {
        let mut connection = self.connection.clone();
        connection
            .smembers(self.key(set))
            .await
            .map_err(|error| classify("members", error))
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
