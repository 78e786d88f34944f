//! The conformance suite for sliding-window admission and claim release and renewal, run
//! against both stores.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use robot_sre::store::{Admission, Claim, Store};

use crate::helpers::eventually;
use crate::store_conformance::{clock, conformance, write};

const WINDOW: Duration = Duration::from_secs(10);

/// Now, at the millisecond resolution windows keep.
fn start() -> DateTime<Utc> {
    DateTime::from_timestamp_millis(Utc::now().timestamp_millis()).unwrap()
}

fn later(t0: DateTime<Utc>, millis: i64) -> DateTime<Utc> {
    t0 + TimeDelta::milliseconds(millis)
}

/// The window's members and their times in ms after `t0`, oldest first.
async fn members(
    store: &Arc<dyn Store>,
    t0: DateTime<Utc>,
    now: DateTime<Utc>,
    window: Duration,
) -> Vec<(String, i64)> {
    let entries = store.window("w", now, window).await.unwrap();
    entries
        .into_iter()
        .map(|entry| (entry.member, (entry.at - t0).num_milliseconds()))
        .collect()
}

fn admitted(count: usize) -> Admission {
    Admission::Admitted { count }
}

async fn admission_is_full_at_the_limit_and_names_the_oldest(store: Arc<dyn Store>) {
    let t0 = start();
    let admit = |member, at, limit| store.admit("w", member, at, WINDOW, limit);
    assert_eq!(admit("a", t0, 2).await.unwrap(), admitted(1));
    assert_eq!(admit("b", later(t0, 1000), 2).await.unwrap(), admitted(2));
    let full = admit("c", later(t0, 2000), 2).await.unwrap();
    assert_eq!(
        full,
        Admission::Full {
            count: 2,
            oldest: t0
        }
    );
    let now = later(t0, 2000);
    let expected = [("a".to_owned(), 0), ("b".to_owned(), 1000)];
    assert_eq!(members(&store, t0, now, WINDOW).await, expected);
    let nobody = store.admit("empty", "a", t0, WINDOW, 0).await.unwrap();
    assert_eq!(
        nobody,
        Admission::Full {
            count: 0,
            oldest: t0
        }
    );
}

async fn readmitting_a_member_is_idempotent_and_moves_its_time(store: Arc<dyn Store>) {
    let t0 = start();
    let admit = |member, at| store.admit("w", member, at, WINDOW, 2);
    assert_eq!(admit("a", t0).await.unwrap(), admitted(1));
    assert_eq!(admit("a", later(t0, 1000)).await.unwrap(), admitted(1));
    assert_eq!(admit("b", later(t0, 2000)).await.unwrap(), admitted(2));
    // Full, but `a` is already in: admitted again, still two.
    assert_eq!(admit("a", later(t0, 3000)).await.unwrap(), admitted(2));
    let now = later(t0, 3000);
    let expected = [("b".to_owned(), 2000), ("a".to_owned(), 3000)];
    assert_eq!(members(&store, t0, now, WINDOW).await, expected);
}

async fn members_older_than_the_window_are_dropped_on_admission(store: Arc<dyn Store>) {
    let t0 = start();
    let admit = |member, at| store.admit("w", member, at, WINDOW, 1);
    assert_eq!(admit("a", t0).await.unwrap(), admitted(1));
    // Exactly one window later `a` is still inside.
    let edge = admit("b", later(t0, 10_000)).await.unwrap();
    assert_eq!(
        edge,
        Admission::Full {
            count: 1,
            oldest: t0
        }
    );
    assert_eq!(admit("b", later(t0, 10_001)).await.unwrap(), admitted(1));
    // A read with a longer window would still see `a` had it only been skipped.
    let hour = Duration::from_secs(3600);
    let expected = [("b".to_owned(), 10_001)];
    assert_eq!(members(&store, t0, later(t0, 10_001), hour).await, expected);
}

async fn withdrawing_a_member_frees_room(store: Arc<dyn Store>) {
    let t0 = start();
    store.withdraw("w", "nobody").await.unwrap();
    assert_eq!(
        store.admit("w", "a", t0, WINDOW, 1).await.unwrap(),
        admitted(1)
    );
    let full = store.admit("w", "b", t0, WINDOW, 1).await.unwrap();
    assert!(matches!(full, Admission::Full { .. }), "{full:?}");
    store.withdraw("w", "a").await.unwrap();
    store.withdraw("w", "a").await.unwrap();
    assert_eq!(
        store.admit("w", "b", t0, WINDOW, 1).await.unwrap(),
        admitted(1)
    );
    assert_eq!(members(&store, t0, t0, WINDOW).await, [("b".to_owned(), 0)]);
}

async fn reading_a_window_skips_old_members_without_dropping_them(store: Arc<dyn Store>) {
    let t0 = start();
    store.admit("w", "a", t0, WINDOW, 5).await.unwrap();
    store
        .admit("w", "b", later(t0, 5000), WINDOW, 5)
        .await
        .unwrap();
    let late = members(&store, t0, later(t0, 12_000), WINDOW).await;
    assert_eq!(late, [("b".to_owned(), 5000)]);
    let early = members(&store, t0, later(t0, 6000), WINDOW).await;
    assert_eq!(early, [("a".to_owned(), 0), ("b".to_owned(), 5000)]);
    let c = store.admit("w", "c", later(t0, 6000), WINDOW, 5).await;
    assert_eq!(c.unwrap(), admitted(3));
}

async fn a_window_expires_one_window_after_its_last_admission(store: Arc<dyn Store>) {
    let t0 = start();
    let short = Duration::from_millis(200);
    store.admit("w", "a", t0, short, 1).await.unwrap();
    store.admit("long", "a", t0, WINDOW, 1).await.unwrap();
    // Read with a long window: only the key's expiry can empty it.
    let hour = Duration::from_secs(3600);
    eventually(Duration::from_secs(10), "window expiry", || async {
        members(&store, t0, t0, hour).await.is_empty().then_some(())
    })
    .await;
    assert_eq!(
        store.admit("w", "b", t0, short, 1).await.unwrap(),
        admitted(1)
    );
    let long = store.window("long", t0, hour).await.unwrap();
    assert_eq!(long.len(), 1, "a window whose time has not come stays");
}

async fn window_operations_on_a_key_of_another_kind_are_refused(store: Arc<dyn Store>) {
    store.claim("w", "text", None).await.unwrap();
    let t0 = start();
    let errors = [
        store.admit("w", "a", t0, WINDOW, 1).await.unwrap_err(),
        store.window("w", t0, WINDOW).await.unwrap_err(),
        store.withdraw("w", "a").await.unwrap_err(),
    ];
    for error in errors {
        assert!(!error.is_transient(), "{error}");
    }
    let held = store.claim("w", "other", None).await.unwrap();
    assert_eq!(held, Claim::Held("text".into()));
}

async fn a_claim_is_released_only_by_its_holder(store: Arc<dyn Store>) {
    assert!(!store.release("lease", "a").await.unwrap(), "nothing held");
    store.claim("lease", "a", None).await.unwrap();
    assert!(!store.release("lease", "b").await.unwrap());
    let held = store.claim("lease", "c", None).await.unwrap();
    assert_eq!(held, Claim::Held("a".into()));
    assert!(store.release("lease", "a").await.unwrap());
    assert!(!store.release("lease", "a").await.unwrap(), "released once");
    assert_eq!(
        store.claim("lease", "c", None).await.unwrap(),
        Claim::Claimed
    );
    store.append("log", b"x").await.unwrap();
    let error = store.release("log", "x").await.unwrap_err();
    assert!(!error.is_transient(), "{error}");
}

async fn peek(store: &Arc<dyn Store>, key: &str) -> Option<String> {
    store.peek(key).await.unwrap()
}

/// Waits until the claim `key` is free.
async fn lapsed(store: &Arc<dyn Store>, key: &str) {
    eventually(Duration::from_secs(10), "claim lapse", || async {
        peek(store, key).await.is_none().then_some(())
    })
    .await;
}

async fn a_renewal_by_the_holder_outlasts_the_first_ttl(store: Arc<dyn Store>) {
    let first = Duration::from_millis(300);
    store.claim("lease", "a", Some(first)).await.unwrap();
    let renewed = store.renew("lease", "a", Duration::from_secs(60)).await;
    assert!(renewed.unwrap());
    clock(&store, first * 2).await;
    assert_eq!(peek(&store, "lease").await.as_deref(), Some("a"));
}

async fn a_renewal_sets_the_ttl_so_a_shorter_one_lapses(store: Arc<dyn Store>) {
    store.claim("lease", "a", None).await.unwrap();
    let renewed = store.renew("lease", "a", Duration::from_millis(300)).await;
    assert!(renewed.unwrap(), "a claim held forever is renewed too");
    lapsed(&store, "lease").await;
    assert_eq!(
        store.claim("lease", "b", None).await.unwrap(),
        Claim::Claimed
    );
}

async fn a_renewal_by_another_value_fails_and_changes_nothing(store: Arc<dyn Store>) {
    store
        .claim("lease", "a", Some(Duration::from_millis(300)))
        .await
        .unwrap();
    let renewed = store.renew("lease", "b", Duration::from_secs(60)).await;
    assert!(!renewed.unwrap());
    assert_eq!(peek(&store, "lease").await.as_deref(), Some("a"));
    // The holder's own TTL still runs out.
    lapsed(&store, "lease").await;

    store.claim("forever", "a", None).await.unwrap();
    let renewed = store
        .renew("forever", "b", Duration::from_millis(100))
        .await;
    assert!(!renewed.unwrap());
    clock(&store, Duration::from_millis(300)).await;
    assert_eq!(
        peek(&store, "forever").await.as_deref(),
        Some("a"),
        "no TTL was added"
    );
}

async fn a_renewal_of_a_free_or_lapsed_key_fails_and_creates_nothing(store: Arc<dyn Store>) {
    let renewed = store.renew("free", "a", Duration::from_secs(60)).await;
    assert!(!renewed.unwrap());
    assert_eq!(peek(&store, "free").await, None);
    store
        .claim("lapsing", "a", Some(Duration::from_millis(100)))
        .await
        .unwrap();
    lapsed(&store, "lapsing").await;
    let renewed = store.renew("lapsing", "a", Duration::from_secs(60)).await;
    assert!(!renewed.unwrap(), "a lapsed claim is not revived");
    assert_eq!(peek(&store, "lapsing").await, None);
    assert_eq!(
        store.claim("lapsing", "b", None).await.unwrap(),
        Claim::Claimed
    );
}

async fn a_renewal_of_a_key_of_another_kind_is_refused(store: Arc<dyn Store>) {
    store.compare_and_set("doc", 0, write("d")).await.unwrap();
    let error = store
        .renew("doc", "d", Duration::from_secs(60))
        .await
        .unwrap_err();
    assert!(!error.is_transient(), "{error}");
    assert_eq!(store.get("doc").await.unwrap().unwrap().value, b"d");
}

conformance!(
    admission_is_full_at_the_limit_and_names_the_oldest,
    readmitting_a_member_is_idempotent_and_moves_its_time,
    members_older_than_the_window_are_dropped_on_admission,
    withdrawing_a_member_frees_room,
    reading_a_window_skips_old_members_without_dropping_them,
    a_window_expires_one_window_after_its_last_admission,
    window_operations_on_a_key_of_another_kind_are_refused,
    a_claim_is_released_only_by_its_holder,
    a_renewal_by_the_holder_outlasts_the_first_ttl,
    a_renewal_sets_the_ttl_so_a_shorter_one_lapses,
    a_renewal_by_another_value_fails_and_changes_nothing,
    a_renewal_of_a_free_or_lapsed_key_fails_and_creates_nothing,
    a_renewal_of_a_key_of_another_kind_is_refused,
);
