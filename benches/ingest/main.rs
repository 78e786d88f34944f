//! Ingest benchmark: Alertmanager webhooks through HTTP into Redis, on one machine.
//!
//! Starts a throwaway redis-server and the bot on a Redis store (fresh key prefix) served on a
//! loopback port, then measures, in this order and in one run:
//!
//! 1. **new alerts**: `BENCH_ALERTS` requests (default 20,000), each carrying one alert whose
//!    fingerprint was never seen, from a closed-loop client keeping `BENCH_CONCURRENCY` requests
//!    (default 64) in flight on keep-alive connections;
//! 2. **duplicates**: the same requests again, so every alert is a duplicate;
//! 3. **paced**: new alerts open-loop at `BENCH_PACED_RATE` alerts/s (default 1,000) for
//!    `BENCH_PACED_SECONDS` (default 10). Latency counts from each request's scheduled send time,
//!    so a stall is charged to every request it delays (no coordinated omission); the service
//!    time, from the actual send, is reported beside it;
//! 4. **reference**: `redis-benchmark -t set -n BENCH_REDIS_REQUESTS` (default 200,000, 50
//!    clients, no pipelining) against the same redis-server.
//!
//! A short warm-up (new alerts, not reported) opens the connections and loads the Lua scripts.
//! Every response is checked: a 200 must carry a receipt recording exactly the request's alert,
//! with outcome `opened` (new, paced) or `duplicate`; any other receipt aborts the run, since a
//! benchmark of wrong answers is worthless. Failed requests (non-200, transport errors) are
//! counted and reported, and make the run exit non-zero after printing the report. The open-set
//! size in Redis is checked against the number of alerts opened.
//!
//! Per phase it also reports CPU time per alert for the bot's threads, the load generator's
//! threads (this process, other threads) and redis-server (`INFO cpu`), and the Redis commands
//! executed per alert (`INFO commandstats`), to show where the cores go; for the reference, the
//! redis-server CPU time per SET.
//!
//! The bot and the load generator run on separate Tokio runtimes (threads named `bot-server` and
//! `bench-client`), each with one worker per core; both share the machine with redis-server.
//! No tracing subscriber is installed, so the bot's per-alert log line costs nothing here.
//!
//! Run: `cargo bench --bench ingest`. The Markdown section for `BENCHMARKS.md` goes to stdout,
//! progress to stderr. Linux only (reads `/proc`).

mod bot;
mod config;
#[path = "../common/env.rs"]
mod env;
mod load;
mod machine;
mod reference;
mod report;
mod tally;
mod usage;
mod webhook;

use std::sync::Arc;

/// The same allocator as the `robot-sre` binary, so the benchmark measures what production runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use anyhow::Context;
use tokio::runtime::Runtime;

use crate::bot::Bot;
use crate::config::Config;
use crate::load::{Client, closed_loop, paced};
use crate::machine::Machine;
use crate::reference::measure_reference;
use crate::report::Report;
use crate::usage::measure;
use crate::webhook::requests;

const TOKEN: &str = "bench-token-not-a-secret";
const SERVER_THREADS: &str = "bot-server";
const CLIENT_THREADS: &str = "bench-client";
/// Fingerprint series (the top bits), so the phases never share an alert.
const WARM_UP: u64 = 1;
const MAIN: u64 = 2;
const PACED: u64 = 3;

fn main() -> anyhow::Result<()> {
    let config = Config::from_env()?;
    let server_runtime = runtime(SERVER_THREADS, config.cores)?;
    let client_runtime = runtime(CLIENT_THREADS, config.cores)?;
    let bot = server_runtime.block_on(Bot::start())?;
    let outcome = client_runtime.block_on(run(&config, &bot));
    server_runtime.block_on(bot.stop())?;
    outcome
}

fn runtime(name: &str, threads: usize) -> anyhow::Result<Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name(name)
        .enable_all()
        .build()
        .with_context(|| format!("cannot build the {name} runtime"))
}

async fn run(config: &Config, bot: &Bot) -> anyhow::Result<()> {
    let client = Client::new(bot.address, config.concurrency)?;
    let mut redis = bot.connect().await?;
    let warm_up = Arc::new(requests(WARM_UP, config.concurrency * 8));
    closed_loop(&client, &warm_up, config.concurrency, "opened")
        .await?
        .ensure_sound("warm-up")?;
    let main = Arc::new(requests(MAIN, config.alerts));
    let new = measure(&mut redis, "new alerts", async {
        closed_loop(&client, &main, config.concurrency, "opened").await
    })
    .await?;
    let duplicates = measure(&mut redis, "duplicates", async {
        closed_loop(&client, &main, config.concurrency, "duplicate").await
    })
    .await?;
    let paced_requests = Arc::new(requests(PACED, config.paced_alerts()));
    let paced = measure(&mut redis, "paced", async {
        paced(&client, &paced_requests, config.paced_rate).await
    })
    .await?;
    bot.ensure_open(
        &mut redis,
        warm_up.len() + main.len() + paced_requests.len(),
    )
    .await?;
    let reference = measure_reference(&mut redis, bot.redis.port(), config.redis_requests).await?;
    let machine = Machine::describe().await;
    let report = Report {
        config,
        machine,
        new,
        duplicates,
        paced,
        reference,
    };
    println!("{}", report.markdown()?);
    report.ensure_no_failures()
}
