//! Slack's documented message limits, checked on every `chat.postMessage` / `chat.update`
//! (https://docs.slack.dev/reference/block-kit/blocks and the pages of each block and element;
//! https://docs.slack.dev/reference/methods/chat.postMessage for `text`).

use std::collections::HashSet;

use serde_json::Value;

pub const MAX_BLOCKS: usize = 50;
pub const HEADER_TEXT: usize = 150;
pub const SECTION_TEXT: usize = 3000;
pub const SECTION_FIELDS: usize = 10;
pub const SECTION_FIELD_TEXT: usize = 2000;
pub const CONTEXT_ELEMENTS: usize = 10;
pub const ACTIONS_ELEMENTS: usize = 25;
pub const BUTTON_TEXT: usize = 75;
pub const BUTTON_VALUE: usize = 2000;
pub const ID: usize = 255;
pub const MESSAGE_TEXT: usize = 40_000;

/// Limit violations of a message's `text` and `blocks` (`blocks` may be a JSON string).
pub fn check(method: &str, params: &serde_json::Map<String, Value>) -> Vec<String> {
    let mut problems = Vec::new();
    let blocks = match params.get("blocks") {
        Some(Value::String(s)) => serde_json::from_str(s).unwrap_or(Value::Null),
        Some(other) => other.clone(),
        None => Value::Null,
    };
    let text = params.get("text").and_then(Value::as_str);
    if method == "chat.postMessage" && text.is_none_or(str::is_empty) && blocks.is_null() {
        problems.push("neither text nor blocks (no_text)".to_owned());
    }
    if let Some(text) = text {
        too_long(&mut problems, "text", text, MESSAGE_TEXT);
    }
    match &blocks {
        Value::Null => {}
        Value::Array(list) => check_blocks(&mut problems, list),
        _ => problems.push("blocks is not an array".to_owned()),
    }
    problems
        .into_iter()
        .map(|p| format!("{method}: {p}"))
        .collect()
}

fn check_blocks(problems: &mut Vec<String>, blocks: &[Value]) {
    if blocks.len() > MAX_BLOCKS {
        problems.push(format!("{} blocks (max {MAX_BLOCKS})", blocks.len()));
    }
    let mut action_ids = HashSet::new();
    for (i, block) in blocks.iter().enumerate() {
        let at = format!("blocks[{i}]");
        if let Some(id) = block["block_id"].as_str() {
            too_long(problems, &format!("{at}.block_id"), id, ID);
        }
        match block["type"].as_str() {
            Some("header") => text_object(problems, &at, &block["text"], HEADER_TEXT, true),
            Some("section") => section(problems, &at, block),
            Some("context") => context(problems, &at, block),
            Some("actions") => actions(problems, &at, block, &mut action_ids),
            Some("divider") => {}
            other => problems.push(format!("{at}: unexpected block type {other:?}")),
        }
    }
}

fn section(problems: &mut Vec<String>, at: &str, block: &Value) {
    let fields = block["fields"].as_array();
    if block["text"].is_null() && fields.is_none() {
        problems.push(format!("{at}: a section needs text or fields"));
    }
    if !block["text"].is_null() {
        text_object(problems, at, &block["text"], SECTION_TEXT, false);
    }
    if let Some(fields) = fields {
        if fields.len() > SECTION_FIELDS {
            problems.push(format!(
                "{at}: {} fields (max {SECTION_FIELDS})",
                fields.len()
            ));
        }
        for field in fields {
            text_object(problems, at, field, SECTION_FIELD_TEXT, false);
        }
    }
}

fn context(problems: &mut Vec<String>, at: &str, block: &Value) {
    let elements = block["elements"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    if elements.is_empty() || elements.len() > CONTEXT_ELEMENTS {
        problems.push(format!(
            "{at}: {} context elements (1..={CONTEXT_ELEMENTS})",
            elements.len()
        ));
    }
    for element in elements {
        if element["type"] != "image" {
            text_object(problems, at, element, SECTION_TEXT, false);
        }
    }
}

fn actions(problems: &mut Vec<String>, at: &str, block: &Value, ids: &mut HashSet<String>) {
    let elements = block["elements"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    if elements.is_empty() || elements.len() > ACTIONS_ELEMENTS {
        problems.push(format!(
            "{at}: {} action elements (1..={ACTIONS_ELEMENTS})",
            elements.len()
        ));
    }
    for element in elements {
        if element["type"] != "button" {
            continue;
        }
        text_object(problems, at, &element["text"], BUTTON_TEXT, true);
        if let Some(value) = element["value"].as_str() {
            too_long(problems, &format!("{at}.value"), value, BUTTON_VALUE);
        }
        if let Some(style) = element["style"].as_str()
            && style != "primary"
            && style != "danger"
        {
            problems.push(format!("{at}: button style {style:?}"));
        }
        if let Some(id) = element["action_id"].as_str() {
            too_long(problems, &format!("{at}.action_id"), id, ID);
            if !ids.insert(id.to_owned()) {
                problems.push(format!("{at}: duplicate action_id {id:?}"));
            }
        }
    }
}

fn text_object(problems: &mut Vec<String>, at: &str, text: &Value, max: usize, plain: bool) {
    let kind = text["type"].as_str();
    if plain && kind != Some("plain_text") || !matches!(kind, Some("plain_text" | "mrkdwn")) {
        problems.push(format!("{at}: text object of type {kind:?}"));
    }
    match text["text"].as_str() {
        Some("") => problems.push(format!("{at}: empty text")),
        Some(s) => too_long(problems, &format!("{at}.text"), s, max),
        None => problems.push(format!("{at}: text object without text")),
    }
}

fn too_long(problems: &mut Vec<String>, at: &str, text: &str, max: usize) {
    let count = text.chars().count();
    if count > max {
        problems.push(format!("{at}: {count} characters (max {max})"));
    }
}
