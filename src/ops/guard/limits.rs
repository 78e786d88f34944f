//! Limits shared by every bot replica through the state store: cooldown per (action, workload),
//! executions per hour, concurrent actions, blast radius per namespace, and the circuit breaker.
//!
//! Each limit is a sliding window in the store, so a check is a read and a reservation is one
//! atomic admission per window; no replica can slip past a limit another replica just reached.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Guard, GuardResult};
use crate::config::OpsSettings;
use crate::domain::ActionKind;
use crate::ops::error::OpsError;
use crate::store::{Admission, CasOutcome, Store, StoreError, Write};

const RUNNING: &str = "ops:running";
const EXECUTIONS: &str = "ops:executions";
const HOUR: Duration = Duration::from_secs(3600);

/// What one action is counted against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub action: ActionKind,
    /// The namespace acted in (`None` for nodes).
    pub namespace: Option<String>,
    /// The workload the action concerns, e.g. `payments/Deployment/checkout`.
    pub workload: String,
    pub disruptive: bool,
}

impl Scope {
    fn cooldown_key(&self) -> String {
        format!("ops:cooldown:{}:{}", self.action, self.workload)
    }

    fn blast_key(&self) -> String {
        format!(
            "ops:blast:{}",
            self.namespace.as_deref().unwrap_or("cluster")
        )
    }
}

/// Circuit-breaker state of one workload.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Breaker {
    /// Failed verifications in a row.
    pub failures: u32,
    pub open: bool,
    pub opened_at: Option<DateTime<Utc>>,
    pub last_reason: Option<String>,
}

/// Store-backed limits.
#[derive(Clone)]
pub struct Limits {
    store: Arc<dyn Store>,
    settings: Arc<OpsSettings>,
}

impl Limits {
    pub fn new(store: Arc<dyn Store>, settings: Arc<OpsSettings>) -> Self {
        Self { store, settings }
    }

    fn cooldown(&self, scope: &Scope) -> Duration {
        if scope.disruptive {
            self.settings.disruptive_cooldown
        } else {
            self.settings.cooldown
        }
    }

    /// How long a running action holds its concurrency slot (and its request id) at most, so a
    /// crashed replica's hold frees itself.
    pub fn lease(&self) -> Duration {
        let verify = &self.settings.verify;
        verify.deadline + verify.settle + Duration::from_secs(300)
    }

    /// Checks every limit without taking anything: for proposals and pre-apply reports.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn check(
        &self,
        request: &str,
        scope: &Scope,
        now: DateTime<Utc>,
    ) -> Result<Vec<GuardResult>, OpsError> {
        let cooldown = self.cooldown(scope);
        let others = |entries: Vec<crate::store::WindowEntry>| -> Vec<crate::store::WindowEntry> {
            entries
                .into_iter()
                .filter(|e| e.member != request)
                .collect()
        };
        let recent = others(
            self.store
                .window(&scope.cooldown_key(), now, cooldown)
                .await?,
        );
        let executions = others(self.store.window(EXECUTIONS, now, HOUR).await?);
        let running = others(self.store.window(RUNNING, now, self.lease()).await?);
        let blast = self
            .store
            .window(&scope.blast_key(), now, self.settings.blast_radius_window)
            .await?;
        let breaker = self.breaker(&scope.workload).await?;
        let s = &self.settings;
        Ok(vec![
            match recent.first() {
                Some(last) => cooldown_refusal(scope, last.at, cooldown),
                None => GuardResult::pass(
                    Guard::Cooldown,
                    format!(
                        "no {} of {} in the last {}",
                        scope.action,
                        scope.workload,
                        human(cooldown)
                    ),
                ),
            },
            limit(
                Guard::RateLimit,
                executions.len(),
                s.max_executions_per_hour,
                "executions in the last hour",
            ),
            limit(
                Guard::Concurrency,
                running.len(),
                s.max_concurrent,
                "actions running now",
            ),
            blast_verdict(scope, &blast, s.blast_radius, s.blast_radius_window),
            breaker_verdict(scope, &breaker, s.breaker_threshold),
        ])
    }

    /// Takes a place in every window, atomically per window; if one is full, gives back what
    /// was taken and returns the refusals. [`Limits::finish`] frees the concurrency slot.
    ///
    /// # Idempotency
    /// Re-reserving for the same request id admits it again without counting it twice.
    ///
    /// # Errors
    /// When the store fails (anything taken is given back first, as far as the store allows).
    pub async fn reserve(
        &self,
        request: &str,
        scope: &Scope,
        now: DateTime<Utc>,
    ) -> Result<Result<(), Vec<GuardResult>>, OpsError> {
        let s = &self.settings;
        let cooldown_key = scope.cooldown_key();
        let steps: [(&str, &str, Duration, usize); 3] = [
            (&cooldown_key, request, self.cooldown(scope), 1),
            (EXECUTIONS, request, HOUR, s.max_executions_per_hour),
            (RUNNING, request, self.lease(), s.max_concurrent),
        ];
        let mut taken: Vec<&str> = Vec::new();
        let mut refusal = None;
        for (key, member, window, max) in steps {
            match self.store.admit(key, member, now, window, max).await {
                Ok(Admission::Admitted { .. }) => taken.push(key),
                Ok(Admission::Full { count, oldest }) => {
                    refusal = Some(if key == cooldown_key {
                        cooldown_refusal(scope, oldest, window)
                    } else if key == EXECUTIONS {
                        limit(Guard::RateLimit, count, max, "executions in the last hour")
                    } else {
                        limit(Guard::Concurrency, count, max, "actions running now")
                    });
                    break;
                }
                Err(error) => {
                    self.give_back(&taken, request).await;
                    return Err(error.into());
                }
            }
        }
        if refusal.is_none() {
            // Last, because its member is the workload, which must not be withdrawn on failure.
            match self
                .store
                .admit(
                    &scope.blast_key(),
                    &scope.workload,
                    now,
                    s.blast_radius_window,
                    s.blast_radius,
                )
                .await
            {
                Ok(Admission::Admitted { .. }) => {}
                Ok(Admission::Full { count, .. }) => {
                    refusal = Some(blast_refusal(
                        scope,
                        count,
                        s.blast_radius,
                        s.blast_radius_window,
                    ));
                }
                Err(error) => {
                    self.give_back(&taken, request).await;
                    return Err(error.into());
                }
            }
        }
        match refusal {
            None => Ok(Ok(())),
            Some(refused) => {
                self.give_back(&taken, request).await;
                Ok(Err(vec![refused]))
            }
        }
    }

    async fn give_back(&self, taken: &[&str], request: &str) {
        for key in taken {
            if let Err(error) = self.store.withdraw(key, request).await {
                tracing::warn!(%error, key, "could not give back a limit admission; it ages out");
            }
        }
    }

    /// Frees the concurrency slot of a request (if it held one). The cooldown and hourly count
    /// stay: the action ran.
    pub async fn finish(&self, request: &str) {
        if let Err(error) = self.store.withdraw(RUNNING, request).await {
            tracing::warn!(%error, "could not free a concurrency slot; it ages out with its lease");
        }
    }

    /// The breaker of a workload.
    ///
    /// # Errors
    /// When the store fails or holds an unreadable record.
    pub async fn breaker(&self, workload: &str) -> Result<Breaker, OpsError> {
        Ok(self.read_breaker(workload).await?.1)
    }

    async fn read_breaker(&self, workload: &str) -> Result<(u64, Breaker), OpsError> {
        let key = breaker_key(workload);
        match self.store.get(&key).await? {
            None => Ok((0, Breaker::default())),
            Some(stored) => serde_json::from_slice(&stored.value)
                .map(|b| (stored.version, b))
                .map_err(|e| OpsError::Corrupt {
                    key,
                    reason: e.to_string(),
                }),
        }
    }

    /// Counts a verification: a PASS closes the count, a FAIL adds one and opens the breaker at
    /// the threshold. Returns the new state.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn record_verdict(
        &self,
        workload: &str,
        passed: bool,
        reason: Option<String>,
    ) -> Result<Breaker, OpsError> {
        let threshold = self.settings.breaker_threshold;
        self.update_breaker(workload, |breaker| {
            if passed && !breaker.open {
                *breaker = Breaker::default();
            } else if !passed {
                breaker.failures += 1;
                breaker.last_reason = reason.clone();
                if breaker.failures >= threshold && !breaker.open {
                    breaker.open = true;
                    breaker.opened_at = Some(Utc::now());
                }
            }
        })
        .await
    }

    /// Closes a workload's breaker (a human decided). Returns the state before.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn reset_breaker(&self, workload: &str) -> Result<Breaker, OpsError> {
        let before = self.breaker(workload).await?;
        self.update_breaker(workload, |breaker| *breaker = Breaker::default())
            .await?;
        Ok(before)
    }

    async fn update_breaker(
        &self,
        workload: &str,
        change: impl Fn(&mut Breaker),
    ) -> Result<Breaker, OpsError> {
        let key = breaker_key(workload);
        loop {
            let (version, mut breaker) = self.read_breaker(workload).await?;
            change(&mut breaker);
            let value = serde_json::to_vec(&breaker).map_err(|e| StoreError::Corrupt {
                key: key.clone(),
                reason: e.to_string(),
            })?;
            let write = Write {
                value,
                ttl: None,
                effects: Vec::new(),
            };
            if let CasOutcome::Written { .. } =
                self.store.compare_and_set(&key, version, write).await?
            {
                return Ok(breaker);
            }
        }
    }
}

fn breaker_key(workload: &str) -> String {
    format!("ops:breaker:{workload}")
}

fn human(duration: Duration) -> String {
    humantime::format_duration(duration).to_string()
}

fn limit(guard: Guard, used: usize, max: usize, what: &str) -> GuardResult {
    if used < max {
        GuardResult::pass(guard, format!("{used} of {max} {what}"))
    } else {
        GuardResult::refuse(
            guard,
            format!("{used} of {max} {what}: the limit is reached"),
        )
    }
}

fn cooldown_refusal(scope: &Scope, last: DateTime<Utc>, cooldown: Duration) -> GuardResult {
    let until = last + chrono::Duration::from_std(cooldown).unwrap_or_default();
    GuardResult::refuse(
        Guard::Cooldown,
        format!(
            "{} of {} already ran at {}; cooldown of {} until {}",
            scope.action,
            scope.workload,
            last.format("%H:%M:%S UTC"),
            human(cooldown),
            until.format("%H:%M:%S UTC")
        ),
    )
}

fn blast_refusal(scope: &Scope, count: usize, max: usize, window: Duration) -> GuardResult {
    GuardResult::refuse(
        Guard::BlastRadius,
        format!(
            "{count} workloads in {} were already acted on in the last {} (limit {max}); \
             more at once needs a human",
            scope.namespace.as_deref().unwrap_or("the cluster"),
            human(window)
        ),
    )
}

fn blast_verdict(
    scope: &Scope,
    entries: &[crate::store::WindowEntry],
    max: usize,
    window: Duration,
) -> GuardResult {
    let known = entries.iter().any(|e| e.member == scope.workload);
    if known || entries.len() < max {
        GuardResult::pass(
            Guard::BlastRadius,
            format!(
                "{} of {max} workloads acted on in this window",
                entries.len()
            ),
        )
    } else {
        blast_refusal(scope, entries.len(), max, window)
    }
}

fn breaker_verdict(scope: &Scope, breaker: &Breaker, threshold: u32) -> GuardResult {
    if breaker.open {
        GuardResult::refuse(
            Guard::CircuitBreaker,
            format!(
                "circuit breaker open for {} since {} after {} failed verification(s){}; \
                 a human must reset it (robot-sre breaker reset {})",
                scope.workload,
                breaker
                    .opened_at
                    .map_or("?".into(), |t| t.format("%Y-%m-%d %H:%M UTC").to_string()),
                breaker.failures,
                breaker
                    .last_reason
                    .as_ref()
                    .map_or(String::new(), |r| format!(" (last: {r})")),
                scope.workload
            ),
        )
    } else {
        GuardResult::pass(
            Guard::CircuitBreaker,
            format!("{} of {threshold} failed verifications", breaker.failures),
        )
    }
}

#[cfg(test)]
#[path = "limits_tests.rs"]
mod tests;
