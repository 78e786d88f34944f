//! Real helper processes for tests, benchmarks and demos: a throwaway redis-server and a real
//! Prometheus Alertmanager, each on free loopback ports and stopped when dropped.

pub mod alertmanager;
pub mod lab;
pub mod process;
pub mod redis_server;

pub use alertmanager::Alertmanager;
pub use process::{ProcessError, Supervised};
pub use redis_server::RedisServer;
