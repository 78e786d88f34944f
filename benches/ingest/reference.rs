//! The reference: `redis-benchmark` SET against the same redis-server, and its CPU time there.

use anyhow::{Context, ensure};
use redis::aio::MultiplexedConnection;
use robot_sre::testkit::process::find_program;

use crate::usage::Usage;

pub struct Reference {
    pub command: String,
    pub requests_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// redis-server CPU time per SET, in seconds.
    pub redis_cpu: f64,
}

pub async fn measure_reference(
    redis: &mut MultiplexedConnection,
    port: u16,
    requests: u32,
) -> anyhow::Result<Reference> {
    let (mut reference, usage) = Usage::during(redis, redis_benchmark(port, requests)).await?;
    reference.redis_cpu = usage.redis / f64::from(requests);
    Ok(reference)
}

async fn redis_benchmark(port: u16, requests: u32) -> anyhow::Result<Reference> {
    eprintln!("ingest bench: redis-benchmark…");
    let program = find_program("redis-benchmark", "redis-tools")?;
    let args = |port: &str| format!("-h 127.0.0.1 -p {port} -t set -n {requests} --csv");
    let output = tokio::process::Command::new(&program)
        .args(args(&port.to_string()).split(' '))
        .output()
        .await
        .with_context(|| format!("cannot run {}", program.display()))?;
    ensure!(
        output.status.success(),
        "redis-benchmark failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let csv = String::from_utf8_lossy(&output.stdout);
    let mut reference = parse_reference(&csv)
        .with_context(|| format!("unexpected redis-benchmark output: {csv}"))?;
    reference.command = format!("redis-benchmark {}", args("<port>"));
    Ok(reference)
}

/// Reads the `SET` row of `redis-benchmark --csv`, by column name.
fn parse_reference(csv: &str) -> anyhow::Result<Reference> {
    let unquote = |line: &str| -> Vec<String> {
        line.split(',')
            .map(|field| field.trim().trim_matches('"').to_owned())
            .collect()
    };
    let mut lines = csv.lines().filter(|line| !line.trim().is_empty());
    let header = unquote(lines.next().context("no header")?);
    let row = unquote(
        lines
            .find(|line| line.starts_with("\"SET\""))
            .context("no SET row")?,
    );
    let column = |name: &str| -> anyhow::Result<f64> {
        let at = header
            .iter()
            .position(|h| h == name)
            .with_context(|| format!("no {name}"))?;
        let value = row.get(at).with_context(|| format!("no {name} value"))?;
        value
            .parse()
            .with_context(|| format!("{name} is {value:?}"))
    };
    Ok(Reference {
        command: String::new(),
        requests_per_second: column("rps")?,
        p50_ms: column("p50_latency_ms")?,
        p99_ms: column("p99_latency_ms")?,
        max_ms: column("max_latency_ms")?,
        redis_cpu: 0.0,
    })
}
