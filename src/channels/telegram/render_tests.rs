use chrono::{TimeZone, Utc};
use proptest::prelude::*;

use super::*;
use crate::incidents::IncidentId;
use crate::incidents::model::Severity;

/// The text Telegram shows for our HTML: tags dropped, the three entities decoded.
fn visible(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn prompt(evidence: &str) -> Prompt {
    Prompt {
        incident: IncidentId::from_stored("inc-1"),
        severity: Severity::Critical,
        title: "Approve rollback of deployment checkout in payments to revision 41".into(),
        action: "rollback".into(),
        target: "prod/payments/Deployment/checkout".into(),
        why_now: "rollout stuck 12 min <ProgressDeadlineExceeded> & 1/3 pods failing".into(),
        impact: "pods of revision 42 are replaced by 41".into(),
        fallback: "roll forward after the image is fixed".into(),
        expires_at: Utc.with_ymd_and_hms(2026, 1, 2, 14, 32, 0).unwrap(),
        cause: "bad image tag".into(),
        confidence: "high".into(),
        evidence: evidence.into(),
        guardrails: vec!["pass: min ready replicas (2 of 3 ready)".into()],
        verification: "rollout complete within 5m".into(),
        dry_run: "spec.template changes".into(),
        choices: vec![
            Choice {
                label: "Approve".into(),
                token: "t".repeat(43),
                approves: true,
            },
            Choice {
                label: "Reject".into(),
                token: "u".repeat(43),
                approves: false,
            },
        ],
        details_url: Some("https://bot.example/i/inc-1".into()),
    }
}

#[test]
fn prompt_html_escapes_markup_characters_in_values() {
    let html = prompt_html(&prompt("short"), None);
    assert!(
        html.contains("&lt;ProgressDeadlineExceeded&gt; &amp; 1/3"),
        "{html}"
    );
    assert!(html.starts_with("<b>Approve rollback"), "{html}");
    assert_eq!(visible(&html).lines().count(), 14, "{html}");
}

#[test]
fn prompt_html_keeps_every_field_and_the_link_when_a_value_is_huge() {
    let html = prompt_html(&prompt(&"é🙂<".repeat(5000)), Some("Approved by alice"));
    let shown = visible(&html);
    assert!(units(&shown) <= MAX_TEXT, "{}", units(&shown));
    for (label, _) in prompt("").fields() {
        assert!(shown.contains(&format!("{label}:")), "{label} missing");
    }
    assert!(shown.contains("Expires: 14:32 UTC"));
    assert!(shown.contains("Full text: https://bot.example/i/inc-1"));
    assert!(shown.ends_with("Approved by alice"));
}

#[test]
fn callback_data_carries_the_token_with_a_prefix_within_64_bytes() {
    let keyboard = keyboard(&prompt("").choices).unwrap();
    let json = serde_json::to_value(&keyboard).unwrap();
    let data = json["inline_keyboard"][0][0]["callback_data"]
        .as_str()
        .unwrap();
    assert_eq!(data, format!("a:{}", "t".repeat(43)));
    assert_eq!(token_of(data), "t".repeat(43));
    let reject = json["inline_keyboard"][0][1]["callback_data"]
        .as_str()
        .unwrap();
    assert_eq!(token_of(reject), "u".repeat(43));
}

#[test]
fn callback_data_drops_the_prefix_when_only_the_bare_token_fits() {
    let choice = Choice {
        label: "Approve".into(),
        token: "x".repeat(63),
        approves: true,
    };
    assert_eq!(callback_data(&choice).unwrap(), "x".repeat(63));
    let too_long = Choice {
        token: "x".repeat(65),
        ..choice
    };
    assert_eq!(keyboard(&[too_long]).unwrap_err(), "Approve");
}

#[test]
fn notice_html_shortens_a_long_body_with_the_details_link() {
    let notice = Notice {
        incident: IncidentId::from_stored("inc-2"),
        severity: Severity::Warning,
        title: "Disk <full>".into(),
        body: "x".repeat(10_000),
        details_url: Some("https://bot.example/i/inc-2".into()),
    };
    let html = notice_html(&notice);
    let shown = visible(&html);
    assert!(units(&shown) <= MAX_TEXT);
    assert!(
        shown.ends_with("… full text: https://bot.example/i/inc-2"),
        "{shown}"
    );
    assert!(html.starts_with("<b>Disk &lt;full&gt;</b>"));
}

proptest! {
    #[test]
    fn prompt_html_always_fits_whatever_the_field_lengths(
        evidence in ".{0,6000}",
        why in "[a-z<&🙂]{0,3000}",
        outcome in ".{0,2000}",
    ) {
        let mut p = prompt(&evidence);
        p.why_now = why;
        let shown = visible(&prompt_html(&p, Some(&outcome)));
        prop_assert!(units(&shown) <= MAX_TEXT);
    }

    #[test]
    fn split_parts_each_fit(text in "[a🙂\n]{0,9000}") {
        for part in split_units(&text) {
            prop_assert!(units(&part) <= MAX_TEXT);
        }
    }
}
