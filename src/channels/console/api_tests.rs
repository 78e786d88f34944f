//! The console's HTTP surface on a bound server over a `MemoryStore`: sessions, CSRF, and
//! decisions arriving in the inbox as console senders.

use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::sync::mpsc::Receiver;

use super::Console;
use super::auth::hash_password;
use crate::channels::{ChannelKind, Inbound, InboundKind, Inbox, Person};
use crate::config::{ConsoleSettings, ConsoleUser, Secret};
use crate::store::{MemoryStore, Store};

const PASSWORD: &str = "correct horse battery";

struct Served {
    base: String,
    client: reqwest::Client,
    events: Receiver<Inbound>,
}

/// alice (a configured person) and carol (not one) may log in; the inbox holds `capacity`.
async fn serve(capacity: usize) -> Served {
    let hash = Secret::new(hash_password(PASSWORD).unwrap());
    let user = |name: &str| ConsoleUser {
        name: name.into(),
        password_hash: hash.clone(),
    };
    let settings = ConsoleSettings {
        users: vec![user("alice"), user("carol")],
        session_ttl: Duration::from_secs(600),
        secure_cookie: false,
        public_url: None,
    };
    let people = [Person {
        name: "alice".into(),
        slack: None,
        telegram: None,
        whatsapp: None,
        groups: vec!["sre".into()],
    }];
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let (inbox, events) = Inbox::new(capacity);
    let console = Console::new(&settings, store, &people, inbox);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, console.routes()).await });
    Served {
        base,
        client: reqwest::Client::new(),
        events,
    }
}

/// A logged-in session: the cookie header value and the CSRF token.
struct Login {
    cookie: String,
    csrf: String,
}

impl Served {
    async fn login(&self, user: &str, password: &str) -> reqwest::Response {
        self.client
            .post(format!("{}/console/login", self.base))
            .json(&json!({"user": user, "password": password}))
            .send()
            .await
            .unwrap()
    }

    async fn logged_in(&self, user: &str) -> Login {
        let response = self.login(user, PASSWORD).await;
        assert_eq!(response.status(), StatusCode::OK);
        let cookie = response.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .to_owned();
        let cookie = cookie.split(';').next().unwrap().to_owned();
        let body: Value = response.json().await.unwrap();
        Login {
            cookie,
            csrf: body["csrf"].as_str().unwrap().to_owned(),
        }
    }

    async fn decide(&self, login: &Login, csrf: Option<&str>, body: &str) -> StatusCode {
        let mut request = self
            .client
            .post(format!("{}/console/api/decisions", self.base))
            .header("cookie", &login.cookie)
            .header("content-type", "application/json")
            .body(body.to_owned());
        if let Some(csrf) = csrf {
            request = request.header("x-csrf-token", csrf);
        }
        request.send().await.unwrap().status()
    }

    async fn get(&self, path: &str, cookie: Option<&str>) -> reqwest::Response {
        let mut request = self.client.get(format!("{}{path}", self.base));
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        request.send().await.unwrap()
    }
}

#[tokio::test]
async fn api_answers_401_as_json_when_there_is_no_session() {
    let served = serve(8).await;
    for path in [
        "/console/api/session",
        "/console/api/incidents",
        "/console/api/incidents/inc-1",
        "/console/api/events",
    ] {
        let response = served
            .get(path, Some("robot_sre_console=00ff; other=1"))
            .await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "not logged in", "{path}");
    }
}

#[tokio::test]
async fn login_answers_alike_when_the_user_is_unknown_or_the_password_wrong() {
    let served = serve(8).await;
    let mut bodies = Vec::new();
    for (user, password) in [("alice", "wrong"), ("mallory", PASSWORD)] {
        let response = served.login(user, password).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert!(response.headers().get("set-cookie").is_none());
        bodies.push(response.text().await.unwrap());
    }
    assert_eq!(bodies[0], bodies[1]);
    let bad = served
        .client
        .post(format!("{}/console/login", served.base))
        .header("content-type", "application/json")
        .body("{\"user\": 1}")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn login_sets_a_strict_http_only_cookie_that_opens_the_session() {
    let served = serve(8).await;
    let response = served.login("alice", PASSWORD).await;
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    for part in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/console",
        "Max-Age=600",
    ] {
        assert!(cookie.contains(part), "{part} missing in {cookie}");
    }
    assert!(!cookie.contains("Secure"), "secure_cookie is off: {cookie}");
    let login = served.logged_in("alice").await;
    let session = served
        .get("/console/api/session", Some(&login.cookie))
        .await;
    assert_eq!(session.status(), StatusCode::OK);
    let body: Value = session.json().await.unwrap();
    assert_eq!(body, json!({"user": "alice", "csrf": login.csrf}));
    let list = served
        .get("/console/api/incidents", Some(&login.cookie))
        .await;
    let list: Value = list.json().await.unwrap();
    assert_eq!(list, json!({"incidents": []}));
}

#[tokio::test]
async fn decision_answers_403_when_the_csrf_token_is_missing_or_wrong() {
    let mut served = serve(8).await;
    let login = served.logged_in("alice").await;
    let body = r#"{"token": "tok"}"#;
    assert_eq!(
        served.decide(&login, None, body).await,
        StatusCode::FORBIDDEN
    );
    let other = served.logged_in("carol").await;
    let status = served.decide(&login, Some(&other.csrf), body).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(served.events.try_recv().is_err(), "nothing was submitted");
}

#[tokio::test]
async fn decision_lands_in_the_inbox_as_a_console_sender_when_submitted() {
    let mut served = serve(8).await;
    for (user, person) in [("alice", Some("alice")), ("carol", None)] {
        let login = served.logged_in(user).await;
        let body = r#"{"token": "abc123", "incident": "inc-none"}"#;
        let status = served.decide(&login, Some(&login.csrf), body).await;
        assert_eq!(status, StatusCode::ACCEPTED);
        let event = served.events.try_recv().expect("an inbound event");
        assert_eq!(event.sender.channel, ChannelKind::Console);
        assert_eq!(event.sender.user_id, user);
        assert_eq!(event.sender.person.as_deref(), person);
        assert_eq!(
            event.kind,
            InboundKind::Decision {
                token: "abc123".into(),
                message: None
            }
        );
    }
}

#[tokio::test]
async fn decision_answers_400_on_a_bad_body_and_503_when_the_inbox_is_full() {
    let mut served = serve(1).await;
    let login = served.logged_in("alice").await;
    for body in ["not json", r#"{"nope": 1}"#, r#"{"token": ""}"#] {
        let status = served.decide(&login, Some(&login.csrf), body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    }
    let body = r#"{"token": "t1"}"#;
    assert_eq!(
        served.decide(&login, Some(&login.csrf), body).await,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        served.decide(&login, Some(&login.csrf), body).await,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert!(served.events.try_recv().is_ok());
}

#[tokio::test]
async fn logout_ends_the_session_when_the_csrf_token_comes_with_it() {
    let served = serve(8).await;
    let login = served.logged_in("alice").await;
    let logout = |csrf: &str| {
        served
            .client
            .post(format!("{}/console/logout", served.base))
            .header("cookie", &login.cookie)
            .header("x-csrf-token", csrf)
            .send()
    };
    assert_eq!(
        logout("wrong").await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(logout(&login.csrf).await.unwrap().status(), StatusCode::OK);
    let session = served
        .get("/console/api/session", Some(&login.cookie))
        .await;
    assert_eq!(session.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn page_and_assets_carry_a_self_only_content_security_policy() {
    let served = serve(8).await;
    for (path, kind) in [
        ("/console", "text/html"),
        ("/console/app.js", "text/javascript"),
        ("/console/app.css", "text/css"),
    ] {
        let response = served.get(path, None).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let headers = response.headers();
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.starts_with("default-src 'self'"), "{csp}");
        let content_type = headers["content-type"].to_str().unwrap();
        assert!(content_type.starts_with(kind), "{path}: {content_type}");
    }
    let page = served.get("/console", None).await.text().await.unwrap();
    for id in [
        "login-user",
        "login-password",
        "login-submit",
        "approve",
        "reject",
        "thread",
        "state",
    ] {
        assert!(page.contains(&format!("id=\"{id}\"")), "#{id} missing");
    }
    assert!(
        !page.contains("<script>"),
        "no inline script under the policy"
    );
}
