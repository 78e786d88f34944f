//! The conversation loop under crashes and concurrency, end to end on real parts: the
//! `robot-sre serve` binary (one or two processes sharing one real Redis), the lab's control
//! plane with a stuck rollout, and the Slack double (the one stand-in, checking every request
//! against Slack's published spec). Alerts are posted straight to the bot's webhook.
//!
//! - `concurrency`: two replicas, one prompt, a hundred concurrent signed clicks → exactly one
//!   rollback, one packet, one approving decision;
//! - `crash`: the bot SIGKILLs itself after an approval, or after ops applied the rollback;
//!   a restarted bot finishes the incident once.

#[allow(unused_imports)]
#[path = "../../doubles/slack/mod.rs"]
mod slack;

mod bot;
mod concurrency;
mod crash;
mod fixture;

use std::time::Duration;

use robot_sre::audit::AuditKind;
use robot_sre::incidents::IncidentId;
use robot_sre::ops::packet::Status;

use self::bot::{Bot, View};
use self::fixture::Fixture;

/// Alert → evidence from the lab → policy → prompt accepted by the double.
const PROMPT_DEADLINE: Duration = Duration::from_secs(90);
/// Approval → rollback → verification PASS (the lab's rollout included), or a restarted bot's
/// lease wait and resumption before that.
const OUTCOME_DEADLINE: Duration = Duration::from_secs(180);

/// Thread replies that report a verification PASS.
fn pass_replies(slack: &slack::Double) -> usize {
    slack
        .sent_to("chat.postMessage")
        .iter()
        .filter(|sent| !sent.params["thread_ts"].is_null())
        .filter(|sent| sent.params.to_string().contains("Verification PASS"))
        .count()
}

/// Waits for the PASS reply in the thread; panics with the bots' logs without it.
async fn wait_for_pass_reply(fixture: &Fixture, bots: &[&Bot]) {
    let replied = robot_sre::testkit::process::poll_until(
        OUTCOME_DEADLINE,
        Duration::from_millis(100),
        || async { (pass_replies(&fixture.slack) > 0).then_some(()) },
    )
    .await;
    if replied.is_none() {
        panic!("no PASS reply in the thread\n{}", logs(bots));
    }
}

/// Checks the incident ended as exactly one execution: one packet, Verified, with one write;
/// one approving decision in the audit trail; one PASS reply; and the Deployment rolled back
/// exactly once since `before` (revision and generation each one higher).
async fn assert_executed_once(
    fixture: &Fixture,
    view: &View,
    incident: &IncidentId,
    before: (u64, i64),
    bots: &[&Bot],
) {
    let packets = view.packets(incident).await;
    assert_eq!(packets.len(), 1, "one packet: {packets:#?}\n{}", logs(bots));
    let packet = &packets[0];
    assert_eq!(packet.status, Status::Verified, "{}", logs(bots));
    assert_eq!(packet.applied.len(), 1, "one write: {:#?}", packet.applied);
    let decisions = view.records(incident, AuditKind::ApprovalDecision).await;
    let approving: Vec<_> = decisions
        .iter()
        .filter(|r| r.entry.reason.starts_with("approved by"))
        .collect();
    assert_eq!(approving.len(), 1, "one approving decision: {decisions:#?}");
    // A losing click that read the token just before the winner took it is refused, and the
    // refusal is audited too; nothing else may be there.
    assert!(
        decisions
            .iter()
            .filter(|r| !r.entry.reason.starts_with("approved by"))
            .all(|r| r.entry.reason.starts_with("approval refused:")),
        "no other decision than refusals: {decisions:#?}"
    );
    assert_eq!(
        fixture.revision().await,
        (before.0 + 1, before.1 + 1),
        "one rollback since (revision, generation) {before:?}"
    );
    assert_eq!(pass_replies(&fixture.slack), 1, "one PASS reply");
    fixture.slack.assert_valid();
}

fn logs(bots: &[&Bot]) -> String {
    bots.iter()
        .map(|bot| format!("--- bot {} ---\n{}", bot.base(), bot.log_tail(60)))
        .collect::<Vec<_>>()
        .join("\n")
}
