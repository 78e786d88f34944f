//! Long polling (`getUpdates`), for clusters Telegram cannot reach with a webhook
//! (<https://core.telegram.org/bots/api#getupdates>). Telegram refuses `getUpdates` while a
//! webhook is set, so the loop deletes any webhook first; it answers 409 when two pollers share
//! one bot, which is logged and retried (only one replica should poll).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};

use super::inbound::TelegramInbound;
use crate::channels::channel::Channel;

/// Backoff after a failed poll or a deferred update: from this...
const MIN_DELAY: Duration = Duration::from_millis(500);
/// ...doubling up to this cap.
const MAX_DELAY: Duration = Duration::from_secs(30);

/// Polls for updates and hands each to [`TelegramInbound::handle`] until `shutdown` completes.
///
/// # Guarantees
/// An update is confirmed to Telegram (the next `offset` passes it) only once it was handled;
/// an update the inbox could not take is fetched again after a pause. Failures back off
/// exponentially with jitter up to 30 s, or for Telegram's `retry_after` when it gives one.
/// Returns promptly when `shutdown` completes, abandoning the poll in flight.
pub async fn poll(inbound: Arc<TelegramInbound>, shutdown: impl Future<Output = ()>) {
    tokio::pin!(shutdown);
    // Learns the bot's username, so commands addressed to another bot are told apart.
    let health = tokio::select! {
        () = &mut shutdown => return,
        health = inbound.channel.health() => health,
    };
    tracing::info!(?health, "telegram long polling starts");
    let deleted = tokio::select! {
        () = &mut shutdown => return,
        deleted = inbound.channel.delete_webhook() => deleted,
    };
    if let Err(error) = deleted {
        tracing::warn!(%error, "telegram deleteWebhook failed; getUpdates fails while a webhook is set");
    }
    let mut offset = 0_i32;
    let mut backoff = new_backoff();
    loop {
        let polled = tokio::select! {
            () = &mut shutdown => break,
            polled = inbound.channel.get_updates(offset) => polled,
        };
        let pause = match polled {
            Ok(updates) => match handle_batch(&inbound, &updates, &mut offset).await {
                true => {
                    backoff = new_backoff();
                    continue;
                }
                false => next_delay(&mut backoff),
            },
            Err(error) => {
                tracing::warn!(%error, "telegram getUpdates failed");
                error
                    .retry_after()
                    .unwrap_or_else(|| next_delay(&mut backoff))
            }
        };
        tokio::select! {
            () = &mut shutdown => break,
            () = tokio::time::sleep(pause) => {}
        }
    }
    tracing::info!("telegram long polling stopped");
}

/// Handles `updates` in order, moving `offset` past each handled one; `false` when one had to
/// be deferred (it and the rest are fetched again).
async fn handle_batch(
    inbound: &TelegramInbound,
    updates: &[teloxide::types::Update],
    offset: &mut i32,
) -> bool {
    for update in updates {
        if let Err(error) = inbound.handle(update).await {
            tracing::warn!(%error, "telegram update deferred");
            return false;
        }
        *offset = i32::try_from(update.id.0.saturating_add(1)).unwrap_or(i32::MAX);
    }
    true
}

fn new_backoff() -> impl Iterator<Item = Duration> {
    ExponentialBuilder::default()
        .with_min_delay(MIN_DELAY)
        .with_max_delay(MAX_DELAY)
        .with_jitter()
        .without_max_times()
        .build()
}

fn next_delay(backoff: &mut impl Iterator<Item = Duration>) -> Duration {
    backoff.next().unwrap_or(MAX_DELAY)
}
