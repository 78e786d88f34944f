//! A helper server process (redis-server, Alertmanager, the lab's control plane) that cannot
//! outlive its owner.
//!
//! The server runs under a tiny `sh` watchdog that holds a pipe from this process: when the
//! owner drops the [`Supervised`] handle, or dies in any way (even SIGKILL), the pipe closes, the
//! watchdog's `read` returns and it kills the server. So test runs never leak servers.

use std::fs::File;
use std::io::Read;
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

use backon::{ConstantBuilder, Retryable};

/// Why a helper process could not be started.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("{program} is not installed (install the Debian package {package})")]
    NotInstalled { program: String, package: String },
    #[error("could not start {program}")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{program} did not become ready within {waited:?}; its log:\n{log}")]
    NotReady {
        program: String,
        waited: Duration,
        log: String,
    },
    #[error("no free loopback port")]
    NoPort(#[source] std::io::Error),
}

/// A running helper server; dropping it stops the server.
#[derive(Debug)]
pub struct Supervised {
    program: String,
    watchdog: Child,
    lifeline: Option<ChildStdin>,
    log: PathBuf,
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> Result<u16, ProcessError> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(ProcessError::NoPort)?;
    Ok(listener.local_addr().map_err(ProcessError::NoPort)?.port())
}

/// Finds `program` on PATH or in the usual sbin directories.
pub fn find_program(program: &str, package: &str) -> Result<PathBuf, ProcessError> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/bin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| ProcessError::NotInstalled {
            program: program.into(),
            package: package.into(),
        })
}

/// Polls `probe` every `interval` until it returns `Some`, for at most `deadline`.
/// `None` when the deadline passes first.
pub async fn poll_until<T, F, Fut>(deadline: Duration, interval: Duration, probe: F) -> Option<T>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let attempts = (deadline.as_millis() / interval.as_millis().max(1)).max(1) as usize;
    let attempt = || async { probe().await.ok_or(()) };
    attempt
        .retry(
            ConstantBuilder::default()
                .with_delay(interval)
                .with_max_times(attempts),
        )
        .await
        .ok()
}

const WATCHDOG: &str = r#""$@" & server=$!
echo "$server" > "$WATCHDOG_PIDFILE"
read -r _ || true
kill "$server" 2>/dev/null
wait "$server" 2>/dev/null
exit 0"#;

impl Supervised {
    /// Starts `program args…`, logging to `log`.
    pub fn spawn(program: &Path, args: &[String], log: PathBuf) -> Result<Self, ProcessError> {
        let name = program.display().to_string();
        let spawn_error = |source| ProcessError::Spawn {
            program: name.clone(),
            source,
        };
        let log_file = File::create(&log).map_err(spawn_error)?;
        let log_err = log_file.try_clone().map_err(spawn_error)?;
        let mut watchdog = Command::new("sh")
            .arg("-c")
            .arg(WATCHDOG)
            .arg("watchdog")
            .arg(program)
            .args(args)
            .env("WATCHDOG_PIDFILE", pid_file(&log))
            .stdin(Stdio::piped())
            .stdout(log_file)
            .stderr(log_err)
            .spawn()
            .map_err(spawn_error)?;
        let lifeline = watchdog.stdin.take();
        Ok(Self {
            program: name,
            watchdog,
            lifeline,
            log,
        })
    }

    /// Waits until `probe` answers true, polling every 25 ms for at most `deadline`.
    ///
    /// # Errors
    /// [`ProcessError::NotReady`] with the server's log when the deadline passes.
    pub async fn wait_until<F, Fut>(&self, deadline: Duration, probe: F) -> Result<(), ProcessError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let ready = poll_until(deadline, Duration::from_millis(25), || async {
            probe().await.then_some(())
        })
        .await;
        ready.ok_or_else(|| ProcessError::NotReady {
            program: self.program.clone(),
            waited: deadline,
            log: self.log(),
        })
    }

    /// The server's process id (not the watchdog's), once the watchdog has started it.
    pub fn server_pid(&self) -> Option<u32> {
        std::fs::read_to_string(pid_file(&self.log))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// What the server wrote so far.
    pub fn log(&self) -> String {
        let mut text = String::new();
        if let Ok(mut file) = File::open(&self.log) {
            let _ = file.read_to_string(&mut text);
        }
        text
    }

    /// Stops the server and waits for it to exit.
    pub fn stop(&mut self) {
        drop(self.lifeline.take());
        let _ = self.watchdog.wait();
    }
}

/// Where the watchdog writes the server's pid: next to its log.
fn pid_file(log: &Path) -> PathBuf {
    let mut name = log.as_os_str().to_owned();
    name.push(".pid");
    PathBuf::from(name)
}

impl Drop for Supervised {
    fn drop(&mut self) {
        self.stop();
    }
}
