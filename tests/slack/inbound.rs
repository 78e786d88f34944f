//! The HTTP endpoints: signatures checked first, redeliveries dropped, events queued.

use std::sync::Arc;
use std::time::Duration;

use robot_sre::channels::{ChannelKind, InboundKind, MessageRef};
use robot_sre::config::Secret;
use robot_sre::store::{RedisStore, RedisStoreConfig, Store};
use robot_sre::testkit::RedisServer;

use crate::helpers::{ALICE, bot, bot_with, next_event};
use crate::slack::{
    CHANNEL, Callback, Double, SIGNING_SECRET, Signing, block_action, slash_command,
};

fn good() -> Signing {
    Signing::Good(SIGNING_SECRET.into())
}

fn press(action_ts: &str) -> serde_json::Value {
    block_action(
        ALICE,
        "1700000000.000001",
        "approve",
        "tok_approve",
        action_ts,
    )
}

#[tokio::test]
async fn a_signed_button_press_becomes_a_decision_with_its_person_and_message() {
    let double = Double::start().await;
    let mut bot = bot(&double).await;

    let response = Callback::interaction(&press("1700000100.000001"), good())
        .post(&bot.base)
        .await;

    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "");
    let event = next_event(&mut bot.events).await.expect("an event");
    assert_eq!(event.sender.user_id, ALICE);
    assert_eq!(event.sender.person.as_deref(), Some("alice"));
    let message = MessageRef {
        channel: ChannelKind::Slack,
        conversation: CHANNEL.into(),
        id: "1700000000.000001".into(),
    };
    assert_eq!(
        event.kind,
        InboundKind::Decision {
            token: "tok_approve".into(),
            message: Some(message)
        }
    );
}

#[tokio::test]
async fn a_press_by_someone_unknown_is_passed_on_as_unknown() {
    let double = Double::start().await;
    let mut bot = bot(&double).await;
    let payload = block_action(
        "U0EVE",
        "1700000000.000001",
        "reject",
        "tok_reject",
        "1700000100.2",
    );

    Callback::interaction(&payload, good())
        .post(&bot.base)
        .await;

    let event = next_event(&mut bot.events).await.expect("an event");
    assert_eq!(event.sender.person, None);
    assert!(matches!(event.kind, InboundKind::Decision { ref token, .. } if token == "tok_reject"));
}

async fn refused(signing: Signing) {
    let double = Double::start().await;
    let mut bot = bot(&double).await;
    let response = Callback::interaction(&press("1700000100.000001"), signing)
        .post(&bot.base)
        .await;
    assert_eq!(response.status(), 401);
    assert!(bot.events.try_recv().is_err(), "nothing is queued");
}

#[tokio::test]
async fn a_request_signed_with_another_secret_is_refused() {
    refused(Signing::WrongSecret).await;
}

#[tokio::test]
async fn an_unsigned_request_is_refused() {
    refused(Signing::Missing).await;
}

#[tokio::test]
async fn a_request_signed_more_than_five_minutes_ago_is_refused() {
    refused(Signing::Stale(SIGNING_SECRET.into(), 6 * 60)).await;
}

#[tokio::test]
async fn a_request_signed_four_minutes_ago_is_accepted() {
    let double = Double::start().await;
    let mut bot = bot(&double).await;
    let signing = Signing::Stale(SIGNING_SECRET.into(), 4 * 60);
    let response = Callback::interaction(&press("1700000100.000001"), signing)
        .post(&bot.base)
        .await;
    assert_eq!(response.status(), 200);
    assert!(next_event(&mut bot.events).await.is_some());
}

#[tokio::test]
async fn a_tampered_body_is_refused() {
    let double = Double::start().await;
    let mut bot = bot(&double).await;
    let mut callback = Callback::interaction(&press("1700000100.000001"), good());
    callback.body = callback.body.replace("tok_approve", "tok_forged0");
    let response = callback.post(&bot.base).await;
    assert_eq!(response.status(), 401);
    assert!(bot.events.try_recv().is_err());
}

#[tokio::test]
async fn a_redelivery_with_retry_headers_is_acknowledged_but_not_queued_twice() {
    let double = Double::start().await;
    let mut bot = bot(&double).await;
    let payload = press("1700000100.000001");

    let first = Callback::interaction(&payload, good())
        .post(&bot.base)
        .await;
    let retry = Callback::interaction(&payload, good())
        .retry(1, "http_timeout")
        .post(&bot.base)
        .await;

    assert_eq!(
        (first.status().as_u16(), retry.status().as_u16()),
        (200, 200)
    );
    assert!(next_event(&mut bot.events).await.is_some());
    assert!(bot.events.try_recv().is_err(), "the retry is not queued");
}

#[tokio::test]
async fn the_same_signed_request_replayed_is_not_queued_twice() {
    let double = Double::start().await;
    let mut bot = bot(&double).await;
    let callback = Callback::interaction(&press("1700000100.000001"), good());

    callback.post(&bot.base).await;
    let replay = callback.post(&bot.base).await;

    assert_eq!(replay.status(), 200);
    assert!(next_event(&mut bot.events).await.is_some());
    assert!(bot.events.try_recv().is_err(), "the replay is not queued");
}

#[tokio::test]
async fn a_second_press_of_the_same_button_is_a_new_event() {
    let double = Double::start().await;
    let mut bot = bot(&double).await;

    Callback::interaction(&press("1700000100.000001"), good())
        .post(&bot.base)
        .await;
    Callback::interaction(&press("1700000101.000001"), good())
        .post(&bot.base)
        .await;

    assert!(next_event(&mut bot.events).await.is_some());
    assert!(next_event(&mut bot.events).await.is_some());
}

#[tokio::test]
async fn a_slash_command_becomes_a_command_answered_in_its_channel() {
    let double = Double::start().await;
    let mut bot = bot(&double).await;
    let fields = slash_command(ALICE, "/incident", "status inc-0123456789ab", "trigger-1");

    let response = Callback::command(&fields, good()).post(&bot.base).await;
    let replay = Callback::command(&fields, good())
        .retry(1, "http_timeout")
        .post(&bot.base)
        .await;

    assert_eq!(
        (response.status().as_u16(), replay.status().as_u16()),
        (200, 200)
    );
    let event = next_event(&mut bot.events).await.expect("an event");
    assert_eq!(event.sender.person.as_deref(), Some("alice"));
    let reply_to = MessageRef {
        channel: ChannelKind::Slack,
        conversation: CHANNEL.into(),
        id: String::new(),
    };
    assert_eq!(
        event.kind,
        InboundKind::Command {
            text: "/incident status inc-0123456789ab".into(),
            reply_to
        }
    );
    assert!(
        bot.events.try_recv().is_err(),
        "the redelivery is not queued"
    );
}

#[tokio::test]
async fn a_badly_signed_slash_command_is_refused() {
    let double = Double::start().await;
    let mut bot = bot(&double).await;
    let fields = slash_command(ALICE, "/incident", "approve", "trigger-2");
    let response = Callback::command(&fields, Signing::WrongSecret)
        .post(&bot.base)
        .await;
    assert_eq!(response.status(), 401);
    assert!(bot.events.try_recv().is_err());
}

#[tokio::test]
async fn a_button_the_bot_did_not_make_is_queued_as_ignored() {
    let double = Double::start().await;
    let mut bot = bot(&double).await;
    let payload = block_action(
        ALICE,
        "1700000000.000001",
        "overflow_menu",
        "x",
        "1700000100.3",
    );

    Callback::interaction(&payload, good())
        .post(&bot.base)
        .await;

    let event = next_event(&mut bot.events).await.expect("an event");
    assert!(
        matches!(event.kind, InboundKind::Ignored { .. }),
        "{event:?}"
    );
}

#[tokio::test]
async fn a_signed_but_malformed_payload_is_a_400_and_queues_nothing() {
    let double = Double::start().await;
    let mut bot = bot(&double).await;
    let payload = serde_json::json!({"type": "block_actions", "actions": []});

    let response = Callback::interaction(&payload, good())
        .post(&bot.base)
        .await;

    assert_eq!(response.status(), 400);
    assert!(bot.events.try_recv().is_err());
}

#[tokio::test]
async fn a_full_inbox_answers_503_and_the_retry_is_queued_once_there_is_room() {
    let double = Double::start().await;
    let mut bot = bot_with(&double, Arc::new(robot_sre::store::MemoryStore::new()), 1).await;
    Callback::interaction(&press("1700000100.000001"), good())
        .post(&bot.base)
        .await;
    let second = press("1700000100.000002");

    let refused = Callback::interaction(&second, good()).post(&bot.base).await;
    assert_eq!(refused.status(), 503);
    assert!(next_event(&mut bot.events).await.is_some());
    let retried = Callback::interaction(&second, good())
        .retry(1, "http_error")
        .post(&bot.base)
        .await;

    assert_eq!(retried.status(), 200);
    let event = next_event(&mut bot.events)
        .await
        .expect("the retried press");
    assert!(matches!(event.kind, InboundKind::Decision { .. }));
}

#[tokio::test]
async fn a_redelivery_to_another_replica_sharing_redis_is_not_queued_twice() {
    let redis = RedisServer::start().await.expect("redis-server starts");
    let store = || -> Arc<dyn Store> {
        let config = RedisStoreConfig {
            url: Secret::new(redis.url()),
            key_prefix: "slack-test".into(),
            connect_timeout: Duration::from_millis(500),
            command_timeout: Duration::from_secs(2),
        };
        Arc::new(RedisStore::new(&config).unwrap())
    };
    let double = Double::start().await;
    let mut one = bot_with(&double, store(), 4).await;
    let mut two = bot_with(&double, store(), 4).await;
    let payload = press("1700000100.000009");

    Callback::interaction(&payload, good())
        .post(&one.base)
        .await;
    let retry = Callback::interaction(&payload, good())
        .retry(1, "http_timeout")
        .post(&two.base)
        .await;

    assert_eq!(retry.status(), 200);
    assert!(next_event(&mut one.events).await.is_some());
    assert!(
        two.events.try_recv().is_err(),
        "the other replica does not queue it again"
    );
}
