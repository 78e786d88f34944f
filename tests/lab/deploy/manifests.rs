//! Every manifest under `deploy/` passes a server-side dry run against the lab's API server (the
//! real admission chain and schema validation), alone and through the kustomization.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use robot_sre::testkit::lab::{Identity, scenarios};

use super::{documents, program, read, repo, run};
use crate::helpers::lab;

/// The namespaces the manifests name: the bot's own and those deploy/rbac.yaml grants Roles in.
/// Namespaced objects dry-run only in a namespace that really exists.
const NAMESPACES: [&str; 5] = ["robot-sre", "demo", "shop-staging", "payments", "checkout"];
/// A minimal Prometheus Operator ServiceMonitor CRD: the lab has no Prometheus Operator.
const SERVICEMONITOR_CRD: &str = "tests/fixtures/servicemonitor-crd.yaml";

/// Creates the namespaces and installs the ServiceMonitor CRD, once per run.
fn prepare_lab() {
    static READY: OnceLock<()> = OnceLock::new();
    READY.get_or_init(|| {
        std::thread::spawn(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime")
                .block_on(async {
                    let admin = lab().client(Identity::Admin).await.expect("a lab client");
                    for namespace in NAMESPACES {
                        scenarios::create_namespace(&admin, namespace)
                            .await
                            .unwrap_or_else(|error| panic!("namespace {namespace}: {error}"));
                    }
                });
        })
        .join()
        .expect("the namespaces are created");
        let output = kubectl(&["apply", "-f", "-"], &read(SERVICEMONITOR_CRD));
        assert!(output.0, "installing the ServiceMonitor CRD:\n{}", output.1);
        let crd = "crd/servicemonitors.monitoring.coreos.com";
        let output = kubectl(
            &["wait", "--for=condition=Established", "--timeout=60s", crd],
            "",
        );
        assert!(
            output.0,
            "the ServiceMonitor CRD is not established:\n{}",
            output.1
        );
    });
}

/// Runs kubectl as the lab's administrator: (success, stdout + stderr).
fn kubectl(args: &[&str], stdin: &str) -> (bool, String) {
    let kubeconfig = lab().kubeconfig(Identity::Admin);
    let output = run(
        Command::new(program("kubectl", "kubernetes-client"))
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .args(args),
        stdin,
    );
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

/// The lab runs Kubernetes 1.20, where PodDisruptionBudget is served only as policy/v1beta1
/// (policy/v1 arrived in 1.21; v1beta1 was removed in 1.25). We ship policy/v1, right for every
/// supported cluster, and dry-run it here as v1beta1, whose spec has the same schema.
fn for_the_lab(manifests: &str) -> String {
    manifests.replace(
        "apiVersion: policy/v1\nkind: PodDisruptionBudget",
        "apiVersion: policy/v1beta1\nkind: PodDisruptionBudget",
    )
}

fn dry_run(manifests: &str) -> (bool, String) {
    kubectl(
        &["apply", "--dry-run=server", "-f", "-"],
        &for_the_lab(manifests),
    )
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .filter(|path| !path.ends_with("kustomization.yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_deploy_manifest_passes_a_server_side_dry_run_against_the_lab() {
    prepare_lab();
    let deploy = repo().join("deploy");
    let mut files = yaml_files(&deploy.join("kubernetes"));
    files.extend(yaml_files(&deploy.join("kubernetes/optional")));
    files.extend(yaml_files(&deploy.join("crds")));
    files.push(deploy.join("rbac.yaml"));
    assert!(files.len() >= 11, "{files:?}");
    let failures: Vec<String> = files
        .iter()
        .filter_map(|file| {
            let text = std::fs::read_to_string(file).expect("a manifest");
            let (ok, output) = dry_run(&text);
            (!ok).then(|| format!("{}:\n{output}", file.display()))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "kubectl refused:\n{}",
        failures.join("\n")
    );
}

#[test]
fn the_kustomization_passes_a_server_side_dry_run_and_lists_every_manifest_but_the_optional() {
    prepare_lab();
    let dir = repo().join("deploy/kubernetes");
    // `kubectl apply -k` in two steps, so that the lab's PodDisruptionBudget rewrite can sit
    // between building the kustomization and applying it.
    let (ok, built) = kubectl(&["kustomize", &dir.display().to_string()], "");
    assert!(ok, "kubectl kustomize:\n{built}");
    let (ok, output) = dry_run(&built);
    assert!(
        ok,
        "kubectl apply --dry-run=server -k deploy/kubernetes:\n{output}"
    );
    for object in [
        "namespace/robot-sre",
        "configmap/robot-sre",
        "service/robot-sre",
        "service/robot-sre-redis",
        "deployment.apps/robot-sre",
        "statefulset.apps/robot-sre-redis",
        "poddisruptionbudget.policy/robot-sre",
        "networkpolicy.networking.k8s.io/robot-sre",
        "networkpolicy.networking.k8s.io/robot-sre-redis",
    ] {
        assert!(
            output.contains(&format!("{object} ")),
            "no {object}:\n{output}"
        );
    }

    let kustomization = &documents(&read("deploy/kubernetes/kustomization.yaml"))[0];
    let listed: Vec<&str> = kustomization["resources"]
        .as_sequence()
        .expect("resources")
        .iter()
        .filter_map(|resource| resource.as_str())
        .collect();
    let mut expected: Vec<String> = yaml_files(&dir)
        .iter()
        .filter_map(|path| path.file_name()?.to_str().map(str::to_owned))
        .filter(|name| name != "secret.example.yaml")
        .collect();
    expected.sort();
    let mut listed_sorted: Vec<String> = listed.iter().map(|name| (*name).to_owned()).collect();
    listed_sorted.sort();
    assert_eq!(listed_sorted, expected, "kustomization.yaml resources");
    assert!(
        !built.contains("kind: Secret\n"),
        "the example Secret is not deployed"
    );
    assert!(
        !built.contains("kind: ServiceMonitor"),
        "the ServiceMonitor is optional"
    );
}
