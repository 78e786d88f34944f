//! Where the lab's programs are: etcd from Debian's `etcd-server` package, and kube-apiserver,
//! kube-controller-manager and kube-scheduler built by `scripts/lab-binaries.sh` from Debian's
//! `kubernetes` source package into `~/.cache/robot-sre/kubernetes-<version>-<recipe>/bin`.

use std::path::{Path, PathBuf};

use crate::testkit::process::find_program;

use super::LabError;

/// Environment variable naming the directory of the built control-plane binaries; without it
/// the newest complete build in the cache is used.
pub const BIN_DIR_ENV: &str = "ROBOT_SRE_LAB_BIN";

/// The build recipe of `scripts/lab-binaries.sh`: caches built by another recipe are ignored.
const BUILD_RECIPE: &str = "-lab2";

/// The control-plane programs the lab runs.
#[derive(Debug, Clone)]
pub struct Binaries {
    pub etcd: PathBuf,
    pub apiserver: PathBuf,
    pub controller_manager: PathBuf,
    pub scheduler: PathBuf,
}

const BUILT: [&str; 3] = [
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
];

impl Binaries {
    /// Finds every program, or says how to get the missing ones.
    ///
    /// # Errors
    /// [`LabError::Binaries`] naming what is missing and the command that provides it.
    pub fn locate() -> Result<Self, LabError> {
        let dir = match std::env::var_os(BIN_DIR_ENV) {
            Some(dir) => PathBuf::from(dir),
            None => newest_cached_build().ok_or_else(|| {
                LabError::Binaries(format!(
                    "no built Kubernetes control plane in {}; run scripts/lab-binaries.sh (or set {BIN_DIR_ENV})",
                    cache_root().display()
                ))
            })?,
        };
        if let Some(missing) = BUILT.iter().find(|name| !dir.join(name).is_file()) {
            return Err(LabError::Binaries(format!(
                "{missing} is missing from {}; run scripts/lab-binaries.sh",
                dir.display()
            )));
        }
        let etcd = find_program("etcd", "etcd-server")
            .map_err(|error| LabError::Binaries(error.to_string()))?;
        Ok(Self {
            etcd,
            apiserver: dir.join(BUILT[0]),
            controller_manager: dir.join(BUILT[1]),
            scheduler: dir.join(BUILT[2]),
        })
    }
}

/// `$ROBOT_SRE_CACHE`, else `$XDG_CACHE_HOME/robot-sre`, else `~/.cache/robot-sre`: the same
/// rule as `scripts/lab-binaries.sh`.
fn cache_root() -> PathBuf {
    if let Some(root) = std::env::var_os("ROBOT_SRE_CACHE") {
        return root.into();
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    cache.join("robot-sre")
}

fn newest_cached_build() -> Option<PathBuf> {
    let mut builds: Vec<PathBuf> = std::fs::read_dir(cache_root())
        .ok()?
        .filter_map(Result::ok)
        .filter(|entry| {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            name.starts_with("kubernetes-") && name.ends_with(BUILD_RECIPE)
        })
        .map(|entry| entry.path().join("bin"))
        .filter(|bin| BUILT.iter().all(|name| bin.join(name).is_file()))
        .collect();
    builds.sort();
    builds.pop()
}
