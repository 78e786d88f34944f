//! `deploy/alertmanager/receiver.yaml`: a configuration Alertmanager's own checker accepts, and
//! it sends what the bot expects where the bot listens.

use std::process::Command;

use serde_yaml::{Mapping, Value};

use super::{documents, object, program, read};

const RECEIVER: &str = "deploy/alertmanager/receiver.yaml";

fn snippet() -> Value {
    documents(&read(RECEIVER)).remove(0)
}

/// The snippet merged into the smallest complete configuration: a default receiver at the root
/// of the routing tree.
fn full_config(snippet: &Value) -> String {
    let mut route = Mapping::new();
    route.insert("receiver".into(), "default".into());
    route.insert("routes".into(), snippet["route"]["routes"].clone());
    let mut default = Mapping::new();
    default.insert("name".into(), "default".into());
    let mut receivers = vec![Value::Mapping(default)];
    receivers.extend(
        snippet["receivers"]
            .as_sequence()
            .expect("receivers")
            .iter()
            .cloned(),
    );
    let mut config = Mapping::new();
    config.insert("route".into(), Value::Mapping(route));
    config.insert("receivers".into(), Value::Sequence(receivers));
    serde_yaml::to_string(&config).expect("YAML")
}

fn webhook(snippet: &Value) -> Value {
    let receivers = snippet["receivers"].as_sequence().expect("receivers");
    let bot = receivers
        .iter()
        .find(|receiver| receiver["name"].as_str() == Some("robot-sre"))
        .expect("a receiver named robot-sre");
    bot["webhook_configs"][0].clone()
}

#[test]
fn the_alertmanager_receiver_passes_amtool_check_config() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("alertmanager.yml");
    std::fs::write(&path, full_config(&snippet())).expect("written");
    let output = Command::new(program("amtool", "prometheus-alertmanager"))
        .arg("check-config")
        .arg(&path)
        .output()
        .expect("amtool runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}{stderr}");
    assert!(
        stdout.contains("SUCCESS") && stdout.contains("2 receivers"),
        "{stdout}"
    );
}

#[test]
fn the_alertmanager_receiver_posts_resolved_alerts_with_a_bearer_token_to_the_bots_service() {
    let snippet = snippet();
    let routes = snippet["route"]["routes"].as_sequence().expect("routes");
    assert!(
        routes
            .iter()
            .any(|r| r["receiver"].as_str() == Some("robot-sre"))
    );
    let webhook = webhook(&snippet);
    let url = url::Url::parse(webhook["url"].as_str().expect("url")).expect("a URL");
    assert_eq!(
        url.path(),
        "/webhooks/alertmanager",
        "the path the bot serves"
    );

    let service = object("deploy/kubernetes/service.yaml", "Service");
    let host = format!(
        "{}.{}.svc",
        service["metadata"]["name"].as_str().expect("a name"),
        service["metadata"]["namespace"]
            .as_str()
            .expect("a namespace")
    );
    assert_eq!(url.host_str(), Some(host.as_str()));
    assert_eq!(
        url.port().map(i64::from),
        service["spec"]["ports"][0]["port"].as_i64()
    );

    assert_eq!(webhook["send_resolved"].as_bool(), Some(true));
    let authorization = &webhook["http_config"]["authorization"];
    assert_eq!(authorization["type"].as_str(), Some("Bearer"));
    assert!(
        authorization["credentials_file"].is_string() || authorization["credentials"].is_string(),
        "a bearer token: {authorization:?}"
    );
}
