//! RemediationRunbook custom resources on the lab: the shipped CRD installs on a real API
//! server, its schema refuses a malformed runbook at create time, and the bot — through its own
//! least-privilege ServiceAccount — loads the valid runbooks while rejecting an invalid one by
//! namespace/name, field and reason.

use std::time::Duration;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Api;
use kube::api::{ApiResource, DynamicObject, GroupVersionKind, PostParams};
use robot_sre::config::OpsSettings;
use robot_sre::ops::Cluster;
use robot_sre::ops::rbac::{BotAccount, manifests};
use robot_sre::ops::runbooks::cluster_runbooks;
use robot_sre::policy::Taxonomy;
use robot_sre::testkit::lab::bot;
use robot_sre::testkit::process::poll_until;

use crate::helpers::{TestNamespace, lab};

const CRD: &str = include_str!("../../deploy/crds/remediationrunbook.yaml");
const VALID: &str = include_str!("../../config/runbooks/stuck-rollout-rollback.yaml");

/// Installs the CRD (once per lab) and waits until the API server serves it.
async fn install_crd(client: &kube::Client) {
    let crd: CustomResourceDefinition = serde_yaml::from_str(CRD).expect("the shipped CRD parses");
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    match api.create(&PostParams::default(), &crd).await {
        Ok(_) => {}
        Err(kube::Error::Api(status)) if status.code == 409 => {}
        Err(error) => panic!("the CRD does not install: {error}\n{}", lab().logs_tail(20)),
    }
    let established = poll_until(Duration::from_secs(30), Duration::from_millis(200), || {
        let api = api.clone();
        async move {
            let crd = api.get("remediationrunbooks.robot-sre.io").await.ok()?;
            let conditions = crd.status?.conditions?;
            conditions
                .iter()
                .any(|c| c.type_ == "Established" && c.status == "True")
                .then_some(())
        }
    })
    .await;
    assert!(established.is_some(), "the CRD never became Established");
}

fn resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("robot-sre.io", "v1alpha1", "RemediationRunbook"),
        "remediationrunbooks",
    )
}

fn runbook(name: &str, edit: impl Fn(String) -> String) -> DynamicObject {
    let text = edit(VALID.replace("name: stuck-rollout-rollback", &format!("name: {name}")));
    serde_yaml::from_str(&text).expect("a runbook document")
}

#[tokio::test]
async fn runbooks_are_loaded_from_custom_resources_and_invalid_ones_rejected_by_name_and_field() {
    let ns = TestNamespace::create("policy-crd").await;
    // The bot reads runbooks as itself, with exactly the RBAC `robot-sre rbac` prints for
    // `policy.cluster_runbooks: true`.
    let account = BotAccount {
        namespace: "robot-sre".into(),
        name: "robot-sre-runbooks".into(),
    };
    let rbac = manifests(&OpsSettings::default(), &account).with_runbook_reader(&account);
    let kubeconfig = bot::install(lab(), &ns.client, &rbac)
        .await
        .expect("the bot's RBAC installs");
    let bot_client = robot_sre::testkit::lab::kubeconfig::client(&kubeconfig)
        .await
        .expect("a bot client");
    let cluster = Cluster::new(bot_client, Duration::from_secs(10));
    let taxonomy = Taxonomy::builtin();
    install_crd(&ns.client).await;
    let api: Api<DynamicObject> = Api::namespaced_with(ns.client.clone(), &ns.name, &resource());

    let malformed = runbook(&format!("{}-malformed", ns.name), |t| {
        t.replace("minimumConfidence: medium", "minimumConfidence: certain")
    });
    let refused = api.create(&PostParams::default(), &malformed).await;
    assert!(
        matches!(&refused, Err(kube::Error::Api(s)) if s.code == 422),
        "the schema let it in: {refused:?}"
    );

    let good = format!("{}-rollback", ns.name);
    let bad = format!("{}-rotate", ns.name);
    api.create(&PostParams::default(), &runbook(&good, |t| t))
        .await
        .expect("a valid runbook");
    api.create(
        &PostParams::default(),
        &runbook(&bad, |t| t.replace("kind: rollback", "kind: rotate_secret")),
    )
    .await
    .expect("the schema allows every named action; the bot refuses human-only ones");

    let unprivileged = BotAccount {
        namespace: "robot-sre".into(),
        name: "robot-sre-no-runbooks".into(),
    };
    let path = bot::install(
        lab(),
        &ns.client,
        &manifests(&OpsSettings::default(), &unprivileged),
    )
    .await
    .expect("RBAC installs");
    let client = robot_sre::testkit::lab::kubeconfig::client(&path)
        .await
        .expect("a client");
    let refused = cluster_runbooks(&Cluster::new(client, Duration::from_secs(10)), &taxonomy).await;
    assert!(
        matches!(refused, Err(robot_sre::ops::OpsError::Forbidden { .. })),
        "without the reader role: {refused:?}"
    );

    let set = cluster_runbooks(&cluster, &taxonomy)
        .await
        .expect("listing works")
        .expect("the CRD is served");
    let ours: Vec<&str> = set
        .runbooks
        .iter()
        .map(|r| r.name.as_str())
        .filter(|n| n.starts_with(&ns.name))
        .collect();
    assert_eq!(ours, [good.as_str()]);
    let loaded = set.runbooks.iter().find(|r| r.name == good).unwrap();
    assert_eq!(
        loaded.origin,
        format!("RemediationRunbook {}/{good}", ns.name)
    );
    assert_eq!(loaded.spec.owner, "team-payments");
    let rejected: Vec<String> = set
        .rejected
        .iter()
        .filter(|e| e.origin.contains(&ns.name))
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        rejected,
        [format!(
            "RemediationRunbook {}/{bad}: spec.action.kind: rotate_secret is human-only: no runbook can make the bot run it",
            ns.name
        )]
    );
}
