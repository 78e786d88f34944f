//! The console page, its script and its styles, compiled into the binary (no CDN: the bot
//! must work with no internet), and the headers every console response carries.

use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};

const HTML: &str = include_str!("console.html");
const SCRIPT: &str = include_str!("console.js");
const STYLES: &str = include_str!("console.css");

/// `GET /console`: the single page (it shows the login form until there is a session).
pub async fn index() -> Html<&'static str> {
    Html(HTML)
}

/// `GET /console/app.js`.
pub async fn script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        SCRIPT,
    )
        .into_response()
}

/// `GET /console/app.css`.
pub async fn styles() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLES).into_response()
}

/// Scripts and styles only from the bot itself, never framed, never cached, never sniffed.
pub async fn guard_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    let set = [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::CACHE_CONTROL, "no-store"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ];
    for (name, value) in set {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}
