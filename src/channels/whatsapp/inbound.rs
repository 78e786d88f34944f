//! Verified webhook notifications mapped to [`Inbound`] events: reply-button and quick-reply
//! presses become decisions, `/incident …` texts commands, a text "approve"/"reject" quoting a
//! prompt a decision for that prompt's token, and `failed` statuses delivery failures.

use chrono::{DateTime, TimeZone, Utc};

use crate::channels::{ChannelKind, Directory, Inbound, InboundKind, MessageRef};
use crate::store::StoreError;

use super::ledger::Ledger;
use super::payload::{Message, Notification, Status};

/// An event and the id that identifies its redeliveries.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub dedupe_id: String,
    pub inbound: Inbound,
}

/// The events in `notification`, in order. Every message also refreshes its sender's
/// customer-service window.
///
/// # Errors
/// The store's error: the caller answers so that WhatsApp redelivers.
pub async fn events(
    notification: &Notification,
    ledger: &Ledger,
    directory: &Directory,
    now: DateTime<Utc>,
) -> Result<Vec<Event>, StoreError> {
    let mut events = Vec::new();
    for value in notification
        .entry
        .iter()
        .flat_map(|e| &e.changes)
        .map(|c| &c.value)
    {
        for message in &value.messages {
            let sent_at = timestamp(&message.timestamp).unwrap_or(now);
            ledger.note_inbound(&message.from, sent_at, now).await?;
            let kind = message_kind(message, ledger).await?;
            events.push(Event {
                dedupe_id: message.id.clone(),
                inbound: inbound(directory, &message.from, now, kind),
            });
        }
        for status in value.statuses.iter().filter(|s| s.status == "failed") {
            events.push(Event {
                dedupe_id: format!("{}:{}", status.id, status.status),
                inbound: inbound(directory, &status.recipient_id, now, failed(status)),
            });
        }
    }
    Ok(events)
}

fn inbound(directory: &Directory, wa_id: &str, now: DateTime<Utc>, kind: InboundKind) -> Inbound {
    Inbound {
        sender: directory.sender(ChannelKind::WhatsApp, wa_id),
        received_at: now,
        kind,
    }
}

async fn message_kind(message: &Message, ledger: &Ledger) -> Result<InboundKind, StoreError> {
    let quoted = message.context.as_ref().and_then(|c| c.id.clone());
    let quoted_ref = quoted.as_deref().map(|id| reference(&message.from, id));
    if let Some(token) = pressed(message) {
        return Ok(InboundKind::Decision {
            token,
            message: quoted_ref,
        });
    }
    let Some(text) = message.text.as_ref().map(|t| t.body.trim()) else {
        return Ok(ignored(format!("a {} message", message.kind)));
    };
    if let Some(command) = command(text) {
        return Ok(InboundKind::Command {
            text: command,
            reply_to: reference(&message.from, &message.id),
        });
    }
    match (answer(text), quoted) {
        (Some(approves), Some(prompt)) => answered(ledger, &message.from, &prompt, approves).await,
        (Some(_), None) => Ok(ignored("an answer that quotes no prompt".into())),
        (None, _) => Ok(ignored(
            "text that is neither a command nor an answer".into(),
        )),
    }
}

/// The token of a reply-button (`interactive.button_reply.id`) or template quick-reply
/// (`button.payload`) press.
fn pressed(message: &Message) -> Option<String> {
    let button_reply = message
        .interactive
        .as_ref()
        .filter(|i| i.kind == "button_reply")
        .and_then(|i| i.button_reply.as_ref())
        .map(|b| b.id.clone());
    let quick_reply = message.button.as_ref().and_then(|b| b.payload.clone());
    button_reply
        .or(quick_reply)
        .filter(|token| !token.is_empty())
}

/// `/incident status inc-…` or `incident status inc-…`, as `/incident …`.
fn command(text: &str) -> Option<String> {
    let rest = text.strip_prefix('/').unwrap_or(text);
    let (word, args) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    word.eq_ignore_ascii_case("incident")
        .then(|| format!("/incident {}", args.trim()).trim_end().to_owned())
}

/// Whether a one-word answer approves (`Some(true)`) or rejects (`Some(false)`).
fn answer(text: &str) -> Option<bool> {
    let word = text.trim_end_matches(['.', '!']).to_lowercase();
    match word.as_str() {
        "approve" | "approved" | "yes" | "ok" => Some(true),
        "reject" | "rejected" | "deny" | "no" => Some(false),
        _ => None,
    }
}

async fn answered(
    ledger: &Ledger,
    from: &str,
    prompt: &str,
    approves: bool,
) -> Result<InboundKind, StoreError> {
    let Some(sent) = ledger.sent(prompt).await? else {
        return Ok(ignored(
            "an answer to a message that is not a live prompt".into(),
        ));
    };
    let Some(choice) = sent.choices.iter().find(|c| c.approves == approves) else {
        return Ok(ignored("an answer the prompt offers no choice for".into()));
    };
    Ok(InboundKind::Decision {
        token: choice.token.clone(),
        message: Some(reference(from, prompt)),
    })
}

fn failed(status: &Status) -> InboundKind {
    let reason = status.errors.first().map_or_else(
        || "failed".to_owned(),
        |e| {
            let details = e.error_data.as_ref().map_or("", |d| d.details.as_str());
            format!("{} {} {details}", e.code, e.title)
                .trim()
                .to_owned()
        },
    );
    InboundKind::DeliveryFailed {
        message: reference(&status.recipient_id, &status.id),
        reason,
    }
}

fn reference(conversation: &str, id: &str) -> MessageRef {
    MessageRef {
        channel: ChannelKind::WhatsApp,
        conversation: conversation.to_owned(),
        id: id.to_owned(),
    }
}

fn ignored(reason: String) -> InboundKind {
    InboundKind::Ignored {
        reason: format!("whatsapp: {reason}"),
    }
}

fn timestamp(seconds: &str) -> Option<DateTime<Utc>> {
    Utc.timestamp_opt(seconds.parse().ok()?, 0).single()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incident_commands_are_recognised_with_or_without_the_slash() {
        assert_eq!(
            command("/incident status inc-1").as_deref(),
            Some("/incident status inc-1")
        );
        assert_eq!(
            command("Incident  ack inc-2").as_deref(),
            Some("/incident ack inc-2")
        );
        assert_eq!(command("incident").as_deref(), Some("/incident"));
        assert_eq!(command("incidents are bad"), None);
        assert_eq!(command("approve"), None);
    }

    #[test]
    fn one_word_answers_say_approve_or_reject() {
        assert_eq!(answer("Approve"), Some(true));
        assert_eq!(answer("reject."), Some(false));
        assert_eq!(answer("approve it now"), None);
    }
}
