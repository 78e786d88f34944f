//! [`ConsoleChannel`]: the web console as a [`Channel`]. Messages are entries of the incident's
//! console thread in the store, so every replica serves the same page; a local broadcast tells
//! this replica's open pages that something changed.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::Utc;
use tokio::sync::broadcast;

use super::thread::{self, Entry};
use crate::channels::{Channel, ChannelKind, DeliveryError, Health, MessageRef, Notice, Prompt};
use crate::store::{Store, StoreError};

/// How many change notices a slow page may fall behind before it just refreshes.
const CHANGES: usize = 64;

/// The console channel; cheap to clone.
#[derive(Clone)]
pub struct ConsoleChannel {
    store: Arc<dyn Store>,
    changes: broadcast::Sender<String>,
    details_url: Option<url::Url>,
}

impl ConsoleChannel {
    /// A channel writing to `store`; prompts link to `details_url`/`#<incident>` when set.
    pub fn new(store: Arc<dyn Store>, details_url: Option<url::Url>) -> Self {
        let (changes, _) = broadcast::channel(CHANGES);
        Self {
            store,
            changes,
            details_url,
        }
    }

    /// Incident ids whose console thread changed on this replica, as they change.
    pub fn subscribe(&self) -> broadcast::Receiver<String> {
        self.changes.subscribe()
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Where the page shows an incident, when the console has a public address.
    fn link(&self, incident: &str) -> Option<String> {
        self.details_url.as_ref().map(|base| {
            let base = base.as_str().trim_end_matches('/');
            format!("{base}/console#{incident}")
        })
    }

    async fn write(&self, incident: &str, entry: Entry) -> Result<MessageRef, DeliveryError> {
        let message = thread::append(self.store.as_ref(), incident, entry, Utc::now())
            .await
            .map_err(unavailable)?;
        // Nobody listening is fine: pages poll as well.
        let _ = self.changes.send(incident.to_owned());
        Ok(message)
    }
}

/// The store is the console's only dependency: its failure is the console's outage.
fn unavailable(error: StoreError) -> DeliveryError {
    let reason = crate::telemetry::error_chain(&error);
    if error.is_transient() {
        DeliveryError::Unreachable {
            channel: ChannelKind::Console,
            reason,
        }
    } else {
        DeliveryError::Server {
            channel: ChannelKind::Console,
            reason,
        }
    }
}

fn foreign(message: &MessageRef) -> DeliveryError {
    DeliveryError::Invalid {
        channel: ChannelKind::Console,
        reason: format!(
            "{} message {} is not a console message",
            message.channel, message.id
        ),
    }
}

#[async_trait]
impl Channel for ConsoleChannel {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Console
    }

    async fn send_prompt(&self, prompt: &Prompt) -> Result<MessageRef, DeliveryError> {
        let mut prompt = prompt.clone();
        if prompt.details_url.is_none() {
            prompt.details_url = self.link(prompt.incident.as_str());
        }
        let incident = prompt.incident.to_string();
        let entry = Entry::Prompt {
            prompt: Box::new(prompt),
        };
        self.write(&incident, entry).await
    }

    async fn send_notice(&self, notice: &Notice) -> Result<MessageRef, DeliveryError> {
        let incident = notice.incident.to_string();
        let entry = Entry::Notice {
            notice: notice.clone(),
        };
        self.write(&incident, entry).await
    }

    async fn reply(&self, to: &MessageRef, text: &str) -> Result<MessageRef, DeliveryError> {
        if to.channel != ChannelKind::Console {
            return Err(foreign(to));
        }
        let entry = Entry::Reply {
            to: to.id.clone(),
            text: text.to_owned(),
        };
        self.write(&to.conversation, entry).await
    }

    async fn close_prompt(&self, prompt: &MessageRef, outcome: &str) -> Result<(), DeliveryError> {
        if prompt.channel != ChannelKind::Console {
            return Err(foreign(prompt));
        }
        let entry = Entry::Outcome {
            of: prompt.id.clone(),
            text: outcome.to_owned(),
        };
        self.write(&prompt.conversation, entry).await.map(|_| ())
    }

    async fn health(&self) -> Health {
        match self.store.ping().await {
            Ok(()) => Health::Up,
            Err(error) => Health::Down {
                reason: crate::telemetry::error_chain(&error),
            },
        }
    }
}
