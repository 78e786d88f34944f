//! The ConfigMap's `config.yaml` is a configuration the bot accepts, with the Secret's
//! placeholders as its environment, and it needs exactly the RBAC shipped in deploy/rbac.yaml.

use std::process::{Command, Output};

use serde_yaml::Value;

use super::{object, read};

const CONFIGMAP: &str = "deploy/kubernetes/configmap.yaml";
pub const SECRET: &str = "deploy/kubernetes/secret.example.yaml";

/// The configuration file the ConfigMap mounts.
pub fn configmap_config() -> String {
    let configmap = object(CONFIGMAP, "ConfigMap");
    configmap["data"]["config.yaml"]
        .as_str()
        .expect("data.config.yaml")
        .to_owned()
}

/// The example Secret's keys and values: those set, and (`commented: true`) those left as
/// comments for channels that are off.
pub fn secret_entries(commented: bool) -> Vec<(String, String)> {
    if !commented {
        let secret = object(SECRET, "Secret");
        let data = secret["stringData"].as_mapping().expect("stringData");
        return data
            .iter()
            .map(|(key, value)| (as_text(key), as_text(value)))
            .collect();
    }
    read(SECRET)
        .lines()
        .filter_map(|line| line.trim().strip_prefix('#'))
        .filter_map(|line| serde_yaml::from_str::<Value>(line).ok())
        .filter_map(|value| value.as_mapping().cloned())
        .flat_map(|mapping| mapping.into_iter())
        .filter_map(|(key, value)| Some((key.as_str()?.to_owned(), value.as_str()?.to_owned())))
        .filter(|(key, _)| key.starts_with("ROBOT_SRE__") || key == "REDIS_PASSWORD")
        .collect()
}

fn as_text(value: &Value) -> String {
    value.as_str().expect("a string").to_owned()
}

/// The bot's own environment overrides among `entries`.
fn bot_env(entries: Vec<(String, String)>) -> Vec<(String, String)> {
    entries
        .into_iter()
        .filter(|(key, _)| key.starts_with("ROBOT_SRE__"))
        .collect()
}

/// `config` with the commented-out channel sections (telegram, whatsapp) switched on.
fn with_every_channel(config: &str) -> String {
    let mut lines = Vec::new();
    let mut in_section = false;
    for line in config.lines() {
        let uncommented = line.replacen("# ", "", 1);
        let trimmed = line.trim_start();
        if trimmed.starts_with("# telegram:") || trimmed.starts_with("# whatsapp:") {
            in_section = true;
        } else if !trimmed.starts_with("#   ") {
            in_section = false;
        }
        lines.push(if in_section {
            uncommented
        } else {
            line.to_owned()
        });
    }
    lines.join("\n")
}

/// Runs the bot binary on `config` with exactly `env` as its ROBOT_SRE environment.
fn robot_sre(args: &[&str], config: &str, env: &[(String, String)]) -> (Output, String, String) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("config.yaml");
    std::fs::write(&path, config).expect("config written");
    let mut command = Command::new(env!("CARGO_BIN_EXE_robot-sre"));
    command.args(args).arg("--config").arg(&path);
    for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("ROBOT_SRE")) {
        command.env_remove(name);
    }
    command.env_remove("RUST_LOG");
    let output = command
        .envs(env.iter().cloned())
        .output()
        .expect("robot-sre runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output, stdout, stderr)
}

#[test]
fn the_configmap_configuration_is_valid_with_the_example_secret_as_its_environment() {
    let env = bot_env(secret_entries(false));
    assert!(
        env.iter()
            .any(|(key, _)| key == "ROBOT_SRE__ALERTMANAGER__TOKEN")
    );
    assert!(
        env.iter()
            .any(|(key, _)| key == "ROBOT_SRE__STORE__REDIS__URL")
    );
    let (output, stdout, stderr) = robot_sre(&["check-config"], &configmap_config(), &env);
    assert!(output.status.success(), "{stderr}");
    assert!(stdout.contains("\n  backend: redis\n"), "{stdout}");
    assert!(stdout.contains("\n  slack:\n"), "Slack is on: {stdout}");
    assert!(!stdout.contains("REPLACE_ME"), "a secret printed: {stdout}");
    let warnings: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("warning:"))
        .collect();
    assert!(
        warnings
            .iter()
            .all(|w| w.contains("conversations.approvers is empty")),
        "only the deliberate warning (nobody approves until listed): {warnings:?}"
    );
}

#[test]
fn the_configmap_configuration_is_valid_with_every_channel_and_every_secret_key() {
    let config = with_every_channel(&configmap_config());
    assert_ne!(
        config,
        configmap_config(),
        "the channel sections were switched on"
    );
    let mut entries = secret_entries(false);
    entries.extend(secret_entries(true));
    let env = bot_env(entries);
    assert!(env.len() >= 10, "{env:?}");
    let (output, stdout, stderr) = robot_sre(&["check-config"], &config, &env);
    assert!(output.status.success(), "{stderr}\n{config}");
    for channel in ["slack", "telegram", "whatsapp"] {
        assert!(
            stdout.contains(&format!("\n  {channel}:\n")),
            "{channel} is on: {stdout}"
        );
    }
}

#[test]
fn the_configmap_check_fails_when_a_key_is_misspelled() {
    let config = configmap_config().replace("key_prefix:", "key_prefx:");
    let (output, _, stderr) =
        robot_sre(&["check-config"], &config, &bot_env(secret_entries(false)));
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("key_prefx"), "{stderr}");
}

#[test]
fn the_configmap_configuration_needs_exactly_the_shipped_rbac() {
    let env = bot_env(secret_entries(false));
    let (output, stdout, stderr) = robot_sre(&["rbac"], &configmap_config(), &env);
    assert!(output.status.success(), "{stderr}");
    assert!(
        read("deploy/rbac.yaml").ends_with(&stdout),
        "deploy/rbac.yaml does not fit the ConfigMap's ops settings; it needs:\n{stdout}"
    );
}
