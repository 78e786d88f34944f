//! Several bot replicas sharing one Redis take each update once.

use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use robot_sre::config::Secret;
use robot_sre::store::{RedisStore, RedisStoreConfig, Store};
use robot_sre::testkit::RedisServer;

use crate::helpers::{ALICE, CHAT, Harness};
use crate::telegram::SecretHeader;

fn store(url: &str, prefix: &str) -> Arc<dyn Store> {
    let config = RedisStoreConfig {
        url: Secret::new(url),
        key_prefix: prefix.to_owned(),
        connect_timeout: Duration::from_millis(500),
        command_timeout: Duration::from_secs(2),
    };
    Arc::new(RedisStore::new(&config).unwrap())
}

#[tokio::test]
async fn two_replicas_sharing_redis_turn_a_redelivered_update_into_one_event() {
    let redis = RedisServer::start().await.expect("redis-server starts");
    let prefix = format!("test-{:016x}", rand::rng().random::<u64>());
    let mut one = Harness::with_store(store(&redis.url(), &prefix), 8).await;
    let mut two = Harness::with_store(store(&redis.url(), &prefix), 8).await;
    let (a, b) = (one.webhook().await, two.webhook().await);
    let update = one
        .double
        .command_update(CHAT, ALICE, "/incident ack inc-7k2m");
    assert_eq!(
        one.double
            .post_webhook(&a, &update, SecretHeader::Good)
            .await,
        200
    );
    assert_eq!(
        two.double
            .post_webhook(&b, &update, SecretHeader::Good)
            .await,
        200
    );
    one.next_event().await;
    let marker = one.double.command_update(CHAT, ALICE, "/incident help");
    assert_eq!(
        two.double
            .post_webhook(&b, &marker, SecretHeader::Good)
            .await,
        200
    );
    let event = two.next_event().await;
    assert!(
        matches!(&event.kind, robot_sre::channels::InboundKind::Command { text, .. } if text == "/incident help"),
        "the second replica took the redelivery: {event:?}"
    );
    one.assert_no_more_events();
}
