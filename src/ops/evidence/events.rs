//! Kubernetes Events as evidence: listed once per namespace, kept for the objects of interest,
//! newest first, capped.

use k8s_openapi::api::core::v1::Event;
use k8s_openapi::jiff::Timestamp;
use kube::Api;
use kube::api::ListParams;
use serde::{Deserialize, Serialize};

use crate::ops::cluster::Cluster;
use crate::ops::error::OpsError;

/// Most events kept per part: enough to see a pattern, few enough to read.
pub const EVENT_LIMIT: usize = 20;

/// One Event, as `kubectl get events` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventEntry {
    /// The object it is about, `Kind/name`.
    pub object: String,
    pub reason: String,
    /// `Normal` or `Warning`.
    #[serde(rename = "type")]
    pub kind: String,
    pub message: String,
    /// How often it happened (the event correlator folds repeats into one Event).
    pub count: i32,
    /// When it last happened, RFC 3339.
    pub last: Option<String>,
}

impl EventEntry {
    pub fn of(event: &Event) -> Self {
        let involved = &event.involved_object;
        Self {
            object: format!(
                "{}/{}",
                involved.kind.as_deref().unwrap_or("?"),
                involved.name.as_deref().unwrap_or("?")
            ),
            reason: event.reason.clone().unwrap_or_default(),
            kind: event.type_.clone().unwrap_or_default(),
            message: event.message.clone().unwrap_or_default(),
            count: event.count.unwrap_or(1),
            last: last_seen(event).map(|t| t.to_string()),
        }
    }
}

/// When the event last happened: core/v1 writers set `lastTimestamp`, events.k8s.io writers
/// only `eventTime`; the creation time is the last resort.
pub fn last_seen(event: &Event) -> Option<Timestamp> {
    event
        .last_timestamp
        .as_ref()
        .map(|t| t.0)
        .or_else(|| event.event_time.as_ref().map(|t| t.0))
        .or_else(|| event.first_timestamp.as_ref().map(|t| t.0))
        .or_else(|| event.metadata.creation_timestamp.as_ref().map(|t| t.0))
}

/// The events `keep` accepts, newest first, at most [`EVENT_LIMIT`].
pub fn newest(events: &[Event], keep: impl Fn(&Event) -> bool) -> Vec<EventEntry> {
    let mut kept: Vec<&Event> = events.iter().filter(|e| keep(e)).collect();
    kept.sort_by_key(|e| std::cmp::Reverse(last_seen(e)));
    kept.into_iter()
        .take(EVENT_LIMIT)
        .map(EventEntry::of)
        .collect()
}

/// Lists the Events in `namespace` matching `fields` (a field selector, or `""` for all).
///
/// # Errors
/// When the list fails or passes the cluster's deadline.
pub async fn list(
    cluster: &Cluster,
    namespace: &str,
    fields: &str,
) -> Result<Vec<Event>, OpsError> {
    let api: Api<Event> = Api::namespaced(cluster.client().clone(), namespace);
    let mut params = ListParams::default();
    if !fields.is_empty() {
        params = params.fields(fields);
    }
    let listed = cluster
        .call("list events", namespace, api.list(&params))
        .await?;
    Ok(listed.items)
}
