//! The shipped app manifest parses as a Slack app manifest and points at the bot's endpoints.

use robot_sre::channels::slack::http::{ACTIONS_PATH, COMMANDS_PATH};
use serde_json::Value;

fn manifest() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/deploy/slack-app-manifest.yaml"
    );
    serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn the_app_manifest_is_a_valid_slack_manifest() {
    let manifest = manifest();
    let typed: Result<slack_morphism::prelude::SlackAppManifest, _> =
        serde_json::from_value(manifest.clone());
    assert!(typed.is_ok(), "{:?}", typed.err());
}

#[test]
fn the_app_manifest_routes_commands_and_buttons_to_the_bot_with_the_scopes_it_needs() {
    let manifest = manifest();
    let command = &manifest["features"]["slash_commands"][0];
    assert_eq!(command["command"], "/incident");
    assert!(command["url"].as_str().unwrap().ends_with(COMMANDS_PATH));
    let interactivity = &manifest["settings"]["interactivity"];
    assert_eq!(interactivity["is_enabled"], true);
    assert!(
        interactivity["request_url"]
            .as_str()
            .unwrap()
            .ends_with(ACTIONS_PATH)
    );
    let scopes = manifest["oauth_config"]["scopes"]["bot"]
        .as_array()
        .unwrap();
    assert!(scopes.contains(&"chat:write".into()) && scopes.contains(&"commands".into()));
    assert_eq!(manifest["settings"]["socket_mode_enabled"], false);
}
