use std::collections::HashMap;

use chrono::TimeZone;

use super::*;
use crate::incidents::classify::Classifier;
use crate::incidents::model::Environment;
use crate::store::MemoryStore;

const POLICY: IngestPolicy = IngestPolicy {
    suppression_window: Duration::from_secs(900),
    retention: Duration::from_secs(86_400),
    history_limit: 50,
};

fn service() -> IncidentService {
    service_on(Arc::new(MemoryStore::new()))
}

pub(super) fn service_on(store: Arc<dyn Store>) -> IncidentService {
    let triage = Triage {
        classifier: Classifier::builtin(),
        cluster: "lab".into(),
        environment_label: "environment".into(),
        default_environment: Environment::Production,
        namespace_environments: HashMap::new(),
    };
    IncidentService::new(store, triage, POLICY)
}

pub(super) fn alert(status: AlertStatus) -> Alert {
    Alert {
        status,
        labels: [
            ("alertname", "KubePodCrashLooping"),
            ("namespace", "shop"),
            ("pod", "web-1"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
        annotations: Default::default(),
        starts_at: Utc.with_ymd_and_hms(2026, 11, 21, 5, 0, 0).unwrap(),
        ends_at: DateTime::UNIX_EPOCH,
        generator_url: "http://prometheus/graph".into(),
        fingerprint: "00000000000000aa".into(),
    }
}

/// A freshly opened incident for the firing test alert, built without a store.
fn opened(policy: IngestPolicy) -> Incident {
    let firing = alert(AlertStatus::Firing);
    let assessment = service().triage.assess(&firing);
    open(
        IncidentId::generate(),
        "g",
        &firing,
        assessment,
        Utc::now(),
        policy,
    )
}

/// Records one delivery of the test alert with `status`.
pub(super) async fn deliver(service: &IncidentService, status: AlertStatus) -> Recorded {
    service.record("g", &alert(status)).await.unwrap()
}

pub(super) async fn incident(service: &IncidentService, id: &IncidentId) -> Incident {
    service.repository().load(id).await.unwrap().unwrap().0
}

#[tokio::test]
async fn first_delivery_opens_a_triaged_incident_with_its_history() {
    let service = service();
    let recorded = service
        .record("{}:{}", &alert(AlertStatus::Firing))
        .await
        .unwrap();
    assert_eq!(recorded.outcome, Outcome::Opened);
    assert_eq!(recorded.incident_type, IncidentType::CrashLoopBackoff);
    let stored = incident(&service, &recorded.incident_id).await;
    assert_eq!(stored.lifecycle, Lifecycle::Triaged);
    assert_eq!(stored.fingerprints, vec!["00000000000000aa".to_owned()]);
    assert_eq!(stored.source.as_deref(), Some("http://prometheus/graph"));
    let kinds: Vec<_> = stored.history.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [EventKind::Observed, EventKind::Classified]);
    let open = service.repository().open_ids().await.unwrap();
    assert_eq!(open, vec![recorded.incident_id]);
}

#[tokio::test]
async fn a_repeat_delivery_updates_the_same_incident() {
    let service = service();
    let first = deliver(&service, AlertStatus::Firing).await;
    let second = deliver(&service, AlertStatus::Firing).await;
    assert_eq!(second.outcome, Outcome::Duplicate);
    assert_eq!(second.incident_id, first.incident_id);
    let stored = incident(&service, &first.incident_id).await;
    assert_eq!(stored.deliveries, 2);
    assert_eq!(stored.history.len(), 2, "a plain repeat adds no history");
}

#[tokio::test]
async fn resolution_closes_the_incident_and_records_it() {
    let service = service();
    let opened = deliver(&service, AlertStatus::Firing).await;
    let resolved = deliver(&service, AlertStatus::Resolved).await;
    assert_eq!(resolved.outcome, Outcome::Resolved);
    let stored = incident(&service, &opened.incident_id).await;
    assert_eq!(stored.lifecycle, Lifecycle::Resolved);
    assert_eq!(
        stored.history.last().unwrap().kind,
        EventKind::AlertResolved
    );
    assert!(service.repository().open_ids().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_refire_within_the_window_reopens_instead_of_opening_anew() {
    let service = service();
    let opened = deliver(&service, AlertStatus::Firing).await;
    deliver(&service, AlertStatus::Resolved).await;
    let again = deliver(&service, AlertStatus::Firing).await;
    assert_eq!(again.outcome, Outcome::Reopened);
    assert_eq!(again.incident_id, opened.incident_id);
    assert_eq!(
        incident(&service, &opened.incident_id).await.lifecycle,
        Lifecycle::Triaged
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_deliveries_of_one_alert_make_one_incident() {
    let service = Arc::new(service());
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let service = service.clone();
            tokio::spawn(async move { service.record("g", &alert(AlertStatus::Firing)).await })
        })
        .collect();
    let mut ids = Vec::new();
    for task in tasks {
        ids.push(task.await.unwrap().unwrap());
    }
    let opened = ids.iter().filter(|r| r.outcome == Outcome::Opened).count();
    assert_eq!(opened, 1);
    assert!(ids.iter().all(|r| r.incident_id == ids[0].incident_id));
    assert_eq!(incident(&service, &ids[0].incident_id).await.deliveries, 16);
}

#[test]
fn an_incident_the_bot_acted_on_waits_in_recovering_when_the_alert_resolves() {
    let now = Utc::now();
    let mut incident = opened(POLICY);
    incident.lifecycle = Lifecycle::Contained;
    let outcome = observe(&mut incident, &alert(AlertStatus::Resolved), now, POLICY);
    assert_eq!(outcome, Outcome::Resolved);
    assert_eq!(incident.lifecycle, Lifecycle::Recovering);
}

#[test]
fn history_keeps_only_the_newest_entries() {
    let now = Utc::now();
    let policy = IngestPolicy {
        history_limit: 3,
        ..POLICY
    };
    let mut incident = opened(policy);
    for _ in 0..3 {
        observe(&mut incident, &alert(AlertStatus::Resolved), now, policy);
        observe(&mut incident, &alert(AlertStatus::Firing), now, policy);
    }
    assert_eq!(incident.history.len(), 3);
    assert_eq!(incident.history_dropped, 5);
    assert_eq!(incident.history.last().unwrap().kind, EventKind::Reopened);
}

#[tokio::test]
async fn a_resolution_for_an_unknown_alert_is_recorded_as_a_late_resolution() {
    let service = service();
    let recorded = deliver(&service, AlertStatus::Resolved).await;
    assert_eq!(recorded.outcome, Outcome::LateResolution);
    assert_eq!(
        incident(&service, &recorded.incident_id).await.lifecycle,
        Lifecycle::Resolved
    );
    assert!(service.repository().open_ids().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_repeat_for_a_closed_incident_writes_nothing() {
    let service = service();
    let opened = deliver(&service, AlertStatus::Firing).await;
    deliver(&service, AlertStatus::Resolved).await;
    let before = service
        .repository()
        .load(&opened.incident_id)
        .await
        .unwrap()
        .unwrap();
    let again = deliver(&service, AlertStatus::Resolved).await;
    assert_eq!(again.outcome, Outcome::Duplicate);
    let after = service
        .repository()
        .load(&opened.incident_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.1, before.1, "the stored version did not move");
}

#[test]
fn a_refire_while_recovering_reopens_the_alert() {
    let now = Utc::now();
    let mut incident = opened(POLICY);
    incident.lifecycle = Lifecycle::Contained;
    observe(&mut incident, &alert(AlertStatus::Resolved), now, POLICY);
    let outcome = observe(&mut incident, &alert(AlertStatus::Firing), now, POLICY);
    assert_eq!(outcome, Outcome::Reopened);
    assert_eq!(incident.status, AlertStatus::Firing);
    assert_eq!(incident.ends_at, None);
    assert_eq!(incident.history.last().unwrap().kind, EventKind::Reopened);
}
