//! A circuit breaker per channel, so a delivery does not wait on a channel known to be down.
//!
//! Closed: every delivery tries the channel. After `failures` consecutive failures (or a rate
//! limit), open: the channel is skipped until `open_for` (or the server's `Retry-After`) has
//! passed. Then half-open: exactly one delivery probes it; success closes the breaker, failure
//! opens it again.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::channels::ChannelKind;

/// A breaker's state, as `/readyz`-style reports show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

#[derive(Debug, Default)]
struct Entry {
    consecutive: u32,
    open_until: Option<Instant>,
    probing: bool,
}

/// The breakers of every channel.
#[derive(Debug)]
pub struct Breakers {
    failures: u32,
    open_for: Duration,
    entries: Mutex<HashMap<ChannelKind, Entry>>,
}

impl Breakers {
    pub fn new(failures: u32, open_for: Duration) -> Self {
        Self {
            failures: failures.max(1),
            open_for,
            entries: Mutex::default(),
        }
    }

    /// Whether a delivery may try `channel` now; in half-open state only the first caller may
    /// (it becomes the probe).
    pub fn admit(&self, channel: ChannelKind, now: Instant) -> bool {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let entry = entries.entry(channel).or_default();
        match entry.open_until {
            None => true,
            Some(until) if now < until => false,
            Some(_) if entry.probing => false,
            Some(_) => {
                entry.probing = true;
                true
            }
        }
    }

    pub fn succeeded(&self, channel: ChannelKind) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.insert(channel, Entry::default());
    }

    /// Counts a failure; `retry_after` (a rate limit) opens the breaker at once for that long.
    pub fn failed(&self, channel: ChannelKind, now: Instant, retry_after: Option<Duration>) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let entry = entries.entry(channel).or_default();
        entry.consecutive = entry.consecutive.saturating_add(1);
        let was_probe = std::mem::take(&mut entry.probing);
        if let Some(wait) = retry_after {
            entry.open_until = Some(now + wait);
        } else if was_probe || entry.consecutive >= self.failures {
            entry.open_until = Some(now + self.open_for);
        }
    }

    pub fn state(&self, channel: ChannelKind, now: Instant) -> BreakerState {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        match entries.get(&channel).and_then(|e| e.open_until) {
            None => BreakerState::Closed,
            Some(until) if now < until => BreakerState::Open,
            Some(_) => BreakerState::HalfOpen,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SLACK: ChannelKind = ChannelKind::Slack;

    #[test]
    fn a_channel_is_skipped_after_consecutive_failures_until_the_open_period_ends() {
        let breakers = Breakers::new(2, Duration::from_secs(30));
        let t0 = Instant::now();
        breakers.failed(SLACK, t0, None);
        assert!(breakers.admit(SLACK, t0), "one failure is not enough");
        breakers.failed(SLACK, t0, None);
        assert!(!breakers.admit(SLACK, t0 + Duration::from_secs(29)));
        assert_eq!(breakers.state(SLACK, t0), BreakerState::Open);
    }

    #[test]
    fn after_the_open_period_one_probe_is_admitted_and_its_outcome_decides() {
        let breakers = Breakers::new(1, Duration::from_secs(30));
        let t0 = Instant::now();
        breakers.failed(SLACK, t0, None);
        let later = t0 + Duration::from_secs(31);
        assert_eq!(breakers.state(SLACK, later), BreakerState::HalfOpen);
        assert!(breakers.admit(SLACK, later), "the probe");
        assert!(!breakers.admit(SLACK, later), "only one probe at a time");
        breakers.failed(SLACK, later, None);
        assert!(!breakers.admit(SLACK, later + Duration::from_secs(1)));
        let much_later = later + Duration::from_secs(31);
        assert!(breakers.admit(SLACK, much_later));
        breakers.succeeded(SLACK);
        assert_eq!(breakers.state(SLACK, much_later), BreakerState::Closed);
        assert!(breakers.admit(SLACK, much_later));
    }

    #[test]
    fn a_rate_limit_opens_the_breaker_for_the_time_the_server_asked() {
        let breakers = Breakers::new(5, Duration::from_secs(30));
        let t0 = Instant::now();
        breakers.failed(SLACK, t0, Some(Duration::from_secs(2)));
        assert!(!breakers.admit(SLACK, t0 + Duration::from_secs(1)));
        assert!(breakers.admit(SLACK, t0 + Duration::from_secs(2)));
        assert!(
            breakers.admit(ChannelKind::Telegram, t0),
            "other channels are unaffected"
        );
    }
}
