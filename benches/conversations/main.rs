//! Conversations benchmark: how long the whole loop takes where a human waits on it.
//!
//! Starts its own Kubernetes lab (2 simulated nodes), a throwaway redis-server, the Slack
//! double (the tests' double, checking every request against Slack's spec) and the real
//! `robot-sre serve` binary (a release build under `cargo bench`) configured against them, with
//! the bot's RBAC installed from the generated manifests for one namespace mapped to `staging`
//! (where policy asks approval for rolling back a stuck rollout). `BENCH_INCIDENTS` (default 20)
//! Deployments, plus 2 for warm-up that are not reported, are put into a stuck rollout with a
//! new pod in `ImagePullBackOff`. Then, one incident at a time:
//!
//! - **alert → prompt**: from just before a firing `KubeDeploymentRolloutStuck` alert is
//!   POSTed to `/webhooks/alertmanager` to the moment the Slack double received the
//!   `chat.postMessage` carrying the Approve button (ingest, evidence collection from the lab,
//!   policy, the ops proposal with its server-side dry run, tokens, the prompt, delivery);
//! - **approval → first Kubernetes write**: from just before the signed `block_actions`
//!   callback (a press of that Approve button) is POSTed to `/integrations/slack/actions` to
//!   the moment a watch on the Deployments (an administrator's client in this process) first
//!   sees the Deployment at its next generation, i.e. the rollback's write has landed in the
//!   API server (signature check, token inspection and atomic redemption, approver check, the
//!   stored transitions, live-state guardrails, the PATCH, and the watch's delivery).
//!
//! Both are `Instant`s in this one process. The press comes `BENCH_THINK_MS` (default 2000)
//! after the prompt was accepted, as a human needs a moment to read it. Incidents run one at a
//! time: the next starts once this one is resolved (verification PASS) and its chat messages
//! are out, so no incident's messages queue behind another's. The bot's hourly, concurrency and
//! blast-radius limits are raised; each Deployment is acted on once. A prompt, write or
//! resolution that does not come within 120 s aborts the benchmark with a non-zero exit.
//!
//! Run: `cargo bench --bench conversations`. Markdown for `BENCHMARKS.md` goes to stdout,
//! progress to stderr. Linux only; needs `redis-server` on `PATH` and the lab binaries
//! (`ROBOT_SRE_LAB_BIN`).

#[allow(dead_code)]
#[path = "../../tests/lab/conversations/bot.rs"]
mod bot;
#[path = "../common/env.rs"]
mod env;
#[allow(unused_imports)]
#[path = "../../tests/doubles/slack/mod.rs"]
mod slack;
mod stage;

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use robot_sre::conversations::state::StateName;
use robot_sre::testkit::process::poll_until;

use self::bot::{APPROVERS, View, post_stuck_rollout, press_approve};
use self::stage::{NAMESPACE, Stage};

const WARM_UP: usize = 2;
const DEADLINE: Duration = Duration::from_secs(120);

fn main() -> anyhow::Result<()> {
    let incidents: usize = env::env_or("BENCH_INCIDENTS", 20)?;
    let think = Duration::from_millis(env::env_or("BENCH_THINK_MS", 2000)?);
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot build the runtime")?
        .block_on(run(incidents, think))
}

async fn run(incidents: usize, think: Duration) -> anyhow::Result<()> {
    let started = Instant::now();
    let stage = Stage::start(WARM_UP + incidents).await?;
    eprintln!("conversations bench: staged in {:.0?}", started.elapsed());
    let view = View::new(&stage.setup);
    let (mut to_prompt, mut to_write) = (Vec::new(), Vec::new());
    for (index, name) in stage.deployments.iter().enumerate() {
        let (prompt, write) = one_incident(&stage, &view, name, index as u32, think)
            .await
            .with_context(|| format!("incident on {name}: bot log:\n{}", stage.bot.log_tail(40)))?;
        eprintln!(
            "conversations bench: {name}: alert → prompt {:.1} ms, approval → write {:.1} ms",
            ms(prompt),
            ms(write)
        );
        if index >= WARM_UP {
            to_prompt.push(prompt);
            to_write.push(write);
        }
    }
    stage.slack.assert_valid();
    println!("{}", report(&to_prompt, &to_write));
    stage.stop().await;
    Ok(())
}

/// One incident: alert → prompt on the double → press Approve → the rollback's write seen.
async fn one_incident(
    stage: &Stage,
    view: &View,
    name: &str,
    index: u32,
    think: Duration,
) -> anyhow::Result<(Duration, Duration)> {
    let generation = latest_generation(stage, name).context("the Deployment is not watched")?;
    let alerted = Instant::now();
    let incident = post_stuck_rollout(stage.bot.base(), NAMESPACE, name).await;
    let Some(prompt) = view
        .wait_for_slack_prompt(&stage.slack, &incident, DEADLINE)
        .await
    else {
        bail!(
            "no prompt for {incident}: {:?}",
            view.conversation(&incident).await
        );
    };
    let accepted = stage
        .slack
        .sent_to("chat.postMessage")
        .into_iter()
        .find(|sent| sent.params.to_string().contains(&prompt.approve))
        .context("the prompt's request")?
        .at;
    // Pacing, as a human reads before pressing; nothing is asserted on time.
    tokio::time::sleep(think).await;
    let pressed = Instant::now();
    let status = press_approve(stage.bot.base(), APPROVERS[0], &prompt, index).await;
    if status != 200 {
        bail!("the press got HTTP {status}");
    }
    let key = (name.to_owned(), generation + 1);
    let written = poll_until(DEADLINE, Duration::from_millis(10), || async {
        stage.generations.lock().ok()?.get(&key).copied()
    })
    .await;
    let Some(written) = written else {
        bail!(
            "no write for {incident}: {:?}",
            view.conversation(&incident).await
        );
    };
    let resolved = [StateName::Resolved];
    if view
        .wait_for_state(&incident, &resolved, DEADLINE)
        .await
        .is_none()
    {
        bail!(
            "{incident} not resolved: {:?}",
            view.conversation(&incident).await
        );
    }
    quiet(stage).await?;
    Ok((
        accepted - alerted,
        written.saturating_duration_since(pressed),
    ))
}

/// Waits until the bot has sent nothing to Slack for two seconds (its per-channel queue is
/// empty: Slack takes about one message per second per channel).
async fn quiet(stage: &Stage) -> anyhow::Result<()> {
    let calm = poll_until(DEADLINE, Duration::from_millis(100), || async {
        let last = stage.slack.sent().last().map(|sent| sent.at)?;
        (last.elapsed() >= Duration::from_secs(2)).then_some(())
    })
    .await;
    calm.context("the bot kept sending to Slack")
}

fn latest_generation(stage: &Stage, name: &str) -> Option<i64> {
    let seen = stage.generations.lock().ok()?;
    seen.keys()
        .filter(|(n, _)| n == name)
        .map(|(_, g)| *g)
        .max()
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// Nearest-rank percentile `p` (0–100) of `samples`.
fn percentile(samples: &[Duration], p: f64) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

fn report(to_prompt: &[Duration], to_write: &[Duration]) -> String {
    let row = |what: &str, samples: &[Duration]| {
        format!(
            "| {what} | {} | {:.1} | {:.1} | {:.1} | {:.1} |",
            samples.len(),
            ms(percentile(samples, 0.0)),
            ms(percentile(samples, 50.0)),
            ms(percentile(samples, 99.0)),
            ms(percentile(samples, 100.0)),
        )
    };
    [
        "| stage | incidents | min ms | p50 ms | p99 ms | max ms |".to_owned(),
        "|---|---|---|---|---|---|".to_owned(),
        row(
            "alert received → prompt accepted by the Slack double",
            to_prompt,
        ),
        row("approval received → first Kubernetes write", to_write),
    ]
    .join("\n")
}
