//! The webhook: the secret header checked before parsing, updates turned into events once,
//! unknown chats reported, a full inbox answered so that Telegram retries.

use robot_sre::channels::{ChannelKind, InboundKind, MessageRef};

use crate::helpers::{ALICE, APPROVE_TOKEN, CHAT, Harness, LEADS, STRANGERS, prompt};
use crate::telegram::SecretHeader;

#[tokio::test]
async fn a_command_with_the_right_secret_becomes_a_command_event() {
    let mut h = Harness::start().await;
    let endpoint = h.webhook().await;
    let update = h
        .double
        .command_update(CHAT, ALICE, "/incident@RobotSreTestBot status inc-7k2m");
    let status = h
        .double
        .post_webhook(&endpoint, &update, SecretHeader::Good)
        .await;
    assert_eq!(status, 200);
    let event = h.next_event().await;
    assert_eq!(event.sender.person.as_deref(), Some("alice"));
    let InboundKind::Command { text, reply_to } = event.kind else {
        panic!("{:?}", event.kind);
    };
    assert_eq!(text, "/incident status inc-7k2m");
    assert_eq!(reply_to.conversation, CHAT.to_string());
    assert_eq!(reply_to.id, update["message"]["message_id"].to_string());
}

#[tokio::test]
async fn a_wrong_or_missing_secret_is_refused_before_the_body_is_read() {
    let mut h = Harness::start().await;
    let endpoint = h.webhook().await;
    let update = h.double.command_update(CHAT, ALICE, "/incident list");
    for secret in [SecretHeader::Bad, SecretHeader::Missing] {
        let status = h.double.post_webhook(&endpoint, &update, secret).await;
        assert_eq!(status, 401, "{secret:?}");
        let garbage = h
            .double
            .post_webhook_raw(&endpoint, b"{not json".to_vec(), secret)
            .await;
        assert_eq!(garbage, 401, "{secret:?}: refused before parsing");
    }
    h.assert_no_more_events();
    let status = h
        .double
        .post_webhook(&endpoint, &update, SecretHeader::Good)
        .await;
    assert_eq!(
        status, 200,
        "the same update with the right secret is taken"
    );
    h.next_event().await;
}

#[tokio::test]
async fn a_body_that_is_not_an_update_is_answered_400() {
    let mut h = Harness::start().await;
    let endpoint = h.webhook().await;
    let status = h
        .double
        .post_webhook_raw(&endpoint, b"{\"update\": 1}".to_vec(), SecretHeader::Good)
        .await;
    assert_eq!(status, 400);
    h.assert_no_more_events();
}

#[tokio::test]
async fn a_button_press_becomes_a_decision_and_is_answered_at_once() {
    let mut h = Harness::start().await;
    let endpoint = h.webhook().await;
    let sent = h.channel_prompt().await;
    let data = format!("a:{APPROVE_TOKEN}");
    let update = h
        .double
        .callback_update(CHAT, ALICE, sent.id.parse().unwrap(), &data);
    assert_eq!(
        h.double
            .post_webhook(&endpoint, &update, SecretHeader::Good)
            .await,
        200
    );
    let event = h.next_event().await;
    assert_eq!(
        event.kind,
        InboundKind::Decision {
            token: APPROVE_TOKEN.into(),
            message: Some(MessageRef {
                channel: ChannelKind::Telegram,
                ..sent
            }),
        }
    );
    assert_eq!(event.sender.person.as_deref(), Some("alice"));
    let answers = h.double.wait_for("answerCallbackQuery", 1).await;
    assert_eq!(
        answers[0]["callback_query_id"],
        update["callback_query"]["id"]
    );
    h.double.assert_valid();
}

#[tokio::test]
async fn updates_from_an_unknown_chat_are_ignored_and_reported_with_the_chat() {
    let mut h = Harness::start().await;
    let endpoint = h.webhook().await;
    let command = h
        .double
        .command_update(STRANGERS, ALICE, "/incident ack inc-7k2m");
    let press = h
        .double
        .callback_update(STRANGERS, 999, 1, &format!("a:{APPROVE_TOKEN}"));
    for update in [&command, &press] {
        assert_eq!(
            h.double
                .post_webhook(&endpoint, update, SecretHeader::Good)
                .await,
            200
        );
        let event = h.next_event().await;
        let InboundKind::Ignored { reason } = event.kind else {
            panic!("acted on a stranger's update: {:?}", event.kind);
        };
        assert!(reason.contains(&STRANGERS.to_string()), "{reason}");
    }
    assert!(h.double.calls("answerCallbackQuery").is_empty());
}

#[tokio::test]
async fn a_command_in_an_allowed_second_chat_is_served() {
    let mut h = Harness::start().await;
    let endpoint = h.webhook().await;
    let update = h.double.command_update(LEADS, ALICE, "/incident list");
    assert_eq!(
        h.double
            .post_webhook(&endpoint, &update, SecretHeader::Good)
            .await,
        200
    );
    assert!(matches!(
        h.next_event().await.kind,
        InboundKind::Command { .. }
    ));
}

#[tokio::test]
async fn a_redelivered_update_produces_one_event() {
    let mut h = Harness::start().await;
    let endpoint = h.webhook().await;
    let update = h
        .double
        .command_update(CHAT, ALICE, "/incident escalate inc-7k2m");
    for _ in 0..3 {
        assert_eq!(
            h.double
                .post_webhook(&endpoint, &update, SecretHeader::Good)
                .await,
            200
        );
    }
    let other = h.double.command_update(CHAT, ALICE, "/incident help");
    assert_eq!(
        h.double
            .post_webhook(&endpoint, &other, SecretHeader::Good)
            .await,
        200
    );
    let events = h.collect(2).await;
    let texts: Vec<_> = events
        .iter()
        .map(|e| match &e.kind {
            InboundKind::Command { text, .. } => text.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(texts, ["/incident escalate inc-7k2m", "/incident help"]);
    h.assert_no_more_events();
}

#[tokio::test]
async fn a_full_inbox_answers_503_and_the_redelivery_is_taken() {
    let mut h =
        Harness::with_store(std::sync::Arc::new(robot_sre::store::MemoryStore::new()), 1).await;
    let endpoint = h.webhook().await;
    let first = h.double.command_update(CHAT, ALICE, "/incident list");
    let second = h.double.command_update(CHAT, ALICE, "/incident status");
    assert_eq!(
        h.double
            .post_webhook(&endpoint, &first, SecretHeader::Good)
            .await,
        200
    );
    assert_eq!(
        h.double
            .post_webhook(&endpoint, &second, SecretHeader::Good)
            .await,
        503
    );
    h.next_event().await;
    assert_eq!(
        h.double
            .post_webhook(&endpoint, &second, SecretHeader::Good)
            .await,
        200
    );
    let event = h.next_event().await;
    assert!(matches!(event.kind, InboundKind::Command { text, .. } if text == "/incident status"));
}

#[tokio::test]
async fn plain_chatter_in_a_served_chat_is_not_an_event() {
    let mut h = Harness::start().await;
    let endpoint = h.webhook().await;
    let chatter = h.double.command_update(CHAT, ALICE, "looking at it now");
    assert_eq!(
        h.double
            .post_webhook(&endpoint, &chatter, SecretHeader::Good)
            .await,
        200
    );
    let marker = h.double.command_update(CHAT, ALICE, "/incident list");
    assert_eq!(
        h.double
            .post_webhook(&endpoint, &marker, SecretHeader::Good)
            .await,
        200
    );
    let event = h.next_event().await;
    assert!(matches!(event.kind, InboundKind::Command { text, .. } if text == "/incident list"));
}

impl Harness {
    async fn channel_prompt(&self) -> MessageRef {
        use robot_sre::channels::Channel;
        self.channel.send_prompt(&prompt()).await.unwrap()
    }
}
