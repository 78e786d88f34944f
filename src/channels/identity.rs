//! Who is who: channel user ids mapped to the people configured under `channels.people`.
//! Adapters resolve every sender; what a person may approve is decided elsewhere.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::message::{ChannelKind, Sender};

/// A person and their identities on each channel.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Person {
    /// The name used in the audit trail and in approver rules.
    pub name: String,
    /// Slack member id (`U…`).
    #[serde(default)]
    pub slack: Option<String>,
    /// Telegram numeric user id.
    #[serde(default)]
    pub telegram: Option<i64>,
    /// WhatsApp number in international format without `+`.
    #[serde(default)]
    pub whatsapp: Option<String>,
    /// Groups the person belongs to (e.g. `sre`, `payments-oncall`).
    #[serde(default)]
    pub groups: Vec<String>,
}

/// The configured people, indexed by channel identity.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    by_identity: HashMap<(ChannelKind, String), String>,
}

impl Directory {
    pub fn new(people: &[Person]) -> Self {
        let mut by_identity = HashMap::new();
        for person in people {
            let ids = [
                (ChannelKind::Slack, person.slack.clone()),
                (
                    ChannelKind::Telegram,
                    person.telegram.map(|id| id.to_string()),
                ),
                (
                    ChannelKind::WhatsApp,
                    person.whatsapp.as_deref().map(normalise_phone),
                ),
            ];
            for (kind, id) in ids {
                if let Some(id) = id {
                    by_identity.insert((kind, id), person.name.clone());
                }
            }
        }
        Self { by_identity }
    }

    /// The sender with the person `user_id` maps to on `channel`, or none (an unknown user).
    pub fn sender(&self, channel: ChannelKind, user_id: &str) -> Sender {
        let key = match channel {
            ChannelKind::WhatsApp => normalise_phone(user_id),
            _ => user_id.to_owned(),
        };
        Sender {
            channel,
            user_id: user_id.to_owned(),
            person: self.by_identity.get(&(channel, key)).cloned(),
        }
    }
}

/// Phone numbers compare by their digits: "+1 555-0100" and "15550100" are the same number.
fn normalise_phone(number: &str) -> String {
    number.chars().filter(char::is_ascii_digit).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice() -> Person {
        Person {
            name: "alice".into(),
            slack: Some("U0ALICE".into()),
            telegram: Some(4242),
            whatsapp: Some("+1 555-0100".into()),
            groups: vec!["sre".into()],
        }
    }

    #[test]
    fn each_channel_identity_resolves_to_its_person() {
        let directory = Directory::new(&[alice()]);
        for (channel, id) in [
            (ChannelKind::Slack, "U0ALICE"),
            (ChannelKind::Telegram, "4242"),
            (ChannelKind::WhatsApp, "15550100"),
        ] {
            let sender = directory.sender(channel, id);
            assert_eq!(sender.person.as_deref(), Some("alice"), "{channel}");
            assert_eq!(sender.user_id, id);
        }
    }

    #[test]
    fn an_identity_on_the_wrong_channel_or_unknown_is_nobody() {
        let directory = Directory::new(&[alice()]);
        assert_eq!(
            directory.sender(ChannelKind::Telegram, "U0ALICE").person,
            None
        );
        let stranger = directory.sender(ChannelKind::Slack, "U0EVE");
        assert_eq!(stranger.person, None);
        assert_eq!(stranger.describe(), "unknown (slack U0EVE)");
    }
}
