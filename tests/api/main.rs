//! Integration tests: the bot over real HTTP, against a real redis-server and a real
//! Alertmanager. One binary, so the shared redis-server starts once.

mod alertmanager_e2e;
mod cli;
mod cli_console;
mod cli_ops;
mod cli_policy;
mod health;
mod helpers;
mod ingest;
mod ingest_audit;
mod ingest_rejections;
mod shutdown;
mod store_conformance;
mod store_conformance_logs;
mod store_conformance_windows;
mod store_outage;
