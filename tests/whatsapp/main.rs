//! The WhatsApp adapter against its local Cloud API double: sends, the 24-hour window and its
//! template fallback, error mapping, the signed webhook and its mapping to inbound events.

#[path = "../doubles/whatsapp/mod.rs"]
mod double;

mod failures;
mod helpers;
mod inbound;
mod send;
mod templates;
mod validator;
