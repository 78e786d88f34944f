//! The audit trail: append-only records of every decision and result, one log per incident.
//!
//! Records of incident `<id>` live in the store's log `audit:<id>` (a Redis stream), as JSON
//! [`AuditEntry`] values, oldest first. Nothing here updates or deletes a record. A record that
//! must exist together with a state change is written as [`AuditLog::append_effect`] of that
//! change's compare-and-set, so the change and its record are stored together or not at all.

mod entry;
pub mod kube_event;

use std::sync::Arc;

pub use self::entry::{Actor, AuditEntry, AuditId, AuditKind, AuditRecord};
use crate::incidents::IncidentId;
use crate::store::{LogEntry, SideEffect, Store, StoreError};

/// How many records [`AuditLog::trail`] reads per round trip.
const PAGE: usize = 256;

/// Typed access to audit trails in a [`Store`].
#[derive(Clone)]
pub struct AuditLog {
    store: Arc<dyn Store>,
}

impl AuditLog {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// The store log holding an incident's trail: `audit:<incident-id>`.
    pub fn log_key(incident: &IncidentId) -> String {
        format!("audit:{incident}")
    }

    /// Appends one record to the incident's trail; returns its id.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot append (nothing was written), or
    /// [`StoreError::Corrupt`] when the entry cannot be encoded.
    ///
    /// # Idempotency
    /// None: a retry after an unclear failure may append the record twice. Records that must
    /// be written exactly once go through [`AuditLog::append_effect`].
    pub async fn record(
        &self,
        incident: &IncidentId,
        entry: AuditEntry,
    ) -> Result<AuditId, StoreError> {
        let key = Self::log_key(incident);
        let value = serde_json::to_vec(&entry).map_err(|error| StoreError::Corrupt {
            key: key.clone(),
            reason: format!("audit entry cannot be encoded: {error}"),
        })?;
        let id = self.store.append(&key, &value).await?;
        Ok(AuditId::new(id))
    }

    /// The whole trail of an incident, oldest first (pages through the log internally).
    /// Empty when the incident has no records.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] naming the record when one cannot be decoded: a trail with a
    /// hole is not shown as if it were whole.
    pub async fn trail(&self, incident: &IncidentId) -> Result<Vec<AuditRecord>, StoreError> {
        let key = Self::log_key(incident);
        let mut records = Vec::new();
        let mut after = None;
        loop {
            let page = self.store.read_log(&key, after.as_ref(), PAGE).await?;
            let last_page = page.len() < PAGE;
            for entry in page {
                after = Some(entry.id);
                records.push(decode(&key, entry)?);
            }
            if last_page {
                return Ok(records);
            }
        }
    }

    /// The same record as a side effect, to write it atomically with a compare-and-set.
    pub fn append_effect(incident: &IncidentId, entry: &AuditEntry) -> SideEffect {
        // Encoding cannot fail for these fields (strings, a timestamp, enums and a JSON value,
        // whose map keys are strings). Were that to change, the record is still written, as
        // text that `trail` reports as unreadable, rather than silently dropped.
        let value = serde_json::to_vec(entry).unwrap_or_else(|error| {
            format!("audit entry could not be encoded: {error}").into_bytes()
        });
        SideEffect::Append {
            log: Self::log_key(incident),
            value,
        }
    }
}

fn decode(key: &str, entry: LogEntry) -> Result<AuditRecord, StoreError> {
    let decoded = serde_json::from_slice(&entry.value).map_err(|error| StoreError::Corrupt {
        key: key.to_owned(),
        reason: format!("audit record {}: {error}", entry.id),
    })?;
    Ok(AuditRecord {
        id: AuditId::new(entry.id),
        entry: decoded,
    })
}

#[cfg(test)]
mod tests;
