//! Where the CPU goes: CPU seconds of the bot's and the load generator's threads (from `/proc`)
//! and of redis-server, and the Redis commands executed (from `INFO`), measured around a phase.

use std::collections::BTreeMap;

use anyhow::{Context, ensure};
use redis::aio::MultiplexedConnection;

use crate::SERVER_THREADS;
use crate::tally::Run;

/// Clock ticks per second in `/proc/*/stat` (`USER_HZ`): 100 on every mainstream Linux ABI.
const TICKS_PER_SECOND: f64 = 100.0;

/// A phase with the resources it used.
pub struct Phase {
    pub run: Run,
    pub usage: Usage,
}

/// Runs one phase, reporting progress to stderr, and fails if it measured wrong answers.
pub async fn measure(
    redis: &mut MultiplexedConnection,
    name: &str,
    phase: impl Future<Output = anyhow::Result<Run>>,
) -> anyhow::Result<Phase> {
    eprintln!("ingest bench: {name}…");
    let (run, usage) = Usage::during(redis, phase).await?;
    run.ensure_sound(name)?;
    eprintln!(
        "ingest bench: {name}: {} alerts in {:.2} s, {} failed",
        run.tally.latency.len(),
        run.elapsed.as_secs_f64(),
        run.tally.failed
    );
    Ok(Phase { run, usage })
}

/// CPU seconds used so far, and Redis command counts.
pub struct Usage {
    pub bot: f64,
    pub load_generator: f64,
    pub redis: f64,
    pub redis_calls: BTreeMap<String, u64>,
}

impl Usage {
    /// What `work` returns, and the resources used while it ran.
    pub async fn during<T>(
        redis: &mut MultiplexedConnection,
        work: impl Future<Output = anyhow::Result<T>>,
    ) -> anyhow::Result<(T, Usage)> {
        let before = Usage::now(redis).await?;
        let value = work.await?;
        let usage = Usage::now(redis).await?.since(&before);
        Ok((value, usage))
    }

    async fn now(redis: &mut MultiplexedConnection) -> anyhow::Result<Self> {
        let (bot, load_generator) = process_cpu()?;
        let info: String = redis::cmd("INFO")
            .arg("cpu")
            .arg("commandstats")
            .query_async(redis)
            .await
            .context("cannot read INFO from redis-server")?;
        Ok(Self {
            bot,
            load_generator,
            redis: redis_cpu(&info)?,
            redis_calls: redis_calls(&info),
        })
    }

    fn since(self, before: &Usage) -> Usage {
        let redis_calls = self
            .redis_calls
            .into_iter()
            .filter(|(command, _)| command != "info")
            .map(|(command, calls)| {
                let earlier = before.redis_calls.get(&command).copied().unwrap_or(0);
                (command, calls.saturating_sub(earlier))
            })
            .filter(|(_, calls)| *calls > 0)
            .collect();
        Usage {
            bot: self.bot - before.bot,
            load_generator: self.load_generator - before.load_generator,
            redis: self.redis - before.redis,
            redis_calls,
        }
    }
}

/// CPU seconds used so far by the bot's threads, and by every other thread of this process.
fn process_cpu() -> anyhow::Result<(f64, f64)> {
    let (mut bot, mut others) = (0, 0);
    for task in std::fs::read_dir("/proc/self/task").context("cannot list /proc/self/task")? {
        let dir = task?.path();
        // A thread may end between the listing and the reads: skip it.
        let (Ok(name), Ok(stat)) = (
            std::fs::read_to_string(dir.join("comm")),
            std::fs::read_to_string(dir.join("stat")),
        ) else {
            continue;
        };
        let ticks = cpu_ticks(&stat).with_context(|| format!("unexpected {}", dir.display()))?;
        if name.trim_end() == SERVER_THREADS {
            bot += ticks;
        } else {
            others += ticks;
        }
    }
    Ok((
        bot as f64 / TICKS_PER_SECOND,
        others as f64 / TICKS_PER_SECOND,
    ))
}

/// utime + stime of a `/proc/<pid>/task/<tid>/stat` line (fields 14 and 15, see proc(5)).
fn cpu_ticks(stat: &str) -> Option<u64> {
    // The command name (field 2) may hold spaces; count from the `)` that closes it (field 3 on).
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let user: u64 = fields.get(11)?.parse().ok()?;
    let system: u64 = fields.get(12)?.parse().ok()?;
    Some(user + system)
}

fn info_fields(info: &str) -> impl Iterator<Item = (&str, &str)> {
    info.lines()
        .filter_map(|line| line.trim_end().split_once(':'))
}

fn redis_cpu(info: &str) -> anyhow::Result<f64> {
    let seconds: Vec<f64> = info_fields(info)
        .filter(|(key, _)| matches!(*key, "used_cpu_sys" | "used_cpu_user"))
        .map(|(_, value)| value.parse())
        .collect::<Result<_, _>>()
        .context("unreadable used_cpu_* in INFO cpu")?;
    ensure!(
        seconds.len() == 2,
        "INFO cpu lacks used_cpu_sys or used_cpu_user"
    );
    Ok(seconds.iter().sum())
}

/// Calls per command, from `cmdstat_<command>:calls=N,usec=…` lines.
fn redis_calls(info: &str) -> BTreeMap<String, u64> {
    info_fields(info)
        .filter_map(|(key, value)| {
            let command = key.strip_prefix("cmdstat_")?;
            let calls = value.split(',').find_map(|f| f.strip_prefix("calls="))?;
            Some((command.to_owned(), calls.parse().ok()?))
        })
        .collect()
}
