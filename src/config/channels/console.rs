//! The web console: who may log in, how long a session lasts, and how its cookie is sent.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::config::Secret;

/// The web console served by the bot at `/console`: an incident list, approval prompts with
/// Approve / Reject, the thread, evidence packets and the audit trail. Off when absent.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleSettings {
    /// Who may log in. A user's `name` is the person's name under `channels.people`: approver
    /// rules apply by that name, and a user not listed there is an unknown sender who can
    /// read but not approve.
    pub users: Vec<ConsoleUser>,
    /// How long a login lasts.
    #[serde(default = "default_session_ttl", with = "humantime_serde")]
    pub session_ttl: Duration,
    /// Send the session cookie only over HTTPS. Turn off only for plain HTTP on loopback
    /// (a local demo); browsers drop `Secure` cookies received over plain HTTP elsewhere.
    #[serde(default = "default_secure_cookie")]
    pub secure_cookie: bool,
    /// Where people reach the bot (e.g. `https://robot-sre.example.com`). When set, prompts
    /// posted to the console carry `<public_url>/console#<incident>` as their details link.
    #[serde(default)]
    pub public_url: Option<Url>,
}

/// One console login.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleUser {
    pub name: String,
    /// An argon2 PHC string (`$argon2id$v=19$m=…`), as `robot-sre console hash-password`
    /// prints it. Never the password itself.
    pub password_hash: Secret,
}

impl ConsoleSettings {
    /// Problems as `(dotted key, what is wrong)`; never prints a hash.
    pub fn validate(&self) -> Vec<(String, String)> {
        let mut problems = Vec::new();
        let key = |k: &str| format!("channels.console.{k}");
        if self.users.is_empty() {
            problems.push((key("users"), "must list at least one user".to_owned()));
        }
        for (i, user) in self.users.iter().enumerate() {
            if user.name.trim().is_empty() {
                problems.push((key(&format!("users[{i}].name")), "must not be empty".into()));
            }
            if self.users[..i].iter().any(|u| u.name == user.name) {
                problems.push((key(&format!("users[{i}].name")), "is listed twice".into()));
            }
            if argon2::PasswordHash::new(user.password_hash.expose()).is_err() {
                problems.push((
                    key(&format!("users[{i}].password_hash")),
                    "is not an argon2 PHC string (make one with `robot-sre console hash-password`)"
                        .into(),
                ));
            }
        }
        if self.session_ttl.is_zero() {
            problems.push((key("session_ttl"), "must be longer than zero".into()));
        }
        if let Some(url) = &self.public_url
            && !matches!(url.scheme(), "http" | "https")
        {
            problems.push((key("public_url"), "must be an http or https URL".into()));
        }
        problems
    }
}

fn default_session_ttl() -> Duration {
    Duration::from_secs(12 * 3600)
}

fn default_secure_cookie() -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$2fz5H5Gm2QW0a0m3N7h7sH5l7h9dGJq2m0vYzv3fZ2A";

    fn console(yaml: &str) -> ConsoleSettings {
        serde_yaml::from_str(yaml).unwrap()
    }

    #[test]
    fn console_defaults_are_a_twelve_hour_secure_session() {
        let settings = console(&format!(
            "{{users: [{{name: alice, password_hash: '{HASH}'}}]}}"
        ));
        assert_eq!(settings.session_ttl, Duration::from_secs(12 * 3600));
        assert!(settings.secure_cookie);
        assert!(settings.validate().is_empty(), "{:?}", settings.validate());
    }

    #[test]
    fn console_problems_name_the_key_and_never_the_hash() {
        let settings = console(
            "{users: [{name: alice, password_hash: 'hunter2'}, {name: alice, password_hash: 'x'}], session_ttl: 0s, public_url: 'ftp://x'}",
        );
        let problems = settings.validate();
        let keys: Vec<&str> = problems.iter().map(|(k, _)| k.as_str()).collect();
        for key in [
            "users[0].password_hash",
            "users[1].name",
            "session_ttl",
            "public_url",
        ] {
            assert!(
                keys.contains(&format!("channels.console.{key}").as_str()),
                "{key}: {problems:?}"
            );
        }
        assert!(!format!("{problems:?}{settings:?}").contains("hunter2"));
    }

    #[test]
    fn a_console_without_users_is_refused() {
        let problems = console("{users: []}").validate();
        assert_eq!(problems[0].0, "channels.console.users");
    }
}
