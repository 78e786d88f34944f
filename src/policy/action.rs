//! The actions policy reasons about, by name, and their classes.
//!
//! Some names are the bot's executable actions ([`ActionKind`]); the others exist so the
//! taxonomy can say what the fix would be (drain the node, rotate the secret) while the bot
//! only suggests it or hands it to a human. Classes and human-only status are code, not
//! configuration: no file can move an action out of its class.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::domain::ActionKind;

/// How much an action can break, from least to most. The order is the order of risk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionClass {
    /// Read state; changes nothing.
    Observe,
    /// Tell someone.
    Notify,
    /// Low risk, stops the damage spreading: delete finished pods, suspend an allowlisted
    /// CronJob, scale an allowlisted non-critical workload to zero.
    Contain,
    /// Brings the service back: restart, rollback, patch config, reconcile a release, resume,
    /// cordon one node.
    Recover,
    /// Can take capacity away or hurt other tenants: drain, reboot or replace a node, scale
    /// shared controllers, disable a subsystem.
    Disruptive,
}

impl ActionClass {
    pub const ALL: [ActionClass; 5] = [
        ActionClass::Observe,
        ActionClass::Notify,
        ActionClass::Contain,
        ActionClass::Recover,
        ActionClass::Disruptive,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ActionClass::Observe => "observe",
            ActionClass::Notify => "notify",
            ActionClass::Contain => "contain",
            ActionClass::Recover => "recover",
            ActionClass::Disruptive => "disruptive",
        }
    }
}

impl fmt::Display for ActionClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every action the taxonomy and runbooks can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionName {
    CollectEvidence,
    NotifyOwner,
    /// Deliver through the next healthy chat channel.
    NotifyFallback,
    Restart,
    Rollback,
    DeletePod,
    Scale,
    Cordon,
    Uncordon,
    SuspendCronjob,
    ResumeCronjob,
    Cleanup,
    PatchConfig,
    ReconcileRelease,
    DrainNode,
    RebootNode,
    ReplaceNode,
    ScaleSharedController,
    DisableSubsystem,
    DeletePersistentData,
    RotateSecret,
    DeleteNamespace,
    DisableAuth,
}

impl ActionName {
    pub const ALL: [ActionName; 23] = [
        ActionName::CollectEvidence,
        ActionName::NotifyOwner,
        ActionName::NotifyFallback,
        ActionName::Restart,
        ActionName::Rollback,
        ActionName::DeletePod,
        ActionName::Scale,
        ActionName::Cordon,
        ActionName::Uncordon,
        ActionName::SuspendCronjob,
        ActionName::ResumeCronjob,
        ActionName::Cleanup,
        ActionName::PatchConfig,
        ActionName::ReconcileRelease,
        ActionName::DrainNode,
        ActionName::RebootNode,
        ActionName::ReplaceNode,
        ActionName::ScaleSharedController,
        ActionName::DisableSubsystem,
        ActionName::DeletePersistentData,
        ActionName::RotateSecret,
        ActionName::DeleteNamespace,
        ActionName::DisableAuth,
    ];

    /// The bot's action of this name, when the bot can execute it at all.
    pub fn executable(self) -> Option<ActionKind> {
        Some(match self {
            ActionName::Restart => ActionKind::Restart,
            ActionName::Rollback => ActionKind::Rollback,
            ActionName::DeletePod => ActionKind::DeletePod,
            ActionName::Scale => ActionKind::Scale,
            ActionName::Cordon => ActionKind::Cordon,
            ActionName::Uncordon => ActionKind::Uncordon,
            ActionName::SuspendCronjob => ActionKind::SuspendCronjob,
            ActionName::ResumeCronjob => ActionKind::ResumeCronjob,
            ActionName::Cleanup => ActionKind::Cleanup,
            _ => return None,
        })
    }

    /// Actions no configuration can make the bot execute: deleting persistent data, rotating
    /// secrets, removing namespaces with tenant data, disabling auth or security controls.
    pub fn is_human_only(self) -> bool {
        matches!(
            self,
            ActionName::DeletePersistentData
                | ActionName::RotateSecret
                | ActionName::DeleteNamespace
                | ActionName::DisableAuth
        )
    }

    /// The class of the action. Scale is `Recover` here; scaling an allowlisted workload to
    /// zero is `Contain` and any other scale to zero `Disruptive`, which
    /// [`crate::policy::matrix::PolicyMatrix::class_of`] decides with the target at hand.
    pub fn class(self) -> ActionClass {
        match self {
            ActionName::CollectEvidence => ActionClass::Observe,
            ActionName::NotifyOwner | ActionName::NotifyFallback => ActionClass::Notify,
            ActionName::SuspendCronjob | ActionName::Cleanup => ActionClass::Contain,
            ActionName::Restart
            | ActionName::Rollback
            | ActionName::DeletePod
            | ActionName::Scale
            | ActionName::Cordon
            | ActionName::Uncordon
            | ActionName::ResumeCronjob
            | ActionName::PatchConfig
            | ActionName::ReconcileRelease => ActionClass::Recover,
            ActionName::DrainNode
            | ActionName::RebootNode
            | ActionName::ReplaceNode
            | ActionName::ScaleSharedController
            | ActionName::DisableSubsystem
            | ActionName::DeletePersistentData
            | ActionName::RotateSecret
            | ActionName::DeleteNamespace
            | ActionName::DisableAuth => ActionClass::Disruptive,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self.executable() {
            Some(kind) => kind.as_str(),
            None => match self {
                ActionName::CollectEvidence => "collect_evidence",
                ActionName::NotifyOwner => "notify_owner",
                ActionName::NotifyFallback => "notify_fallback",
                ActionName::PatchConfig => "patch_config",
                ActionName::ReconcileRelease => "reconcile_release",
                ActionName::DrainNode => "drain_node",
                ActionName::RebootNode => "reboot_node",
                ActionName::ReplaceNode => "replace_node",
                ActionName::ScaleSharedController => "scale_shared_controller",
                ActionName::DisableSubsystem => "disable_subsystem",
                ActionName::DeletePersistentData => "delete_persistent_data",
                ActionName::RotateSecret => "rotate_secret",
                ActionName::DeleteNamespace => "delete_namespace",
                ActionName::DisableAuth => "disable_auth",
                _ => unreachable!("executable names are handled above"),
            },
        }
    }
}

impl From<ActionKind> for ActionName {
    fn from(kind: ActionKind) -> Self {
        match kind {
            ActionKind::Restart => ActionName::Restart,
            ActionKind::Rollback => ActionName::Rollback,
            ActionKind::DeletePod => ActionName::DeletePod,
            ActionKind::Scale => ActionName::Scale,
            ActionKind::Cordon => ActionName::Cordon,
            ActionKind::Uncordon => ActionName::Uncordon,
            ActionKind::SuspendCronjob => ActionName::SuspendCronjob,
            ActionKind::ResumeCronjob => ActionName::ResumeCronjob,
            ActionKind::Cleanup => ActionName::Cleanup,
        }
    }
}

impl fmt::Display for ActionName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_names_match_their_serde_names() {
        for name in ActionName::ALL {
            let json = serde_json::to_string(&name).unwrap();
            assert_eq!(json, format!("\"{name}\""));
        }
    }

    #[test]
    fn every_action_kind_is_a_named_executable_action() {
        for kind in ActionKind::ALL {
            assert_eq!(ActionName::from(kind).executable(), Some(kind));
            assert_eq!(ActionName::from(kind).as_str(), kind.as_str());
        }
    }

    #[test]
    fn human_only_actions_are_disruptive_and_never_executable() {
        for name in ActionName::ALL.into_iter().filter(|n| n.is_human_only()) {
            assert_eq!(name.class(), ActionClass::Disruptive, "{name}");
            assert_eq!(name.executable(), None, "{name}");
        }
    }
}
