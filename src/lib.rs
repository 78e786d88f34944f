//! Robot SRE: Alertmanager alerts in, incidents recorded durably, and (as later modules land)
//! approval-gated, verified and audited Kubernetes remediations negotiated in chat.
//!
//! Module map, following the path of one incident:
//!
//! - [`http`]: the axum router (webhooks, health, metrics) and graceful shutdown.
//! - [`incidents`]: the Alertmanager payload, the Incident model, triage and deduplicated ingest.
//! - [`conversations`]: the only place that joins incidents, ops, policy and channels.
//! - [`channels`]: the chat adapters behind one interface, inbound verification, identity.
//! - [`ops`]: live Kubernetes state, guardrails, actions, verification and evidence packets.
//! - [`audit`]: the append-only audit trail, one log of records per incident, and the
//!   Kubernetes Events on changed objects.
//! - [`store`]: the state-store trait with Redis (production) and in-memory implementations.
//! - [`config`]: typed, layered, validated settings; secrets that never print.
//! - [`metrics`]: the Prometheus metrics.
//! - [`domain`]: validated Kubernetes names shared by every module.
//! - [`app`], [`cli`], [`telemetry`]: start-up glue.
//! - [`testkit`]: real helper processes (redis-server, Alertmanager) for tests, benchmarks and
//!   demos.

#![forbid(unsafe_code)]

pub mod app;
pub mod audit;
pub mod channels;
pub mod cli;
pub mod config;
pub mod conversations;
pub mod demo;
pub mod domain;
pub mod http;
pub mod incidents;
pub mod metrics;
pub mod ops;
pub mod policy;
pub mod store;
pub mod telemetry;
pub mod testkit;
