//! One conformance suite, run against both stores: whatever the backend, the same guarantees.

use std::sync::Arc;
use std::time::Duration;

use robot_sre::store::{CasOutcome, Claim, MemoryStore, SideEffect, Store, Write};

use crate::helpers::{eventually, redis_store, redis_url, unique_prefix};

pub(crate) fn write(value: &str) -> Write {
    Write {
        value: value.as_bytes().to_vec(),
        ..Write::default()
    }
}

async fn get_of_an_absent_key_is_none(store: Arc<dyn Store>) {
    assert_eq!(store.get("nothing").await.unwrap(), None);
    assert!(store.members("no-set").await.unwrap().is_empty());
}

async fn create_then_update_bumps_the_version(store: Arc<dyn Store>) {
    let created = store.compare_and_set("doc", 0, write("one")).await.unwrap();
    assert_eq!(created, CasOutcome::Written { version: 1 });
    let updated = store.compare_and_set("doc", 1, write("two")).await.unwrap();
    assert_eq!(updated, CasOutcome::Written { version: 2 });
    let read = store.get("doc").await.unwrap().unwrap();
    assert_eq!(
        (read.version, read.value.as_slice()),
        (2, b"two".as_slice())
    );
}

async fn a_stale_version_conflicts_and_changes_nothing(store: Arc<dyn Store>) {
    store.compare_and_set("doc", 0, write("one")).await.unwrap();
    let mut stale = write("lost");
    stale.effects = vec![SideEffect::AddToSet {
        set: "s".into(),
        member: "m".into(),
    }];
    assert_eq!(
        store
            .compare_and_set("doc", 0, stale.clone())
            .await
            .unwrap(),
        CasOutcome::Conflict { current: 1 }
    );
    assert_eq!(
        store.compare_and_set("doc", 7, stale).await.unwrap(),
        CasOutcome::Conflict { current: 1 }
    );
    assert_eq!(store.get("doc").await.unwrap().unwrap().value, b"one");
    assert!(
        store.members("s").await.unwrap().is_empty(),
        "a conflict applies no side effect"
    );
}

async fn side_effects_apply_with_the_write(store: Arc<dyn Store>) {
    let mut first = write("a");
    first.effects = vec![
        SideEffect::AddToSet {
            set: "open".into(),
            member: "x".into(),
        },
        SideEffect::AddToSet {
            set: "open".into(),
            member: "y".into(),
        },
    ];
    store.compare_and_set("doc", 0, first).await.unwrap();
    let mut members = store.members("open").await.unwrap();
    members.sort();
    assert_eq!(members, ["x", "y"]);
    let mut second = write("b");
    second.effects = vec![SideEffect::RemoveFromSet {
        set: "open".into(),
        member: "x".into(),
    }];
    store.compare_and_set("doc", 1, second).await.unwrap();
    assert_eq!(store.members("open").await.unwrap(), ["y"]);
}

async fn claims_go_to_the_first_and_report_the_holder(store: Arc<dyn Store>) {
    assert_eq!(
        store.claim("fp", "first", None).await.unwrap(),
        Claim::Claimed
    );
    assert_eq!(
        store.claim("fp", "second", None).await.unwrap(),
        Claim::Held("first".into())
    );
}

async fn take_returns_a_claim_once_and_frees_it(store: Arc<dyn Store>) {
    assert_eq!(store.take("token").await.unwrap(), None);
    store
        .claim("token", "inc-1/approve", Some(Duration::from_secs(60)))
        .await
        .unwrap();
    assert_eq!(
        store.peek("token").await.unwrap().as_deref(),
        Some("inc-1/approve"),
        "peeking leaves the claim in place"
    );
    assert_eq!(
        store.take("token").await.unwrap().as_deref(),
        Some("inc-1/approve")
    );
    assert_eq!(store.take("token").await.unwrap(), None);
    assert_eq!(store.peek("token").await.unwrap(), None);
    assert_eq!(
        store.claim("token", "again", None).await.unwrap(),
        Claim::Claimed
    );
}

async fn of_many_concurrent_takes_exactly_one_wins(store: Arc<dyn Store>) {
    store.claim("token", "once", None).await.unwrap();
    let takes = (0..32).map(|_| {
        let store = store.clone();
        tokio::spawn(async move { store.take("token").await.unwrap() })
    });
    let winners: Vec<String> = futures::future::join_all(takes)
        .await
        .into_iter()
        .filter_map(|taken| taken.unwrap())
        .collect();
    assert_eq!(winners, ["once"]);
}

async fn a_document_ttl_expires_it(store: Arc<dyn Store>) {
    let mut lasting = write("lasting");
    lasting.ttl = Some(Duration::from_secs(60));
    store.compare_and_set("long", 0, lasting).await.unwrap();
    let mut brief = write("brief");
    brief.ttl = Some(Duration::from_millis(100));
    store.compare_and_set("doc", 0, brief).await.unwrap();
    expired(&store, "doc").await;
    assert!(store.get("long").await.unwrap().is_some());
    // Expired means absent: it can be created again at version 0.
    let again = store
        .compare_and_set("doc", 0, write("again"))
        .await
        .unwrap();
    assert_eq!(again, CasOutcome::Written { version: 1 });
}

/// Waits until the document at `key` has expired.
async fn expired(store: &Arc<dyn Store>, key: &str) {
    eventually(Duration::from_secs(10), "expiry", || async {
        store.get(key).await.unwrap().is_none().then_some(())
    })
    .await;
}

/// Waits for a fresh claim with `ttl` to lapse: proof that at least `ttl` has passed.
pub(crate) async fn clock(store: &Arc<dyn Store>, ttl: Duration) {
    store.claim("clock", "tick", Some(ttl)).await.unwrap();
    eventually(Duration::from_secs(10), "clock claim lapse", || async {
        let free = store.claim("clock", "tock", Some(ttl)).await.unwrap() == Claim::Claimed;
        free.then_some(())
    })
    .await;
}

async fn a_write_without_ttl_clears_an_earlier_one(store: Arc<dyn Store>) {
    let mut expiring = write("a");
    expiring.ttl = Some(Duration::from_secs(1));
    store.compare_and_set("doc", 0, expiring).await.unwrap();
    store.compare_and_set("doc", 1, write("b")).await.unwrap();
    clock(&store, Duration::from_millis(1500)).await;
    assert_eq!(store.get("doc").await.unwrap().unwrap().value, b"b");
}

fn bind(key: &str, value: &str, ttl: Option<Duration>) -> SideEffect {
    SideEffect::Bind {
        key: key.into(),
        value: value.into(),
        ttl,
    }
}

async fn a_bind_takes_a_free_key_and_keeps_its_own(store: Arc<dyn Store>) {
    let mut first = write("d");
    first.effects = vec![bind("fp", "mine", None)];
    assert!(matches!(
        store.compare_and_set("doc", 0, first).await.unwrap(),
        CasOutcome::Written { .. }
    ));
    assert_eq!(
        store.claim("fp", "other", None).await.unwrap(),
        Claim::Held("mine".into())
    );
    let mut again = write("d2");
    again.effects = vec![bind("fp", "mine", None)];
    assert!(matches!(
        store.compare_and_set("doc", 1, again).await.unwrap(),
        CasOutcome::Written { .. }
    ));
}

async fn a_bind_on_a_key_held_by_another_value_conflicts_and_writes_nothing(store: Arc<dyn Store>) {
    store.claim("fp", "someone-else", None).await.unwrap();
    let mut attempt = write("d");
    attempt.effects = vec![
        SideEffect::AddToSet {
            set: "open".into(),
            member: "x".into(),
        },
        bind("fp", "mine", None),
    ];
    assert_eq!(
        store.compare_and_set("doc", 0, attempt).await.unwrap(),
        CasOutcome::Conflict { current: 0 }
    );
    assert_eq!(store.get("doc").await.unwrap(), None);
    assert!(store.members("open").await.unwrap().is_empty());
    assert_eq!(
        store.claim("fp", "x", None).await.unwrap(),
        Claim::Held("someone-else".into())
    );
}

async fn a_bind_ttl_lets_the_claim_lapse_and_a_later_bind_without_ttl_keeps_it(
    store: Arc<dyn Store>,
) {
    let mut lapsing = write("d");
    lapsing.effects = vec![bind("lapse", "mine", Some(Duration::from_millis(100)))];
    store.compare_and_set("doc", 0, lapsing).await.unwrap();
    eventually(Duration::from_secs(10), "bound claim lapse", || async {
        (store.claim("lapse", "new", None).await.unwrap() == Claim::Claimed).then_some(())
    })
    .await;

    let mut expiring = write("d2");
    expiring.effects = vec![bind("keep", "mine", Some(Duration::from_secs(1)))];
    store.compare_and_set("doc", 1, expiring).await.unwrap();
    let mut forever = write("d3");
    forever.effects = vec![bind("keep", "mine", None)];
    store.compare_and_set("doc", 2, forever).await.unwrap();
    clock(&store, Duration::from_millis(1500)).await;
    assert_eq!(
        store.claim("keep", "other", None).await.unwrap(),
        Claim::Held("mine".into())
    );
}

async fn a_side_effect_on_the_wrong_kind_of_key_is_refused_and_writes_nothing(
    store: Arc<dyn Store>,
) {
    store.claim("not-a-set", "text", None).await.unwrap();
    let mut attempt = write("d");
    attempt.effects = vec![SideEffect::AddToSet {
        set: "not-a-set".into(),
        member: "x".into(),
    }];
    let error = store.compare_and_set("doc", 0, attempt).await.unwrap_err();
    assert!(!error.is_transient(), "{error}");
    assert_eq!(store.get("doc").await.unwrap(), None);
}

async fn concurrent_compare_and_set_loses_no_update(store: Arc<dyn Store>) {
    let tasks = (0..40).map(|_| {
        let store = store.clone();
        tokio::spawn(async move {
            loop {
                let current = store.get("counter").await.unwrap();
                let (version, n) = current.map_or((0, 0), |c| {
                    (
                        c.version,
                        String::from_utf8(c.value).unwrap().parse::<u32>().unwrap(),
                    )
                });
                let next = write(&(n + 1).to_string());
                if let CasOutcome::Written { .. } = store
                    .compare_and_set("counter", version, next)
                    .await
                    .unwrap()
                {
                    break;
                }
            }
        })
    });
    for task in futures::future::join_all(tasks).await {
        task.unwrap();
    }
    assert_eq!(store.get("counter").await.unwrap().unwrap().value, b"40");
}

async fn ping_answers(store: Arc<dyn Store>) {
    store.ping().await.unwrap();
}

/// Runs each named case (an `async fn(Arc<dyn Store>)` of the invoking module) against the
/// memory store and against Redis under a fresh prefix.
macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    let store = robot_sre::store::MemoryStore::new();
                    super::$case(std::sync::Arc::new(store)).await;
                }
            )*
        }
        mod redis {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    let url = $crate::helpers::redis_url().await;
                    let prefix = $crate::helpers::unique_prefix();
                    super::$case($crate::helpers::redis_store(&url, &prefix)).await;
                }
            )*
        }
    };
}
pub(crate) use conformance;

conformance!(
    get_of_an_absent_key_is_none,
    create_then_update_bumps_the_version,
    a_stale_version_conflicts_and_changes_nothing,
    side_effects_apply_with_the_write,
    claims_go_to_the_first_and_report_the_holder,
    take_returns_a_claim_once_and_frees_it,
    of_many_concurrent_takes_exactly_one_wins,
    a_document_ttl_expires_it,
    a_write_without_ttl_clears_an_earlier_one,
    a_bind_takes_a_free_key_and_keeps_its_own,
    a_bind_on_a_key_held_by_another_value_conflicts_and_writes_nothing,
    a_bind_ttl_lets_the_claim_lapse_and_a_later_bind_without_ttl_keeps_it,
    a_side_effect_on_the_wrong_kind_of_key_is_refused_and_writes_nothing,
    concurrent_compare_and_set_loses_no_update,
    ping_answers,
);

#[tokio::test]
async fn redis_prefixes_keep_deployments_apart() {
    let url = redis_url().await;
    let a = redis_store(&url, &unique_prefix());
    let b = redis_store(&url, &unique_prefix());
    a.compare_and_set("doc", 0, write("a")).await.unwrap();
    assert_eq!(b.get("doc").await.unwrap(), None);
    assert_eq!(b.claim("fp", "b", None).await.unwrap(), Claim::Claimed);
}

#[tokio::test]
async fn a_wrong_kind_of_value_is_a_refusal_not_a_panic() {
    let url = redis_url().await;
    let store = redis_store(&url, &unique_prefix());
    store.claim("k", "text", None).await.unwrap();
    let error = store.get("k").await.unwrap_err();
    assert!(!error.is_transient(), "{error}");
    let memory = MemoryStore::new();
    memory.claim("k", "text", None).await.unwrap();
    assert!(!memory.get("k").await.unwrap_err().is_transient());
}

#[tokio::test]
async fn redis_without_append_only_persistence_is_reported() {
    // Its own server, whose `--appendonly no` is known, whatever REDIS_URL points at.
    let server = robot_sre::testkit::RedisServer::start().await.unwrap();
    let warning = redis_store(&server.url(), &unique_prefix())
        .durability_warning()
        .await;
    assert!(warning.unwrap().contains("appendonly"));
}
