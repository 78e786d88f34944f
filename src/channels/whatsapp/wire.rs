//! The Graph API's outbound wire format: the `POST /{Version}/{Phone-Number-ID}/messages`
//! request body, its success response and the Graph error envelope.
//!
//! Shapes follow Meta's OpenAPI spec `business-messaging-api_v23.0.yaml` (facebook/openapi):
//! schemas `BaseMessageProperties`, `TextMessage`, `InteractiveMessage` (`InteractiveObject`,
//! `ActionObject`), `TemplateMessage` (`TemplateObject`, `LanguageObject`, `TemplateComponent`),
//! `MessageResponsePayload` and `GraphAPIError`.

use serde::{Deserialize, Serialize};

/// A message to send: the common fields and one typed content.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutboundMessage {
    pub messaging_product: &'static str,
    pub recipient_type: &'static str,
    /// The recipient's number, international format without `+`.
    pub to: String,
    /// Set to quote (reply to) an earlier message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<Context>,
    #[serde(flatten)]
    pub content: Content,
}

impl OutboundMessage {
    /// A message to one person.
    pub fn to(recipient: &str, content: Content) -> Self {
        Self {
            messaging_product: "whatsapp",
            recipient_type: "individual",
            to: recipient.to_owned(),
            context: None,
            content,
        }
    }

    /// The same message quoting `message_id`.
    pub fn replying_to(mut self, message_id: &str) -> Self {
        self.context = Some(Context {
            message_id: message_id.to_owned(),
        });
        self
    }

    /// Whether WhatsApp delivers it outside the 24-hour customer-service window.
    pub fn is_template(&self) -> bool {
        matches!(self.content, Content::Template { .. })
    }
}

/// `context`: the message this one replies to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Context {
    pub message_id: String,
}

/// The message content; `type` names the variant.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Content {
    Text { text: Text },
    Interactive { interactive: Interactive },
    Template { template: Template },
}

/// `text`: at most 4096 characters.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Text {
    pub body: String,
    pub preview_url: bool,
}

/// An interactive reply-button message (`interactive.type = "button"`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Interactive {
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header: Option<Header>,
    pub body: BodyText,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub footer: Option<BodyText>,
    pub action: Action,
}

/// A text header: at most 60 characters.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Header {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub text: String,
}

/// `body` (at most 1024 characters) or `footer` (at most 60).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BodyText {
    pub text: String,
}

/// `action.buttons`: one to three reply buttons.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Action {
    pub buttons: Vec<Button>,
}

/// A reply button: `type = "reply"`, id at most 256 characters, title at most 20.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Button {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub reply: Reply,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reply {
    pub id: String,
    pub title: String,
}

/// A template message: a registered template by name and language, plus its parameters.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Template {
    pub name: String,
    pub language: Language,
    pub components: Vec<Component>,
}

/// `language`: the spec's `LanguageObject` requires `policy` ("deterministic") and `code`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Language {
    pub policy: &'static str,
    pub code: String,
}

/// A template component's parameters; `type` names the component.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Component {
    Body {
        parameters: Vec<Parameter>,
    },
    /// A quick-reply button's payload; `index` is the button's position ("0", "1", …).
    Button {
        sub_type: &'static str,
        index: String,
        parameters: Vec<Parameter>,
    },
}

/// A template parameter.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Parameter {
    Text { text: String },
    Payload { payload: String },
}

/// The success response (`MessageResponsePayload`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SendResponse {
    #[serde(default)]
    pub contacts: Vec<SentContact>,
    #[serde(default)]
    pub messages: Vec<SentMessage>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SentContact {
    #[serde(default)]
    pub input: Option<String>,
    #[serde(default)]
    pub wa_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SentMessage {
    /// The `wamid.…` of the accepted message.
    pub id: String,
    #[serde(default)]
    pub message_status: Option<String>,
}

/// The Graph API error envelope (`GraphAPIError`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ErrorEnvelope {
    pub error: GraphError,
}

/// One Graph API error. Meta's error-codes page says to branch on `code` (and
/// `error_data.details`), never on the message text.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct GraphError {
    #[serde(default)]
    pub message: String,
    #[serde(rename = "type", default)]
    pub kind: String,
    pub code: i64,
    #[serde(default)]
    pub error_subcode: Option<i64>,
    #[serde(default)]
    pub fbtrace_id: Option<String>,
    #[serde(default)]
    pub is_transient: Option<bool>,
}
