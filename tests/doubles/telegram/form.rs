//! `multipart/form-data` bodies, which teloxide sends for methods that may upload a file
//! (`setWebhook` with its optional certificate). The Bot API takes the same parameters either
//! way; complex ones are JSON-serialized strings inside the form
//! (https://core.telegram.org/bots/api#making-requests).

use serde_json::{Map, Value};

use super::spec::Spec;

/// The parameters of a form body, typed by the spec: fields that may only be strings stay
/// strings, the others are read as JSON where they parse.
pub fn parse(method: &str, content_type: &str, body: &[u8]) -> Result<Value, String> {
    let boundary = content_type
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))
        .ok_or("multipart without a boundary")?
        .trim_matches('"');
    let text = std::str::from_utf8(body).map_err(|_| "a form with binary parts")?;
    let mut params = Map::new();
    for part in text.split(&format!("--{boundary}")).skip(1) {
        if part.starts_with("--") {
            break;
        }
        let (head, value) = part
            .split_once("\r\n\r\n")
            .ok_or("a form part without headers")?;
        let name = head
            .split("name=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .ok_or("a form part without a name")?;
        let value = value.strip_suffix("\r\n").unwrap_or(value);
        params.insert(name.to_owned(), typed(method, name, value));
    }
    Ok(Value::Object(params))
}

fn typed(method: &str, name: &str, value: &str) -> Value {
    let only_string = Spec::get()
        .field_types(method, name)
        .is_some_and(|types| types.iter().all(|t| t == "String"));
    if only_string {
        return Value::String(value.to_owned());
    }
    serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_owned()))
}
