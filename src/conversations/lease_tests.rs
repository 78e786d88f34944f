use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::{mpsc, oneshot};

use super::*;
use crate::store::MemoryStore;

const TTL: Duration = Duration::from_secs(10);
const EVERY: Duration = Duration::from_secs(1);

fn lease(store: &Arc<dyn Store>, holder: &str) -> Lease {
    Lease::new(store.clone(), "sweeper", holder.to_owned(), TTL)
}

fn memory() -> Arc<dyn Store> {
    Arc::new(MemoryStore::new())
}

#[tokio::test]
async fn hold_goes_to_one_of_two_leases_at_a_time() {
    let store = memory();
    let (a, b) = (lease(&store, "a"), lease(&store, "b"));
    assert!(a.hold().await.unwrap());
    assert!(!b.hold().await.unwrap());
    assert!(a.hold().await.unwrap(), "the holder keeps it");
    assert!(!b.hold().await.unwrap());
    assert_eq!(
        store.peek("lease:sweeper").await.unwrap().as_deref(),
        Some("a")
    );
}

#[tokio::test]
async fn hold_passes_to_the_other_when_the_holder_releases() {
    let store = memory();
    let (a, b) = (lease(&store, "a"), lease(&store, "b"));
    assert!(a.hold().await.unwrap());
    assert!(!b.release().await.unwrap(), "a non-holder releases nothing");
    assert!(!b.hold().await.unwrap());
    assert!(a.release().await.unwrap());
    assert!(
        !a.release().await.unwrap(),
        "releasing again changes nothing"
    );
    assert!(b.hold().await.unwrap());
    assert!(!a.hold().await.unwrap());
}

#[tokio::test(start_paused = true)]
async fn hold_passes_to_the_other_when_the_holder_stops_renewing() {
    let store = memory();
    let (a, b) = (lease(&store, "a"), lease(&store, "b"));
    assert!(a.hold().await.unwrap());
    tokio::time::advance(TTL / 2).await;
    assert!(a.hold().await.unwrap(), "renewed half-way");
    tokio::time::advance(TTL * 3 / 4).await;
    assert!(
        !b.hold().await.unwrap(),
        "past the first expiry, the renewal still holds"
    );
    tokio::time::advance(TTL / 2).await;
    assert!(b.hold().await.unwrap(), "the renewal lapsed");
    assert!(!a.hold().await.unwrap());
}

#[test]
fn holder_ids_differ_between_calls() {
    let (first, second) = (Lease::holder_id(), Lease::holder_id());
    assert_ne!(first, second);
    let (host, suffix) = first.rsplit_once('-').unwrap();
    assert!(!host.is_empty());
    assert_eq!(suffix.len(), 8, "{first}");
}

/// A runner of `lease` whose ticks are reported on the returned channel, and the sender that
/// shuts it down.
fn spawn_runner(
    lease: Lease,
) -> (
    mpsc::UnboundedReceiver<()>,
    oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let (ticks_tx, ticks) = mpsc::unbounded_channel();
    let (stop, stopped) = oneshot::channel::<()>();
    let shutdown = async move {
        let _ = stopped.await;
    };
    let runner = tokio::spawn(run_while_leader(lease, EVERY, shutdown, move || {
        let ticks_tx = ticks_tx.clone();
        async move {
            let _ = ticks_tx.send(());
        }
    }));
    (ticks, stop, runner)
}

/// How many ticks arrived since the last call.
fn drain(ticks: &mut mpsc::UnboundedReceiver<()>) -> usize {
    std::iter::from_fn(|| ticks.try_recv().ok()).count()
}

#[tokio::test(start_paused = true)]
async fn run_while_leader_ticks_only_while_it_holds_the_lease() {
    let store = memory();
    let other = Lease::new(
        store.clone(),
        "sweeper",
        "other".into(),
        Duration::from_secs(3600),
    );
    assert!(other.hold().await.unwrap());
    let (mut ticks, _stop, _runner) = spawn_runner(lease(&store, "runner"));

    tokio::time::sleep(EVERY * 10).await;
    assert_eq!(
        drain(&mut ticks),
        0,
        "no tick while another holds the lease"
    );

    assert!(other.release().await.unwrap());
    tokio::time::timeout(EVERY * 10, ticks.recv())
        .await
        .expect("a tick once the lease is free");
    tokio::time::sleep(EVERY * 5).await;
    assert!(drain(&mut ticks) >= 4, "ticks go on while it holds");
    assert_eq!(
        store.peek("lease:sweeper").await.unwrap().as_deref(),
        Some("runner")
    );

    // The lease is lost (as when it lapsed) and another holder takes it.
    store.take("lease:sweeper").await.unwrap();
    assert!(other.hold().await.unwrap());
    tokio::time::sleep(EVERY * 10).await;
    assert_eq!(drain(&mut ticks), 0, "no tick after the lease was lost");
}

#[tokio::test(start_paused = true)]
async fn run_while_leader_releases_the_lease_on_shutdown() {
    let store = memory();
    let (mut ticks, stop, runner) = spawn_runner(lease(&store, "runner"));
    tokio::time::timeout(EVERY * 10, ticks.recv())
        .await
        .expect("a first tick");
    stop.send(()).unwrap();
    runner.await.unwrap();
    assert_eq!(store.peek("lease:sweeper").await.unwrap(), None);
    assert!(lease(&store, "next").hold().await.unwrap());
}

#[tokio::test(start_paused = true)]
async fn run_while_leader_stops_ticking_once_shut_down_while_following() {
    let store = memory();
    let other = lease(&store, "other");
    assert!(other.hold().await.unwrap());
    let (mut ticks, stop, runner) = spawn_runner(lease(&store, "runner"));
    tokio::time::sleep(EVERY * 3).await;
    stop.send(()).unwrap();
    runner.await.unwrap();
    assert_eq!(drain(&mut ticks), 0);
    assert_eq!(
        store.peek("lease:sweeper").await.unwrap().as_deref(),
        Some("other"),
        "shutting down releases only its own lease"
    );
}

/// What two runners sharing one lease did: how many ticks were running at once at most, and
/// which holder ran each tick, in order.
#[derive(Default)]
struct Record {
    running: AtomicUsize,
    most_at_once: AtomicUsize,
    holders: Mutex<Vec<String>>,
}

impl Record {
    async fn tick(&self, holder: &str) {
        let _running = Running::start(self);
        // A tick that takes a while, so overlapping ticks would be seen.
        tokio::time::sleep(Duration::from_millis(20)).await;
        self.holders
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(holder.to_owned());
    }

    fn holders(&self) -> Vec<String> {
        self.holders
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// Counts a tick as running until dropped, also when its task is aborted half-way.
struct Running<'a>(&'a AtomicUsize);

impl<'a> Running<'a> {
    fn start(record: &'a Record) -> Self {
        let now = record.running.fetch_add(1, Ordering::SeqCst) + 1;
        record.most_at_once.fetch_max(now, Ordering::SeqCst);
        Self(&record.running)
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn spawn_redis_runner(
    url: &str,
    prefix: &str,
    holder: &str,
    record: &Arc<Record>,
) -> (oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    let config = crate::store::RedisStoreConfig {
        url: crate::config::Secret::new(url),
        key_prefix: prefix.to_owned(),
        connect_timeout: Duration::from_millis(500),
        command_timeout: Duration::from_secs(2),
    };
    let store: Arc<dyn Store> = Arc::new(crate::store::RedisStore::new(&config).unwrap());
    let lease = Lease::new(store, "sweeper", holder.to_owned(), Duration::from_secs(3));
    let (stop, stopped) = oneshot::channel::<()>();
    let shutdown = async move {
        let _ = stopped.await;
    };
    let (record, holder) = (record.clone(), holder.to_owned());
    let runner = tokio::spawn(async move {
        let tick = || {
            let (record, holder) = (record.clone(), holder.clone());
            async move { record.tick(&holder).await }
        };
        run_while_leader(lease, Duration::from_millis(100), shutdown, tick).await;
    });
    (stop, runner)
}

/// Polls until `record` holds at least `count` ticks.
async fn ticked(record: &Record, count: usize) {
    let done = crate::testkit::process::poll_until(
        Duration::from_secs(20),
        Duration::from_millis(50),
        || async { (record.holders().len() >= count).then_some(()) },
    )
    .await;
    assert!(done.is_some(), "{count} ticks: {:?}", record.holders());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_runners_on_one_redis_never_tick_at_once_and_hand_over_on_a_crash() {
    let server = crate::testkit::RedisServer::start().await.unwrap();
    let prefix = format!("lease-{:08x}", rand::rng().random::<u32>());
    let record = Arc::new(Record::default());
    let (stop_a, runner_a) = spawn_redis_runner(&server.url(), &prefix, "a", &record);
    let (stop_b, runner_b) = spawn_redis_runner(&server.url(), &prefix, "b", &record);
    ticked(&record, 10).await;

    // The leader crashes: its task ends without releasing, so the lease has to lapse. Its
    // shutdown sender is kept: dropping it would be a shutdown, which releases.
    let first = record.holders()[0].clone();
    let (crashed, survivor, stop_survivor, _stop_crashed) = if first == "a" {
        (runner_a, runner_b, stop_b, stop_a)
    } else {
        (runner_b, runner_a, stop_a, stop_b)
    };
    crashed.abort();
    let before = record.holders().len();
    ticked(&record, before + 10).await;

    stop_survivor.send(()).unwrap();
    survivor.await.unwrap();
    let holders = record.holders();
    let handovers = holders.windows(2).filter(|w| w[0] != w[1]).count();
    assert_eq!(handovers, 1, "one handover, at the crash: {holders:?}");
    assert_eq!(record.most_at_once.load(Ordering::SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn run_while_leader_keeps_going_through_store_errors_and_leads_after_them() {
    let store = memory();
    // A document where the lease belongs: every attempt to hold it is refused by the store,
    // until the document expires.
    let refused = crate::store::Write {
        value: b"not a claim".to_vec(),
        ttl: Some(EVERY * 5),
        effects: Vec::new(),
    };
    store
        .compare_and_set("lease:sweeper", 0, refused)
        .await
        .unwrap();
    let (mut ticks, _stop, runner) = spawn_runner(lease(&store, "runner"));
    tokio::time::sleep(EVERY * 3).await;
    assert!(
        lease(&store, "probe").hold().await.is_err(),
        "still refused"
    );
    assert_eq!(drain(&mut ticks), 0, "no tick while the store refuses");
    assert!(!runner.is_finished(), "the runner keeps going");

    tokio::time::timeout(EVERY * 10, ticks.recv())
        .await
        .expect("a tick once the store answers again");
    assert_eq!(
        store.peek("lease:sweeper").await.unwrap().as_deref(),
        Some("runner")
    );
}
