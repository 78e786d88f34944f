//! The whole conversation loop end to end, on real parts: a real Alertmanager delivers a stuck
//! rollout on the Kubernetes lab to the real `robot-sre serve` binary (state in a real Redis);
//! the prompt reaches the Slack (or Telegram) double; signed clicks approve, are refused, come
//! late or twice; the rollback runs on the lab and is verified; the thread and the prompt say
//! so; the audit trail and the evidence packet hold every step.
//!
//! One lab, one Redis and one Alertmanager-per-bot serve the whole binary; every test has its
//! own namespace, key prefix and bot process.

// The doubles and the lab helpers serve several test binaries; this one uses part of each.
#[allow(dead_code)]
#[path = "../lab/helpers.rs"]
mod helpers;
#[allow(unused_imports)]
#[path = "../doubles/slack/mod.rs"]
mod slack;
#[allow(unused_imports)]
#[path = "../doubles/telegram/mod.rs"]
mod telegram;

mod bot;
mod browser;
mod chat;
mod clicks;
mod commands;
mod console;
mod full_loop;
mod resolved;
mod world;
