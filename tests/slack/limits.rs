//! Rendering within Slack's limits, whatever the length of the fields.

use robot_sre::channels::{Channel, Choice, DeliveryError};

use crate::helpers::{bot, prompt};
use crate::slack::{Double, HEADER_TEXT, MAX_BLOCKS, SECTION_TEXT};

#[tokio::test]
async fn a_very_long_prompt_fits_every_slack_limit() {
    let double = Double::start().await;
    let bot = bot(&double).await;
    let mut long = prompt();
    long.title = "T".repeat(400);
    long.evidence = "é<&>".repeat(5_000);
    long.why_now = "w".repeat(10_000);
    long.guardrails = (0..200).map(|i| format!("pass: guardrail {i}")).collect();
    long.choices[0].label = "A".repeat(200);

    let message = bot.channel.send_prompt(&long).await.unwrap();
    bot.channel
        .close_prompt(&message, &"o".repeat(5_000))
        .await
        .unwrap();

    double.assert_valid();
    let blocks = double.sent_to("chat.postMessage")[0].params["blocks"]
        .as_array()
        .unwrap()
        .clone();
    assert!(blocks.len() <= MAX_BLOCKS);
    assert_eq!(
        blocks[0]["text"]["text"].as_str().unwrap().chars().count(),
        HEADER_TEXT
    );
    let why = blocks
        .iter()
        .find(|b| {
            b["text"]["text"]
                .as_str()
                .is_some_and(|t| t.starts_with("*Why now*"))
        })
        .unwrap();
    let why = why["text"]["text"].as_str().unwrap();
    assert_eq!(why.chars().count(), SECTION_TEXT);
    assert!(
        why.ends_with(long.details_url.as_deref().unwrap()),
        "the full text is linked"
    );
}

#[tokio::test]
async fn a_long_reply_is_split_into_sections_within_the_limits() {
    let double = Double::start().await;
    let bot = bot(&double).await;
    let prompt_ref = bot.channel.send_prompt(&prompt()).await.unwrap();
    let status: String = (0..3_000).map(|i| format!("line {i}\n")).collect();

    bot.channel.reply(&prompt_ref, &status).await.unwrap();

    double.assert_valid();
    let blocks = double.sent_to("chat.postMessage")[1].params["blocks"]
        .as_array()
        .unwrap()
        .len();
    assert!(blocks > 1 && blocks <= MAX_BLOCKS, "{blocks}");
}

#[tokio::test]
async fn a_token_that_cannot_fit_a_button_is_refused_before_sending() {
    let double = Double::start().await;
    let bot = bot(&double).await;
    let mut bad = prompt();
    bad.choices.push(Choice {
        label: "Approve".into(),
        token: "t".repeat(2_001),
        approves: true,
    });

    let error = bot.channel.send_prompt(&bad).await.unwrap_err();

    assert!(matches!(error, DeliveryError::Invalid { .. }), "{error:?}");
    assert!(double.sent().is_empty());
}
