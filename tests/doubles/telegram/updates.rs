//! Updates as Telegram sends them (https://core.telegram.org/bots/api#update), checked against
//! the spec's `Update` type, and webhook deliveries with a good, bad or missing secret.

use std::sync::atomic::Ordering;

use serde_json::{Value, json};

use super::api::{chat, message_json};
use super::spec::Spec;
use super::{StoredMessage, TelegramDouble, WEBHOOK_SECRET};

/// Which `X-Telegram-Bot-Api-Secret-Token` a webhook delivery carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretHeader {
    Good,
    Bad,
    Missing,
}

fn user(id: i64) -> Value {
    json!({"id": id, "is_bot": false, "first_name": format!("user {id}"), "language_code": "en"})
}

impl TelegramDouble {
    fn next_update_id(&self) -> i64 {
        self.state.next_update_id.fetch_add(1, Ordering::SeqCst)
    }

    fn checked(update: Value) -> Value {
        let problems = Spec::get().check_type("Update", &update);
        assert!(
            problems.is_empty(),
            "the double built a bad Update: {problems:?}"
        );
        update
    }

    /// `user` types `text` (e.g. `/incident list`) in `chat`.
    pub fn command_update(&self, chat_id: i64, user_id: i64, text: &str) -> Value {
        let message_id = self.state.next_message_id.fetch_add(1, Ordering::SeqCst);
        let command = text.split_whitespace().next().unwrap_or_default();
        let mut message = json!({
            "message_id": message_id, "from": user(user_id), "chat": chat(chat_id),
            "date": 1_767_225_600, "text": text,
        });
        if command.starts_with('/') {
            message["entities"] = json!([{
                "type": "bot_command", "offset": 0, "length": command.encode_utf16().count()
            }]);
        }
        Self::checked(json!({"update_id": self.next_update_id(), "message": message}))
    }

    /// `user` presses the button carrying `data` under the bot's message `message_id` in
    /// `chat`.
    pub fn callback_update(
        &self,
        chat_id: i64,
        user_id: i64,
        message_id: i64,
        data: &str,
    ) -> Value {
        let shown = self.message(chat_id, message_id).unwrap_or(StoredMessage {
            text: "an earlier prompt".into(),
            parse_mode: None,
            reply_markup: None,
        });
        let query = json!({
            "id": format!("cbq-{}", self.next_update_id()),
            "from": user(user_id),
            "message": message_json(chat_id, message_id, &shown),
            "chat_instance": format!("instance{chat_id}"),
            "data": data,
        });
        Self::checked(json!({"update_id": self.next_update_id(), "callback_query": query}))
    }

    /// POSTs `update` to the bot's webhook `endpoint` as Telegram does; the HTTP status.
    pub async fn post_webhook(
        &self,
        endpoint: &str,
        update: &Value,
        secret: SecretHeader,
    ) -> reqwest::StatusCode {
        self.post_webhook_raw(endpoint, update.to_string().into_bytes(), secret)
            .await
    }

    /// POSTs raw bytes (a malformed body, say) to the webhook.
    pub async fn post_webhook_raw(
        &self,
        endpoint: &str,
        body: Vec<u8>,
        secret: SecretHeader,
    ) -> reqwest::StatusCode {
        let mut request = reqwest::Client::new()
            .post(endpoint)
            .header("content-type", "application/json")
            .body(body);
        match secret {
            SecretHeader::Good => request = request.header(SECRET_HEADER, WEBHOOK_SECRET),
            SecretHeader::Bad => {
                request = request.header(SECRET_HEADER, "double-webhook-secret_0124")
            }
            SecretHeader::Missing => {}
        }
        request
            .send()
            .await
            .expect("the bot's webhook answers")
            .status()
    }
}

const SECRET_HEADER: &str = "X-Telegram-Bot-Api-Secret-Token";
