use super::*;

const MS: Duration = Duration::from_millis(1);

fn plan(fault: Option<PodFault>, restart: RestartPolicy) -> Plan {
    Plan {
        container: "app".into(),
        image: "registry.example/web:1".into(),
        pod: "web-1_shop(u1)".into(),
        fault,
        restart,
        timing: Timing::default(),
    }
}

fn reasons(events: &[Occurrence], reason: &str) -> usize {
    events.iter().filter(|e| e.reason == reason).count()
}

#[test]
fn a_healthy_container_is_created_then_runs_then_is_ready_and_then_nothing_changes() {
    let p = plan(None, RestartPolicy::Always);
    let (status, events, next) = at(&p, Duration::ZERO);
    assert_eq!(
        status.state,
        State::Waiting {
            reason: "ContainerCreating",
            message: None
        }
    );
    assert_eq!(
        events[0].message,
        "Pulling image \"registry.example/web:1\""
    );
    assert_eq!(next, Some(200 * MS));

    let (status, events, next) = at(&p, 250 * MS);
    assert_eq!(status.state, State::Running { started: 200 * MS });
    assert!(!status.ready && status.started);
    let named: Vec<&str> = events.iter().map(|e| e.reason).collect();
    assert_eq!(named, ["Pulling", "Pulled", "Created", "Started"]);
    assert_eq!(next, Some(500 * MS));

    let (status, _, next) = at(&p, Duration::from_secs(60));
    assert!(status.ready);
    assert_eq!(next, None);
}

#[test]
fn a_crashing_container_backs_off_longer_each_time_with_a_growing_restart_count() {
    let p = plan(Some(PodFault::CrashLoop), RestartPolicy::Always);
    // Runs 0.2–0.5 s, backs off 1 s; runs 1.5–1.8 s, backs off 2 s; runs 3.8–4.1 s, backs off 4 s.
    let (status, events, next) = at(&p, 4200 * MS);
    assert_eq!(status.restarts, 3);
    assert_eq!(
        status.state,
        State::Waiting {
            reason: "CrashLoopBackOff",
            message: Some("back-off 4s restarting failed container=app pod=web-1_shop(u1)".into())
        }
    );
    assert_eq!(
        status.last,
        Some(State::Terminated {
            exit_code: 1,
            reason: "Error",
            started: 3800 * MS,
            finished: 4100 * MS
        })
    );
    assert!(!status.ready);
    assert_eq!(reasons(&events, "BackOff"), 3);
    assert_eq!(reasons(&events, "Started"), 3);
    assert_eq!(next, Some(8100 * MS));

    let (later, _, _) = at(&p, Duration::from_secs(120));
    assert!(
        later.restarts > 10,
        "the cap keeps restarts coming: {later:?}"
    );
}

#[test]
fn an_oom_killed_container_reports_exit_137() {
    let p = plan(Some(PodFault::OomKilled), RestartPolicy::Always);
    let (status, _, _) = at(&p, 600 * MS);
    assert!(matches!(
        status.last,
        Some(State::Terminated {
            exit_code: 137,
            reason: "OOMKilled",
            ..
        })
    ));
    assert_eq!(status.restarts, 1);
}

#[test]
fn the_restart_policy_decides_whether_an_exit_is_final() {
    let never = plan(Some(PodFault::CrashLoop), RestartPolicy::Never);
    let (status, _, next) = at(&never, Duration::from_secs(10));
    assert!(status.is_final(RestartPolicy::Never));
    assert_eq!(status.restarts, 0);
    assert_eq!(next, None);

    let succeeded = plan(Some(PodFault::Succeed), RestartPolicy::OnFailure);
    let (status, _, _) = at(&succeeded, Duration::from_secs(10));
    assert!(matches!(
        status.state,
        State::Terminated {
            exit_code: 0,
            reason: "Completed",
            ..
        }
    ));
    assert!(status.is_final(RestartPolicy::OnFailure));

    // A container that exits 0 under restartPolicy Always is restarted, as kubelet does.
    let always = plan(Some(PodFault::Succeed), RestartPolicy::Always);
    let (status, _, _) = at(&always, Duration::from_secs(10));
    assert!(status.restarts >= 1);
    assert!(!status.is_final(RestartPolicy::Always));
}

#[test]
fn a_failed_pull_becomes_image_pull_back_off() {
    let p = plan(Some(PodFault::ImagePull), RestartPolicy::Always);
    let (status, events, _) = at(&p, 300 * MS);
    assert!(matches!(
        status.state,
        State::Waiting {
            reason: "ErrImagePull",
            ..
        }
    ));
    assert!(!status.started);
    assert!(
        events
            .iter()
            .any(|e| e.warning && e.message == "Error: ErrImagePull")
    );

    let (status, events, next) = at(&p, Duration::from_secs(4));
    assert_eq!(
        status.state,
        State::Waiting {
            reason: "ImagePullBackOff",
            message: Some("Back-off pulling image \"registry.example/web:1\"".into())
        }
    );
    // Back-offs at 1.2 s and 3.2 s; the next at 7.2 s.
    assert_eq!(reasons(&events, "BackOff"), 2);
    assert_eq!(next, Some(7200 * MS));
}

#[test]
fn a_never_ready_container_runs_and_fails_its_probe_every_period() {
    let p = plan(Some(PodFault::NeverReady), RestartPolicy::Always);
    let (status, events, next) = at(&p, Duration::from_secs(5));
    assert_eq!(status.state, State::Running { started: 200 * MS });
    assert!(!status.ready);
    // Probes fail at 0.5, 2.5 and 4.5 s.
    assert_eq!(reasons(&events, "Unhealthy"), 3);
    assert_eq!(next, Some(6500 * MS));
}

#[test]
fn durations_print_as_go_prints_them() {
    assert_eq!(go_duration(Duration::from_secs(10)), "10s");
    assert_eq!(go_duration(Duration::from_millis(1500)), "1.5s");
    assert_eq!(go_duration(Duration::from_secs(80)), "1m20s");
    assert_eq!(go_duration(Duration::from_secs(300)), "5m0s");
}

#[test]
fn zero_periods_cannot_make_a_timeline_endless() {
    let mut p = plan(Some(PodFault::NeverReady), RestartPolicy::Always);
    p.timing.probe_period = Duration::ZERO;
    p.timing.backoff_base = Duration::ZERO;
    let (_, events, next) = at(&p, Duration::from_secs(1));
    assert!(reasons(&events, "Unhealthy") > 1);
    assert!(next.is_some());
    p.fault = Some(PodFault::CrashLoop);
    let (status, _, _) = at(&p, Duration::from_secs(1));
    assert!(status.restarts > 1);
}
