//! The double's own checks can fail: requests that break the spec or a limit are flagged.

use serde_json::json;

use crate::slack::{BOT_TOKEN, CHANNEL, Double};

async fn post(double: &Double, method: &str, body: serde_json::Value) -> serde_json::Value {
    reqwest::Client::new()
        .post(format!("{}/{method}", double.url()))
        .bearer_auth(BOT_TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn assert_valid_panics(double: &Double) {
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| double.assert_valid()));
    assert!(outcome.is_err(), "assert_valid passed a bad request");
}

#[tokio::test]
async fn the_double_flags_a_missing_channel_and_an_over_long_button() {
    let double = Double::start().await;
    let button = json!({"type": "button", "action_id": "approve", "value": "t",
        "text": {"type": "plain_text", "text": "x".repeat(76)}});
    let body = json!({"text": "hi", "blocks": [{"type": "actions", "elements": [button]}]});

    let answer = post(&double, "chat.postMessage", body).await;

    assert_eq!(answer["ok"], false);
    assert_eq!(answer["error"], "invalid_arguments");
    let violations = double.violations();
    assert!(
        violations
            .iter()
            .any(|v| v.contains("required channel missing")),
        "{violations:?}"
    );
    assert!(
        violations
            .iter()
            .any(|v| v.contains("76 characters (max 75)")),
        "{violations:?}"
    );
    assert_valid_panics(&double);
}

#[tokio::test]
async fn the_double_flags_an_undocumented_argument_and_a_wrong_type() {
    let double = Double::start().await;
    let body =
        json!({"channel": CHANNEL, "text": "hi", "reply_broadcast": "sometimes", "colour": "red"});

    post(&double, "chat.postMessage", body).await;

    let violations = double.violations();
    assert!(
        violations
            .iter()
            .any(|v| v.contains("reply_broadcast should be boolean")),
        "{violations:?}"
    );
    assert!(
        violations
            .iter()
            .any(|v| v.contains("colour is not a documented parameter")),
        "{violations:?}"
    );
    assert_valid_panics(&double);
}

#[tokio::test]
async fn the_double_flags_an_unknown_method_and_a_missing_token() {
    let double = Double::start().await;
    post(&double, "chat.postMassage", json!({"channel": CHANNEL})).await;
    reqwest::Client::new()
        .post(format!("{}/chat.update", double.url()))
        .json(&json!({"channel": CHANNEL, "ts": "1.1", "text": "x"}))
        .send()
        .await
        .unwrap();

    let violations = double.violations();
    assert!(
        violations
            .iter()
            .any(|v| v.contains("chat.postMassage: no such method")),
        "{violations:?}"
    );
    assert!(
        violations
            .iter()
            .any(|v| v.contains("chat.update: no bearer token")),
        "{violations:?}"
    );
}

#[tokio::test]
async fn the_double_accepts_a_valid_request() {
    let double = Double::start().await;
    let answer = post(
        &double,
        "chat.postMessage",
        json!({"channel": CHANNEL, "text": "hello"}),
    )
    .await;
    assert_eq!(answer["ok"], true, "{answer}");
    assert_eq!(answer["channel"], CHANNEL);
    assert!(answer["ts"].is_string() && answer["message"].is_object());
    double.assert_valid();
}
