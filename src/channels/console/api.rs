//! The console's JSON and server-sent-event endpoints. Every one but login needs the session
//! cookie; every state-changing one also needs the session's CSRF token in `x-csrf-token`.

use std::convert::Infallible;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use futures::Stream;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;

use super::auth::{AuthError, Session};
use super::{ApiError, Console, view};
use crate::channels::{ChannelKind, Inbound, InboundKind, Sender};
use crate::incidents::IncidentId;

/// The session cookie's name.
pub const COOKIE: &str = "robot_sre_console";
/// The header carrying the CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// `POST /console/login` body.
#[derive(Debug, Deserialize)]
pub struct Login {
    pub user: String,
    pub password: String,
}

/// `POST /console/api/decisions` body.
#[derive(Debug, Deserialize)]
pub struct Decision {
    pub token: String,
    /// The incident the prompt belongs to, when the page knows it: a refusal is then told in
    /// its console thread too.
    #[serde(default)]
    pub incident: Option<String>,
}

fn body<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    body.map(|Json(value)| value)
        .map_err(|rejection| ApiError::BadRequest(rejection.body_text()))
}

/// The session cookie's value, if the request carries one.
fn cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(COOKIE)?.strip_prefix('='))
}

impl Console {
    /// The request's session, or 401.
    async fn session(&self, headers: &HeaderMap) -> Result<Session, ApiError> {
        let id = cookie(headers).ok_or(AuthError::NoSession)?;
        Ok(self.inner.sessions.find(id).await?)
    }

    /// The request's session, provided it carries the session's CSRF token; else 401 or 403.
    async fn changing(&self, headers: &HeaderMap) -> Result<Session, ApiError> {
        let session = self.session(headers).await?;
        let offered = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
        session.check_csrf(offered)?;
        Ok(session)
    }

    fn set_cookie(&self, id: &str, max_age: u64) -> Result<HeaderValue, ApiError> {
        let secure = if self.inner.secure_cookie {
            "; Secure"
        } else {
            ""
        };
        let value = format!(
            "{COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/console; Max-Age={max_age}{secure}"
        );
        HeaderValue::from_str(&value).map_err(|e| ApiError::BadRequest(e.to_string()))
    }
}

/// `POST /console/login`: `{"user","password"}` → `{"user","csrf"}` and the session cookie.
pub async fn login(
    State(console): State<Console>,
    request: Result<Json<Login>, JsonRejection>,
) -> Result<Response, ApiError> {
    let login = body(request)?;
    if let Err(error) = console
        .inner
        .users
        .verify(&login.user, &login.password)
        .await
    {
        tracing::warn!(user = %login.user, "console login refused: wrong user name or password");
        return Err(error.into());
    }
    let (id, session) = console.inner.sessions.start(&login.user).await?;
    tracing::info!(user = %login.user, "console login");
    let cookie = console.set_cookie(&id, console.inner.sessions.ttl().as_secs())?;
    let body = Json(json!({ "user": session.user, "csrf": session.csrf }));
    Ok(([(header::SET_COOKIE, cookie)], body).into_response())
}

/// `POST /console/logout`: ends the session and clears the cookie.
pub async fn logout(
    State(console): State<Console>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    console.changing(&headers).await?;
    if let Some(id) = cookie(&headers) {
        console.inner.sessions.end(id).await?;
    }
    let cookie = console.set_cookie("", 0)?;
    Ok((
        [(header::SET_COOKIE, cookie)],
        Json(json!({ "logged_out": true })),
    )
        .into_response())
}

/// `GET /console/api/session`: `{"user","csrf"}`, or 401.
pub async fn session(
    State(console): State<Console>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let session = console.session(&headers).await?;
    Ok(Json(json!({ "user": session.user, "csrf": session.csrf })).into_response())
}

/// `GET /console/api/incidents`: the incident list, newest first.
pub async fn incidents(
    State(console): State<Console>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    console.session(&headers).await?;
    let store = console.inner.channel.store();
    let rows = view::list(store, Utc::now()).await?;
    Ok(Json(json!({ "incidents": rows })).into_response())
}

/// `GET /console/api/incidents/{id}`: one incident and everything about it.
pub async fn incident(
    State(console): State<Console>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    console.session(&headers).await?;
    let store = console.inner.channel.store();
    let detail = view::detail(store, &IncidentId::from_stored(id), Utc::now()).await?;
    Ok(Json(detail).into_response())
}

/// `POST /console/api/decisions`: `{"token"}` → 202 `{"submitted": true}`; the decision is
/// handled like a button press on any chat channel.
pub async fn decide(
    State(console): State<Console>,
    headers: HeaderMap,
    request: Result<Json<Decision>, JsonRejection>,
) -> Result<Response, ApiError> {
    let session = console.changing(&headers).await?;
    let decision = body(request)?;
    if decision.token.is_empty() || decision.token.len() > 128 {
        return Err(ApiError::BadRequest(
            "token must be 1-128 characters".into(),
        ));
    }
    let message = match &decision.incident {
        Some(incident) => {
            let store = console.inner.channel.store();
            view::console_copy(store.as_ref(), &IncidentId::from_stored(incident.as_str())).await?
        }
        None => None,
    };
    let person = console
        .inner
        .people
        .contains(&session.user)
        .then(|| session.user.clone());
    let inbound = Inbound {
        sender: Sender {
            channel: ChannelKind::Console,
            user_id: session.user,
            person,
        },
        received_at: Utc::now(),
        kind: InboundKind::Decision {
            token: decision.token,
            message,
        },
    };
    console
        .inner
        .inbox
        .submit(inbound)
        .map_err(|_| ApiError::Busy)?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "submitted": true }))).into_response())
}

/// `GET /console/api/events`: `change` (data: the incident id) whenever this replica's console
/// threads change, and `tick` every few seconds; the page re-reads on each.
pub async fn events(
    State(console): State<Console>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    console.session(&headers).await?;
    let changes = console.inner.channel.subscribe();
    let tick = tokio::time::interval(console.tick);
    let stream = futures::stream::unfold((changes, tick), |(mut changes, mut tick)| async move {
        let event = tokio::select! {
            changed = changes.recv() => match changed {
                Ok(incident) => Event::default().event("change").data(incident),
                // Fell behind: the page re-reads everything anyway.
                Err(RecvError::Lagged(_)) => Event::default().event("change").data(""),
                Err(RecvError::Closed) => return None,
            },
            _ = tick.tick() => Event::default().event("tick").data(""),
        };
        Some((Ok(event), (changes, tick)))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
