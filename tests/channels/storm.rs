//! An alert storm: a thousand alerts of one group become a handful of messages, none lost, sent
//! no faster than Slack's one message per second per channel.

use std::sync::Arc;
use std::time::Duration;

use robot_sre::channels::Notice;
use robot_sre::incidents::IncidentId;
use robot_sre::incidents::model::{Environment, Severity};

use crate::harness::{Doubles, bot, routing};

const STORM: usize = 1000;

/// How many alerts one posted message stands for: "N alerts in group …" or a single alert.
fn alerts_in(params: &serde_json::Value) -> usize {
    let text = params.to_string();
    let marker = " alerts in group storm";
    match text.find(marker) {
        Some(end) => {
            let digits: String = text[..end]
                .chars()
                .rev()
                .take_while(char::is_ascii_digit)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            digits.parse().expect("a count before the marker")
        }
        None => 1,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_storm_of_a_thousand_alerts_for_one_group_becomes_a_few_messages_within_the_limit() {
    let doubles = Doubles::start().await;
    let bot = Arc::new(bot(&doubles, routing()));

    let sends = (0..STORM).map(|i| {
        let bot = bot.clone();
        tokio::spawn(async move {
            let notice = Notice {
                incident: IncidentId::generate(),
                severity: Severity::Warning,
                title: format!("disk pressure {i}"),
                body: "node lab-1 DiskPressure".into(),
                details_url: None,
            };
            bot.router
                .notify("storm", notice, Environment::Staging)
                .await
        })
    });
    for send in futures::future::join_all(sends).await {
        send.unwrap().expect("a storm is delivered, not dropped");
    }

    let posts = doubles.slack.sent_to("chat.postMessage");
    assert!(posts.len() <= 5, "{} messages for one group", posts.len());
    let carried: usize = posts.iter().map(|p| alerts_in(&p.params)).sum();
    assert_eq!(carried, STORM, "every alert is carried by some message");
    for pair in posts.windows(2) {
        let gap = pair[1].at.duration_since(pair[0].at);
        assert!(
            gap >= Duration::from_millis(900),
            "{gap:?} between messages"
        );
    }
    doubles.assert_valid();
}
