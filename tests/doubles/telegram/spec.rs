//! Bot API requests checked against `tests/specs/telegram-bot-api.json` (Bot API 10.1, the
//! PaulSonOfLars/telegram-bot-api-spec format: `methods` and `types` map a name to
//! `fields[{name, types[], required}]`, or to `subtypes[]` for a union), plus the limits the
//! field descriptions state in prose.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::Value;

use super::html;

#[derive(Debug, Deserialize)]
struct Field {
    name: String,
    types: Vec<String>,
    required: bool,
}

#[derive(Debug, Deserialize)]
struct Definition {
    #[serde(default)]
    fields: Vec<Field>,
    #[serde(default)]
    subtypes: Vec<String>,
}

/// The parsed spec.
#[derive(Debug, Deserialize)]
pub struct Spec {
    version: String,
    methods: HashMap<String, Definition>,
    types: HashMap<String, Definition>,
}

/// Button fields of which exactly one must be set (#inlinekeyboardbutton).
const BUTTON_KINDS: [&str; 10] = [
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
];

impl Spec {
    /// The spec, read once per test process.
    pub fn get() -> &'static Spec {
        static SPEC: OnceLock<Spec> = OnceLock::new();
        SPEC.get_or_init(|| {
            let path = concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/specs/telegram-bot-api.json"
            );
            let text = std::fs::read_to_string(path).expect("the Telegram spec is readable");
            serde_json::from_str(&text).expect("the Telegram spec parses")
        })
    }

    /// The spec's spelling of `method`: "All methods in the Bot API are case-insensitive"
    /// (https://core.telegram.org/bots/api#making-requests), and teloxide sends `SendMessage`.
    pub fn method_name(&self, method: &str) -> Option<&str> {
        self.methods
            .keys()
            .find(|name| name.eq_ignore_ascii_case(method))
            .map(String::as_str)
    }

    /// The types the spec allows for parameter `field` of `method`.
    pub fn field_types(&self, method: &str, field: &str) -> Option<&[String]> {
        let definition = self.methods.get(method)?;
        let field = definition.fields.iter().find(|f| f.name == field)?;
        Some(&field.types)
    }

    pub fn version(&self) -> &str {
        &self.version
    }

    /// Every problem with calling `method` with `params`; empty when the call is valid.
    pub fn check_call(&self, method: &str, params: &Value) -> Vec<String> {
        let Some(definition) = self.methods.get(method) else {
            return vec![format!("{method}: no such Bot API method")];
        };
        let mut problems = Vec::new();
        self.check_fields(method, &definition.fields, params, &mut problems);
        if problems.is_empty() {
            check_limits(method, params, &mut problems);
        }
        problems
    }

    /// Every problem with `value` as an instance of the spec type `name`.
    pub fn check_type(&self, name: &str, value: &Value) -> Vec<String> {
        let mut problems = Vec::new();
        self.check_value(name, name, value, &mut problems);
        problems
    }

    fn check_fields(&self, at: &str, fields: &[Field], value: &Value, out: &mut Vec<String>) {
        let Some(object) = value.as_object() else {
            return out.push(format!("{at}: expected an object, got {value}"));
        };
        for field in fields {
            if field.required && !object.contains_key(&field.name) {
                out.push(format!("{at}: required field {} is missing", field.name));
            }
        }
        for (key, item) in object {
            let path = format!("{at}.{key}");
            match fields.iter().find(|f| &f.name == key) {
                None => out.push(format!("{path}: unknown field")),
                Some(field) => self.check_any(&path, &field.types, item, out),
            }
        }
    }

    /// `value` must be one of `types`; the problems of the closest candidate are reported.
    fn check_any(&self, at: &str, types: &[String], value: &Value, out: &mut Vec<String>) {
        let mut best: Option<Vec<String>> = None;
        for ty in types {
            let mut problems = Vec::new();
            self.check_value(at, ty, value, &mut problems);
            if problems.is_empty() {
                return;
            }
            if best.as_ref().is_none_or(|b| problems.len() < b.len()) {
                best = Some(problems);
            }
        }
        match best {
            Some(problems) if types.len() == 1 => out.extend(problems),
            _ => out.push(format!("{at}: {value} is none of {types:?}")),
        }
    }

    fn check_value(&self, at: &str, ty: &str, value: &Value, out: &mut Vec<String>) {
        let ok = match ty {
            "Integer" => value.is_i64() || value.is_u64(),
            "Float" => value.is_number(),
            "String" | "InputFile" => value.is_string(),
            "Boolean" => value.is_boolean(),
            "True" => value == &Value::Bool(true),
            _ => return self.check_composite(at, ty, value, out),
        };
        if !ok {
            out.push(format!("{at}: expected {ty}, got {value}"));
        }
    }

    fn check_composite(&self, at: &str, ty: &str, value: &Value, out: &mut Vec<String>) {
        if let Some(element) = ty.strip_prefix("Array of ") {
            let Some(items) = value.as_array() else {
                return out.push(format!("{at}: expected {ty}, got {value}"));
            };
            for (i, item) in items.iter().enumerate() {
                self.check_value(&format!("{at}[{i}]"), element, item, out);
            }
            return;
        }
        let Some(definition) = self.types.get(ty) else {
            return out.push(format!("{at}: the spec has no type {ty}"));
        };
        if definition.subtypes.is_empty() {
            self.check_fields(at, &definition.fields, value, out);
        } else {
            self.check_any(at, &definition.subtypes, value, out);
        }
    }
}

/// Limits stated in the field descriptions (https://core.telegram.org/bots/api).
fn check_limits(method: &str, params: &Value, out: &mut Vec<String>) {
    if let Some(text) = params.get("text").and_then(Value::as_str) {
        match method {
            "sendMessage" | "editMessageText" => check_message_text(method, params, text, out),
            "answerCallbackQuery" if text.chars().count() > 200 => {
                out.push(format!("{method}.text: more than 200 characters"))
            }
            _ => {}
        }
    }
    if method == "editMessageText" && params.get("text").is_none() {
        out.push("editMessageText: text is missing".to_owned());
    }
    if method.starts_with("editMessage") {
        let by_chat = params.get("chat_id").is_some() && params.get("message_id").is_some();
        if by_chat == params.get("inline_message_id").is_some() {
            out.push(format!(
                "{method}: give chat_id and message_id, or inline_message_id"
            ));
        }
    }
    if let Some(rows) = params
        .pointer("/reply_markup/inline_keyboard")
        .and_then(Value::as_array)
    {
        check_keyboard(method, rows, out);
    }
    if let Some(commands) = params.get("commands").and_then(Value::as_array) {
        check_commands(commands, out);
    }
}

fn check_message_text(method: &str, params: &Value, text: &str, out: &mut Vec<String>) {
    let shown = match params.get("parse_mode").and_then(Value::as_str) {
        None => Ok(text.to_owned()),
        Some("HTML") => html::visible_text(text),
        Some(other) => Err(format!("parse mode {other} is not checked by this double")),
    };
    match shown {
        Err(problem) => out.push(format!("{method}.text: can't parse entities: {problem}")),
        Ok(shown) => {
            // Telegram counts UTF-16 code units (as its entity offsets do).
            let length = shown.encode_utf16().count();
            if !(1..=4096).contains(&length) || shown.trim().is_empty() {
                out.push(format!(
                    "{method}.text: {length} characters after entity parsing, not 1-4096"
                ));
            }
        }
    }
}

fn check_keyboard(method: &str, rows: &[Value], out: &mut Vec<String>) {
    for (r, row) in rows.iter().enumerate() {
        for (b, button) in row.as_array().into_iter().flatten().enumerate() {
            let at = format!("{method}.reply_markup.inline_keyboard[{r}][{b}]");
            let kinds = BUTTON_KINDS
                .iter()
                .filter(|k| button.get(**k).is_some())
                .count();
            if kinds != 1 {
                out.push(format!(
                    "{at}: exactly one button kind is required, found {kinds}"
                ));
            }
            let data = button.get("callback_data").and_then(Value::as_str);
            if let Some(data) = data.filter(|d| !(1..=64).contains(&d.len())) {
                out.push(format!(
                    "{at}.callback_data: {} bytes, not 1-64",
                    data.len()
                ));
            }
        }
    }
}

fn check_commands(commands: &[Value], out: &mut Vec<String>) {
    if commands.len() > 100 {
        out.push("setMyCommands.commands: more than 100".to_owned());
    }
    for command in commands {
        let name = command["command"].as_str().unwrap_or_default();
        let good = (1..=32).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !good {
            out.push(format!(
                "setMyCommands: command {name:?} is not 1-32 of a-z, 0-9, _"
            ));
        }
        let description = command["description"].as_str().unwrap_or_default();
        if !(1..=256).contains(&description.chars().count()) {
            out.push(format!(
                "setMyCommands: description of {name:?} is not 1-256 characters"
            ));
        }
    }
}
