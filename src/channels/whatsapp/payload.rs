//! The webhook notification WhatsApp POSTs (spec schemas `Entry`, `Change`,
//! `IncomingMessageValueGeneral`, `StatusMessageValue`; Meta's webhook reference
//! https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages).
//! Only what the bot reads is typed; everything else is ignored.

use serde::Deserialize;

/// `{"object":"whatsapp_business_account","entry":[…]}`.
#[derive(Debug, Clone, Deserialize)]
pub struct Notification {
    pub object: String,
    #[serde(default)]
    pub entry: Vec<Entry>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Entry {
    #[serde(default)]
    pub changes: Vec<Change>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Change {
    #[serde(default)]
    pub field: String,
    pub value: ChangeValue,
}

/// `value` of a `messages` change: inbound messages, status updates, or both.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ChangeValue {
    #[serde(default)]
    pub messages: Vec<Message>,
    #[serde(default)]
    pub statuses: Vec<Status>,
}

/// One inbound message.
#[derive(Debug, Clone, Deserialize)]
pub struct Message {
    /// The sender's WhatsApp id (their number).
    pub from: String,
    /// `wamid.…`, unique per message: the dedupe key.
    pub id: String,
    /// Unix seconds, as a string.
    #[serde(default)]
    pub timestamp: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub text: Option<TextBody>,
    #[serde(default)]
    pub interactive: Option<InteractiveReply>,
    /// A template quick-reply press.
    #[serde(default)]
    pub button: Option<QuickReply>,
    /// The message this one answers (the bot's prompt).
    #[serde(default)]
    pub context: Option<MessageContext>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TextBody {
    pub body: String,
}

/// `interactive`: `type` is `button_reply` for a reply-button press.
#[derive(Debug, Clone, Deserialize)]
pub struct InteractiveReply {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub button_reply: Option<ButtonReply>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ButtonReply {
    /// The button id the bot set: the token.
    pub id: String,
    #[serde(default)]
    pub title: String,
}

/// `button`: `payload` is what the bot set on the template's quick reply (the token).
#[derive(Debug, Clone, Deserialize)]
pub struct QuickReply {
    #[serde(default)]
    pub payload: Option<String>,
    #[serde(default)]
    pub text: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MessageContext {
    /// The `wamid` of the quoted message.
    #[serde(default)]
    pub id: Option<String>,
}

/// A status update about a message the bot sent.
#[derive(Debug, Clone, Deserialize)]
pub struct Status {
    /// The `wamid` of the bot's message.
    pub id: String,
    /// `sent`, `delivered`, `read` or `failed`.
    pub status: String,
    #[serde(default)]
    pub recipient_id: String,
    #[serde(default)]
    pub errors: Vec<StatusError>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct StatusError {
    pub code: i64,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub error_data: Option<ErrorData>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ErrorData {
    #[serde(default)]
    pub details: String,
}
