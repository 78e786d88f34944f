//! Hard constraints on what rule and runbook documents may contain at all: no shell commands
//! and no secret values. Checked on the raw document, before it is read into types, so the
//! error names the offending field whatever the schema.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

/// Keys that would carry a command to run. Actions are named, never scripted.
const COMMAND_KEYS: [&str; 7] = [
    "command", "commands", "script", "shell", "exec", "args", "run",
];

/// Keys whose value would be a credential.
const SECRET_KEYS: [&str; 8] = [
    "password",
    "passwd",
    "token",
    "secret",
    "apikey",
    "api_key",
    "privatekey",
    "private_key",
];

/// Shapes of well-known credentials: Slack bot/user/app tokens, GitHub tokens, AWS access key
/// ids, PEM private keys, JWTs, Telegram bot tokens, Meta Graph API tokens.
static SECRET_VALUE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"xox[abposr]-[A-Za-z0-9-]{8,}|xapp-[A-Za-z0-9-]{8,}|gh[pousr]_[A-Za-z0-9]{20,}",
        r"|AKIA[0-9A-Z]{16}|-----BEGIN [A-Z ]*PRIVATE KEY-----",
        r"|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.|\b[0-9]{8,10}:[A-Za-z0-9_-]{35}\b",
        r"|\bEAA[A-Za-z0-9]{30,}"
    ))
    .unwrap_or_else(|error| unreachable!("the pattern is a literal: {error}"))
});

/// Every `(field path, reason)` where `document` holds a command or a secret value.
pub fn scan(document: &Value) -> Vec<(String, String)> {
    let mut found = Vec::new();
    walk(document, String::new(), &mut found);
    found
}

fn walk(value: &Value, path: String, found: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let at = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                let lower = key.to_ascii_lowercase();
                if COMMAND_KEYS.contains(&lower.as_str()) {
                    found.push((
                        at,
                        "shell commands are not allowed: actions are named, never scripted".into(),
                    ));
                } else if SECRET_KEYS.contains(&lower.as_str()) && !is_empty(child) {
                    found.push((at, "secret values are not allowed here: keep credentials in Kubernetes Secrets or the environment".into()));
                } else {
                    walk(child, at, found);
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, format!("{path}[{i}]"), found);
            }
        }
        Value::String(text) if SECRET_VALUE.is_match(text) => {
            found.push((
                path,
                "looks like a credential (token or key); secret values are not allowed here".into(),
            ));
        }
        _ => {}
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        _ => false,
    }
}

/// A value shaped like a Slack bot token, so the detector must catch it, yet obviously fake; it
/// is assembled at run time so no token-shaped literal sits in the source.
#[cfg(test)]
pub(crate) fn fake_slack_token() -> String {
    ["xoxb", "FAKE", "NOT", "A", "TOKEN"].join("-")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn scan_names_commands_and_secrets_by_path() {
        let found = scan(&json!({
            "spec": {
                "action": { "kind": "restart", "command": "kubectl delete ns x" },
                "owner": fake_slack_token(),
                "items": [{ "password": "hunter2" }],
                "note": "a perfectly normal sentence",
            }
        }));
        let fields: Vec<&str> = found.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            [
                "spec.action.command",
                "spec.items[0].password",
                "spec.owner"
            ]
        );
        assert!(found.iter().all(|(_, r)| !r.contains("hunter2")));
    }

    #[test]
    fn scan_accepts_plain_documents() {
        assert!(scan(&json!({ "id": "x", "route": "#payments-oncall", "token": "" })).is_empty());
    }
}
