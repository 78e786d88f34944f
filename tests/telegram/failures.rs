//! Every failure of the Bot API mapped onto the right `DeliveryError`, and `retry_after`
//! honoured.

use std::sync::Arc;
use std::time::Duration;

use robot_sre::channels::telegram::TelegramChannel;
use robot_sre::channels::{Channel, DeliveryError, Health, Notice};
use robot_sre::incidents::IncidentId;
use robot_sre::incidents::model::Severity;
use robot_sre::store::MemoryStore;

use crate::helpers::settings;
use crate::telegram::{Mode, TelegramDouble};

fn notice() -> Notice {
    Notice {
        incident: IncidentId::from_stored("inc-9"),
        severity: Severity::Critical,
        title: "Checkout 5xx rate 12%".into(),
        body: "since 14:02 UTC".into(),
        details_url: None,
    }
}

fn channel(double: &TelegramDouble, timeout: Duration) -> Arc<TelegramChannel> {
    let mut settings = settings(double);
    settings.timeout = timeout;
    Arc::new(TelegramChannel::new(&settings, Arc::new(MemoryStore::new())).unwrap())
}

async fn send_in(mode: Mode) -> DeliveryError {
    let double = TelegramDouble::start().await;
    let channel = channel(&double, Duration::from_millis(400));
    double.set_mode(mode).await;
    let error = channel.send_notice(&notice()).await.unwrap_err();
    double.assert_valid();
    error
}

#[tokio::test]
async fn a_down_api_is_unreachable() {
    let error = send_in(Mode::Down).await;
    assert!(
        matches!(error, DeliveryError::Unreachable { .. }),
        "{error}"
    );
    assert!(error.is_transient());
}

#[tokio::test]
async fn a_hanging_api_times_out_after_the_configured_timeout() {
    let error = send_in(Mode::Hang).await;
    let DeliveryError::Timeout { after, .. } = error else {
        panic!("{error}");
    };
    assert_eq!(after, Duration::from_millis(400));
}

#[tokio::test]
async fn a_slow_api_times_out_beyond_the_timeout_and_delivers_within_it() {
    let error = send_in(Mode::Slow(Duration::from_secs(3))).await;
    assert!(matches!(error, DeliveryError::Timeout { .. }), "{error}");
    let double = TelegramDouble::start().await;
    double.set_mode(Mode::Slow(Duration::from_millis(50))).await;
    let channel = channel(&double, Duration::from_secs(5));
    channel.send_notice(&notice()).await.unwrap();
}

#[tokio::test]
async fn refusals_carry_the_telegram_reason_as_their_code() {
    for (mode, code) in [
        (Mode::InvalidAuth, "unauthorized"),
        (Mode::BotBlocked, "bot_blocked"),
        (Mode::ChatNotFound, "chat_not_found"),
    ] {
        let error = send_in(mode).await;
        assert!(matches!(error, DeliveryError::Refused { .. }), "{error}");
        assert_eq!(error.code(), code, "{mode:?}");
        assert!(!error.is_transient());
    }
}

#[tokio::test]
async fn a_429_maps_to_rate_limited_with_the_servers_retry_after() {
    let error = send_in(Mode::RateLimited(17)).await;
    assert_eq!(
        error.retry_after(),
        Some(Duration::from_secs(17)),
        "{error}"
    );
}

#[tokio::test]
async fn no_call_reaches_telegram_before_retry_after_elapses() {
    let double = TelegramDouble::start().await;
    let channel = channel(&double, Duration::from_secs(2));
    double.set_mode(Mode::RateLimited(1)).await;
    channel.send_notice(&notice()).await.unwrap_err();
    double.set_mode(Mode::Normal).await;
    let early = channel.send_notice(&notice()).await.unwrap_err();
    let left = early.retry_after().expect("still rate limited");
    assert!(left <= Duration::from_secs(1), "{left:?}");
    assert_eq!(
        double.calls("sendMessage").len(),
        1,
        "the early send stayed local"
    );
    let delivered = std::sync::Mutex::new(false);
    let attempt = || async {
        let ok = channel.send_notice(&notice()).await.is_ok();
        *delivered.lock().unwrap() |= ok;
        ok.then_some(())
    };
    robot_sre::testkit::process::poll_until(
        Duration::from_secs(5),
        Duration::from_millis(50),
        attempt,
    )
    .await
    .expect("delivered once retry_after has passed");
    assert_eq!(
        double.calls("sendMessage").len(),
        2,
        "one 429, then one delivery"
    );
    double.assert_valid();
}

#[tokio::test]
async fn health_reports_the_refusal_when_the_token_is_revoked() {
    let double = TelegramDouble::start().await;
    let channel = channel(&double, Duration::from_secs(2));
    double.set_mode(Mode::InvalidAuth).await;
    let Health::Down { reason } = channel.health().await else {
        panic!("health is up with a revoked token");
    };
    assert!(reason.contains("unauthorized"), "{reason}");
    assert!(
        !reason.contains("double-token"),
        "the token never shows: {reason}"
    );
}

#[tokio::test]
async fn an_api_that_comes_back_delivers_again() {
    let double = TelegramDouble::start().await;
    let channel = channel(&double, Duration::from_secs(2));
    double.set_mode(Mode::Down).await;
    channel.send_notice(&notice()).await.unwrap_err();
    double.set_mode(Mode::Normal).await;
    channel.send_notice(&notice()).await.unwrap();
    double.assert_valid();
}

/// teloxide waits 10 s before reading any 5xx answer; under paused time that wait passes at
/// once, and the real 500 body maps to `Server`.
#[tokio::test(flavor = "current_thread")]
async fn a_500_maps_to_server_after_teloxides_wait() {
    let double = TelegramDouble::start().await;
    let channel = channel(&double, Duration::from_secs(60));
    double.set_mode(Mode::ServerError).await;
    let send = tokio::spawn(async move { channel.send_notice(&notice()).await });
    double.wait_for("sendMessage", 1).await;
    tokio::time::pause();
    let outcome = send.await.unwrap();
    tokio::time::resume();
    let error = outcome.unwrap_err();
    assert!(matches!(error, DeliveryError::Server { .. }), "{error}");
    assert!(error.is_transient());
}
