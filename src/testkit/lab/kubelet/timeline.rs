//! What one simulated container does over time: a pure function of its fault, the pod's
//! restart policy and the kubelet's timing, so every status the kubelet writes can be
//! recomputed from the moment it first saw the pod, and tested without a cluster.
//!
//! States and event texts follow what kubelet 1.20 reports (pkg/kubelet/images and
//! pkg/kubelet/kuberuntime in kubernetes/kubernetes; the documentation's "Debug Pods" and
//! "Pod Lifecycle" pages show the same fields).

use std::time::Duration;

use super::faults::PodFault;

/// How fast the simulated kubelet works. Real kubelets back off from 10 s, doubling up to
/// 5 minutes; the lab defaults are scaled down so tests see several restarts in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// From binding to the containers starting (the image pull).
    pub pull: Duration,
    /// From a healthy container starting to it being Ready.
    pub ready: Duration,
    /// How long a `crashloop`/`oom-killed` container runs before it dies.
    pub crash_after: Duration,
    /// How long a `succeed`/`fail` container runs before it exits.
    pub complete_after: Duration,
    /// The first restart (and image pull) back-off; each next one doubles, up to `backoff_cap`.
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
    /// How often a failing readiness probe is reported again.
    pub probe_period: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            pull: Duration::from_millis(200),
            ready: Duration::from_millis(300),
            crash_after: Duration::from_millis(300),
            complete_after: Duration::from_millis(500),
            backoff_base: Duration::from_secs(1),
            backoff_cap: Duration::from_secs(8),
            probe_period: Duration::from_secs(2),
        }
    }
}

/// The shortest back-off and probe period the simulation accepts: zero would make a timeline
/// endless.
const MIN_PERIOD: Duration = Duration::from_millis(10);

impl Timing {
    fn backoff(&self, failures: u32) -> Duration {
        let factor = 1u32.checked_shl(failures.min(16)).unwrap_or(u32::MAX);
        self.backoff_base
            .saturating_mul(factor)
            .min(self.backoff_cap)
            .max(MIN_PERIOD)
    }

    fn probe_period(&self) -> Duration {
        self.probe_period.max(MIN_PERIOD)
    }
}

/// A duration as Go prints it in kubelet messages: `10s`, `1.5s`, `1m20s`, `5m0s`.
fn go_duration(duration: Duration) -> String {
    let seconds = duration.as_secs();
    if seconds >= 60 {
        return format!("{}m{}s", seconds / 60, seconds % 60);
    }
    let text = format!("{:.3}", duration.as_secs_f64());
    format!("{}s", text.trim_end_matches('0').trim_end_matches('.'))
}

/// The pod's restartPolicy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestartPolicy {
    Always,
    OnFailure,
    Never,
}

impl RestartPolicy {
    pub fn parse(policy: Option<&str>) -> Self {
        match policy {
            Some("Never") => RestartPolicy::Never,
            Some("OnFailure") => RestartPolicy::OnFailure,
            _ => RestartPolicy::Always,
        }
    }

    fn restarts_after(self, exit_code: i32) -> bool {
        match self {
            RestartPolicy::Always => true,
            RestartPolicy::OnFailure => exit_code != 0,
            RestartPolicy::Never => false,
        }
    }
}

/// One container of one pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub container: String,
    pub image: String,
    /// `name_namespace(uid)`, as kubelet messages name a pod.
    pub pod: String,
    pub fault: Option<PodFault>,
    pub restart: RestartPolicy,
    pub timing: Timing,
}

/// A container state; times are offsets from when the kubelet first saw the pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    Waiting {
        reason: &'static str,
        message: Option<String>,
    },
    Running {
        started: Duration,
    },
    Terminated {
        exit_code: i32,
        reason: &'static str,
        started: Duration,
        finished: Duration,
    },
}

/// A container's status at some moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub state: State,
    pub last: Option<State>,
    pub restarts: u32,
    pub ready: bool,
    /// Whether the container has ever started (pods with none started are Pending).
    pub started: bool,
}

impl Status {
    /// Exited and will not be restarted.
    pub fn is_final(&self, restart: RestartPolicy) -> bool {
        matches!(self.state, State::Terminated { exit_code, .. } if !restart.restarts_after(exit_code))
    }
}

/// An Event the kubelet emits, about one container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occurrence {
    pub warning: bool,
    pub reason: &'static str,
    pub message: String,
}

/// A point in time where the status changes or events are emitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moment {
    pub at: Duration,
    pub status: Status,
    pub events: Vec<Occurrence>,
}

fn normal(reason: &'static str, message: String) -> Occurrence {
    Occurrence {
        warning: false,
        reason,
        message,
    }
}

fn warning(reason: &'static str, message: String) -> Occurrence {
    Occurrence {
        warning: true,
        reason,
        message,
    }
}

impl Plan {
    /// The moments up to and including `until`, plus the first one after it (when the status
    /// next changes, if it ever does). The first moment is at zero.
    pub fn timeline(&self, until: Duration) -> Vec<Moment> {
        let mut line = Timeline {
            moments: Vec::new(),
            until,
        };
        let waiting = |reason, message| Status {
            state: State::Waiting { reason, message },
            last: None,
            restarts: 0,
            ready: false,
            started: false,
        };
        line.push(
            Duration::ZERO,
            waiting("ContainerCreating", None),
            vec![normal(
                "Pulling",
                format!("Pulling image \"{}\"", self.image),
            )],
        );
        let t = &self.timing;
        match self.fault {
            Some(PodFault::ImagePull) => self.pull_failures(&mut line),
            None | Some(PodFault::NeverReady) => {
                let running = Status {
                    state: State::Running { started: t.pull },
                    last: None,
                    restarts: 0,
                    ready: false,
                    started: true,
                };
                line.push(t.pull, running.clone(), self.started_events(true));
                if self.fault.is_none() {
                    let ready = Status {
                        ready: true,
                        ..running
                    };
                    line.push(t.pull + t.ready, ready, Vec::new());
                } else {
                    let mut at = t.pull + t.ready;
                    while !line.done() {
                        let failed = warning(
                            "Unhealthy",
                            "Readiness probe failed: HTTP probe failed with statuscode: 503".into(),
                        );
                        line.push(at, running.clone(), vec![failed]);
                        at += t.probe_period();
                    }
                }
            }
            Some(fault) => self.exits(fault, &mut line),
        }
        line.moments
    }

    fn started_events(&self, first: bool) -> Vec<Occurrence> {
        let mut events = Vec::with_capacity(3);
        if first {
            events.push(normal(
                "Pulled",
                format!(
                    "Successfully pulled image \"{}\" in {:?}",
                    self.image, self.timing.pull
                ),
            ));
        } else {
            events.push(normal(
                "Pulled",
                format!(
                    "Container image \"{}\" already present on machine",
                    self.image
                ),
            ));
        }
        events.push(normal(
            "Created",
            format!("Created container {}", self.container),
        ));
        events.push(normal(
            "Started",
            format!("Started container {}", self.container),
        ));
        events
    }

    fn pull_failures(&self, line: &mut Timeline) {
        let t = &self.timing;
        let pull_error = format!(
            "rpc error: code = NotFound desc = failed to pull and unpack image \"{image}\": failed to resolve reference \"{image}\": not found",
            image = self.image
        );
        let waiting = |reason, message: String| Status {
            state: State::Waiting {
                reason,
                message: Some(message),
            },
            last: None,
            restarts: 0,
            ready: false,
            started: false,
        };
        line.push(
            t.pull,
            waiting("ErrImagePull", pull_error.clone()),
            vec![
                warning(
                    "Failed",
                    format!("Failed to pull image \"{}\": {pull_error}", self.image),
                ),
                warning("Failed", "Error: ErrImagePull".into()),
            ],
        );
        let backing_off = format!("Back-off pulling image \"{}\"", self.image);
        let mut at = t.pull;
        let mut failures = 0;
        while !line.done() {
            at += t.backoff(failures);
            failures += 1;
            line.push(
                at,
                waiting("ImagePullBackOff", backing_off.clone()),
                vec![
                    normal("BackOff", backing_off.clone()),
                    warning("Failed", "Error: ImagePullBackOff".into()),
                ],
            );
        }
    }

    fn exits(&self, fault: PodFault, line: &mut Timeline) {
        let t = &self.timing;
        let (exit_code, reason, runs_for) = match fault {
            PodFault::CrashLoop => (1, "Error", t.crash_after),
            PodFault::OomKilled => (137, "OOMKilled", t.crash_after),
            PodFault::Succeed => (0, "Completed", t.complete_after),
            _ => (1, "Error", t.complete_after),
        };
        let mut started = t.pull;
        let mut restarts = 0;
        let mut last = None;
        loop {
            let running = Status {
                state: State::Running { started },
                last: last.clone(),
                restarts,
                ready: false,
                started: true,
            };
            line.push(started, running, self.started_events(restarts == 0));
            let finished = started + runs_for;
            let terminated = State::Terminated {
                exit_code,
                reason,
                started,
                finished,
            };
            if !self.restart.restarts_after(exit_code) {
                let done = Status {
                    state: terminated,
                    last,
                    restarts,
                    ready: false,
                    started: true,
                };
                line.push(finished, done, Vec::new());
                return;
            }
            let backoff = t.backoff(restarts);
            restarts += 1;
            last = Some(terminated);
            let waiting = Status {
                state: State::Waiting {
                    reason: "CrashLoopBackOff",
                    message: Some(format!(
                        "back-off {} restarting failed container={} pod={}",
                        go_duration(backoff),
                        self.container,
                        self.pod
                    )),
                },
                last: last.clone(),
                restarts,
                ready: false,
                started: true,
            };
            line.push(
                finished,
                waiting,
                vec![warning(
                    "BackOff",
                    "Back-off restarting failed container".into(),
                )],
            );
            started = finished + backoff;
            if line.done() {
                return;
            }
        }
    }
}

struct Timeline {
    moments: Vec<Moment>,
    until: Duration,
}

impl Timeline {
    fn push(&mut self, at: Duration, status: Status, events: Vec<Occurrence>) {
        self.moments.push(Moment { at, status, events });
    }

    /// Whether the first moment after `until` is already there.
    fn done(&self) -> bool {
        self.moments.last().is_some_and(|last| last.at > self.until)
    }
}

/// The status at `elapsed`, the events emitted up to then, and when the status next changes.
pub fn at(plan: &Plan, elapsed: Duration) -> (Status, Vec<Occurrence>, Option<Duration>) {
    let moments = plan.timeline(elapsed);
    let next = moments.iter().find(|m| m.at > elapsed).map(|m| m.at);
    let past: Vec<&Moment> = moments.iter().filter(|m| m.at <= elapsed).collect();
    let status = past
        .last()
        .map(|m| m.status.clone())
        .expect("every timeline starts at zero");
    let events = past.iter().flat_map(|m| m.events.iter().cloned()).collect();
    (status, events, next)
}

#[cfg(test)]
#[path = "timeline_tests.rs"]
mod tests;
