//! The benchmark's settings, from `BENCH_*` environment variables.

use anyhow::ensure;

use crate::env::env_or;

/// Runs before the measured ones, not reported: they open the connections (TLS to the API
/// server, Redis) and load the store's scripts.
pub const WARM_UP: usize = 2;

pub struct Config {
    pub cores: usize,
    /// Measured rollout restarts (`BENCH_RUNS`, default 30).
    pub runs: usize,
    /// Pods of the restarted Deployment (`BENCH_REPLICAS`, default 2).
    pub replicas: i32,
}

impl Config {
    pub fn from_env() -> anyhow::Result<Self> {
        let config = Self {
            cores: std::thread::available_parallelism().map_or(1, usize::from),
            runs: env_or("BENCH_RUNS", 30)?,
            replicas: env_or("BENCH_REPLICAS", 2)?,
        };
        ensure!(
            config.runs > 0 && config.replicas > 0,
            "BENCH_RUNS and BENCH_REPLICAS must be positive"
        );
        Ok(config)
    }
}
