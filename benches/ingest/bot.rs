//! The bot under test: served on a loopback port, on a Redis store in its own redis-server.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, ensure};
use redis::aio::MultiplexedConnection;
use robot_sre::app::App;
use robot_sre::config::{Secret, Settings};
use robot_sre::incidents::Classifier;
use robot_sre::store::{RedisStore, RedisStoreConfig};
use robot_sre::testkit::RedisServer;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::TOKEN;

/// The bot, serving on `address`, on a Redis store in its own redis-server.
pub struct Bot {
    pub redis: RedisServer,
    prefix: String,
    pub address: SocketAddr,
    shutdown: oneshot::Sender<()>,
    server: JoinHandle<std::io::Result<()>>,
}

impl Bot {
    pub async fn start() -> anyhow::Result<Self> {
        let redis = RedisServer::start()
            .await
            .context("cannot start redis-server")?;
        let mut settings = Settings::default();
        settings.alertmanager.token = Some(Secret::new(TOKEN));
        settings.cluster.name = "bench".into();
        settings.server.shutdown_grace = Duration::from_secs(5);
        let prefix = format!("bench-{:016x}", rand::random::<u64>());
        let store = RedisStore::new(&RedisStoreConfig {
            url: Secret::new(redis.url()),
            key_prefix: prefix.clone(),
            connect_timeout: settings.store.redis.connect_timeout,
            command_timeout: settings.store.redis.command_timeout,
        })
        .context("cannot use the redis-server URL")?;
        let app = App::with_store(&settings, Classifier::builtin(), Arc::new(store));
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .context("cannot listen on a loopback port")?;
        let address = listener.local_addr()?;
        let (shutdown, stop) = oneshot::channel::<()>();
        let router = robot_sre::http::router(Arc::new(app));
        let stopped = async {
            let _ = stop.await;
        };
        let grace = settings.server.shutdown_grace;
        let server = tokio::spawn(robot_sre::http::serve(listener, router, stopped, grace));
        Ok(Self {
            redis,
            prefix,
            address,
            shutdown,
            server,
        })
    }

    /// A connection of the benchmark's own, for `INFO` and checks.
    pub async fn connect(&self) -> anyhow::Result<MultiplexedConnection> {
        let client = redis::Client::open(self.redis.url())?;
        client
            .get_multiplexed_async_connection()
            .await
            .context("cannot connect to redis-server")
    }

    /// Checks that Redis holds every incident the run opened (all stay open: they fire).
    pub async fn ensure_open(
        &self,
        redis: &mut MultiplexedConnection,
        opened: usize,
    ) -> anyhow::Result<()> {
        let stored: usize = redis::cmd("SCARD")
            .arg(format!("{}:incidents:open", self.prefix))
            .query_async(redis)
            .await
            .context("cannot count the open incidents")?;
        ensure!(
            stored == opened,
            "Redis holds {stored} open incidents but the run opened {opened}"
        );
        Ok(())
    }

    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.shutdown.send(());
        self.server
            .await
            .context("the server task panicked")?
            .context("the server failed")
    }
}
