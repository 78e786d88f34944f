//! Scope: outside its allowed namespaces the bot is stopped by its own guardrail before it
//! reads anything; with that guardrail bypassed, the API server's 403 (the RBAC manifests grant
//! nothing there) surfaces as a clear error.

use robot_sre::domain::ActionKind;
use robot_sre::ops::guard::{Guard, Verdict};
use robot_sre::ops::packet::Status;
use robot_sre::ops::{Ops, OpsError};
use robot_sre::testkit::lab::scenarios;

use super::{bot_with, by_bot, opt_in, request, settings};
use crate::helpers::TestNamespace;

#[tokio::test]
async fn actions_outside_the_allowed_namespaces_are_refused_by_the_guardrail_then_by_rbac() {
    let allowed = TestNamespace::create("ops-allowed").await;
    let foreign = TestNamespace::create("ops-foreign").await;
    scenarios::healthy_deployment(&foreign.client, &foreign.name, "ledger", 1)
        .await
        .unwrap();
    opt_in(&foreign.client, &foreign.name, "ledger").await;
    let ops = bot_with(settings(&allowed.name)).await;
    let target = format!("{}/ledger", foreign.name);

    let proposal = ops
        .propose(&request(ActionKind::Restart, &target, None))
        .await
        .unwrap();
    let scope = proposal
        .guards
        .iter()
        .find(|g| g.guard == Guard::NamespaceAllowlist)
        .unwrap();
    assert_eq!(scope.verdict, Verdict::Refuse);
    assert!(
        proposal.refusals[0].contains("not in the bot's allowed namespaces"),
        "{:?}",
        proposal.refusals
    );
    let done = ops
        .execute(&request(ActionKind::Restart, &target, None), &by_bot(&ops))
        .await
        .unwrap();
    assert_eq!(done.status, Status::Refused);

    // Same identity, but a configuration that (wrongly) allows the foreign namespace.
    let bypassed = Ops::new(ops.cluster().clone(), ops.store(), settings(&foreign.name));
    let error = bypassed
        .propose(&request(ActionKind::Restart, &target, None))
        .await
        .unwrap_err();
    assert!(matches!(error, OpsError::Forbidden { .. }), "{error:?}");
    let message = error.to_string();
    let object = format!("{}/Deployment/ledger", foreign.name);
    assert!(
        message.contains("forbidden") && message.contains(&object),
        "{message}"
    );
}
