//! Loading settings: the YAML file, then `ROBOT_SRE__SECTION__KEY` environment variables, then
//! validation. Every error names where the bad value came from, the key and the problem.

use std::fmt;
use std::path::Path;

use figment::providers::{Env, Format, Yaml};
use figment::{Figment, Provider};

use super::settings::Settings;
use super::validate::validate;
use crate::incidents::Classifier;

/// Environment variables starting with this override the file; `__` separates the key path.
pub const ENV_PREFIX: &str = "ROBOT_SRE__";

/// One thing wrong with the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where the value came from: the file path, the environment variable, or "defaults".
    pub origin: String,
    /// The dotted key, e.g. `incidents.suppression_window`.
    pub key: String,
    pub problem: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "{}: {}", self.origin, self.problem)
        } else {
            write!(f, "{}: key `{}`: {}", self.origin, self.key, self.problem)
        }
    }
}

/// The configuration cannot be used. Displays one problem per line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    pub problems: Vec<Problem>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = self.problems.iter().map(ToString::to_string).collect();
        f.write_str(&lines.join("\n"))
    }
}

/// Settings ready to run with, plus what was compiled from them and what deserves a warning.
#[derive(Debug)]
pub struct LoadedSettings {
    pub settings: Settings,
    pub classifier: Classifier,
    /// The sources read, in the order they were layered.
    pub sources: Vec<String>,
    /// Legal but risky choices, for the log and `check-config`.
    pub warnings: Vec<String>,
}

/// Loads settings from `path` (if any) and the process environment.
///
/// # Errors
/// A [`ConfigError`] listing every problem found.
pub fn load(path: Option<&Path>) -> Result<LoadedSettings, ConfigError> {
    load_from(path, Env::prefixed(ENV_PREFIX).split("__"))
}

/// Loads settings from `path` (if any) layered with `overrides` (the environment, in `load`).
///
/// # Errors
/// A [`ConfigError`] listing every problem found.
pub fn load_from(
    path: Option<&Path>,
    overrides: impl Provider,
) -> Result<LoadedSettings, ConfigError> {
    let mut figment = Figment::new();
    let mut sources = vec!["built-in defaults".to_owned()];
    if let Some(path) = path {
        let text = std::fs::read_to_string(path).map_err(|error| single(path, error))?;
        // A file of comments only is an empty configuration, not an error.
        if !matches!(serde_yaml::from_str(&text), Ok(serde_yaml::Value::Null)) {
            figment = figment.merge(Yaml::file_exact(path));
        }
        sources.push(path.display().to_string());
    }
    figment = figment.merge(overrides);
    sources.push(format!("environment ({ENV_PREFIX}*)"));
    let settings: Settings = figment.extract().map_err(from_figment)?;
    let problems = validate(&settings);
    if !problems.is_empty() {
        let problems = problems
            .into_iter()
            .map(|(key, problem)| Problem {
                origin: origin_of(&figment, &key),
                key,
                problem,
            })
            .collect();
        return Err(ConfigError { problems });
    }
    let classifier = classifier(&settings, &figment)?;
    let warnings = warnings(&settings);
    Ok(LoadedSettings {
        settings,
        classifier,
        sources,
        warnings,
    })
}

fn single(path: &Path, error: std::io::Error) -> ConfigError {
    ConfigError {
        problems: vec![Problem {
            origin: path.display().to_string(),
            key: String::new(),
            problem: format!("cannot read the configuration file: {error}"),
        }],
    }
}

fn classifier(settings: &Settings, figment: &Figment) -> Result<Classifier, ConfigError> {
    const KEY: &str = "incidents.classification_rules";
    let Some(path) = &settings.incidents.classification_rules else {
        return Ok(Classifier::builtin());
    };
    let problem = |problem: String| ConfigError {
        problems: vec![Problem {
            origin: origin_of(figment, KEY),
            key: KEY.into(),
            problem,
        }],
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| problem(format!("cannot read {}: {e}", path.display())))?;
    Classifier::from_yaml(&text, &path.display().to_string()).map_err(|e| problem(e.to_string()))
}

/// Which provider supplied `key`: a file path, an environment variable, or the defaults.
fn origin_of(figment: &Figment, key: &str) -> String {
    match figment.find_metadata(key) {
        Some(metadata) => describe(metadata, key),
        None => "built-in defaults".into(),
    }
}

fn describe(metadata: &figment::Metadata, key: &str) -> String {
    match &metadata.source {
        Some(figment::Source::File(path)) => path.display().to_string(),
        _ if metadata.name.contains("environment") => {
            let keys: Vec<&str> = key.split('.').collect();
            let name = metadata.interpolate(&figment::Profile::Default, &keys);
            format!(
                "environment variable {ENV_PREFIX}{}",
                name.replace('.', "__")
            )
        }
        _ => metadata.name.to_string(),
    }
}

fn from_figment(error: figment::Error) -> ConfigError {
    let problems = error
        .into_iter()
        .map(|error| {
            let key = error.path.join(".");
            let origin = match &error.metadata {
                Some(metadata) => describe(metadata, &key),
                None => "configuration".into(),
            };
            Problem {
                origin,
                key,
                problem: error.kind.to_string(),
            }
        })
        .collect();
    ConfigError { problems }
}

fn warnings(settings: &Settings) -> Vec<String> {
    let mut warnings = Vec::new();
    if settings.alertmanager.token.is_none() {
        warnings.push(
            "alertmanager.token is not set: POST /webhooks/alertmanager refuses every request \
             until it is (set it, or ROBOT_SRE__ALERTMANAGER__TOKEN)"
                .to_owned(),
        );
    }
    if settings.store.backend == super::StoreBackend::Memory {
        warnings.push(
            "store.backend is memory: incidents are lost on restart and replicas share nothing; \
             use redis in production"
                .to_owned(),
        );
    }
    warnings.extend(super::conversations::warnings(
        &settings.conversations,
        &settings.channels.people,
    ));
    warnings
}

#[cfg(test)]
#[path = "load_tests.rs"]
mod tests;
