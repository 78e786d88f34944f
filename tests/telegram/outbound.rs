//! Prompts, alerts, replies, outcomes, the command menu and health, against the double.

use robot_sre::channels::{Channel, ChannelKind, Health, Notice};
use robot_sre::incidents::IncidentId;
use robot_sre::incidents::model::Severity;
use serde_json::json;

use crate::helpers::{APPROVE_TOKEN, CHAT, Harness, prompt};

#[tokio::test]
async fn send_prompt_posts_html_with_approve_and_reject_buttons_carrying_the_tokens() {
    let h = Harness::start().await;
    let sent = h.channel.send_prompt(&prompt()).await.unwrap();
    assert_eq!(sent.channel, ChannelKind::Telegram);
    assert_eq!(sent.conversation, CHAT.to_string());
    let call = &h.double.calls("sendMessage")[0];
    assert_eq!(call["chat_id"], json!(CHAT));
    assert_eq!(call["parse_mode"], json!("HTML"));
    let text = call["text"].as_str().unwrap();
    assert!(
        text.starts_with("<b>Approve rollback of deployment checkout"),
        "{text}"
    );
    assert!(text.contains("&lt;not found&gt; &amp; 2 Running"), "{text}");
    let row = &call["reply_markup"]["inline_keyboard"][0];
    assert_eq!(row[0]["text"], json!("Approve"));
    assert_eq!(row[0]["callback_data"], json!(format!("a:{APPROVE_TOKEN}")));
    assert_eq!(row[1]["text"], json!("Reject"));
    assert!(
        row[1]["callback_data"]
            .as_str()
            .unwrap()
            .starts_with("r:tok_reject_")
    );
    h.double.assert_valid();
}

#[tokio::test]
async fn send_notice_posts_the_alert_to_the_incident_chat_without_buttons() {
    let h = Harness::start().await;
    let notice = Notice {
        incident: IncidentId::from_stored("inc-1"),
        severity: Severity::Warning,
        title: "Disk pressure on node-3".into(),
        body: "93% used on /var/lib/containerd".into(),
        details_url: None,
    };
    let sent = h.channel.send_notice(&notice).await.unwrap();
    let stored = h.double.message(CHAT, sent.id.parse().unwrap()).unwrap();
    assert!(stored.text.contains("93% used on /var/lib/containerd"));
    assert_eq!(stored.reply_markup, None);
    h.double.assert_valid();
}

#[tokio::test]
async fn reply_quotes_the_original_message_with_reply_parameters() {
    let h = Harness::start().await;
    let prompt_ref = h.channel.send_prompt(&prompt()).await.unwrap();
    let reply = h
        .channel
        .reply(&prompt_ref, "Executing rollback <rev 41>")
        .await
        .unwrap();
    assert_ne!(reply.id, prompt_ref.id);
    let call = &h.double.calls("sendMessage")[1];
    let quoted: i64 = prompt_ref.id.parse().unwrap();
    assert_eq!(call["reply_parameters"]["message_id"], json!(quoted));
    assert_eq!(call["text"], json!("Executing rollback <rev 41>"));
    assert_eq!(call.get("parse_mode"), None, "replies are plain text");
    h.double.assert_valid();
}

#[tokio::test]
async fn reply_splits_a_long_text_into_parts_within_the_limit() {
    let h = Harness::start().await;
    let prompt_ref = h.channel.send_prompt(&prompt()).await.unwrap();
    let line = "pod checkout-7d9 restarted 🙂\n";
    let text = line.repeat(400);
    h.channel.reply(&prompt_ref, &text).await.unwrap();
    let parts: Vec<String> = h.double.calls("sendMessage")[1..]
        .iter()
        .map(|c| c["text"].as_str().unwrap().to_owned())
        .collect();
    assert!(parts.len() >= 3, "{} parts", parts.len());
    assert_eq!(parts.concat(), text, "nothing is lost");
    h.double.assert_valid();
}

#[tokio::test]
async fn close_prompt_removes_the_buttons_and_shows_the_outcome_under_the_prompt() {
    let h = Harness::start().await;
    let sent = h.channel.send_prompt(&prompt()).await.unwrap();
    let id: i64 = sent.id.parse().unwrap();
    let outcome = "Approved by alice on Telegram at 14:02 UTC";
    h.channel.close_prompt(&sent, outcome).await.unwrap();
    let markup_edit = &h.double.calls("editMessageReplyMarkup")[0];
    assert_eq!(markup_edit["message_id"], json!(id));
    assert_eq!(markup_edit.get("reply_markup"), None);
    let stored = h.double.message(CHAT, id).unwrap();
    assert_eq!(stored.reply_markup, None, "the buttons are gone");
    assert!(
        stored.text.starts_with("<b>Approve rollback"),
        "{}",
        stored.text
    );
    assert!(
        stored.text.ends_with(&format!("<b>{outcome}</b>")),
        "{}",
        stored.text
    );
    h.double.assert_valid();
}

#[tokio::test]
async fn close_prompt_again_succeeds_when_telegram_says_not_modified() {
    let h = Harness::start().await;
    let sent = h.channel.send_prompt(&prompt()).await.unwrap();
    h.channel
        .close_prompt(&sent, "Rejected by alice")
        .await
        .unwrap();
    h.channel
        .close_prompt(&sent, "Rejected by alice")
        .await
        .unwrap();
    assert_eq!(h.double.calls("editMessageText").len(), 2);
    h.double.assert_valid();
}

#[tokio::test]
async fn register_commands_sets_the_incident_command_menu() {
    let h = Harness::start().await;
    h.channel.register_commands().await.unwrap();
    let call = &h.double.calls("setMyCommands")[0];
    assert_eq!(call["commands"][0]["command"], json!("incident"));
    let description = call["commands"][0]["description"].as_str().unwrap();
    for sub in ["status", "list", "ack", "escalate", "help"] {
        assert!(description.contains(sub), "{description}");
    }
    h.double.assert_valid();
}

#[tokio::test]
async fn health_is_up_when_get_me_answers() {
    let h = Harness::start().await;
    assert_eq!(h.channel.health().await, Health::Up);
    assert_eq!(h.double.calls("getMe").len(), 1);
    h.double.assert_valid();
}

#[tokio::test]
async fn a_very_long_prompt_is_shortened_within_the_limits_with_the_details_link() {
    let h = Harness::start().await;
    let mut long = prompt();
    long.evidence = "event: Back-off pulling image <checkout:42> & retrying 🙂\n".repeat(300);
    long.dry_run = "ж".repeat(9000);
    long.title = "T".repeat(2000);
    let sent = h.channel.send_prompt(&long).await.unwrap();
    let text = h.double.calls("sendMessage")[0]["text"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(text.contains("Full text: https://robot-sre.example/incidents/inc-7k2m"));
    assert!(text.contains("<b>Expires:</b>"), "every field is kept");
    h.channel
        .close_prompt(&sent, &"outcome ".repeat(500))
        .await
        .unwrap();
    // The double checks 1-4096 characters after entity parsing on both the send and the edit.
    h.double.assert_valid();
}

#[tokio::test]
async fn set_webhook_registers_the_url_with_the_secret_and_the_update_kinds() {
    let h = Harness::start().await;
    let url = "https://bot.example/integrations/telegram/webhook"
        .parse()
        .unwrap();
    let secret = robot_sre::config::Secret::new(crate::telegram::WEBHOOK_SECRET);
    let result = h.channel.set_webhook(url, &secret).await;
    assert!(result.is_ok(), "{result:?}: {:?}", h.double.violations());
    let call = &h.double.calls("setWebhook")[0];
    assert_eq!(
        call["url"],
        json!("https://bot.example/integrations/telegram/webhook")
    );
    assert_eq!(call["secret_token"], json!(crate::telegram::WEBHOOK_SECRET));
    assert_eq!(
        call["allowed_updates"],
        json!(["message", "callback_query"])
    );
    h.double.assert_valid();
}
