//! Policy commands: preview the decision for a sample alert, replay recorded incidents through
//! the current policy, and the policy part of `check-config`.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use chrono::Utc;
use clap::Subcommand;

use crate::config::LoadedSettings;
use crate::incidents::model::Environment;
use crate::incidents::{AlertStatus, IncidentRepository, Notification, Triage};
use crate::policy::load::{LoadedPolicy, load};
use crate::policy::record::PolicyAudit;
use crate::policy::{Decision, DecisionContext, IncidentFacts, Policy};

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Print the decision, and every reason, for each alert of an Alertmanager webhook payload.
    /// Reads no cluster state and writes nothing: live evidence is assumed to confirm the alert
    /// (see --checks) and the target to carry the labels given (default: the opt-in label).
    Explain {
        /// An Alertmanager webhook payload (JSON, version 4).
        #[arg(long, value_name = "FILE")]
        alert: PathBuf,
        /// Decide as if the alert came from this environment (demo, staging, production).
        #[arg(long, value_name = "ENV")]
        env: Option<String>,
        /// How many live checks confirmed the alert (high confidence needs 2).
        #[arg(long, default_value_t = 2)]
        checks: u32,
        /// A label of the target, `key=value`; repeat for more. Default: the opt-in label.
        #[arg(long = "label", value_name = "KEY=VALUE")]
        labels: Vec<String>,
        /// Print the decisions as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Replay the decisions recorded since a time ago through the current taxonomy, matrix,
    /// runbooks and rules, and show which would change. Open incidents with no recorded
    /// decision are decided afresh and listed as new.
    Test {
        /// How far back, e.g. 24h, 7days.
        #[arg(long, value_parser = humantime::parse_duration)]
        since: Duration,
    },
}

/// Exit code for an invalid policy, as for invalid settings.
const BAD_POLICY: u8 = 2;

pub async fn run(loaded: LoadedSettings, command: PolicyCommand) -> anyhow::Result<()> {
    let policy = match load(&loaded.settings) {
        Ok(policy) => policy,
        Err(errors) => anyhow::bail!("the policy is invalid:\n{}", lines(&errors)),
    };
    for rejected in &policy.rejected_runbooks {
        eprintln!("warning: runbook rejected: {rejected}");
    }
    match command {
        PolicyCommand::Explain {
            alert,
            env,
            checks,
            labels,
            json,
        } => {
            let options = Explain {
                env,
                checks,
                labels,
                json,
            };
            explain(loaded, &policy.policy, &alert, options)
        }
        PolicyCommand::Test { since } => replay(&loaded, &policy.policy, since).await,
    }
}

struct Explain {
    env: Option<String>,
    checks: u32,
    labels: Vec<String>,
    json: bool,
}

fn explain(
    loaded: LoadedSettings,
    policy: &Policy,
    path: &PathBuf,
    options: Explain,
) -> anyhow::Result<()> {
    let body =
        std::fs::read(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    let notification =
        Notification::parse(&body).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let environment =
        match &options.env {
            Some(name) => Some(Environment::parse(name).ok_or_else(|| {
                anyhow::anyhow!("--env {name:?}: use demo, staging or production")
            })?),
            None => None,
        };
    let mut context = DecisionContext::quiet(Utc::now(), options.checks);
    context.guardrails.target_labels = target_labels(&loaded, &options.labels)?;
    let triage = triage(loaded);
    let mut decisions = Vec::new();
    for alert in &notification.alerts {
        if alert.status == AlertStatus::Resolved {
            if !options.json {
                println!(
                    "alert {} is resolved: nothing to decide",
                    alert
                        .labels
                        .get("alertname")
                        .map_or("(unnamed)", String::as_str)
                );
            }
            continue;
        }
        let assessment = triage.assess(alert);
        let facts = IncidentFacts {
            incident_type: assessment.classification.incident_type,
            severity: assessment.severity,
            confidence: assessment.classification.confidence,
            environment: environment.unwrap_or(assessment.environment),
            scope: assessment.scope,
            labels: alert.labels.clone(),
        };
        let decision = policy.decide(&facts, &context);
        if !options.json {
            print_explained(
                alert.labels.get("alertname"),
                &assessment.classification.reason,
                &facts,
                &decision,
            );
        }
        decisions.push(serde_json::json!({ "facts": facts, "decision": decision }));
    }
    if options.json {
        println!("{}", serde_json::to_string_pretty(&decisions)?);
    } else {
        println!(
            "assumed: live evidence confirmed the alert on {} check(s); target labels {:?}; no cooldown, no earlier executions",
            options.checks, context.guardrails.target_labels
        );
    }
    Ok(())
}

fn target_labels(
    loaded: &LoadedSettings,
    given: &[String],
) -> anyhow::Result<BTreeMap<String, String>> {
    if given.is_empty() {
        let opt_in = &loaded.settings.ops.opt_in_label;
        return Ok(BTreeMap::from([(opt_in.key.clone(), opt_in.value.clone())]));
    }
    given
        .iter()
        .map(|pair| {
            pair.split_once('=')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .ok_or_else(|| anyhow::anyhow!("--label {pair:?}: write it as key=value"))
        })
        .collect()
}

/// Triage as `serve` does it, from the settings.
fn triage(loaded: LoadedSettings) -> Triage {
    let cluster = &loaded.settings.cluster;
    let namespace_environments: HashMap<_, _> = cluster
        .environments
        .iter()
        .flat_map(|(env, namespaces)| namespaces.iter().map(|ns| (ns.clone(), *env)))
        .collect();
    Triage {
        cluster: cluster.name.clone(),
        environment_label: cluster.environment_label.clone(),
        default_environment: cluster.default_environment,
        namespace_environments,
        classifier: loaded.classifier,
    }
}

fn print_explained(
    alertname: Option<&String>,
    classified: &str,
    facts: &IncidentFacts,
    d: &Decision,
) {
    println!("alert {}", alertname.map_or("(unnamed)", String::as_str));
    println!("  classified: {classified}");
    println!("  decision:   {}", d.mode);
    if let Some(action) = &d.action {
        let source = action
            .runbook
            .as_deref()
            .map(|r| format!(" (runbook {r})"))
            .unwrap_or_default();
        println!("  action:     {action}{source}");
    }
    if let Some(fix) = &d.recommendation {
        println!("  recommend:  {fix}");
    }
    if let Some(shadow) = d.shadow {
        println!("  shadow:     would have been {shadow}");
    }
    if let Some(route) = &d.route {
        println!("  route:      {route}");
    }
    if d.suppressed {
        println!("  suppressed: yes");
    }
    let lower = |text: String| text.to_lowercase();
    println!(
        "  incident:   {}, severity {}, confidence {}, environment {}",
        facts.incident_type.as_str(),
        lower(format!("{:?}", d.severity)),
        lower(format!("{:?}", facts.confidence)),
        lower(format!("{:?}", facts.environment)),
    );
    println!("  reasons:");
    for reason in &d.reasons {
        println!("    - {reason}");
    }
}

async fn replay(loaded: &LoadedSettings, policy: &Policy, since: Duration) -> anyhow::Result<()> {
    let store = super::shared_store(loaded)?;
    let from = Utc::now() - chrono::Duration::from_std(since)?;
    let recorded = PolicyAudit::new(store.clone())
        .decisions_since(from)
        .await?;
    let (mut changed, mut same) = (0, 0);
    for (id, record) in &recorded {
        let now = policy.decide(&record.facts, &record.context);
        if same_outcome(&now, &record.decision) {
            same += 1;
            continue;
        }
        changed += 1;
        println!(
            "{id}  {}  {}",
            record.facts.incident_type.as_str(),
            describe_change(&record.decision, &now)
        );
        for reason in &now.reasons {
            println!("    now: {reason}");
        }
    }
    let repository = IncidentRepository::new(store);
    let mut fresh = 0;
    for id in repository.open_ids().await? {
        if recorded.contains_key(&id) {
            continue;
        }
        let Some((incident, _)) = repository.load(&id).await? else {
            continue;
        };
        if incident.first_seen < from {
            continue;
        }
        fresh += 1;
        let checks = if incident.evidence.is_some() { 1 } else { 0 };
        let decision = policy.decide(
            &IncidentFacts::of(&incident),
            &DecisionContext::quiet(Utc::now(), checks),
        );
        println!(
            "{id}  {}  no decision recorded; now {}",
            incident.incident_type.as_str(),
            outcome(&decision)
        );
    }
    println!(
        "replayed {} recorded decision(s): {changed} would change, {same} unchanged; {fresh} open incident(s) without a recorded decision",
        recorded.len()
    );
    Ok(())
}

fn same_outcome(a: &Decision, b: &Decision) -> bool {
    a.mode == b.mode && a.action == b.action && a.shadow == b.shadow && a.suppressed == b.suppressed
}

fn outcome(d: &Decision) -> String {
    match &d.action {
        Some(action) => format!("{} {action}", d.mode),
        None => d.mode.to_string(),
    }
}

fn describe_change(was: &Decision, now: &Decision) -> String {
    format!("{} -> {}", outcome(was), outcome(now))
}

/// The policy part of `check-config`: taxonomy, matrix, rules and runbooks, loaded together.
/// Exits 2 listing every problem, rejected runbooks included.
pub fn check_config(loaded: &LoadedSettings) -> ExitCode {
    match load(&loaded.settings) {
        Err(errors) => {
            eprintln!("error: the policy is invalid:\n{}", lines(&errors));
            ExitCode::from(BAD_POLICY)
        }
        Ok(LoadedPolicy {
            rejected_runbooks, ..
        }) if !rejected_runbooks.is_empty() => {
            eprintln!(
                "error: runbooks rejected (the others would load):\n{}",
                lines(&rejected_runbooks)
            );
            ExitCode::from(BAD_POLICY)
        }
        Ok(LoadedPolicy { policy, .. }) => {
            println!(
                "policy is valid: taxonomy version {}, {} incident classes, policy matrix version {}, {} runbook(s), {} operator rule(s)",
                policy.taxonomy().version,
                policy.taxonomy().classes().count(),
                policy.matrix().version,
                policy.runbooks().len(),
                policy.rules().rules.len(),
            );
            if loaded.settings.policy.cluster_runbooks {
                println!(
                    "note: RemediationRunbook resources in the cluster are read by `serve`, not checked here"
                );
            }
            ExitCode::SUCCESS
        }
    }
}

fn lines(errors: &[crate::policy::LoadError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}
