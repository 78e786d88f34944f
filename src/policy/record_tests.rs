use super::*;
use crate::store::MemoryStore;

const SHIPPED: &str = include_str!("../../config/rules.yaml");

fn shipped() -> RuleSet {
    RuleSet::from_yaml(SHIPPED, "rules.yaml").unwrap()
}

async fn policy_trail(store: &Arc<dyn Store>) -> Vec<crate::audit::AuditRecord> {
    AuditLog::new(store.clone())
        .trail(&IncidentId::from_stored(POLICY_TRAIL))
        .await
        .unwrap()
}

#[tokio::test]
async fn rule_changes_are_audited_with_who_what_and_when() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let audit = PolicyAudit::new(store.clone());
    let t0 = Utc::now();
    let first = audit.record_rules(&shipped(), t0).await.unwrap();
    assert_eq!(first.len(), 3);
    assert!(
        audit.record_rules(&shipped(), t0).await.unwrap().is_empty(),
        "same rules: nothing new"
    );

    let mut changed = shipped();
    changed.rules[0].version = 2;
    changed.rules[0].max_mode = Some(crate::policy::Mode::Suggest);
    changed.rules.remove(1);
    let t1 = t0 + chrono::Duration::minutes(5);
    let second = audit.record_rules(&changed, t1).await.unwrap();
    let said: Vec<String> = second.iter().map(RuleChange::describe).collect();
    assert_eq!(
        said,
        [
            "rule db-incidents-manual@1 removed (owner team-platform)",
            "rule payments-approval-only changed by team-payments from version 1 to 2: max_mode, version",
        ]
    );
    let trail = policy_trail(&store).await;
    assert_eq!(trail.len(), 5);
    let last = &trail[4].entry;
    assert_eq!(last.kind, AuditKind::RuleChanged);
    assert_eq!(last.at, t1);
    assert_eq!(
        last.actor,
        Actor::Human {
            id: "team-payments".into(),
            channel: "rules".into()
        }
    );
    assert_eq!(last.target.as_deref(), Some("rule/payments-approval-only"));
}

#[tokio::test]
async fn decisions_are_audited_and_replayable() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let audit = PolicyAudit::new(store.clone());
    let policy = crate::policy::Policy::builtin();
    let facts = crate::policy::decide_tests::facts(
        crate::incidents::model::IncidentType::StuckRollout,
        crate::incidents::model::Environment::Production,
        crate::incidents::model::Confidence::High,
        crate::policy::decide_tests::scope("payments", "Deployment", "checkout"),
    );
    let context = crate::policy::DecisionContext::quiet(Utc::now(), 2);
    let decision = policy.decide(&facts, &context);
    let incident = IncidentId::generate();
    let before = Utc::now() - chrono::Duration::seconds(1);
    audit
        .record_decision(&incident, &facts, &context, &decision, Actor::robot_sre())
        .await
        .unwrap();
    let trail = AuditLog::new(store.clone()).trail(&incident).await.unwrap();
    assert_eq!(trail[0].entry.kind, AuditKind::PolicyDecision);
    assert_eq!(trail[0].entry.reason, decision.summary());
    assert_eq!(
        trail[0].entry.target.as_deref(),
        Some("payments/Deployment/checkout")
    );
    let replay = audit.decisions_since(before).await.unwrap();
    let replayed = replay.get(&incident).unwrap();
    assert_eq!(
        (&replayed.decision, &replayed.facts, &replayed.context),
        (&decision, &facts, &context)
    );
    assert!(
        audit
            .decisions_since(Utc::now() + chrono::Duration::seconds(5))
            .await
            .unwrap()
            .is_empty()
    );
}
