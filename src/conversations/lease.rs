//! Leases: one replica at a time runs each background loop (the expiry sweeper, the resumption
//! of conversations in flight, delivery retries).
//!
//! A lease is a claim `lease:<name>` in the shared store holding the id of the replica that
//! leads, with a time to live. The leader renews it on every tick; when the leader stops (a
//! crash, a partition, a shutdown that released it), the claim lapses or is gone and the next
//! replica to try takes it. [`run_while_leader`] is the loop that does this around a tick.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use tokio::time::{Instant, MissedTickBehavior};

use crate::store::{Claim, Store, StoreError};
use crate::telemetry::error_chain;

/// The shortest pause [`run_while_leader`] takes between two attempts to hold its lease.
pub const MIN_EVERY: Duration = Duration::from_millis(10);

/// A named lease held, or tried for, by one holder.
pub struct Lease {
    store: Arc<dyn Store>,
    name: String,
    key: String,
    holder: String,
    ttl: Duration,
}

impl std::fmt::Debug for Lease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lease")
            .field("key", &self.key)
            .field("holder", &self.holder)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl Lease {
    /// The lease `name` (stored at `lease:<name>`) as seen by `holder`, lasting `ttl` after each
    /// successful [`Lease::hold`]. Every replica must use a distinct holder, such as
    /// [`Lease::holder_id`].
    pub fn new(store: Arc<dyn Store>, name: &str, holder: String, ttl: Duration) -> Self {
        Self {
            store,
            name: name.to_owned(),
            key: format!("lease:{name}"),
            holder,
            ttl,
        }
    }

    /// An id for this process: the pod name (`POD_NAME`), else the host name, then a random
    /// suffix, so two processes on one host (or a restarted pod) never share an id.
    pub fn holder_id() -> String {
        let host = ["POD_NAME", "HOSTNAME"]
            .into_iter()
            .find_map(|variable| std::env::var(variable).ok())
            .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
            .map(|host| host.trim().to_owned())
            .filter(|host| !host.is_empty())
            .unwrap_or_else(|| "robot-sre".to_owned());
        format!("{host}-{:08x}", rand::rng().random::<u32>())
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The store key of the claim: `lease:<name>`.
    pub fn key(&self) -> &str {
        &self.key
    }

    pub fn holder(&self) -> &str {
        &self.holder
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Takes the lease if it is free, or renews it if this holder has it; `true` while this
    /// holder has it.
    ///
    /// # Guarantees
    /// At most one holder gets `true` for a lease at any moment, as the store's clock judges:
    /// a `true` means the lease is this holder's for `ttl` from the call. It says nothing about
    /// later: work that outlasts `ttl` may overlap the next holder's.
    ///
    /// # Errors
    /// The store's, when it cannot be reached or refuses; whether the lease is still held is
    /// then unknown, and it lapses `ttl` after the last successful call.
    ///
    /// # Idempotency
    /// Holding again only moves the expiry to `ttl` from now.
    pub async fn hold(&self) -> Result<bool, StoreError> {
        Ok(self.leader().await?.is_none())
    }

    /// Takes or renews the lease: `None` when this holder has it, else the holder that does.
    async fn leader(&self) -> Result<Option<String>, StoreError> {
        if self.store.renew(&self.key, &self.holder, self.ttl).await? {
            return Ok(None);
        }
        match self
            .store
            .claim(&self.key, &self.holder, Some(self.ttl))
            .await?
        {
            Claim::Claimed => Ok(None),
            // Another handle with this holder id claimed it between the two calls: it is ours.
            Claim::Held(holder) if holder == self.holder => Ok(None),
            Claim::Held(holder) => Ok(Some(holder)),
        }
    }

    /// Gives the lease up, if this holder has it, so another replica can take it at once
    /// rather than after `ttl`; `true` when it was released.
    ///
    /// # Errors
    /// The store's; the lease then lapses after `ttl`.
    ///
    /// # Idempotency
    /// Releasing a lease this holder does not have (again, or after it lapsed and was taken)
    /// answers `false` and changes nothing.
    pub async fn release(&self) -> Result<bool, StoreError> {
        self.store.release(&self.key, &self.holder).await
    }
}

/// Every `every`, tries to hold `lease` and, while it holds it, runs `tick` once; until
/// `shutdown` completes, then releases the lease.
///
/// # Guarantees
/// A tick starts only right after a successful [`Lease::hold`], so no two replicas start ticks
/// of one lease within its TTL of each other. Choose the TTL well above `every` plus the longest
/// tick: a tick that outlasts the TTL is logged, as another replica may have started meanwhile.
/// Gaining and losing leadership are logged; a store error is logged, counts as not leading,
/// and is retried at the next tick; nothing here panics. A tick in progress when `shutdown`
/// completes runs to its end (the caller bounds shutdown, e.g. by aborting the task after a
/// grace period); the lease is then released so another replica takes over at once. `every` is
/// at least [`MIN_EVERY`].
pub async fn run_while_leader<F, Fut>(
    lease: Lease,
    every: Duration,
    shutdown: impl Future<Output = ()>,
    mut tick: F,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    if lease.ttl <= every {
        tracing::warn!(lease = %lease.name, ttl = ?lease.ttl, ?every, "lease ttl is not longer than the tick interval: leadership will flap");
    }
    tokio::pin!(shutdown);
    let mut interval = tokio::time::interval(every.max(MIN_EVERY));
    interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut leading = None;
    loop {
        tokio::select! {
            biased;
            () = &mut shutdown => break,
            _ = interval.tick() => {}
        }
        let now_leading = observe(&lease, leading).await;
        leading = Some(now_leading);
        if now_leading {
            timed_tick(&lease, &mut tick).await;
        }
    }
    step_down(&lease).await;
}

/// Tries to hold the lease and logs a change of leadership; whether this holder now leads.
async fn observe(lease: &Lease, was_leading: Option<bool>) -> bool {
    let (name, holder) = (lease.name.as_str(), lease.holder.as_str());
    let leader = match lease.leader().await {
        Ok(leader) => leader,
        Err(error) => {
            let error = error_chain(&error);
            tracing::warn!(lease = %name, %holder, %error, "lease not held: the state store failed; retrying at the next tick");
            if was_leading == Some(true) {
                tracing::warn!(lease = %name, %holder, "leadership lost");
            }
            return false;
        }
    };
    match (was_leading, &leader) {
        (Some(true), None) | (Some(false), Some(_)) => {}
        (_, None) => tracing::info!(lease = %name, %holder, "leadership gained"),
        (Some(true), Some(leader)) => {
            tracing::warn!(lease = %name, %holder, %leader, "leadership lost")
        }
        (None, Some(leader)) => tracing::info!(lease = %name, %holder, %leader, "following"),
    }
    leader.is_none()
}

/// Runs one tick and logs it when it outlasted the lease.
async fn timed_tick<F, Fut>(lease: &Lease, tick: &mut F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    let started = Instant::now();
    tick().await;
    let took = started.elapsed();
    if took > lease.ttl {
        tracing::warn!(lease = %lease.name, ?took, ttl = ?lease.ttl, "a tick outlasted the lease: another replica may have started one meanwhile");
    }
}

/// Releases the lease at shutdown, logging the outcome.
async fn step_down(lease: &Lease) {
    let (name, holder) = (lease.name.as_str(), lease.holder.as_str());
    match lease.release().await {
        Ok(true) => tracing::info!(lease = %name, %holder, "lease released"),
        Ok(false) => {}
        Err(error) => {
            let error = error_chain(&error);
            tracing::warn!(lease = %name, %holder, %error, "lease not released; it lapses after its ttl");
        }
    }
}

#[cfg(test)]
#[path = "lease_tests.rs"]
mod tests;
