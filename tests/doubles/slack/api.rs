//! The Web API side of the double: `/api/<method>`, validated, recorded, answered with the
//! documented response shapes, or failed as the current [`Mode`] says.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::{APP_TOKEN, BOT_BOT_ID, BOT_TOKEN, BOT_USER, Mode, Sent, Shared, TEAM};
use super::{blocks, form};

pub async fn handle(
    State(shared): State<Arc<Shared>>,
    Path(method): Path<String>,
    verb: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let token = bearer(&headers);
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let (params, mut violations) = params(&verb, content_type, query.as_deref(), &body);
    violations.extend(shared.spec.check(
        &method,
        verb.as_str(),
        content_type,
        &params,
        token.is_some(),
    ));
    if matches!(method.as_str(), "chat.postMessage" | "chat.update") {
        violations.extend(blocks::check(&method, &params));
    }
    shared.record(Sent {
        method: method.clone(),
        verb: verb.to_string(),
        params: Value::Object(params.clone()),
        violations: violations.clone(),
        at: std::time::Instant::now(),
    });
    let mode = shared.mode();
    if let Some(response) = failure(&mode).await {
        return response;
    }
    if !violations.is_empty() {
        return slack_error("invalid_arguments", Some(&violations));
    }
    let expected = if method == "apps.connections.open" {
        APP_TOKEN
    } else {
        BOT_TOKEN
    };
    match token.as_deref() {
        None => slack_error("not_authed", None),
        Some(t) if t != expected => slack_error("invalid_auth", None),
        Some(_) => answer(&shared, &method, &params),
    }
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    value
        .strip_prefix("Bearer ")
        .map(str::to_owned)
        .filter(|t| !t.is_empty())
}

/// The request's arguments: the query of a GET, the JSON or form body of a POST.
fn params(
    verb: &Method,
    content_type: Option<&str>,
    query: Option<&str>,
    body: &[u8],
) -> (Map<String, Value>, Vec<String>) {
    if verb == Method::GET {
        return (form::decode(query.unwrap_or("")), Vec::new());
    }
    let text = String::from_utf8_lossy(body);
    match content_type.map(|c| c.split(';').next().unwrap_or("").trim()) {
        Some("application/json") => match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(map)) => (map, Vec::new()),
            _ => (Map::new(), vec!["body is not a JSON object".to_owned()]),
        },
        Some("application/x-www-form-urlencoded") => (form::decode(&text), Vec::new()),
        None if body.is_empty() => (Map::new(), Vec::new()),
        other => (
            Map::new(),
            vec![format!("unsupported content type {other:?}")],
        ),
    }
}

/// The failure the mode calls for, after any delay; `None` to answer normally.
async fn failure(mode: &Mode) -> Option<Response> {
    match mode {
        Mode::Normal | Mode::Down => None,
        Mode::Slow(delay) => {
            tokio::time::sleep(*delay).await;
            None
        }
        Mode::Hang => std::future::pending().await,
        Mode::RateLimited(after) => Some(
            (
                StatusCode::TOO_MANY_REQUESTS,
                [(header::RETRY_AFTER, after.as_secs().to_string())],
                axum::Json(json!({"ok": false, "error": "ratelimited"})),
            )
                .into_response(),
        ),
        Mode::ServerError => Some(
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "<html><body>Internal Server Error</body></html>",
            )
                .into_response(),
        ),
        Mode::InvalidAuth => Some(slack_error("invalid_auth", None)),
        Mode::ApiError(code) => Some(slack_error(code, None)),
    }
}

/// HTTP 200 with `{ok:false, error}`, as Slack reports failures.
fn slack_error(code: &str, messages: Option<&[String]>) -> Response {
    let mut body = json!({"ok": false, "error": code});
    if let Some(messages) = messages {
        body["response_metadata"] = json!({ "messages": messages });
    }
    axum::Json(body).into_response()
}

fn answer(shared: &Shared, method: &str, params: &Map<String, Value>) -> Response {
    let body = match method {
        "chat.postMessage" => post_message(shared, params),
        "chat.update" => match update(shared, params) {
            Some(body) => body,
            None => return slack_error("message_not_found", None),
        },
        "auth.test" => json!({
            "ok": true, "url": "https://double.slack.com/", "team": "Double",
            "user": "robot-sre", "team_id": TEAM, "user_id": BOT_USER, "bot_id": BOT_BOT_ID,
            "is_enterprise_install": false
        }),
        "apps.connections.open" => json!({"ok": true, "url": shared.socket_url()}),
        _ => json!({"ok": true}),
    };
    axum::Json(body).into_response()
}

/// `{ok, channel, ts, message}` (the chat.postMessage success schema).
fn post_message(shared: &Shared, params: &Map<String, Value>) -> Value {
    let channel = params["channel"].as_str().unwrap_or_default().to_owned();
    let ts = format!(
        "1700000000.{:06}",
        shared.next_ts.fetch_add(1, Ordering::SeqCst)
    );
    shared
        .posted
        .lock()
        .unwrap()
        .insert((channel.clone(), ts.clone()));
    let mut message = json!({
        "type": "message", "user": BOT_USER, "bot_id": BOT_BOT_ID, "ts": ts,
        "text": params.get("text").cloned().unwrap_or(json!("")),
    });
    for key in ["blocks", "thread_ts"] {
        if let Some(value) = params.get(key) {
            message[key] = value.clone();
        }
    }
    json!({"ok": true, "channel": channel, "ts": ts, "message": message})
}

/// `{ok, channel, ts, text, message}` (the chat.update success schema), or `None` for a
/// message the double never posted.
fn update(shared: &Shared, params: &Map<String, Value>) -> Option<Value> {
    let channel = params["channel"].as_str()?.to_owned();
    let ts = params["ts"].as_str()?.to_owned();
    if !shared
        .posted
        .lock()
        .unwrap()
        .contains(&(channel.clone(), ts.clone()))
    {
        return None;
    }
    let text = params.get("text").cloned().unwrap_or(json!(""));
    let mut message = json!({"text": text, "user": BOT_USER, "bot_id": BOT_BOT_ID});
    if let Some(blocks) = params.get("blocks") {
        message["blocks"] = blocks.clone();
    }
    Some(json!({"ok": true, "channel": channel, "ts": ts, "text": text, "message": message}))
}
