//! The quick start, unattended: `robot-sre demo --approve-all` starts its own lab, the bot with
//! the web console on the in-memory store, breaks four workloads, fires their alerts through a
//! real Alertmanager, approves every prompt through the console's login, CSRF token and
//! decision endpoint, and exits 0 only when every scenario reached its expected end.

use std::process::Command;

#[test]
fn demo_with_approve_all_reaches_every_expected_end_and_writes_the_packets() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let output = Command::new(env!("CARGO_BIN_EXE_robot-sre"))
        .args(["demo", "--approve-all", "--port", "0", "--deadline", "4m"])
        .arg("--dir")
        .arg(dir.path())
        .env_remove("REDIS_URL")
        .output()
        .expect("the demo runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the demo failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    // The closing report: one `ok` or `FAIL` line per scenario.
    let verdicts: Vec<&str> = stdout
        .lines()
        .map(str::trim_start)
        .filter(|line| line.starts_with("ok ") || line.starts_with("FAIL "))
        .collect();
    assert_eq!(verdicts.len(), 4, "one verdict per scenario:\n{stdout}");
    assert!(
        verdicts.iter().all(|line| line.starts_with("ok ")),
        "{stdout}"
    );
    let ended = |what: &str| verdicts.iter().filter(|line| line.contains(what)).count();
    assert_eq!(ended("Verification PASS"), 3, "{stdout}");
    assert_eq!(
        ended("cannot be offered"),
        1,
        "the singleton is refused:\n{stdout}"
    );
    let packets = std::fs::read_dir(dir.path().join("packets"))
        .expect("the packets directory")
        .count();
    assert!(
        packets >= 4,
        "a packet per executed or refused action:\n{stdout}"
    );
}
