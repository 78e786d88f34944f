//! Sending, updating, replying and health against the double.

use robot_sre::channels::{Channel, ChannelKind, Health, MessageRef, Notice};
use serde_json::Value;

use crate::helpers::{bot, prompt};
use crate::slack::{CHANNEL, Double};

fn blocks(params: &Value) -> Vec<Value> {
    params["blocks"].as_array().cloned().unwrap_or_default()
}

fn of_type<'a>(blocks: &'a [Value], kind: &str) -> Vec<&'a Value> {
    blocks.iter().filter(|b| b["type"] == kind).collect()
}

#[tokio::test]
async fn send_prompt_posts_block_kit_with_approve_and_reject_buttons() {
    let double = Double::start().await;
    let bot = bot(&double).await;
    let prompt = prompt();

    let message = bot.channel.send_prompt(&prompt).await.unwrap();

    let sent = double.sent_to("chat.postMessage");
    assert_eq!(sent.len(), 1);
    let params = &sent[0].params;
    assert_eq!(message.channel, ChannelKind::Slack);
    assert_eq!(message.conversation, CHANNEL);
    assert_eq!(params["channel"], CHANNEL);
    assert!(params["text"].as_str().unwrap().starts_with(&prompt.title));
    let blocks = blocks(params);
    assert_eq!(blocks[0]["type"], "header");
    assert_eq!(blocks[0]["text"]["text"], prompt.title.as_str());
    let sections: Vec<String> = of_type(&blocks, "section")
        .iter()
        .map(|b| b["text"]["text"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(sections.len(), prompt.fields().len());
    assert!(
        sections[0].starts_with("*Action*\nrollback"),
        "{sections:?}"
    );
    assert!(
        sections
            .iter()
            .any(|s| s.contains("&lt;registry&gt;") && s.contains("&amp;"))
    );
    let actions = of_type(&blocks, "actions");
    assert_eq!(actions.len(), 1);
    let buttons = actions[0]["elements"].as_array().unwrap();
    assert_eq!(buttons[0]["action_id"], "approve");
    assert_eq!(buttons[0]["style"], "primary");
    assert_eq!(buttons[0]["value"], prompt.choices[0].token.as_str());
    assert_eq!(buttons[1]["action_id"], "reject");
    assert_eq!(buttons[1]["style"], "danger");
    assert_eq!(buttons[1]["value"], prompt.choices[1].token.as_str());
    double.assert_valid();
}

#[tokio::test]
async fn close_prompt_rewrites_the_fields_with_the_outcome_and_no_buttons() {
    let double = Double::start().await;
    let bot = bot(&double).await;
    let message = bot.channel.send_prompt(&prompt()).await.unwrap();

    bot.channel
        .close_prompt(&message, "Approved by alice on Slack at 14:02 UTC")
        .await
        .unwrap();

    let update = &double.sent_to("chat.update")[0].params;
    assert_eq!(update["channel"], CHANNEL);
    assert_eq!(update["ts"], message.id.as_str());
    let blocks = blocks(update);
    assert!(of_type(&blocks, "actions").is_empty(), "{blocks:?}");
    assert_eq!(blocks[0]["type"], "header");
    assert_eq!(
        blocks[1]["text"]["text"],
        "*Outcome:* Approved by alice on Slack at 14:02 UTC"
    );
    assert!(blocks.iter().any(|b| {
        b["text"]["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("*Target*"))
    }));
    double.assert_valid();
}

#[tokio::test]
async fn close_prompt_shows_the_outcome_alone_when_the_body_is_unknown() {
    let double = Double::start().await;
    let bot = bot(&double).await;
    let posted = bot.channel.send_prompt(&prompt()).await.unwrap();
    let other = crate::helpers::bot(&double).await; // another replica, another (memory) store

    other
        .channel
        .close_prompt(&posted, "Expired")
        .await
        .unwrap();

    let blocks = blocks(&double.sent_to("chat.update")[0].params);
    assert_eq!(blocks.len(), 1);
    assert_eq!(blocks[0]["text"]["text"], "*Outcome:* Expired");
    double.assert_valid();
}

#[tokio::test]
async fn replies_thread_under_the_prompt_even_when_replying_to_a_reply() {
    let double = Double::start().await;
    let bot = bot(&double).await;
    let prompt_ref = bot.channel.send_prompt(&prompt()).await.unwrap();

    let first = bot
        .channel
        .reply(&prompt_ref, "Executing rollback…")
        .await
        .unwrap();
    let second = bot
        .channel
        .reply(&first, "Verified: rollout complete")
        .await
        .unwrap();

    let replies = double.sent_to("chat.postMessage");
    assert_eq!(replies.len(), 3);
    assert_eq!(replies[1].params["thread_ts"], prompt_ref.id.as_str());
    assert_eq!(replies[2].params["thread_ts"], prompt_ref.id.as_str());
    assert_ne!(first.id, second.id);
    double.assert_valid();
}

#[tokio::test]
async fn a_reply_to_a_channel_without_a_message_is_a_top_level_post() {
    let double = Double::start().await;
    let bot = bot(&double).await;
    let channel_only = MessageRef {
        channel: ChannelKind::Slack,
        conversation: CHANNEL.into(),
        id: String::new(),
    };

    bot.channel
        .reply(&channel_only, "inc-1: open, awaiting approval")
        .await
        .unwrap();

    let sent = &double.sent_to("chat.postMessage")[0].params;
    assert!(sent.get("thread_ts").is_none(), "{sent}");
    double.assert_valid();
}

#[tokio::test]
async fn send_notice_posts_a_header_and_the_body() {
    let double = Double::start().await;
    let bot = bot(&double).await;
    let notice = Notice {
        incident: robot_sre::incidents::IncidentId::from_stored("inc-1"),
        severity: robot_sre::incidents::model::Severity::Warning,
        title: "Disk pressure on node-3".into(),
        body: "85% used on /var".into(),
        details_url: None,
    };

    bot.channel.send_notice(&notice).await.unwrap();

    let blocks = blocks(&double.sent_to("chat.postMessage")[0].params);
    assert_eq!(blocks[0]["text"]["text"], "Disk pressure on node-3");
    assert!(of_type(&blocks, "actions").is_empty());
    assert_eq!(blocks.last().unwrap()["text"]["text"], "85% used on /var");
    double.assert_valid();
}

#[tokio::test]
async fn health_calls_auth_test_and_is_up() {
    let double = Double::start().await;
    let bot = bot(&double).await;

    assert_eq!(bot.channel.health().await, Health::Up);

    let sent = double.sent_to("auth.test");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].verb, "GET");
    double.assert_valid();
}
