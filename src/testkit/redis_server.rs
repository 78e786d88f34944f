//! A throwaway `redis-server` on a free loopback port, with persistence off.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::process::{ProcessError, Supervised, find_program, free_port};

/// A running redis-server; dropping it stops the server.
#[derive(Debug)]
pub struct RedisServer {
    port: u16,
    process: Option<Supervised>,
    dir: tempfile::TempDir,
}

async fn answers_ping(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)).await else {
        return false;
    };
    let mut reply = [0u8; 7];
    stream.write_all(b"PING\r\n").await.is_ok()
        && stream.read_exact(&mut reply).await.is_ok()
        && &reply == b"+PONG\r\n"
}

impl RedisServer {
    /// Starts a server and waits until it answers PING.
    ///
    /// # Errors
    /// When redis-server is missing, cannot start, or is not ready within 10 s.
    pub async fn start() -> Result<Self, ProcessError> {
        let dir = tempfile::tempdir().map_err(|source| ProcessError::Spawn {
            program: "redis-server".into(),
            source,
        })?;
        let mut server = Self {
            port: free_port()?,
            process: None,
            dir,
        };
        server.restart().await?;
        Ok(server)
    }

    /// The URL to connect to.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server (an outage, for tests). [`RedisServer::restart`] brings it back on the
    /// same port, empty.
    pub fn stop(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.stop();
        }
    }

    /// Starts the server again on the same port.
    ///
    /// # Errors
    /// As for [`RedisServer::start`].
    pub async fn restart(&mut self) -> Result<(), ProcessError> {
        self.stop();
        let program = find_program("redis-server", "redis-server")?;
        let args: Vec<String> = [
            "--port",
            &self.port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            &self.dir.path().display().to_string(),
            "--daemonize",
            "no",
            "--loglevel",
            "warning",
        ]
        .map(String::from)
        .to_vec();
        let process = Supervised::spawn(&program, &args, self.dir.path().join("redis.log"))?;
        let port = self.port;
        process
            .wait_until(Duration::from_secs(10), || answers_ping(port))
            .await?;
        self.process = Some(process);
        Ok(())
    }
}
