//! `/incident …` commands, typed by humans on every channel: a Slack slash command, a Telegram
//! bot command (already stripped of `@BotName`), or WhatsApp text with or without the `/`.
//!
//! Parsing is pure and total: any text gives a [`Command`] or a [`CommandError`] whose Display
//! is the answer to send back, naming the usage; never a panic, never silence.

use std::fmt;
use std::time::Duration;

use crate::incidents::IncidentId;

/// One parsed command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// State, age, last action and verification of one incident, or of every open one.
    Status { id: Option<IncidentId> },
    /// The open incidents.
    List,
    /// The sender is on it.
    Ack { id: IncidentId },
    /// Approve the pending action (same authorization and single-use rules as a button).
    Approve { id: IncidentId },
    /// Reject the pending action.
    Reject { id: IncidentId },
    /// No updates about the incident for this long (the caller caps it: [`Command::within`]).
    Silence { id: IncidentId, duration: Duration },
    /// Hand the incident to the escalation contacts now.
    Escalate { id: IncidentId },
    /// The list of commands.
    Help,
}

/// Why a text is not a command. The Display is the helpful answer, naming the usage.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    #[error("unknown command `{word}`; try: /incident {}", usage_summary())]
    Unknown { word: String },
    #[error(
        "`/incident {command}` needs {missing}; usage: {}",
        usage_line(command)
    )]
    MissingArgument {
        command: &'static str,
        missing: &'static str,
    },
    #[error(
        "`/incident {command}` does not take `{extra}`; usage: {}",
        usage_line(command)
    )]
    ExtraArgument {
        command: &'static str,
        extra: String,
    },
    #[error(
        "`{text}` is not an incident id (ids look like inc-7k2m9x4q1z3p); usage: {}",
        usage_line(command)
    )]
    BadId { command: &'static str, text: String },
    #[error(
        "`{text}` is not a duration ({reason}); write e.g. 30m or 2h; usage: {}",
        usage_line("silence")
    )]
    BadDuration { text: String, reason: String },
    #[error("a silence must be longer than zero; usage: {}", usage_line("silence"))]
    ZeroDuration,
    #[error(
        "a silence may last at most {}; usage: {}",
        humantime::format_duration(*.max),
        usage_line("silence")
    )]
    SilenceTooLong { asked: Duration, max: Duration },
}

/// One command's name, arguments and what it does.
struct Usage {
    name: &'static str,
    args: &'static [&'static str],
    about: &'static str,
}

const USAGES: [Usage; 8] = [
    usage(
        "status",
        &["[id]"],
        "state, age, last action and verification of an incident (all open ones without an id)",
    ),
    usage("list", &[], "the open incidents"),
    usage("ack", &["<id>"], "tell everyone you are on it"),
    usage(
        "approve",
        &["<id>"],
        "approve the pending action (as the button does)",
    ),
    usage("reject", &["<id>"], "reject the pending action"),
    usage(
        "silence",
        &["<id>", "<duration>"],
        "no updates about the incident for a while, e.g. 30m or 2h",
    ),
    usage(
        "escalate",
        &["<id>"],
        "hand the incident to the escalation contacts now",
    ),
    usage("help", &[], "this list"),
];

const fn usage(name: &'static str, args: &'static [&'static str], about: &'static str) -> Usage {
    Usage { name, args, about }
}

/// One line per command: its usage and what it does.
pub fn help_text() -> String {
    let lines: Vec<String> = USAGES
        .iter()
        .map(|u| format!("{} — {}", line(u), u.about))
        .collect();
    lines.join("\n")
}

/// Every command's usage on one line (`status [id] · list · …`), e.g. for Telegram's command
/// menu description (at most 256 characters; this is about 110).
pub fn usage_summary() -> String {
    let forms: Vec<String> = USAGES
        .iter()
        .map(|u| {
            [u.name]
                .iter()
                .chain(u.args)
                .copied()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    forms.join(" · ")
}

fn line(usage: &Usage) -> String {
    let mut words = vec!["/incident", usage.name];
    words.extend(usage.args);
    words.join(" ")
}

fn usage_line(command: &str) -> String {
    USAGES
        .iter()
        .find(|u| u.name == command)
        .map_or_else(|| "/incident help".to_owned(), line)
}

impl Command {
    /// Parses `text`: an optional leading `/incident` or `incident` (any case, also
    /// `/incident@BotName`), then a command and its arguments separated by any whitespace.
    /// Empty text is [`Command::Help`].
    ///
    /// # Errors
    /// A [`CommandError`] for an unknown command, a missing or extra argument, a malformed
    /// incident id, or a bad or zero duration.
    pub fn parse(text: &str) -> Result<Self, CommandError> {
        let mut words = text.split_whitespace().peekable();
        if words.peek().is_some_and(|w| is_prefix(w)) {
            words.next();
        }
        let Some(word) = words.next() else {
            return Ok(Command::Help);
        };
        let name = word.to_lowercase();
        let usage = USAGES
            .iter()
            .find(|u| u.name == name)
            .ok_or_else(|| CommandError::Unknown { word: shown(word) })?;
        let args: Vec<&str> = words.collect();
        build(usage, &args)
    }

    /// The command's name as typed after `/incident` (`status`, `silence`, …).
    pub fn name(&self) -> &'static str {
        match self {
            Command::Status { .. } => "status",
            Command::List => "list",
            Command::Ack { .. } => "ack",
            Command::Approve { .. } => "approve",
            Command::Reject { .. } => "reject",
            Command::Silence { .. } => "silence",
            Command::Escalate { .. } => "escalate",
            Command::Help => "help",
        }
    }

    /// The incident the command is about, when it names one.
    pub fn incident(&self) -> Option<&IncidentId> {
        match self {
            Command::Status { id } => id.as_ref(),
            Command::Ack { id }
            | Command::Approve { id }
            | Command::Reject { id }
            | Command::Silence { id, .. }
            | Command::Escalate { id } => Some(id),
            Command::List | Command::Help => None,
        }
    }

    /// The command, unless it is a silence longer than `silence_max`
    /// (`conversations.silence_max`).
    ///
    /// # Errors
    /// [`CommandError::SilenceTooLong`].
    pub fn within(self, silence_max: Duration) -> Result<Self, CommandError> {
        match self {
            Command::Silence { duration, .. } if duration > silence_max => {
                Err(CommandError::SilenceTooLong {
                    asked: duration,
                    max: silence_max,
                })
            }
            command => Ok(command),
        }
    }
}

/// The canonical text, which parses back to the same command (`/incident silence inc-… 30m`).
impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "/incident {}", self.name())?;
        if let Some(id) = self.incident() {
            write!(f, " {id}")?;
        }
        if let Command::Silence { duration, .. } = self {
            write!(f, " {}", humantime::format_duration(*duration))?;
        }
        Ok(())
    }
}

fn is_prefix(word: &str) -> bool {
    let word = word.to_lowercase();
    let command = word.split_once('@').map_or(word.as_str(), |(c, _)| c);
    command == "/incident" || word == "incident"
}

fn build(usage: &Usage, args: &[&str]) -> Result<Command, CommandError> {
    let command = usage.name;
    let required = usage.args.iter().filter(|a| a.starts_with('<')).count();
    if let Some(missing) = usage.args.get(args.len()).filter(|_| args.len() < required) {
        let missing = *missing;
        return Err(CommandError::MissingArgument { command, missing });
    }
    // A duration may be written with spaces (`1h 30m`), so it takes the rest of the words.
    let greedy = usage.args.last() == Some(&"<duration>");
    if let Some(extra) = args.get(usage.args.len()).filter(|_| !greedy) {
        return Err(CommandError::ExtraArgument {
            command,
            extra: shown(extra),
        });
    }
    let id = |index: usize| parse_id(command, args[index]);
    Ok(match command {
        "status" => Command::Status {
            id: args.first().map(|_| id(0)).transpose()?,
        },
        "list" => Command::List,
        "ack" => Command::Ack { id: id(0)? },
        "approve" => Command::Approve { id: id(0)? },
        "reject" => Command::Reject { id: id(0)? },
        "silence" => Command::Silence {
            id: id(0)?,
            duration: parse_duration(&args[1..].join(" "))?,
        },
        "escalate" => Command::Escalate { id: id(0)? },
        _ => Command::Help,
    })
}

/// Base32 digits of generated ids (see [`IncidentId::generate`]).
const ID_ALPHABET: &str = "0123456789abcdefghjkmnpqrstvwxyz";
const ID_SUFFIX_LEN: usize = 12;

/// `inc-` and 12 base32 characters, in any case; the `inc-` may be left out, and the
/// look-alikes o, i and l read as 0, 1 and 1 (as in Crockford's base32), since humans copy ids
/// by eye.
fn parse_id(command: &'static str, text: &str) -> Result<IncidentId, CommandError> {
    let lower = text.to_lowercase();
    let suffix: String = lower
        .strip_prefix("inc-")
        .unwrap_or(&lower)
        .chars()
        .map(|c| match c {
            'o' => '0',
            'i' | 'l' => '1',
            other => other,
        })
        .collect();
    let valid =
        suffix.chars().count() == ID_SUFFIX_LEN && suffix.chars().all(|c| ID_ALPHABET.contains(c));
    if valid {
        Ok(IncidentId::from_stored(format!("inc-{suffix}")))
    } else {
        Err(CommandError::BadId {
            command,
            text: shown(text),
        })
    }
}

fn parse_duration(text: &str) -> Result<Duration, CommandError> {
    match humantime::parse_duration(text) {
        Ok(duration) if duration.is_zero() => Err(CommandError::ZeroDuration),
        Ok(duration) => Ok(duration),
        Err(error) => Err(CommandError::BadDuration {
            text: shown(text),
            reason: error.to_string(),
        }),
    }
}

/// A word typed by a human, shortened for quoting it back.
fn shown(word: &str) -> String {
    const MAX: usize = 40;
    if word.chars().count() <= MAX {
        word.to_owned()
    } else {
        word.chars().take(MAX).chain(['…']).collect()
    }
}

#[cfg(test)]
#[path = "commands_tests.rs"]
mod tests;
