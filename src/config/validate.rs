//! Checks that types alone cannot express. Each problem is `(dotted key, what is wrong)`.

use std::collections::HashMap;
use std::time::Duration;

use super::settings::Settings;

const MIN_BODY: usize = 1024;
const MAX_BODY: usize = 64 * 1024 * 1024;

pub fn validate(settings: &Settings) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    let mut check = |ok: bool, key: &str, problem: String| {
        if !ok {
            problems.push((key.to_owned(), problem));
        }
    };
    let body = settings.alertmanager.max_body_bytes;
    check(
        (MIN_BODY..=MAX_BODY).contains(&body),
        "alertmanager.max_body_bytes",
        format!("{body} is outside {MIN_BODY}..={MAX_BODY} bytes"),
    );
    check(
        settings
            .alertmanager
            .token
            .as_ref()
            .is_none_or(|t| !t.is_empty()),
        "alertmanager.token",
        "is empty; remove the key to leave it unset, or give a token".into(),
    );
    let incidents = &settings.incidents;
    check(
        incidents.suppression_window >= Duration::from_secs(1),
        "incidents.suppression_window",
        "must be at least 1s".into(),
    );
    check(
        incidents.retention >= incidents.suppression_window,
        "incidents.retention",
        "must be at least the suppression window, or a reopened incident could vanish".into(),
    );
    check(
        (1..=10_000).contains(&incidents.history_limit),
        "incidents.history_limit",
        format!("{} is outside 1..=10000", incidents.history_limit),
    );
    for (key, value) in [
        ("server.shutdown_grace", settings.server.shutdown_grace),
        ("server.request_timeout", settings.server.request_timeout),
        (
            "store.redis.connect_timeout",
            settings.store.redis.connect_timeout,
        ),
        (
            "store.redis.command_timeout",
            settings.store.redis.command_timeout,
        ),
    ] {
        check(!value.is_zero(), key, "must be longer than zero".into());
    }
    let redis = &settings.store.redis;
    // The URL may hold a password: problems name what is wrong, never the URL itself.
    match url::Url::parse(redis.url.expose()) {
        Err(error) => check(
            false,
            "store.redis.url",
            format!("not a valid URL: {error}"),
        ),
        Ok(url) => check(
            matches!(url.scheme(), "redis" | "rediss" | "unix" | "redis+unix"),
            "store.redis.url",
            format!("scheme {:?} is not redis, rediss or unix", url.scheme()),
        ),
    }
    let prefix = &redis.key_prefix;
    check(
        !prefix.is_empty() && prefix.len() <= 64 && !prefix.chars().any(char::is_whitespace),
        "store.redis.key_prefix",
        "must be 1 to 64 characters without spaces".into(),
    );
    check(
        !settings.cluster.name.trim().is_empty(),
        "cluster.name",
        "must not be empty".into(),
    );
    let mut seen = HashMap::new();
    for (environment, namespaces) in &settings.cluster.environments {
        for namespace in namespaces {
            if let Some(other) = seen.insert(namespace.clone(), *environment) {
                check(
                    false,
                    "cluster.environments",
                    format!(
                        "namespace {namespace} is listed under both {other:?} and {environment:?}"
                    )
                    .to_lowercase(),
                );
            }
        }
    }
    problems.extend(super::ops::validate(&settings.ops));
    if let Some(whatsapp) = &settings.channels.whatsapp {
        problems.extend(whatsapp.problems());
    }
    if let Some(slack) = &settings.channels.slack {
        problems.extend(slack.problems());
    }
    if let Some(telegram) = &settings.channels.telegram {
        problems.extend(telegram.validate());
    }
    if let Some(console) = &settings.channels.console {
        problems.extend(console.validate());
    }
    problems.extend(super::policy::validate(&settings.policy));
    problems.extend(super::conversations::validate(
        &settings.conversations,
        &settings.channels.people,
    ));
    problems
}
