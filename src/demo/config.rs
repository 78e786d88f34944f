//! The demo's configuration: an ordinary configuration file, written to the demo directory and
//! loaded the way `serve` loads one, so what the demo shows is what production runs.

use std::path::Path;

use serde_json::json;

use super::seeds::NAMESPACES;

/// The console user of the demo (a person in group `sre`, so an approver).
pub const USER: &str = "demo";

/// What the configuration needs from the demo's set-up.
pub struct DemoConfig<'a> {
    pub listen: std::net::SocketAddr,
    pub alertmanager_token: &'a str,
    /// `Some(url)` for Redis, `None` for the embedded in-memory store.
    pub redis_url: Option<&'a str>,
    pub key_prefix: &'a str,
    pub kubeconfig: &'a Path,
    /// The argon2 hash of the console user's password.
    pub password_hash: &'a str,
}

/// The configuration as YAML: every demo namespace is production (so changes need approval,
/// and only clearly safe clean-ups run on their own), the console is the only channel, and
/// group `sre` may approve recover and contain actions.
pub fn yaml(c: &DemoConfig<'_>) -> String {
    let store = match c.redis_url {
        Some(url) => json!({"backend": "redis", "redis": {"url": url, "key_prefix": c.key_prefix}}),
        None => json!({"backend": "memory"}),
    };
    let value = json!({
        "server": {"listen": c.listen.to_string(), "shutdown_grace": "2s"},
        "alertmanager": {"token": c.alertmanager_token},
        "store": store,
        "cluster": {"name": "lab", "environments": {"production": NAMESPACES}},
        "telemetry": {"log_format": "pretty", "log_filter": "warn"},
        "channels": {
            "console": {
                "users": [{"name": USER, "password_hash": c.password_hash}],
                "secure_cookie": false,
                "public_url": format!("http://{}", c.listen),
            },
            "people": [{"name": USER, "groups": ["sre"]}],
        },
        "ops": {
            "kubeconfig": c.kubeconfig,
            "namespaces": NAMESPACES,
            "verify": {"deadline": "90s", "settle": "2s", "poll_min": "200ms", "poll_max": "1s"},
        },
        "conversations": {
            "prompt_expiry": "30m",
            "approvers": [{"who": ["group:sre"], "classes": ["recover", "contain"]}],
            "sweep_interval": "1s",
        },
    });
    let header = "# Written by `robot-sre demo`: the lab, the console as the only channel.\n";
    format!(
        "{header}{}",
        serde_yaml::to_string(&value).unwrap_or_default()
    )
}
