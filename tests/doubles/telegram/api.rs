//! The Bot API endpoints: record, validate, apply the failure mode, answer like Telegram.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State as AxumState};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

use super::spec::Spec;
use super::{BOT_ID, BOT_USERNAME, Call, Mode, State, StoredMessage, TOKEN, form, html};

type Answer = Result<Value, Failure>;

/// An `ok:false` answer: HTTP status = `error_code`, as Telegram sends it.
pub struct Failure {
    code: u16,
    description: String,
    retry_after: Option<u32>,
}

fn fail(code: u16, description: &str) -> Failure {
    Failure {
        code,
        description: description.to_owned(),
        retry_after: None,
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let mut body =
            json!({"ok": false, "error_code": self.code, "description": self.description});
        if let Some(seconds) = self.retry_after {
            body["parameters"] = json!({ "retry_after": seconds });
        }
        let status = StatusCode::from_u16(self.code).unwrap_or(StatusCode::BAD_REQUEST);
        (status, axum::Json(body)).into_response()
    }
}

pub(super) fn router(state: Arc<State>) -> Router {
    Router::new()
        .route("/{bot}/{method}", post(endpoint))
        .with_state(state)
}

async fn endpoint(
    AxumState(state): AxumState<Arc<State>>,
    Path((bot, method)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let method = Spec::get()
        .method_name(&method)
        .map_or(method, str::to_owned);
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let parsed = if content_type.starts_with("multipart/form-data") {
        form::parse(&method, content_type, &body)
    } else {
        parse(&body)
    };
    let params = match parsed {
        Ok(params) => params,
        Err(problem) => {
            state
                .violations
                .lock()
                .unwrap()
                .push(format!("{method}: {problem}"));
            return fail(400, "Bad Request: unreadable parameters").into_response();
        }
    };
    state.calls.lock().unwrap().push(Call {
        method: method.clone(),
        params: params.clone(),
    });
    let problems = Spec::get().check_call(&method, &params);
    state
        .violations
        .lock()
        .unwrap()
        .extend(problems.iter().cloned());
    if let Some(failure) = failure_mode(&state).await {
        return failure.into_response();
    }
    if bot != format!("bot{TOKEN}") {
        return fail(401, "Unauthorized").into_response();
    }
    if let Some(problem) = problems.first() {
        return fail(400, &format!("Bad Request: {problem}")).into_response();
    }
    match answer(&state, &method, &params).await {
        Ok(result) => axum::Json(json!({"ok": true, "result": result})).into_response(),
        Err(failure) => failure.into_response(),
    }
}

fn parse(body: &[u8]) -> Result<Value, String> {
    if body.is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_slice(body).map_err(|e| format!("the body is not JSON: {e}"))
}

async fn failure_mode(state: &State) -> Option<Failure> {
    let mode = (*state.mode.lock().unwrap()).unwrap_or(Mode::Normal);
    match mode {
        Mode::Normal | Mode::Down => None,
        Mode::Hang => std::future::pending().await,
        Mode::Slow(delay) => {
            tokio::time::sleep(delay).await;
            None
        }
        Mode::RateLimited(seconds) => Some(Failure {
            retry_after: Some(seconds),
            ..fail(429, &format!("Too Many Requests: retry after {seconds}"))
        }),
        Mode::ServerError => Some(fail(500, "Internal Server Error")),
        Mode::InvalidAuth => Some(fail(401, "Unauthorized")),
        Mode::BotBlocked => Some(fail(403, "Forbidden: bot was blocked by the user")),
        Mode::ChatNotFound => Some(fail(400, "Bad Request: chat not found")),
    }
}

async fn answer(state: &State, method: &str, params: &Value) -> Answer {
    match method {
        "getMe" => Ok(me()),
        "sendMessage" => send_message(state, params),
        "editMessageText" => edit(state, params, true),
        "editMessageReplyMarkup" => edit(state, params, false),
        "getUpdates" => Ok(get_updates(state, params).await),
        _ => Ok(json!(true)),
    }
}

pub(super) fn bot_user() -> Value {
    json!({"id": BOT_ID, "is_bot": true, "first_name": "Robot SRE", "username": BOT_USERNAME})
}

fn me() -> Value {
    let mut me = bot_user();
    for flag in [
        "can_join_groups",
        "can_read_all_group_messages",
        "supports_inline_queries",
        "can_connect_to_business",
        "has_main_web_app",
    ] {
        me[flag] = json!(flag == "can_join_groups");
    }
    me
}

/// A group for negative ids, a private chat otherwise.
pub(super) fn chat(id: i64) -> Value {
    if id < 0 {
        json!({"id": id, "type": "supergroup", "title": format!("on-call {id}")})
    } else {
        json!({"id": id, "type": "private", "first_name": format!("user {id}")})
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

pub(super) fn message_json(chat_id: i64, id: i64, message: &StoredMessage) -> Value {
    let shown = match message.parse_mode.as_deref() {
        Some("HTML") => html::visible_text(&message.text).unwrap_or_default(),
        _ => message.text.clone(),
    };
    let mut json = json!({
        "message_id": id, "from": bot_user(), "chat": chat(chat_id), "date": now(), "text": shown,
    });
    if let Some(markup) = &message.reply_markup {
        json["reply_markup"] = markup.clone();
    }
    json
}

fn send_message(state: &State, params: &Value) -> Answer {
    let chat_id = params["chat_id"]
        .as_i64()
        .ok_or_else(|| fail(400, "Bad Request: chat not found"))?;
    if let Some(reply_to) = params.pointer("/reply_parameters/message_id") {
        let known = state
            .messages
            .lock()
            .unwrap()
            .contains_key(&(chat_id, reply_to.as_i64().unwrap_or(0)));
        let lenient =
            params.pointer("/reply_parameters/allow_sending_without_reply") == Some(&json!(true));
        if !known && !lenient {
            return Err(fail(400, "Bad Request: message to be replied not found"));
        }
    }
    let id = state.next_message_id.fetch_add(1, Ordering::SeqCst);
    let message = stored(params, None);
    let json = message_json(chat_id, id, &message);
    state
        .messages
        .lock()
        .unwrap()
        .insert((chat_id, id), message);
    Ok(json)
}

fn stored(params: &Value, before: Option<&StoredMessage>) -> StoredMessage {
    let string = |key: &str| params[key].as_str().map(str::to_owned);
    StoredMessage {
        text: string("text")
            .or_else(|| before.map(|b| b.text.clone()))
            .unwrap_or_default(),
        parse_mode: string("parse_mode").or_else(|| {
            params
                .get("text")
                .is_none()
                .then(|| before.and_then(|b| b.parse_mode.clone()))
                .flatten()
        }),
        // Without reply_markup an edit removes the inline keyboard.
        reply_markup: params.get("reply_markup").cloned(),
    }
}

fn edit(state: &State, params: &Value, text: bool) -> Answer {
    let chat_id = params["chat_id"].as_i64().unwrap_or(0);
    let id = params["message_id"].as_i64().unwrap_or(0);
    let mut messages = state.messages.lock().unwrap();
    let before = messages
        .get(&(chat_id, id))
        .ok_or_else(|| fail(400, "Bad Request: message to edit not found"))?;
    let after = stored(params, Some(before));
    debug_assert!(text || params.get("text").is_none());
    if &after == before {
        return Err(fail(
            400,
            "Bad Request: message is not modified: specified new message content and reply \
             markup are exactly the same as a current content and reply markup of the message",
        ));
    }
    let json = message_json(chat_id, id, &after);
    messages.insert((chat_id, id), after);
    Ok(json)
}

/// Long polling: updates from `offset` on; without any, waits up to `timeout` seconds for one.
async fn get_updates(state: &State, params: &Value) -> Value {
    let offset = params["offset"].as_i64().unwrap_or(0);
    let limit = params["limit"].as_u64().unwrap_or(100) as usize;
    let wait = Duration::from_secs(params["timeout"].as_u64().unwrap_or(0));
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let pushed = state.update_pushed.notified();
        let pending = pending_from(state, offset, limit);
        if !pending.is_empty() || tokio::time::Instant::now() >= deadline {
            return Value::Array(pending);
        }
        let _ = tokio::time::timeout_at(deadline, pushed).await;
    }
}

/// Forgets updates before `offset` (they are confirmed) and returns up to `limit` of the rest.
fn pending_from(state: &State, offset: i64, limit: usize) -> Vec<Value> {
    let mut updates = state.updates.lock().unwrap();
    if offset > 0 {
        updates.retain(|u| u["update_id"].as_i64().unwrap_or(0) >= offset);
    }
    updates.iter().take(limit).cloned().collect()
}
