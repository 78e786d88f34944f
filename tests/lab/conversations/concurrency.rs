//! Two bot replicas sharing one Redis, a hundred concurrent clicks on one prompt.

use futures::future::join_all;
use robot_sre::conversations::state::StateName;

use super::bot::{APPROVERS, Bot, View, approve_buttons, post_stuck_rollout, press_approve};
use super::fixture::{DEPLOYMENT, Fixture};
use super::{OUTCOME_DEADLINE, PROMPT_DEADLINE, assert_executed_once, logs, wait_for_pass_reply};

const CLICKS: u32 = 100;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_approval_executes_once_when_two_replicas_get_a_hundred_concurrent_clicks() {
    let fixture = Fixture::start("conv-clicks").await;
    let one = Bot::start(&fixture.setup, "replica-one", None).await;
    let two = Bot::start(&fixture.setup, "replica-two", None).await;
    let bots = [&one, &two];
    let view = View::new(&fixture.setup);

    let incident = post_stuck_rollout(one.base(), &fixture.ns.name, DEPLOYMENT).await;
    let Some(prompt) = view
        .wait_for_slack_prompt(&fixture.slack, &incident, PROMPT_DEADLINE)
        .await
    else {
        let state = view.conversation(&incident).await.map(|c| c.state);
        panic!(
            "no prompt on Slack; conversation {state:?}\n{}",
            logs(&bots)
        );
    };
    assert_eq!(approve_buttons(&fixture.slack).len(), 1, "one prompt");
    let before = fixture.revision().await;

    // Alternate replicas and approvers; every press is a distinct interaction (its own
    // action_ts), correctly signed, all in flight at once.
    let presses = (0..CLICKS).map(|n| {
        let bot = bots[(n % 2) as usize];
        let user = APPROVERS[((n / 2) % 2) as usize];
        press_approve(bot.base(), user, &prompt, n)
    });
    let statuses = join_all(presses).await;
    assert!(
        statuses.iter().all(|s| *s == 200),
        "every press acknowledged: {statuses:?}"
    );

    let ended = [StateName::Resolved, StateName::Failed, StateName::Escalated];
    let done = view
        .wait_for_state(&incident, &ended, OUTCOME_DEADLINE)
        .await
        .unwrap_or_else(|| panic!("the incident did not end\n{}", logs(&bots)));
    assert_eq!(
        done.state.name(),
        StateName::Resolved,
        "{:?}\n{}",
        done.state,
        logs(&bots)
    );
    wait_for_pass_reply(&fixture, &bots).await;
    assert_executed_once(&fixture, &view, &incident, before, &bots).await;
}
