//! Append-only logs: entry ids and entries.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The id of a log entry, in the Redis stream id format `<ms>-<seq>`: the append time in Unix
/// milliseconds, then a sequence number among the entries of that millisecond.
///
/// Ids order by time, then sequence (numerically, so `9-0` comes before `10-0`). On the wire and
/// in text it is the `<ms>-<seq>` string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LogId {
    ms: u64,
    seq: u64,
}

/// Why a text is not a [`LogId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a log entry id (expected <milliseconds>-<sequence>)")]
pub struct LogIdError {
    pub text: String,
}

impl LogId {
    pub fn new(ms: u64, seq: u64) -> Self {
        Self { ms, seq }
    }

    /// Reads `<ms>-<seq>`.
    ///
    /// # Errors
    /// When either part is missing or not a decimal number.
    pub fn parse(text: &str) -> Result<Self, LogIdError> {
        let invalid = || LogIdError {
            text: text.to_owned(),
        };
        let (ms, seq) = text.split_once('-').ok_or_else(invalid)?;
        let number = |part: &str| -> Result<u64, LogIdError> {
            // `u64::from_str` accepts a leading `+`, which no stream id has.
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid());
            }
            part.parse().map_err(|_| invalid())
        };
        Ok(Self::new(number(ms)?, number(seq)?))
    }

    /// The append time, in Unix milliseconds.
    pub fn millis(self) -> u64 {
        self.ms
    }

    /// The sequence number within [`LogId::millis`].
    pub fn seq(self) -> u64 {
        self.seq
    }

    /// The smallest id greater than this one.
    pub fn successor(self) -> Self {
        match self.seq.checked_add(1) {
            Some(seq) => Self::new(self.ms, seq),
            None => Self::new(self.ms.saturating_add(1), 0),
        }
    }
}

impl fmt::Display for LogId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

impl FromStr for LogId {
    type Err = LogIdError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl TryFrom<String> for LogId {
    type Error = LogIdError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text)
    }
}

impl From<LogId> for String {
    fn from(id: LogId) -> Self {
        id.to_string()
    }
}

/// One entry of a log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    pub id: LogId,
    pub value: Vec<u8>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_ids_order_numerically_not_as_text() {
        let ids: Vec<LogId> = ["9-0", "10-0", "10-2", "10-10"]
            .iter()
            .map(|text| LogId::parse(text).unwrap())
            .collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(sorted, ids);
    }

    #[test]
    fn log_ids_round_trip_through_text_and_json() {
        let id = LogId::new(1_732_165_200_123, 7);
        assert_eq!(id.to_string(), "1732165200123-7");
        assert_eq!(LogId::parse("1732165200123-7"), Ok(id));
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"1732165200123-7\"");
        assert_eq!(serde_json::from_str::<LogId>(&json).unwrap(), id);
    }

    #[test]
    fn malformed_log_ids_are_refused() {
        for text in [
            "",
            "12",
            "12-",
            "-3",
            "a-1",
            "1-+2",
            "1-2-3",
            "18446744073709551616-0",
        ] {
            assert!(LogId::parse(text).is_err(), "{text}");
        }
        assert!(serde_json::from_str::<LogId>("\"12\"").is_err());
    }

    #[test]
    fn the_successor_of_a_log_id_is_the_next_sequence_or_millisecond() {
        assert_eq!(LogId::new(5, 1).successor(), LogId::new(5, 2));
        assert_eq!(LogId::new(5, u64::MAX).successor(), LogId::new(6, 0));
    }
}
