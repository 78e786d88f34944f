//! What the adapter remembers in the state store, so every bot replica agrees: each
//! recipient's 24-hour customer-service window, the messages a prompt or alert was sent as (to
//! map a text "approve" back to its token and to reply to every recipient), and the webhook
//! message ids already handled.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::channels::Choice;
use crate::store::{CasOutcome, Claim, Store, StoreError, Write};

/// A user's message opens or refreshes a 24-hour window in which any message type may be sent
/// (https://developers.facebook.com/docs/whatsapp/conversation-types/).
pub const WINDOW: Duration = Duration::from_secs(24 * 3600);
/// The bot treats a window as closed a little early, so a send never races its end.
const WINDOW_MARGIN: Duration = Duration::from_secs(5 * 60);
/// How long a prompt's messages are remembered after the prompt expires, for late replies.
const AFTER_EXPIRY: Duration = Duration::from_secs(24 * 3600);

/// One message the bot sent to one recipient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub recipient: String,
    pub id: String,
}

/// A prompt or alert as sent: one delivery per recipient, and the prompt's choices.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Sent {
    pub deliveries: Vec<Delivery>,
    pub choices: Vec<Choice>,
}

#[derive(Debug, Serialize, Deserialize)]
struct WindowDoc {
    /// Unix seconds of the latest message from the user.
    last_inbound: i64,
}

/// The adapter's state in the shared store.
#[derive(Clone)]
pub struct Ledger {
    store: Arc<dyn Store>,
}

impl Ledger {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// Whether `wa_id` wrote to the bot within the last 24 hours (less a safety margin).
    ///
    /// # Errors
    /// The store's error; callers treat an unknown window as closed.
    pub async fn window_open(&self, wa_id: &str) -> Result<bool, StoreError> {
        Ok(self.store.get(&window_key(wa_id)).await?.is_some())
    }

    /// Records a message from `wa_id` sent at `at`: the window stays open until `at` + 24 h.
    ///
    /// # Idempotency
    /// A redelivered or older message never moves the window back; concurrent replicas settle on
    /// the latest message through compare-and-set.
    pub async fn note_inbound(
        &self,
        wa_id: &str,
        at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let Some(ttl) = remaining(at, now) else {
            return Ok(());
        };
        let key = window_key(wa_id);
        for _ in 0..3 {
            let current = self.store.get(&key).await?;
            let expected = current.as_ref().map_or(0, |doc| doc.version);
            let newer = current
                .and_then(|doc| serde_json::from_slice::<WindowDoc>(&doc.value).ok())
                .is_none_or(|doc| doc.last_inbound < at.timestamp());
            if !newer {
                return Ok(());
            }
            let value = serde_json::to_vec(&WindowDoc {
                last_inbound: at.timestamp(),
            })
            .map_err(|e| corrupt(&key, &e))?;
            let write = Write {
                value,
                ttl: Some(ttl),
                effects: Vec::new(),
            };
            if let CasOutcome::Written { .. } =
                self.store.compare_and_set(&key, expected, write).await?
            {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Remembers `sent` under each of its message ids until `expires_at` plus a day.
    pub async fn remember(
        &self,
        sent: &Sent,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let until = (expires_at - now).to_std().unwrap_or_default();
        let value = serde_json::to_vec(sent).map_err(|e| corrupt("sent", &e))?;
        for delivery in &sent.deliveries {
            let write = Write {
                value: value.clone(),
                ttl: Some(until + AFTER_EXPIRY),
                effects: Vec::new(),
            };
            self.store
                .compare_and_set(&sent_key(&delivery.id), 0, write)
                .await?;
        }
        Ok(())
    }

    /// What was sent as message `wamid`, if it is still remembered.
    pub async fn sent(&self, wamid: &str) -> Result<Option<Sent>, StoreError> {
        let key = sent_key(wamid);
        let Some(doc) = self.store.get(&key).await? else {
            return Ok(None);
        };
        serde_json::from_slice(&doc.value)
            .map(Some)
            .map_err(|e| corrupt(&key, &e))
    }

    /// `true` the first time `id` is seen within `ttl`, on any replica.
    pub async fn first_sighting(&self, id: &str, ttl: Duration) -> Result<bool, StoreError> {
        let claim = self.store.claim(&seen_key(id), "1", Some(ttl)).await?;
        Ok(claim == Claim::Claimed)
    }

    /// Forgets a sighting whose event could not be handed on, so the redelivery is processed.
    pub async fn forget_sighting(&self, id: &str) -> Result<(), StoreError> {
        self.store.release(&seen_key(id), "1").await.map(|_| ())
    }
}

/// How long a window opened by a message sent at `at` still has, seen at `now`.
fn remaining(at: DateTime<Utc>, now: DateTime<Utc>) -> Option<Duration> {
    let elapsed = (now - at).to_std().unwrap_or_default();
    WINDOW
        .checked_sub(WINDOW_MARGIN)?
        .checked_sub(elapsed)
        .filter(|left| !left.is_zero())
}

fn window_key(wa_id: &str) -> String {
    let digits: String = wa_id.chars().filter(char::is_ascii_digit).collect();
    format!("whatsapp:window:{digits}")
}

fn sent_key(wamid: &str) -> String {
    format!("whatsapp:sent:{wamid}")
}

fn seen_key(id: &str) -> String {
    format!("whatsapp:seen:{id}")
}

fn corrupt(key: &str, error: &serde_json::Error) -> StoreError {
    StoreError::Corrupt {
        key: key.to_owned(),
        reason: error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    fn ledger() -> Ledger {
        Ledger::new(Arc::new(MemoryStore::new()))
    }

    #[tokio::test]
    async fn window_opens_on_a_recent_message_and_not_on_an_old_one() {
        let ledger = ledger();
        let now = Utc::now();
        ledger
            .note_inbound("+1 555 0100", now - chrono::Duration::hours(25), now)
            .await
            .unwrap();
        assert!(!ledger.window_open("15550100").await.unwrap());
        ledger
            .note_inbound("15550100", now - chrono::Duration::minutes(3), now)
            .await
            .unwrap();
        assert!(ledger.window_open("15550100").await.unwrap());
    }

    #[tokio::test]
    async fn sent_messages_are_found_under_every_delivery_id() {
        let ledger = ledger();
        let sent = Sent {
            deliveries: vec![
                Delivery {
                    recipient: "1".into(),
                    id: "wamid.A".into(),
                },
                Delivery {
                    recipient: "2".into(),
                    id: "wamid.B".into(),
                },
            ],
            choices: Vec::new(),
        };
        let now = Utc::now();
        ledger.remember(&sent, now, now).await.unwrap();
        assert_eq!(ledger.sent("wamid.B").await.unwrap(), Some(sent));
        assert_eq!(ledger.sent("wamid.C").await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_sighting_counts_once_until_forgotten() {
        let ledger = ledger();
        let ttl = Duration::from_secs(60);
        assert!(ledger.first_sighting("wamid.X", ttl).await.unwrap());
        assert!(!ledger.first_sighting("wamid.X", ttl).await.unwrap());
        ledger.forget_sighting("wamid.X").await.unwrap();
        assert!(ledger.first_sighting("wamid.X", ttl).await.unwrap());
    }
}
