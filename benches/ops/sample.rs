//! One measured run: a rollout restart through `Ops::execute`, timed from the evidence packet's
//! timeline and the independent watch. No production code is instrumented for it.

use std::time::Duration;

use anyhow::{Context, ensure};
use chrono::{DateTime, Utc};
use robot_sre::ops::packet::{self, Moment, Packet};
use robot_sre::ops::{ActionRequest, Approval, Status};

use crate::stage::{DEPLOYMENT, NAMESPACE, Stage};
use crate::watch::Completions;

/// How long after the verdict the watch may take to report the completion the bot saw.
const WATCH_PATIENCE: Duration = Duration::from_secs(10);

/// The timings of one run, in milliseconds.
pub struct Sample {
    /// From just before `execute()` is called to the PATCH response.
    pub to_write: f64,
    /// `execute()` called → "execution started": the stored-packet lookup and the claim.
    pub claim: f64,
    /// → "read live state": the Deployment, its ReplicaSets and autoscalers.
    pub observe: f64,
    /// → "limits reserved": guardrails, limit checks, RBAC review, audit record, reservation.
    pub guards: f64,
    /// → PATCH response ("… sent"): the write, from the timeline (after a 409, the re-read
    /// and re-decision too; `conflicts` counts them).
    pub write: f64,
    /// The write's own round trip as the packet records it (`applied[0].took_ms`, whole ms).
    pub write_took_ms: u64,
    /// PATCH response → the rollout complete, as the watch saw it: the lab's own time.
    pub rollout: f64,
    /// PATCH response → the verdict PASS.
    pub verification: f64,
    /// Rollout complete → verdict PASS: what verification adds.
    pub overhead: f64,
    /// How many times verification looked at live state.
    pub looks: u32,
    /// resourceVersion conflicts met before the write went through.
    pub conflicts: u32,
}

/// Runs restarts one after another.
pub struct Runner<'a> {
    stage: &'a Stage,
    completions: Completions,
}

impl<'a> Runner<'a> {
    /// Starts the watch the runs are measured against.
    pub fn new(stage: &'a Stage) -> Self {
        Self {
            completions: Completions::watch(&stage.admin, NAMESPACE, DEPLOYMENT),
            stage,
        }
    }

    /// Restarts the Deployment once and times it. Fails unless the run ends `Verified` with
    /// exactly one write.
    pub async fn run(&mut self) -> anyhow::Result<Sample> {
        let request = Stage::restart()?;
        measure(self.stage, &mut self.completions, &request).await
    }
}

async fn measure(
    stage: &Stage,
    completions: &mut Completions,
    request: &ActionRequest,
) -> anyhow::Result<Sample> {
    let approval = Approval {
        actor: stage.ops.bot(),
        fingerprint: None,
    };
    let called = Utc::now();
    let packet = stage.ops.execute(request, &approval).await?;
    ensure!(
        packet.status == Status::Verified,
        "the run ended {:?}, not Verified:\n{}",
        packet.status,
        packet::readable(&packet)
    );
    let [applied] = packet.applied.as_slice() else {
        anyhow::bail!(
            "expected exactly one write, the packet shows {}:\n{}",
            packet.applied.len(),
            packet::readable(&packet)
        );
    };
    let generation = applied
        .generation
        .context("the PATCH response carried no generation")?;
    let complete = completions.complete_at(generation, WATCH_PATIENCE).await?;
    let marks = Marks::of(&packet)?;
    let looks = packet.verification.as_ref().map_or(0, |v| v.looks);
    Ok(Sample {
        to_write: ms(called, marks.sent),
        claim: ms(called, marks.started),
        observe: ms(marks.started, marks.read),
        guards: ms(marks.read, marks.reserved),
        write: ms(marks.reserved, marks.sent),
        write_took_ms: applied.took_ms,
        rollout: ms(marks.sent, complete),
        verification: ms(marks.sent, marks.verdict),
        overhead: ms(complete, marks.verdict),
        looks,
        conflicts: packet.conflicts,
    })
}

/// The timeline marks the measurements start and end at.
struct Marks {
    started: DateTime<Utc>,
    read: DateTime<Utc>,
    reserved: DateTime<Utc>,
    /// Written right after the PATCH response: `"<request> sent (N ms)"`.
    sent: DateTime<Utc>,
    /// Written right after the verdict: `"verification Pass after N ms"`.
    verdict: DateTime<Utc>,
}

impl Marks {
    fn of(packet: &Packet) -> anyhow::Result<Self> {
        let find = |what: &str, matches: &dyn Fn(&Moment) -> bool| {
            packet
                .timeline
                .iter()
                .find(|moment| matches(moment))
                .map(|moment| moment.at)
                .with_context(|| {
                    format!(
                        "the timeline has no {what} mark:\n{}",
                        packet::readable(packet)
                    )
                })
        };
        Ok(Self {
            started: find("execution-start", &|m| {
                m.what.starts_with("execution started")
            })?,
            read: find("live-state", &|m| m.what.starts_with("read live state"))?,
            reserved: find("limits", &|m| m.what.starts_with("limits reserved"))?,
            sent: find("write", &|m| m.what.contains(" sent ("))?,
            verdict: find("verdict", &|m| {
                m.what.starts_with("verification Pass after")
            })?,
        })
    }
}

/// Milliseconds from `from` to `to` (negative if `to` is earlier).
fn ms(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from).num_microseconds().unwrap_or(i64::MAX) as f64 / 1000.0
}
