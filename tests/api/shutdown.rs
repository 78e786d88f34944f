//! Requests caught in the middle: by a shutdown (finished and recorded; new connections refused)
//! or by their deadline (503, so Alertmanager retries; nothing half-written).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use robot_sre::store::{
    Admission, CasOutcome, Claim, LogEntry, LogId, MemoryStore, Store, StoreError, Version,
    Versioned, WindowEntry, Write,
};
use tokio::net::TcpStream;
use tokio::sync::{Notify, Semaphore};

use crate::helpers::{Backend, EXAMPLE, TOKEN, eventually, spawn_app_with};

/// The memory store, except that writes wait for the test's permission. It lets a test know for
/// certain that a request is inside the handler.
struct GatedStore {
    inner: MemoryStore,
    entered: Notify,
    gate: Semaphore,
    /// Signalled when a write is abandoned while waiting at the gate.
    cancelled: Notify,
}

/// Signals `cancelled` if dropped before `passed` is set.
struct CancelGuard<'a> {
    cancelled: &'a Notify,
    passed: bool,
}

impl Drop for CancelGuard<'_> {
    fn drop(&mut self) {
        if !self.passed {
            self.cancelled.notify_one();
        }
    }
}

#[async_trait]
impl Store for GatedStore {
    async fn get(&self, key: &str) -> Result<Option<Versioned>, StoreError> {
        self.inner.get(key).await
    }
    async fn compare_and_set(
        &self,
        key: &str,
        expected: Version,
        write: Write,
    ) -> Result<CasOutcome, StoreError> {
        self.entered.notify_one();
        let mut guard = CancelGuard {
            cancelled: &self.cancelled,
            passed: false,
        };
        let _permit = self.gate.acquire().await.expect("gate open");
        guard.passed = true;
        self.inner.compare_and_set(key, expected, write).await
    }
    async fn claim(
        &self,
        key: &str,
        value: &str,
        ttl: Option<Duration>,
    ) -> Result<Claim, StoreError> {
        self.inner.claim(key, value, ttl).await
    }
    async fn release(&self, key: &str, value: &str) -> Result<bool, StoreError> {
        self.inner.release(key, value).await
    }
    async fn renew(&self, key: &str, value: &str, ttl: Duration) -> Result<bool, StoreError> {
        self.inner.renew(key, value, ttl).await
    }
    async fn peek(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.inner.peek(key).await
    }
    async fn take(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.inner.take(key).await
    }
    async fn members(&self, set: &str) -> Result<Vec<String>, StoreError> {
        self.inner.members(set).await
    }
    async fn append(&self, log: &str, value: &[u8]) -> Result<LogId, StoreError> {
        self.inner.append(log, value).await
    }
    async fn read_log(
        &self,
        log: &str,
        after: Option<&LogId>,
        limit: usize,
    ) -> Result<Vec<LogEntry>, StoreError> {
        self.inner.read_log(log, after, limit).await
    }
    async fn admit(
        &self,
        key: &str,
        member: &str,
        now: DateTime<Utc>,
        window: Duration,
        limit: usize,
    ) -> Result<Admission, StoreError> {
        self.inner.admit(key, member, now, window, limit).await
    }
    async fn window(
        &self,
        key: &str,
        now: DateTime<Utc>,
        window: Duration,
    ) -> Result<Vec<WindowEntry>, StoreError> {
        self.inner.window(key, now, window).await
    }
    async fn withdraw(&self, key: &str, member: &str) -> Result<(), StoreError> {
        self.inner.withdraw(key, member).await
    }
    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

fn gated_store() -> Arc<GatedStore> {
    Arc::new(GatedStore {
        inner: MemoryStore::new(),
        entered: Notify::new(),
        gate: Semaphore::new(0),
        cancelled: Notify::new(),
    })
}

#[tokio::test]
async fn a_request_in_flight_at_shutdown_completes_and_is_recorded() {
    let store = gated_store();
    let mut app = spawn_app_with(Backend::Given(store.clone()), |_| {}).await;
    let request = app
        .client
        .post(app.url("/webhooks/alertmanager"))
        .bearer_auth(TOKEN)
        .body(EXAMPLE);
    let in_flight = tokio::spawn(request.send());
    store.entered.notified().await;

    app.shut_down();
    eventually(
        Duration::from_secs(5),
        "listener closed to new connections",
        || async { TcpStream::connect(app.address).await.is_err().then_some(()) },
    )
    .await;
    store.gate.add_permits(usize::MAX >> 4);

    let response = in_flight.await.unwrap().unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(app.repository.open_ids().await.unwrap().len(), 1);
    assert!(
        (&mut app.server).await.unwrap().is_ok(),
        "the server stops cleanly"
    );
}

#[tokio::test]
async fn a_request_past_its_deadline_gets_503_and_is_cancelled_before_writing_the_incident() {
    let store = gated_store();
    let app = spawn_app_with(Backend::Given(store.clone()), |s| {
        s.server.request_timeout = Duration::from_millis(200);
    })
    .await;
    let response = app.post_alerts(EXAMPLE).await;
    assert_eq!(response.status(), 503);
    tokio::time::timeout(Duration::from_secs(5), store.cancelled.notified())
        .await
        .expect("the handler was cancelled while waiting to write");
    assert!(app.repository.open_ids().await.unwrap().is_empty());
}
