//! The double's HTTP side: the Graph API routes, the failure modes and the listener's life.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::{ACCESS_TOKEN, Double, Mode, PHONE_NUMBER_ID, Recorded, Shared};

/// A listening server and the switch that stops it.
pub struct Running {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Stops accepting, closes idle connections and waits (bounded) until the listener is gone.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = tokio::time::timeout(Duration::from_secs(5), self.task).await;
    }
}

pub fn serve(listener: tokio::net::TcpListener, shared: Arc<Shared>) -> Running {
    let app = Router::new()
        .route("/{version}/{phone}/messages", post(send_message))
        .route("/{version}/{phone}", get(phone_number))
        .fallback(unknown)
        .with_state(shared);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await;
    });
    Running { stop, task }
}

type Answer = (StatusCode, HeaderMap, Value);

async fn send_message(
    State(shared): State<Arc<Shared>>,
    Path((version, phone)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let answer = match failure(&shared, &version, &phone, &headers).await {
        Some(answer) => answer,
        None => accept(&shared, &parsed, &headers),
    };
    record(
        &shared,
        "POST",
        format!("/{version}/{phone}/messages"),
        parsed,
        answer.0,
    );
    respond(answer)
}

async fn phone_number(
    State(shared): State<Arc<Shared>>,
    Path((version, phone)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let answer = match failure(&shared, &version, &phone, &headers).await {
        Some(answer) => answer,
        None => ok(json!({
            "id": PHONE_NUMBER_ID,
            "display_phone_number": "+1 555-555-5555",
            "verified_name": "Robot SRE",
            "quality_rating": "GREEN",
        })),
    };
    record(
        &shared,
        "GET",
        format!("/{version}/{phone}"),
        Value::Null,
        answer.0,
    );
    respond(answer)
}

async fn unknown(State(shared): State<Arc<Shared>>, method: Method, uri: Uri) -> Response {
    violation(
        &shared,
        format!("{method} {uri}: no such operation in the spec"),
    );
    record(
        &shared,
        method.as_str(),
        uri.path().to_owned(),
        Value::Null,
        StatusCode::NOT_FOUND,
    );
    respond(error(
        StatusCode::NOT_FOUND,
        100,
        "GraphMethodException",
        "Unsupported request",
    ))
}

/// The failure mode's answer, or the API's own refusal of a bad path or token.
async fn failure(
    shared: &Shared,
    version: &str,
    phone: &str,
    headers: &HeaderMap,
) -> Option<Answer> {
    let mode = shared.mode.lock().unwrap().clone();
    match mode {
        Mode::Normal | Mode::Down => {}
        Mode::Slow(delay) => tokio::time::sleep(delay).await,
        Mode::Hang => {
            let _ = tokio::time::timeout(Duration::from_secs(300), shared.release.notified()).await;
            return Some(error(
                StatusCode::SERVICE_UNAVAILABLE,
                2,
                "OAuthException",
                "Service temporarily unavailable",
            ));
        }
        Mode::RateLimited(after) => {
            let mut answer = error(
                StatusCode::TOO_MANY_REQUESTS,
                130429,
                "OAuthException",
                "Rate limit hit",
            );
            answer
                .1
                .insert("retry-after", after.as_secs().to_string().parse().unwrap());
            return Some(answer);
        }
        Mode::ServerError => {
            return Some(error(
                StatusCode::INTERNAL_SERVER_ERROR,
                131000,
                "OAuthException",
                "Something went wrong",
            ));
        }
        Mode::InvalidAuth => return Some(invalid_token()),
        Mode::GraphError { status, code } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
            return Some(error(status, code, "OAuthException", "Graph error"));
        }
    }
    if headers.get("authorization").and_then(|v| v.to_str().ok())
        != Some(&format!("Bearer {ACCESS_TOKEN}"))
    {
        violation(shared, "Authorization: not `Bearer <access token>`".into());
        return Some(invalid_token());
    }
    let version_ok = version
        .strip_prefix('v')
        .and_then(|v| v.split_once('.'))
        .is_some_and(|(a, b)| {
            !a.is_empty() && !b.is_empty() && (a.to_owned() + b).bytes().all(|c| c.is_ascii_digit())
        });
    if !version_ok || phone != PHONE_NUMBER_ID {
        violation(
            shared,
            format!("path /{version}/{phone}: wrong version or phone number id"),
        );
        return Some(error(
            StatusCode::BAD_REQUEST,
            100,
            "GraphMethodException",
            "Unsupported request",
        ));
    }
    None
}

/// A send the spec and limits accept; else error 100, as the real API answers bad parameters.
fn accept(shared: &Shared, body: &Value, headers: &HeaderMap) -> Answer {
    let mut problems = Double::validate(body);
    let json = headers.get("content-type").and_then(|v| v.to_str().ok());
    if !json.is_some_and(|v| v.starts_with("application/json")) {
        problems.push("Content-Type: not application/json".into());
    }
    if !problems.is_empty() {
        for problem in &problems {
            violation(shared, problem.clone());
        }
        return error(
            StatusCode::BAD_REQUEST,
            100,
            "OAuthException",
            &problems.join("; "),
        );
    }
    let to = body.get("to").and_then(Value::as_str).unwrap_or_default();
    let is_template = body.get("type") == Some(&Value::from("template"));
    let closed = shared
        .windows
        .lock()
        .unwrap()
        .as_ref()
        .is_some_and(|open| !open.contains(to));
    if closed && !is_template {
        return error(
            StatusCode::BAD_REQUEST,
            131047,
            "OAuthException",
            "Re-engagement message",
        );
    }
    let id = {
        let mut next = shared.next_id.lock().unwrap();
        *next += 1;
        format!("wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJ{:016X}", *next)
    };
    ok(json!({
        "messaging_product": "whatsapp",
        "contacts": [{ "input": to, "wa_id": to.trim_start_matches('+') }],
        "messages": [{ "id": id }],
    }))
}

fn respond((status, headers, body): Answer) -> Response {
    (status, headers, axum::Json(body)).into_response()
}

fn ok(body: Value) -> Answer {
    (StatusCode::OK, HeaderMap::new(), body)
}

fn invalid_token() -> Answer {
    error(
        StatusCode::UNAUTHORIZED,
        190,
        "OAuthException",
        "Invalid OAuth access token - Cannot parse access token",
    )
}

/// The Graph API error envelope (`GraphAPIError`).
fn error(status: StatusCode, code: i64, kind: &str, message: &str) -> Answer {
    let body = json!({
        "error": {
            "message": message,
            "type": kind,
            "code": code,
            "error_subcode": 2494010,
            "fbtrace_id": "AXsgnV2Cm3ZMGF3dF_cfYIn",
        }
    });
    (status, HeaderMap::new(), body)
}

fn record(shared: &Shared, method: &str, path: String, body: Value, status: StatusCode) {
    shared.recorded.lock().unwrap().push(Recorded {
        method: method.to_owned(),
        path,
        body,
        status: status.as_u16(),
    });
}

fn violation(shared: &Shared, problem: String) {
    shared.violations.lock().unwrap().push(problem);
}
