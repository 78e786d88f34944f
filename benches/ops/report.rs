//! The Markdown section for `BENCHMARKS.md`: set-up, then percentiles of every measure.

use std::fmt::Write as _;

use crate::config::{Config, WARM_UP};
use crate::machine::Machine;
use crate::sample::Sample;
use crate::stage::Stage;

pub struct Report<'a> {
    pub config: &'a Config,
    pub machine: Machine,
    pub stage: &'a Stage,
    pub samples: Vec<Sample>,
}

/// A row of the table: its name, and how to read its value from a run.
type Row = (&'static str, fn(&Sample) -> f64);

/// The quantiles reported, with their column names.
const QUANTILES: [(&str, f64); 3] = [("p50", 0.5), ("p90", 0.9), ("p99", 0.99)];

impl Report<'_> {
    pub fn markdown(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::new();
        self.header(&mut out)?;
        self.table(&mut out)?;
        self.footer(&mut out)?;
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
            "- Software: Kubernetes {} (the lab), {}; {}; {profile}",
            self.stage.kubernetes, machine.redis, machine.rustc
        )?;
        writeln!(
            out,
            "- Command: `BENCH_RUNS={} BENCH_REPLICAS={} cargo bench --bench ops`",
            config.runs, config.replicas
        )?;
        writeln!(out, "- Bot settings: {}", self.stage.settings_note)?;
        let conflicts: u32 = self.samples.iter().map(|s| s.conflicts).sum();
        writeln!(
            out,
            "- {} rollout restarts of a {}-replica Deployment after {WARM_UP} warm-up runs, all \
             Verified; {conflicts} resourceVersion conflicts (409) met on the way.",
            self.samples.len(),
            config.replicas,
        )?;
        writeln!(
            out,
            "- Percentiles by nearest rank over the sorted runs (with {} runs, p99 is the {}).\n",
            self.samples.len(),
            if self.samples.len() < 100 {
                "largest"
            } else {
                "99th in 100"
            }
        )
    }

    fn table(&self, out: &mut String) -> std::fmt::Result {
        writeln!(out, "| Measure | p50 | p90 | p99 | max | min |")?;
        writeln!(out, "|---|--:|--:|--:|--:|--:|")?;
        let rows: [Row; 9] = [
            ("**`execute()` called → PATCH response**", |s| s.to_write),
            ("… stored-packet lookup and claim (Redis)", |s| s.claim),
            (
                "… read live state (Deployment, ReplicaSets, autoscalers)",
                |s| s.observe,
            ),
            (
                "… guardrails, limits, RBAC review, audit record, reservation",
                |s| s.guards,
            ),
            ("… the PATCH (from the timeline)", |s| s.write),
            ("PATCH round trip, `applied[0].took_ms` (whole ms)", |s| {
                s.write_took_ms as f64
            }),
            (
                "Lab rollout: PATCH response → rollout complete (watch)",
                |s| s.rollout,
            ),
            ("Verification: PATCH response → verdict PASS", |s| {
                s.verification
            }),
            (
                "**Verification overhead: rollout complete → verdict PASS**",
                |s| s.overhead,
            ),
        ];
        for (name, measure) in rows {
            let values = sorted(self.samples.iter().map(measure));
            let mut row = format!("| {name} |");
            for (_, quantile) in QUANTILES {
                row += &format!(" {} |", ms(nearest_rank(&values, quantile)));
            }
            let (min, max) = (values.first(), values.last());
            let cell = |v: Option<&f64>| v.map_or_else(|| "–".into(), |v| ms(*v));
            writeln!(out, "{row} {} | {} |", cell(max), cell(min))?;
        }
        Ok(())
    }

    fn footer(&self, out: &mut String) -> std::fmt::Result {
        let looks = sorted(self.samples.iter().map(|s| f64::from(s.looks)));
        writeln!(
            out,
            "\nLooks at live state per verification: p50 {}, max {}, min {}. The parts marked … \
             add up to the first row run by run; their percentiles need not.",
            nearest_rank(&looks, 0.5),
            looks.last().copied().unwrap_or(0.0),
            looks.first().copied().unwrap_or(0.0)
        )
    }
}

fn sorted(values: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut values: Vec<f64> = values.collect();
    values.sort_by(f64::total_cmp);
    values
}

/// The smallest value with at least `quantile` of the values at or below it.
fn nearest_rank(sorted: &[f64], quantile: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (quantile * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(value: f64) -> String {
    if value.abs() < 10.0 {
        format!("{value:.2} ms")
    } else if value.abs() < 100.0 {
        format!("{value:.1} ms")
    } else {
        format!("{value:.0} ms")
    }
}
