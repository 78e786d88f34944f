use super::*;
use crate::store::MemoryStore;

fn limits(adjust: impl FnOnce(&mut OpsSettings)) -> Limits {
    let mut settings = OpsSettings::default();
    adjust(&mut settings);
    Limits::new(Arc::new(MemoryStore::new()), Arc::new(settings))
}

fn scope(workload: &str) -> Scope {
    Scope {
        action: ActionKind::Restart,
        namespace: Some("shop".into()),
        workload: format!("shop/Deployment/{workload}"),
        disruptive: false,
    }
}

fn refused(result: Result<(), Vec<GuardResult>>) -> Guard {
    result.expect_err("a refusal")[0].guard
}

#[tokio::test]
async fn reserving_again_for_the_same_request_is_idempotent_but_another_request_cools_down() {
    let limits = limits(|_| {});
    let now = Utc::now();
    assert!(
        limits
            .reserve("req-1", &scope("web"), now)
            .await
            .unwrap()
            .is_ok()
    );
    assert!(
        limits
            .reserve("req-1", &scope("web"), now)
            .await
            .unwrap()
            .is_ok()
    );
    let second = limits.reserve("req-2", &scope("web"), now).await.unwrap();
    assert_eq!(refused(second), Guard::Cooldown);
    let checked = limits.check("req-2", &scope("web"), now).await.unwrap();
    assert!(
        checked
            .iter()
            .any(|g| g.guard == Guard::Cooldown && g.refused())
    );
    assert!(
        limits
            .reserve("req-3", &scope("api"), now)
            .await
            .unwrap()
            .is_ok(),
        "another workload"
    );
}

#[tokio::test]
async fn a_full_limit_gives_back_what_the_request_took() {
    let limits = limits(|s| s.max_concurrent = 1);
    let now = Utc::now();
    limits
        .reserve("req-1", &scope("web"), now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        refused(limits.reserve("req-2", &scope("api"), now).await.unwrap()),
        Guard::Concurrency
    );
    // req-2's cooldown admission was withdrawn: once req-1 finishes, req-2 may run.
    limits.finish("req-1").await;
    assert!(
        limits
            .reserve("req-2", &scope("api"), now)
            .await
            .unwrap()
            .is_ok()
    );
}

#[tokio::test]
async fn the_blast_radius_counts_distinct_workloads_per_namespace() {
    let limits = limits(|s| s.blast_radius = 2);
    let now = Utc::now();
    for (request, workload) in [("r1", "a"), ("r2", "b")] {
        limits
            .reserve(request, &scope(workload), now)
            .await
            .unwrap()
            .unwrap();
        limits.finish(request).await;
    }
    assert_eq!(
        refused(limits.reserve("r3", &scope("c"), now).await.unwrap()),
        Guard::BlastRadius
    );
    let mut again = scope("a");
    again.action = ActionKind::Rollback;
    assert!(
        limits.reserve("r4", &again, now).await.unwrap().is_ok(),
        "a known workload"
    );
}

#[tokio::test]
async fn the_breaker_opens_at_the_threshold_and_only_a_reset_closes_it() {
    let limits = limits(|s| s.breaker_threshold = 2);
    let workload = "shop/Deployment/web";
    assert!(
        !limits
            .record_verdict(workload, false, Some("x".into()))
            .await
            .unwrap()
            .open
    );
    limits.record_verdict(workload, true, None).await.unwrap();
    assert_eq!(
        limits.breaker(workload).await.unwrap().failures,
        0,
        "a PASS ends the streak"
    );
    limits.record_verdict(workload, false, None).await.unwrap();
    let open = limits
        .record_verdict(workload, false, Some("still broken".into()))
        .await
        .unwrap();
    assert!(open.open && open.opened_at.is_some());
    assert!(
        limits
            .record_verdict(workload, true, None)
            .await
            .unwrap()
            .open,
        "PASS does not close it"
    );
    let checked = limits
        .check("req", &scope("web"), Utc::now())
        .await
        .unwrap();
    assert!(
        checked
            .iter()
            .any(|g| g.guard == Guard::CircuitBreaker && g.refused())
    );
    assert!(limits.reset_breaker(workload).await.unwrap().open);
    assert_eq!(limits.breaker(workload).await.unwrap(), Breaker::default());
}
