//! The double's checks can fail: requests that break the spec are caught and answered 400.

use serde_json::{Value, json};

use crate::helpers::CHAT;
use crate::telegram::{Spec, TOKEN, TelegramDouble};

async fn call(double: &TelegramDouble, method: &str, body: Value) -> u16 {
    let url = format!("{}bot{TOKEN}/{method}", double.url());
    reqwest::Client::new()
        .post(url)
        .json(&body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn the_double_rejects_requests_that_break_the_spec() {
    let double = TelegramDouble::start().await;
    let long_data = "x".repeat(65);
    let cases = [
        (
            "sendMessage",
            json!({"chat_id": CHAT}),
            "required field text",
        ),
        (
            "sendMessage",
            json!({"chat_id": CHAT, "text": "hi", "colour": "red"}),
            "colour: unknown",
        ),
        (
            "sendMessage",
            json!({"chat_id": true, "text": "hi"}),
            "chat_id: true is none of",
        ),
        (
            "sendMessage",
            json!({"chat_id": CHAT, "text": "x".repeat(4097)}),
            "4097 characters",
        ),
        (
            "sendMessage",
            json!({"chat_id": CHAT, "text": "a < b", "parse_mode": "HTML"}),
            "can't parse",
        ),
        (
            "sendMessage",
            json!({"chat_id": CHAT, "text": "hi", "reply_markup": {"inline_keyboard": [[{"text": "Go", "callback_data": long_data}]]}}),
            "65 bytes",
        ),
        (
            "sendMessage",
            json!({"chat_id": CHAT, "text": "hi", "reply_parameters": {"message_id": "seven"}}),
            "reply_parameters.message_id: expected Integer",
        ),
        (
            "sendMesage",
            json!({"chat_id": CHAT, "text": "hi"}),
            "no such Bot API method",
        ),
        (
            "setMyCommands",
            json!({"commands": [{"command": "Incident", "description": "x"}]}),
            "not 1-32",
        ),
    ];
    for (method, body, expected) in cases {
        let before = double.violations().len();
        let status = call(&double, method, body).await;
        let new = double.violations()[before..].join("\n");
        assert!(status == 400 || status == 404, "{method}: {status}");
        assert!(
            new.contains(expected),
            "{method}: wanted {expected:?} in {new:?}"
        );
    }
    let panicked = std::panic::catch_unwind(|| double.assert_valid());
    assert!(panicked.is_err(), "assert_valid must fail after violations");
}

#[tokio::test]
async fn the_double_accepts_a_valid_request_with_nested_markup() {
    let double = TelegramDouble::start().await;
    let body = json!({
        "chat_id": CHAT,
        "text": "<b>Approve</b> rollback &amp; verify",
        "parse_mode": "HTML",
        "reply_markup": {"inline_keyboard": [[{"text": "Approve", "callback_data": "a:tok"}]]},
    });
    assert_eq!(call(&double, "sendMessage", body).await, 200);
    double.assert_valid();
}

#[test]
fn the_spec_is_the_bot_api_copy_in_tests_specs() {
    let spec = Spec::get();
    assert_eq!(spec.version(), "Bot API 10.1");
    assert!(spec.check_type("BotCommand", &json!({"command": "x"}))[0].contains("description"));
}
