//! Conversation documents in the store: `conversation:<incident>` (JSON, versioned), the set
//! `conversations:open` of every unfinished one, the rendered prompts
//! `conversation:<incident>:prompt:<n>`, and `conversation-message:<channel>:<chat>:<id>`
//! naming the incident a prompt copy belongs to.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::audit::{Actor, AuditEntry, AuditKind, AuditLog};
use crate::channels::{MessageRef, Prompt};
use crate::conversations::event::{AuditNote, Effect};
use crate::conversations::state::Conversation;
use crate::incidents::IncidentId;
use crate::store::{CasOutcome, Claim, SideEffect, Store, StoreError, Version, Write};

/// Every conversation not yet resolved.
pub const OPEN: &str = "conversations:open";

/// How long a message → incident link is kept.
const MESSAGE_LINK_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

pub fn key(incident: &IncidentId) -> String {
    format!("conversation:{incident}")
}

fn prompt_key(incident: &IncidentId, prompt: u32) -> String {
    format!("conversation:{incident}:prompt:{prompt}")
}

fn message_key(message: &MessageRef) -> String {
    format!(
        "conversation-message:{}:{}:{}",
        message.channel, message.conversation, message.id
    )
}

fn corrupt(key: &str, error: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        key: key.to_owned(),
        reason: error.to_string(),
    }
}

/// The conversation of `incident` and the version it was read at.
///
/// # Errors
/// When the store fails or the document cannot be read.
pub async fn load(
    store: &dyn Store,
    incident: &IncidentId,
) -> Result<Option<(Conversation, Version)>, StoreError> {
    let key = key(incident);
    let Some(found) = store.get(&key).await? else {
        return Ok(None);
    };
    let conversation = serde_json::from_slice(&found.value).map_err(|e| corrupt(&key, e))?;
    Ok(Some((conversation, found.version)))
}

/// Writes `next` over version `expected`, with the audit records its effects carry and the
/// open-set membership, all in one compare-and-set.
///
/// # Errors
/// When the store fails.
pub async fn save(
    store: &dyn Store,
    next: &Conversation,
    expected: Version,
    retention: Duration,
    bot: &Actor,
) -> Result<CasOutcome, StoreError> {
    let key = key(&next.incident);
    let value = serde_json::to_vec(next).map_err(|e| corrupt(&key, e))?;
    let member = next.incident.to_string();
    let mut effects = vec![if next.finished() {
        SideEffect::RemoveFromSet {
            set: OPEN.into(),
            member,
        }
    } else {
        SideEffect::AddToSet {
            set: OPEN.into(),
            member,
        }
    }];
    for effect in &next.effects {
        if let Effect::Audit { note, reason } = effect {
            let entry = audit_entry(*note, reason, bot.clone(), next.updated_at);
            effects.push(AuditLog::append_effect(&next.incident, &entry));
        }
    }
    for message in next.state.messages() {
        effects.push(SideEffect::Bind {
            key: message_key(message),
            value: next.incident.to_string(),
            ttl: Some(MESSAGE_LINK_TTL),
        });
    }
    let ttl = next.finished().then_some(retention);
    store
        .compare_and_set(
            &key,
            expected,
            Write {
                value,
                ttl,
                effects,
            },
        )
        .await
}

/// The audit record of an [`Effect::Audit`].
pub fn audit_entry(note: AuditNote, reason: &str, actor: Actor, at: DateTime<Utc>) -> AuditEntry {
    let kind = match note {
        AuditNote::ApprovalRequested => AuditKind::ApprovalRequested,
        AuditNote::ApprovalDecision => AuditKind::ApprovalDecision,
        AuditNote::Escalation => AuditKind::Escalation,
        AuditNote::Ignored => AuditKind::EventIgnored,
        AuditNote::Transition => AuditKind::Conversation,
    };
    AuditEntry::new(kind, actor, reason).with_time(at)
}

/// The incident a prompt copy belongs to, if the bot sent it.
///
/// # Errors
/// When the store fails.
pub async fn incident_of(
    store: &dyn Store,
    message: &MessageRef,
) -> Result<Option<IncidentId>, StoreError> {
    Ok(store
        .peek(&message_key(message))
        .await?
        .map(IncidentId::from_stored))
}

/// Stores the rendered prompt `n` of an incident until a day after it expires.
///
/// # Errors
/// When the store fails, or prompt `n` already exists (another replica is asking: the caller
/// stops).
pub async fn save_prompt(
    store: &dyn Store,
    prompt: &Prompt,
    n: u32,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let key = prompt_key(&prompt.incident, n);
    let value = serde_json::to_string(prompt).map_err(|e| corrupt(&key, e))?;
    let ttl = (prompt.expires_at - now)
        .to_std()
        .unwrap_or_default()
        .saturating_add(Duration::from_secs(24 * 3600));
    Ok(matches!(
        store.claim(&key, &value, Some(ttl)).await?,
        Claim::Claimed
    ))
}

/// The rendered prompt `n` of an incident.
///
/// # Errors
/// When the store fails or the prompt cannot be read.
pub async fn load_prompt(
    store: &dyn Store,
    incident: &IncidentId,
    n: u32,
) -> Result<Option<Prompt>, StoreError> {
    let key = prompt_key(incident, n);
    match store.peek(&key).await? {
        Some(value) => serde_json::from_str(&value)
            .map(Some)
            .map_err(|e| corrupt(&key, e)),
        None => Ok(None),
    }
}
