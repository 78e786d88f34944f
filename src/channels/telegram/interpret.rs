//! What one Telegram `Update` means, without any IO: a button press, a command, a request from
//! a chat the bot does not serve, or nothing for the bot.

use chrono::{DateTime, Utc};
use teloxide::types::{CallbackQuery, Chat, Message, Update, UpdateKind, User};

use super::render;
use crate::channels::identity::Directory;
use crate::channels::message::{ChannelKind, Inbound, InboundKind, MessageRef, Sender};

const CHANNEL: ChannelKind = ChannelKind::Telegram;

/// The meaning of one update.
#[derive(Debug, Clone, PartialEq)]
pub enum Meaning {
    /// An event for the conversation layer; `answer` is the callback query to acknowledge.
    Event {
        inbound: Inbound,
        answer: Option<String>,
    },
    /// Nothing for the bot (chatter, an edited message, a button without data); why.
    Nothing(&'static str),
}

/// Who and where the bot serves.
pub struct Context<'a> {
    pub served: &'a [i64],
    pub directory: &'a Directory,
    /// The bot's username, when known: `/incident@OtherBot` is then not ours.
    pub username: Option<&'a str>,
    pub now: DateTime<Utc>,
}

/// Reads `update` in `context`.
pub fn interpret(update: &Update, context: &Context<'_>) -> Meaning {
    match &update.kind {
        UpdateKind::CallbackQuery(query) => callback(query, context),
        UpdateKind::Message(message) => command(message, context),
        _ => Meaning::Nothing("an update kind the bot does not serve"),
    }
}

fn callback(query: &CallbackQuery, context: &Context<'_>) -> Meaning {
    let Some(message) = &query.message else {
        return Meaning::Nothing("a button on an inline message, which the bot never sends");
    };
    let sender = sender_of(Some(&query.from), None, context);
    let chat = message.chat();
    if !context.served.contains(&chat.id.0) {
        return ignored(sender, "button press", chat, context);
    }
    let Some(data) = query.data.as_deref() else {
        return Meaning::Nothing("a button without callback data");
    };
    let inbound = Inbound {
        sender,
        received_at: context.now,
        kind: InboundKind::Decision {
            token: render::token_of(data).to_owned(),
            message: Some(message_ref(chat, message.id().0)),
        },
    };
    Meaning::Event {
        inbound,
        answer: Some(query.id.0.clone()),
    }
}

fn command(message: &Message, context: &Context<'_>) -> Meaning {
    let Some(text) = message.text().filter(|t| t.starts_with('/')) else {
        return Meaning::Nothing("a message that is not a command");
    };
    let sender = sender_of(message.from.as_ref(), message.sender_chat.as_ref(), context);
    if !context.served.contains(&message.chat.id.0) {
        return ignored(sender, "command", &message.chat, context);
    }
    let Some(text) = normalise_command(text, context.username) else {
        return Meaning::Nothing("a command addressed to another bot");
    };
    let inbound = Inbound {
        sender,
        received_at: context.now,
        kind: InboundKind::Command {
            text,
            reply_to: message_ref(&message.chat, message.id.0),
        },
    };
    Meaning::Event {
        inbound,
        answer: None,
    }
}

/// `/incident@RobotSreBot status x` → `/incident status x`; `None` when it names another bot.
fn normalise_command(text: &str, username: Option<&str>) -> Option<String> {
    let (word, rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
    let command = match word.split_once('@') {
        Some((command, addressee)) => {
            if username.is_some_and(|me| !me.eq_ignore_ascii_case(addressee)) {
                return None;
            }
            command
        }
        None => word,
    };
    let rest = rest.trim();
    Some(if rest.is_empty() {
        command.to_owned()
    } else {
        format!("{command} {rest}")
    })
}

fn ignored(sender: Sender, what: &str, chat: &Chat, context: &Context<'_>) -> Meaning {
    let name = chat
        .title()
        .or(chat.username())
        .map(|n| format!(" ({n})"))
        .unwrap_or_default();
    let reason = format!(
        "{what} from telegram chat {}{name}, which is not a configured chat",
        chat.id.0
    );
    Meaning::Event {
        inbound: Inbound {
            sender,
            received_at: context.now,
            kind: InboundKind::Ignored { reason },
        },
        answer: None,
    }
}

/// The user, or the chat posting as itself (anonymous group admins, channels).
fn sender_of(user: Option<&User>, chat: Option<&Chat>, context: &Context<'_>) -> Sender {
    let id = user
        .map(|u| u.id.0.to_string())
        .or_else(|| chat.map(|c| c.id.0.to_string()))
        .unwrap_or_else(|| "unknown".to_owned());
    context.directory.sender(CHANNEL, &id)
}

fn message_ref(chat: &Chat, message_id: i32) -> MessageRef {
    MessageRef {
        channel: CHANNEL,
        conversation: chat.id.0.to_string(),
        id: message_id.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_lose_our_bot_name_and_keep_their_arguments() {
        let me = Some("RobotSreBot");
        assert_eq!(
            normalise_command("/incident@robotsrebot  status inc-1 ", me).as_deref(),
            Some("/incident status inc-1")
        );
        assert_eq!(normalise_command("/incident@OtherBot list", me), None);
        assert_eq!(
            normalise_command("/incident@OtherBot", None).as_deref(),
            Some("/incident")
        );
    }
}
