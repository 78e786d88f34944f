//! Prompts, alerts, replies, closing and health against the double, inside and outside the
//! 24-hour window, within the documented limits.

use robot_sre::channels::{Channel, ChannelKind, Health, Notice};
use robot_sre::incidents::IncidentId;
use robot_sre::incidents::model::Severity;
use serde_json::Value;

use crate::double::Mode;
use crate::helpers::{ALICE, BOB, choice, prompt, sent, spawn, spawn_with};

fn buttons(body: &Value) -> Vec<(String, String)> {
    body.pointer("/interactive/action/buttons")
        .and_then(Value::as_array)
        .map(|buttons| {
            buttons
                .iter()
                .map(|b| {
                    (
                        b["reply"]["id"].as_str().unwrap().to_owned(),
                        b["reply"]["title"].as_str().unwrap().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn payloads(body: &Value) -> Vec<(String, String)> {
    body.pointer("/template/components")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|c| c["type"] == "button")
        .map(|c| {
            (
                c["index"].as_str().unwrap().to_owned(),
                c["parameters"][0]["payload"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn prompt_is_an_interactive_message_with_token_buttons_when_the_window_is_open() {
    let mut bot = spawn(&[ALICE]).await;
    bot.open_window(ALICE).await;
    let reference = bot.channel.send_prompt(&prompt()).await.unwrap();
    let body = sent(&bot.double, 0);
    assert_eq!(body["type"], "interactive");
    assert_eq!(body["to"], ALICE);
    assert_eq!(
        buttons(&body),
        [
            ("tok-approve".into(), "Approve".into()),
            ("tok-reject".into(), "Reject".into())
        ]
    );
    let text = body["interactive"]["body"]["text"].as_str().unwrap();
    assert!(text.contains("Why now: rollout stuck 12 min"), "{text}");
    assert_eq!(reference.channel, ChannelKind::WhatsApp);
    assert_eq!(reference.conversation, ALICE);
    assert!(reference.id.starts_with("wamid."), "{reference:?}");
    bot.double.assert_valid();
}

#[tokio::test]
async fn prompt_is_the_approval_template_with_token_payloads_outside_the_window() {
    let bot = spawn(&[ALICE]).await;
    bot.channel.send_prompt(&prompt()).await.unwrap();
    let body = sent(&bot.double, 0);
    assert_eq!(body["type"], "template");
    assert_eq!(body["template"]["name"], "robot_sre_approval");
    assert_eq!(body["template"]["language"]["code"], "en_US");
    assert_eq!(
        payloads(&body),
        [
            ("0".into(), "tok-approve".into()),
            ("1".into(), "tok-reject".into())
        ]
    );
    bot.double.assert_valid();
}

#[tokio::test]
async fn prompt_falls_back_to_the_template_when_whatsapp_reports_the_window_closed() {
    let mut bot = spawn(&[ALICE]).await;
    bot.open_window(ALICE).await;
    bot.double.enforce_window(&[]);
    bot.channel.send_prompt(&prompt()).await.unwrap();
    let statuses: Vec<(String, u16)> = bot
        .double
        .requests()
        .into_iter()
        .map(|r| (r.body["type"].as_str().unwrap_or("").to_owned(), r.status))
        .collect();
    assert_eq!(
        statuses,
        [("interactive".into(), 400), ("template".into(), 200)]
    );
    bot.double.assert_valid();
}

#[tokio::test]
async fn prompt_without_an_approval_template_sends_the_alert_template_with_the_link() {
    let bot = spawn_with(&[ALICE], 16, |s| s.templates.approval = None).await;
    bot.channel.send_prompt(&prompt()).await.unwrap();
    let body = sent(&bot.double, 0);
    assert_eq!(body["template"]["name"], "robot_sre_alert");
    let parameters = body["template"]["components"][0]["parameters"].to_string();
    assert!(
        parameters.contains("https://robot-sre.example/i/inc-0123456789ab"),
        "{parameters}"
    );
    assert!(parameters.contains("Reply \\\"approve\\\""), "{parameters}");
    bot.double.assert_valid();
}

#[tokio::test]
async fn notice_is_text_inside_the_window_and_the_alert_template_outside() {
    let mut bot = spawn(&[ALICE, BOB]).await;
    bot.open_window(ALICE).await;
    let notice = Notice {
        incident: IncidentId::from_stored("inc-notice"),
        severity: Severity::Warning,
        title: "Disk pressure on node-3".into(),
        body: "93% used on /var/lib/containerd\nno action proposed".into(),
        details_url: None,
    };
    bot.channel.send_notice(&notice).await.unwrap();
    let mut kinds: Vec<(String, String)> = bot
        .double
        .sent()
        .iter()
        .map(|b| {
            (
                b["to"].as_str().unwrap().to_owned(),
                b["type"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            (ALICE.into(), "text".into()),
            (BOB.into(), "template".into())
        ]
    );
    bot.double.assert_valid();
}

#[tokio::test]
async fn reply_quotes_the_prompt_for_every_recipient() {
    let mut bot = spawn(&[ALICE, BOB]).await;
    bot.open_window(ALICE).await;
    bot.open_window(BOB).await;
    let reference = bot.channel.send_prompt(&prompt()).await.unwrap();
    assert_eq!(bot.double.sent().len(), 2, "one prompt per recipient");
    bot.channel
        .reply(&reference, "Executing rollback")
        .await
        .unwrap();
    let replies: Vec<Value> = bot.double.sent().into_iter().skip(2).collect();
    assert_eq!(replies.len(), 2, "{replies:?}");
    for reply in &replies {
        assert_eq!(reply["type"], "text");
        assert_eq!(reply["text"]["body"], "Executing rollback");
        assert!(
            reply["context"]["message_id"]
                .as_str()
                .unwrap()
                .starts_with("wamid.")
        );
    }
    let quoted: std::collections::HashSet<&str> = replies
        .iter()
        .map(|r| r["context"]["message_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        quoted.len(),
        2,
        "each recipient's reply quotes their own copy"
    );
    bot.double.assert_valid();
}

#[tokio::test]
async fn close_prompt_replies_with_the_outcome_quoting_the_prompt() {
    let mut bot = spawn(&[ALICE]).await;
    bot.open_window(ALICE).await;
    let reference = bot.channel.send_prompt(&prompt()).await.unwrap();
    bot.channel
        .close_prompt(&reference, "Approved by alice on Slack at 14:02 UTC")
        .await
        .unwrap();
    let close = sent(&bot.double, 1);
    assert_eq!(close["context"]["message_id"], reference.id.as_str());
    let text = close["text"]["body"].as_str().unwrap();
    assert!(
        text.starts_with("Approved by alice on Slack at 14:02 UTC"),
        "{text}"
    );
    assert!(text.contains("no longer act"), "{text}");
    bot.double.assert_valid();
}

#[tokio::test]
async fn close_prompt_outside_the_window_uses_the_alert_template() {
    let bot = spawn(&[ALICE]).await;
    let reference = bot.channel.send_prompt(&prompt()).await.unwrap();
    bot.channel
        .close_prompt(&reference, "Expired at 14:32 UTC")
        .await
        .unwrap();
    let close = sent(&bot.double, 1);
    assert_eq!(close["template"]["name"], "robot_sre_alert");
    assert!(
        close["template"]
            .to_string()
            .contains("Expired at 14:32 UTC")
    );
    bot.double.assert_valid();
}

#[tokio::test]
async fn health_is_up_against_the_double_and_down_with_a_revoked_token() {
    let bot = spawn(&[ALICE]).await;
    assert_eq!(bot.channel.health().await, Health::Up);
    let request = bot.double.requests().pop().unwrap();
    assert_eq!((request.method.as_str(), request.status), ("GET", 200));
    bot.double.set_mode(Mode::InvalidAuth).await;
    match bot.channel.health().await {
        Health::Down { reason } => assert!(reason.contains("graph_190"), "{reason}"),
        Health::Up => panic!("a revoked token is not healthy"),
    }
}

#[tokio::test]
async fn long_prompt_fits_every_limit_with_the_details_link_inside_and_outside_the_window() {
    let mut bot = spawn(&[ALICE, BOB]).await;
    bot.open_window(ALICE).await;
    let mut long = prompt();
    long.title = "T".repeat(3000);
    long.evidence = "line of evidence\n".repeat(500);
    long.why_now = "because    \t spaces\n".repeat(100);
    bot.channel.send_prompt(&long).await.unwrap();
    let interactive = bot
        .double
        .sent()
        .into_iter()
        .find(|b| b["type"] == "interactive")
        .unwrap();
    let text = interactive["interactive"]["body"]["text"].as_str().unwrap();
    assert_eq!(text.chars().count(), 1024);
    assert!(
        text.ends_with("full text: https://robot-sre.example/i/inc-0123456789ab"),
        "{text}"
    );
    let header = interactive["interactive"]["header"]["text"]
        .as_str()
        .unwrap();
    assert!(header.chars().count() <= 60);
    assert!(bot.double.sent().iter().any(|b| b["type"] == "template"));
    bot.double.assert_valid();
}

#[tokio::test]
async fn many_choices_become_three_buttons_with_unique_titles_of_twenty_characters() {
    let mut bot = spawn(&[ALICE]).await;
    bot.open_window(ALICE).await;
    let mut many = prompt();
    many.choices = vec![
        choice("Approve the rollback to revision 41 now", "tok-1", true),
        choice("Approve the rollback to revision 41 later", "tok-2", true),
        choice("Reject", "tok-3", false),
        choice("Escalate", "tok-4", false),
    ];
    bot.channel.send_prompt(&many).await.unwrap();
    let buttons = buttons(&sent(&bot.double, 0));
    assert_eq!(buttons.len(), 3);
    let ids: Vec<&str> = buttons.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, ["tok-1", "tok-2", "tok-3"]);
    for (_, title) in &buttons {
        assert!(title.chars().count() <= 20, "{title}");
    }
    assert_ne!(buttons[0].1, buttons[1].1);
    bot.double.assert_valid();
}
