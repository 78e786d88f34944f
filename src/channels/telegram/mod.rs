//! Telegram through the Bot API with `teloxide`.
//!
//! - [`TelegramChannel`] (`send.rs`): prompts with an inline keyboard (`sendMessage`), alerts,
//!   replies (`reply_parameters`), outcomes (`editMessageReplyMarkup` then `editMessageText`),
//!   health (`getMe`); `calls.rs`: the command menu (`setMyCommands`), `setWebhook`,
//!   `deleteWebhook`, `answerCallbackQuery`, `getUpdates`;
//! - [`render`]: HTML within 4096 characters, buttons within 64-byte `callback_data`;
//! - [`errors`]: teloxide errors classified once onto [`DeliveryError`];
//! - [`TelegramInbound`] (`inbound.rs`): updates turned into [`Inbound`] events, only from the
//!   configured chats, each `update_id` once across retries and replicas;
//! - [`routes`] (`webhook.rs`): `POST /integrations/telegram/webhook`, authenticated by the
//!   `X-Telegram-Bot-Api-Secret-Token` header in constant time before the body is parsed;
//! - [`poll`] (`polling.rs`): the `getUpdates` long-polling loop, for clusters without ingress.
//!
//! [`DeliveryError`]: crate::channels::DeliveryError
//! [`Inbound`]: crate::channels::Inbound

mod calls;
pub mod errors;
mod inbound;
mod interpret;
mod polling;
pub mod render;
mod send;
mod webhook;

use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use teloxide::Bot;
use teloxide::types::BotCommand;

use crate::config::TelegramSettings;
use crate::store::Store;

pub use self::inbound::{HandleError, Handled, TelegramInbound};
pub use self::polling::poll;
pub use self::webhook::{SECRET_HEADER, WEBHOOK_PATH, routes};

/// The Telegram channel: a teloxide [`Bot`] aimed at the configured API URL, with a deadline on
/// every call.
///
/// # Guarantees
/// The bot token never appears in Debug output, logs or errors (teloxide's own `Bot` Debug and
/// reqwest's errors would print it, so neither is ever printed).
pub struct TelegramChannel {
    bot: Bot,
    chat_id: i64,
    served: Vec<i64>,
    timeout: Duration,
    poll_timeout: Duration,
    store: Arc<dyn Store>,
    /// The bot's id, the public part of the token before `:`; it scopes store keys.
    bot_id: String,
    /// The bot's `@username`, learnt from `getMe`; commands addressed to another bot are not ours.
    username: OnceLock<String>,
    /// No sending before this instant: Telegram asked the bot to wait (`retry_after`).
    blocked_until: Mutex<Option<tokio::time::Instant>>,
}

/// The channel could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TelegramSetupError {
    #[error("cannot build the HTTP client for the Bot API")]
    Client(#[source] reqwest::Error),
}

impl TelegramChannel {
    /// A channel posting to `settings.chat_id` through `settings.api_url`. `store` keeps what
    /// closing a prompt needs and the inbound dedupe claims.
    ///
    /// # Errors
    /// [`TelegramSetupError::Client`] when the TLS backend cannot be initialised.
    pub fn new(
        settings: &TelegramSettings,
        store: Arc<dyn Store>,
    ) -> Result<Self, TelegramSetupError> {
        // No overall client timeout: every call gets its own deadline, and a long poll needs
        // longer than a send (teloxide's default client cuts everything at 17 s).
        let client = reqwest::Client::builder()
            .connect_timeout(settings.timeout.min(Duration::from_secs(5)))
            .tcp_nodelay(true)
            .build()
            .map_err(TelegramSetupError::Client)?;
        let token = settings.bot_token.expose();
        let bot = Bot::with_client(token, client).set_api_url(settings.api_url.clone());
        let bot_id = token.split(':').next().unwrap_or_default().to_owned();
        Ok(Self {
            bot,
            chat_id: settings.chat_id,
            served: settings.served_chats(),
            timeout: settings.timeout,
            poll_timeout: settings.poll_timeout,
            store,
            bot_id,
            username: OnceLock::new(),
            blocked_until: Mutex::new(None),
        })
    }

    /// Chats whose updates are served.
    pub fn served_chats(&self) -> &[i64] {
        &self.served
    }

    /// The commands shown in Telegram's command menu (`setMyCommands`). Telegram commands have
    /// no sub-commands, so `/incident` lists its own in the description.
    pub fn commands() -> Vec<BotCommand> {
        vec![BotCommand::new(
            "incident",
            "status [id] · list · ack <id> · approve <id> · reject <id> · silence <id> <duration> · escalate <id> · help",
        )]
    }
}

impl fmt::Debug for TelegramChannel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TelegramChannel")
            .field("api_url", &self.bot.api_url().as_str())
            .field("bot_id", &self.bot_id)
            .field("chat_id", &self.chat_id)
            .field("served", &self.served)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}
