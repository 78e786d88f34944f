//! Storm coalescing: notices for one incident group queue up while a notice for that group is
//! on its way, and the next message carries all of them. Nothing is dropped; a storm of a
//! thousand alerts becomes a handful of messages.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::channels::Notice;

/// The notices waiting per group, and which groups have a sender at work.
#[derive(Debug, Default)]
pub struct Coalescer {
    groups: Mutex<HashMap<String, Group>>,
}

#[derive(Debug, Default)]
struct Group {
    waiting: Vec<Notice>,
    sending: bool,
}

/// What queueing a notice made of the caller.
#[derive(Debug, PartialEq, Eq)]
pub enum Role {
    /// Another caller is sending for this group and will carry the notice.
    Queued,
    /// The caller sends: it drains the group with [`Coalescer::next_batch`] until it is empty.
    Sender,
}

impl Coalescer {
    pub fn queue(&self, group: &str, notice: Notice) -> Role {
        let mut groups = self.groups.lock().unwrap_or_else(|p| p.into_inner());
        let entry = groups.entry(group.to_owned()).or_default();
        entry.waiting.push(notice);
        if entry.sending {
            Role::Queued
        } else {
            entry.sending = true;
            Role::Sender
        }
    }

    /// Everything waiting for `group`; empty means the sender is done (and no longer the
    /// sender, so the next notice starts a new one).
    pub fn next_batch(&self, group: &str) -> Vec<Notice> {
        let mut groups = self.groups.lock().unwrap_or_else(|p| p.into_inner());
        let Some(entry) = groups.get_mut(group) else {
            return Vec::new();
        };
        let batch = std::mem::take(&mut entry.waiting);
        if batch.is_empty() {
            groups.remove(group);
        }
        batch
    }
}

/// One notice that stands for all of `batch` (the first one when it is alone).
pub fn combine(group: &str, mut batch: Vec<Notice>) -> Option<Notice> {
    if batch.len() <= 1 {
        return batch.pop();
    }
    let first = batch[0].clone();
    let severity = batch
        .iter()
        .map(|n| n.severity)
        .max()
        .unwrap_or(first.severity);
    let mut body = String::new();
    for notice in &batch {
        body.push_str(&format!("• {} {}\n", notice.incident, notice.title));
    }
    Some(Notice {
        incident: first.incident,
        severity,
        title: format!("{} alerts in group {group}", batch.len()),
        body,
        details_url: first.details_url,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incidents::IncidentId;
    use crate::incidents::model::Severity;

    fn notice(title: &str, severity: Severity) -> Notice {
        Notice {
            incident: IncidentId::generate(),
            severity,
            title: title.into(),
            body: String::new(),
            details_url: None,
        }
    }

    #[test]
    fn the_first_caller_sends_and_later_ones_queue_until_the_group_is_drained() {
        let coalescer = Coalescer::default();
        assert_eq!(
            coalescer.queue("g", notice("a", Severity::Info)),
            Role::Sender
        );
        assert_eq!(
            coalescer.queue("g", notice("b", Severity::Info)),
            Role::Queued
        );
        assert_eq!(
            coalescer.queue("other", notice("c", Severity::Info)),
            Role::Sender
        );
        assert_eq!(coalescer.next_batch("g").len(), 2);
        assert_eq!(
            coalescer.queue("g", notice("d", Severity::Info)),
            Role::Queued
        );
        assert_eq!(coalescer.next_batch("g").len(), 1);
        assert!(coalescer.next_batch("g").is_empty());
        assert_eq!(
            coalescer.queue("g", notice("e", Severity::Info)),
            Role::Sender
        );
    }

    #[test]
    fn a_batch_becomes_one_notice_naming_every_incident_at_the_highest_severity() {
        let batch = vec![
            notice("disk", Severity::Warning),
            notice("crash", Severity::Critical),
        ];
        let ids: Vec<String> = batch.iter().map(|n| n.incident.to_string()).collect();
        let combined = combine("team=payments", batch).unwrap();
        assert_eq!(combined.title, "2 alerts in group team=payments");
        assert_eq!(combined.severity, Severity::Critical);
        for id in ids {
            assert!(combined.body.contains(&id), "{}", combined.body);
        }
    }
}
