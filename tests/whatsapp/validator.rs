//! The double's validator can fail: it catches requests that break the spec or the limits,
//! and accepts the spec's own examples.

use serde_json::{Value, json};

use crate::double::{ACCESS_TOKEN, Double, MESSAGES_PATH, PHONE_NUMBER_ID, Spec};

fn reply_buttons(count: usize, title: &str) -> Value {
    let buttons: Vec<Value> = (0..count)
        .map(|i| json!({ "type": "reply", "reply": { "id": format!("id-{i}"), "title": format!("{title}{i}") } }))
        .collect();
    json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "15550100",
        "type": "interactive",
        "interactive": { "type": "button", "body": { "text": "Approve?" }, "action": { "buttons": buttons } },
    })
}

#[test]
fn validator_accepts_a_well_formed_reply_button_message() {
    assert_eq!(
        Double::validate(&reply_buttons(3, "Choice ")),
        Vec::<String>::new()
    );
}

#[test]
fn validator_rejects_four_buttons_and_a_twenty_one_character_title() {
    let problems = Double::validate(&reply_buttons(4, "Choice ")).join("\n");
    assert!(problems.contains("maxItems 3"), "{problems}");
    let problems = Double::validate(&reply_buttons(1, &"x".repeat(20))).join("\n");
    assert!(problems.contains("maxLength 20"), "{problems}");
}

#[test]
fn validator_rejects_missing_fields_wrong_types_and_unknown_properties() {
    let bad = json!({
        "messaging_product": "whatsapp",
        "type": "text",
        "text": { "body": 42, "colour": "red" },
    });
    let problems = Double::validate(&bad).join("\n");
    for expected in [
        "\"to\" is missing",
        "\"recipient_type\" is missing",
        "$.text.body: expected string",
        "\"colour\" is not allowed",
    ] {
        assert!(problems.contains(expected), "{expected}: {problems}");
    }
}

#[test]
fn validator_rejects_template_parameters_with_new_lines() {
    let bad = json!({
        "messaging_product": "whatsapp", "recipient_type": "individual", "to": "15550100", "type": "template",
        "template": { "name": "robot_sre_alert", "language": { "policy": "deterministic", "code": "en_US" },
            "components": [{ "type": "body", "parameters": [{ "type": "text", "text": "a\nb" }] }] },
    });
    let problems = Double::validate(&bad).join("\n");
    assert!(problems.contains("new line"), "{problems}");
}

#[test]
fn validator_accepts_the_specs_own_reply_button_and_text_examples() {
    let spec = Spec::get();
    let operation = spec.operation(MESSAGES_PATH, "post").unwrap();
    let schema = spec.request_schema(MESSAGES_PATH, "post").unwrap();
    let examples = &operation["requestBody"]["content"]["application/json"]["examples"];
    for name in [
        "Send Reply Button",
        "Send Text Message",
        "Send Reply to Text Message",
    ] {
        let example = &examples[name]["value"];
        assert!(example.is_object(), "example {name} exists");
        assert_eq!(
            spec.validate(schema, example),
            Vec::<String>::new(),
            "{name}"
        );
    }
}

#[tokio::test]
async fn double_answers_a_bad_request_with_error_100_and_fails_assert_valid() {
    let double = Double::start().await;
    let response = reqwest::Client::new()
        .post(format!("{}/v23.0/{PHONE_NUMBER_ID}/messages", double.url()))
        .bearer_auth(ACCESS_TOKEN)
        .json(&reply_buttons(4, "Choice "))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], 100);
    assert!(!double.violations().is_empty());
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| double.assert_valid()));
    assert!(outcome.is_err(), "assert_valid must fail after a violation");
}

#[test]
fn validator_follows_refs_and_discriminators_into_template_components() {
    let bad = json!({
        "messaging_product": "whatsapp", "recipient_type": "individual", "to": "15550100", "type": "template",
        "template": { "name": "robot_sre_approval", "language": { "code": "en_US" },
            "components": [
                { "type": "body", "parameters": [{ "type": "text" }] },
                { "type": "button", "sub_type": "quick_reply", "index": "0", "parameters": [{ "type": "payload" }] },
                { "type": "button", "sub_type": "quick_reply", "parameters": [{ "type": "payload", "payload": "t" }] },
            ] },
    });
    let problems = Double::validate(&bad).join("\n");
    for expected in [
        "$.template.language: required property \"policy\"",
        "$.template.components[0].parameters[0]: required property \"text\"",
        "$.template.components[1].parameters[0]: required property \"payload\"",
        "$.template.components[2]: required property \"index\"",
    ] {
        assert!(problems.contains(expected), "{expected}:\n{problems}");
    }
}

#[test]
fn validator_rejects_an_unknown_message_type_and_an_interactive_without_body_text() {
    let unknown = json!({ "messaging_product": "whatsapp", "recipient_type": "individual", "to": "1555", "type": "hologram" });
    assert!(
        Double::validate(&unknown)
            .join("\n")
            .contains("matches none")
    );
    let mut no_body = reply_buttons(2, "B");
    no_body["interactive"]["body"] = json!({});
    let problems = Double::validate(&no_body).join("\n");
    assert!(
        problems.contains("$.interactive.body: required property \"text\""),
        "{problems}"
    );
}
