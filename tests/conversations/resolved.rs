//! An alert that resolves while its prompt waits: the prompt is withdrawn everywhere
//! ("resolved on its own") and nothing runs.

use robot_sre::conversations::state::StateName;

use crate::chat::{slack_click, slack_closed, slack_prompt, slack_reply};
use crate::full_loop::reaches;
use crate::world::{ALICE_SLACK, Options, World};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolved_alert_withdraws_the_prompt_while_awaiting_approval() {
    let world = World::start("conv-resolved", Options::default()).await;
    let broken = world.image().await;
    let incident = world.fire().await;
    let prompt = slack_prompt(&world, &incident, 1).await;

    world.resolve().await;
    reaches(&world, &incident, StateName::Resolved).await;
    slack_closed(&world, &prompt.ts, "on its own").await;

    // The withdrawn prompt's button no longer runs anything.
    let status = slack_click(&world, ALICE_SLACK, &prompt.ts, &prompt.approve, true).await;
    assert_eq!(status, 200);
    slack_reply(&world, &prompt.ts, "alice:").await;
    world.assert_nothing_ran(&incident, &broken).await;
    world.slack.assert_valid();
}
