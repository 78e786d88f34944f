//! The failover router: every message tries the channels of its route in order, skipping those
//! whose breaker is open, waiting for the chat service's rate limit, and moving on when a
//! channel fails or does not answer within `attempt_timeout`. When every channel fails, the
//! failure is reported (a `chatops_delivery_failure` incident, a metric) and delivery keeps
//! trying with capped backoff until the prompt expires.

pub mod breaker;
pub mod coalesce;
pub mod routes;
pub mod throttle;

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use backon::{BackoffBuilder, ExponentialBuilder};
use chrono::Utc;
use prometheus_client::metrics::counter::Counter;
use serde::Serialize;

use self::breaker::{BreakerState, Breakers};
use self::coalesce::{Coalescer, Role, combine};
use self::throttle::Throttle;
use super::{Channel, ChannelKind, DeliveryError, Health, MessageRef, Notice, Prompt};
use crate::config::RoutingSettings;
use crate::incidents::model::{Environment, Severity};

/// One channel's part in a delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attempt {
    pub channel: ChannelKind,
    /// Why it did not deliver: a [`DeliveryError::code`], `timeout` or `breaker_open`.
    pub reason: String,
}

/// A delivered message and the channels that failed before it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Delivered {
    pub message: MessageRef,
    pub failed: Vec<Attempt>,
}

/// No channel took the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no channel delivered the message ({})", describe(.attempts))]
pub struct Undelivered {
    pub attempts: Vec<Attempt>,
}

fn describe(attempts: &[Attempt]) -> String {
    if attempts.is_empty() {
        return "no channel is configured for it".into();
    }
    let parts: Vec<String> = attempts
        .iter()
        .map(|a| format!("{}: {}", a.channel, a.reason))
        .collect();
    parts.join(", ")
}

/// Told when a message could not be delivered on any channel: it raises the
/// `chatops_delivery_failure` incident (the conversation layer implements it).
#[async_trait]
pub trait DeliveryFailures: Send + Sync {
    async fn undeliverable(&self, what: &str, failure: &Undelivered);
}

/// A channel's health and its breaker, for status pages.
#[derive(Debug, Clone, Serialize)]
pub struct ChannelStatus {
    pub channel: ChannelKind,
    pub health: Health,
    pub breaker: BreakerState,
}

/// The router over the configured channels.
pub struct Router {
    channels: BTreeMap<ChannelKind, Arc<dyn Channel>>,
    settings: RoutingSettings,
    breakers: Breakers,
    throttle: Throttle,
    coalescer: Coalescer,
    failures: Option<Arc<dyn DeliveryFailures>>,
    failure_counter: Counter,
}

impl Router {
    pub fn new(channels: Vec<Arc<dyn Channel>>, settings: RoutingSettings) -> Self {
        Self {
            channels: channels.into_iter().map(|c| (c.kind(), c)).collect(),
            breakers: Breakers::new(settings.breaker_failures, settings.breaker_open_for),
            throttle: Throttle::new(&settings.rate_limits),
            coalescer: Coalescer::default(),
            failures: None,
            failure_counter: Counter::default(),
            settings,
        }
    }

    /// Reports undeliverable messages to `failures` and counts them in `counter`
    /// (`ops_chat_delivery_failures_total`).
    pub fn with_failure_reporting(
        mut self,
        failures: Arc<dyn DeliveryFailures>,
        counter: Counter,
    ) -> Self {
        self.failures = Some(failures);
        self.failure_counter = counter;
        self
    }

    /// The channels a message of `severity` in `environment` tries, in order.
    pub fn order(&self, severity: Severity, environment: Environment) -> Vec<ChannelKind> {
        let configured: Vec<ChannelKind> = self.channels.keys().copied().collect();
        routes::order(&self.settings.routes, &configured, severity, environment)
    }

    /// One pass down the route: the prompt lands on the first channel that takes it, except
    /// the channels in `skip` (those it already failed on).
    ///
    /// # Errors
    /// [`Undelivered`] with every channel's reason when none took it.
    pub async fn send_prompt(
        &self,
        prompt: &Prompt,
        environment: Environment,
        skip: &[ChannelKind],
    ) -> Result<Delivered, Undelivered> {
        let order = self.order(prompt.severity, environment);
        let order: Vec<_> = order.into_iter().filter(|k| !skip.contains(k)).collect();
        self.round(&order, |channel| async move {
            channel.send_prompt(prompt).await
        })
        .await
    }

    /// [`Router::send_prompt`] until it lands or the prompt expires: after a round in which
    /// every channel failed, the failure is reported once and rounds continue with capped
    /// exponential backoff (`retry_min` … `retry_max`).
    ///
    /// # Errors
    /// The last round's [`Undelivered`] when the prompt expired undelivered.
    pub async fn deliver_prompt(
        &self,
        prompt: &Prompt,
        environment: Environment,
    ) -> Result<Delivered, Undelivered> {
        let mut delays = ExponentialBuilder::default()
            .with_min_delay(self.settings.retry_min)
            .with_max_delay(self.settings.retry_max)
            .without_max_times()
            .build();
        let mut reported = false;
        loop {
            let failure = match self.send_prompt(prompt, environment, &[]).await {
                Ok(delivered) => return Ok(delivered),
                Err(failure) => failure,
            };
            if !reported {
                reported = true;
                let what = format!("approval prompt for {}", prompt.incident);
                self.report(&what, &failure).await;
            }
            let delay = delays.next().unwrap_or(self.settings.retry_max);
            let next = chrono::Duration::from_std(delay)
                .ok()
                .map(|d| Utc::now() + d);
            if next.is_none_or(|next| next >= prompt.expires_at) {
                return Err(failure);
            }
            tokio::time::sleep(delay).await;
        }
    }

    /// Posts a plain alert for an incident of `group`, coalescing a storm: while a notice for
    /// the group is on its way, later ones wait and go out together in the next message.
    ///
    /// # Errors
    /// [`Undelivered`] when the caller sent and no channel took a batch; a caller whose notice
    /// was queued gets `Ok(None)` (the sender carries it).
    pub async fn notify(
        &self,
        group: &str,
        notice: Notice,
        environment: Environment,
    ) -> Result<Option<Delivered>, Undelivered> {
        if self.coalescer.queue(group, notice) == Role::Queued {
            return Ok(None);
        }
        let mut last = Ok(None);
        loop {
            let batch = self.coalescer.next_batch(group);
            let Some(notice) = combine(group, batch) else {
                return last;
            };
            let order = self.order(notice.severity, environment);
            let notice = &notice;
            last = match self
                .round(&order, |channel| async move {
                    channel.send_notice(notice).await
                })
                .await
            {
                Ok(delivered) => Ok(Some(delivered)),
                Err(failure) => {
                    let what = format!("alert for {}", notice.incident);
                    self.report(&what, &failure).await;
                    Err(failure)
                }
            };
        }
    }

    /// Replies in the thread of `to`, on the channel that holds it.
    ///
    /// # Errors
    /// The channel's [`DeliveryError`]; there is no failover for a thread.
    pub async fn reply(&self, to: &MessageRef, text: &str) -> Result<MessageRef, DeliveryError> {
        let channel = self.channel(to.channel)?;
        self.throttle.wait(to.channel, &to.conversation).await;
        self.bounded(to.channel, channel.reply(to, text)).await
    }

    /// Closes every copy of a prompt: each shows `outcome` (who decided, where, when) and loses
    /// its buttons. Returns the copies that could not be updated.
    pub async fn close_everywhere(
        &self,
        prompts: &[MessageRef],
        outcome: &str,
    ) -> Vec<(MessageRef, DeliveryError)> {
        let mut failed = Vec::new();
        for prompt in prompts {
            let result = match self.channel(prompt.channel) {
                Ok(channel) => {
                    self.throttle
                        .wait(prompt.channel, &prompt.conversation)
                        .await;
                    self.bounded(prompt.channel, channel.close_prompt(prompt, outcome))
                        .await
                }
                Err(error) => Err(error),
            };
            if let Err(error) = result {
                failed.push((prompt.clone(), error));
            }
        }
        failed
    }

    /// Every configured channel's health and breaker state.
    pub async fn status(&self) -> Vec<ChannelStatus> {
        let mut statuses = Vec::new();
        for (kind, channel) in &self.channels {
            let health =
                match tokio::time::timeout(self.settings.attempt_timeout, channel.health()).await {
                    Ok(health) => health,
                    Err(_) => Health::Down {
                        reason: format!("no answer within {:?}", self.settings.attempt_timeout),
                    },
                };
            statuses.push(ChannelStatus {
                channel: *kind,
                health,
                breaker: self.breakers.state(*kind, Instant::now()),
            });
        }
        statuses
    }

    fn channel(&self, kind: ChannelKind) -> Result<&Arc<dyn Channel>, DeliveryError> {
        self.channels.get(&kind).ok_or(DeliveryError::Refused {
            channel: kind,
            code: "channel_not_configured".into(),
        })
    }

    /// `call` under the attempt timeout.
    async fn bounded<T>(
        &self,
        kind: ChannelKind,
        call: impl Future<Output = Result<T, DeliveryError>>,
    ) -> Result<T, DeliveryError> {
        let after = self.settings.attempt_timeout;
        tokio::time::timeout(after, call)
            .await
            .unwrap_or(Err(DeliveryError::Timeout {
                channel: kind,
                after,
            }))
    }

    async fn round<'a, F, Fut>(
        &'a self,
        order: &[ChannelKind],
        send: F,
    ) -> Result<Delivered, Undelivered>
    where
        F: Fn(&'a Arc<dyn Channel>) -> Fut,
        Fut: Future<Output = Result<MessageRef, DeliveryError>>,
    {
        let mut failed = Vec::new();
        for &kind in order {
            let Some(channel) = self.channels.get(&kind) else {
                continue;
            };
            if !self.breakers.admit(kind, Instant::now()) {
                failed.push(Attempt {
                    channel: kind,
                    reason: "breaker_open".into(),
                });
                continue;
            }
            self.throttle.wait(kind, "").await;
            match self.bounded(kind, send(channel)).await {
                Ok(message) => {
                    self.breakers.succeeded(kind);
                    return Ok(Delivered { message, failed });
                }
                Err(error) => {
                    tracing::warn!(channel = %kind, %error, "delivery failed; trying the next channel");
                    self.breakers
                        .failed(kind, Instant::now(), error.retry_after());
                    failed.push(Attempt {
                        channel: kind,
                        reason: error.code().to_owned(),
                    });
                }
            }
        }
        Err(Undelivered { attempts: failed })
    }

    async fn report(&self, what: &str, failure: &Undelivered) {
        self.failure_counter.inc();
        tracing::error!(%failure, "{what}: undeliverable on every channel");
        if let Some(failures) = &self.failures {
            failures.undeliverable(what, failure).await;
        }
    }
}
