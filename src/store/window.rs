//! Sliding-window admission: how many members a window holds, and who they are.

use chrono::{DateTime, Utc};

/// The result of [`Store::admit`](super::Store::admit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// The member is in the window, which now holds `count` members.
    Admitted { count: usize },
    /// The window already holds `count` members (at least the limit) and the member is not one
    /// of them; nothing was changed. Room frees up when `oldest` leaves the window.
    Full { count: usize, oldest: DateTime<Utc> },
}

/// A member of a window and when it was (last) admitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowEntry {
    pub member: String,
    pub at: DateTime<Utc>,
}

/// `at` in Unix milliseconds, the resolution windows keep.
pub(super) fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

/// The earliest admission time still inside a window of `window` ending at `now`.
pub(super) fn cutoff(now: DateTime<Utc>, window: std::time::Duration) -> i64 {
    let window = i64::try_from(window.as_millis()).unwrap_or(i64::MAX);
    millis(now).saturating_sub(window)
}
