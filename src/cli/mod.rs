//! The command line: what each subcommand does, in `robot-sre --help`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use chrono::SecondsFormat;
use clap::{Parser, Subcommand};

use crate::audit::{AuditLog, AuditRecord};
use crate::config::{self, LoadedSettings};
use crate::incidents::{IncidentId, IncidentRepository};
use crate::store::Store;
use crate::testkit::lab::LabCommand;

mod console;
mod ops;
mod policy;

/// Robot SRE: turns Alertmanager alerts into approval-gated, verified and audited Kubernetes
/// remediations, negotiated with on-call humans in chat.
#[derive(Debug, Parser)]
#[command(name = "robot-sre", version, propagate_version = true)]
pub struct Cli {
    /// Configuration file (YAML). Environment variables ROBOT_SRE__SECTION__KEY override it.
    #[arg(
        long,
        short,
        global = true,
        env = "ROBOT_SRE_CONFIG",
        value_name = "FILE"
    )]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the bot: the Alertmanager webhook, health and metrics endpoints, until SIGTERM/SIGINT.
    Serve,
    /// Load and validate the configuration, then print the resolved settings with secrets
    /// masked. Exits 2 naming the file (or environment variable), key and problem if invalid.
    CheckConfig,
    /// Read incidents from the configured state store.
    #[command(subcommand)]
    Incidents(IncidentsCommand),
    /// Print an incident's audit trail from the configured state store, oldest first: one line
    /// per record (time, id, kind, actor, action and target, reason).
    Audit {
        /// Incident id, e.g. inc-7k3q9x2m4p0a.
        id: String,
        /// Print the records as a JSON array instead.
        #[arg(long)]
        json: bool,
    },
    /// Export or print the evidence packets of an incident's actions (executed or refused).
    Packet {
        /// Incident id, e.g. inc-7k3q9x2m4p0a.
        id: String,
        /// Write each packet as a directory of JSON files plus packet.txt under this directory,
        /// instead of printing the readable text.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Print the least-privilege RBAC manifests (ServiceAccount, Roles, bindings) that the
    /// configured ops.actions and ops.namespaces need, for `kubectl apply -f -`.
    Rbac {
        /// Namespace the bot runs in (where its ServiceAccount lives).
        #[arg(long, default_value = "robot-sre")]
        namespace: String,
        /// Name of the ServiceAccount (and of the Roles and bindings).
        #[arg(long, default_value = "robot-sre")]
        name: String,
    },
    /// The policy engine: preview the decision for an alert, replay recorded decisions.
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
    /// Inspect or reset the circuit breaker of a workload.
    #[command(subcommand)]
    Breaker(ops::BreakerCommand),
    /// A local Kubernetes lab for tests and demos: a real control plane on loopback with a
    /// simulated kubelet (binaries from scripts/lab-binaries.sh).
    #[command(subcommand)]
    Lab(LabCommand),
    /// The web console: make password hashes for its users.
    #[command(subcommand)]
    Console(console::ConsoleCommand),
    /// The quick start: the lab, the bot with its web console, four broken workloads and their
    /// alerts, and a status line per incident as it moves (needs the lab's binaries).
    Demo(crate::demo::DemoArgs),
}

#[derive(Debug, Subcommand)]
pub enum IncidentsCommand {
    /// List open incidents, one line each.
    List,
    /// Print one incident, with its history, as JSON.
    Show {
        /// Incident id, e.g. inc-7k3q9x2m4p0a.
        id: String,
    },
}

/// Exit code for configuration problems.
const BAD_CONFIG: u8 = 2;

impl Cli {
    /// Runs the chosen subcommand.
    pub async fn run(self) -> ExitCode {
        // The lab, console password hashes and the demo need no configuration.
        let command = match self.command {
            Command::Lab(command) => return finish(command.run().await),
            Command::Console(command) => return finish(command.run()),
            Command::Demo(args) => {
                return match crate::demo::run(args).await {
                    Ok(true) => ExitCode::SUCCESS,
                    Ok(false) => ExitCode::FAILURE,
                    Err(error) => finish(Err(error)),
                };
            }
            command => command,
        };
        let loaded = match config::load(self.config.as_deref()) {
            Ok(loaded) => loaded,
            Err(error) => {
                eprintln!("error: the configuration is invalid:\n{error}");
                return ExitCode::from(BAD_CONFIG);
            }
        };
        let result = match command {
            Command::CheckConfig => match check_config(&loaded) {
                Ok(()) => return policy::check_config(&loaded),
                Err(error) => Err(error),
            },
            Command::Serve => {
                crate::telemetry::init(&loaded.settings.telemetry);
                crate::app::run(loaded).await
            }
            Command::Incidents(command) => incidents(&loaded, command).await,
            Command::Audit { id, json } => audit(&loaded, IncidentId::from_stored(id), json).await,
            Command::Packet { id, out } => {
                ops::packets(&loaded, IncidentId::from_stored(id), out).await
            }
            Command::Rbac { namespace, name } => ops::rbac(&loaded, namespace, name),
            Command::Breaker(command) => ops::breaker(&loaded, command).await,
            Command::Policy(command) => policy::run(loaded, command).await,
            Command::Lab(_) | Command::Console(_) | Command::Demo(_) => {
                unreachable!("handled before loading the configuration")
            }
        };
        finish(result)
    }
}

fn finish(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn check_config(loaded: &LoadedSettings) -> anyhow::Result<()> {
    println!("configuration is valid");
    println!("sources, later wins: {}", loaded.sources.join(", "));
    for warning in &loaded.warnings {
        println!("warning: {warning}");
    }
    println!("resolved settings (secrets masked):");
    print!("{}", serde_yaml::to_string(&loaded.settings)?);
    Ok(())
}

/// The configured store, when another process can read it.
pub(crate) fn shared_store(loaded: &LoadedSettings) -> anyhow::Result<Arc<dyn Store>> {
    if loaded.settings.store.backend == crate::config::StoreBackend::Memory {
        anyhow::bail!(
            "store.backend is memory: incidents and their audit trails live inside the running \
             `serve` process and cannot be read from here; use the redis backend to read them \
             with this command"
        );
    }
    crate::app::open_store(&loaded.settings)
}

async fn incidents(loaded: &LoadedSettings, command: IncidentsCommand) -> anyhow::Result<()> {
    let repository = IncidentRepository::new(shared_store(loaded)?);
    match command {
        IncidentsCommand::List => {
            let ids = repository.open_ids().await?;
            if ids.is_empty() {
                println!("no open incidents");
            }
            for id in ids {
                match repository.load(&id).await? {
                    Some((i, _)) => println!(
                        "{}  {:<9} {:<28} {:<10} {}",
                        i.id,
                        format!("{:?}", i.severity).to_lowercase(),
                        i.incident_type.as_str(),
                        format!("{:?}", i.lifecycle).to_lowercase(),
                        i.alertname(),
                    ),
                    None => println!("{id}  (listed as open but not found)"),
                }
            }
        }
        IncidentsCommand::Show { id } => {
            let id = IncidentId::from_stored(id);
            let Some((incident, _)) = repository.load(&id).await? else {
                anyhow::bail!("no incident {id} in the configured store");
            };
            println!("{}", serde_json::to_string_pretty(&incident)?);
        }
    }
    Ok(())
}

async fn audit(loaded: &LoadedSettings, id: IncidentId, json: bool) -> anyhow::Result<()> {
    let store = shared_store(loaded)?;
    let trail = AuditLog::new(store.clone()).trail(&id).await?;
    // A trail outlives its incident's retention, so only an empty trail asks about the incident.
    if trail.is_empty() && IncidentRepository::new(store).load(&id).await?.is_none() {
        anyhow::bail!("no incident {id} in the configured store");
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&trail)?);
        return Ok(());
    }
    if trail.is_empty() {
        println!("no audit records for {id}");
    }
    for record in &trail {
        println!("{}", audit_line(record));
    }
    Ok(())
}

/// One record on one line: time, id, kind, actor, action and target (or `-`), reason.
fn audit_line(record: &AuditRecord) -> String {
    let entry = &record.entry;
    let subject = [entry.action.as_deref(), entry.target.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    format!(
        "{}  {}  {:<18} {:<20} {}  {}",
        entry.at.to_rfc3339_opts(SecondsFormat::Millis, true),
        record.id,
        entry.kind.as_str(),
        entry.actor.to_string(),
        if subject.is_empty() { "-" } else { &subject },
        entry.reason,
    )
}
