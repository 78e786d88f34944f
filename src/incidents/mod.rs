//! Incidents: the Alertmanager payload, the Incident model, triage (classification, scope,
//! environment) and deduplicated, durable ingest.

pub mod alertmanager;
pub mod classify;
pub mod evidence;
pub mod ingest;
pub mod model;
mod opened;
pub mod repository;
pub mod triage;

pub use alertmanager::{Alert, AlertStatus, Notification, PayloadError};
pub use classify::Classifier;
pub use ingest::{IncidentService, IngestError, IngestPolicy, Outcome, Recorded};
pub use model::{Incident, IncidentEvidence, IncidentId, IncidentType, Lifecycle};
pub use repository::IncidentRepository;
pub use triage::Triage;
