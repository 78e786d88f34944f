//! The server loop: serve until the shutdown future completes, then let in-flight requests finish
//! for up to a grace period. Each alert is recorded atomically, so a request cut off at the end of
//! the grace period leaves nothing half-written and is answered by no 2xx: Alertmanager retries.

use std::future::Future;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// Serves `router` on `listener` until `shutdown` completes, then drains for up to `grace`.
///
/// # Errors
/// Only when accepting connections fails for good.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<()> {
    let (draining_tx, draining_rx) = oneshot::channel();
    let signal = async move {
        shutdown.await;
        tracing::info!(grace = %humantime::format_duration(grace), "shutting down: no new connections, finishing in-flight requests");
        let _ = draining_tx.send(());
    };
    let server = axum::serve(listener, router).with_graceful_shutdown(signal);
    let server = std::pin::pin!(server.into_future());
    let mut server = server;
    tokio::select! {
        result = &mut server => result,
        Ok(()) = draining_rx => match tokio::time::timeout(grace, server).await {
            Ok(result) => result,
            Err(_) => {
                tracing::warn!("grace period over; abandoning requests still in flight");
                Ok(())
            }
        },
    }
}

/// A future that completes on SIGTERM or SIGINT (Ctrl-C). The handlers are installed by this
/// call, not when the future is first polled, so a signal that arrives as soon as the server
/// says it is serving is still a graceful shutdown.
///
/// # Errors
/// When the signal handlers cannot be installed.
#[cfg(unix)]
pub fn termination_signal() -> std::io::Result<impl Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = terminate.recv() => {}
            _ = interrupt.recv() => {}
        }
    })
}
