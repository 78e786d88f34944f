//! Slack: Block Kit approval prompts over the Web API (`chat.postMessage`, `chat.update`,
//! `auth.test`) through slack-morphism, and the two inbound modes — the HTTP interactivity and
//! slash-command endpoints, verified with Slack's v0 signature, and Socket Mode.
//!
//! - [`api`]: the slack-morphism client aimed at a configurable base URL, one call timeout;
//! - [`errors`]: Slack's failures classified once into [`DeliveryError`](super::DeliveryError);
//! - [`render`]: prompts, notices and outcomes as Block Kit within Slack's limits;
//! - [`channel`]: [`SlackChannel`], the [`Channel`](super::Channel) implementation;
//! - [`verify`]: the v0 request signature (HMAC-SHA256 over the raw body, 5-minute window);
//! - [`inbound`]: interaction and slash-command payloads parsed into [`Inbound`](super::Inbound)
//!   events, deduplicated across redeliveries and bot replicas;
//! - [`http`]: the axum routes `/integrations/slack/actions` and `/integrations/slack/commands`;
//! - [`socket`]: Socket Mode, feeding the same parser.

pub mod api;
pub mod channel;
pub mod errors;
pub mod http;
pub mod inbound;
pub mod render;
pub mod socket;
pub mod verify;

pub use self::api::SlackApi;
pub use self::channel::SlackChannel;
pub use self::http::routes;
pub use self::inbound::SlackInbound;
pub use self::socket::{SocketMode, SocketModeError};
