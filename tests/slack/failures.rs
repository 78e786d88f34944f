//! Every failure mode of the double maps to the right delivery error.

use std::time::Duration;

use robot_sre::channels::{Channel, DeliveryError, Health};

use crate::helpers::{TIMEOUT, bot, prompt};
use crate::slack::{Double, Mode};

async fn send_in(mode: Mode) -> DeliveryError {
    let double = Double::start().await;
    let bot = bot(&double).await;
    double.set_mode(mode).await;
    bot.channel.send_prompt(&prompt()).await.unwrap_err()
}

#[tokio::test]
async fn a_refused_connection_is_unreachable() {
    let error = send_in(Mode::Down).await;
    assert!(
        matches!(error, DeliveryError::Unreachable { .. }),
        "{error:?}"
    );
    assert!(error.is_transient());
}

#[tokio::test]
async fn a_hanging_api_is_a_timeout_after_the_configured_limit() {
    let error = send_in(Mode::Hang).await;
    assert!(
        matches!(error, DeliveryError::Timeout { after, .. } if after == TIMEOUT),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_429_is_rate_limited_with_slacks_retry_after() {
    let error = send_in(Mode::RateLimited(Duration::from_secs(7))).await;
    assert!(
        matches!(error, DeliveryError::RateLimited { .. }),
        "{error:?}"
    );
    assert_eq!(error.retry_after(), Some(Duration::from_secs(7)));
}

#[tokio::test]
async fn a_5xx_is_a_server_error() {
    let error = send_in(Mode::ServerError).await;
    assert!(
        matches!(error, DeliveryError::Server { ref reason, .. } if reason == "HTTP 500"),
        "{error:?}"
    );
}

#[tokio::test]
async fn invalid_auth_is_refused_with_its_code() {
    let error = send_in(Mode::InvalidAuth).await;
    assert!(
        matches!(error, DeliveryError::Refused { ref code, .. } if code == "invalid_auth"),
        "{error:?}"
    );
    assert!(!error.is_transient());
}

#[tokio::test]
async fn channel_not_found_is_refused_with_its_code() {
    let error = send_in(Mode::ApiError("channel_not_found".into())).await;
    assert!(
        matches!(error, DeliveryError::Refused { ref code, .. } if code == "channel_not_found"),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_slow_api_within_the_timeout_still_delivers() {
    let double = Double::start().await;
    let bot = bot(&double).await;
    double.set_mode(Mode::Slow(TIMEOUT / 4)).await;
    bot.channel.send_prompt(&prompt()).await.unwrap();
    double.assert_valid();
}

#[tokio::test]
async fn a_wrong_token_is_refused_as_invalid_auth() {
    let double = Double::start().await;
    let url = url::Url::parse(&double.url()).unwrap();
    let api = robot_sre::channels::slack::SlackApi::new(
        &url,
        &robot_sre::config::Secret::new("fake-wrong-slack-token"),
        TIMEOUT,
    )
    .unwrap();
    let error = api.auth_test().await.unwrap_err();
    assert!(
        matches!(error, DeliveryError::Refused { ref code, .. } if code == "invalid_auth"),
        "{error:?}"
    );
}

#[tokio::test]
async fn health_is_down_while_the_api_is_down_and_up_again_after() {
    let double = Double::start().await;
    let bot = bot(&double).await;
    assert_eq!(bot.channel.health().await, Health::Up);

    double.set_mode(Mode::Down).await;
    assert!(matches!(bot.channel.health().await, Health::Down { .. }));

    double.set_mode(Mode::Normal).await;
    assert_eq!(bot.channel.health().await, Health::Up);
}

#[tokio::test]
async fn errors_never_show_the_token() {
    for mode in [Mode::Down, Mode::InvalidAuth, Mode::ServerError] {
        let error = send_in(mode).await;
        let shown = format!("{error} {error:?}");
        assert!(!shown.contains(crate::slack::BOT_TOKEN), "{shown}");
    }
}
