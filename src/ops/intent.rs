//! The write-ahead intent of the apply phase (`ops:intent:<id>`): what an attempt stored right
//! before its first write, so that a re-run after a crash can tell whether to write at all.
//! See [`super::apply`] for how it is used.

use serde::{Deserialize, Serialize};

use super::error::OpsError;
use super::observe::{Live, Observation};
use super::packet::Packet;
use super::request::RequestId;
use crate::store::{CasOutcome, Store, StoreError, Write};

/// What an attempt stored right before it began writing.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Intent {
    /// The fingerprint of the state the writes were planned on.
    pub fingerprint: String,
    /// The packet up to the writes, with its verification plan.
    pub packet: Packet,
}

/// Whether the writes of the attempt that stored `intent` may have landed, judged on the
/// target read again (`observed`). Every planned write changes the fingerprint (uid and
/// generation; a node's `unschedulable`), so an unchanged one proves none landed. A namespace's
/// fingerprint never changes, so for a cleanup the answer is always "may have".
pub(super) fn may_have_landed(intent: &Intent, observed: &Observation) -> bool {
    intent.fingerprint != observed.fingerprint() || matches!(observed.live, Live::Namespace { .. })
}

fn intent_key(request: &RequestId) -> String {
    format!("ops:intent:{request}")
}

pub(super) async fn load(
    store: &dyn Store,
    request: &RequestId,
) -> Result<Option<Intent>, OpsError> {
    let key = intent_key(request);
    match store.get(&key).await? {
        None => Ok(None),
        Some(stored) => serde_json::from_slice(&stored.value)
            .map(Some)
            .map_err(|e| OpsError::Corrupt {
                key,
                reason: e.to_string(),
            }),
    }
}

/// Stores (or replaces, after a conflict retry) the intent of this request.
pub(super) async fn save(
    store: &dyn Store,
    intent: &Intent,
    retention: std::time::Duration,
) -> Result<(), OpsError> {
    let key = intent_key(&intent.packet.request.id);
    let value = serde_json::to_vec(intent).map_err(|e| StoreError::Corrupt {
        key: key.clone(),
        reason: e.to_string(),
    })?;
    // Only the claim holder writes here; a conflict means a lapsed claim was taken over, and
    // the newest intent is the one to keep.
    for _ in 0..3 {
        let current = store.get(&key).await?.map_or(0, |v| v.version);
        let write = Write {
            value: value.clone(),
            ttl: Some(retention),
            effects: Vec::new(),
        };
        if let CasOutcome::Written { .. } = store.compare_and_set(&key, current, write).await? {
            return Ok(());
        }
    }
    Err(OpsError::Conflict {
        operation: "store the intent".into(),
        object: key,
    })
}
