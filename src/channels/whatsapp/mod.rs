//! WhatsApp Business Cloud API (Meta Graph API) over `reqwest`.
//!
//! - [`adapter`]: the [`Channel`](crate::channels::Channel): interactive reply-button prompts
//!   inside a recipient's 24-hour customer-service window, templates outside it, replies quoting
//!   the prompt;
//! - [`client`] and [`errors`]: the Graph API calls and their failures classified once;
//! - [`render`] and [`wire`]: the typed request bodies, within WhatsApp's limits;
//! - [`ledger`]: windows, sent prompts and seen webhook ids in the shared state store;
//! - [`webhook`], [`verify`], [`payload`] and [`inbound`]: the signed webhook, mapped to
//!   inbound events.
//!
//! Facts and their sources are in the project's contracts page, section WhatsApp; the
//! templates an operator must register are in `deploy/whatsapp-templates.json`.

pub mod adapter;
pub mod client;
pub mod errors;
pub mod inbound;
pub mod ledger;
pub mod payload;
pub mod render;
pub mod verify;
pub mod webhook;
pub mod wire;

pub use self::adapter::WhatsApp;
pub use self::client::ClientError;
pub use self::webhook::{WEBHOOK_PATH, WebhookError, WebhookState, routes};
