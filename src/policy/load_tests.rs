use std::collections::BTreeMap;
use std::sync::Arc;

use super::*;
use crate::incidents::model::{Confidence, Environment, IncidentType};
use crate::policy::decide_tests::{facts, now, scope};
use crate::policy::{DecisionContext, Mode};
use crate::store::{MemoryStore, Store};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn settings() -> Settings {
    let mut settings = Settings::default();
    settings.policy.runbooks_dir = Some(format!("{ROOT}/config/runbooks").into());
    settings.policy.rules = Some(format!("{ROOT}/config/rules.yaml").into());
    settings
}

#[test]
fn load_reads_the_files_the_settings_name() {
    let loaded = load(&settings()).unwrap();
    assert!(loaded.rejected_runbooks.is_empty());
    assert_eq!(loaded.policy.runbooks().len(), 3);
    assert_eq!(loaded.policy.rules().rules.len(), 3);
}

#[test]
fn load_names_every_unreadable_or_invalid_file() {
    let dir = tempfile::tempdir().unwrap();
    let matrix = dir.path().join("policy.yaml");
    std::fs::write(&matrix, "version: 2\n").unwrap();
    let mut s = settings();
    s.policy.taxonomy = Some(dir.path().join("missing.yaml"));
    s.policy.matrix = Some(matrix.clone());
    let errors = load(&s).unwrap_err();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors[0]
            .to_string()
            .contains("missing.yaml: cannot read the file named by policy.taxonomy")
    );
    assert_eq!(errors[1].origin, matrix.display().to_string());
}

#[test]
fn ceilings_and_shadow_environments_apply_from_the_settings() {
    let mut s = settings();
    s.policy.ceilings = BTreeMap::from([(Environment::Demo, Mode::Suggest)]);
    let policy = load(&s).unwrap().policy;
    let crash = facts(
        IncidentType::CrashLoopBackoff,
        Environment::Demo,
        Confidence::High,
        scope("demo", "Deployment", "web"),
    );
    let d = policy.decide(&crash, &DecisionContext::quiet(now(), 2));
    assert_eq!(d.mode, Mode::Suggest);
    assert!(
        d.reasons
            .iter()
            .any(|r| r.0 == "settings: demo allows at most suggest"),
        "{:?}",
        d.reasons
    );

    let mut s = settings();
    s.policy.shadow_environments = vec![Environment::Staging];
    let policy = load(&s).unwrap().policy;
    let stuck = facts(
        IncidentType::StuckRollout,
        Environment::Staging,
        Confidence::High,
        scope("payments", "Deployment", "checkout"),
    );
    let mut ctx = DecisionContext::quiet(now(), 2);
    ctx.guardrails
        .target_labels
        .insert("robot-sre.io/enabled".into(), "true".into());
    let d = policy.decide(&stuck, &ctx);
    assert_eq!(
        (d.mode, d.shadow),
        (Mode::Suggest, Some(Mode::ApprovalRequired)),
        "{:?}",
        d.reasons
    );
}

#[tokio::test]
async fn load_audited_records_the_rule_set_once() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    load_audited(&settings(), store.clone()).await.unwrap();
    load_audited(&settings(), store.clone()).await.unwrap();
    let trail = crate::audit::AuditLog::new(store)
        .trail(&crate::incidents::IncidentId::from_stored(
            crate::policy::record::POLICY_TRAIL,
        ))
        .await
        .unwrap();
    let said: Vec<&str> = trail.iter().map(|r| r.entry.reason.as_str()).collect();
    assert_eq!(
        said,
        [
            "rule batch-reports-contain@1 added by team-data",
            "rule db-incidents-manual@1 added by team-platform",
            "rule payments-approval-only@1 added by team-payments",
        ]
    );
}
