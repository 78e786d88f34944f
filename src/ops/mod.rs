//! The part of Robot SRE that touches the cluster: it reads live state, refuses when a guardrail
//! says no, does the smallest action that can fix the problem, proves the outcome, and leaves an
//! evidence packet and audit records behind.
//!
//! - [`request`]: what is asked (action, target, request id);
//! - [`observe`], [`summary`] and [`state`]: live state, read right before each decision, and
//!   its typed snapshots;
//! - [`evidence`]: read-only evidence collectors (workload, pod, node, namespace) that degrade
//!   to "unknown" with a reason, and their short text summary;
//! - [`guard`]: guardrails on live state, store-backed limits and RBAC pre-flight;
//! - [`actions`]: one file per action, each planning its writes and its verification;
//! - [`mutation`]: the writes as data, sent for real or as a server-side dry run;
//! - [`verify`]: named predicates under a deadline;
//! - [`propose`]: checks and a dry run before a human is asked;
//! - [`apply`], [`verify_applied`] and [`execute`]: the pipeline that joins them, once per
//!   request id, in two phases with the packet stored in between;
//! - [`packet`]: the evidence packet;
//! - [`rbac`]: the least-privilege RBAC manifests the enabled actions need.
//!
//! # Executing in two phases
//! [`Ops::apply`] checks and writes, and stores the packet as [`Status::Applied`] before any
//! verification; [`Ops::verify_applied`] verifies an Applied request and stores the final
//! packet ([`Status::Verified`] or [`Status::VerificationFailed`]); [`Ops::execute`] does
//! both. Each phase is idempotent per request id and claimed by one replica at a time, so a
//! caller that records "executing" before `apply` and "verifying" before `verify_applied` can
//! be killed at any point and simply call the same phase again: no request is written twice
//! (see [`apply`] for the one crash window, between the writes and the Applied packet).

pub mod actions;
pub mod apply;
pub mod cluster;
pub mod error;
pub mod evidence;
pub mod execute;
pub mod guard;
mod intent;
pub mod mutation;
pub mod observe;
pub mod packet;
pub mod propose;
pub mod rbac;
pub mod request;
pub mod runbooks;
pub mod state;
pub mod summary;
pub mod verify;
pub mod verify_applied;

use std::sync::Arc;

pub use self::cluster::Cluster;
pub use self::error::OpsError;
pub use self::execute::Approval;
pub use self::packet::{Packet, Status, VerifyPlan};
pub use self::propose::Proposal;
pub use self::request::{Action, ActionRequest, RequestId, Target};

use self::guard::limits::{Limits, Scope};
use self::observe::Observation;
use crate::audit::{Actor, AuditLog};
use crate::config::OpsSettings;
use crate::store::Store;

/// The ops service: one per process, shared by every conversation.
#[derive(Clone)]
pub struct Ops {
    cluster: Cluster,
    store: Arc<dyn Store>,
    audit: AuditLog,
    limits: Limits,
    settings: Arc<OpsSettings>,
    interleave: Option<Interleave>,
}

/// Work run between an apply attempt's read and its write; see [`Ops::interleave_before_apply`].
pub type Interleave = Arc<dyn Fn(u32) -> futures::future::BoxFuture<'static, ()> + Send + Sync>;

impl std::fmt::Debug for Ops {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ops")
            .field("cluster", &self.cluster)
            .finish_non_exhaustive()
    }
}

impl Ops {
    pub fn new(cluster: Cluster, store: Arc<dyn Store>, settings: OpsSettings) -> Self {
        let settings = Arc::new(settings);
        Self {
            audit: AuditLog::new(store.clone()),
            limits: Limits::new(store.clone(), settings.clone()),
            cluster,
            store,
            settings,
            interleave: None,
        }
    }

    /// Fault injection for tests and drills: `hook(attempt)` runs after each apply attempt has
    /// read live state and stored its intent, and before it writes, so a test can change the
    /// object in between and prove the conflict handling against a real API server, or stop
    /// the attempt there as a crash would.
    #[doc(hidden)]
    pub fn interleave_before_apply(mut self, hook: Interleave) -> Self {
        self.interleave = Some(hook);
        self
    }

    pub fn cluster(&self) -> &Cluster {
        &self.cluster
    }

    pub fn settings(&self) -> &OpsSettings {
        &self.settings
    }

    pub fn store(&self) -> Arc<dyn Store> {
        self.store.clone()
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The bot as an audit actor.
    pub fn bot(&self) -> Actor {
        Actor::Bot {
            identity: self.settings.identity.clone(),
        }
    }

    /// The stored packet of a request, if it ran or was refused.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn packet(&self, request: &RequestId) -> Result<Option<Packet>, OpsError> {
        packet::load(self.store.as_ref(), request).await
    }
}

/// The workload limits and the breaker count against: the Deployment of a pod, the node, the
/// CronJob, or the namespace of a cleanup.
pub fn workload_of(observed: &Observation) -> String {
    match (&observed.governing, observed.target.namespace()) {
        (Some(governing), Some(namespace)) => {
            format!("{namespace}/{}/{}", governing.kind, governing.name)
        }
        (Some(governing), None) => format!("{}/{}", governing.kind, governing.name),
        (None, _) => observed.target.to_string(),
    }
}

fn scope(request: &ActionRequest, observed: &Observation, disruptive: bool) -> Scope {
    Scope {
        action: request.action.kind,
        namespace: request.action.target.namespace().map(ToString::to_string),
        workload: workload_of(observed),
        disruptive,
    }
}
