//! Where incidents live in the state store, and how they are encoded.
//!
//! Keys: `incident:<id>` holds the incident (JSON); `dedupe:<fingerprint>` holds the id of the
//! incident an alert feeds; the set `incidents:open` holds the ids of open incidents. Ingest
//! appends an incident's first audit record (`audit:<id>`, see [`crate::audit`]) with the write
//! that creates it, through [`IncidentRepository::save_with`].

use std::sync::Arc;
use std::time::Duration;

use super::model::{Incident, IncidentId};
use crate::store::{CasOutcome, Claim, SideEffect, Store, StoreError, Version, Write};

const OPEN_SET: &str = "incidents:open";

/// Typed access to incidents in a [`Store`].
#[derive(Clone)]
pub struct IncidentRepository {
    store: Arc<dyn Store>,
}

fn incident_key(id: &IncidentId) -> String {
    format!("incident:{id}")
}

fn dedupe_key(fingerprint: &str) -> String {
    format!("dedupe:{fingerprint}")
}

impl IncidentRepository {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// The id of the incident an alert fingerprint feeds, claiming `candidate` if there is none.
    pub async fn claim_fingerprint(
        &self,
        fingerprint: &str,
        candidate: &IncidentId,
    ) -> Result<IncidentId, StoreError> {
        match self
            .store
            .claim(&dedupe_key(fingerprint), candidate.as_str(), None)
            .await?
        {
            Claim::Claimed => Ok(candidate.clone()),
            Claim::Held(id) => Ok(IncidentId::from_stored(id)),
        }
    }

    /// Reads an incident and the version to write it back at.
    pub async fn load(&self, id: &IncidentId) -> Result<Option<(Incident, Version)>, StoreError> {
        let key = incident_key(id);
        let Some(stored) = self.store.get(&key).await? else {
            return Ok(None);
        };
        let incident =
            serde_json::from_slice(&stored.value).map_err(|error| StoreError::Corrupt {
                key,
                reason: error.to_string(),
            })?;
        Ok(Some((incident, stored.version)))
    }

    /// Writes an incident if it is still at `expected`, keeping the open set and the
    /// fingerprints' dedupe keys in step: an open incident holds its dedupe keys forever; a
    /// closed one lets them lapse after `suppression_window` and is itself kept for `retention`.
    /// If a fingerprint's dedupe key now names another incident (it lapsed and was claimed
    /// anew), the write is a conflict and nothing changes.
    pub async fn save(
        &self,
        incident: &Incident,
        expected: Version,
        suppression_window: Duration,
        retention: Duration,
    ) -> Result<CasOutcome, StoreError> {
        self.save_with(
            incident,
            expected,
            suppression_window,
            retention,
            Vec::new(),
        )
        .await
    }

    /// [`IncidentRepository::save`], also applying `extra` (e.g. an audit record) in the same
    /// compare-and-set: on a conflict or an error none of it is written.
    pub async fn save_with(
        &self,
        incident: &Incident,
        expected: Version,
        suppression_window: Duration,
        retention: Duration,
        extra: Vec<SideEffect>,
    ) -> Result<CasOutcome, StoreError> {
        let id = incident.id.to_string();
        let open = incident.lifecycle.is_open();
        let mut effects = vec![if open {
            SideEffect::AddToSet {
                set: OPEN_SET.into(),
                member: id.clone(),
            }
        } else {
            SideEffect::RemoveFromSet {
                set: OPEN_SET.into(),
                member: id.clone(),
            }
        }];
        effects.extend(
            incident
                .fingerprints
                .iter()
                .map(|fingerprint| SideEffect::Bind {
                    key: dedupe_key(fingerprint),
                    value: id.clone(),
                    ttl: (!open).then_some(suppression_window),
                }),
        );
        effects.extend(extra);
        let value = serde_json::to_vec(incident).map_err(|error| StoreError::Corrupt {
            key: incident_key(&incident.id),
            reason: error.to_string(),
        })?;
        let write = Write {
            value,
            ttl: (!open).then_some(retention),
            effects,
        };
        self.store
            .compare_and_set(&incident_key(&incident.id), expected, write)
            .await
    }

    /// The ids of all open incidents.
    pub async fn open_ids(&self) -> Result<Vec<IncidentId>, StoreError> {
        let mut ids: Vec<IncidentId> = self
            .store
            .members(OPEN_SET)
            .await?
            .into_iter()
            .map(IncidentId::from_stored)
            .collect();
        ids.sort();
        Ok(ids)
    }
}
