//! Every failure mode of the double mapped to the right `DeliveryError`.

use std::time::Duration;

use robot_sre::channels::{Channel, DeliveryError};

use crate::double::Mode;
use crate::helpers::{ALICE, prompt, spawn_with};

async fn error_in(mode: Mode) -> DeliveryError {
    let bot = spawn_with(&[ALICE], 16, |s| s.timeout = Duration::from_millis(300)).await;
    bot.double.set_mode(mode.clone()).await;
    let result = bot.channel.send_prompt(&prompt()).await;
    result.expect_err(&format!("{mode:?} must fail"))
}

#[tokio::test]
async fn down_api_is_unreachable() {
    let error = error_in(Mode::Down).await;
    assert!(
        matches!(error, DeliveryError::Unreachable { .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn hanging_api_times_out_after_the_configured_timeout() {
    let error = error_in(Mode::Hang).await;
    assert!(
        matches!(error, DeliveryError::Timeout { after, .. } if after == Duration::from_millis(300)),
        "{error:?}"
    );
}

#[tokio::test]
async fn api_slower_than_the_timeout_times_out() {
    let error = error_in(Mode::Slow(Duration::from_secs(5))).await;
    assert!(matches!(error, DeliveryError::Timeout { .. }), "{error:?}");
}

#[tokio::test]
async fn api_slower_but_within_the_timeout_delivers() {
    let bot = spawn_with(&[ALICE], 16, |s| s.timeout = Duration::from_secs(2)).await;
    bot.double
        .set_mode(Mode::Slow(Duration::from_millis(50)))
        .await;
    bot.channel.send_prompt(&prompt()).await.unwrap();
    assert_eq!(bot.double.sent().len(), 1);
}

#[tokio::test]
async fn http_429_is_rate_limited_with_the_servers_retry_after() {
    let error = error_in(Mode::RateLimited(Duration::from_secs(7))).await;
    assert_eq!(
        error.retry_after(),
        Some(Duration::from_secs(7)),
        "{error:?}"
    );
}

#[tokio::test]
async fn pair_rate_limit_code_is_rate_limited() {
    let error = error_in(Mode::GraphError {
        status: 400,
        code: 131056,
    })
    .await;
    assert!(
        matches!(error, DeliveryError::RateLimited { .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn account_rate_limit_code_is_rate_limited() {
    let error = error_in(Mode::GraphError {
        status: 400,
        code: 80007,
    })
    .await;
    assert!(
        matches!(error, DeliveryError::RateLimited { .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn server_error_is_a_server_failure() {
    let error = error_in(Mode::ServerError).await;
    assert!(matches!(error, DeliveryError::Server { .. }), "{error:?}");
    assert!(error.is_transient());
}

#[tokio::test]
async fn invalid_token_is_refused_with_code_190() {
    let error = error_in(Mode::InvalidAuth).await;
    assert!(
        matches!(&error, DeliveryError::Refused { code, .. } if code == "graph_190"),
        "{error:?}"
    );
    assert!(!error.is_transient());
}

#[tokio::test]
async fn api_back_up_after_an_outage_delivers_again() {
    let bot = spawn_with(&[ALICE], 16, |s| s.timeout = Duration::from_millis(300)).await;
    bot.channel.send_prompt(&prompt()).await.unwrap();
    bot.double.set_mode(Mode::Down).await;
    let error = bot.channel.send_prompt(&prompt()).await.unwrap_err();
    assert!(
        matches!(error, DeliveryError::Unreachable { .. }),
        "{error:?}"
    );
    bot.double.set_mode(Mode::Normal).await;
    bot.channel.send_prompt(&prompt()).await.unwrap();
    assert_eq!(bot.double.sent().len(), 2);
}
