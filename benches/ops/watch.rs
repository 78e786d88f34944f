//! The independent witness: a watch on the Deployment, with the administrator's client, that
//! applies the bot's own rule (`rollout_complete`) to every version of the object the API
//! server sends, and records when each generation was first seen complete.
//!
//! A watch rather than a poll: every change arrives as it is committed, without a poll
//! interval's delay and without adding requests to the API server the bot is measured on.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context, anyhow};
use chrono::{DateTime, Utc};
use futures::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use kube::Api;
use kube::runtime::{WatchStreamExt, watcher};
use robot_sre::ops::verify::predicates::{Check, rollout_complete};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// When each generation of the Deployment was first seen with its rollout complete.
type Seen = BTreeMap<i64, DateTime<Utc>>;

pub struct Completions {
    seen: watch::Receiver<Seen>,
    task: JoinHandle<()>,
}

impl Completions {
    /// Starts watching the Deployment `name` in `namespace`.
    pub fn watch(client: &kube::Client, namespace: &str, name: &str) -> Self {
        let api: Api<Deployment> = Api::namespaced(client.clone(), namespace);
        let config = watcher::Config::default().fields(&format!("metadata.name={name}"));
        let (sender, seen) = watch::channel(Seen::new());
        let task = tokio::spawn(async move {
            let stream = watcher(api, config).default_backoff().applied_objects();
            let mut stream = std::pin::pin!(stream);
            while let Some(next) = stream.next().await {
                let at = Utc::now();
                match next {
                    Ok(deployment) => record(&sender, &deployment, at),
                    Err(error) => eprintln!("ops bench: the watch failed, resuming: {error}"),
                }
            }
        });
        Self { seen, task }
    }

    /// When generation `generation` (or a later one) was first seen complete, waiting up to
    /// `patience` for the watch to report it.
    pub async fn complete_at(
        &mut self,
        generation: i64,
        patience: Duration,
    ) -> anyhow::Result<DateTime<Utc>> {
        let reached = |seen: &Seen| seen.range(generation..).next().is_some();
        let seen = tokio::time::timeout(patience, self.seen.wait_for(reached))
            .await
            .map_err(|_| {
                anyhow!("the watch saw no complete rollout of generation {generation} within {patience:?}")
            })?
            .context("the watch task stopped")?;
        seen.range(generation..)
            .next()
            .map(|(_, at)| *at)
            .context("the watch lost a completion it had reported")
    }
}

impl Drop for Completions {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Records the first moment each generation is complete; a re-list that sends the same
/// generation again later changes nothing.
fn record(sender: &watch::Sender<Seen>, deployment: &Deployment, at: DateTime<Utc>) {
    // `since` only dates a ProgressDeadlineExceeded (a Fail, never a Pass): any time will do.
    let complete = matches!(rollout_complete(deployment, at), Check::Pass(_));
    let Some(generation) = deployment.metadata.generation.filter(|_| complete) else {
        return;
    };
    sender.send_if_modified(|seen| {
        let first = !seen.contains_key(&generation);
        if first {
            seen.insert(generation, at);
        }
        first
    });
}
