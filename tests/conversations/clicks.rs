//! Clicks that must not run anything twice, late, for the wrong person, or on a target that
//! changed since the prompt.

use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Patch, PatchParams};
use robot_sre::audit::AuditKind;
use robot_sre::conversations::state::StateName;
use serde_json::json;

use crate::bot::eventually;
use crate::chat::{slack_click, slack_closed, slack_prompt, slack_reply, slack_thread};
use crate::full_loop::{audited_and_packed, reaches, rolled_back};
use crate::world::{ALICE_SLACK, BOB_SLACK, MALLORY_SLACK, Options, World};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clicks_run_once_when_unauthorized_doubled_and_replayed() {
    let world = World::start("conv-clicks", Options::default()).await;
    let broken = world.image().await;
    let incident = world.fire().await;
    let prompt = slack_prompt(&world, &incident, 1).await;

    // Someone known but not an approver: told why, audited, nothing runs.
    let status = slack_click(&world, MALLORY_SLACK, &prompt.ts, &prompt.approve, true).await;
    assert_eq!(status, 200);
    slack_reply(&world, &prompt.ts, "mallory: Not accepted").await;
    let refused = world
        .stored
        .audited(&incident, AuditKind::ApprovalDecision)
        .await;
    assert!(
        refused.iter().any(|r| r.entry.reason.contains("refused")),
        "{refused:?}"
    );
    let conversation = world.stored.conversation(&incident).await.unwrap();
    assert_eq!(conversation.state.name(), StateName::AwaitingApproval);
    assert_eq!(world.image().await, broken);

    // Two approvers press at once: exactly one execution, the other is told.
    let (a, b) = tokio::join!(
        slack_click(&world, ALICE_SLACK, &prompt.ts, &prompt.approve, true),
        slack_click(&world, BOB_SLACK, &prompt.ts, &prompt.approve, true),
    );
    assert_eq!((a, b), (200, 200));
    reaches(&world, &incident, StateName::Resolved).await;
    rolled_back(&world).await;
    let replies = slack_reply(&world, &prompt.ts, "Verification PASS").await;
    let told = |replies: &[String]| {
        replies
            .iter()
            .filter(|r| r.contains("already used") || r.contains("already answered"))
            .filter(|r| r.contains("alice:") || r.contains("bob:"))
            .count()
    };
    let answered = eventually(
        &world.bot,
        Duration::from_secs(20),
        "the losing click told it was already answered",
        || async {
            let replies = slack_thread(&world, &prompt.ts);
            (told(&replies) == 1).then_some(replies)
        },
    )
    .await;
    assert_eq!(
        world
            .stored
            .audited(&incident, AuditKind::ActionResult)
            .await
            .len(),
        1,
        "{replies:?}"
    );

    // The same approval replayed after success: refused, nothing runs again.
    let status = slack_click(&world, ALICE_SLACK, &prompt.ts, &prompt.approve, true).await;
    assert_eq!(status, 200);
    eventually(
        &world.bot,
        Duration::from_secs(20),
        "the replayed click told it was already answered",
        || async { (told(&slack_thread(&world, &prompt.ts)) == 2).then_some(()) },
    )
    .await;
    let results = world
        .stored
        .audited(&incident, AuditKind::ActionResult)
        .await;
    assert_eq!(results.len(), 1, "one execution only: {answered:?}");
    assert_eq!(
        world
            .stored
            .conversation(&incident)
            .await
            .unwrap()
            .state
            .name(),
        StateName::Resolved
    );
    audited_and_packed(&world, &incident).await;
    world.slack.assert_valid();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn click_after_expiry_is_refused_and_the_prompt_escalated() {
    let options = Options {
        prompt_expiry: Duration::from_secs(30),
        ..Options::default()
    };
    let world = World::start("conv-expiry", options).await;
    let broken = world.image().await;
    let incident = world.fire().await;
    let prompt = slack_prompt(&world, &incident, 1).await;

    // The sweeper closes the buttons and escalates, without anyone clicking.
    eventually(
        &world.bot,
        Duration::from_secs(75),
        "the conversation expired or escalated",
        || async {
            let state = world.stored.conversation(&incident).await?.state.name();
            matches!(state, StateName::Expired | StateName::Escalated).then_some(())
        },
    )
    .await;
    slack_closed(&world, &prompt.ts, "xpire").await;
    let escalations = world.stored.audited(&incident, AuditKind::Escalation).await;
    assert!(!escalations.is_empty(), "the expiry escalates");

    let status = slack_click(&world, ALICE_SLACK, &prompt.ts, &prompt.approve, true).await;
    assert_eq!(status, 200);
    slack_reply(&world, &prompt.ts, "alice: unknown or expired token").await;
    world.assert_nothing_ran(&incident, &broken).await;
    world.slack.assert_valid();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn click_after_the_target_changed_is_stale_and_asks_again() {
    let world = World::start("conv-stale", Options::default()).await;
    let incident = world.fire().await;
    let first = slack_prompt(&world, &incident, 1).await;

    // Someone scales the Deployment between the prompt and the click.
    let scale = json!({ "spec": { "replicas": 3 } });
    world
        .deployments()
        .patch(
            &world.deployment,
            &PatchParams::default(),
            &Patch::Merge(scale),
        )
        .await
        .expect("scaled");
    let status = slack_click(&world, ALICE_SLACK, &first.ts, &first.approve, true).await;
    assert_eq!(status, 200);
    slack_reply(&world, &first.ts, "target changed").await;
    let second = slack_prompt(&world, &incident, 2).await;
    assert_ne!(second.approve, first.approve, "a new prompt has new tokens");
    let deployment: Deployment = world.deployments().get(&world.deployment).await.unwrap();
    assert!(
        deployment.spec.unwrap().template.spec.unwrap().containers[0]
            .image
            .as_deref()
            .unwrap_or_default()
            .contains("fault-"),
        "the stale approval ran nothing"
    );

    // The old prompt's token is dead; the new prompt's approval runs.
    let status = slack_click(&world, ALICE_SLACK, &first.ts, &first.approve, true).await;
    assert_eq!(status, 200);
    let status = slack_click(&world, ALICE_SLACK, &second.ts, &second.approve, true).await;
    assert_eq!(status, 200);
    reaches(&world, &incident, StateName::Resolved).await;
    rolled_back(&world).await;
    world.slack.assert_valid();
}
