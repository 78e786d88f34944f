//! What the doubles saw, read as a human would: the prompt's fields and buttons, the thread,
//! the updated prompt; and clicks and commands "from Slack" and "from Telegram", correctly
//! signed.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use robot_sre::channels::{ChannelKind, MessageRef};
use robot_sre::conversations::state::State;
use robot_sre::incidents::IncidentId;
use serde_json::Value;

use crate::bot::eventually;
use crate::world::{CHAT, World};
use crate::{slack, telegram};

/// Every field an approval prompt must show (design page, "Approval prompt").
pub const PROMPT_FIELDS: [&str; 12] = [
    "Action",
    "Target",
    "Why now",
    "Impact",
    "Fallback",
    "Expires",
    "Cause",
    "Confidence",
    "Evidence",
    "Guardrails",
    "Verification",
    "Dry run",
];

static ACTION_TS: AtomicU64 = AtomicU64::new(1);

/// A prompt as a Slack member sees it.
#[derive(Debug, Clone)]
pub struct SlackPrompt {
    pub ts: String,
    pub blocks: Vec<Value>,
    pub approve: String,
}

impl SlackPrompt {
    /// All block text, joined.
    pub fn text(&self) -> String {
        self.blocks
            .iter()
            .map(|b| b.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// The approve button's value of an `actions` block (a reject button must be there too).
fn buttons(blocks: &[Value]) -> Option<String> {
    let actions = blocks.iter().find(|b| b["type"] == "actions")?;
    let value = |kind: &str| {
        actions["elements"]
            .as_array()?
            .iter()
            .find(|e| {
                e["action_id"]
                    .as_str()
                    .is_some_and(|id| id.starts_with(kind))
            })
            .and_then(|e| e["value"].as_str())
            .map(str::to_owned)
    };
    value("reject")?;
    value("approve")
}

fn blocks_of(params: &Value) -> Vec<Value> {
    match &params["blocks"] {
        Value::Array(blocks) => blocks.clone(),
        // Form-encoded calls carry blocks as a JSON string.
        Value::String(text) => serde_json::from_str(text).unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// The `n`-th prompt (1-based) the bot posted to Slack for `incident`, once the conversation
/// knows its message.
pub async fn slack_prompt(world: &World, incident: &IncidentId, n: usize) -> SlackPrompt {
    let posted = eventually(
        &world.bot,
        Duration::from_secs(60),
        &format!("prompt {n} on Slack"),
        || async {
            let prompts: Vec<Vec<Value>> = world
                .slack
                .sent_to("chat.postMessage")
                .into_iter()
                .map(|s| blocks_of(&s.params))
                .filter(|blocks| buttons(blocks).is_some())
                .filter(|blocks| {
                    Value::Array(blocks.clone())
                        .to_string()
                        .contains(incident.as_str())
                })
                .collect();
            prompts.get(n - 1).cloned()
        },
    )
    .await;
    let approve = buttons(&posted).unwrap();
    let ts = eventually(
        &world.bot,
        Duration::from_secs(30),
        "the prompt's Slack message in the conversation",
        || async {
            let conversation = world.stored.conversation(incident).await?;
            let State::AwaitingApproval(awaiting) = conversation.state else {
                return None;
            };
            if awaiting.prompt as usize != n {
                return None;
            }
            awaiting
                .messages
                .into_iter()
                .find(|m| m.channel == ChannelKind::Slack)
                .map(|m| m.id)
        },
    )
    .await;
    SlackPrompt {
        ts,
        blocks: posted,
        approve,
    }
}

/// `user` clicks the button carrying `token` on the Slack message `ts`; the HTTP status.
pub async fn slack_click(world: &World, user: &str, ts: &str, token: &str, approve: bool) -> u16 {
    let n = ACTION_TS.fetch_add(1, Ordering::SeqCst);
    let action_ts = format!("1700001000.{n:06}");
    let action_id = if approve { "approve" } else { "reject" };
    let payload = slack::block_action(user, ts, action_id, token, &action_ts);
    let callback =
        slack::Callback::interaction(&payload, slack::Signing::Good(slack::SIGNING_SECRET.into()));
    callback.post(&world.bot.base()).await.status().as_u16()
}

/// `user` types `/incident <text>` in the Slack channel; the HTTP status.
pub async fn slack_command(world: &World, user: &str, text: &str) -> u16 {
    let n = ACTION_TS.fetch_add(1, Ordering::SeqCst);
    let fields = slack::slash_command(user, "/incident", text, &format!("trigger-{n}"));
    let callback =
        slack::Callback::command(&fields, slack::Signing::Good(slack::SIGNING_SECRET.into()));
    callback.post(&world.bot.base()).await.status().as_u16()
}

/// The texts of the bot's replies in the thread of `ts` (chat.postMessage with `thread_ts`).
pub fn slack_thread(world: &World, ts: &str) -> Vec<String> {
    world
        .slack
        .sent_to("chat.postMessage")
        .into_iter()
        .filter(|s| s.params["thread_ts"].as_str() == Some(ts))
        .map(|s| {
            format!(
                "{} {}",
                s.params["text"].as_str().unwrap_or_default(),
                Value::Array(blocks_of(&s.params))
            )
        })
        .collect()
}

/// Waits for a thread reply to `ts` containing `needle`; all replies.
pub async fn slack_reply(world: &World, ts: &str, needle: &str) -> Vec<String> {
    eventually(
        &world.bot,
        Duration::from_secs(60),
        &format!("a reply containing {needle:?} in the thread"),
        || async {
            let replies = slack_thread(world, ts);
            replies
                .iter()
                .any(|r| r.contains(needle))
                .then_some(replies)
        },
    )
    .await
}

/// The blocks of the last `chat.update` of message `ts`.
pub fn slack_updated(world: &World, ts: &str) -> Option<Vec<Value>> {
    world
        .slack
        .sent_to("chat.update")
        .into_iter()
        .rev()
        .find(|s| s.params["ts"].as_str() == Some(ts))
        .map(|s| blocks_of(&s.params))
}

/// Waits until message `ts` was updated without buttons and with `needle` in it.
pub async fn slack_closed(world: &World, ts: &str, needle: &str) -> Vec<Value> {
    eventually(
        &world.bot,
        Duration::from_secs(60),
        &format!("the prompt updated without buttons, saying {needle:?}"),
        || async {
            let blocks = slack_updated(world, ts)?;
            let closed = blocks.iter().all(|b| b["type"] != "actions");
            let says = Value::Array(blocks.clone()).to_string().contains(needle);
            (closed && says).then_some(blocks)
        },
    )
    .await
}

/// The prompt the bot sent to the Telegram chat: its message id and callback data
/// (approve, reject).
pub async fn telegram_prompt(world: &World) -> (i64, String, String) {
    let message = eventually(
        &world.bot,
        Duration::from_secs(60),
        "a prompt on Telegram",
        || async {
            world
                .telegram
                .calls("sendMessage")
                .into_iter()
                .find(|p| p["reply_markup"]["inline_keyboard"].is_array())
        },
    )
    .await;
    let keyboard: Vec<Value> = message["reply_markup"]["inline_keyboard"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|row| row.as_array().cloned().unwrap_or_default())
        .collect();
    let data = |label: &str| {
        keyboard
            .iter()
            .find(|b| b["text"].as_str().is_some_and(|t| t.contains(label)))
            .and_then(|b| b["callback_data"].as_str())
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("no {label} button in {keyboard:?}"))
    };
    let (approve, reject) = (data("Approve"), data("Reject"));
    let id: MessageRef = eventually(
        &world.bot,
        Duration::from_secs(30),
        "the Telegram copy in the conversation",
        || async {
            let incident = world.stored.open_incidents().await.into_iter().next()?;
            let conversation = world.stored.conversation(&incident).await?;
            conversation
                .state
                .messages()
                .iter()
                .find(|m| m.channel == ChannelKind::Telegram)
                .cloned()
        },
    )
    .await;
    (id.id.parse().unwrap(), approve, reject)
}

/// `user` presses the inline button carrying `data` under message `message_id`.
pub async fn telegram_click(world: &World, user: i64, message_id: i64, data: &str) {
    let update = world.telegram.callback_update(CHAT, user, message_id, data);
    let endpoint = format!("{}/integrations/telegram/webhook", world.bot.base());
    let status = world
        .telegram
        .post_webhook(&endpoint, &update, telegram::SecretHeader::Good)
        .await;
    assert!(status.is_success(), "webhook answered {status}");
}
