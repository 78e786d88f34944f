//! `/incident status <id>` and `/incident list` as signed Slack slash commands, answered in
//! the channel.

use std::time::Duration;

use crate::bot::eventually;
use crate::chat::{slack_command, slack_prompt};
use crate::slack;
use crate::world::{ALICE_SLACK, Options, World};

/// Waits for a message to the channel (not in a thread) containing every one of `needles`.
async fn answered(world: &World, needles: &[&str]) -> String {
    eventually(
        &world.bot,
        Duration::from_secs(20),
        &format!("an answer containing {needles:?}"),
        || async {
            world
                .slack
                .sent_to("chat.postMessage")
                .into_iter()
                .filter(|s| s.params["channel"] == slack::CHANNEL)
                .filter(|s| s.params["thread_ts"].is_null())
                .map(|s| s.params.to_string())
                .find(|text| needles.iter().all(|n| text.contains(n)))
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incident_status_and_list_answer_over_slack_commands() {
    let world = World::start("conv-commands", Options::default()).await;
    let incident = world.fire().await;
    slack_prompt(&world, &incident, 1).await;

    let status = slack_command(&world, ALICE_SLACK, &format!("status {incident}")).await;
    assert_eq!(status, 200);
    answered(&world, &["alice:", incident.as_str(), "awaiting approval"]).await;

    let status = slack_command(&world, ALICE_SLACK, "list").await;
    assert_eq!(status, 200);
    answered(&world, &["alice:", "open incident", incident.as_str()]).await;

    let status = slack_command(&world, ALICE_SLACK, "frobnicate").await;
    assert_eq!(status, 200);
    answered(&world, &["alice:", "help"]).await;
    world.slack.assert_valid();
}
