//! `deploy/Dockerfile`, checked without a container runtime (none on the test machines): its
//! stages, user, environment, COPY sources, and the dependency stage's stub targets.

use std::path::Path;
use std::process::Command;

use super::{read, repo};

const DOCKERFILE: &str = "deploy/Dockerfile";
const STUB_SCRIPT: &str = "deploy/stub-targets.sh";

/// One instruction: the keyword (upper case) and its arguments, continuation lines joined.
struct Instruction {
    keyword: String,
    args: String,
}

fn instructions(text: &str) -> Vec<Instruction> {
    let mut joined = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || (trimmed.is_empty() && current.is_empty()) {
            continue;
        }
        match trimmed.strip_suffix('\\') {
            Some(head) => current.push_str(head),
            None => {
                current.push_str(trimmed);
                joined.push(std::mem::take(&mut current));
            }
        }
    }
    joined
        .into_iter()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let (keyword, args) = line
                .trim()
                .split_once(char::is_whitespace)
                .unwrap_or((&line, ""));
            Instruction {
                keyword: keyword.to_uppercase(),
                args: args.trim().to_owned(),
            }
        })
        .collect()
}

/// Everything wrong with `text` as a Dockerfile built from `root`, one line each.
fn problems(text: &str, root: &Path) -> Vec<String> {
    let all = instructions(text);
    let mut problems = Vec::new();
    let stages = all.iter().filter(|i| i.keyword == "FROM").count();
    if stages < 2 {
        problems.push(format!(
            "{stages} FROM stage(s); want a build and a runtime stage"
        ));
    }
    let last_stage = all.iter().rposition(|i| i.keyword == "FROM").unwrap_or(0);
    let user = all[last_stage..].iter().rev().find(|i| i.keyword == "USER");
    match user.map(|i| i.args.split(':').next().unwrap_or_default().to_owned()) {
        None => problems.push("the runtime stage has no USER: it would run as root".into()),
        Some(name) if name == "root" || name == "0" => {
            problems.push(format!("the runtime stage runs as {name}"));
        }
        Some(_) => {}
    }
    for instruction in all
        .iter()
        .filter(|i| matches!(i.keyword.as_str(), "ENV" | "ARG"))
    {
        problems.extend(secret_values(instruction));
    }
    for instruction in all.iter().filter(|i| i.keyword == "COPY") {
        problems.extend(missing_sources(instruction, root));
    }
    problems
}

/// `ENV`/`ARG` entries whose name looks secret and that hold a value.
fn secret_values(instruction: &Instruction) -> Vec<String> {
    let pairs: Vec<(String, String)> = if instruction.args.contains('=') {
        instruction
            .args
            .split_whitespace()
            .map(|pair| match pair.split_once('=') {
                Some((name, value)) => (name.to_owned(), value.trim_matches('"').to_owned()),
                None => (pair.to_owned(), String::new()),
            })
            .collect()
    } else {
        // The legacy form `ENV NAME value with spaces`.
        let (name, value) = instruction
            .args
            .split_once(char::is_whitespace)
            .unwrap_or((&instruction.args, ""));
        vec![(name.to_owned(), value.trim().to_owned())]
    };
    pairs
        .into_iter()
        .filter(|(name, value)| {
            let name = name.to_uppercase();
            ["TOKEN", "SECRET", "PASSWORD"]
                .iter()
                .any(|word| name.contains(word))
                && !value.is_empty()
        })
        .map(|(name, _)| {
            format!(
                "{} {name} bakes a value into the image",
                instruction.keyword
            )
        })
        .collect()
}

/// `COPY` sources (from the build context, not from another stage) that do not exist.
fn missing_sources(instruction: &Instruction, root: &Path) -> Vec<String> {
    let words: Vec<String> = if instruction.args.starts_with('[') {
        serde_json::from_str(&instruction.args).unwrap_or_default()
    } else {
        instruction
            .args
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    };
    if words.iter().any(|word| word.starts_with("--from=")) {
        return Vec::new();
    }
    let paths: Vec<&String> = words
        .iter()
        .filter(|word| !word.starts_with("--"))
        .collect();
    let Some((_destination, sources)) = paths.split_last() else {
        return vec![format!("COPY {} names nothing to copy", instruction.args)];
    };
    sources
        .iter()
        .filter(|source| !root.join(source.as_str()).exists())
        .map(|source| format!("COPY source {source} does not exist in the repository"))
        .collect()
}

#[test]
fn dockerfile_builds_in_two_stages_as_a_non_root_user_without_secrets_from_existing_sources() {
    let problems = problems(&read(DOCKERFILE), repo());
    assert!(
        problems.is_empty(),
        "{DOCKERFILE}:\n{}",
        problems.join("\n")
    );
}

#[test]
fn dockerfile_checks_find_every_problem_when_a_dockerfile_has_them() {
    let bad = "FROM debian:bookworm-slim\n\
               ENV API_TOKEN=abc123 LOG=info\n\
               ENV WEBHOOK_SECRET some value\n\
               ARG DB_PASSWORD=hunter2\n\
               ARG SIGNING_SECRET\n\
               COPY Cargo.toml no/such/file ./\n\
               COPY --from=build /nowhere /usr/local/bin/\n\
               USER root\n";
    assert_eq!(
        problems(bad, repo()),
        [
            "1 FROM stage(s); want a build and a runtime stage",
            "the runtime stage runs as root",
            "ENV API_TOKEN bakes a value into the image",
            "ENV WEBHOOK_SECRET bakes a value into the image",
            "ARG DB_PASSWORD bakes a value into the image",
            "COPY source no/such/file does not exist in the repository",
        ]
    );
    let rootless = "FROM rust AS build\nFROM debian\nUSER 0:0\n";
    assert_eq!(problems(rootless, repo()), ["the runtime stage runs as 0"]);
}

#[test]
fn dockerfile_dependency_stage_stubs_every_target_the_manifest_declares() {
    let dockerfile = read(DOCKERFILE);
    let all = instructions(&dockerfile);
    let stub = all
        .iter()
        .position(|i| i.keyword == "RUN" && i.args.starts_with("stub-targets Cargo.toml"))
        .expect("a RUN of stub-targets before the first cargo build");
    let first_build = all
        .iter()
        .position(|i| i.keyword == "RUN" && i.args.contains("cargo build"))
        .expect("a cargo build");
    assert!(
        stub <= first_build,
        "the stubs must exist before the first cargo build"
    );
    assert!(
        all.iter()
            .any(|i| i.keyword == "COPY" && i.args.starts_with(STUB_SCRIPT)),
        "the stub script is copied into the build stage"
    );

    // What the stage holds at that point: the manifest, the lock file and the stubs.
    let stage = tempfile::tempdir().expect("a temporary directory");
    for file in ["Cargo.toml", "Cargo.lock"] {
        std::fs::copy(repo().join(file), stage.path().join(file)).expect("copied");
    }
    let output = Command::new("sh")
        .arg(repo().join(STUB_SCRIPT))
        .arg("Cargo.toml")
        .current_dir(stage.path())
        .output()
        .expect("sh runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    // Cargo itself lists the targets the manifest declares (with nothing but the manifest, no
    // target is discovered): each must now exist.
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args([
            "metadata",
            "--no-deps",
            "--offline",
            "--format-version",
            "1",
        ])
        .current_dir(stage.path())
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let targets = metadata["packages"][0]["targets"]
        .as_array()
        .expect("targets");
    let benches = read("Cargo.toml").matches("[[bench]]").count();
    assert!(
        targets.len() >= 2 + benches,
        "lib, bin and every bench: {targets:?}"
    );
    let missing: Vec<&str> = targets
        .iter()
        .filter_map(|target| target["src_path"].as_str())
        .filter(|path| !Path::new(path).exists())
        .collect();
    assert!(missing.is_empty(), "not stubbed: {missing:?}");
}
