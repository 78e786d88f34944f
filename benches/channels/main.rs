//! Channels benchmark: how long failover takes, and how fast Slack interactions are answered.
//!
//! Runs the real adapters against their local doubles (the same doubles the tests use, which
//! validate every request against the published specs) on loopback:
//!
//! - **failover, primary refuses connections**: Slack's double is down (nothing listens);
//!   each run is one `Router::send_prompt` that fails on Slack and lands on Telegram;
//! - **failover, primary hangs**: Slack's double accepts and never answers; each run waits for
//!   the router's `attempt_timeout` (`BENCH_ATTEMPT_TIMEOUT_MS`, default 1000) and lands on
//!   Telegram;
//! - **Slack interaction acknowledgement**: signed `block_actions` callbacks posted to the bot's
//!   `/integrations/slack/actions` (signature check, dedupe claim, queueing, empty 200), one at
//!   a time, each a new press.
//!
//! The breaker is disabled (it would skip the failing channel after three runs, which is its
//! job, but then failover is no longer measured), and the per-conversation rate limits are
//! raised (runs follow each other faster than one message per second per conversation, which a
//! single prompt never waits for). Runs: `BENCH_RUNS` (default 50) per failover
//! case, `BENCH_ACKS` (default 1000) acknowledgements. Run: `cargo bench --bench channels`;
//! the Markdown for `BENCHMARKS.md` goes to stdout.

#[path = "../common/env.rs"]
mod env;
#[allow(unused_imports)]
#[path = "../../tests/doubles/slack/mod.rs"]
mod slack;
#[allow(unused_imports)]
#[path = "../../tests/doubles/telegram/mod.rs"]
mod telegram;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use hdrhistogram::Histogram;
use robot_sre::channels::slack::{SlackApi, SlackChannel, SlackInbound, routes};
use robot_sre::channels::telegram::TelegramChannel;
use robot_sre::channels::{Channel, ChannelKind, Choice, Directory, Inbox, Prompt, Router};
use robot_sre::config::{RoutingSettings, Secret, TelegramMode, TelegramSettings};
use robot_sre::incidents::IncidentId;
use robot_sre::incidents::model::{Environment, Severity};
use robot_sre::store::{MemoryStore, Store};

use self::env::env_or;

fn prompt() -> Prompt {
    let choice = |label: &str, token: &str, approves| Choice {
        label: label.into(),
        token: token.into(),
        approves,
    };
    Prompt {
        incident: IncidentId::generate(),
        severity: Severity::Critical,
        title: "Approve restart of deployment checkout in payments".into(),
        action: "restart".into(),
        target: "lab/payments/Deployment/checkout".into(),
        why_now: "2/3 pods CrashLoopBackOff for 10 min".into(),
        impact: "pods are replaced one at a time".into(),
        fallback: "rollback to revision 41".into(),
        expires_at: Utc::now() + chrono::Duration::minutes(15),
        cause: "crash loop after a config change".into(),
        confidence: "high".into(),
        evidence: "BackOff events, 14 restarts".into(),
        guardrails: vec!["pass: min ready replicas".into()],
        verification: "rollout complete within 5m".into(),
        dry_run: "template annotation restartedAt".into(),
        choices: vec![
            choice("Approve", "0123456789abcdef0123456789abcdef", true),
            choice("Reject", "fedcba9876543210fedcba9876543210", false),
        ],
        details_url: None,
    }
}

fn router(slack: &slack::Double, telegram: &telegram::TelegramDouble, timeout: Duration) -> Router {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let url = url::Url::parse(&slack.url()).expect("double url");
    let api = SlackApi::new(&url, &Secret::new(slack::BOT_TOKEN), timeout * 4).expect("client");
    let settings = TelegramSettings {
        bot_token: Secret::new(telegram::TOKEN),
        webhook_secret: Some(Secret::new(telegram::WEBHOOK_SECRET)),
        chat_id: -1_001_234_567_890,
        allowed_chats: Vec::new(),
        api_url: telegram.url(),
        timeout: timeout * 4,
        mode: TelegramMode::Webhook,
        poll_timeout: Duration::from_secs(1),
    };
    let channels: Vec<Arc<dyn Channel>> = vec![
        Arc::new(SlackChannel::new(api, slack::CHANNEL, store.clone())),
        Arc::new(TelegramChannel::new(&settings, store).expect("telegram client")),
    ];
    let mut routing = RoutingSettings {
        attempt_timeout: timeout,
        breaker_failures: u32::MAX,
        ..RoutingSettings::default()
    };
    // Back-to-back runs would wait for the rate limits (one message per second per
    // conversation); a single prompt does not, and the limits are not what is measured.
    routing.rate_limits.slack_per_second = 1000;
    routing.rate_limits.telegram_per_chat_per_second = 1000;
    routing.rate_limits.telegram_per_group_per_minute = 60_000;
    routing.rate_limits.telegram_per_second = 1000;
    Router::new(channels, routing)
}

async fn failover(
    mode: slack::Mode,
    runs: u64,
    timeout: Duration,
) -> anyhow::Result<Histogram<u64>> {
    let slack = slack::Double::start().await;
    let telegram = telegram::TelegramDouble::start().await;
    slack.set_mode(mode).await;
    let router = router(&slack, &telegram, timeout);
    let mut histogram = Histogram::<u64>::new(3)?;
    for run in 0..runs {
        let started = Instant::now();
        let delivered = router
            .send_prompt(&prompt(), Environment::Production, &[])
            .await;
        let took = started.elapsed();
        let delivered = delivered.map_err(|e| anyhow::anyhow!("run {run}: {e}"))?;
        anyhow::ensure!(
            delivered.message.channel == ChannelKind::Telegram,
            "run {run} not on Telegram"
        );
        histogram.record(took.as_micros() as u64)?;
    }
    telegram.assert_valid();
    Ok(histogram)
}

async fn acknowledgements(count: u64) -> anyhow::Result<Histogram<u64>> {
    let (inbox, mut events) = Inbox::new(64);
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let inbound = SlackInbound::new(
        Secret::new(slack::SIGNING_SECRET),
        Directory::default(),
        inbox,
        store,
        Duration::from_secs(3600),
    );
    tokio::spawn(async move { while events.recv().await.is_some() {} });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, routes(inbound)).await });
    let mut histogram = Histogram::<u64>::new(3)?;
    for i in 0..count {
        let press = slack::block_action(
            "U0ALICE",
            "1700000000.000100",
            "approve",
            "tok",
            &format!("1700000100.{i:06}"),
        );
        let callback = slack::Callback::interaction(
            &press,
            slack::Signing::Good(slack::SIGNING_SECRET.into()),
        );
        let started = Instant::now();
        let response = callback.post(&base).await;
        let took = started.elapsed();
        anyhow::ensure!(response.status() == 200, "press {i}: {}", response.status());
        histogram.record(took.as_micros() as u64)?;
    }
    Ok(histogram)
}

fn ms(histogram: &Histogram<u64>, quantile: f64) -> f64 {
    histogram.value_at_quantile(quantile) as f64 / 1000.0
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let runs = env_or("BENCH_RUNS", 50u64)?;
    let acks = env_or("BENCH_ACKS", 1000u64)?;
    let timeout = Duration::from_millis(env_or("BENCH_ATTEMPT_TIMEOUT_MS", 1000u64)?);
    eprintln!("failover with Slack refusing connections, {runs} runs …");
    let refused = failover(slack::Mode::Down, runs, timeout).await?;
    eprintln!("failover with Slack hanging, {runs} runs of up to {timeout:?} …");
    let hanging = failover(slack::Mode::Hang, runs, timeout).await?;
    eprintln!("{acks} Slack interaction acknowledgements …");
    let acked = acknowledgements(acks).await?;
    println!("## Channels (`cargo bench --bench channels`)\n");
    println!("| measurement | runs | p50 | p99 | max | target |");
    println!("|---|---|---|---|---|---|");
    let row = |name: &str, h: &Histogram<u64>, target: &str| {
        println!(
            "| {name} | {} | {:.1} ms | {:.1} ms | {:.1} ms | {target} |",
            h.len(),
            ms(h, 0.5),
            ms(h, 0.99),
            h.max() as f64 / 1000.0
        )
    };
    row(
        "prompt on the fallback channel, primary refuses connections",
        &refused,
        "< 1 s",
    );
    let hang_target = format!("≤ {} ms (timeout + 250 ms)", timeout.as_millis() + 250);
    row(
        "prompt on the fallback channel, primary hangs",
        &hanging,
        &hang_target,
    );
    row(
        "Slack interaction acknowledged (signed, deduped, queued)",
        &acked,
        "p99 < 50 ms",
    );
    Ok(())
}
