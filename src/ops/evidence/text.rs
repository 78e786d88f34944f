//! The evidence in a handful of lines a human reads on a phone: what is broken first, numbers
//! over prose, and an unknown part said as unknown with its reason, never left out. A node's and
//! a namespace's lines are rendered next to their types ([`NodeEvidence::summary_lines`],
//! [`NamespaceEvidence::summary_line`]).
//!
//! [`NodeEvidence::summary_lines`]: super::NodeEvidence::summary_lines
//! [`NamespaceEvidence::summary_line`]: super::NamespaceEvidence::summary_line

use std::fmt::Write as _;

use super::events::EventEntry;
use super::workload::{PodEntry, PodEvidence, WorkloadEvidence};
use super::{Collected, Evidence, Scope};
use crate::ops::state::ReplicaSetState;

/// Pods named one by one before the rest are counted.
const PODS_SHOWN: usize = 3;
/// Event reasons shown, newest first.
const REASONS_SHOWN: usize = 3;
/// Longest message quoted.
const MESSAGE_CHARS: usize = 60;

#[cfg(test)]
#[path = "text_tests.rs"]
mod tests;

/// The short text summary of `evidence`, one line per fact, at most a handful.
pub fn render(evidence: &Evidence) -> String {
    let mut lines = Vec::new();
    let workload_known = evidence
        .workload
        .as_ref()
        .is_some_and(|w| w.known().is_some());
    if let Some(workload) = &evidence.workload {
        match workload {
            Collected::Known(w) => lines.extend(workload_lines(w)),
            Collected::Unknown { reason } => {
                lines.push(format!(
                    "{}: unknown ({reason})",
                    workload_title(&evidence.scope)
                ));
            }
        }
    }
    if let Some(pod) = &evidence.pod {
        match pod {
            Collected::Known(p) => lines.extend(pod_lines(p, !workload_known)),
            Collected::Unknown { reason } => {
                let name = evidence.scope.pod.as_ref().map_or("", |p| p.as_str());
                lines.push(format!("Pod {name}: unknown ({reason})"));
            }
        }
    }
    if let Some(node) = &evidence.node {
        lines.extend(node.summary_lines());
    }
    if let Some(namespace) = &evidence.namespace {
        lines.push(match namespace {
            Collected::Known(n) => n.summary_line(),
            Collected::Unknown { reason } => {
                let name = evidence.scope.namespace.as_ref().map_or("", |n| n.as_str());
                format!("Namespace {name}: unknown ({reason})")
            }
        });
    }
    if lines.is_empty() {
        lines.push("No evidence was asked for.".into());
    }
    lines.join("\n")
}

/// `Deployment checkout`, or `the Deployment of pod checkout-x` when reached through a pod.
fn workload_title(scope: &Scope) -> String {
    match (&scope.workload, &scope.pod) {
        (Some(workload), _) => format!("{} {}", workload.kind, workload.name),
        (None, Some(pod)) => format!("the Deployment of pod {pod}"),
        (None, None) => "Deployment".into(),
    }
}

fn workload_lines(w: &WorkloadEvidence) -> Vec<String> {
    let rollout = &w.rollout;
    let mut head = format!(
        "Deployment {}: {}/{} ready, {}",
        w.name,
        rollout.ready,
        rollout.desired,
        rollout_state(w)
    );
    match &w.replica_sets {
        Collected::Known(sets) => head.push_str(&history(sets)),
        Collected::Unknown { reason } => {
            let _ = write!(head, "; ReplicaSets unknown ({reason})");
        }
    }
    match &w.autoscaler {
        Collected::Known(Some(hpa)) => {
            let _ = write!(
                head,
                "; HPA {} {}–{}, at {} (wants {})",
                hpa.name, hpa.min, hpa.max, hpa.current, hpa.desired
            );
        }
        Collected::Known(None) => {}
        Collected::Unknown { reason } => {
            let _ = write!(head, "; HPA unknown ({reason})");
        }
    }
    vec![
        head,
        pods_line(&w.pods),
        events_line("last events", &w.events),
    ]
}

fn rollout_state(w: &WorkloadEvidence) -> String {
    if w.paused {
        return "rollout paused".into();
    }
    let progressing = w.conditions.iter().find(|c| c.kind == "Progressing");
    let r = &w.rollout;
    match progressing {
        Some(c) if c.status == "False" => {
            format!(
                "rollout {}",
                c.reason.as_deref().unwrap_or("not progressing")
            )
        }
        _ if r.updated < r.desired || r.replicas > r.desired => {
            format!("rolling out ({}/{} updated)", r.updated, r.desired)
        }
        _ if r.available < r.desired => format!(
            "rollout updated but {} unavailable",
            r.desired - r.available
        ),
        _ => "rollout complete".into(),
    }
}

/// `; revision 2 (image) after 1 (image)`: the newest ReplicaSet and the one before it.
fn history(sets: &[ReplicaSetState]) -> String {
    let describe = |rs: &ReplicaSetState| {
        let revision = rs.revision.map_or("?".into(), |r| r.to_string());
        format!("{revision} ({})", rs.images.join(", "))
    };
    match sets {
        [] => String::new(),
        [only] => format!("; revision {}", describe(only)),
        [newest, previous, ..] => {
            format!(
                "; revision {} after {}",
                describe(newest),
                describe(previous)
            )
        }
    }
}

fn pods_line(pods: &Collected<Vec<PodEntry>>) -> String {
    let pods = match pods {
        Collected::Known(pods) => pods,
        Collected::Unknown { reason } => return format!("pods unknown ({reason})"),
    };
    if pods.is_empty() {
        return "no pods".into();
    }
    let mut troubled: Vec<&PodEntry> = pods.iter().filter(|p| !p.pod.ready).collect();
    if troubled.is_empty() {
        return format!("{}, all ready", counted(pods.len(), "pod"));
    }
    troubled.sort_by_key(|p| std::cmp::Reverse(p.pod.restarts));
    let mut parts: Vec<String> = troubled
        .iter()
        .take(PODS_SHOWN)
        .map(|p| format!("pod {}", pod_state(p)))
        .collect();
    let hidden = troubled.len().saturating_sub(PODS_SHOWN);
    if hidden > 0 {
        parts.push(format!("{hidden} more not ready"));
    }
    let ready = pods.len() - troubled.len();
    if ready > 0 {
        parts.push(format!("{ready} ready"));
    }
    parts.join("; ")
}

/// `checkout-x ImagePullBackOff, 0 restarts`.
fn pod_state(p: &PodEntry) -> String {
    let state = p.pod.reason.as_deref().unwrap_or(&p.pod.phase);
    format!(
        "{} {state}, {}",
        p.pod.name,
        counted(p.pod.restarts, "restart")
    )
}

/// `last events: Failed ×3 (Error: ImagePullBackOff); BackOff ×2 (…)`: reasons grouped,
/// warnings first, then newest first.
pub(super) fn events_line(label: &str, events: &Collected<Vec<EventEntry>>) -> String {
    let events = match events {
        Collected::Known(events) => events,
        Collected::Unknown { reason } => return format!("{label} unknown ({reason})"),
    };
    let mut reasons: Vec<(&str, i32, &str, bool)> = Vec::new();
    for event in events {
        match reasons.iter_mut().find(|(r, ..)| *r == event.reason) {
            Some(seen) => seen.1 += event.count,
            None => {
                let warning = event.kind == "Warning";
                reasons.push((&event.reason, event.count, &event.message, warning));
            }
        }
    }
    // Warnings say what is wrong; Normal events (Pulled, Scheduled) mostly say it was tried.
    reasons.sort_by_key(|(.., warning)| !warning);
    if reasons.is_empty() {
        return format!("{label}: none");
    }
    let shown: Vec<String> = reasons
        .iter()
        .take(REASONS_SHOWN)
        .map(|(reason, count, message, _)| format!("{reason} ×{count} ({})", shorten(message)))
        .collect();
    format!("{label}: {}", shown.join("; "))
}

/// `1 pod`, `2 pods`, `0 restarts`.
pub(super) fn counted(n: impl std::fmt::Display, word: &str) -> String {
    let n = n.to_string();
    if n == "1" {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn shorten(text: &str) -> String {
    match text.char_indices().nth(MESSAGE_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

fn pod_lines(p: &PodEvidence, with_events: bool) -> Vec<String> {
    let entry = &p.pod;
    let mut line = format!(
        "Pod {}, {}",
        pod_state(entry),
        if entry.pod.ready {
            "ready"
        } else {
            "not ready"
        }
    );
    if let Some(node) = &entry.pod.node {
        let _ = write!(line, ", on {node}");
    }
    if let Some(age) = entry.age_seconds {
        let _ = write!(line, ", age {}", age_text(age));
    }
    let _ = write!(line, "; {}", p.owner_chain.join(" → "));
    let mut lines = vec![line];
    if with_events {
        lines.push(events_line("pod events", &p.events));
    }
    lines
}

/// `45s`, `12m`, `3h`, `2d`, as kubectl prints ages.
pub fn age_text(seconds: i64) -> String {
    match seconds {
        ..0 => "0s".into(),
        0..120 => format!("{seconds}s"),
        120..7_200 => format!("{}m", seconds / 60),
        7_200..172_800 => format!("{}h", seconds / 3_600),
        _ => format!("{}d", seconds / 86_400),
    }
}
