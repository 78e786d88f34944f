//! Bad input gets a clear answer and stores nothing. Each test checks the status, the message,
//! and that no key at all was written under the test's Redis prefix.

use serde_json::Value;

use crate::helpers::{Backend, EXAMPLE, TestApp, spawn_app_with};

async fn redis_app() -> TestApp {
    spawn_app_with(Backend::Redis, |_| {}).await
}

async fn post(
    app: &TestApp,
    token: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> reqwest::Response {
    let mut request = app
        .client
        .post(app.url("/webhooks/alertmanager"))
        .body(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

async fn error_of(response: reqwest::Response) -> (u16, String, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    let code = body["error"].as_str().unwrap().to_owned();
    (status, code, body["message"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn a_request_without_credentials_gets_401_and_stores_nothing() {
    let app = redis_app().await;
    let response = post(&app, None, EXAMPLE).await;
    assert_eq!(
        response.headers()["www-authenticate"],
        "Bearer realm=\"robot-sre\""
    );
    let (status, code, _) = error_of(response).await;
    assert_eq!((status, code.as_str()), (401, "unauthenticated"));
    assert!(app.stored_keys().await.is_empty());
}

#[tokio::test]
async fn a_request_with_another_scheme_gets_401() {
    let app = redis_app().await;
    let response = app
        .client
        .post(app.url("/webhooks/alertmanager"))
        .basic_auth("alertmanager", Some(crate::helpers::TOKEN))
        .body(EXAMPLE)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert!(app.stored_keys().await.is_empty());
}

#[tokio::test]
async fn a_wrong_token_gets_403_and_stores_nothing() {
    let app = redis_app().await;
    let (status, code, message) = error_of(post(&app, Some("guess"), EXAMPLE).await).await;
    assert_eq!((status, code.as_str()), (403, "forbidden"));
    assert!(
        !message.contains(crate::helpers::TOKEN),
        "the answer must not echo the secret"
    );
    assert!(app.stored_keys().await.is_empty());
}

#[tokio::test]
async fn without_a_configured_token_every_request_is_refused() {
    let app = spawn_app_with(Backend::Redis, |s| s.alertmanager.token = None).await;
    for token in [None, Some(""), Some("anything")] {
        let (status, code, message) = error_of(post(&app, token, EXAMPLE).await).await;
        assert_eq!((status, code.as_str()), (503, "auth_not_configured"));
        assert!(message.contains("alertmanager.token"), "{message}");
    }
    assert!(app.stored_keys().await.is_empty());
}

#[tokio::test]
async fn a_body_over_the_limit_gets_413_and_stores_nothing() {
    let app = spawn_app_with(Backend::Redis, |s| s.alertmanager.max_body_bytes = 2048).await;
    let padded = EXAMPLE.replacen(
        "\"receiver\": \"chat-bridge\"",
        &format!("\"receiver\": \"{}\"", "x".repeat(4096)),
        1,
    );
    let (status, code, message) = error_of(app.post_alerts(padded).await).await;
    assert_eq!((status, code.as_str()), (413, "too_large"));
    assert!(message.contains("2048"), "{message}");
    assert!(app.stored_keys().await.is_empty());
}

#[tokio::test]
async fn malformed_json_gets_400_saying_where_and_stores_nothing() {
    let app = redis_app().await;
    let truncated = &EXAMPLE[..EXAMPLE.len() / 2];
    let (status, code, message) = error_of(app.post_alerts(truncated.to_owned()).await).await;
    assert_eq!((status, code.as_str()), (400, "malformed"));
    assert!(message.contains("line"), "{message}");
    assert!(app.stored_keys().await.is_empty());
}

#[tokio::test]
async fn a_payload_missing_required_fields_gets_400_naming_the_field() {
    let app = redis_app().await;
    let without_alerts = r#"{"version":"4","groupKey":"g","receiver":"r","status":"firing"}"#;
    let (status, _, message) = error_of(app.post_alerts(without_alerts).await).await;
    assert_eq!(status, 400);
    assert!(message.contains("alerts"), "{message}");
    assert!(app.stored_keys().await.is_empty());
}

#[tokio::test]
async fn a_payload_that_is_not_version_4_gets_400_saying_so() {
    let app = redis_app().await;
    let old = EXAMPLE.replace("\"version\": \"4\"", "\"version\": \"3\"");
    let (status, code, message) = error_of(app.post_alerts(old).await).await;
    assert_eq!((status, code.as_str()), (400, "unsupported_version"));
    assert!(
        message.contains("\"3\"") && message.contains("version \"4\""),
        "{message}"
    );
    assert!(app.stored_keys().await.is_empty());
}

#[tokio::test]
async fn refusals_are_counted_by_reason() {
    let app = redis_app().await;
    post(&app, None, EXAMPLE).await;
    post(&app, Some("guess"), EXAMPLE).await;
    app.post_alerts("{").await;
    let metrics = app.metrics().await;
    for reason in ["unauthenticated", "forbidden", "malformed"] {
        let line = format!("ops_webhook_rejections_total{{reason=\"{reason}\"}} 1");
        assert!(metrics.contains(&line), "{line} missing:\n{metrics}");
    }
}

#[tokio::test]
async fn a_corrupt_incident_gets_500_but_the_rest_of_its_group_is_recorded() {
    let app = redis_app().await;
    let (url, prefix) = app.redis.clone().unwrap();
    let client = redis::Client::open(url.as_str()).unwrap();
    let mut redis = client.get_multiplexed_async_connection().await.unwrap();
    // The first alert of the example feeds an incident whose stored document is unreadable.
    let _: () = redis::pipe()
        .set(format!("{prefix}:dedupe:000be4bc3aece7e5"), "inc-broken")
        .hset_multiple(
            format!("{prefix}:incident:inc-broken"),
            &[("v", "1"), ("d", "{not json")],
        )
        .query_async(&mut redis)
        .await
        .unwrap();

    let (status, code, message) = error_of(app.post_alerts(EXAMPLE).await).await;
    assert_eq!((status, code.as_str()), (500, "store_refused"));
    assert!(message.contains("1 of 2"), "{message}");
    let keys = app.stored_keys().await;
    assert!(
        keys.iter().any(|k| k.ends_with(":dedupe:eaef56ed381e6ceb")),
        "{keys:?}"
    );
    assert_eq!(
        keys.iter().filter(|k| k.contains(":incident:")).count(),
        2,
        "{keys:?}"
    );
}
