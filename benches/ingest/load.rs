//! The load generator: an HTTP client for the bot's webhook, driven closed-loop or paced.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::Context;
use reqwest::StatusCode;
use tokio::time::Instant;

use crate::TOKEN;
use crate::report::thousands;
use crate::tally::{Run, Tally};
use crate::webhook::{Reply, Request, check_receipt};

/// An HTTP client on keep-alive connections to the bot's webhook.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    url: Arc<str>,
}

impl Client {
    pub fn new(address: SocketAddr, concurrency: usize) -> anyhow::Result<Self> {
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

/// Sends every request once, keeping `concurrency` in flight.
pub async fn closed_loop(
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
pub async fn paced(
    client: &Client,
    requests: &Arc<Vec<Request>>,
    rate: u32,
) -> anyhow::Result<Run> {
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
