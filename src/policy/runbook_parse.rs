//! Reading runbooks: YAML documents (files) and custom-resource objects, validated against the
//! taxonomy, each problem named by origin, field and reason.

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::action::ActionClass;
use super::decision::Mode;
use super::error::{LoadError, Problems};
use super::hygiene;
use super::runbook::{
    API_VERSION, Document, KIND, Risk, Runbook, RunbookSet, RunbookSpec, Triggers,
};
use super::taxonomy::Taxonomy;
use crate::domain::ActionKind;
use crate::incidents::model::IncidentType;

/// Parses and validates the YAML documents in `text` (separated by `---`).
pub fn parse_all(text: &str, origin: &str, taxonomy: &Taxonomy) -> RunbookSet {
    let mut set = RunbookSet::default();
    for (index, document) in serde_yaml::Deserializer::from_str(text).enumerate() {
        let origin = if index == 0 {
            origin.to_owned()
        } else {
            format!("{origin} (document {})", index + 1)
        };
        let value = match serde_yaml::Value::deserialize(document) {
            Ok(serde_yaml::Value::Null) => continue,
            Ok(value) => value,
            Err(error) => {
                set.rejected
                    .push(LoadError::parse(&origin, &error.to_string()));
                break;
            }
        };
        match parse_value(value, &origin, taxonomy) {
            Ok(runbook) => set.extend(RunbookSet {
                runbooks: vec![runbook],
                rejected: vec![],
            }),
            Err(errors) => set.rejected.extend(errors),
        }
    }
    set
}

/// Parses and validates one runbook document (a file's or a custom resource's).
///
/// # Errors
/// Every problem, each with the origin, field path and reason.
pub fn parse_value(
    value: serde_yaml::Value,
    origin: &str,
    taxonomy: &Taxonomy,
) -> Result<Runbook, Vec<LoadError>> {
    let json = serde_json::to_value(&value)
        .map_err(|e| vec![LoadError::new(origin, "", e.to_string())])?;
    let unsafe_fields: Vec<LoadError> = hygiene::scan(&json)
        .into_iter()
        .map(|(field, reason)| LoadError::new(origin, field, reason))
        .collect();
    if !unsafe_fields.is_empty() {
        return Err(unsafe_fields);
    }
    let document = typed(&value).map_err(|reason| vec![LoadError::parse(origin, &reason)])?;
    let mut p = Problems::new(origin);
    p.check(
        document.api_version == API_VERSION,
        "apiVersion",
        format!("must be {API_VERSION}"),
    );
    p.check(document.kind == KIND, "kind", format!("must be {KIND}"));
    p.check(
        crate::domain::ResourceName::parse(document.metadata.name.as_str()).is_ok(),
        "metadata.name",
        format!(
            "{:?} is not a valid Kubernetes name",
            document.metadata.name
        ),
    );
    validate_spec(&document.spec, taxonomy, &mut p);
    p.finish(Runbook {
        name: document.metadata.name,
        origin: origin.to_owned(),
        spec: document.spec,
    })
}

/// Reads the typed document. Deserializing from text (not from the value) lets serde_yaml name
/// the path of a bad field; the line and column refer to the re-serialized text, so they are
/// dropped.
fn typed(value: &serde_yaml::Value) -> Result<Document, String> {
    let text = serde_yaml::to_string(value).map_err(|e| e.to_string())?;
    serde_yaml::from_str(&text).map_err(|error| {
        let message = error.to_string();
        match message.rfind(" at line ") {
            Some(at) => message[..at].to_owned(),
            None => message,
        }
    })
}

fn validate_spec(spec: &RunbookSpec, taxonomy: &Taxonomy, p: &mut Problems) {
    p.check(
        !spec.intent.trim().is_empty(),
        "spec.intent",
        "must not be empty",
    );
    p.check(
        !spec.owner.trim().is_empty(),
        "spec.owner",
        "must not be empty",
    );
    validate_triggers(&spec.triggers, taxonomy, p);
    validate_action(spec, p);
    let g = &spec.guardrails;
    p.check(
        g.max_executions_per_hour >= 1,
        "spec.guardrails.maxExecutionsPerHour",
        "must be at least 1",
    );
    p.check(
        g.max_concurrent >= 1,
        "spec.guardrails.maxConcurrent",
        "must be at least 1",
    );
    p.check(
        g.cooldown >= Duration::from_secs(60),
        "spec.guardrails.cooldown",
        "must be at least 1m",
    );
    let v = &spec.verification;
    p.check(
        !v.checks.is_empty(),
        "spec.verification.checks",
        "needs at least one check: success is proven, not assumed",
    );
    p.check(
        (Duration::from_secs(10)..=Duration::from_secs(3600)).contains(&v.timeout),
        "spec.verification.timeout",
        "must be between 10s and 1h",
    );
    if let Some(kind) = spec.action.kind.executable() {
        for (i, check) in v.checks.iter().enumerate() {
            p.check(
                check.fits(kind),
                format!("spec.verification.checks[{i}]"),
                format!("{} cannot verify {kind}", serde_plain(check)),
            );
        }
    }
    if let Some(rollback) = &spec.rollback {
        p.check(
            !rollback.description.trim().is_empty(),
            "spec.rollback.description",
            "must not be empty",
        );
        if let Some(action) = rollback.action {
            p.check(
                !action.is_human_only(),
                "spec.rollback.action",
                format!("{action} is human-only"),
            );
        }
    }
}

fn validate_triggers(t: &Triggers, taxonomy: &Taxonomy, p: &mut Problems) {
    p.check(
        !t.incident_types.is_empty(),
        "spec.triggers.incidentTypes",
        "must name at least one incident type",
    );
    for (i, kind) in t.incident_types.iter().enumerate() {
        p.check(
            *kind != IncidentType::Unclassified,
            format!("spec.triggers.incidentTypes[{i}]"),
            "unclassified incidents always go to a human",
        );
    }
    for (i, cause) in t.probable_causes.iter().enumerate() {
        let known = t
            .incident_types
            .iter()
            .filter_map(|kind| taxonomy.class(*kind))
            .any(|class| class.has_hypothesis(cause));
        p.check(
            known,
            format!("spec.triggers.probableCauses[{i}]"),
            format!("{cause:?} is not a root-cause hypothesis of the listed incident types"),
        );
    }
}

fn validate_action(spec: &RunbookSpec, p: &mut Problems) {
    let action = spec.action.kind;
    if action.is_human_only() {
        p.push(
            "spec.action.kind",
            format!("{action} is human-only: no runbook can make the bot run it"),
        );
        return;
    }
    let Some(kind) = action.executable() else {
        p.push("spec.action.kind", format!("{action} is not an action the bot can run; runbook actions are restart, rollback, delete_pod, scale, cordon, uncordon, suspend_cronjob, resume_cronjob, cleanup"));
        return;
    };
    p.check(
        (kind == ActionKind::Scale) == spec.action.replicas.is_some(),
        "spec.action.replicas",
        "scale needs replicas, and only scale takes them",
    );
    if spec.decision_mode == Mode::AutoExecute {
        // Scaling to zero is checked when deciding: it is automatic only on allowlisted targets.
        p.check(
            action.class() < ActionClass::Disruptive,
            "spec.decisionMode",
            format!("{action} is disruptive; it can never be auto_execute"),
        );
        p.check(
            spec.risk == Risk::Low,
            "spec.decisionMode",
            "auto_execute needs risk: low",
        );
    }
}

fn serde_plain<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Loads every `*.yaml`/`*.yml` file in `dir`, in name order. A file that cannot be read or
/// a runbook that is invalid is rejected; the rest load.
pub fn load_dir(dir: &Path, taxonomy: &Taxonomy) -> RunbookSet {
    let mut set = RunbookSet::default();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) => {
            set.rejected.push(LoadError::new(
                dir.display().to_string(),
                "",
                format!("cannot read the runbook directory: {error}"),
            ));
            return set;
        }
    };
    let mut paths: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml")
            )
        })
        .collect();
    paths.sort();
    for path in paths {
        let origin = path.display().to_string();
        match std::fs::read_to_string(&path) {
            Ok(text) => set.extend(parse_all(&text, &origin, taxonomy)),
            Err(error) => {
                set.rejected
                    .push(LoadError::new(origin, "", format!("cannot read: {error}")))
            }
        }
    }
    set
}
