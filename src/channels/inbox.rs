//! Where adapters hand verified inbound events to the conversation layer: a bounded queue, so
//! a webhook is acknowledged at once and the work happens afterwards.

use tokio::sync::mpsc;

use super::message::Inbound;

/// The sending side, cloned into every adapter.
#[derive(Debug, Clone)]
pub struct Inbox {
    sender: mpsc::Sender<Inbound>,
}

/// The queue is full: the caller answers so that the chat service retries later (Slack and
/// Telegram retry a failed webhook; WhatsApp retries too).
#[derive(Debug, thiserror::Error)]
#[error("the inbound queue is full ({capacity} events waiting)")]
pub struct InboxFull {
    pub capacity: usize,
}

impl Inbox {
    /// An inbox holding at most `capacity` unprocessed events, and its receiving end.
    pub fn new(capacity: usize) -> (Self, mpsc::Receiver<Inbound>) {
        let (sender, receiver) = mpsc::channel(capacity.max(1));
        (Self { sender }, receiver)
    }

    /// Queues `event` without waiting.
    ///
    /// # Errors
    /// [`InboxFull`] when the queue is full or nobody reads it any more.
    pub fn submit(&self, event: Inbound) -> Result<(), InboxFull> {
        self.sender.try_send(event).map_err(|_| InboxFull {
            capacity: self.sender.max_capacity(),
        })
    }
}
