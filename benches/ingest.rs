//! Ingest benchmark: Alertmanager webhooks through HTTP into Redis, on one machine.
//!
//! Starts a throwaway redis-server and the bot on a Redis store (fresh key prefix) served on a
//! loopback port, then measures, in this order and in one run:
//!
//! 1. **new alerts**: `BENCH_ALERTS` requests (default 20,000), each carrying one alert whose
//!    fingerprint was never seen, from a closed-loop client keeping `BENCH_CONCURRENCY` requests
//!    (default 64) in flight on keep-alive connections;
//! 2. **duplicates**: the same requests again, so every alert is a duplicate;
//! 3. **paced**: new alerts open-loop at `BENCH_PACED_RATE` alerts/s (default 1,000) for
//!    `BENCH_PACED_SECONDS` (default 10). Latency counts from each request's scheduled send time,
//!    so a stall is charged to every request it delays (no coordinated omission); the service
//!    time, from the actual send, is reported beside it;
//! 4. **reference**: `redis-benchmark -t set -n BENCH_REDIS_REQUESTS` (default 200,000, 50
//!    clients, no pipelining) against the same redis-server.
//!
//! A short warm-up (new alerts, not reported) opens the connections and loads the Lua scripts.
//! Every response is checked: a 200 must carry a receipt recording exactly the request's alert,
//! with outcome `opened` (new, paced) or `duplicate`; any other receipt aborts the run, since a
//! benchmark of wrong answers is worthless. Failed requests (non-200, transport errors) are
//! counted and reported, and make the run exit non-zero after printing the report. The open-set
//! size in Redis is checked against the number of alerts opened.
//!
//! Per phase it also reports CPU time per alert for the bot's threads, the load generator's
//! threads (this process, other threads) and redis-server (`INFO cpu`), and the Redis commands
//! executed per alert (`INFO commandstats`), to show where the cores go; for the reference, the
//! redis-server CPU time per SET.
//!
//! The bot and the load generator run on separate Tokio runtimes (threads named `bot-server` and
//! `bench-client`), each with one worker per core; both share the machine with redis-server.
//! No tracing subscriber is installed, so the bot's per-alert log line costs nothing here.
//!
//! Run: `cargo bench --bench ingest`. The Markdown section for `BENCHMARKS.md` goes to stdout,
//! progress to stderr. Linux only (reads `/proc`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, bail, ensure};
use hdrhistogram::Histogram;
use redis::aio::MultiplexedConnection;
use reqwest::StatusCode;
use robot_sre::app::App;
use robot_sre::config::{Secret, Settings};
use robot_sre::incidents::Classifier;
use robot_sre::store::{RedisStore, RedisStoreConfig};
use robot_sre::testkit::RedisServer;
use robot_sre::testkit::process::find_program;
use serde::Deserialize;
use tokio::net::TcpListener;
use tokio::runtime::Runtime;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::Instant;

const TOKEN: &str = "bench-token-not-a-secret";
const SERVER_THREADS: &str = "bot-server";
const CLIENT_THREADS: &str = "bench-client";
/// Clock ticks per second in `/proc/*/stat` (`USER_HZ`): 100 on every mainstream Linux ABI.
const TICKS_PER_SECOND: f64 = 100.0;
/// Latencies are recorded in microseconds, up to a minute, to 3 significant digits.
const MAX_MICROS: u64 = 60_000_000;
/// Fingerprint series (the top bits), so the phases never share an alert.
const WARM_UP: u64 = 1;
const MAIN: u64 = 2;
const PACED: u64 = 3;
const TARGET_NEW: f64 = 5_000.0;
const TARGET_DUPLICATES: f64 = 20_000.0;
const TARGET_PACED_P99_MS: f64 = 10.0;

fn main() -> anyhow::Result<()> {
    let config = Config::from_env()?;
    let server_runtime = runtime(SERVER_THREADS, config.cores)?;
    let client_runtime = runtime(CLIENT_THREADS, config.cores)?;
    let bot = server_runtime.block_on(Bot::start())?;
    let outcome = client_runtime.block_on(run(&config, &bot));
    server_runtime.block_on(bot.stop())?;
    outcome
}

fn runtime(name: &str, threads: usize) -> anyhow::Result<Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name(name)
        .enable_all()
        .build()
        .with_context(|| format!("cannot build the {name} runtime"))
}

async fn run(config: &Config, bot: &Bot) -> anyhow::Result<()> {
    let client = Client::new(bot.address, config.concurrency)?;
    let mut redis = bot.connect().await?;
    let warm_up = Arc::new(requests(WARM_UP, config.concurrency * 8));
    closed_loop(&client, &warm_up, config.concurrency, "opened")
        .await?
        .ensure_sound("warm-up")?;
    let main = Arc::new(requests(MAIN, config.alerts));
    let new = measure(&mut redis, "new alerts", async {
        closed_loop(&client, &main, config.concurrency, "opened").await
    })
    .await?;
    let duplicates = measure(&mut redis, "duplicates", async {
        closed_loop(&client, &main, config.concurrency, "duplicate").await
    })
    .await?;
    let paced_requests = Arc::new(requests(PACED, config.paced_alerts()));
    let paced = measure(&mut redis, "paced", async {
        paced(&client, &paced_requests, config.paced_rate).await
    })
    .await?;
    bot.ensure_open(
        &mut redis,
        warm_up.len() + main.len() + paced_requests.len(),
    )
    .await?;
    let reference = measure_reference(&mut redis, bot.redis.port(), config.redis_requests).await?;
    let machine = Machine::describe().await;
    let report = Report {
        config,
        machine,
        new,
        duplicates,
        paced,
        reference,
    };
    println!("{}", report.markdown()?);
    report.ensure_no_failures()
}

// ---------------------------------------------------------------------------------------------
// Configuration

struct Config {
    cores: usize,
    alerts: usize,
    concurrency: usize,
    paced_rate: u32,
    paced_seconds: u32,
    redis_requests: u32,
}

impl Config {
    fn from_env() -> anyhow::Result<Self> {
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

    fn paced_alerts(&self) -> usize {
        self.paced_rate as usize * self.paced_seconds as usize
    }
}

fn env_or<T>(name: &str, default: T) -> anyhow::Result<T>
where
    T: FromStr,
    T::Err: std::error::Error + Send + Sync + 'static,
{
    match std::env::var(name) {
        Ok(value) => value
            .trim()
            .parse()
            .with_context(|| format!("{name}={value:?} is not a valid number")),
        Err(std::env::VarError::NotPresent) => Ok(default),
        Err(error) => Err(error).with_context(|| format!("cannot read {name}")),
    }
}

// ---------------------------------------------------------------------------------------------
// The bot under test

/// The bot, serving on `address`, on a Redis store in its own redis-server.
struct Bot {
    redis: RedisServer,
    prefix: String,
    address: SocketAddr,
    shutdown: oneshot::Sender<()>,
    server: JoinHandle<std::io::Result<()>>,
}

impl Bot {
    async fn start() -> anyhow::Result<Self> {
        let redis = RedisServer::start()
            .await
            .context("cannot start redis-server")?;
        let mut settings = Settings::default();
        settings.alertmanager.token = Some(Secret::new(TOKEN));
        settings.cluster.name = "bench".into();
        settings.server.shutdown_grace = Duration::from_secs(5);
        let prefix = format!("bench-{:016x}", rand::random::<u64>());
        let store = RedisStore::new(&RedisStoreConfig {
            url: redis.url(),
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
    async fn connect(&self) -> anyhow::Result<MultiplexedConnection> {
        let client = redis::Client::open(self.redis.url())?;
        client
            .get_multiplexed_async_connection()
            .await
            .context("cannot connect to redis-server")
    }

    /// Checks that Redis holds every incident the run opened (all stay open: they fire).
    async fn ensure_open(
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

    async fn stop(self) -> anyhow::Result<()> {
        let _ = self.shutdown.send(());
        self.server
            .await
            .context("the server task panicked")?
            .context("the server failed")
    }
}

// ---------------------------------------------------------------------------------------------
// Requests and the load generator

/// One webhook body carrying one alert.
struct Request {
    fingerprint: String,
    body: String,
}

/// `count` requests whose 16-hex-digit fingerprints are unique within and across series.
fn requests(series: u64, count: usize) -> Vec<Request> {
    (0..count as u64)
        .map(|index| {
            let fingerprint = format!("{:016x}", (series << 40) | index);
            let body = payload(&fingerprint);
            Request { fingerprint, body }
        })
        .collect()
}

/// A version-4 Alertmanager notification with one firing alert, as Alertmanager sends it.
fn payload(fingerprint: &str) -> String {
    let pod = format!("checkout-7d9f8c6b5-{fingerprint}");
    let labels = serde_json::json!({
        "alertname": "KubePodCrashLooping",
        "container": "checkout",
        "namespace": "shop",
        "pod": pod,
        "severity": "warning",
    });
    serde_json::json!({
        "version": "4",
        "groupKey": format!("{{}}:{{alertname=\"KubePodCrashLooping\", pod=\"{pod}\"}}"),
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "robot-sre",
        "groupLabels": {"alertname": "KubePodCrashLooping", "pod": pod},
        "commonLabels": labels,
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": [{
            "status": "firing",
            "labels": labels,
            "annotations": {
                "description": format!("Pod shop/{pod} is restarting 1.2 times / 10 minutes."),
                "summary": "Pod is crash looping.",
            },
            "startsAt": "2026-11-21T05:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus:9090/graph?g0.expr=kube_pod_container_status_restarts_total",
            "fingerprint": fingerprint,
        }],
    })
    .to_string()
}

/// The part of the bot's receipt the benchmark checks.
#[derive(Deserialize)]
struct Receipt {
    received: usize,
    incidents: Vec<Recorded>,
}

#[derive(Deserialize)]
struct Recorded {
    fingerprint: String,
    outcome: String,
}

/// How one request went.
enum Reply {
    /// 200, and the receipt records the alert with the expected outcome.
    Expected,
    /// Not recorded: a transport error or a status other than 200.
    Failed(String),
    /// 200 with a receipt that is not the expected one.
    Wrong(String),
}

/// An HTTP client on keep-alive connections to the bot's webhook.
#[derive(Clone)]
struct Client {
    http: reqwest::Client,
    url: Arc<str>,
}

impl Client {
    fn new(address: SocketAddr, concurrency: usize) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(concurrency)
            .timeout(Duration::from_secs(30))
            .build()
            .context("cannot build the HTTP client")?;
        let url = format!("http://{address}/webhooks/alertmanager").into();
        Ok(Self { http, url })
    }

    async fn post(&self, request: &Request, expected: &str) -> Reply {
        match self.exchange(request).await {
            Err(error) => Reply::Failed(format!("request failed: {error}")),
            Ok((StatusCode::OK, body)) => check_receipt(request, &body, expected),
            Ok((status, body)) => Reply::Failed(format!("HTTP {status}: {body}")),
        }
    }

    async fn exchange(&self, request: &Request) -> reqwest::Result<(StatusCode, String)> {
        let response = self
            .http
            .post(&*self.url)
            .bearer_auth(TOKEN)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(request.body.clone())
            .send()
            .await?;
        let status = response.status();
        Ok((status, response.text().await?))
    }
}

fn check_receipt(request: &Request, body: &str, expected: &str) -> Reply {
    let receipt: Option<Receipt> = serde_json::from_str(body).ok();
    match receipt
        .as_ref()
        .map(|r| (r.received, r.incidents.as_slice()))
    {
        Some((1, [one])) if one.fingerprint == request.fingerprint && one.outcome == expected => {
            Reply::Expected
        }
        _ => Reply::Wrong(format!(
            "alert {}: expected outcome {expected:?}, got receipt {body}",
            request.fingerprint
        )),
    }
}

/// Sends every request once, keeping `concurrency` in flight.
async fn closed_loop(
    client: &Client,
    requests: &Arc<Vec<Request>>,
    concurrency: usize,
    expected: &'static str,
) -> anyhow::Result<Run> {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (client, requests, next) = (client.clone(), requests.clone(), next.clone());
            tokio::spawn(async move { worker(&client, &requests, &next, expected).await })
        })
        .collect();
    let mut tally = Tally::default();
    for finished in futures::future::join_all(workers).await {
        tally.merge(&finished.context("a client task panicked")?)?;
    }
    Ok(Run {
        load: format!("closed loop, {concurrency} in flight"),
        tally,
        elapsed: started.elapsed(),
    })
}

async fn worker(
    client: &Client,
    requests: &[Request],
    next: &AtomicUsize,
    expected: &str,
) -> Tally {
    let mut tally = Tally::default();
    while let Some(request) = requests.get(next.fetch_add(1, Ordering::Relaxed)) {
        let sent = Instant::now();
        let reply = client.post(request, expected).await;
        let took = sent.elapsed();
        tally.add(took, took, reply);
    }
    tally
}

/// Sends request `i` at `i / rate` seconds from the start, whatever the earlier ones are doing.
async fn paced(client: &Client, requests: &Arc<Vec<Request>>, rate: u32) -> anyhow::Result<Run> {
    let started = Instant::now();
    let scheduled =
        |index: usize| started + Duration::from_secs_f64(index as f64 / f64::from(rate));
    let mut sends = Vec::with_capacity(requests.len());
    while sends.len() < requests.len() {
        tokio::time::sleep_until(scheduled(sends.len())).await;
        // Catch up on every send that fell due, in case the timer woke late.
        let now = Instant::now();
        while sends.len() < requests.len() && scheduled(sends.len()) <= now {
            let (client, requests) = (client.clone(), requests.clone());
            let (index, due) = (sends.len(), scheduled(sends.len()));
            sends.push(tokio::spawn(async move {
                let sent = Instant::now();
                let reply = client.post(&requests[index], "opened").await;
                (due.elapsed(), sent.elapsed(), reply)
            }));
        }
    }
    let mut tally = Tally::default();
    for send in futures::future::join_all(sends).await {
        let (latency, service, reply) = send.context("a client task panicked")?;
        tally.add(latency, service, reply);
    }
    Ok(Run {
        load: format!("open loop, {} alerts/s", thousands(u64::from(rate))),
        tally,
        elapsed: started.elapsed(),
    })
}

// ---------------------------------------------------------------------------------------------
// Tallies

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_MICROS, 3).expect("constant, valid histogram bounds")
}

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

/// Latencies and answers of one phase.
struct Tally {
    /// From the (scheduled) send to the full response, in µs.
    latency: Histogram<u64>,
    /// From the actual send to the full response, in µs (differs only when paced).
    service: Histogram<u64>,
    expected: u64,
    failed: u64,
    wrong: u64,
    first_failure: Option<String>,
    first_wrong: Option<String>,
}

impl Default for Tally {
    fn default() -> Self {
        Self {
            latency: histogram(),
            service: histogram(),
            expected: 0,
            failed: 0,
            wrong: 0,
            first_failure: None,
            first_wrong: None,
        }
    }
}

impl Tally {
    fn add(&mut self, latency: Duration, service: Duration, reply: Reply) {
        self.latency.saturating_record(micros(latency));
        self.service.saturating_record(micros(service));
        match reply {
            Reply::Expected => self.expected += 1,
            Reply::Failed(why) => {
                self.failed += 1;
                self.first_failure.get_or_insert(why);
            }
            Reply::Wrong(why) => {
                self.wrong += 1;
                self.first_wrong.get_or_insert(why);
            }
        }
    }

    fn merge(&mut self, other: &Tally) -> anyhow::Result<()> {
        self.latency
            .add(&other.latency)
            .context("merging latencies")?;
        self.service
            .add(&other.service)
            .context("merging latencies")?;
        self.expected += other.expected;
        self.failed += other.failed;
        self.wrong += other.wrong;
        if self.first_failure.is_none() {
            self.first_failure.clone_from(&other.first_failure);
        }
        if self.first_wrong.is_none() {
            self.first_wrong.clone_from(&other.first_wrong);
        }
        Ok(())
    }
}

/// One phase's tally over its wall-clock time.
struct Run {
    load: String,
    tally: Tally,
    elapsed: Duration,
}

impl Run {
    /// Fails on any wrong receipt: the phase did not measure what it claims to.
    fn ensure_sound(&self, phase: &str) -> anyhow::Result<()> {
        let tally = &self.tally;
        if let Some(first) = &tally.first_failure {
            eprintln!("{phase}: {} requests failed; first: {first}", tally.failed);
        }
        if let Some(first) = &tally.first_wrong {
            bail!(
                "{phase}: {} of {} responses did not record the expected outcome, so the \
                 numbers would be meaningless; first: {first}",
                tally.wrong,
                tally.latency.len()
            );
        }
        Ok(())
    }

    /// Alerts recorded per second (failed requests do not count).
    fn rate(&self) -> f64 {
        self.tally.expected as f64 / self.elapsed.as_secs_f64()
    }
}

// ---------------------------------------------------------------------------------------------
// Where the CPU goes

/// CPU seconds used so far, and Redis command counts.
struct Usage {
    bot: f64,
    load_generator: f64,
    redis: f64,
    redis_calls: BTreeMap<String, u64>,
}

impl Usage {
    async fn now(redis: &mut MultiplexedConnection) -> anyhow::Result<Self> {
        let (bot, load_generator) = process_cpu()?;
        let info: String = redis::cmd("INFO")
            .arg("cpu")
            .arg("commandstats")
            .query_async(redis)
            .await
            .context("cannot read INFO from redis-server")?;
        Ok(Self {
            bot,
            load_generator,
            redis: redis_cpu(&info)?,
            redis_calls: redis_calls(&info),
        })
    }

    fn since(self, before: &Usage) -> Usage {
        let redis_calls = self
            .redis_calls
            .into_iter()
            .filter(|(command, _)| command != "info")
            .map(|(command, calls)| {
                let earlier = before.redis_calls.get(&command).copied().unwrap_or(0);
                (command, calls.saturating_sub(earlier))
            })
            .filter(|(_, calls)| *calls > 0)
            .collect();
        Usage {
            bot: self.bot - before.bot,
            load_generator: self.load_generator - before.load_generator,
            redis: self.redis - before.redis,
            redis_calls,
        }
    }
}

/// CPU seconds used so far by the bot's threads, and by every other thread of this process.
fn process_cpu() -> anyhow::Result<(f64, f64)> {
    let (mut bot, mut others) = (0, 0);
    for task in std::fs::read_dir("/proc/self/task").context("cannot list /proc/self/task")? {
        let dir = task?.path();
        // A thread may end between the listing and the reads: skip it.
        let (Ok(name), Ok(stat)) = (
            std::fs::read_to_string(dir.join("comm")),
            std::fs::read_to_string(dir.join("stat")),
        ) else {
            continue;
        };
        let ticks = cpu_ticks(&stat).with_context(|| format!("unexpected {}", dir.display()))?;
        if name.trim_end() == SERVER_THREADS {
            bot += ticks;
        } else {
            others += ticks;
        }
    }
    Ok((
        bot as f64 / TICKS_PER_SECOND,
        others as f64 / TICKS_PER_SECOND,
    ))
}

/// utime + stime of a `/proc/<pid>/task/<tid>/stat` line (fields 14 and 15, see proc(5)).
fn cpu_ticks(stat: &str) -> Option<u64> {
    // The command name (field 2) may hold spaces; count from the `)` that closes it (field 3 on).
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let user: u64 = fields.get(11)?.parse().ok()?;
    let system: u64 = fields.get(12)?.parse().ok()?;
    Some(user + system)
}

fn info_fields(info: &str) -> impl Iterator<Item = (&str, &str)> {
    info.lines()
        .filter_map(|line| line.trim_end().split_once(':'))
}

fn redis_cpu(info: &str) -> anyhow::Result<f64> {
    let seconds: Vec<f64> = info_fields(info)
        .filter(|(key, _)| matches!(*key, "used_cpu_sys" | "used_cpu_user"))
        .map(|(_, value)| value.parse())
        .collect::<Result<_, _>>()
        .context("unreadable used_cpu_* in INFO cpu")?;
    ensure!(
        seconds.len() == 2,
        "INFO cpu lacks used_cpu_sys or used_cpu_user"
    );
    Ok(seconds.iter().sum())
}

/// Calls per command, from `cmdstat_<command>:calls=N,usec=…` lines.
fn redis_calls(info: &str) -> BTreeMap<String, u64> {
    info_fields(info)
        .filter_map(|(key, value)| {
            let command = key.strip_prefix("cmdstat_")?;
            let calls = value.split(',').find_map(|f| f.strip_prefix("calls="))?;
            Some((command.to_owned(), calls.parse().ok()?))
        })
        .collect()
}

/// A phase with the resources it used.
struct Phase {
    run: Run,
    usage: Usage,
}

async fn measure(
    redis: &mut MultiplexedConnection,
    name: &str,
    phase: impl Future<Output = anyhow::Result<Run>>,
) -> anyhow::Result<Phase> {
    eprintln!("ingest bench: {name}…");
    let before = Usage::now(redis).await?;
    let run = phase.await?;
    let usage = Usage::now(redis).await?.since(&before);
    run.ensure_sound(name)?;
    eprintln!(
        "ingest bench: {name}: {} alerts in {:.2} s, {} failed",
        run.tally.latency.len(),
        run.elapsed.as_secs_f64(),
        run.tally.failed
    );
    Ok(Phase { run, usage })
}

// ---------------------------------------------------------------------------------------------
// The redis-benchmark reference

struct Reference {
    command: String,
    requests_per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    /// redis-server CPU time per SET, in seconds.
    redis_cpu: f64,
}

async fn measure_reference(
    redis: &mut MultiplexedConnection,
    port: u16,
    requests: u32,
) -> anyhow::Result<Reference> {
    let before = Usage::now(redis).await?;
    let mut reference = redis_benchmark(port, requests).await?;
    let usage = Usage::now(redis).await?.since(&before);
    reference.redis_cpu = usage.redis / f64::from(requests);
    Ok(reference)
}

async fn redis_benchmark(port: u16, requests: u32) -> anyhow::Result<Reference> {
    eprintln!("ingest bench: redis-benchmark…");
    let program = find_program("redis-benchmark", "redis-tools")?;
    let args = |port: &str| format!("-h 127.0.0.1 -p {port} -t set -n {requests} --csv");
    let output = tokio::process::Command::new(&program)
        .args(args(&port.to_string()).split(' '))
        .output()
        .await
        .with_context(|| format!("cannot run {}", program.display()))?;
    ensure!(
        output.status.success(),
        "redis-benchmark failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let csv = String::from_utf8_lossy(&output.stdout);
    let mut reference = parse_reference(&csv)
        .with_context(|| format!("unexpected redis-benchmark output: {csv}"))?;
    reference.command = format!("redis-benchmark {}", args("<port>"));
    Ok(reference)
}

/// Reads the `SET` row of `redis-benchmark --csv`, by column name.
fn parse_reference(csv: &str) -> anyhow::Result<Reference> {
    let unquote = |line: &str| -> Vec<String> {
        line.split(',')
            .map(|field| field.trim().trim_matches('"').to_owned())
            .collect()
    };
    let mut lines = csv.lines().filter(|line| !line.trim().is_empty());
    let header = unquote(lines.next().context("no header")?);
    let row = unquote(
        lines
            .find(|line| line.starts_with("\"SET\""))
            .context("no SET row")?,
    );
    let column = |name: &str| -> anyhow::Result<f64> {
        let at = header
            .iter()
            .position(|h| h == name)
            .with_context(|| format!("no {name}"))?;
        let value = row.get(at).with_context(|| format!("no {name} value"))?;
        value
            .parse()
            .with_context(|| format!("{name} is {value:?}"))
    };
    Ok(Reference {
        command: String::new(),
        requests_per_second: column("rps")?,
        p50_ms: column("p50_latency_ms")?,
        p99_ms: column("p99_latency_ms")?,
        max_ms: column("max_latency_ms")?,
        redis_cpu: 0.0,
    })
}

// ---------------------------------------------------------------------------------------------
// The report

struct Machine {
    cpu: String,
    kernel: String,
    date: String,
    redis: String,
    rustc: String,
}

impl Machine {
    async fn describe() -> Self {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|cpuinfo| {
                cpuinfo
                    .lines()
                    .find(|line| line.starts_with("model name"))
                    .and_then(|line| line.split_once(':'))
                    .map(|(_, model)| model.trim().to_owned())
            });
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").ok();
        Self {
            cpu: cpu.unwrap_or_else(|| "unknown CPU".into()),
            kernel: format!("Linux {}", kernel.as_deref().unwrap_or("unknown").trim()),
            date: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
            redis: first_line_of("redis-server", "--version").await,
            rustc: first_line_of("rustc", "--version").await,
        }
    }
}

async fn first_line_of(program: &str, arg: &str) -> String {
    let output = tokio::process::Command::new(program)
        .arg(arg)
        .output()
        .await;
    output
        .ok()
        .and_then(|output| {
            let stdout = String::from_utf8_lossy(&output.stdout);
            stdout.lines().next().map(str::to_owned)
        })
        .unwrap_or_else(|| format!("{program}: unknown version"))
}

struct Report<'a> {
    config: &'a Config,
    machine: Machine,
    new: Phase,
    duplicates: Phase,
    paced: Phase,
    reference: Reference,
}

fn thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut grouped = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

fn ms(micros: u64) -> String {
    format!("{:.2} ms", micros as f64 / 1000.0)
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "**missed**" }
}

impl Report<'_> {
    fn markdown(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::new();
        self.header(&mut out)?;
        self.results(&mut out)?;
        self.targets(&mut out)?;
        self.cpu(&mut out)?;
        Ok(out)
    }

    fn header(&self, out: &mut String) -> std::fmt::Result {
        let (config, machine) = (self.config, &self.machine);
        let profile = if cfg!(debug_assertions) {
            "debug profile: NOT representative"
        } else {
            "optimized `bench` profile (release settings)"
        };
        writeln!(out, "### Run of {}\n", machine.date)?;
        writeln!(
            out,
            "- Machine: {} cores (`nproc`), {}, {}",
            config.cores, machine.cpu, machine.kernel
        )?;
        writeln!(
            out,
            "- Software: {}; {}; {profile}",
            machine.redis, machine.rustc
        )?;
        writeln!(
            out,
            "- Command: `BENCH_ALERTS={} BENCH_CONCURRENCY={} BENCH_PACED_RATE={} \
             BENCH_PACED_SECONDS={} BENCH_REDIS_REQUESTS={} cargo bench --bench ingest`",
            config.alerts,
            config.concurrency,
            config.paced_rate,
            config.paced_seconds,
            config.redis_requests
        )?;
        writeln!(
            out,
            "- The bot, the load generator and redis-server share these {} cores; bot logging off.\n",
            config.cores
        )
    }

    fn results(&self, out: &mut String) -> std::fmt::Result {
        writeln!(
            out,
            "| Phase | Load | Alerts | Failed | Throughput | p50 | p99 | max |"
        )?;
        writeln!(out, "|---|---|--:|--:|--:|--:|--:|--:|")?;
        phase_row(out, "New alerts", &self.new.run, false)?;
        phase_row(out, "Duplicates", &self.duplicates.run, false)?;
        phase_row(
            out,
            "Paced new alerts, from scheduled send",
            &self.paced.run,
            false,
        )?;
        phase_row(
            out,
            "Paced new alerts, from actual send",
            &self.paced.run,
            true,
        )?;
        let reference = &self.reference;
        writeln!(
            out,
            "| redis-benchmark SET (reference) | 50 clients, no pipelining | {} requests | – | {} requests/s | {:.3} ms | {:.3} ms | {:.3} ms |\n",
            thousands(u64::from(self.config.redis_requests)),
            thousands(reference.requests_per_second.round() as u64),
            reference.p50_ms,
            reference.p99_ms,
            reference.max_ms,
        )?;
        writeln!(out, "Reference command: `{}`.\n", reference.command)
    }

    fn targets(&self, out: &mut String) -> std::fmt::Result {
        let new = self.new.run.rate();
        let duplicates = self.duplicates.run.rate();
        let p99 = self.paced.run.tally.latency.value_at_quantile(0.99) as f64 / 1000.0;
        let set = self.reference.requests_per_second;
        writeln!(
            out,
            "| Target ({} cores) | Result | Verdict |",
            self.config.cores
        )?;
        writeln!(out, "|---|--:|---|")?;
        writeln!(
            out,
            "| ≥ {} new alerts/s | {} alerts/s | {} |",
            thousands(TARGET_NEW as u64),
            thousands(new.round() as u64),
            verdict(new >= TARGET_NEW)
        )?;
        writeln!(
            out,
            "| ≥ {} duplicate alerts/s | {} alerts/s | {} |",
            thousands(TARGET_DUPLICATES as u64),
            thousands(duplicates.round() as u64),
            verdict(duplicates >= TARGET_DUPLICATES)
        )?;
        writeln!(
            out,
            "| p99 < {TARGET_PACED_P99_MS} ms at {} alerts/s | {p99:.2} ms | {} |\n",
            thousands(u64::from(self.config.paced_rate)),
            verdict(p99 < TARGET_PACED_P99_MS && self.paced.run.tally.failed == 0)
        )?;
        writeln!(
            out,
            "Against redis-benchmark SET ({} requests/s): new alerts run at {:.1} % of it \
             (1 : {:.1}), duplicates at {:.1} % (1 : {:.1}).\n",
            thousands(set.round() as u64),
            100.0 * new / set,
            set / new,
            100.0 * duplicates / set,
            set / duplicates
        )
    }

    fn cpu(&self, out: &mut String) -> std::fmt::Result {
        writeln!(
            out,
            "CPU time per alert (bot = the `bot-server` threads; load generator = the rest of \
             the bench process; redis-server from `INFO cpu`), and Redis commands executed per \
             alert (`INFO commandstats`, commands run inside Lua scripts included):\n"
        )?;
        writeln!(
            out,
            "| Phase | Bot | Load generator | redis-server | Cores busy | Redis commands per alert |"
        )?;
        writeln!(out, "|---|--:|--:|--:|--:|---|")?;
        let cores = self.config.cores;
        usage_row(out, "New alerts", &self.new, cores)?;
        usage_row(out, "Duplicates", &self.duplicates, cores)?;
        usage_row(out, "Paced new alerts", &self.paced, cores)?;
        writeln!(
            out,
            "| redis-benchmark SET (per request) | – | – | {:.1} µs | – | SET 1.00 |",
            self.reference.redis_cpu * 1e6
        )
    }

    fn ensure_no_failures(&self) -> anyhow::Result<()> {
        let failed: u64 = [&self.new, &self.duplicates, &self.paced]
            .iter()
            .map(|phase| phase.run.tally.failed)
            .sum();
        ensure!(
            failed == 0,
            "{failed} requests failed (see the Failed column); the throughput figures count only \
             recorded alerts"
        );
        Ok(())
    }
}

fn phase_row(out: &mut String, name: &str, run: &Run, service: bool) -> std::fmt::Result {
    let tally = &run.tally;
    let latency = if service {
        &tally.service
    } else {
        &tally.latency
    };
    writeln!(
        out,
        "| {name} | {} | {} | {} | {} alerts/s | {} | {} | {} |",
        run.load,
        thousands(tally.latency.len()),
        thousands(tally.failed),
        thousands(run.rate().round() as u64),
        ms(latency.value_at_quantile(0.5)),
        ms(latency.value_at_quantile(0.99)),
        ms(latency.max()),
    )
}

fn usage_row(out: &mut String, name: &str, phase: &Phase, cores: usize) -> std::fmt::Result {
    let alerts = phase.run.tally.latency.len().max(1) as f64;
    let per_alert = |seconds: f64| format!("{:.0} µs", seconds * 1e6 / alerts);
    let usage = &phase.usage;
    let busy = (usage.bot + usage.load_generator + usage.redis) / phase.run.elapsed.as_secs_f64();
    let commands: Vec<String> = usage
        .redis_calls
        .iter()
        .map(|(command, calls)| format!("{} {:.2}", command.to_uppercase(), *calls as f64 / alerts))
        .collect();
    writeln!(
        out,
        "| {name} | {} | {} | {} | {busy:.2} of {cores} | {} |",
        per_alert(usage.bot),
        per_alert(usage.load_generator),
        per_alert(usage.redis),
        commands.join(", ")
    )
}
