//! What the console shows, read from the store: the incident list and one incident with its
//! conversation, open prompt, console thread, evidence packets and audit trail.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::thread::{self, Message};
use crate::audit::{AuditLog, AuditRecord};
use crate::channels::{ChannelKind, Choice, MessageRef, Prompt};
use crate::conversations::driver::{describe, persist};
use crate::conversations::state::{Conversation, State};
use crate::incidents::model::{Incident, ResourceScope};
use crate::incidents::{IncidentId, IncidentRepository};
use crate::ops::packet::{self, Packet};
use crate::store::{Store, StoreError};

/// One row of the incident list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub id: String,
    pub severity: &'static str,
    #[serde(rename = "type")]
    pub incident_type: &'static str,
    pub environment: &'static str,
    pub target: String,
    /// The conversation's state name ("awaiting approval"); `None` before it has one.
    pub state: Option<&'static str>,
    pub opened_at: DateTime<Utc>,
    pub age_seconds: i64,
}

/// Every open incident and every unfinished conversation, newest first.
///
/// # Errors
/// When the store fails or a document cannot be read.
pub async fn list(
    store: &std::sync::Arc<dyn Store>,
    now: DateTime<Utc>,
) -> Result<Vec<Row>, StoreError> {
    let repository = IncidentRepository::new(store.clone());
    let mut ids: BTreeSet<IncidentId> = repository.open_ids().await?.into_iter().collect();
    for id in store.members(persist::OPEN).await? {
        ids.insert(IncidentId::from_stored(id));
    }
    let mut rows = Vec::new();
    for id in ids {
        let Some((incident, _)) = repository.load(&id).await? else {
            continue;
        };
        let conversation = persist::load(store.as_ref(), &id).await?.map(|(c, _)| c);
        rows.push(row(&incident, conversation.as_ref(), now));
    }
    rows.sort_by(|a, b| b.opened_at.cmp(&a.opened_at).then(a.id.cmp(&b.id)));
    Ok(rows)
}

fn row(incident: &Incident, conversation: Option<&Conversation>, now: DateTime<Utc>) -> Row {
    Row {
        id: incident.id.to_string(),
        severity: incident.severity.as_str(),
        incident_type: incident.incident_type.as_str(),
        environment: incident.environment.as_str(),
        target: target(&incident.scope),
        state: conversation.map(|c| c.state.name().as_str()),
        opened_at: incident.first_seen,
        age_seconds: (now - incident.first_seen).num_seconds().max(0),
    }
}

/// `cluster/namespace/Kind/name`, as far as the alert names it.
fn target(scope: &ResourceScope) -> String {
    let mut parts = vec![scope.cluster.clone()];
    if let Some(namespace) = &scope.namespace {
        parts.push(namespace.to_string());
    }
    if let Some(workload) = &scope.workload {
        parts.push(format!("{}/{}", workload.kind, workload.name));
    } else if let Some(pod) = &scope.pod {
        parts.push(format!("Pod/{pod}"));
    } else if let Some(node) = &scope.node {
        parts.push(format!("Node/{node}"));
    }
    parts.retain(|p| !p.is_empty());
    parts.join("/")
}

/// The conversation, as the page shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConversationView {
    pub state: &'static str,
    /// One line, as `/incident status` answers.
    pub status: String,
    pub acked_by: Option<String>,
    pub opened_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A labelled prompt field.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Field {
    pub label: &'static str,
    pub value: String,
}

/// The prompt out for decision, whichever channel it was delivered to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PromptView {
    pub number: u32,
    pub title: String,
    pub severity: &'static str,
    pub expires_at: DateTime<Utc>,
    pub fields: Vec<Field>,
    pub choices: Vec<Choice>,
    /// Every channel holding a copy ("slack", "console").
    pub delivered_to: Vec<ChannelKind>,
}

/// An evidence packet: its headline, its readable text and the whole packet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PacketView {
    pub request_id: String,
    pub status: packet::Status,
    pub summary: String,
    pub readable: String,
    pub packet: Packet,
}

/// One incident, everything the console shows of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Detail {
    pub summary: Row,
    pub incident: Incident,
    pub conversation: Option<ConversationView>,
    pub prompt: Option<PromptView>,
    pub thread: Vec<Message>,
    pub packets: Vec<PacketView>,
    /// The audit trail, oldest first.
    pub audit: Vec<AuditRecord>,
}

/// Why a detail could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DetailError {
    #[error("no incident {0}")]
    NotFound(IncidentId),
    #[error("the store failed")]
    Store(#[from] StoreError),
    #[error("evidence packets could not be read")]
    Packets(#[source] crate::ops::OpsError),
}

/// Everything about `id`.
///
/// # Errors
/// [`DetailError::NotFound`] for an unknown (or forgotten) incident; store failures.
pub async fn detail(
    store: &std::sync::Arc<dyn Store>,
    id: &IncidentId,
    now: DateTime<Utc>,
) -> Result<Detail, DetailError> {
    let repository = IncidentRepository::new(store.clone());
    let (incident, _) = repository
        .load(id)
        .await?
        .ok_or_else(|| DetailError::NotFound(id.clone()))?;
    let conversation = persist::load(store.as_ref(), id).await?.map(|(c, _)| c);
    let prompt = match &conversation {
        Some(c) => open_prompt(store.as_ref(), c).await?,
        None => None,
    };
    let packets = packet::for_incident(store.as_ref(), id)
        .await
        .map_err(DetailError::Packets)?;
    Ok(Detail {
        summary: row(&incident, conversation.as_ref(), now),
        conversation: conversation
            .as_ref()
            .map(|c| conversation_view(c, &incident, now)),
        prompt,
        thread: thread::fold(&thread::read(store.as_ref(), id).await?),
        packets: packets.into_iter().map(packet_view).collect(),
        audit: AuditLog::new(store.clone()).trail(id).await?,
        incident,
    })
}

fn conversation_view(
    c: &Conversation,
    incident: &Incident,
    now: DateTime<Utc>,
) -> ConversationView {
    let what = format!(
        "{} {} in {}",
        incident.severity.as_str(),
        incident.incident_type.as_str(),
        incident.environment.as_str()
    );
    ConversationView {
        state: c.state.name().as_str(),
        status: describe(c, &what, now),
        acked_by: c.acked_by.clone(),
        opened_at: c.opened_at,
        updated_at: c.updated_at,
    }
}

async fn open_prompt(
    store: &dyn Store,
    conversation: &Conversation,
) -> Result<Option<PromptView>, StoreError> {
    let State::AwaitingApproval(awaiting) = &conversation.state else {
        return Ok(None);
    };
    let stored = persist::load_prompt(store, &conversation.incident, awaiting.prompt).await?;
    Ok(stored.map(|prompt| prompt_view(&prompt, awaiting.prompt, &awaiting.messages)))
}

fn prompt_view(prompt: &Prompt, number: u32, copies: &[MessageRef]) -> PromptView {
    let mut delivered_to: Vec<ChannelKind> = copies.iter().map(|m| m.channel).collect();
    delivered_to.dedup();
    PromptView {
        number,
        title: prompt.title.clone(),
        severity: prompt.severity.as_str(),
        expires_at: prompt.expires_at,
        fields: prompt
            .fields()
            .into_iter()
            .map(|(label, value)| Field { label, value })
            .collect(),
        choices: prompt.choices.clone(),
        delivered_to,
    }
}

fn packet_view(packet: Packet) -> PacketView {
    PacketView {
        request_id: packet.request.id.to_string(),
        status: packet.status,
        summary: packet.summary.clone(),
        readable: packet::readable(&packet),
        packet,
    }
}

/// The console copy of the open prompt of `incident`, if the console holds one.
///
/// # Errors
/// When the store fails.
pub async fn console_copy(
    store: &dyn Store,
    incident: &IncidentId,
) -> Result<Option<MessageRef>, StoreError> {
    let Some((conversation, _)) = persist::load(store, incident).await? else {
        return Ok(None);
    };
    Ok(conversation
        .state
        .messages()
        .iter()
        .rev()
        .find(|m| m.channel == ChannelKind::Console)
        .cloned())
}
