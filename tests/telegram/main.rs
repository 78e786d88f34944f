//! The Telegram adapter against the local Bot API double: outbound calls, failure modes,
//! webhook authentication, long polling, deduplication, rendering limits.

#[path = "../doubles/telegram/mod.rs"]
mod telegram;

mod failures;
mod helpers;
mod outbound;
mod polling;
mod replicas;
mod validator;
mod webhook;
