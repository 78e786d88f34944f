//! Meta's OpenAPI 3.1 spec of the Cloud API (`tests/specs/whatsapp-cloud-api.openapi.yaml`,
//! facebook/openapi `business-messaging-api_v23.0.yaml`) and a validator for the JSON Schema
//! subset it uses: `$ref`, `allOf`, `oneOf`/`anyOf` (with `discriminator`), `type`, `enum`,
//! `required`, `properties`, `additionalProperties`, `items`, `min/maxItems`,
//! `min/maxLength`.
//!
//! Two deliberate readings of the spec:
//! - `additionalProperties: false` inside an `allOf` branch allows the properties the other
//!   branches declare (the spec's `TextMessage` is `allOf: [BaseMessageProperties, {…,
//!   additionalProperties: false}]`, which read literally would forbid `to`);
//! - `pattern` is not checked: `TemplateComponent.index` has `^[2-6, 11-14]$`, which rejects
//!   the documented index "0". The index is checked as a documented limit instead.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use serde_json::Value;

/// The loaded spec.
pub struct Spec {
    doc: Value,
}

static SPEC: OnceLock<Spec> = OnceLock::new();

impl Spec {
    /// The spec, read once from `tests/specs/`.
    pub fn get() -> &'static Spec {
        SPEC.get_or_init(|| {
            let path = concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/specs/whatsapp-cloud-api.openapi.yaml"
            );
            let text = std::fs::read_to_string(path).expect("the WhatsApp spec is in tests/specs");
            let doc = serde_yaml::from_str(&text).expect("the WhatsApp spec is valid YAML");
            Spec { doc }
        })
    }

    /// The operation at `path` (as written in the spec, e.g. `/{Version}/{Phone-Number-ID}/messages`).
    pub fn operation(&self, path: &str, method: &str) -> Option<&Value> {
        self.doc.get("paths")?.get(path)?.get(method)
    }

    /// The JSON request-body schema of an operation.
    pub fn request_schema(&self, path: &str, method: &str) -> Option<&Value> {
        self.operation(path, method)?
            .pointer("/requestBody/content/application~1json/schema")
    }

    /// Every way `value` breaks `schema`, each as `<json path>: <problem>`.
    pub fn validate(&self, schema: &Value, value: &Value) -> Vec<String> {
        let mut out = Vec::new();
        let mut stack = Vec::new();
        self.check(schema, value, "$", &BTreeSet::new(), &mut stack, &mut out);
        out
    }

    fn resolve(&self, reference: &str) -> Option<&Value> {
        self.doc.pointer(reference.strip_prefix('#')?)
    }

    fn check(
        &self,
        schema: &Value,
        value: &Value,
        at: &str,
        siblings: &BTreeSet<String>,
        stack: &mut Vec<String>,
        out: &mut Vec<String>,
    ) {
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            let Some(target) = self.resolve(reference) else {
                out.push(format!("{at}: unresolvable $ref {reference}"));
                return;
            };
            stack.push(reference.to_owned());
            self.check(target, value, at, siblings, stack, out);
            stack.pop();
            return;
        }
        if let Some(branches) = schema.get("allOf").and_then(Value::as_array) {
            let mut names = siblings.clone();
            for branch in branches {
                self.property_names(branch, &mut names, 0);
            }
            for branch in branches {
                self.check(branch, value, at, &names, stack, out);
            }
        }
        self.check_discriminated(schema, value, at, siblings, stack, out);
        self.check_type(schema, value, at, out);
        self.check_enum(schema, value, at, out);
        match value {
            Value::String(text) => check_length(schema, text, at, out),
            Value::Array(items) => self.check_array(schema, items, at, stack, out),
            Value::Object(_) => self.check_object(schema, value, at, siblings, stack, out),
            _ => {}
        }
    }

    /// `oneOf`/`anyOf`, through the discriminator when there is one.
    fn check_discriminated(
        &self,
        schema: &Value,
        value: &Value,
        at: &str,
        siblings: &BTreeSet<String>,
        stack: &mut Vec<String>,
        out: &mut Vec<String>,
    ) {
        if let Some(target) = discriminated(schema, value)
            && !stack.iter().any(|s| s == target)
        {
            let reference = serde_json::json!({ "$ref": target });
            self.check(&reference, value, at, siblings, stack, out);
            return;
        }
        let (branches, exactly_one) = match (schema.get("oneOf"), schema.get("anyOf")) {
            (Some(Value::Array(b)), _) => (b, true),
            (_, Some(Value::Array(b))) => (b, false),
            _ => return,
        };
        if discriminated(schema, value).is_some() {
            return;
        }
        let results: Vec<Vec<String>> = branches
            .iter()
            .map(|branch| {
                let mut errors = Vec::new();
                self.check(branch, value, at, siblings, &mut stack.clone(), &mut errors);
                errors
            })
            .collect();
        let matching = results.iter().filter(|r| r.is_empty()).count();
        if matching == 0 {
            let closest = results
                .iter()
                .min_by_key(|r| r.len())
                .cloned()
                .unwrap_or_default();
            out.push(format!(
                "{at}: matches none of the {} alternatives",
                branches.len()
            ));
            out.extend(closest);
        } else if exactly_one && matching > 1 {
            out.push(format!(
                "{at}: matches {matching} oneOf alternatives, not exactly one"
            ));
        }
    }

    fn check_type(&self, schema: &Value, value: &Value, at: &str, out: &mut Vec<String>) {
        let types: Vec<&str> = match schema.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            _ => return,
        };
        if !types.iter().any(|t| type_matches(t, value)) {
            out.push(format!(
                "{at}: expected {}, found {}",
                types.join(" or "),
                kind(value)
            ));
        }
    }

    fn check_enum(&self, schema: &Value, value: &Value, at: &str, out: &mut Vec<String>) {
        if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
            && !allowed.contains(value)
        {
            out.push(format!(
                "{at}: {value} is not one of {}",
                Value::from(allowed.clone())
            ));
        }
    }

    fn check_array(
        &self,
        schema: &Value,
        items: &[Value],
        at: &str,
        stack: &mut Vec<String>,
        out: &mut Vec<String>,
    ) {
        let count = items.len() as u64;
        if let Some(min) = schema.get("minItems").and_then(Value::as_u64)
            && count < min
        {
            out.push(format!("{at}: {count} items, fewer than minItems {min}"));
        }
        if let Some(max) = schema.get("maxItems").and_then(Value::as_u64)
            && count > max
        {
            out.push(format!("{at}: {count} items, more than maxItems {max}"));
        }
        if let Some(item_schema) = schema.get("items") {
            for (index, item) in items.iter().enumerate() {
                let path = format!("{at}[{index}]");
                self.check(item_schema, item, &path, &BTreeSet::new(), stack, out);
            }
        }
    }

    fn check_object(
        &self,
        schema: &Value,
        value: &Value,
        at: &str,
        siblings: &BTreeSet<String>,
        stack: &mut Vec<String>,
        out: &mut Vec<String>,
    ) {
        let Some(object) = value.as_object() else {
            return;
        };
        for name in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(name) = name.as_str()
                && !object.contains_key(name)
            {
                out.push(format!("{at}: required property {name:?} is missing"));
            }
        }
        let properties = schema.get("properties").and_then(Value::as_object);
        for (name, property) in properties.into_iter().flatten() {
            if let Some(child) = object.get(name) {
                let path = format!("{at}.{name}");
                self.check(property, child, &path, &BTreeSet::new(), stack, out);
            }
        }
        let known = |name: &String| {
            properties.is_some_and(|p| p.contains_key(name)) || siblings.contains(name)
        };
        match schema.get("additionalProperties") {
            Some(Value::Bool(false)) => {
                for name in object.keys().filter(|name| !known(name)) {
                    out.push(format!("{at}: property {name:?} is not allowed here"));
                }
            }
            Some(extra @ Value::Object(_)) => {
                for (name, child) in object.iter().filter(|(name, _)| !known(name)) {
                    let path = format!("{at}.{name}");
                    self.check(extra, child, &path, &BTreeSet::new(), stack, out);
                }
            }
            _ => {}
        }
    }

    /// The property names a schema declares, through `$ref` and `allOf`.
    fn property_names(&self, schema: &Value, names: &mut BTreeSet<String>, depth: usize) {
        if depth > 16 {
            return;
        }
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str)
            && let Some(target) = self.resolve(reference)
        {
            self.property_names(target, names, depth + 1);
        }
        if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
            names.extend(properties.keys().cloned());
        }
        for branch in schema
            .get("allOf")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            self.property_names(branch, names, depth + 1);
        }
    }
}

/// The `$ref` a discriminator picks for `value`, if the schema has one and the value names it.
fn discriminated<'a>(schema: &'a Value, value: &Value) -> Option<&'a str> {
    let discriminator = schema.get("discriminator")?;
    let property = discriminator.get("propertyName")?.as_str()?;
    let name = value.get(property)?.as_str()?;
    discriminator.get("mapping")?.get(name)?.as_str()
}

fn check_length(schema: &Value, text: &str, at: &str, out: &mut Vec<String>) {
    let length = text.chars().count() as u64;
    if let Some(max) = schema.get("maxLength").and_then(Value::as_u64)
        && length > max
    {
        out.push(format!(
            "{at}: {length} characters, more than maxLength {max}"
        ));
    }
    if let Some(min) = schema.get("minLength").and_then(Value::as_u64)
        && length < min
    {
        out.push(format!(
            "{at}: {length} characters, fewer than minLength {min}"
        ));
    }
}

fn type_matches(expected: &str, value: &Value) -> bool {
    match expected {
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "object" => value.is_object(),
        "array" => value.is_array(),
        "null" => value.is_null(),
        _ => true,
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}
