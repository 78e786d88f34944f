//! The failover router over the three real adapters, each aimed at its spec-validating double:
//! failover when the primary refuses connections, hangs or rate-limits; breakers; every channel
//! down raising `chatops_delivery_failure`; a storm coalesced within the rate limits; and the
//! first answer to a prompt winning, with every copy updated.

// The doubles serve several test binaries; this one uses part of each.
#[allow(unused_imports)]
#[path = "../doubles/slack/mod.rs"]
mod slack;
#[allow(unused_imports)]
#[path = "../doubles/telegram/mod.rs"]
mod telegram;
#[allow(unused_imports)]
#[path = "../doubles/whatsapp/mod.rs"]
mod whatsapp;

mod endpoints;
mod failover;
mod first_answer;
mod harness;
mod storm;
