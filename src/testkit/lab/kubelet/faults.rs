//! The fault vocabulary: how a test asks the simulated kubelet to make a pod or node misbehave.
//!
//! Pod faults, per container, from (first match wins):
//! 1. the image tag `fault-<name>`, e.g. `registry.example/web:fault-image-pull` — so a rollout
//!    that changes the image can break, and a rollback can heal;
//! 2. the pod annotation `lab.robot-sre.dev/fault: <name>` (set it on a pod template), which
//!    applies to every container.
//!
//! | name | what the kubelet does | what a real cluster shows |
//! |---|---|---|
//! | `image-pull` | the pull fails | `ErrImagePull`, then `ImagePullBackOff`; phase Pending |
//! | `crashloop` | the container exits 1 shortly after starting | restartPolicy Always/OnFailure: `CrashLoopBackOff`, growing restartCount, last state Terminated `Error` exit 1; Never: phase Failed |
//! | `oom-killed` | as `crashloop`, killed for memory | last state Terminated `OOMKilled`, exit 137 |
//! | `never-ready` | runs, readiness probe always fails | Running, Ready=False, `Unhealthy` events |
//! | `succeed` | runs, then exits 0 | phase Succeeded, Terminated `Completed` exit 0 |
//! | `fail` | runs, then exits 1 | phase Failed (restartPolicy Never), Terminated `Error` exit 1 |
//!
//! `lab.robot-sre.dev/ready-after: <duration>` (humantime, e.g. `5s`) on a pod overrides how long
//! a healthy container takes to become Ready.
//!
//! Node faults, from the node annotation `lab.robot-sre.dev/node-fault`:
//!
//! | name | conditions | taints | events |
//! |---|---|---|---|
//! | `disk-pressure` | DiskPressure=True (`KubeletHasDiskPressure`) | `node.kubernetes.io/disk-pressure:NoSchedule` | `NodeHasDiskPressure`, `EvictionThresholdMet`; one BestEffort pod evicted (`Evicted`) |
//! | `not-ready` | Ready=False (`KubeletNotReady`) | `node.kubernetes.io/not-ready` NoSchedule + NoExecute | `NodeNotReady` |
//! | `unreachable` | Ready, MemoryPressure, DiskPressure, PIDPressure = Unknown (`NodeStatusUnknown`) | `node.kubernetes.io/unreachable` NoSchedule + NoExecute | `NodeNotReady` |
//!
//! Removing the annotation heals the node. Pods on a NotReady or unreachable node are not run.

use std::time::Duration;

/// Pod annotation naming a fault for every container.
pub const POD_FAULT: &str = "lab.robot-sre.dev/fault";
/// Pod annotation overriding the delay before a healthy container is Ready.
pub const READY_AFTER: &str = "lab.robot-sre.dev/ready-after";
/// Node annotation naming a node fault.
pub const NODE_FAULT: &str = "lab.robot-sre.dev/node-fault";
/// Image tag prefix naming a fault for one container.
pub const IMAGE_TAG_PREFIX: &str = "fault-";

/// What one container does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PodFault {
    ImagePull,
    CrashLoop,
    OomKilled,
    NeverReady,
    Succeed,
    Fail,
}

impl PodFault {
    pub const ALL: [PodFault; 6] = [
        PodFault::ImagePull,
        PodFault::CrashLoop,
        PodFault::OomKilled,
        PodFault::NeverReady,
        PodFault::Succeed,
        PodFault::Fail,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PodFault::ImagePull => "image-pull",
            PodFault::CrashLoop => "crashloop",
            PodFault::OomKilled => "oom-killed",
            PodFault::NeverReady => "never-ready",
            PodFault::Succeed => "succeed",
            PodFault::Fail => "fail",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|fault| fault.as_str() == name.trim())
    }

    /// The fault of a container running `image` in a pod whose fault annotation is
    /// `annotation`. An unknown name is an error, so a typo in a test cannot pass silently.
    pub fn for_container(image: &str, annotation: Option<&str>) -> Result<Option<Self>, String> {
        if let Some(tag) = image_tag(image).and_then(|tag| tag.strip_prefix(IMAGE_TAG_PREFIX)) {
            return Self::parse(tag)
                .map(Some)
                .ok_or_else(|| format!("unknown fault {tag:?} in image {image:?}"));
        }
        match annotation {
            None => Ok(None),
            Some(name) => Self::parse(name)
                .map(Some)
                .ok_or_else(|| format!("unknown fault {name:?} in annotation {POD_FAULT}")),
        }
    }
}

/// An image reference split into repository and tag (a registry port is not a tag; a digest
/// is dropped).
pub fn split_image(image: &str) -> (&str, Option<&str>) {
    let name = image.split('@').next().unwrap_or(image);
    let last_segment = name.rfind('/').map_or(0, |slash| slash + 1);
    match name[last_segment..].find(':') {
        Some(colon) => {
            let at = last_segment + colon;
            (&name[..at], Some(&name[at + 1..]))
        }
        None => (name, None),
    }
}

fn image_tag(image: &str) -> Option<&str> {
    split_image(image).1
}

/// Parses [`READY_AFTER`].
pub fn ready_after(annotation: Option<&str>) -> Result<Option<Duration>, String> {
    annotation
        .map(|text| {
            humantime::parse_duration(text.trim())
                .map_err(|error| format!("{READY_AFTER}: {text:?}: {error}"))
        })
        .transpose()
}

/// What a node suffers from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeFault {
    DiskPressure,
    NotReady,
    Unreachable,
}

impl NodeFault {
    pub fn as_str(self) -> &'static str {
        match self {
            NodeFault::DiskPressure => "disk-pressure",
            NodeFault::NotReady => "not-ready",
            NodeFault::Unreachable => "unreachable",
        }
    }

    pub fn parse(annotation: Option<&str>) -> Result<Option<Self>, String> {
        match annotation.map(str::trim) {
            None | Some("") => Ok(None),
            Some("disk-pressure") => Ok(Some(NodeFault::DiskPressure)),
            Some("not-ready") => Ok(Some(NodeFault::NotReady)),
            Some("unreachable") => Ok(Some(NodeFault::Unreachable)),
            Some(other) => Err(format!("unknown node fault {other:?} in {NODE_FAULT}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_image_tag_wins_over_the_annotation() {
        assert_eq!(
            PodFault::for_container("registry.example:5000/web:fault-crashloop", Some("succeed")),
            Ok(Some(PodFault::CrashLoop))
        );
        assert_eq!(
            PodFault::for_container("registry.example:5000/web", Some("succeed")),
            Ok(Some(PodFault::Succeed))
        );
        assert_eq!(PodFault::for_container("web:1.2", None), Ok(None));
        assert_eq!(
            PodFault::for_container("web@sha256:abc", Some("oom-killed")),
            Ok(Some(PodFault::OomKilled))
        );
    }

    #[test]
    fn images_split_at_the_tag_not_the_registry_port() {
        assert_eq!(
            split_image("registry.example:5000/team/web:1.2"),
            ("registry.example:5000/team/web", Some("1.2"))
        );
        assert_eq!(
            split_image("registry.example:5000/web"),
            ("registry.example:5000/web", None)
        );
        assert_eq!(split_image("web@sha256:abc"), ("web", None));
    }

    #[test]
    fn unknown_names_are_errors() {
        assert!(PodFault::for_container("web:fault-explode", None).is_err());
        assert!(PodFault::for_container("web", Some("crash-loop")).is_err());
        assert!(NodeFault::parse(Some("full")).is_err());
        assert!(ready_after(Some("soon")).is_err());
    }

    #[test]
    fn every_name_round_trips() {
        for fault in PodFault::ALL {
            assert_eq!(PodFault::parse(fault.as_str()), Some(fault));
        }
        for fault in [
            NodeFault::DiskPressure,
            NodeFault::NotReady,
            NodeFault::Unreachable,
        ] {
            assert_eq!(NodeFault::parse(Some(fault.as_str())), Ok(Some(fault)));
        }
        assert_eq!(NodeFault::parse(Some(" ")), Ok(None));
        assert_eq!(ready_after(Some("5s")), Ok(Some(Duration::from_secs(5))));
    }
}
