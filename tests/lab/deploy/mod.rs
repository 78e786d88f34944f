//! The deployment artifacts under `deploy/`: the container image recipe, the Kubernetes
//! manifests (dry-run against the lab's API server), the ConfigMap's configuration (loaded by the
//! bot itself) and the Alertmanager receiver (checked by `amtool`).

mod alertmanager;
mod config;
mod dockerfile;
mod manifests;
mod wiring;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use robot_sre::testkit::process::find_program;
use serde::Deserialize as _;
use serde_yaml::Value;

/// The repository root.
pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The text of `relative` (to the repository root).
pub fn read(relative: &str) -> String {
    let path = repo().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// Every YAML document in `text`, empty ones skipped.
pub fn documents(text: &str) -> Vec<Value> {
    serde_yaml::Deserializer::from_str(text)
        .map(|document| Value::deserialize(document).expect("valid YAML"))
        .filter(|document| !document.is_null())
        .collect()
}

/// The one document of `kind` in the file `relative`.
pub fn object(relative: &str, kind: &str) -> Value {
    let mut found: Vec<Value> = documents(&read(relative))
        .into_iter()
        .filter(|document| document["kind"].as_str() == Some(kind))
        .collect();
    assert_eq!(found.len(), 1, "one {kind} in {relative}");
    found.remove(0)
}

/// A program the tests need, with the Debian package to install when it is missing.
pub fn program(name: &str, package: &str) -> PathBuf {
    find_program(name, package).unwrap_or_else(|error| panic!("{error}"))
}

/// Runs `command` with `stdin` as its input.
pub fn run(command: &mut Command, stdin: &str) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("{command:?}: {error}"));
    child
        .stdin
        .take()
        .expect("a stdin pipe")
        .write_all(stdin.as_bytes())
        .expect("stdin written");
    child.wait_with_output().expect("the command's output")
}
