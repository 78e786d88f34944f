//! Graceful shutdown: a request being handled when the signal comes is finished and recorded;
//! new connections are refused afterwards.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use robot_sre::store::{
    CasOutcome, Claim, MemoryStore, Store, StoreError, Version, Versioned, Write,
};
use tokio::net::TcpStream;
use tokio::sync::{Notify, Semaphore};

use crate::helpers::{Backend, EXAMPLE, TOKEN, eventually, spawn_app_with};

/// The memory store, except that the first write waits for the test's permission. It lets the
/// test know for certain that a request is inside the handler when shutdown begins.
struct GatedStore {
    inner: MemoryStore,
    entered: Notify,
    gate: Semaphore,
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
        let _permit = self.gate.acquire().await.expect("gate open");
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
    async fn members(&self, set: &str) -> Result<Vec<String>, StoreError> {
        self.inner.members(set).await
    }
    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

#[tokio::test]
async fn a_request_in_flight_at_shutdown_completes_and_is_recorded() {
    let store = Arc::new(GatedStore {
        inner: MemoryStore::new(),
        entered: Notify::new(),
        gate: Semaphore::new(0),
    });
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
