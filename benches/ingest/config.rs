//! The benchmark's settings, from `BENCH_*` environment variables.

use anyhow::ensure;

use crate::env::env_or;

pub struct Config {
    pub cores: usize,
    pub alerts: usize,
    pub concurrency: usize,
    pub paced_rate: u32,
    pub paced_seconds: u32,
    pub redis_requests: u32,
}

impl Config {
    pub fn from_env() -> anyhow::Result<Self> {
        let config = Self {
            cores: std::thread::available_parallelism().map_or(1, usize::from),
            alerts: env_or("BENCH_ALERTS", 20_000)?,
            concurrency: env_or("BENCH_CONCURRENCY", 64)?,
            paced_rate: env_or("BENCH_PACED_RATE", 1_000)?,
            paced_seconds: env_or("BENCH_PACED_SECONDS", 10)?,
            redis_requests: env_or("BENCH_REDIS_REQUESTS", 200_000)?,
        };
        let positive = [
            config.alerts,
            config.concurrency,
            config.paced_rate as usize,
            config.paced_seconds as usize,
            config.redis_requests as usize,
        ];
        ensure!(
            positive.iter().all(|&value| value > 0),
            "every BENCH_* setting must be positive"
        );
        Ok(config)
    }

    pub fn paced_alerts(&self) -> usize {
        self.paced_rate as usize * self.paced_seconds as usize
    }
}
