use std::io::Write as _;

use figment::providers::Serialized;

use super::*;
use crate::config::StoreBackend;

fn file(text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(text.as_bytes()).unwrap();
    file
}

fn no_overrides() -> Serialized<serde_json::Value> {
    Serialized::defaults(serde_json::json!({}))
}

#[test]
fn the_shipped_example_is_accepted() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/robot-sre.example.yaml");
    let loaded = load_from(Some(&path), no_overrides()).unwrap();
    assert_eq!(loaded.settings.store.backend, StoreBackend::Redis);
    assert!(loaded.settings.alertmanager.token.is_some());
}

#[test]
fn no_file_gives_safe_defaults_and_warnings() {
    let loaded = load_from(None, no_overrides()).unwrap();
    assert_eq!(loaded.settings.store.backend, StoreBackend::Memory);
    assert!(loaded.settings.alertmanager.token.is_none());
    assert_eq!(loaded.warnings.len(), 3, "{:?}", loaded.warnings);
}

#[test]
fn a_file_of_comments_is_an_empty_configuration() {
    let config = file("# nothing here yet\n");
    assert!(load_from(Some(config.path()), no_overrides()).is_ok());
}

#[test]
fn type_errors_name_the_file_the_key_and_the_problem() {
    let config = file("incidents:\n  suppression_window: soon\n");
    let error = load_from(Some(config.path()), no_overrides()).unwrap_err();
    let problem = &error.problems[0];
    assert_eq!(problem.origin, config.path().display().to_string());
    assert_eq!(problem.key, "incidents.suppression_window");
    assert!(problem.problem.contains("soon"), "{}", problem.problem);
}

#[test]
fn unknown_keys_are_refused_by_name() {
    let config = file("server:\n  listn: 0.0.0.0:9\n");
    let error = load_from(Some(config.path()), no_overrides()).unwrap_err();
    assert!(error.to_string().contains("listn"), "{error}");
}

#[test]
fn invalid_namespaces_are_refused() {
    let config = file("cluster:\n  environments:\n    staging: [Shop_Staging]\n");
    let error = load_from(Some(config.path()), no_overrides()).unwrap_err();
    assert!(
        error.to_string().contains("not a valid namespace name"),
        "{error}"
    );
}

#[test]
fn validation_errors_name_where_the_value_came_from() {
    let config = file("incidents:\n  suppression_window: 1h\n  retention: 10m\n");
    let error = load_from(Some(config.path()), no_overrides()).unwrap_err();
    let problem = &error.problems[0];
    assert_eq!(problem.key, "incidents.retention");
    assert_eq!(problem.origin, config.path().display().to_string());
}

#[test]
fn overrides_win_over_the_file() {
    let config = file("store:\n  backend: memory\n");
    let overrides = Serialized::defaults(serde_json::json!({"store": {"backend": "redis"}}));
    let loaded = load_from(Some(config.path()), overrides).unwrap();
    assert_eq!(loaded.settings.store.backend, StoreBackend::Redis);
}

#[test]
fn a_missing_file_is_named() {
    let error = load_from(Some(Path::new("/nonexistent/robot.yaml")), no_overrides()).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("/nonexistent/robot.yaml: cannot read"),
        "{error}"
    );
}

#[test]
fn a_bad_rules_file_is_reported_against_its_key() {
    let rules =
        file("rules:\n  - incident_type: nope\n    default_severity: warning\n    signals: []\n");
    let text = format!(
        "incidents:\n  classification_rules: {}\n",
        rules.path().display()
    );
    let config = file(&text);
    let error = load_from(Some(config.path()), no_overrides()).unwrap_err();
    assert_eq!(error.problems[0].key, "incidents.classification_rules");
    assert!(error.problems[0].problem.contains("nope"));
}

#[test]
fn a_redis_password_is_masked_when_settings_are_printed() {
    let config = file("store:\n  redis:\n    url: redis://:hunter2@redis:6379/0\n");
    let loaded = load_from(Some(config.path()), no_overrides()).unwrap();
    let printed = serde_yaml::to_string(&loaded.settings).unwrap();
    assert!(!printed.contains("hunter2"), "{printed}");
    assert!(
        printed.contains("redis://:********@redis:6379/0"),
        "{printed}"
    );
}

#[test]
fn a_redis_password_in_a_query_is_masked_too() {
    let config = file("store:\n  redis:\n    url: unix:///run/redis.sock?db=1&pass=hunter2\n");
    let loaded = load_from(Some(config.path()), no_overrides()).unwrap();
    let printed = serde_yaml::to_string(&loaded.settings).unwrap();
    assert!(!printed.contains("hunter2"), "{printed}");
    assert!(!format!("{:?}", loaded.settings).contains("hunter2"));
}

#[test]
fn an_unparseable_redis_url_is_reported_without_echoing_it() {
    let config = file("store:\n  redis:\n    url: \"redis://:pa ss#word@\"\n");
    let error = load_from(Some(config.path()), no_overrides()).unwrap_err();
    assert_eq!(error.problems[0].key, "store.redis.url");
    assert!(!error.to_string().contains("word"), "{error}");
}
