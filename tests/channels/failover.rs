//! Failover: a prompt lands on the next channel when the primary refuses connections, hangs or
//! rate-limits; a tripped channel is skipped; when every channel fails, the bot raises a
//! `chatops_delivery_failure` incident, counts it, and keeps trying until the prompt expires.

use std::time::Duration;

use robot_sre::channels::router::Attempt;
use robot_sre::channels::{ChannelKind, Delivered};
use robot_sre::incidents::IncidentType;
use robot_sre::incidents::model::Environment;

use crate::harness::{Doubles, any_prompt, bot, routing};
use crate::{slack, telegram, whatsapp};

const PROD: Environment = Environment::Production;

fn attempt(channel: ChannelKind, reason: &str) -> Attempt {
    Attempt {
        channel,
        reason: reason.into(),
    }
}

/// One prompt sent with Slack's double in `mode`; the doubles and where it landed.
async fn prompt_with_slack(mode: slack::Mode) -> (Doubles, Delivered) {
    let doubles = Doubles::start().await;
    doubles.slack.set_mode(mode).await;
    let delivered = bot(&doubles, routing())
        .router
        .send_prompt(&any_prompt(Duration::from_secs(300)), PROD, &[])
        .await
        .unwrap();
    (doubles, delivered)
}

fn prompts_on_slack(doubles: &Doubles) -> usize {
    doubles.slack.sent_to("chat.postMessage").len()
}

#[tokio::test]
async fn a_prompt_lands_on_telegram_when_slack_refuses_connections() {
    let doubles = Doubles::start().await;
    doubles.slack.set_mode(slack::Mode::Down).await;
    let bot = bot(&doubles, routing());

    let delivered = bot
        .router
        .send_prompt(&any_prompt(Duration::from_secs(300)), PROD, &[])
        .await
        .unwrap();

    assert_eq!(delivered.message.channel, ChannelKind::Telegram);
    assert_eq!(
        delivered.failed,
        [attempt(ChannelKind::Slack, "unreachable")]
    );
    assert_eq!(doubles.telegram.calls("sendMessage").len(), 1);
    doubles.assert_valid();
}

#[tokio::test]
async fn a_prompt_lands_on_telegram_when_slack_hangs() {
    let (doubles, delivered) = prompt_with_slack(slack::Mode::Hang).await;

    assert_eq!(delivered.message.channel, ChannelKind::Telegram);
    assert_eq!(delivered.failed, [attempt(ChannelKind::Slack, "timeout")]);
    doubles.assert_valid();
}

#[tokio::test]
async fn a_rate_limited_slack_is_skipped_without_a_call_until_its_retry_after() {
    let doubles = Doubles::start().await;
    doubles
        .slack
        .set_mode(slack::Mode::RateLimited(Duration::from_secs(30)))
        .await;
    let bot = bot(&doubles, routing());

    let first = bot
        .router
        .send_prompt(&any_prompt(Duration::from_secs(300)), PROD, &[])
        .await
        .unwrap();
    assert_eq!(first.message.channel, ChannelKind::Telegram);
    assert_eq!(first.failed, [attempt(ChannelKind::Slack, "rate_limited")]);
    let calls_to_slack = prompts_on_slack(&doubles);

    let second = bot
        .router
        .send_prompt(&any_prompt(Duration::from_secs(300)), PROD, &[])
        .await
        .unwrap();
    assert_eq!(second.message.channel, ChannelKind::Telegram);
    assert_eq!(second.failed, [attempt(ChannelKind::Slack, "breaker_open")]);
    assert_eq!(
        prompts_on_slack(&doubles),
        calls_to_slack,
        "Slack was not called again"
    );
    doubles.assert_valid();
}

#[tokio::test]
async fn a_prompt_falls_through_to_whatsapp_when_slack_and_telegram_are_down() {
    let doubles = Doubles::start().await;
    doubles.slack.set_mode(slack::Mode::Down).await;
    doubles.telegram.set_mode(telegram::Mode::InvalidAuth).await;
    let bot = bot(&doubles, routing());

    let delivered = bot
        .router
        .send_prompt(&any_prompt(Duration::from_secs(300)), PROD, &[])
        .await
        .unwrap();

    assert_eq!(delivered.message.channel, ChannelKind::WhatsApp);
    let failed: Vec<ChannelKind> = delivered.failed.iter().map(|a| a.channel).collect();
    assert_eq!(failed, [ChannelKind::Slack, ChannelKind::Telegram]);
    assert_eq!(doubles.whatsapp.sent().len(), 1);
    doubles.assert_valid();
}

#[tokio::test]
async fn every_channel_down_raises_one_chatops_incident_and_delivery_retries_until_expiry() {
    let doubles = Doubles::start().await;
    doubles.slack.set_mode(slack::Mode::InvalidAuth).await;
    doubles.telegram.set_mode(telegram::Mode::Down).await;
    doubles.whatsapp.set_mode(whatsapp::Mode::Down).await;
    let bot = bot(&doubles, routing());

    let result = bot
        .router
        .deliver_prompt(&any_prompt(Duration::from_millis(1500)), PROD)
        .await;

    let failure = result.expect_err("nothing can deliver");
    let reasons: Vec<&str> = failure.attempts.iter().map(|a| a.reason.as_str()).collect();
    assert_eq!(failure.attempts.len(), 3, "{reasons:?}");
    assert!(prompts_on_slack(&doubles) >= 2, "delivery was retried");
    assert_eq!(bot.failures.get(), 1, "one failure counted per prompt");
    let open = bot.incidents.repository().open_ids().await.unwrap();
    assert_eq!(open.len(), 1);
    let (incident, _) = bot
        .incidents
        .repository()
        .load(&open[0])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(incident.incident_type, IncidentType::ChatopsDeliveryFailure);
    assert!(
        incident.annotations["description"].contains("slack: invalid_auth"),
        "{:?}",
        incident.annotations
    );
}
