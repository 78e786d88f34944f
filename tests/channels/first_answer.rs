//! The first answer wins: a prompt posted on Slack and on Telegram is approved by a signed Slack
//! button press; a later Reject from Telegram changes nothing; both copies then show who
//! decided, where and when, and lose their buttons.

use std::time::Duration;

use chrono::Utc;
use robot_sre::channels::slack::{SlackInbound, routes};
use robot_sre::channels::{ChannelKind, Directory, InboundKind, Inbox, Person};
use robot_sre::config::Secret;
use robot_sre::conversations::tokens::{Grant, RedeemError, Refusal, Tokens};
use robot_sre::incidents::IncidentId;
use robot_sre::incidents::model::Environment;

use crate::harness::{CHAT, Doubles, bot, prompt, routing};
use crate::slack::{Callback, SIGNING_SECRET, Signing, block_action};

fn alice() -> Person {
    Person {
        name: "alice".into(),
        slack: Some("U0ALICE".into()),
        telegram: Some(4242),
        whatsapp: None,
        groups: vec!["sre".into()],
    }
}

async fn serve(inbound: SlackInbound) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, routes(inbound)).await });
    base
}

#[tokio::test]
async fn the_first_answer_wins_and_every_copy_of_the_prompt_says_who_decided() {
    let doubles = Doubles::start().await;
    let bot = bot(&doubles, routing());
    let tokens = Tokens::new(bot.store.clone());
    let incident = IncidentId::generate();
    let expires_at = Utc::now() + chrono::Duration::minutes(5);
    let grant = |approves| Grant {
        incident: incident.clone(),
        prompt: 1,
        action: "rollback".into(),
        target: "lab/payments/Deployment/checkout".into(),
        fingerprint: Some("uid@7".into()),
        approves,
        expires_at,
    };
    let approve = tokens.mint(&grant(true), Utc::now()).await.unwrap();
    let reject = tokens.mint(&grant(false), Utc::now()).await.unwrap();
    let prompt = prompt(&incident, Duration::from_secs(300), [&approve, &reject]);
    let on_slack = bot
        .router
        .send_prompt(&prompt, Environment::Production, &[])
        .await
        .unwrap();
    let on_telegram = bot
        .router
        .send_prompt(&prompt, Environment::Production, &[ChannelKind::Slack])
        .await
        .unwrap();
    assert_eq!(on_telegram.message.channel, ChannelKind::Telegram);

    // Alice presses Approve on Slack: a signed callback, verified, parsed and queued.
    let (inbox, mut events) = Inbox::new(8);
    let inbound = SlackInbound::new(
        Secret::new(SIGNING_SECRET),
        Directory::new(&[alice()]),
        inbox,
        bot.store.clone(),
        Duration::from_secs(3600),
    );
    let base = serve(inbound).await;
    let press = block_action(
        "U0ALICE",
        &on_slack.message.id,
        "approve",
        &approve,
        "1700000100.000001",
    );
    let response = Callback::interaction(&press, Signing::Good(SIGNING_SECRET.into()))
        .post(&base)
        .await;
    assert_eq!(response.status(), 200);
    let event = events.recv().await.expect("the press is queued");
    let InboundKind::Decision { token, .. } = &event.kind else {
        panic!("expected a decision, got {event:?}");
    };
    let by = event.sender.describe();
    let granted = tokens.redeem(token, None, &by, Utc::now()).await.unwrap();
    assert!(granted.approves);

    // Bob's Reject from Telegram arrives second and changes nothing.
    let late = tokens
        .redeem(&reject, None, "bob (telegram 77)", Utc::now())
        .await;
    assert!(
        matches!(&late, Err(RedeemError::Refused(Refusal::AlreadyDecided { by: winner })) if *winner == by),
        "{late:?}"
    );

    let outcome = format!("Approved by {by} at {} UTC", Utc::now().format("%H:%M"));
    let copies = [on_slack.message.clone(), on_telegram.message.clone()];
    let failed = bot.router.close_everywhere(&copies, &outcome).await;
    assert!(failed.is_empty(), "{failed:?}");

    let update = doubles.slack.sent_to("chat.update");
    assert_eq!(update.len(), 1);
    let blocks = update[0].params["blocks"].to_string();
    assert!(
        blocks.contains("Approved by alice (slack U0ALICE)"),
        "{blocks}"
    );
    assert!(
        !blocks.contains("\"actions\""),
        "the buttons are gone: {blocks}"
    );
    let message_id: i64 = on_telegram.message.id.parse().unwrap();
    let shown = doubles
        .telegram
        .message(CHAT, message_id)
        .expect("the Telegram copy");
    assert!(
        shown.text.contains("Approved by alice (slack U0ALICE)"),
        "{}",
        shown.text
    );
    let keyboard = shown.reply_markup.map(|m| m["inline_keyboard"].clone());
    assert!(
        keyboard.is_none_or(|k| k.as_array().is_none_or(Vec::is_empty)),
        "the Telegram buttons are gone"
    );
    doubles.assert_valid();
}
