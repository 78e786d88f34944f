//! A state-store outage: the bot cannot check its limits or record what it does, so it does
//! nothing and says why; the request can run once the store is back.

use k8s_openapi::api::apps::v1::Deployment;
use kube::Api;
use robot_sre::config::Secret;
use robot_sre::domain::ActionKind;
use robot_sre::ops::{Approval, Ops, OpsError};
use robot_sre::store::{RedisStore, RedisStoreConfig};
use robot_sre::testkit::lab::scenarios;
use std::sync::Arc;
use std::time::Duration;

use super::{bot_with, opt_in, request, settings};
use crate::helpers::TestNamespace;

#[tokio::test]
async fn nothing_is_changed_and_the_error_is_transient_when_the_state_store_is_down() {
    let ns = TestNamespace::create("ops-outage").await;
    scenarios::healthy_deployment(&ns.client, &ns.name, "billing", 1)
        .await
        .unwrap();
    opt_in(&ns.client, &ns.name, "billing").await;
    let ops = bot_with(settings(&ns.name)).await;
    // Nothing listens on this port: every store call fails as a refused connection.
    let port = robot_sre::testkit::process::free_port().expect("a free port");
    let down = RedisStore::new(&RedisStoreConfig {
        url: Secret::new(format!("redis://127.0.0.1:{port}")),
        key_prefix: "outage".into(),
        connect_timeout: Duration::from_millis(200),
        command_timeout: Duration::from_millis(200),
    })
    .unwrap();
    let cut_off = Ops::new(ops.cluster().clone(), Arc::new(down), settings(&ns.name));
    let deployments: Api<Deployment> = ns.api();
    let generation = deployments
        .get("billing")
        .await
        .unwrap()
        .metadata
        .generation;

    let req = request(ActionKind::Restart, &format!("{}/billing", ns.name), None);
    let approval = Approval {
        actor: ops.bot(),
        fingerprint: None,
    };
    let error = cut_off.execute(&req, &approval).await.unwrap_err();
    assert!(matches!(error, OpsError::Store(_)), "{error:?}");
    assert!(error.is_transient());
    let error = cut_off.propose(&req).await.unwrap_err();
    assert!(error.is_transient(), "{error:?}");
    assert_eq!(
        deployments
            .get("billing")
            .await
            .unwrap()
            .metadata
            .generation,
        generation
    );
}
