//! Crash drills: the bot SIGKILLs itself (`ROBOT_SRE_FAULT_KILL_AT`) between approval and
//! execution, or between execution and verification; a bot restarted without the drill
//! finishes the incident, once.

use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

use robot_sre::conversations::state::StateName;
use robot_sre::ops::packet::Status;

use super::bot::{APPROVERS, Bot, View, post_stuck_rollout, press_approve};
use super::fixture::{DEPLOYMENT, Fixture};
use super::{OUTCOME_DEADLINE, PROMPT_DEADLINE, assert_executed_once, logs, wait_for_pass_reply};

/// A death the drill causes comes right after the click is handled.
const DEATH_DEADLINE: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incident_completes_once_when_the_bot_is_killed_after_the_approval() {
    let fixture = Fixture::start("conv-kill-approval").await;
    let (view, incident, before, doomed) = approve_and_die(&fixture, "after_approval").await;

    let stored = view.conversation(&incident).await.expect("a conversation");
    assert_eq!(
        stored.state.name(),
        StateName::Approved,
        "{:?}",
        stored.state
    );
    assert!(
        !stored.effects.is_empty(),
        "the execution is stored as owed"
    );
    assert!(view.packets(&incident).await.is_empty(), "nothing ran yet");
    assert_eq!(fixture.revision().await, before, "nothing was written yet");

    restart_and_finish(&fixture, &view, &incident, before, &doomed).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incident_completes_once_when_the_bot_is_killed_after_the_apply() {
    let fixture = Fixture::start("conv-kill-apply").await;
    let (view, incident, before, doomed) = approve_and_die(&fixture, "after_apply").await;

    let packets = view.packets(&incident).await;
    assert_eq!(packets.len(), 1, "{packets:#?}");
    assert_eq!(packets[0].status, Status::Applied, "applied, not verified");
    assert_eq!(
        fixture.revision().await,
        (before.0 + 1, before.1 + 1),
        "the rollback was written before the death"
    );

    restart_and_finish(&fixture, &view, &incident, before, &doomed).await;
}

/// Starts a bot armed to die at `point`, gets a prompt, approves it and waits for the death.
async fn approve_and_die(
    fixture: &Fixture,
    point: &str,
) -> (View, robot_sre::incidents::IncidentId, (u64, i64), Bot) {
    let mut doomed = Bot::start(&fixture.setup, "doomed", Some(point)).await;
    let view = View::new(&fixture.setup);
    let incident = post_stuck_rollout(doomed.base(), &fixture.ns.name, DEPLOYMENT).await;
    let Some(prompt) = view
        .wait_for_slack_prompt(&fixture.slack, &incident, PROMPT_DEADLINE)
        .await
    else {
        let state = view.conversation(&incident).await.map(|c| c.state);
        panic!(
            "no prompt on Slack; conversation {state:?}\n{}",
            logs(&[&doomed])
        );
    };
    let before = fixture.revision().await;
    assert_eq!(
        press_approve(doomed.base(), APPROVERS[0], &prompt, 1).await,
        200
    );
    let Some(status) = doomed.exited(DEATH_DEADLINE).await else {
        panic!("the drill did not kill the bot\n{}", logs(&[&doomed]));
    };
    assert_eq!(status.signal(), Some(9), "killed by SIGKILL: {status:?}");
    (view, incident, before, doomed)
}

/// Starts a bot without the drill and expects it to finish the incident exactly once.
async fn restart_and_finish(
    fixture: &Fixture,
    view: &View,
    incident: &robot_sre::incidents::IncidentId,
    before: (u64, i64),
    doomed: &Bot,
) {
    let restarted = Bot::start(&fixture.setup, "restarted", None).await;
    let bots = [doomed, &restarted];
    let ended = [StateName::Resolved, StateName::Failed, StateName::Escalated];
    let Some(done) = view
        .wait_for_state(incident, &ended, OUTCOME_DEADLINE)
        .await
    else {
        let state = view.conversation(incident).await.map(|c| c.state);
        panic!(
            "the restarted bot did not finish; conversation {state:?}\n{}",
            logs(&bots)
        );
    };
    assert_eq!(
        done.state.name(),
        StateName::Resolved,
        "{:?}\n{}",
        done.state,
        logs(&bots)
    );
    wait_for_pass_reply(fixture, &bots).await;
    assert_executed_once(fixture, view, incident, before, &bots).await;
}
