//! Requests "from Slack" to the bot: `block_actions` interactions (form field `payload` with
//! JSON) and slash commands (form fields), signed correctly or not
//! (https://docs.slack.dev/authentication/verifying-requests-from-slack).
//! Shapes follow bolt-python's `tests/scenario_tests/test_block_actions.py` fixture and the
//! slash-command fields of https://docs.slack.dev/interactivity/implementing-slash-commands.

use std::time::{SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use super::{APP_ID, CHANNEL, TEAM, form};

/// How a callback is signed.
#[derive(Debug, Clone, PartialEq)]
pub enum Signing {
    /// With the given secret, now.
    Good(String),
    /// With another secret.
    WrongSecret,
    /// With the right secret, `seconds` in the past.
    Stale(String, u64),
    /// No signature headers at all.
    Missing,
}

/// A ready-to-post callback: body, headers and the bot's path.
#[derive(Debug, Clone)]
pub struct Callback {
    pub path: &'static str,
    pub body: String,
    pub headers: Vec<(String, String)>,
}

/// A `block_actions` payload: `user` pressed the button `action_id` with `value` on the
/// message `message_ts` in [`CHANNEL`]; `action_ts` identifies the press.
pub fn block_action(
    user: &str,
    message_ts: &str,
    action_id: &str,
    value: &str,
    action_ts: &str,
) -> Value {
    json!({
        "type": "block_actions",
        "user": {"id": user, "username": "someone", "name": "someone", "team_id": TEAM},
        "api_app_id": APP_ID,
        "token": "verification-token-deprecated",
        "container": {"type": "message", "message_ts": message_ts, "channel_id": CHANNEL, "is_ephemeral": false},
        "trigger_id": format!("111.222.{action_ts}"),
        "team": {"id": TEAM, "domain": "double"},
        "channel": {"id": CHANNEL, "name": "incidents"},
        "response_url": "https://hooks.slack.com/actions/T0DOUBLE/1/random-value",
        "actions": [{
            "action_id": action_id, "block_id": "robot_sre_choices",
            "text": {"type": "plain_text", "text": "Approve", "emoji": true},
            "value": value, "type": "button", "action_ts": action_ts,
        }],
    })
}

/// Slash-command form fields: `user` typed `command text` in [`CHANNEL`].
pub fn slash_command(user: &str, command: &str, text: &str, trigger_id: &str) -> Value {
    json!({
        "token": "verification-token-deprecated", "team_id": TEAM, "team_domain": "double",
        "channel_id": CHANNEL, "channel_name": "incidents", "user_id": user, "user_name": "someone",
        "command": command, "text": text, "api_app_id": APP_ID, "is_enterprise_install": "false",
        "response_url": "https://hooks.slack.com/commands/T0DOUBLE/1/random-value",
        "trigger_id": trigger_id,
    })
}

impl Callback {
    /// An interaction as Slack posts it: `payload=<url-encoded JSON>`.
    pub fn interaction(payload: &Value, signing: Signing) -> Self {
        let body = form::encode(&[("payload", &payload.to_string())]);
        Self::signed("/integrations/slack/actions", body, signing)
    }

    /// A slash command as Slack posts it (form fields).
    pub fn command(fields: &Value, signing: Signing) -> Self {
        let pairs: Vec<(&str, &str)> = fields
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.as_str(), v.as_str().unwrap_or_default()))
            .collect();
        Self::signed(
            "/integrations/slack/commands",
            form::encode(&pairs),
            signing,
        )
    }

    fn signed(path: &'static str, body: String, signing: Signing) -> Self {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let mut headers = vec![(
            "content-type".to_owned(),
            "application/x-www-form-urlencoded".to_owned(),
        )];
        let (secret, at) = match &signing {
            Signing::Good(secret) => (secret.clone(), now),
            Signing::WrongSecret => ("not-the-signing-secret".to_owned(), now),
            Signing::Stale(secret, seconds) => (secret.clone(), now - seconds),
            Signing::Missing => {
                return Self {
                    path,
                    body,
                    headers,
                };
            }
        };
        headers.push(("x-slack-request-timestamp".to_owned(), at.to_string()));
        headers.push((
            "x-slack-signature".to_owned(),
            signature(&secret, at, &body),
        ));
        Self {
            path,
            body,
            headers,
        }
    }

    /// Marks the request as Slack's `attempt`-th redelivery.
    pub fn retry(mut self, attempt: u32, reason: &str) -> Self {
        self.headers
            .push(("x-slack-retry-num".to_owned(), attempt.to_string()));
        self.headers
            .push(("x-slack-retry-reason".to_owned(), reason.to_owned()));
        self
    }

    /// POSTs to the bot at `base` (e.g. `http://127.0.0.1:8080`).
    pub async fn post(&self, base: &str) -> reqwest::Response {
        let mut request = reqwest::Client::new()
            .post(format!("{}{}", base.trim_end_matches('/'), self.path))
            .body(self.body.clone());
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        request.send().await.expect("the bot answers")
    }
}

/// `v0=<hex HMAC-SHA256(secret, "v0:<ts>:<body>")>`, written independently of the bot's code.
fn signature(secret: &str, timestamp: u64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("v0:{timestamp}:{body}").as_bytes());
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("v0={hex}")
}
