//! The console's messages: one append-only store log per incident (`console:thread:<id>`),
//! and the view that folds each prompt's outcomes onto it.
//!
//! A message's [`MessageRef`] is `{channel: console, conversation: <incident id>, id: <log
//! id>}`, so a reply or an outcome finds its thread from the reference alone, on any replica.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::channels::{ChannelKind, MessageRef, Notice, Prompt};
use crate::incidents::IncidentId;
use crate::store::{LogEntry, LogId, Store, StoreError};

/// How many entries one read of a thread returns at most; a thread is a handful of messages.
const PAGE: usize = 256;

/// The store log holding an incident's console thread.
pub fn log_key(incident: &str) -> String {
    format!("console:thread:{incident}")
}

/// What one thread entry says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Entry {
    /// An approval prompt, with its tokens.
    Prompt { prompt: Box<Prompt> },
    /// A plain alert.
    Notice { notice: Notice },
    /// A reply in the thread of the entry `to`.
    Reply { to: String, text: String },
    /// The outcome of the prompt `of` ("Approved by alice …"); its buttons are gone.
    Outcome { of: String, text: String },
}

/// A stored entry: when, and what.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stored {
    pub at: DateTime<Utc>,
    #[serde(flatten)]
    pub entry: Entry,
}

/// Appends `entry` to the thread of `incident`; its reference.
///
/// # Errors
/// When the store fails (nothing was appended) or the entry cannot be encoded.
pub async fn append(
    store: &dyn Store,
    incident: &str,
    entry: Entry,
    at: DateTime<Utc>,
) -> Result<MessageRef, StoreError> {
    let key = log_key(incident);
    let value = serde_json::to_vec(&Stored { at, entry }).map_err(|e| StoreError::Corrupt {
        key: key.clone(),
        reason: e.to_string(),
    })?;
    let id = store.append(&key, &value).await?;
    Ok(MessageRef {
        channel: ChannelKind::Console,
        conversation: incident.to_owned(),
        id: id.to_string(),
    })
}

/// Every entry of the thread of `incident`, oldest first, with its id.
///
/// # Errors
/// When the store fails or an entry cannot be read.
pub async fn read(
    store: &dyn Store,
    incident: &IncidentId,
) -> Result<Vec<(LogId, Stored)>, StoreError> {
    let key = log_key(incident.as_str());
    let mut entries = Vec::new();
    let mut after: Option<LogId> = None;
    loop {
        let page = store.read_log(&key, after.as_ref(), PAGE).await?;
        let last = page.len() < PAGE;
        for LogEntry { id, value } in page {
            after = Some(id);
            let stored = serde_json::from_slice(&value).map_err(|e| StoreError::Corrupt {
                key: key.clone(),
                reason: format!("entry {id}: {e}"),
            })?;
            entries.push((id, stored));
        }
        if last {
            return Ok(entries);
        }
    }
}

/// One message as the page shows it: a prompt carries its latest outcome, if any.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    pub id: String,
    pub at: DateTime<Utc>,
    /// `prompt`, `notice` or `reply`.
    pub kind: &'static str,
    /// The title of a prompt or notice, the text of a reply.
    pub text: String,
    /// The notice's body; empty otherwise.
    pub body: String,
    /// The entry a reply answers.
    pub reply_to: Option<String>,
    /// The prompt's outcome, once it was closed.
    pub outcome: Option<String>,
}

/// Folds outcomes onto their prompts (the latest one wins); the rest in order.
pub fn fold(entries: &[(LogId, Stored)]) -> Vec<Message> {
    let mut messages: Vec<Message> = Vec::new();
    for (id, stored) in entries {
        let message = |kind, text: &str, body: &str, reply_to: Option<&String>| Message {
            id: id.to_string(),
            at: stored.at,
            kind,
            text: text.to_owned(),
            body: body.to_owned(),
            reply_to: reply_to.cloned(),
            outcome: None,
        };
        match &stored.entry {
            Entry::Prompt { prompt } => messages.push(message("prompt", &prompt.title, "", None)),
            Entry::Notice { notice } => {
                messages.push(message("notice", &notice.title, &notice.body, None));
            }
            Entry::Reply { to, text } => messages.push(message("reply", text, "", Some(to))),
            Entry::Outcome { of, text } => {
                if let Some(prompt) = messages.iter_mut().find(|m| &m.id == of) {
                    prompt.outcome = Some(text.clone());
                }
            }
        }
    }
    messages
}

/// The prompt entry `id` of a thread, if it is one.
pub fn prompt<'a>(entries: &'a [(LogId, Stored)], id: &str) -> Option<&'a Prompt> {
    entries
        .iter()
        .find_map(|(entry_id, stored)| match &stored.entry {
            Entry::Prompt { prompt } if entry_id.to_string() == id => Some(prompt.as_ref()),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    fn notice(incident: &str) -> Notice {
        Notice {
            incident: IncidentId::from_stored(incident),
            severity: crate::incidents::model::Severity::Critical,
            title: "checkout rollout stuck".into(),
            body: "1/3 pods ImagePullBackOff".into(),
            details_url: None,
        }
    }

    #[tokio::test]
    async fn thread_folds_the_latest_outcome_onto_its_entry_when_read_back() {
        let store = MemoryStore::new();
        let now = Utc::now();
        let first = append(
            &store,
            "inc-1",
            Entry::Notice {
                notice: notice("inc-1"),
            },
            now,
        )
        .await
        .unwrap();
        assert_eq!(first.channel, ChannelKind::Console);
        assert_eq!(first.conversation, "inc-1");
        let reply = Entry::Reply {
            to: first.id.clone(),
            text: "Verification PASS".into(),
        };
        append(&store, "inc-1", reply, now).await.unwrap();
        for text in ["Approved by alice", "Approved by alice; Verification PASS"] {
            let outcome = Entry::Outcome {
                of: first.id.clone(),
                text: text.into(),
            };
            append(&store, "inc-1", outcome, now).await.unwrap();
        }
        let entries = read(&store, &IncidentId::from_stored("inc-1"))
            .await
            .unwrap();
        assert_eq!(entries.len(), 4);
        let messages = fold(&entries);
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert_eq!(messages[0].kind, "notice");
        assert_eq!(
            messages[0].outcome.as_deref(),
            Some("Approved by alice; Verification PASS")
        );
        assert_eq!(messages[1].kind, "reply");
        assert_eq!(messages[1].reply_to.as_deref(), Some(first.id.as_str()));
    }

    #[tokio::test]
    async fn threads_of_two_incidents_stay_apart_when_both_are_written() {
        let store = MemoryStore::new();
        let now = Utc::now();
        append(
            &store,
            "inc-1",
            Entry::Notice {
                notice: notice("inc-1"),
            },
            now,
        )
        .await
        .unwrap();
        let other = IncidentId::from_stored("inc-2");
        assert!(read(&store, &other).await.unwrap().is_empty());
    }

    #[test]
    fn an_outcome_of_an_unknown_entry_is_dropped_when_folded() {
        let entries = vec![(
            LogId::new(1, 0),
            Stored {
                at: Utc::now(),
                entry: Entry::Outcome {
                    of: "9-9".into(),
                    text: "Approved".into(),
                },
            },
        )];
        assert!(fold(&entries).is_empty());
    }
}
