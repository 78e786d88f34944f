//! The shipped template definitions (`deploy/whatsapp-templates.json`) agree with what the
//! adapter sends: same names, as many body parameters, and a quick reply per payload.

use robot_sre::channels::{Channel, Notice};
use robot_sre::incidents::IncidentId;
use robot_sre::incidents::model::Severity;
use serde_json::Value;

use crate::helpers::{ALICE, prompt, sent, spawn};

fn shipped(name: &str) -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/deploy/whatsapp-templates.json"
    );
    let all: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    all.into_iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("{name} is shipped"))
}

fn component<'a>(template: &'a Value, kind: &str) -> Option<&'a Value> {
    template["components"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == kind)
}

/// The placeholders `{{1}}`…`{{n}}` of the body, checked to be numbered 1..n and not at either
/// end of the text (Meta rejects templates that start or end with a variable).
fn placeholders(template: &Value) -> usize {
    let text = component(template, "BODY").unwrap()["text"]
        .as_str()
        .unwrap();
    let count = text.matches("{{").count();
    for n in 1..=count {
        assert!(
            text.contains(&format!("{{{{{n}}}}}")),
            "{{{{{n}}}}} in {text}"
        );
    }
    assert!(!text.starts_with("{{") && !text.ends_with("}}"), "{text}");
    let examples = component(template, "BODY").unwrap()["example"]["body_text"][0]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(examples, count, "one example per placeholder");
    count
}

fn sent_parameters(body: &Value) -> (usize, usize) {
    let components = body["template"]["components"].as_array().unwrap();
    let body_parameters = components.iter().find(|c| c["type"] == "body").unwrap()["parameters"]
        .as_array()
        .unwrap()
        .len();
    let buttons = components.iter().filter(|c| c["type"] == "button").count();
    (body_parameters, buttons)
}

#[tokio::test]
async fn shipped_approval_template_matches_what_the_adapter_sends() {
    let bot = spawn(&[ALICE]).await;
    bot.channel.send_prompt(&prompt()).await.unwrap();
    let body = sent(&bot.double, 0);
    let template = shipped(body["template"]["name"].as_str().unwrap());
    let quick_replies: Vec<&str> = component(&template, "BUTTONS").unwrap()["buttons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        quick_replies,
        ["Approve", "Reject"],
        "Approve is index 0, Reject index 1"
    );
    assert_eq!(
        sent_parameters(&body),
        (placeholders(&template), quick_replies.len())
    );
    assert_eq!(template["language"], body["template"]["language"]["code"]);
}

#[tokio::test]
async fn shipped_alert_template_matches_what_the_adapter_sends() {
    let bot = spawn(&[ALICE]).await;
    let notice = Notice {
        incident: IncidentId::from_stored("inc-t"),
        severity: Severity::Info,
        title: "Backup finished".into(),
        body: "nightly backup done".into(),
        details_url: Some("https://robot-sre.example/i/inc-t".into()),
    };
    bot.channel.send_notice(&notice).await.unwrap();
    let body = sent(&bot.double, 0);
    let template = shipped(body["template"]["name"].as_str().unwrap());
    assert!(component(&template, "BUTTONS").is_none());
    assert_eq!(sent_parameters(&body), (placeholders(&template), 0));
}
