//! Limits the Cloud API documents in prose rather than in the schema:
//! - reply buttons: titles non-empty and unique, ids unique without leading or trailing
//!   spaces (spec `ActionObject` descriptions; https://developers.facebook.com/documentation/business-messaging/whatsapp/messages/interactive-reply-buttons-messages);
//! - a reply-button message carries `action.buttons`, and a text header carries its text;
//! - text bodies: 1 to 4096 characters (spec `TextMessage_1`);
//! - template text parameters: non-empty, no new lines or tabs, at most four consecutive
//!   spaces (Meta error 132018); button `index` 0–9 (`TemplateComponent.index` description);
//! - `messaging_product` is "whatsapp" and `to` is a phone number.

use std::collections::HashSet;

use serde_json::Value;

/// Every documented limit `body` (a send-message request) breaks.
pub fn check(body: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if body.get("messaging_product") != Some(&Value::from("whatsapp")) {
        out.push("$.messaging_product: must be \"whatsapp\"".into());
    }
    let to = body.get("to").and_then(Value::as_str).unwrap_or("");
    let digits = to.strip_prefix('+').unwrap_or(to);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        out.push(format!("$.to: {to:?} is not a phone number"));
    }
    match body.get("type").and_then(Value::as_str) {
        Some("text") => text(body, &mut out),
        Some("interactive") => interactive(body, &mut out),
        Some("template") => template(body, &mut out),
        _ => {}
    }
    out
}

fn text(body: &Value, out: &mut Vec<String>) {
    let text = body
        .pointer("/text/body")
        .and_then(Value::as_str)
        .unwrap_or("");
    let length = text.chars().count();
    if !(1..=4096).contains(&length) {
        out.push(format!("$.text.body: {length} characters, not 1 to 4096"));
    }
}

fn interactive(body: &Value, out: &mut Vec<String>) {
    let Some(interactive) = body.get("interactive") else {
        return;
    };
    if let Some(header) = interactive.get("header") {
        let is_text = header.get("type") == Some(&Value::from("text"));
        let has_text = header
            .get("text")
            .and_then(Value::as_str)
            .is_some_and(|t| !t.is_empty());
        if is_text && !has_text {
            out.push("$.interactive.header: a text header needs its text".into());
        }
    }
    if interactive.get("type") != Some(&Value::from("button")) {
        return;
    }
    let Some(buttons) = interactive
        .pointer("/action/buttons")
        .and_then(Value::as_array)
    else {
        out.push("$.interactive.action.buttons: a button message needs buttons".into());
        return;
    };
    let mut titles = HashSet::new();
    let mut ids = HashSet::new();
    for (index, button) in buttons.iter().enumerate() {
        let at = format!("$.interactive.action.buttons[{index}].reply");
        let title = button
            .pointer("/reply/title")
            .and_then(Value::as_str)
            .unwrap_or("");
        let id = button
            .pointer("/reply/id")
            .and_then(Value::as_str)
            .unwrap_or("");
        if title.trim().is_empty() || !titles.insert(title.to_owned()) {
            out.push(format!("{at}.title: {title:?} is empty or not unique"));
        }
        if id.is_empty() || id.trim() != id || !ids.insert(id.to_owned()) {
            out.push(format!("{at}.id: {id:?} is empty, padded or not unique"));
        }
    }
}

fn template(body: &Value, out: &mut Vec<String>) {
    let components = body
        .pointer("/template/components")
        .and_then(Value::as_array);
    for (c, component) in components.into_iter().flatten().enumerate() {
        let at = format!("$.template.components[{c}]");
        if component.get("type") == Some(&Value::from("button")) {
            let index = component.get("index").and_then(Value::as_str).unwrap_or("");
            if !(index.len() == 1 && index.as_bytes()[0].is_ascii_digit()) {
                out.push(format!("{at}.index: {index:?} is not 0 to 9"));
            }
        }
        let parameters = component.get("parameters").and_then(Value::as_array);
        for (p, parameter) in parameters.into_iter().flatten().enumerate() {
            if let Some(text) = parameter.get("text").and_then(Value::as_str) {
                parameter_text(text, &format!("{at}.parameters[{p}].text"), out);
            }
        }
    }
}

fn parameter_text(text: &str, at: &str, out: &mut Vec<String>) {
    if text.trim().is_empty() {
        out.push(format!("{at}: empty"));
    }
    if text.contains(['\n', '\t']) {
        out.push(format!("{at}: contains a new line or tab (error 132018)"));
    }
    if text.contains("     ") {
        out.push(format!(
            "{at}: more than 4 consecutive spaces (error 132018)"
        ));
    }
}
