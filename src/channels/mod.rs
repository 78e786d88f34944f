//! Chat channels: one adapter per chat API behind one interface, and the failover router. The conversation layer talks to [`Channel`] and reads [`Inbound`] events; it never
//! sees a wire format. Adapters verify inbound requests and resolve who sent them, but never
//! decide who may approve what.
//!
//! - [`message`]: the channel-neutral descriptions of what is sent (prompt, alert, reply,
//!   outcome) and of what comes back (decisions, commands, delivery failures);
//! - [`channel`]: the [`Channel`] trait, delivery errors classified once, and health;
//! - [`fit`]: fitting text into a channel's limits without failing;
//! - [`identity`]: channel user ids mapped to people;
//! - [`inbox`]: the bounded queue that carries verified inbound events to conversations;
//! - [`router`]: failover between channels, breakers, rate limits and storm coalescing;
//! - [`setup`]: the configured adapters, their endpoints and listeners, at start-up;
//! - [`slack`]: the Slack adapter (slack-morphism), HTTP endpoints and Socket Mode;
//! - [`telegram`]: the Telegram adapter (teloxide), webhook and long polling;
//! - [`whatsapp`]: the WhatsApp Cloud API adapter (reqwest), its 24-hour window and webhook;
//! - [`console`]: the web console served by the bot, a channel of its own.

pub mod channel;
pub mod console;
pub mod fit;
pub mod identity;
pub mod inbox;
pub mod message;
pub mod router;
pub mod setup;
pub mod slack;
pub mod telegram;
pub mod whatsapp;

pub use self::channel::{Channel, DeliveryError, Health};
pub use self::identity::{Directory, Person};
pub use self::inbox::{Inbox, InboxFull};
pub use self::message::{
    ChannelKind, Choice, Inbound, InboundKind, MessageRef, Notice, Prompt, Sender,
};
pub use self::router::{Delivered, DeliveryFailures, Router, Undelivered};
