//! The bot identity starts with no permissions at all: real RBAC refuses it (403) until a
//! Role grants exactly what it needs.

use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use kube::api::{DeleteParams, ListParams, PostParams};
use kube::{Api, Error};
use robot_sre::testkit::lab::Identity;
use robot_sre::testkit::process::poll_until;
use serde_json::json;

use crate::helpers::{TestNamespace, client};

fn forbidden(result: Result<impl std::fmt::Debug, Error>) -> String {
    match result {
        Err(Error::Api(status)) => {
            assert_eq!(status.code, 403, "{status:?}");
            assert_eq!(status.reason, "Forbidden");
            status.message
        }
        other => panic!("expected 403 Forbidden, got {other:?}"),
    }
}

#[tokio::test]
async fn the_bot_is_forbidden_until_a_role_grants_it_and_only_what_is_granted() {
    let ns = TestNamespace::create("rbac").await;
    let bot = client(Identity::Bot).await;
    let bot_pods: Api<Pod> = Api::namespaced(bot.clone(), &ns.name);
    let message = forbidden(bot_pods.list(&ListParams::default()).await);
    assert!(
        message.contains("User \"robot-sre\" cannot list resource \"pods\""),
        "{message}"
    );

    let role: Role = serde_json::from_value(json!({
        "metadata": { "name": "robot-sre-read-pods" },
        "rules": [{ "apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"] }],
    }))
    .unwrap();
    let binding: RoleBinding = serde_json::from_value(json!({
        "metadata": { "name": "robot-sre-read-pods" },
        "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "robot-sre-read-pods" },
        "subjects": [{ "apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "robot-sre" }],
    }))
    .unwrap();
    ns.api::<Role>()
        .create(&PostParams::default(), &role)
        .await
        .unwrap();
    ns.api::<RoleBinding>()
        .create(&PostParams::default(), &binding)
        .await
        .unwrap();

    let granted = poll_until(
        Duration::from_secs(10),
        Duration::from_millis(50),
        || async { bot_pods.list(&ListParams::default()).await.ok() },
    )
    .await;
    assert!(granted.is_some(), "the Role never took effect");

    // Only what was granted: no delete, no other resource, no other namespace.
    forbidden(bot_pods.delete("anything", &DeleteParams::default()).await);
    let bot_deployments: Api<Deployment> = Api::namespaced(bot.clone(), &ns.name);
    forbidden(bot_deployments.list(&ListParams::default()).await);
    let elsewhere: Api<Pod> = Api::namespaced(bot, "default");
    forbidden(elsewhere.list(&ListParams::default()).await);
}
