use chrono::{TimeZone, Utc};

use super::*;
use crate::incidents::IncidentId;
use crate::incidents::model::Severity;

fn choice(label: &str, approves: bool) -> Choice {
    Choice {
        label: label.into(),
        token: format!("tok-{label}"),
        approves,
    }
}

fn prompt_with(choices: Vec<Choice>) -> Prompt {
    Prompt {
        incident: IncidentId::from_stored("inc-1"),
        severity: Severity::Warning,
        title: "Approve restart".into(),
        action: "restart".into(),
        target: "c/ns/Deployment/web".into(),
        why_now: "crash loop".into(),
        impact: "pods restart".into(),
        fallback: "none".into(),
        expires_at: Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap(),
        cause: "OOM".into(),
        confidence: "high".into(),
        evidence: "3 restarts".into(),
        guardrails: vec![],
        verification: "ready".into(),
        dry_run: "none".into(),
        choices,
        details_url: None,
    }
}

fn action_ids(content: &SlackMessageContent) -> Vec<String> {
    let blocks = content.blocks.clone().unwrap_or_default();
    let Some(SlackBlock::Actions(actions)) = blocks.last() else {
        panic!("the last block holds the buttons");
    };
    serde_json::to_value(&actions.elements)
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["action_id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn repeated_kinds_of_choice_get_distinct_action_ids() {
    let choices = vec![
        choice("Approve", true),
        choice("Reject", false),
        choice("Approve twice", true),
    ];
    let content = prompt(&prompt_with(choices)).unwrap();
    assert_eq!(action_ids(&content), ["approve", "reject", "approve-2"]);
}

#[test]
fn shortened_mrkdwn_never_ends_in_half_an_entity() {
    let text = escape(&"a&".repeat(100));
    let out = fit_mrkdwn(&text, 10, None);
    assert!(out.chars().count() <= 10, "{out}");
    assert!(out.ends_with("a…") || out.ends_with(";…"), "{out}");
}

#[test]
fn escape_covers_slacks_three_control_characters() {
    assert_eq!(escape("<@U1> & <!here>"), "&lt;@U1&gt; &amp; &lt;!here&gt;");
}

#[test]
fn closing_twice_from_the_kept_body_gives_the_same_message() {
    let body = prompt_body(&prompt_with(vec![choice("Approve", true)]));
    let once = closed(Some(body.clone()), "Approved by alice");
    let twice = closed(Some(body), "Approved by alice");
    assert_eq!(once, twice);
    let blocks = once.blocks.unwrap();
    assert!(matches!(blocks[0], SlackBlock::Header(_)));
    assert!(!blocks.iter().any(|b| matches!(b, SlackBlock::Actions(_))));
}

#[test]
fn an_empty_reply_still_has_a_non_empty_section() {
    let content = reply("");
    assert_eq!(content.blocks.map(|b| b.len()), Some(1));
}
