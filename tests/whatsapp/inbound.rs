//! The webhook: the subscription handshake, signatures, and notifications mapped to inbound
//! events once.

use robot_sre::channels::whatsapp::WhatsApp;
use robot_sre::channels::{Channel, InboundKind, MessageRef};

use crate::double::{Signature, VERIFY_TOKEN, webhooks};
use crate::helpers::{ALICE, BOB, prompt, sent, spawn, spawn_with};

fn decision(kind: &InboundKind) -> (&str, Option<&MessageRef>) {
    match kind {
        InboundKind::Decision { token, message } => (token.as_str(), message.as_ref()),
        other => panic!("not a decision: {other:?}"),
    }
}

#[tokio::test]
async fn challenge_is_echoed_with_the_right_verify_token() {
    let bot = spawn(&[ALICE]).await;
    let response = webhooks::challenge(&bot.url, "subscribe", VERIFY_TOKEN, "1158201444").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "1158201444");
}

#[tokio::test]
async fn challenge_is_refused_with_a_wrong_token_or_mode() {
    let bot = spawn(&[ALICE]).await;
    for (mode, token) in [
        ("subscribe", "wrong-token"),
        ("unsubscribe", VERIFY_TOKEN),
        ("subscribe", ""),
    ] {
        let response = webhooks::challenge(&bot.url, mode, token, "1158201444").await;
        assert_eq!(response.status(), 403, "{mode} {token}");
        assert_ne!(response.text().await.unwrap(), "1158201444");
    }
}

#[tokio::test]
async fn notification_with_a_bad_or_missing_signature_is_refused_and_queues_nothing() {
    let mut bot = spawn(&[ALICE]).await;
    let press = webhooks::button_reply(ALICE, "wamid.in1", "wamid.p", "tok-approve", "Approve");
    let notification = webhooks::messages(ALICE, vec![press]);
    for signature in [Signature::Bad, Signature::Missing] {
        let response = webhooks::post(&bot.url, &notification, signature).await;
        assert_eq!(response.status(), 401, "{signature:?}");
    }
    assert!(bot.next().is_none());
    webhooks::post(&bot.url, &notification, Signature::Good).await;
    assert!(
        bot.next().is_some(),
        "the same notification, well signed, is taken"
    );
}

#[tokio::test]
async fn signed_body_that_is_not_a_notification_is_a_bad_request() {
    let mut bot = spawn(&[ALICE]).await;
    let response = webhooks::post_raw(&bot.url, b"{not json".to_vec(), Signature::Good).await;
    assert_eq!(response.status(), 400);
    assert!(bot.next().is_none());
}

#[tokio::test]
async fn button_reply_becomes_a_decision_with_the_token_and_the_known_sender() {
    let mut bot = spawn(&[ALICE]).await;
    let press =
        webhooks::button_reply(ALICE, "wamid.in1", "wamid.prompt", "tok-approve", "Approve");
    bot.post(&webhooks::messages(ALICE, vec![press])).await;
    let inbound = bot.next().expect("queued");
    let (token, message) = decision(&inbound.kind);
    assert_eq!(token, "tok-approve");
    assert_eq!(message.map(|m| m.id.as_str()), Some("wamid.prompt"));
    assert_eq!(inbound.sender.person.as_deref(), Some("alice"));
    assert_eq!(inbound.sender.user_id, ALICE);
}

#[tokio::test]
async fn template_quick_reply_becomes_a_decision_with_its_payload() {
    let mut bot = spawn(&[BOB]).await;
    bot.channel.send_prompt(&prompt()).await.unwrap();
    let template = sent(&bot.double, 0);
    let payload = template["template"]["components"][2]["parameters"][0]["payload"]
        .as_str()
        .unwrap()
        .to_owned();
    let press = webhooks::quick_reply(BOB, "wamid.in2", "wamid.tpl", &payload, "Reject");
    bot.post(&webhooks::messages(BOB, vec![press])).await;
    let inbound = bot.next().expect("queued");
    assert_eq!(decision(&inbound.kind).0, "tok-reject");
    assert_eq!(inbound.sender.person, None, "bob is not in the directory");
}

#[tokio::test]
async fn text_answer_quoting_a_prompt_becomes_a_decision_with_that_prompts_token() {
    let mut bot = spawn(&[ALICE]).await;
    let reference = bot.channel.send_prompt(&prompt()).await.unwrap();
    for (id, text, token) in [
        ("wamid.t1", "Approve", "tok-approve"),
        ("wamid.t2", "reject", "tok-reject"),
    ] {
        let answer = webhooks::text(ALICE, id, text, Some(&reference.id));
        bot.post(&webhooks::messages(ALICE, vec![answer])).await;
        let inbound = bot.next().expect("queued");
        let (got, message) = decision(&inbound.kind);
        assert_eq!(got, token, "{text}");
        assert_eq!(message, Some(&reference));
    }
}

#[tokio::test]
async fn text_answer_quoting_no_known_prompt_is_ignored() {
    let mut bot = spawn(&[ALICE]).await;
    let answer = webhooks::text(ALICE, "wamid.t3", "approve", Some("wamid.unknown"));
    bot.post(&webhooks::messages(ALICE, vec![answer])).await;
    let inbound = bot.next().expect("queued for the audit");
    assert!(
        matches!(inbound.kind, InboundKind::Ignored { .. }),
        "{inbound:?}"
    );
}

#[tokio::test]
async fn incident_text_becomes_a_command_replying_to_the_senders_message() {
    let mut bot = spawn(&[ALICE]).await;
    for (id, text) in [
        ("wamid.c1", "/incident status inc-1"),
        ("wamid.c2", "incident status inc-1"),
    ] {
        bot.post(&webhooks::messages(
            ALICE,
            vec![webhooks::text(ALICE, id, text, None)],
        ))
        .await;
        match bot.next().expect("queued").kind {
            InboundKind::Command { text, reply_to } => {
                assert_eq!(text, "/incident status inc-1");
                assert_eq!(
                    (reply_to.conversation.as_str(), reply_to.id.as_str()),
                    (ALICE, id)
                );
            }
            other => panic!("not a command: {other:?}"),
        }
    }
}

#[tokio::test]
async fn failed_status_becomes_a_delivery_failure_and_other_statuses_are_dropped() {
    let mut bot = spawn(&[ALICE]).await;
    let statuses = vec![
        webhooks::status("wamid.out1", ALICE, "delivered"),
        webhooks::status("wamid.out1", ALICE, "failed"),
    ];
    bot.post(&webhooks::statuses(statuses)).await;
    match bot.next().expect("queued").kind {
        InboundKind::DeliveryFailed { message, reason } => {
            assert_eq!(
                (message.conversation.as_str(), message.id.as_str()),
                (ALICE, "wamid.out1")
            );
            assert!(reason.contains("131026"), "{reason}");
        }
        other => panic!("not a delivery failure: {other:?}"),
    }
    assert!(bot.next().is_none(), "delivered is not an event");
}

#[tokio::test]
async fn redelivered_notification_is_submitted_once() {
    let mut bot = spawn(&[ALICE]).await;
    let press = webhooks::button_reply(ALICE, "wamid.dup", "wamid.p", "tok-approve", "Approve");
    let notification = webhooks::messages(ALICE, vec![press]);
    bot.post(&notification).await;
    bot.post(&notification).await;
    assert!(bot.next().is_some());
    assert!(bot.next().is_none(), "the redelivery was queued again");
}

#[tokio::test]
async fn full_inbox_asks_for_redelivery_and_the_redelivery_is_taken() {
    let mut bot = spawn_with(&[ALICE], 1, |_| {}).await;
    let first = webhooks::messages(
        ALICE,
        vec![webhooks::text(ALICE, "wamid.f1", "/incident list", None)],
    );
    let second = webhooks::messages(
        ALICE,
        vec![webhooks::text(ALICE, "wamid.f2", "/incident list", None)],
    );
    bot.post(&first).await;
    let response = webhooks::post(&bot.url, &second, Signature::Good).await;
    assert_eq!(response.status(), 503);
    assert!(bot.next().is_some());
    bot.post(&second).await;
    assert!(
        bot.next().is_some(),
        "the redelivery after a full inbox is processed"
    );
}

#[tokio::test]
async fn a_message_received_by_one_replica_opens_the_window_for_another() {
    let bot = spawn(&[ALICE]).await;
    let hello = webhooks::messages(ALICE, vec![webhooks::text(ALICE, "wamid.h", "hi", None)]);
    bot.post(&hello).await;
    let replica = WhatsApp::new(&bot.settings, bot.store.clone()).unwrap();
    replica.send_prompt(&prompt()).await.unwrap();
    assert_eq!(sent(&bot.double, 0)["type"], "interactive");
}
