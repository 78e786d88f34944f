//! The state store: a small trait over versioned documents, claims and sets, with a Redis
//! implementation for production and an in-memory one for a single process.
//!
//! Keys are logical (`incident:inc-…`); each implementation adds its own deployment prefix, so
//! no caller ever builds a Redis key. Every document update is a compare-and-set on a version
//! number, and the side effects of a write (index membership, TTL changes on related keys) are
//! applied atomically with it, so a reader never sees a document without its index entries.
//!
//! Besides documents: claims (a key holding one value), sets, append-only logs (the audit trail)
//! and sliding-window admission counters (rate limits, concurrency leases).

mod log;
mod memory;
mod redis;
mod window;

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

pub use self::log::{LogEntry, LogId, LogIdError};
pub use self::memory::MemoryStore;
pub use self::redis::{RedisStore, RedisStoreConfig};
pub use self::window::{Admission, WindowEntry};

/// A document version. `0` means "absent": writing with `expected == 0` creates the document.
pub type Version = u64;

/// A stored document and the version it was read at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versioned {
    pub version: Version,
    pub value: Vec<u8>,
}

/// Work applied atomically together with a successful compare-and-set. Every side effect is
/// checked before anything is written: if one cannot apply, nothing is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SideEffect {
    /// Add `member` to the set `set`.
    AddToSet { set: String, member: String },
    /// Remove `member` from the set `set`.
    RemoveFromSet { set: String, member: String },
    /// Make the claim `key` hold `value` with time to live `ttl` (`None` = forever), provided the
    /// key is free or already holds `value`. If another value holds it, the whole
    /// compare-and-set is a [`CasOutcome::Conflict`] and nothing is written: the caller re-reads
    /// the claim and decides again.
    Bind {
        key: String,
        value: String,
        ttl: Option<Duration>,
    },
    /// Append `value` to the log `log`, as [`Store::append`] does.
    Append { log: String, value: Vec<u8> },
}

/// A document write: the new value, its time to live, and the side effects.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Write {
    pub value: Vec<u8>,
    /// `None` keeps the document forever (any earlier expiry is removed).
    pub ttl: Option<Duration>,
    pub effects: Vec<SideEffect>,
}

/// The result of [`Store::compare_and_set`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CasOutcome {
    /// The write happened; the document now has this version.
    Written { version: Version },
    /// Someone else wrote first, or a [`SideEffect::Bind`] found its key held by another value;
    /// nothing was changed. `current` is the document version found.
    Conflict { current: Version },
}

/// The result of [`Store::claim`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key was free and now holds the offered value.
    Claimed,
    /// The key was already held; this is its value. Nothing was changed.
    Held(String),
}

/// Errors of the state store. Callers branch on [`StoreError::is_transient`].
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store could not be reached or did not answer in time; retrying later may succeed.
    #[error("state store unavailable during {operation}")]
    Unavailable {
        operation: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The store answered with an error (wrong type at a key, script failure).
    #[error("state store refused {operation}")]
    Refused {
        operation: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A stored value could not be decoded.
    #[error("stored value at {key} is unreadable: {reason}")]
    Corrupt { key: String, reason: String },
}

impl StoreError {
    /// Whether a retry after a pause may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::Unavailable { .. })
    }
}

/// The operations every store implementation provides.
///
/// # Guarantees
/// Each method is atomic on its own: a compare-and-set either applies the value, the TTL and all
/// side effects, or none of them (a side effect on a key of the wrong kind is refused before
/// anything is written). Implementations never panic on backend failure; they return
/// [`StoreError`].
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Reads a document, or `None` when it is absent or expired.
    async fn get(&self, key: &str) -> Result<Option<Versioned>, StoreError>;

    /// Writes `write` at `key` if the current version equals `expected` (`0` = absent).
    ///
    /// # Idempotency
    /// A conflict changes nothing, so the caller re-reads and decides again.
    async fn compare_and_set(
        &self,
        key: &str,
        expected: Version,
        write: Write,
    ) -> Result<CasOutcome, StoreError>;

    /// Sets `key` to `value` only if it is free; otherwise returns what holds it.
    async fn claim(
        &self,
        key: &str,
        value: &str,
        ttl: Option<Duration>,
    ) -> Result<Claim, StoreError>;

    /// Deletes the claim `key` if it holds `value`; `true` when it was deleted.
    ///
    /// # Guarantees
    /// Atomic: a claim that lapsed and was taken by another value in the meantime is left alone.
    ///
    /// # Idempotency
    /// Releasing again answers `false` and changes nothing.
    async fn release(&self, key: &str, value: &str) -> Result<bool, StoreError>;

    /// Resets the time to live of the claim `key` to `ttl`, provided it holds `value`; `true`
    /// when it did. A claim held forever gets `ttl` too. This is how a lease is kept.
    ///
    /// # Guarantees
    /// Atomic: the check and the new expiry are one step, so a claim that lapsed and was taken
    /// by another value is never extended for its new holder. On `false` (the key is free, has
    /// expired or holds another value) nothing changes.
    ///
    /// # Errors
    /// [`StoreError::Refused`] when `key` holds something other than a claim.
    ///
    /// # Idempotency
    /// Renewing again with the same `ttl` only moves the expiry to `ttl` from the latest call.
    async fn renew(&self, key: &str, value: &str, ttl: Duration) -> Result<bool, StoreError>;

    /// The value the claim `key` holds, without changing it (`None` when free or expired).
    async fn peek(&self, key: &str) -> Result<Option<String>, StoreError>;

    /// Deletes the claim `key` and returns the value it held (`None` when it was free or had
    /// expired).
    ///
    /// # Guarantees
    /// Atomic (Redis `GETDEL`): of any number of concurrent takes of one claim, exactly one gets
    /// its value. This is how one-time tokens are consumed.
    async fn take(&self, key: &str) -> Result<Option<String>, StoreError>;

    /// The members of a set (empty when the set does not exist), in no particular order.
    async fn members(&self, set: &str) -> Result<Vec<String>, StoreError>;

    /// Appends `value` to the log `log` (created on first use; logs never expire) and returns
    /// the new entry's id.
    ///
    /// # Guarantees
    /// Ids are `<ms>-<seq>` and strictly increase within a log, even when the clock steps back.
    ///
    /// # Idempotency
    /// None: every call appends one more entry. Callers that may retry append through a
    /// [`SideEffect::Append`] of the compare-and-set that records the fact instead.
    async fn append(&self, log: &str, value: &[u8]) -> Result<LogId, StoreError>;

    /// Up to `limit` entries of `log` whose id is strictly greater than `after` (`None` = from
    /// the start), oldest first. Empty for a log that does not exist.
    ///
    /// # Guarantees
    /// Paging with the last id read sees every entry exactly once, including entries appended
    /// between the pages.
    ///
    /// # Idempotency
    /// Read-only.
    async fn read_log(
        &self,
        log: &str,
        after: Option<&LogId>,
        limit: usize,
    ) -> Result<Vec<LogEntry>, StoreError>;

    /// Admits `member` to the sliding window `key` of length `window` ending at `now`, if it
    /// holds fewer than `limit` members. Members admitted before `now - window` are dropped
    /// first; the key itself expires `window` after the last admission.
    ///
    /// # Guarantees
    /// Atomic: concurrent callers never admit more than `limit` members. On
    /// [`Admission::Full`] nothing changes (apart from dropping members that left the window).
    /// With `limit == 0` and an empty window, `Full` names `now` as the oldest.
    ///
    /// # Idempotency
    /// A member already in the window is admitted again without counting twice: its time moves
    /// to `now` and the count is unchanged, even when the window is full.
    async fn admit(
        &self,
        key: &str,
        member: &str,
        now: DateTime<Utc>,
        window: Duration,
        limit: usize,
    ) -> Result<Admission, StoreError>;

    /// The members of the window `key` admitted at `now - window` or later, oldest first.
    ///
    /// # Idempotency
    /// Read-only: members outside the window are skipped, not dropped.
    async fn window(
        &self,
        key: &str,
        now: DateTime<Utc>,
        window: Duration,
    ) -> Result<Vec<WindowEntry>, StoreError>;

    /// Removes `member` from the window `key`, making room for another (ends a lease).
    ///
    /// # Idempotency
    /// Withdrawing a member that is not there changes nothing.
    async fn withdraw(&self, key: &str, member: &str) -> Result<(), StoreError>;

    /// Answers when the store is reachable.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Why an acknowledged write might not survive a crash of the store, if it might not.
    async fn durability_warning(&self) -> Option<String> {
        None
    }
}
