//! Ops commands: evidence packets, the RBAC the configuration needs, and the circuit breaker.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Subcommand;

use crate::audit::{Actor, AuditEntry, AuditKind, AuditLog};
use crate::config::LoadedSettings;
use crate::incidents::IncidentId;
use crate::ops::guard::limits::Limits;
use crate::ops::packet;
use crate::ops::rbac::{BotAccount, manifests};

#[derive(Debug, Subcommand)]
pub enum BreakerCommand {
    /// Print a workload's breaker: failed verifications in a row, open or closed, and why.
    Show {
        /// The workload as packets and refusals name it, e.g. payments/Deployment/checkout.
        workload: String,
    },
    /// Close an open breaker after a human has looked; recorded in the incident's audit trail.
    Reset {
        workload: String,
        /// The incident on whose behalf it is reset.
        #[arg(long)]
        incident: String,
        /// Who resets it (recorded as the actor).
        #[arg(long)]
        by: String,
    },
}

pub async fn packets(
    loaded: &LoadedSettings,
    id: IncidentId,
    out: Option<PathBuf>,
) -> anyhow::Result<()> {
    let store = super::shared_store(loaded)?;
    let packets = packet::for_incident(store.as_ref(), &id).await?;
    if packets.is_empty() {
        anyhow::bail!("no evidence packets for incident {id} in the configured store");
    }
    for packet in &packets {
        match &out {
            Some(dir) => {
                let path = packet::export(packet, dir)?;
                println!("{}", path.display());
            }
            None => println!("{}", packet::readable(packet)),
        }
    }
    Ok(())
}

pub fn rbac(loaded: &LoadedSettings, namespace: String, name: String) -> anyhow::Result<()> {
    let ops = &loaded.settings.ops;
    if ops.namespaces.is_empty() {
        eprintln!(
            "warning: ops.namespaces is empty, so no namespace gets a Role: the bot can act nowhere"
        );
    }
    let account = BotAccount { namespace, name };
    let mut manifests = manifests(ops, &account);
    if loaded.settings.policy.cluster_runbooks {
        manifests = manifests.with_runbook_reader(&account);
    }
    print!("{}", manifests.to_yaml());
    Ok(())
}

pub async fn breaker(loaded: &LoadedSettings, command: BreakerCommand) -> anyhow::Result<()> {
    let store = super::shared_store(loaded)?;
    let limits = Limits::new(store.clone(), Arc::new(loaded.settings.ops.clone()));
    match command {
        BreakerCommand::Show { workload } => {
            let breaker = limits.breaker(&workload).await?;
            println!("{workload}: {}", serde_json::to_string(&breaker)?);
        }
        BreakerCommand::Reset {
            workload,
            incident,
            by,
        } => {
            let before = limits.reset_breaker(&workload).await?;
            let entry = AuditEntry::new(
                AuditKind::BreakerReset,
                Actor::Human {
                    id: by,
                    channel: "cli".into(),
                },
                format!(
                    "circuit breaker of {workload} reset (was {} after {} failure(s))",
                    if before.open { "open" } else { "closed" },
                    before.failures
                ),
            )
            .with_target(workload.clone())
            .with_detail(serde_json::to_value(&before)?);
            let id = AuditLog::new(store)
                .record(&IncidentId::from_stored(incident), entry)
                .await?;
            println!("{workload}: breaker closed (audit record {id})");
        }
    }
    Ok(())
}
