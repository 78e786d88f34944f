//! The actions Robot SRE can take on a cluster, by name. Config enables them, policy decides
//! when each may run, and ops carries them out.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One kind of action. The names are the ones configuration, audit records and chat use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// `kubectl rollout restart deployment/<name>`.
    Restart,
    /// `kubectl rollout undo deployment/<name>` to the previous revision.
    Rollback,
    /// Delete one controller-owned pod so its controller replaces it.
    DeletePod,
    /// Set a Deployment's replica count within configured bounds.
    Scale,
    /// Mark a node unschedulable.
    Cordon,
    /// Mark a node schedulable again.
    Uncordon,
    /// Set `spec.suspend: true` on a CronJob.
    SuspendCronjob,
    /// Set `spec.suspend: false` on a CronJob.
    ResumeCronjob,
    /// Delete Succeeded and Failed pods in a namespace, a bounded number per run.
    Cleanup,
}

impl ActionKind {
    pub const ALL: [ActionKind; 9] = [
        ActionKind::Restart,
        ActionKind::Rollback,
        ActionKind::DeletePod,
        ActionKind::Scale,
        ActionKind::Cordon,
        ActionKind::Uncordon,
        ActionKind::SuspendCronjob,
        ActionKind::ResumeCronjob,
        ActionKind::Cleanup,
    ];

    /// The name used in configuration, audit records and chat.
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Restart => "restart",
            ActionKind::Rollback => "rollback",
            ActionKind::DeletePod => "delete_pod",
            ActionKind::Scale => "scale",
            ActionKind::Cordon => "cordon",
            ActionKind::Uncordon => "uncordon",
            ActionKind::SuspendCronjob => "suspend_cronjob",
            ActionKind::ResumeCronjob => "resume_cronjob",
            ActionKind::Cleanup => "cleanup",
        }
    }
}

impl fmt::Display for ActionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_serde() {
        for kind in ActionKind::ALL {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{kind}\""));
            assert_eq!(serde_json::from_str::<ActionKind>(&json).unwrap(), kind);
        }
    }
}
