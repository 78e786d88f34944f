//! Socket Mode against the double's websocket: envelopes reach the inbox and are acknowledged.

use std::time::Duration;

use robot_sre::channels::InboundKind;
use robot_sre::channels::slack::SocketMode;
use robot_sre::config::Secret;

use crate::helpers::{ALICE, Bot, bot, eventually, next_event};
use crate::slack::{APP_TOKEN, Double, block_action, slash_command};

async fn connected(double: &Double) -> (Bot, SocketMode) {
    let bot = bot(double).await;
    let socket = SocketMode::start(&bot.api, &Secret::new(APP_TOKEN), bot.inbound.clone())
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(5), || double.socket_connections() > 0).await,
        "the bot connects"
    );
    (bot, socket)
}

#[tokio::test]
async fn an_interactive_envelope_reaches_the_inbox_and_is_acknowledged() {
    let double = Double::start().await;
    let (mut bot, socket) = connected(&double).await;
    let payload = block_action(
        ALICE,
        "1700000000.000001",
        "approve",
        "tok_socket",
        "1700000200.1",
    );

    let envelope = double.socket_envelope("interactive", payload, 0).unwrap();

    assert!(eventually(Duration::from_secs(5), || double.acknowledged(&envelope)).await);
    let event = next_event(&mut bot.events).await.expect("an event");
    assert!(matches!(event.kind, InboundKind::Decision { ref token, .. } if token == "tok_socket"));
    assert_eq!(event.sender.person.as_deref(), Some("alice"));
    let opened = double.sent_to("apps.connections.open");
    assert!(!opened.is_empty());
    double.assert_valid();
    socket.shutdown().await;
}

#[tokio::test]
async fn a_slash_command_envelope_becomes_a_command() {
    let double = Double::start().await;
    let (mut bot, socket) = connected(&double).await;
    let fields = slash_command(ALICE, "/incident", "status", "trigger-socket-1");

    let envelope = double.socket_envelope("slash_commands", fields, 0).unwrap();

    assert!(eventually(Duration::from_secs(5), || double.acknowledged(&envelope)).await);
    let event = next_event(&mut bot.events).await.expect("an event");
    assert!(
        matches!(event.kind, InboundKind::Command { ref text, .. } if text == "/incident status")
    );
    socket.shutdown().await;
}

#[tokio::test]
async fn a_redelivered_envelope_is_acknowledged_but_not_queued_twice() {
    let double = Double::start().await;
    let (mut bot, socket) = connected(&double).await;
    let payload = block_action(
        ALICE,
        "1700000000.000001",
        "approve",
        "tok_socket",
        "1700000200.2",
    );

    let first = double
        .socket_envelope("interactive", payload.clone(), 0)
        .unwrap();
    assert!(eventually(Duration::from_secs(5), || double.acknowledged(&first)).await);
    let again = double.socket_envelope("interactive", payload, 1).unwrap();
    assert!(eventually(Duration::from_secs(5), || double.acknowledged(&again)).await);

    assert!(next_event(&mut bot.events).await.is_some());
    assert!(
        bot.events.try_recv().is_err(),
        "the redelivery is not queued"
    );
    socket.shutdown().await;
}

#[tokio::test]
async fn an_envelope_that_cannot_be_queued_is_not_acknowledged_and_its_redelivery_is_queued() {
    let double = Double::start().await;
    let store = std::sync::Arc::new(robot_sre::store::MemoryStore::new());
    let mut bot = crate::helpers::bot_with(&double, store, 1).await;
    let socket = SocketMode::start(&bot.api, &Secret::new(APP_TOKEN), bot.inbound.clone())
        .await
        .unwrap();
    assert!(eventually(Duration::from_secs(5), || double.socket_connections() > 0).await);
    let press = |at: &str| block_action(ALICE, "1700000000.000001", "approve", "tok", at);

    let filling = double
        .socket_envelope("interactive", press("1.1"), 0)
        .unwrap();
    assert!(eventually(Duration::from_secs(5), || double.acknowledged(&filling)).await);
    let refused = double
        .socket_envelope("interactive", press("1.2"), 0)
        .unwrap();
    // Envelopes on one connection are handled in order, and a payload without a user is
    // acknowledged without touching the inbox: once it is acknowledged, the refused one has
    // been handled too.
    let mut anonymous = press("1.3");
    anonymous.as_object_mut().unwrap().remove("user");
    let marker = double.socket_envelope("interactive", anonymous, 0).unwrap();
    assert!(eventually(Duration::from_secs(5), || double.acknowledged(&marker)).await);
    assert!(
        !double.acknowledged(&refused),
        "a full inbox withholds the acknowledgement"
    );
    assert!(next_event(&mut bot.events).await.is_some());

    let redelivered = double
        .socket_envelope("interactive", press("1.2"), 1)
        .unwrap();
    assert!(eventually(Duration::from_secs(5), || double.acknowledged(&redelivered)).await);
    let event = next_event(&mut bot.events)
        .await
        .expect("the redelivered press");
    assert!(matches!(event.kind, InboundKind::Decision { .. }));
    socket.shutdown().await;
}
