//! Ops benchmark: what the bot adds on top of Kubernetes when it restarts a Deployment.
//!
//! Starts its own Kubernetes lab (2 simulated nodes, in a temporary directory) and a throwaway
//! redis-server, installs the bot's RBAC for one namespace from the generated manifests, and
//! builds an `Ops` on that ServiceAccount's token, with its state in Redis: the bot as
//! production runs it. A healthy Deployment (`BENCH_REPLICAS` pods, default 2) carrying the
//! opt-in label is then restarted `BENCH_RUNS` times (default 30), each a fresh request through
//! `Ops::execute`, approved by the bot without a proposal (`fingerprint: None`), after 2 warm-up
//! runs that are not reported. A run that does not end `Verified` with exactly one write aborts
//! the benchmark with a non-zero exit.
//!
//! Per run, with no production code instrumented for it:
//!
//! - **`execute()` → write**: from just before `execute()` is called to the timeline mark the
//!   bot writes when the PATCH response has arrived (`"<request> sent (N ms)"`), split at the
//!   packet's own marks (execution started, live state read, limits reserved), and the write's
//!   own round trip as the packet records it (`applied[0].took_ms`);
//! - **verification overhead**: a watch on the Deployment with an administrator's client
//!   applies the bot's rule (`verify::predicates::rollout_complete`) to every version of the
//!   object and records when the new generation was first complete; the overhead is the
//!   verdict's timeline mark (`"verification Pass after …"`) minus that moment. The lab's own
//!   rollout time (PATCH response → complete) is reported beside it. All are wall-clock
//!   `chrono::Utc` times in this one process.
//!
//! Bot settings are the production defaults, verification polling included (that is what is
//! measured), except: cooldown 1 ms and the hourly limit raised to the number of runs (each run
//! restarts the same Deployment), no settle window (a fixed wait after the rollout, which
//! would only add its own length), and a 60 s verification deadline (reached only by a failing
//! run).
//!
//! Run: `cargo bench --bench ops`. The Markdown section for `BENCHMARKS.md` goes to stdout,
//! progress to stderr. Linux only (the lab, `/proc`); needs `redis-server` on `PATH` and the
//! lab binaries (`ROBOT_SRE_LAB_BIN`).

#[path = "../ingest/machine.rs"]
mod machine;

mod config;
#[path = "../common/env.rs"]
mod env;
mod report;
mod sample;
mod stage;
mod watch;

/// The same allocator as the `robot-sre` binary, so the benchmark measures what production runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use anyhow::Context;

use crate::config::{Config, WARM_UP};
use crate::machine::Machine;
use crate::report::Report;
use crate::sample::Runner;
use crate::stage::Stage;

fn main() -> anyhow::Result<()> {
    let config = Config::from_env()?;
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(config.cores)
        .enable_all()
        .build()
        .context("cannot build the runtime")?
        .block_on(run(&config))
}

async fn run(config: &Config) -> anyhow::Result<()> {
    let stage = Stage::start(config).await?;
    let mut runner = Runner::new(&stage);
    let mut samples = Vec::with_capacity(config.runs);
    for index in 0..WARM_UP + config.runs {
        let (kind, number) = match index.checked_sub(WARM_UP) {
            None => ("warm-up", index + 1),
            Some(measured) => ("run", measured + 1),
        };
        let sample = runner
            .run()
            .await
            .with_context(|| format!("{kind} {number} failed"))?;
        eprintln!(
            "ops bench: {kind} {number}: execute → write {:.1} ms, lab rollout {:.0} ms, \
             verification overhead {:.0} ms ({} looks)",
            sample.to_write, sample.rollout, sample.overhead, sample.looks
        );
        if kind == "run" {
            samples.push(sample);
        }
    }
    drop(runner);
    let report = Report {
        config,
        machine: Machine::describe().await,
        stage: &stage,
        samples,
    };
    println!("{}", report.markdown()?);
    Ok(())
}
