//! Webhook notifications as WhatsApp sends them (`object: whatsapp_business_account`,
//! `entry[].changes[].value.{messaging_product, metadata, contacts, messages | statuses}`),
//! signed with `X-Hub-Signature-256` (good, bad or missing), and the GET subscription
//! handshake.

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use super::{APP_SECRET, PHONE_NUMBER_ID};

/// The path the bot serves webhooks on.
pub const PATH: &str = "/integrations/whatsapp/webhook";

/// How a crafted notification is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signature {
    /// HMAC-SHA256 of the raw body with the app secret.
    Good,
    /// An HMAC with the wrong secret.
    Bad,
    /// No `X-Hub-Signature-256` header.
    Missing,
}

/// `sha256=<hex HMAC-SHA256(secret, body)>`.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={hex}")
}

/// A notification carrying `value` (one change of field `messages`).
pub fn envelope(value: Value) -> Value {
    json!({
        "object": "whatsapp_business_account",
        "entry": [{
            "id": "102290129340398",
            "changes": [{ "field": "messages", "value": value }],
        }],
    })
}

fn metadata() -> Value {
    json!({ "display_phone_number": "15555555555", "phone_number_id": PHONE_NUMBER_ID })
}

/// A notification with `messages` from `from`.
pub fn messages(from: &str, messages: Vec<Value>) -> Value {
    envelope(json!({
        "messaging_product": "whatsapp",
        "metadata": metadata(),
        "contacts": [{ "profile": { "name": "On-call" }, "wa_id": from }],
        "messages": messages,
    }))
}

/// A notification with `statuses`.
pub fn statuses(statuses: Vec<Value>) -> Value {
    envelope(json!({
        "messaging_product": "whatsapp",
        "metadata": metadata(),
        "statuses": statuses,
    }))
}

/// Unix seconds, as WhatsApp writes timestamps (a string).
fn now() -> String {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
        .to_string()
}

fn message(from: &str, id: &str, kind: &str) -> Value {
    json!({ "from": from, "id": id, "timestamp": now(), "type": kind })
}

/// A text message, optionally quoting `context_id`.
pub fn text(from: &str, id: &str, body: &str, context_id: Option<&str>) -> Value {
    let mut message = message(from, id, "text");
    message["text"] = json!({ "body": body });
    if let Some(context) = context_id {
        message["context"] = json!({ "from": "15555555555", "id": context });
    }
    message
}

/// A reply-button press on the message `context_id`.
pub fn button_reply(from: &str, id: &str, context_id: &str, button_id: &str, title: &str) -> Value {
    let mut message = message(from, id, "interactive");
    message["context"] = json!({ "from": "15555555555", "id": context_id });
    message["interactive"] = json!({
        "type": "button_reply",
        "button_reply": { "id": button_id, "title": title },
    });
    message
}

/// A template quick-reply press on the message `context_id`.
pub fn quick_reply(from: &str, id: &str, context_id: &str, payload: &str, text: &str) -> Value {
    let mut message = message(from, id, "button");
    message["context"] = json!({ "from": "15555555555", "id": context_id });
    message["button"] = json!({ "payload": payload, "text": text });
    message
}

/// A status update; `failed` carries one error.
pub fn status(wamid: &str, recipient: &str, status: &str) -> Value {
    let mut value = json!({
        "id": wamid,
        "status": status,
        "timestamp": now(),
        "recipient_id": recipient,
    });
    if status == "failed" {
        value["errors"] = json!([{
            "code": 131026,
            "title": "Message undeliverable",
            "message": "Message undeliverable",
            "error_data": { "details": "Message Undeliverable." },
        }]);
    }
    value
}

/// POSTs `notification` to the bot at `bot_url`, signed as asked.
pub async fn post(bot_url: &str, notification: &Value, signature: Signature) -> reqwest::Response {
    let body = serde_json::to_vec(notification).expect("JSON");
    post_raw(bot_url, body, signature).await
}

/// POSTs raw bytes (malformed bodies included), signed as asked.
pub async fn post_raw(bot_url: &str, body: Vec<u8>, signature: Signature) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .post(format!("{bot_url}{PATH}"))
        .header("content-type", "application/json");
    match signature {
        Signature::Good => request = request.header("x-hub-signature-256", sign(APP_SECRET, &body)),
        Signature::Bad => {
            request = request.header("x-hub-signature-256", sign("not-the-app-secret", &body))
        }
        Signature::Missing => {}
    }
    request.body(body).send().await.expect("the bot answers")
}

/// The GET subscription handshake Meta performs when the webhook URL is configured.
pub async fn challenge(
    bot_url: &str,
    mode: &str,
    verify_token: &str,
    challenge: &str,
) -> reqwest::Response {
    reqwest::Client::new()
        .get(format!("{bot_url}{PATH}"))
        .query(&[
            ("hub.mode", mode),
            ("hub.verify_token", verify_token),
            ("hub.challenge", challenge),
        ])
        .send()
        .await
        .expect("the bot answers")
}
