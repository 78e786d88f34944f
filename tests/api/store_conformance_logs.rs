//! The conformance suite for append-only logs, run against both stores.

use std::sync::Arc;

use chrono::Utc;
use robot_sre::store::{CasOutcome, Claim, LogId, SideEffect, Store};

use crate::store_conformance::{conformance, write};

fn append(log: &str, value: &str) -> SideEffect {
    SideEffect::Append {
        log: log.into(),
        value: value.as_bytes().to_vec(),
    }
}

/// The values of a log, oldest first.
async fn values(store: &Arc<dyn Store>, log: &str) -> Vec<String> {
    let entries = store.read_log(log, None, 100).await.unwrap();
    entries
        .into_iter()
        .map(|entry| String::from_utf8(entry.value).unwrap())
        .collect()
}

async fn a_log_reads_back_in_append_order(store: Arc<dyn Store>) {
    assert!(store.read_log("log", None, 10).await.unwrap().is_empty());
    let mut ids = Vec::new();
    for value in ["a", "b", "c", "d", "e"] {
        ids.push(store.append("log", value.as_bytes()).await.unwrap());
    }
    assert!(ids.windows(2).all(|pair| pair[0] < pair[1]), "{ids:?}");
    let entries = store.read_log("log", None, 10).await.unwrap();
    let read: Vec<LogId> = entries.iter().map(|entry| entry.id).collect();
    assert_eq!(read, ids);
    assert_eq!(values(&store, "log").await, ["a", "b", "c", "d", "e"]);
    assert!(store.read_log("other", None, 10).await.unwrap().is_empty());
}

async fn log_ids_are_stream_ids_of_the_append_time(store: Arc<dyn Store>) {
    let before = Utc::now().timestamp_millis();
    let id = store.append("log", b"x").await.unwrap();
    let after = Utc::now().timestamp_millis();
    let millis = i64::try_from(id.millis()).unwrap();
    assert!(
        (before..=after).contains(&millis),
        "{id} not in {before}..={after}"
    );
    assert_eq!(LogId::parse(&id.to_string()), Ok(id));
}

async fn reading_after_an_id_pages_through_the_log_exactly_once(store: Arc<dyn Store>) {
    for n in 0..7 {
        store.append("log", n.to_string().as_bytes()).await.unwrap();
    }
    let first = store.read_log("log", None, 3).await.unwrap();
    assert_eq!(first.len(), 3);
    let second = store.read_log("log", Some(&first[2].id), 3).await.unwrap();
    let third = store.read_log("log", Some(&second[2].id), 3).await.unwrap();
    let pages: Vec<Vec<u8>> = [first, second, third.clone()]
        .concat()
        .into_iter()
        .map(|entry| entry.value)
        .collect();
    let expected: Vec<Vec<u8>> = (0..7).map(|n: u8| n.to_string().into_bytes()).collect();
    assert_eq!(pages, expected);
    assert!(
        store
            .read_log("log", Some(&third[0].id), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.read_log("log", None, 0).await.unwrap().is_empty());
}

async fn an_append_effect_is_written_with_a_successful_compare_and_set(store: Arc<dyn Store>) {
    let mut first = write("one");
    first.effects = vec![append("trail", "opened")];
    let written = store.compare_and_set("doc", 0, first).await.unwrap();
    assert_eq!(written, CasOutcome::Written { version: 1 });
    let mut second = write("two");
    second.effects = vec![append("trail", "updated")];
    store.compare_and_set("doc", 1, second).await.unwrap();
    assert_eq!(values(&store, "trail").await, ["opened", "updated"]);
}

async fn an_append_effect_is_not_written_when_the_compare_and_set_conflicts(store: Arc<dyn Store>) {
    store.compare_and_set("doc", 0, write("one")).await.unwrap();
    let mut stale = write("lost");
    stale.effects = vec![append("trail", "lost")];
    let outcome = store.compare_and_set("doc", 0, stale).await.unwrap();
    assert_eq!(outcome, CasOutcome::Conflict { current: 1 });

    store.claim("fp", "someone-else", None).await.unwrap();
    let mut bound = write("lost");
    bound.effects = vec![
        append("trail", "lost"),
        SideEffect::Bind {
            key: "fp".into(),
            value: "mine".into(),
            ttl: None,
        },
    ];
    let outcome = store.compare_and_set("doc", 1, bound).await.unwrap();
    assert_eq!(outcome, CasOutcome::Conflict { current: 1 });
    assert!(values(&store, "trail").await.is_empty());
}

async fn an_append_effect_on_a_key_that_is_not_a_log_is_refused_and_writes_nothing(
    store: Arc<dyn Store>,
) {
    store.claim("not-a-log", "text", None).await.unwrap();
    let mut attempt = write("d");
    attempt.effects = vec![
        SideEffect::AddToSet {
            set: "open".into(),
            member: "x".into(),
        },
        append("not-a-log", "lost"),
    ];
    let error = store.compare_and_set("doc", 0, attempt).await.unwrap_err();
    assert!(!error.is_transient(), "{error}");
    // The other order: an append before the side effect that is refused.
    let mut attempt = write("d");
    attempt.effects = vec![
        append("trail", "lost"),
        SideEffect::AddToSet {
            set: "not-a-log".into(),
            member: "x".into(),
        },
    ];
    let error = store.compare_and_set("doc", 0, attempt).await.unwrap_err();
    assert!(!error.is_transient(), "{error}");
    assert_eq!(store.get("doc").await.unwrap(), None);
    assert!(store.members("open").await.unwrap().is_empty());
    assert!(values(&store, "trail").await.is_empty());
    assert_eq!(
        store.claim("not-a-log", "other", None).await.unwrap(),
        Claim::Held("text".into())
    );
}

async fn log_operations_on_a_key_that_is_not_a_log_are_refused(store: Arc<dyn Store>) {
    store.claim("not-a-log", "text", None).await.unwrap();
    let append = store.append("not-a-log", b"x").await.unwrap_err();
    assert!(!append.is_transient(), "{append}");
    let read = store.read_log("not-a-log", None, 10).await.unwrap_err();
    assert!(!read.is_transient(), "{read}");
}

conformance!(
    a_log_reads_back_in_append_order,
    log_ids_are_stream_ids_of_the_append_time,
    reading_after_an_id_pages_through_the_log_exactly_once,
    an_append_effect_is_written_with_a_successful_compare_and_set,
    an_append_effect_is_not_written_when_the_compare_and_set_conflicts,
    an_append_effect_on_a_key_that_is_not_a_log_is_refused_and_writes_nothing,
    log_operations_on_a_key_that_is_not_a_log_are_refused,
);
