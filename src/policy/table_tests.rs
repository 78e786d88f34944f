//! Every incident class × environment × confidence band under the built-in policy (no
//! runbooks, no rules, live evidence confirming the alert on two checks), against the mode the
//! taxonomy, matrix and overlays promise. A change to any of them that moves a mode shows here.

use super::decide_tests::{facts, now, scope};
use super::*;
use crate::domain::ResourceName;
use crate::incidents::model::{Confidence, Environment, IncidentType, ResourceScope};

use Mode::{ApprovalRequired as A, AutoExecute as X, Manual as M, Suggest as S};

/// The scope a real alert of each class carries.
fn scope_of(kind: IncidentType) -> ResourceScope {
    match kind {
        IncidentType::NodeDiskPressure | IncidentType::NodeUnreachableOrNotready => ResourceScope {
            cluster: "lab".into(),
            node: Some(ResourceName::parse("node-1").unwrap()),
            ..ResourceScope::default()
        },
        IncidentType::BackgroundJobBuildup => scope("batch", "CronJob", "report"),
        _ => scope("shop", "Deployment", "web"),
    }
}

/// Expected modes: [demo, staging, production] × [high, medium, low].
const TABLE: [(IncidentType, [[Mode; 3]; 3]); 14] = [
    (
        IncidentType::CrashLoopBackoff,
        [[X, A, S], [A, A, S], [A, A, S]],
    ),
    (
        IncidentType::StuckRollout,
        [[X, A, S], [A, A, S], [A, A, S]],
    ),
    (
        IncidentType::RegistryPullFailure,
        [[A, A, S], [A, A, S], [A, A, S]],
    ),
    (
        IncidentType::NodeDiskPressure,
        [[A, A, S], [A, A, S], [A, A, S]],
    ),
    (
        IncidentType::NodeUnreachableOrNotready,
        [[A, A, S], [A, A, S], [A, A, S]],
    ),
    (
        IncidentType::BackgroundJobBuildup,
        [[X, A, S], [X, A, S], [X, A, S]],
    ),
    (
        IncidentType::HttpErrorRateSpike,
        [[A, A, S], [A, A, S], [A, A, S]],
    ),
    (
        IncidentType::RuntimeDependencyOutage,
        [[A, A, S], [A, A, S], [A, A, S]],
    ),
    (
        IncidentType::IngressConfigurationDrift,
        [[S, S, S], [S, S, S], [S, S, S]],
    ),
    (
        IncidentType::IdentityProviderUnreachable,
        [[A, A, S], [A, A, S], [A, A, S]],
    ),
    (
        IncidentType::DatabaseConnectivityDegraded,
        [[A, A, S], [A, A, S], [A, A, S]],
    ),
    (
        IncidentType::ReleaseDriftOrPartialApply,
        [[A, A, S], [A, A, S], [A, A, S]],
    ),
    (
        IncidentType::ChatopsDeliveryFailure,
        [[S, S, S], [S, S, S], [S, S, S]],
    ),
    (
        IncidentType::Unclassified,
        [[M, M, M], [M, M, M], [M, M, M]],
    ),
];

const ENVIRONMENTS: [Environment; 3] = [
    Environment::Demo,
    Environment::Staging,
    Environment::Production,
];
const BANDS: [Confidence; 3] = [Confidence::High, Confidence::Medium, Confidence::Low];

#[test]
fn every_class_environment_and_confidence_band_gets_its_expected_mode() {
    let policy = Policy::builtin();
    let ctx = DecisionContext::quiet(now(), 2);
    let mut wrong = Vec::new();
    for (kind, rows) in TABLE {
        for (environment, row) in ENVIRONMENTS.into_iter().zip(rows) {
            for (confidence, expected) in BANDS.into_iter().zip(row) {
                let d = policy.decide(&facts(kind, environment, confidence, scope_of(kind)), &ctx);
                if d.mode != expected {
                    wrong.push(format!(
                        "{} {environment:?} {confidence:?}: expected {expected}, got {} because {:?}",
                        kind.as_str(),
                        d.mode,
                        d.reasons
                    ));
                }
                assert!(!d.reasons.is_empty(), "{} gave no reason", kind.as_str());
                if d.mode == Mode::Manual {
                    assert_eq!(d.action, None, "manual never carries an action");
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_table_covers_every_incident_type() {
    for kind in IncidentType::ALL {
        assert!(
            TABLE.iter().any(|(k, _)| *k == kind),
            "{} missing",
            kind.as_str()
        );
    }
}
