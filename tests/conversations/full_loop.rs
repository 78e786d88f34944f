//! The whole loop: Alertmanager → bot → prompt → signed approval → rollback on the lab →
//! verification PASS → thread reply and closed prompt → audit trail and evidence packet; on
//! Slack, and on Telegram when Slack is down.

use std::time::Duration;

use robot_sre::audit::AuditKind;
use robot_sre::conversations::state::StateName;
use robot_sre::incidents::IncidentId;
use robot_sre::ops::packet::Status;
use robot_sre::testkit::lab::scenarios;

use crate::bot::eventually;
use crate::chat::{
    PROMPT_FIELDS, slack_click, slack_closed, slack_prompt, slack_reply, telegram_click,
    telegram_prompt,
};
use crate::world::{ALICE_SLACK, ALICE_TELEGRAM, CHAT, Options, World};

/// Waits for the conversation to reach `state`.
pub async fn reaches(world: &World, incident: &IncidentId, state: StateName) {
    eventually(
        &world.bot,
        Duration::from_secs(90),
        &format!("the conversation {state:?}"),
        || async {
            let conversation = world.stored.conversation(incident).await?;
            (conversation.state.name() == state).then_some(())
        },
    )
    .await;
}

/// The Deployment is rolled back to its healthy image and available again.
pub async fn rolled_back(world: &World) {
    eventually(
        &world.bot,
        Duration::from_secs(60),
        "the Deployment back on its previous image and available",
        || async {
            let deployment = world.deployments().get(&world.deployment).await.ok()?;
            let image = world.image().await;
            (!image.contains("fault-") && scenarios::is_available(&deployment)).then_some(())
        },
    )
    .await;
}

/// The audit trail holds every step of an approved, verified action, and the evidence packet
/// is stored with a verified status.
pub async fn audited_and_packed(world: &World, incident: &IncidentId) {
    let trail = world.stored.trail(incident).await;
    let kinds: Vec<AuditKind> = trail.iter().map(|r| r.entry.kind).collect();
    for kind in [
        AuditKind::PolicyDecision,
        AuditKind::ApprovalRequested,
        AuditKind::ApprovalDecision,
        AuditKind::ActionResult,
        AuditKind::Verification,
    ] {
        assert!(
            kinds.contains(&kind),
            "no {kind} in the audit trail: {kinds:?}"
        );
    }
    let packet = world
        .stored
        .packet(incident)
        .await
        .expect("an evidence packet");
    assert_eq!(packet.status, Status::Verified, "{packet:?}");
    assert_eq!(&packet.request.incident, incident);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approval_on_slack_rolls_back_verifies_and_reports_when_alertmanager_fires() {
    let world = World::start("conv-slack", Options::default()).await;
    let broken = world.image().await;
    let incident = world.fire().await;

    let prompt = slack_prompt(&world, &incident, 1).await;
    let text = prompt.text();
    for field in PROMPT_FIELDS {
        assert!(text.contains(&format!("*{field}*")), "no {field} in {text}");
    }
    let target = format!("{}/Deployment/{}", world.ns.name, world.deployment);
    assert!(text.contains(&target), "target not shown: {text}");
    assert!(text.to_lowercase().contains("rollback"), "{text}");
    assert_eq!(world.image().await, broken, "nothing runs before approval");

    let status = slack_click(&world, ALICE_SLACK, &prompt.ts, &prompt.approve, true).await;
    assert_eq!(status, 200);
    reaches(&world, &incident, StateName::Resolved).await;
    rolled_back(&world).await;

    slack_reply(&world, &prompt.ts, "Verification PASS").await;
    slack_closed(&world, &prompt.ts, "Verification PASS").await;
    audited_and_packed(&world, &incident).await;
    assert!(
        world.telegram.calls("sendMessage").is_empty(),
        "Slack took the prompt: nothing goes to Telegram"
    );
    world.slack.assert_valid();
    world.telegram.assert_valid();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approval_on_telegram_rolls_back_when_slack_is_down() {
    let options = Options {
        slack_down: true,
        ..Options::default()
    };
    let world = World::start("conv-telegram", options).await;
    let incident = world.fire().await;

    let (message_id, approve, _reject) = telegram_prompt(&world).await;
    let shown = world
        .telegram
        .message(CHAT, message_id)
        .expect("the prompt");
    for field in PROMPT_FIELDS {
        assert!(shown.text.contains(field), "no {field} in {}", shown.text);
    }
    telegram_click(&world, ALICE_TELEGRAM, message_id, &approve).await;
    reaches(&world, &incident, StateName::Resolved).await;
    rolled_back(&world).await;

    eventually(
        &world.bot,
        Duration::from_secs(30),
        "a PASS reply in the Telegram thread and the keyboard gone",
        || async {
            let replied = world.telegram.calls("sendMessage").iter().any(|p| {
                p["text"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("Verification PASS")
                    && p["reply_parameters"]["message_id"] == message_id
            });
            let message = world.telegram.message(CHAT, message_id)?;
            let closed = message
                .reply_markup
                .as_ref()
                .is_none_or(|m| m["inline_keyboard"].as_array().is_none_or(|k| k.is_empty()));
            (replied && closed).then_some(())
        },
    )
    .await;
    audited_and_packed(&world, &incident).await;
    world.slack.assert_valid();
    world.telegram.assert_valid();
}
