//! Requests checked against Slack's published Web API spec (`tests/specs/slack-web-api.openapi.json`,
//! OpenAPI 2.0): the method exists with this HTTP verb, the token is sent, required
//! parameters are present, present parameters are in the spec and have the right type.
//!
//! slack-morphism sends JSON bodies (`application/json`, which the spec's `consumes` allows);
//! parameters the spec types as "A JSON-based array … presented as a URL-encoded string"
//! (`blocks`, `attachments`) arrive as JSON arrays there, and are accepted as such.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use serde_json::{Map, Value};

/// One parameter of an operation.
#[derive(Debug, Clone)]
pub struct Param {
    pub name: String,
    pub location: String,
    pub kind: String,
    pub required: bool,
    /// Documented as JSON carried in a string (`blocks`, `attachments`, …).
    pub json_in_string: bool,
}

/// One operation: `POST /chat.postMessage` and its parameters.
#[derive(Debug, Clone)]
pub struct Operation {
    pub verb: String,
    pub consumes: Vec<String>,
    pub params: Vec<Param>,
}

/// Every method of the spec, plus the few newer ones it lacks (see [`supplement`]).
#[derive(Debug)]
pub struct Spec {
    operations: HashMap<String, Vec<Operation>>,
}

/// The spec, parsed once per test process.
pub fn spec() -> Arc<Spec> {
    static SPEC: OnceLock<Arc<Spec>> = OnceLock::new();
    SPEC.get_or_init(|| Arc::new(Spec::load())).clone()
}

impl Spec {
    fn load() -> Self {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/specs/slack-web-api.openapi.json"
        );
        let text = std::fs::read_to_string(path).expect("the Slack Web API spec is readable");
        let doc: Value = serde_json::from_str(&text).expect("the Slack Web API spec is JSON");
        let mut operations: HashMap<String, Vec<Operation>> = HashMap::new();
        for (path, item) in doc["paths"].as_object().into_iter().flatten() {
            for (verb, op) in item.as_object().into_iter().flatten() {
                let method = path.trim_start_matches('/').to_owned();
                operations
                    .entry(method)
                    .or_default()
                    .push(operation(verb, op));
            }
        }
        for (method, op) in supplement() {
            operations
                .entry(method.to_owned())
                .or_insert_with(|| vec![op]);
        }
        Self { operations }
    }

    /// Violations of `verb /method` with `params` (`None` when the body was unreadable) and
    /// whether an `Authorization: Bearer …` header came with it.
    pub fn check(
        &self,
        method: &str,
        verb: &str,
        content_type: Option<&str>,
        params: &Map<String, Value>,
        authorized: bool,
    ) -> Vec<String> {
        let Some(candidates) = self.operations.get(method) else {
            return vec![format!("{method}: no such method in the spec")];
        };
        let Some(op) = candidates
            .iter()
            .find(|op| op.verb.eq_ignore_ascii_case(verb))
        else {
            return vec![format!("{method}: {verb} is not a documented verb")];
        };
        let mut problems = Vec::new();
        if let Some(content_type) = content_type {
            let mime = content_type.split(';').next().unwrap_or("").trim();
            if !op.consumes.iter().any(|c| c == mime) {
                problems.push(format!("{method}: content type {mime} is not consumed"));
            }
        }
        for param in &op.params {
            if param.location == "header" {
                if param.name == "token" && param.required && !authorized {
                    problems.push(format!("{method}: no bearer token"));
                }
                continue;
            }
            match params.get(&param.name) {
                None if param.required => {
                    problems.push(format!("{method}: required {} missing", param.name))
                }
                Some(value) if !type_fits(param, value) => problems.push(format!(
                    "{method}: {} should be {} but is {value}",
                    param.name, param.kind
                )),
                _ => {}
            }
        }
        for name in params.keys() {
            if name == "token" {
                problems.push(format!("{method}: token sent as a parameter"));
            } else if !op
                .params
                .iter()
                .any(|p| &p.name == name && p.location != "header")
            {
                problems.push(format!("{method}: {name} is not a documented parameter"));
            }
        }
        problems
    }
}

fn operation(verb: &str, op: &Value) -> Operation {
    let consumes = op["consumes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c.as_str().map(str::to_owned))
        .collect();
    let params = op["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| Param {
            name: p["name"].as_str().unwrap_or_default().to_owned(),
            location: p["in"].as_str().unwrap_or_default().to_owned(),
            kind: p["type"].as_str().unwrap_or("string").to_owned(),
            required: p["required"].as_bool().unwrap_or(false),
            json_in_string: p["description"]
                .as_str()
                .is_some_and(|d| d.contains("JSON-based") || d.contains("JSON-encoded")),
        })
        .collect();
    Operation {
        verb: verb.to_owned(),
        consumes,
        params,
    }
}

fn type_fits(param: &Param, value: &Value) -> bool {
    match (param.kind.as_str(), value) {
        ("string", Value::String(_)) => true,
        ("string", Value::Array(_) | Value::Object(_)) => param.json_in_string,
        ("boolean", Value::Bool(_)) => true,
        ("boolean", Value::String(s)) => matches!(s.as_str(), "true" | "false" | "1" | "0"),
        ("integer", Value::Number(n)) => n.is_i64() || n.is_u64(),
        ("integer", Value::String(s)) => s.parse::<i64>().is_ok(),
        ("number", Value::Number(_)) => true,
        ("number", Value::String(s)) => s.parse::<f64>().is_ok(),
        _ => false,
    }
}

/// Methods newer than the spec (last changed 2020-10). `apps.connections.open`: POST, the
/// app-level token in the Authorization header, no arguments
/// (https://docs.slack.dev/reference/methods/apps.connections.open).
fn supplement() -> Vec<(&'static str, Operation)> {
    let open = Operation {
        verb: "post".into(),
        consumes: vec![
            "application/x-www-form-urlencoded".into(),
            "application/json".into(),
        ],
        params: vec![Param {
            name: "token".into(),
            location: "header".into(),
            kind: "string".into(),
            required: true,
            json_in_string: false,
        }],
    };
    vec![("apps.connections.open", open)]
}
