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

/// Completes on SIGTERM or SIGINT (Ctrl-C).
pub async fn termination_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate = match tokio::signal::unix::signal(
            tokio::signal::unix::SignalKind::terminate(),
        ) {
            Ok(signal) => signal,
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM; only Ctrl-C stops the server");
                let _ = interrupt.await;
                return;
            }
        };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
