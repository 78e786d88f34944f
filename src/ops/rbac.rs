//! Least-privilege RBAC for the bot, derived from the enabled actions: a ServiceAccount, a Role
//! and RoleBinding per allowed namespace with only the verbs those actions need, and a
//! ClusterRole for nodes (and a Role for node Events in `default`) only when cordon/uncordon is
//! enabled. `robot-sre rbac` prints them; `deploy/rbac.yaml` is its output for the example
//! configuration.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::ServiceAccount;
use k8s_openapi::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;

use crate::config::OpsSettings;
use crate::domain::ActionKind;

/// Where the bot runs.
#[derive(Debug, Clone)]
pub struct BotAccount {
    pub namespace: String,
    pub name: String,
}

/// Every object of the bot's RBAC.
#[derive(Debug, Clone, Default)]
pub struct Manifests {
    pub service_account: ServiceAccount,
    pub roles: Vec<Role>,
    pub role_bindings: Vec<RoleBinding>,
    pub cluster_roles: Vec<ClusterRole>,
    pub cluster_role_bindings: Vec<ClusterRoleBinding>,
}

fn rule(group: &str, resources: &[&str], verbs: &[&str]) -> PolicyRule {
    PolicyRule {
        api_groups: Some(vec![group.to_owned()]),
        resources: Some(resources.iter().map(|r| (*r).to_owned()).collect()),
        verbs: verbs.iter().map(|v| (*v).to_owned()).collect(),
        ..PolicyRule::default()
    }
}

/// The namespaced rules: reading evidence, recording Events, and each enabled action's verb.
pub fn namespaced_rules(actions: &BTreeSet<ActionKind>) -> Vec<PolicyRule> {
    let read = ["get", "list", "watch"];
    // (group, resource) → verbs, so each resource appears once.
    let mut verbs: BTreeMap<(&str, &str), BTreeSet<&str>> = BTreeMap::new();
    let mut grant = |group, resource, new: &[&'static str]| {
        verbs.entry((group, resource)).or_default().extend(new);
    };
    for (group, resource) in [
        ("", "pods"),
        ("", "events"),
        ("apps", "deployments"),
        ("apps", "replicasets"),
        ("autoscaling", "horizontalpodautoscalers"),
        ("batch", "cronjobs"),
    ] {
        grant(group, resource, &read);
    }
    grant("", "events", &["create"]);
    for action in actions {
        match action {
            ActionKind::Restart => grant("apps", "deployments", &["patch"]),
            ActionKind::Rollback => grant("apps", "deployments", &["update"]),
            ActionKind::Scale => grant("apps", "deployments/scale", &["patch"]),
            ActionKind::DeletePod | ActionKind::Cleanup => grant("", "pods", &["delete"]),
            ActionKind::SuspendCronjob | ActionKind::ResumeCronjob => {
                grant("batch", "cronjobs", &["patch"]);
            }
            ActionKind::Cordon | ActionKind::Uncordon => {}
        }
    }
    verbs
        .into_iter()
        .map(|((group, resource), verbs)| {
            rule(group, &[resource], &verbs.into_iter().collect::<Vec<_>>())
        })
        .collect()
}

fn meta(name: &str, namespace: Option<&str>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_owned()),
        namespace: namespace.map(str::to_owned),
        labels: Some([("app.kubernetes.io/name".to_owned(), "robot-sre".to_owned())].into()),
        ..ObjectMeta::default()
    }
}

/// The manifests for `settings` with the bot running as `account`.
pub fn manifests(settings: &OpsSettings, account: &BotAccount) -> Manifests {
    let subject = Subject {
        kind: "ServiceAccount".into(),
        name: account.name.clone(),
        namespace: Some(account.namespace.clone()),
        ..Subject::default()
    };
    let role_ref = |kind: &str, name: &str| RoleRef {
        api_group: "rbac.authorization.k8s.io".into(),
        kind: kind.into(),
        name: name.into(),
    };
    let mut out = Manifests {
        service_account: ServiceAccount {
            metadata: meta(&account.name, Some(&account.namespace)),
            ..ServiceAccount::default()
        },
        ..Manifests::default()
    };
    let bind = |out: &mut Manifests, namespace: &str, rules: Vec<PolicyRule>| {
        out.roles.push(Role {
            metadata: meta(&account.name, Some(namespace)),
            rules: Some(rules),
        });
        out.role_bindings.push(RoleBinding {
            metadata: meta(&account.name, Some(namespace)),
            role_ref: role_ref("Role", &account.name),
            subjects: Some(vec![subject.clone()]),
        });
    };
    for namespace in &settings.namespaces {
        bind(
            &mut out,
            namespace.as_str(),
            namespaced_rules(&settings.actions),
        );
    }
    let nodes = [ActionKind::Cordon, ActionKind::Uncordon];
    if nodes.iter().any(|a| settings.actions.contains(a)) {
        let name = format!("{}-nodes", account.name);
        out.cluster_roles.push(ClusterRole {
            metadata: meta(&name, None),
            rules: Some(vec![rule(
                "",
                &["nodes"],
                &["get", "list", "watch", "patch"],
            )]),
            ..ClusterRole::default()
        });
        out.cluster_role_bindings.push(ClusterRoleBinding {
            metadata: meta(&name, None),
            role_ref: role_ref("ClusterRole", &name),
            subjects: Some(vec![subject.clone()]),
        });
        // Events about nodes live in `default`, as the kubelet's do: the bot records its own
        // there and reads the kubelet's as node evidence.
        if !settings.namespaces.iter().any(|n| n.as_str() == "default") {
            let mut node_events = meta(&name, Some("default"));
            node_events.name = Some(name.clone());
            out.roles.push(Role {
                metadata: node_events.clone(),
                rules: Some(vec![rule(
                    "",
                    &["events"],
                    &["create", "get", "list", "watch"],
                )]),
            });
            out.role_bindings.push(RoleBinding {
                metadata: node_events,
                role_ref: role_ref("Role", &name),
                subjects: Some(vec![subject]),
            });
        }
    }
    out
}

impl Manifests {
    /// Adds a ClusterRole (and its binding) to read RemediationRunbook resources in every
    /// namespace, for `policy.cluster_runbooks`.
    pub fn with_runbook_reader(mut self, account: &BotAccount) -> Self {
        let name = format!("{}-runbooks", account.name);
        self.cluster_roles.push(ClusterRole {
            metadata: meta(&name, None),
            rules: Some(vec![rule(
                super::runbooks::GROUP,
                &["remediationrunbooks"],
                &["get", "list", "watch"],
            )]),
            ..ClusterRole::default()
        });
        self.cluster_role_bindings.push(ClusterRoleBinding {
            metadata: meta(&name, None),
            role_ref: RoleRef {
                api_group: "rbac.authorization.k8s.io".into(),
                kind: "ClusterRole".into(),
                name: name.clone(),
            },
            subjects: Some(vec![Subject {
                kind: "ServiceAccount".into(),
                name: account.name.clone(),
                namespace: Some(account.namespace.clone()),
                ..Subject::default()
            }]),
        });
        self
    }

    /// Multi-document YAML, ready for `kubectl apply -f -`.
    pub fn to_yaml(&self) -> String {
        let mut docs = vec![yaml(&self.service_account)];
        docs.extend(self.roles.iter().map(yaml));
        docs.extend(self.role_bindings.iter().map(yaml));
        docs.extend(self.cluster_roles.iter().map(yaml));
        docs.extend(self.cluster_role_bindings.iter().map(yaml));
        docs.join("---\n")
    }
}

fn yaml(object: &impl Serialize) -> String {
    serde_yaml::to_string(object).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verbs_of(rules: &[PolicyRule], resource: &str) -> Vec<String> {
        rules
            .iter()
            .find(|r| {
                r.resources
                    .as_ref()
                    .is_some_and(|rs| rs.iter().any(|x| x == resource))
            })
            .map(|r| r.verbs.clone())
            .unwrap_or_default()
    }

    #[test]
    fn only_the_enabled_actions_add_write_verbs() {
        let rules = namespaced_rules(&[ActionKind::Rollback].into());
        assert_eq!(
            verbs_of(&rules, "deployments"),
            ["get", "list", "update", "watch"]
        );
        assert_eq!(verbs_of(&rules, "pods"), ["get", "list", "watch"]);
        assert!(verbs_of(&rules, "deployments/scale").is_empty());
        let rules = namespaced_rules(&[ActionKind::Cleanup, ActionKind::Scale].into());
        assert_eq!(verbs_of(&rules, "pods"), ["delete", "get", "list", "watch"]);
        assert_eq!(verbs_of(&rules, "deployments/scale"), ["patch"]);
    }

    #[test]
    fn the_shipped_manifests_match_the_example_configuration() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let example = root.join("config/robot-sre.example.yaml");
        let loaded = crate::config::load_from(
            Some(&example),
            figment::providers::Serialized::defaults(serde_json::json!({})),
        )
        .unwrap();
        let shipped = std::fs::read_to_string(root.join("deploy/rbac.yaml")).unwrap();
        let body: String = shipped
            .lines()
            .skip_while(|line| line.starts_with('#'))
            .map(|line| format!("{line}\n"))
            .collect();
        let account = BotAccount {
            namespace: "robot-sre".into(),
            name: "robot-sre".into(),
        };
        assert_eq!(
            body,
            manifests(&loaded.settings.ops, &account).to_yaml(),
            "deploy/rbac.yaml is stale: regenerate it with `robot-sre rbac`"
        );
    }

    #[test]
    fn the_node_cluster_role_exists_only_with_cordon() {
        let account = BotAccount {
            namespace: "robot-sre".into(),
            name: "robot-sre".into(),
        };
        let mut settings = OpsSettings {
            namespaces: vec![crate::domain::Namespace::parse("shop").unwrap()],
            actions: [ActionKind::Restart].into(),
            ..OpsSettings::default()
        };
        let without = manifests(&settings, &account);
        assert!(without.cluster_roles.is_empty());
        assert_eq!(without.roles.len(), 1);
        settings.actions.insert(ActionKind::Cordon);
        let with = manifests(&settings, &account);
        assert_eq!(with.cluster_roles.len(), 1);
        assert_eq!(with.roles.len(), 2, "plus node events in default");
        assert_eq!(
            verbs_of(with.roles[1].rules.as_deref().unwrap_or_default(), "events"),
            ["create", "get", "list", "watch"]
        );
        assert!(with.to_yaml().contains("kind: ClusterRole\n"));
    }
}
