//! Each pod fault shows the status and events a real cluster shows for it. The expected
//! fields come from the Kubernetes documentation ("Debug Running Pods", "Pod Lifecycle",
//! "Images": ErrImagePull / ImagePullBackOff, "Jobs") and kubelet 1.20's event texts.

use std::time::Duration;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ContainerStateTerminated, ContainerStatus, Pod};
use kube::api::PostParams;
use kube::discovery::Discovery;
use robot_sre::testkit::lab::scenarios::{SCENARIO_DEADLINE, wait_for};
use serde_json::json;

use crate::helpers::{TestNamespace, find};

fn pod(name: &str, fault: &str, restart_policy: &str) -> Pod {
    serde_json::from_value(json!({
        "metadata": { "name": name, "annotations": { "lab.robot-sre.dev/fault": fault } },
        "spec": {
            "restartPolicy": restart_policy,
            "containers": [{ "name": "app", "image": "registry.example/app:2.1" }],
        },
    }))
    .unwrap()
}

/// The first container's status, once the kubelet has written one.
fn status_of(pod: &Pod) -> Option<&ContainerStatus> {
    pod.status.as_ref()?.container_statuses.as_ref()?.first()
}

fn container(pod: &Pod) -> &ContainerStatus {
    status_of(pod).expect("a container status")
}

/// The first container's current state, which must be terminated.
fn terminated(pod: &Pod) -> &ContainerStateTerminated {
    container(pod)
        .state
        .as_ref()
        .and_then(|state| state.terminated.as_ref())
        .expect("a terminated container")
}

/// The first container's previous state, which must be terminated.
fn last_terminated(pod: &Pod) -> &ContainerStateTerminated {
    container(pod)
        .last_state
        .as_ref()
        .and_then(|state| state.terminated.as_ref())
        .expect("a terminated last state")
}

fn restarts(pod: &Pod) -> i32 {
    status_of(pod).map_or(0, |status| status.restart_count)
}

fn phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or_default()
}

fn condition<'a>(pod: &'a Pod, kind: &str) -> (&'a str, Option<&'a str>) {
    let found = pod
        .status
        .as_ref()
        .unwrap()
        .conditions
        .as_ref()
        .unwrap()
        .iter()
        .find(|c| c.type_ == kind)
        .unwrap_or_else(|| panic!("no {kind} condition"));
    (found.status.as_str(), found.reason.as_deref())
}

fn waiting(pod: &Pod) -> Option<(&str, &str)> {
    let waiting = status_of(pod)?.state.as_ref()?.waiting.as_ref()?;
    Some((
        waiting.reason.as_deref()?,
        waiting.message.as_deref().unwrap_or_default(),
    ))
}

async fn start(ns: &TestNamespace, name: &str, fault: &str, restart_policy: &str) {
    ns.api::<Pod>()
        .create(&PostParams::default(), &pod(name, fault, restart_policy))
        .await
        .unwrap();
}

#[tokio::test]
async fn crashloop_backs_off_with_a_growing_restart_count_and_the_last_exit() {
    let ns = TestNamespace::create("crashloop").await;
    start(&ns, "worker", "crashloop", "Always").await;
    let pods = ns.api::<Pod>();
    let first = wait_for(
        &pods,
        "worker",
        "CrashLoopBackOff",
        SCENARIO_DEADLINE,
        |p| waiting(p).is_some_and(|(reason, _)| reason == "CrashLoopBackOff"),
    )
    .await
    .unwrap();
    let later = wait_for(&pods, "worker", "another restart", SCENARIO_DEADLINE, |p| {
        restarts(p) > restarts(&first)
            && waiting(p).is_some_and(|(reason, _)| reason == "CrashLoopBackOff")
    })
    .await
    .unwrap();

    assert_eq!(
        phase(&later),
        "Running",
        "a crash-looping pod stays Running"
    );
    assert_eq!(
        condition(&later, "Ready"),
        ("False", Some("ContainersNotReady"))
    );
    assert_eq!(condition(&later, "PodScheduled").0, "True");
    let status = container(&later);
    assert!(!status.ready);
    assert!(status.restart_count >= 2);
    let (_, message) = waiting(&later).unwrap();
    assert!(
        message.starts_with("back-off ")
            && message.contains("restarting failed container=app pod=worker_"),
        "{message}"
    );
    let last = last_terminated(&later);
    assert_eq!(last.exit_code, 1);
    assert_eq!(last.reason.as_deref(), Some("Error"));
    assert!(last.started_at.as_ref().unwrap().0 <= last.finished_at.as_ref().unwrap().0);
    assert!(
        last.container_id
            .as_deref()
            .unwrap()
            .starts_with("containerd://")
    );

    let events = ns.events_for("worker").await;
    // The scheduler records through core/v1 or events.k8s.io/v1 (decided at its start), so
    // the source fields vary; the message is the same either way.
    let scheduled = find(&events, "Scheduled").expect("the real scheduler's event");
    let assigned = format!("Successfully assigned {}/worker to lab-node-", ns.name);
    assert!(
        scheduled.message.as_deref().unwrap().starts_with(&assigned),
        "{scheduled:?}"
    );
    let back_off = find(&events, "BackOff").expect("a BackOff event");
    assert_eq!(back_off.type_.as_deref(), Some("Warning"));
    assert_eq!(
        back_off.message.as_deref(),
        Some("Back-off restarting failed container")
    );
    assert_eq!(
        back_off.involved_object.field_path.as_deref(),
        Some("spec.containers{app}")
    );
    assert_eq!(
        back_off.source.as_ref().unwrap().component.as_deref(),
        Some("kubelet")
    );
    assert!(back_off.count.unwrap() >= 1);
    for reason in ["Pulling", "Pulled", "Created", "Started"] {
        let event = find(&events, reason).unwrap_or_else(|| panic!("no {reason} event"));
        assert_eq!(event.type_.as_deref(), Some("Normal"));
    }
    let started = find(&events, "Started").unwrap();
    assert!(
        started.count.unwrap() >= 2,
        "each restart starts the container again"
    );
}

#[tokio::test]
async fn oom_killed_reports_exit_code_137() {
    let ns = TestNamespace::create("oom").await;
    start(&ns, "cache", "oom-killed", "Always").await;
    let pod = wait_for(
        &ns.api::<Pod>(),
        "cache",
        "a restart after OOM",
        SCENARIO_DEADLINE,
        |p| restarts(p) >= 1,
    )
    .await
    .unwrap();
    let last = last_terminated(&pod);
    assert_eq!(last.reason.as_deref(), Some("OOMKilled"));
    assert_eq!(last.exit_code, 137);
}

#[tokio::test]
async fn a_failed_pull_shows_err_image_pull_then_image_pull_back_off() {
    let ns = TestNamespace::create("pull").await;
    start(&ns, "api", "image-pull", "Always").await;
    let pod = wait_for(
        &ns.api::<Pod>(),
        "api",
        "ImagePullBackOff",
        SCENARIO_DEADLINE,
        |p| waiting(p).is_some_and(|(reason, _)| reason == "ImagePullBackOff"),
    )
    .await
    .unwrap();
    assert_eq!(
        phase(&pod),
        "Pending",
        "a pod whose image never arrives stays Pending"
    );
    assert_eq!(
        waiting(&pod).unwrap().1,
        "Back-off pulling image \"registry.example/app:2.1\""
    );
    let status = container(&pod);
    assert!(!status.ready);
    assert_eq!(status.started, Some(false));
    assert_eq!(status.restart_count, 0);
    assert_eq!(status.image, "registry.example/app:2.1");

    let events = ns.events_for("api").await;
    let failures: Vec<&str> = events
        .iter()
        .filter(|e| e.reason.as_deref() == Some("Failed"))
        .filter_map(|e| e.message.as_deref())
        .collect();
    assert!(failures.iter().any(|m| m.starts_with("Failed to pull image \"registry.example/app:2.1\": rpc error:")), "{failures:?}");
    assert!(failures.contains(&"Error: ErrImagePull"), "{failures:?}");
    assert!(
        failures.contains(&"Error: ImagePullBackOff"),
        "{failures:?}"
    );
    let back_off = find(&events, "BackOff").unwrap();
    assert_eq!(back_off.type_.as_deref(), Some("Normal"));
    assert_eq!(
        back_off.message.as_deref(),
        Some("Back-off pulling image \"registry.example/app:2.1\"")
    );
}

#[tokio::test]
async fn never_ready_runs_but_fails_its_readiness_probe() {
    let ns = TestNamespace::create("unready").await;
    start(&ns, "web", "never-ready", "Always").await;
    wait_for(&ns.api::<Pod>(), "web", "Running", SCENARIO_DEADLINE, |p| {
        phase(p) == "Running"
    })
    .await
    .unwrap();
    let unhealthy = robot_sre::testkit::process::poll_until(
        SCENARIO_DEADLINE,
        Duration::from_millis(200),
        || async {
            let events = ns.events_for("web").await;
            find(&events, "Unhealthy")
                .filter(|e| e.count.unwrap_or(0) >= 2)
                .cloned()
        },
    )
    .await
    .expect("repeated Unhealthy events");
    assert_eq!(unhealthy.type_.as_deref(), Some("Warning"));
    assert!(
        unhealthy
            .message
            .as_deref()
            .unwrap()
            .starts_with("Readiness probe failed:")
    );

    let pod = ns.api::<Pod>().get("web").await.unwrap();
    assert_eq!(
        condition(&pod, "Ready"),
        ("False", Some("ContainersNotReady"))
    );
    assert_eq!(condition(&pod, "ContainersReady").0, "False");
    let status = container(&pod);
    assert!(status.state.as_ref().unwrap().running.is_some());
    assert!(!status.ready);
    assert_eq!(status.restart_count, 0);
}

#[tokio::test]
async fn pods_that_succeed_or_fail_reach_their_final_phase() {
    let ns = TestNamespace::create("finish").await;
    start(&ns, "ok", "succeed", "Never").await;
    start(&ns, "broken", "fail", "Never").await;
    let pods = ns.api::<Pod>();
    let ok = wait_for(&pods, "ok", "Succeeded", SCENARIO_DEADLINE, |p| {
        phase(p) == "Succeeded"
    })
    .await
    .unwrap();
    let done = terminated(&ok);
    assert_eq!(
        (done.exit_code, done.reason.as_deref()),
        (0, Some("Completed"))
    );
    assert_eq!(condition(&ok, "Ready"), ("False", Some("PodCompleted")));

    let broken = wait_for(&pods, "broken", "Failed", SCENARIO_DEADLINE, |p| {
        phase(p) == "Failed"
    })
    .await
    .unwrap();
    let done = terminated(&broken);
    assert_eq!((done.exit_code, done.reason.as_deref()), (1, Some("Error")));
}

#[tokio::test]
async fn the_real_job_controller_completes_and_fails_jobs() {
    let ns = TestNamespace::create("jobs").await;
    let job = |name: &str, fault: &str| -> Job {
        serde_json::from_value(json!({
            "metadata": { "name": name },
            "spec": {
                "backoffLimit": 0,
                "template": {
                    "metadata": { "annotations": { "lab.robot-sre.dev/fault": fault } },
                    "spec": { "restartPolicy": "Never", "containers": [{ "name": "app", "image": "registry.example/batch:1" }] },
                },
            },
        }))
        .unwrap()
    };
    let jobs = ns.api::<Job>();
    jobs.create(&PostParams::default(), &job("nightly", "succeed"))
        .await
        .unwrap();
    jobs.create(&PostParams::default(), &job("flaky", "fail"))
        .await
        .unwrap();
    let condition_of = |job: &Job, kind: &str| {
        job.status
            .as_ref()?
            .conditions
            .as_ref()?
            .iter()
            .find(|c| c.type_ == kind && c.status == "True")
            .map(|c| c.reason.clone())
    };
    let nightly = wait_for(&jobs, "nightly", "Complete", SCENARIO_DEADLINE, |j| {
        condition_of(j, "Complete").is_some()
    })
    .await
    .unwrap();
    assert_eq!(nightly.status.unwrap().succeeded, Some(1));
    let flaky = wait_for(&jobs, "flaky", "Failed", SCENARIO_DEADLINE, |j| {
        condition_of(j, "Failed").is_some()
    })
    .await
    .unwrap();
    assert_eq!(
        condition_of(&flaky, "Failed").flatten().as_deref(),
        Some("BackoffLimitExceeded")
    );
}

#[tokio::test]
async fn the_lab_serves_the_1_20_api_versions_robot_sre_must_discover() {
    let client = crate::helpers::client(robot_sre::testkit::lab::Identity::Admin).await;
    let discovery = Discovery::new(client).run().await.unwrap();
    let versions = |group: &str, kind: &str| -> Vec<String> {
        discovery
            .groups()
            .filter(|g| g.name() == group)
            .flat_map(|g| {
                g.versions()
                    .map(|v| (v.to_owned(), g.versioned_resources(v)))
                    .collect::<Vec<_>>()
            })
            .filter(|(_, resources)| resources.iter().any(|(r, _)| r.kind == kind))
            .map(|(version, _)| version)
            .collect()
    };
    assert_eq!(
        versions("batch", "CronJob"),
        ["v1beta1"],
        "CronJob is batch/v1beta1 before 1.21"
    );
    assert_eq!(versions("policy", "PodDisruptionBudget"), ["v1beta1"]);
    assert!(versions("apps", "Deployment").contains(&"v1".to_owned()));
}
