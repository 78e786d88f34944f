//! Latency histograms and answer counts: one `Tally` per client task, merged into one `Run` per
//! phase.

use std::time::Duration;

use anyhow::{Context, bail};
use hdrhistogram::Histogram;

use crate::webhook::Reply;

/// Latencies are recorded in microseconds, up to a minute, to 3 significant digits.
const MAX_MICROS: u64 = 60_000_000;

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_MICROS, 3).expect("constant, valid histogram bounds")
}

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

/// Latencies and answers of one phase.
pub struct Tally {
    /// From the (scheduled) send to the full response, in µs.
    pub latency: Histogram<u64>,
    /// From the actual send to the full response, in µs (differs only when paced).
    pub service: Histogram<u64>,
    expected: u64,
    pub failed: u64,
    wrong: u64,
    first_failure: Option<String>,
    first_wrong: Option<String>,
}

impl Default for Tally {
    fn default() -> Self {
        Self {
            latency: histogram(),
            service: histogram(),
            expected: 0,
            failed: 0,
            wrong: 0,
            first_failure: None,
            first_wrong: None,
        }
    }
}

impl Tally {
    pub fn add(&mut self, latency: Duration, service: Duration, reply: Reply) {
        self.latency.saturating_record(micros(latency));
        self.service.saturating_record(micros(service));
        match reply {
            Reply::Expected => self.expected += 1,
            Reply::Failed(why) => {
                self.failed += 1;
                self.first_failure.get_or_insert(why);
            }
            Reply::Wrong(why) => {
                self.wrong += 1;
                self.first_wrong.get_or_insert(why);
            }
        }
    }

    pub fn merge(&mut self, other: &Tally) -> anyhow::Result<()> {
        self.latency
            .add(&other.latency)
            .context("merging latencies")?;
        self.service
            .add(&other.service)
            .context("merging latencies")?;
        self.expected += other.expected;
        self.failed += other.failed;
        self.wrong += other.wrong;
        if self.first_failure.is_none() {
            self.first_failure.clone_from(&other.first_failure);
        }
        if self.first_wrong.is_none() {
            self.first_wrong.clone_from(&other.first_wrong);
        }
        Ok(())
    }
}

/// One phase's tally over its wall-clock time.
pub struct Run {
    pub load: String,
    pub tally: Tally,
    pub elapsed: Duration,
}

impl Run {
    /// Fails on any wrong receipt: the phase did not measure what it claims to.
    pub fn ensure_sound(&self, phase: &str) -> anyhow::Result<()> {
        let tally = &self.tally;
        if let Some(first) = &tally.first_failure {
            eprintln!("{phase}: {} requests failed; first: {first}", tally.failed);
        }
        if let Some(first) = &tally.first_wrong {
            bail!(
                "{phase}: {} of {} responses did not record the expected outcome, so the \
                 numbers would be meaningless; first: {first}",
                tally.wrong,
                tally.latency.len()
            );
        }
        Ok(())
    }

    /// Alerts recorded per second (failed requests do not count).
    pub fn rate(&self) -> f64 {
        self.tally.expected as f64 / self.elapsed.as_secs_f64()
    }
}
