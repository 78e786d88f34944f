//! The `robot-sre` binary: help, check-config, environment overrides. Each run gets its own
//! environment through `Command::env`; the test process's environment is never changed.

use std::process::{Command, Output};

use robot_sre::audit::{Actor, AuditEntry, AuditKind, AuditLog};
use robot_sre::incidents::IncidentId;
use serde_json::Value;

use crate::helpers::{redis_store, redis_url, unique_prefix};

const EXAMPLE_CONFIG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/config/robot-sre.example.yaml");

pub fn robot_sre(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_robot-sre"));
    command.args(args).env_remove("ROBOT_SRE_CONFIG");
    for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("ROBOT_SRE__")) {
        command.env_remove(key);
    }
    command
        .envs(env.iter().copied())
        .output()
        .expect("robot-sre runs")
}

pub fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into(),
        String::from_utf8_lossy(&output.stderr).into(),
    )
}

#[test]
fn help_explains_every_subcommand() {
    let output = robot_sre(&["--help"], &[]);
    let (stdout, _) = text(&output);
    assert!(output.status.success());
    for command in ["serve", "check-config", "incidents", "audit"] {
        assert!(
            stdout.contains(command),
            "{command} missing from:\n{stdout}"
        );
    }
}

#[test]
fn check_config_accepts_the_example_and_masks_every_secret() {
    let secret = "s3cret-from-the-environment";
    let output = robot_sre(
        &["check-config", "--config", EXAMPLE_CONFIG],
        &[
            ("ROBOT_SRE__ALERTMANAGER__TOKEN", secret),
            (
                "ROBOT_SRE__STORE__REDIS__URL",
                "redis://:hunter2@redis:6379",
            ),
        ],
    );
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(stdout.contains("configuration is valid"));
    assert!(
        stdout.contains("token: '********'") || stdout.contains("token: \"********\""),
        "{stdout}"
    );
    assert!(!stdout.contains(secret) && !stderr.contains(secret));
    assert!(!stdout.contains("hunter2"), "{stdout}");
    assert!(
        !stdout.contains("change-me-to-a-long-random-string"),
        "the file's token is masked too"
    );
}

#[test]
fn check_config_names_the_file_key_and_problem() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.yaml");
    std::fs::write(&path, "incidents:\n  suppression_window: 0s\n").unwrap();
    let output = robot_sre(&["check-config", "--config", path.to_str().unwrap()], &[]);
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr.contains(path.to_str().unwrap()), "{stderr}");
    assert!(stderr.contains("incidents.suppression_window"), "{stderr}");
    assert!(stderr.contains("at least 1s"), "{stderr}");
}

#[test]
fn environment_overrides_are_applied_and_named_in_errors() {
    let output = robot_sre(
        &["check-config"],
        &[("ROBOT_SRE__SERVER__LISTEN", "not-an-address")],
    );
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr.contains("ROBOT_SRE__SERVER__LISTEN"), "{stderr}");

    let output = robot_sre(
        &["check-config"],
        &[("ROBOT_SRE__CLUSTER__NAME", "eu-west-7")],
    );
    let (stdout, _) = text(&output);
    assert!(output.status.success());
    assert!(stdout.contains("name: eu-west-7"), "{stdout}");
}

#[test]
fn the_config_path_can_come_from_the_environment() {
    let output = robot_sre(
        &["check-config"],
        &[("ROBOT_SRE_CONFIG", "/nonexistent/robot-sre.yaml")],
    );
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr.contains("/nonexistent/robot-sre.yaml: cannot read"),
        "{stderr}"
    );
}

#[test]
fn without_a_token_check_config_warns_loudly() {
    let output = robot_sre(&["check-config"], &[]);
    let (stdout, _) = text(&output);
    assert!(output.status.success());
    assert!(
        stdout.contains("warning: alertmanager.token is not set"),
        "{stdout}"
    );
}

#[test]
fn serve_warns_without_a_token_and_stops_cleanly_on_sigterm() {
    use std::io::{BufRead, BufReader};
    use std::sync::mpsc;
    use std::time::Duration;

    let mut child = Command::new(env!("CARGO_BIN_EXE_robot-sre"))
        .arg("serve")
        .env_remove("ROBOT_SRE_CONFIG")
        .env_remove("ROBOT_SRE__ALERTMANAGER__TOKEN")
        .env("ROBOT_SRE__SERVER__LISTEN", "127.0.0.1:0")
        .env("RUST_LOG", "info")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("robot-sre serve starts");
    let (lines_tx, lines) = mpsc::channel();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    let mut seen = Vec::new();
    while !seen
        .iter()
        .any(|l: &String| l.contains("robot-sre serving"))
    {
        let line = lines
            .recv_timeout(Duration::from_secs(20))
            .expect("start-up log line");
        seen.push(line);
    }
    assert!(
        seen.iter()
            .any(|l| l.contains("WARN") && l.contains("alertmanager.token is not set")),
        "{seen:#?}"
    );

    let pid = child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "exit status {status}");
    // The reader thread forwards the rest of the log and ends at EOF, closing the channel.
    let rest: Vec<String> = lines.iter().collect();
    assert!(
        rest.iter().any(|l| l.contains("robot-sre stopped")),
        "{rest:#?}"
    );
}

#[test]
fn incidents_commands_refuse_the_memory_store_instead_of_showing_nothing() {
    let output = robot_sre(&["incidents", "list"], &[]);
    let (_, stderr) = text(&output);
    assert!(!output.status.success());
    assert!(stderr.contains("store.backend is memory"), "{stderr}");
}

/// Settings that point the binary at the shared Redis under `prefix`.
pub fn redis_env<'a>(url: &'a str, prefix: &'a str) -> [(&'static str, &'a str); 3] {
    [
        ("ROBOT_SRE__STORE__BACKEND", "redis"),
        ("ROBOT_SRE__STORE__REDIS__URL", url),
        ("ROBOT_SRE__STORE__REDIS__KEY_PREFIX", prefix),
    ]
}

#[tokio::test]
async fn audit_prints_an_incidents_trail_oldest_first_as_lines_or_json() {
    let (url, prefix) = (redis_url().await, unique_prefix());
    let audit = AuditLog::new(redis_store(&url, &prefix));
    let id = IncidentId::from_stored("inc-cli0audit001");
    let opened = AuditEntry::new(
        AuditKind::IncidentOpened,
        Actor::robot_sre(),
        "alert KubePodCrashLooping opened an incident",
    );
    let human = Actor::Human {
        id: "U042".into(),
        channel: "slack".into(),
    };
    let decision = AuditEntry::new(AuditKind::ApprovalDecision, human, "approved in thread")
        .with_request("req-7")
        .with_action("rollback")
        .with_target("payments/Deployment/checkout");
    let first = audit.record(&id, opened).await.unwrap();
    let second = audit.record(&id, decision).await.unwrap();
    let env = redis_env(&url, &prefix);

    let output = robot_sre(&["audit", id.as_str()], &env);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    for (line, expected) in lines.iter().zip([
        [
            &first.to_string(),
            "incident_opened",
            "bot:robot-sre",
            "KubePodCrashLooping",
        ],
        [
            &second.to_string(),
            "approval_decision",
            "human:U042@slack",
            "approved in thread",
        ],
    ]) {
        for part in expected {
            assert!(line.contains(part), "{part} missing from {line}");
        }
    }
    assert!(
        lines[1].contains("rollback payments/Deployment/checkout"),
        "{stdout}"
    );

    let output = robot_sre(&["audit", id.as_str(), "--json"], &env);
    let records: Value = serde_json::from_slice(&output.stdout).unwrap();
    let records = records.as_array().unwrap();
    assert_eq!(records.len(), 2);
    assert_eq!(records[0]["id"], first.to_string());
    assert_eq!(records[0]["kind"], "incident_opened");
    assert_eq!(records[1]["id"], second.to_string());
    assert_eq!(records[1]["actor"]["type"], "human");
    assert_eq!(records[1]["request_id"], "req-7");
}

#[tokio::test]
async fn audit_of_an_unknown_incident_says_so_and_exits_1() {
    let (url, prefix) = (redis_url().await, unique_prefix());
    let output = robot_sre(&["audit", "inc-nothing0here"], &redis_env(&url, &prefix));
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stderr.contains("no incident inc-nothing0here in the configured store"),
        "{stderr}"
    );
    assert!(stdout.is_empty(), "{stdout}");
}

#[test]
fn audit_refuses_the_memory_store_instead_of_showing_nothing() {
    let output = robot_sre(&["audit", "inc-anything0001"], &[]);
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr.contains("store.backend is memory"), "{stderr}");
}
