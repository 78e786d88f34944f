//! The Slack adapter against the Slack double: sending, the double's own validation, inbound
//! verification and deduplication, failure modes, limits, and Socket Mode.

#[path = "../doubles/slack/mod.rs"]
mod slack;

mod helpers;

mod failures;
mod inbound;
mod limits;
mod manifest;
mod send;
mod socket_mode;
mod validator;
