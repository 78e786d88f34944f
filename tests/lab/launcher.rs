//! The launcher starts a lab beside the shared one and stops exactly the processes it
//! started; missing binaries get a clear error.

use std::path::Path;
use std::process::{Command, Output};

fn robot_sre(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_robot-sre"))
        .args(args)
        .arg("--dir")
        .arg(dir)
        .output()
        .expect("robot-sre runs")
}

fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .is_ok_and(|stat| stat.contains(") Z "))
}

fn text(output: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn lab_up_status_and_down_stop_exactly_the_processes_they_started() {
    let shared = crate::helpers::lab();
    let dir = tempfile::tempdir().unwrap();

    let up = robot_sre(&["lab", "up", "--nodes", "1"], dir.path());
    assert!(up.status.success(), "{}", text(&up));
    let stdout = String::from_utf8_lossy(&up.stdout);
    assert!(
        stdout.contains("admin kubeconfig:") && stdout.contains("bot kubeconfig:"),
        "{stdout}"
    );

    let again = robot_sre(&["lab", "up"], dir.path());
    assert!(
        !again.status.success(),
        "a second lab in the same directory is refused"
    );
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already running"),
        "{}",
        text(&again)
    );

    let status = robot_sre(&["lab", "status"], dir.path());
    assert!(status.status.success(), "{}", text(&status));
    let report = String::from_utf8_lossy(&status.stdout);
    assert!(
        report.contains("api server:        ok") && report.contains("lab-node-1 Ready=True"),
        "{report}"
    );

    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("lab.json")).unwrap()).unwrap();
    let mut pids: Vec<u32> = state["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|component| component[1].as_u64().expect("a component pid") as u32)
        .collect();
    pids.push(state["pid"].as_u64().unwrap() as u32);
    assert_eq!(pids.len(), 5);
    assert!(pids.iter().all(|pid| alive(*pid)));

    let down = robot_sre(&["lab", "down"], dir.path());
    assert!(down.status.success(), "{}", text(&down));
    let survivors: Vec<u32> = pids.iter().copied().filter(|pid| alive(*pid)).collect();
    assert!(
        survivors.is_empty(),
        "still running after down: {survivors:?}"
    );
    for (name, pid) in shared.component_pids() {
        assert!(
            alive(pid.unwrap()),
            "the shared lab's {name} was stopped too"
        );
    }

    let status = robot_sre(&["lab", "status"], dir.path());
    assert!(!status.status.success(), "status after down reports no lab");
    let down_again = robot_sre(&["lab", "down"], dir.path());
    assert!(
        down_again.status.success(),
        "down is idempotent: {}",
        text(&down_again)
    );
}

#[test]
fn missing_binaries_are_named_with_the_command_that_builds_them() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_robot-sre"))
        .args(["lab", "up", "--dir"])
        .arg(dir.path())
        .env("ROBOT_SRE_LAB_BIN", dir.path().join("nothing-here"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("kube-apiserver is missing") && stderr.contains("scripts/lab-binaries.sh"),
        "{stderr}"
    );
}
