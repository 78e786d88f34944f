//! The Markdown section for `BENCHMARKS.md`: set-up, results, targets and where the CPU went.

use std::fmt::Write as _;

use anyhow::ensure;

use crate::config::Config;
use crate::machine::Machine;
use crate::reference::Reference;
use crate::tally::Run;
use crate::usage::Phase;

const TARGET_NEW: f64 = 5_000.0;
const TARGET_DUPLICATES: f64 = 20_000.0;
const TARGET_PACED_P99_MS: f64 = 10.0;

pub struct Report<'a> {
    pub config: &'a Config,
    pub machine: Machine,
    pub new: Phase,
    pub duplicates: Phase,
    pub paced: Phase,
    pub reference: Reference,
}

/// `value` with a comma between groups of three digits.
pub fn thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut grouped = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

fn ms(micros: u64) -> String {
    format!("{:.2} ms", micros as f64 / 1000.0)
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "**missed**" }
}

impl Report<'_> {
    pub fn markdown(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::new();
        self.header(&mut out)?;
        self.results(&mut out)?;
        self.targets(&mut out)?;
        self.cpu(&mut out)?;
        Ok(out)
    }

    fn header(&self, out: &mut String) -> std::fmt::Result {
        let (config, machine) = (self.config, &self.machine);
        let profile = crate::machine::profile();
        writeln!(out, "### Run of {}\n", machine.date)?;
        writeln!(
            out,
            "- Machine: {} cores (`nproc`), {}, {}",
            config.cores, machine.cpu, machine.kernel
        )?;
        writeln!(
            out,
            "- Software: {}; {}; {profile}",
            machine.redis, machine.rustc
        )?;
        writeln!(
            out,
            "- Command: `BENCH_ALERTS={} BENCH_CONCURRENCY={} BENCH_PACED_RATE={} \
             BENCH_PACED_SECONDS={} BENCH_REDIS_REQUESTS={} cargo bench --bench ingest`",
            config.alerts,
            config.concurrency,
            config.paced_rate,
            config.paced_seconds,
            config.redis_requests
        )?;
        writeln!(
            out,
            "- The bot, the load generator and redis-server share these {} cores; bot logging off.\n",
            config.cores
        )
    }

    fn results(&self, out: &mut String) -> std::fmt::Result {
        writeln!(
            out,
            "| Phase | Load | Alerts | Failed | Throughput | p50 | p99 | max |"
        )?;
        writeln!(out, "|---|---|--:|--:|--:|--:|--:|--:|")?;
        phase_row(out, "New alerts", &self.new.run, false)?;
        phase_row(out, "Duplicates", &self.duplicates.run, false)?;
        phase_row(
            out,
            "Paced new alerts, from scheduled send",
            &self.paced.run,
            false,
        )?;
        phase_row(
            out,
            "Paced new alerts, from actual send",
            &self.paced.run,
            true,
        )?;
        let reference = &self.reference;
        writeln!(
            out,
            "| redis-benchmark SET (reference) | 50 clients, no pipelining | {} requests | – | {} requests/s | {:.3} ms | {:.3} ms | {:.3} ms |\n",
            thousands(u64::from(self.config.redis_requests)),
            thousands(reference.requests_per_second.round() as u64),
            reference.p50_ms,
            reference.p99_ms,
            reference.max_ms,
        )?;
        writeln!(out, "Reference command: `{}`.\n", reference.command)
    }

    fn targets(&self, out: &mut String) -> std::fmt::Result {
        let new = self.new.run.rate();
        let duplicates = self.duplicates.run.rate();
        let p99 = self.paced.run.tally.latency.value_at_quantile(0.99) as f64 / 1000.0;
        let set = self.reference.requests_per_second;
        writeln!(
            out,
            "| Target ({} cores) | Result | Verdict |",
            self.config.cores
        )?;
        writeln!(out, "|---|--:|---|")?;
        writeln!(
            out,
            "| ≥ {} new alerts/s | {} alerts/s | {} |",
            thousands(TARGET_NEW as u64),
            thousands(new.round() as u64),
            verdict(new >= TARGET_NEW)
        )?;
        writeln!(
            out,
            "| ≥ {} duplicate alerts/s | {} alerts/s | {} |",
            thousands(TARGET_DUPLICATES as u64),
            thousands(duplicates.round() as u64),
            verdict(duplicates >= TARGET_DUPLICATES)
        )?;
        writeln!(
            out,
            "| p99 < {TARGET_PACED_P99_MS} ms at {} alerts/s | {p99:.2} ms | {} |\n",
            thousands(u64::from(self.config.paced_rate)),
            verdict(p99 < TARGET_PACED_P99_MS && self.paced.run.tally.failed == 0)
        )?;
        writeln!(
            out,
            "Against redis-benchmark SET ({} requests/s): new alerts run at {:.1} % of it \
             (1 : {:.1}), duplicates at {:.1} % (1 : {:.1}).\n",
            thousands(set.round() as u64),
            100.0 * new / set,
            set / new,
            100.0 * duplicates / set,
            set / duplicates
        )
    }

    fn cpu(&self, out: &mut String) -> std::fmt::Result {
        writeln!(
            out,
            "CPU time per alert (bot = the `bot-server` threads; load generator = the rest of \
             the bench process; redis-server from `INFO cpu`), and Redis commands executed per \
             alert (`INFO commandstats`, commands run inside Lua scripts included):\n"
        )?;
        writeln!(
            out,
            "| Phase | Bot | Load generator | redis-server | Cores busy | Redis commands per alert |"
        )?;
        writeln!(out, "|---|--:|--:|--:|--:|---|")?;
        let cores = self.config.cores;
        usage_row(out, "New alerts", &self.new, cores)?;
        usage_row(out, "Duplicates", &self.duplicates, cores)?;
        usage_row(out, "Paced new alerts", &self.paced, cores)?;
        writeln!(
            out,
            "| redis-benchmark SET (per request) | – | – | {:.1} µs | – | SET 1.00 |",
            self.reference.redis_cpu * 1e6
        )
    }

    pub fn ensure_no_failures(&self) -> anyhow::Result<()> {
        let failed: u64 = [&self.new, &self.duplicates, &self.paced]
            .iter()
            .map(|phase| phase.run.tally.failed)
            .sum();
        ensure!(
            failed == 0,
            "{failed} requests failed (see the Failed column); the throughput figures count only \
             recorded alerts"
        );
        Ok(())
    }
}

fn phase_row(out: &mut String, name: &str, run: &Run, service: bool) -> std::fmt::Result {
    let tally = &run.tally;
    let latency = if service {
        &tally.service
    } else {
        &tally.latency
    };
    writeln!(
        out,
        "| {name} | {} | {} | {} | {} alerts/s | {} | {} | {} |",
        run.load,
        thousands(tally.latency.len()),
        thousands(tally.failed),
        thousands(run.rate().round() as u64),
        ms(latency.value_at_quantile(0.5)),
        ms(latency.value_at_quantile(0.99)),
        ms(latency.max()),
    )
}

fn usage_row(out: &mut String, name: &str, phase: &Phase, cores: usize) -> std::fmt::Result {
    let alerts = phase.run.tally.latency.len().max(1) as f64;
    let per_alert = |seconds: f64| format!("{:.0} µs", seconds * 1e6 / alerts);
    let usage = &phase.usage;
    let busy = (usage.bot + usage.load_generator + usage.redis) / phase.run.elapsed.as_secs_f64();
    let commands: Vec<String> = usage
        .redis_calls
        .iter()
        .map(|(command, calls)| format!("{} {:.2}", command.to_uppercase(), *calls as f64 / alerts))
        .collect();
    writeln!(
        out,
        "| {name} | {} | {} | {} | {busy:.2} of {cores} | {} |",
        per_alert(usage.bot),
        per_alert(usage.load_generator),
        per_alert(usage.redis),
        commands.join(", ")
    )
}
