//! Collecting evidence for new incidents, in the background, a bounded number at a time.
//!
//! Alertmanager is answered as soon as an alert is recorded; evidence follows. A collector that
//! fails (the incident vanished, the store is down) logs and gives up: the incident itself is
//! already safe, and a human still sees it without evidence.

use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::config::OpsSettings;
use crate::incidents::evidence::Attached;
use crate::incidents::{IncidentEvidence, IncidentId, IncidentService, IngestError};
use crate::ops::Cluster;
use crate::ops::evidence::{self, Scope};

/// How many incidents have their evidence collected at once; the rest wait their turn, so an
/// alert storm does not become a storm of API reads.
pub const MAX_CONCURRENT_COLLECTIONS: usize = 4;

/// Collects and attaches evidence through the bot's own cluster identity.
#[derive(Clone)]
pub struct EvidenceCollector {
    cluster: Cluster,
    settings: Arc<OpsSettings>,
    permits: Arc<Semaphore>,
}

/// What collecting for one incident did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Collection {
    Attached(Attached),
    /// The incident names nothing in the cluster (no namespace, workload, pod or node).
    NothingToCollect,
}

impl EvidenceCollector {
    pub fn new(cluster: Cluster, settings: OpsSettings) -> Self {
        Self {
            cluster,
            settings: Arc::new(settings),
            permits: Arc::new(Semaphore::new(MAX_CONCURRENT_COLLECTIONS)),
        }
    }

    /// Collects the evidence the incident's scope asks for and attaches it.
    ///
    /// # Errors
    /// When the store fails; reads that fail are part of the evidence ("unknown: <reason>").
    pub async fn collect_for(
        &self,
        incidents: &IncidentService,
        id: &IncidentId,
    ) -> Result<Collection, IngestError> {
        let Some((incident, _)) = incidents.repository().load(id).await? else {
            return Ok(Collection::Attached(Attached::NoIncident));
        };
        let scope = Scope::from(&incident.scope);
        if scope.namespace.is_none() && scope.node.is_none() {
            return Ok(Collection::NothingToCollect);
        }
        let collected = {
            let _permit = self.permits.acquire().await.expect("never closed");
            evidence::collect(&self.cluster, &self.settings, &scope).await
        };
        let detail = serde_json::to_value(&collected).unwrap_or_else(|error| {
            serde_json::json!({ "unknown": format!("evidence cannot be encoded: {error}") })
        });
        let evidence = IncidentEvidence {
            collected_at: collected.collected_at,
            summary: collected.summary(),
            detail,
        };
        Ok(Collection::Attached(
            incidents.attach_evidence(id, evidence).await?,
        ))
    }

    /// [`EvidenceCollector::collect_for`] in the background; the outcome is logged.
    pub fn spawn(&self, incidents: Arc<IncidentService>, id: IncidentId) {
        let collector = self.clone();
        tokio::spawn(async move {
            match collector.collect_for(&incidents, &id).await {
                Ok(outcome) => tracing::info!(incident = %id, ?outcome, "evidence collected"),
                Err(error) => {
                    let error = crate::telemetry::error_chain(&error);
                    tracing::warn!(incident = %id, %error, "evidence not attached")
                }
            }
        });
    }
}
