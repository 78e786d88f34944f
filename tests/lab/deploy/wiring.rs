//! The manifests refer to each other correctly: the Deployment runs as deploy/rbac.yaml's
//! ServiceAccount, mounts the ConfigMap where ROBOT_SRE_CONFIG points, reads every key the
//! example Secret names, outlives the bot's shutdown grace, and every selector selects the pods
//! it means.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_yaml::Value;

use super::config::{SECRET, configmap_config, secret_entries};
use super::{documents, object, read};

const DEPLOYMENT: &str = "deploy/kubernetes/deployment.yaml";

fn deployment() -> Value {
    object(DEPLOYMENT, "Deployment")
}

fn container(workload: &Value) -> Value {
    workload["spec"]["template"]["spec"]["containers"][0].clone()
}

fn text(value: &Value) -> &str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("a string, not {value:?}"))
}

/// True when every label `selector` asks for is among `labels`.
fn selects(selector: &Value, labels: &Value) -> bool {
    let Some(wanted) = selector.as_mapping() else {
        return false;
    };
    !wanted.is_empty()
        && wanted
            .iter()
            .all(|(key, value)| labels.as_mapping().and_then(|l| l.get(key)) == Some(value))
}

/// `(env name, Secret name, key, optional)` of every secretKeyRef of `container`.
fn secret_refs(container: &Value) -> Vec<(String, String, String, bool)> {
    let env = container["env"].as_sequence().cloned().unwrap_or_default();
    env.iter()
        .filter(|var| !var["valueFrom"]["secretKeyRef"].is_null())
        .map(|var| {
            let reference = &var["valueFrom"]["secretKeyRef"];
            (
                text(&var["name"]).to_owned(),
                text(&reference["name"]).to_owned(),
                text(&reference["key"]).to_owned(),
                reference["optional"].as_bool().unwrap_or(false),
            )
        })
        .collect()
}

#[test]
fn the_deployment_runs_as_the_service_account_of_the_shipped_rbac() {
    let account = object("deploy/rbac.yaml", "ServiceAccount");
    let deployment = deployment();
    let pod = &deployment["spec"]["template"]["spec"];
    assert_eq!(pod["serviceAccountName"], account["metadata"]["name"]);
    assert_eq!(
        deployment["metadata"]["namespace"],
        account["metadata"]["namespace"]
    );
    for file in [
        "configmap.yaml",
        "service.yaml",
        "pdb.yaml",
        "networkpolicy.yaml",
        "redis.yaml",
    ] {
        for document in documents(&read(&format!("deploy/kubernetes/{file}"))) {
            assert_eq!(
                document["metadata"]["namespace"], account["metadata"]["namespace"],
                "{file}"
            );
        }
    }
}

#[test]
fn the_deployment_mounts_the_configmap_where_robot_sre_config_points() {
    let container = container(&deployment());
    let env = container["env"].as_sequence().expect("env");
    let config_env = env
        .iter()
        .find(|var| var["name"].as_str() == Some("ROBOT_SRE_CONFIG"))
        .expect("ROBOT_SRE_CONFIG");
    assert_eq!(text(&config_env["value"]), "/etc/robot-sre/config.yaml");
    let mounts = container["volumeMounts"]
        .as_sequence()
        .expect("volumeMounts");
    let mount = mounts
        .iter()
        .find(|mount| mount["mountPath"] == config_env["value"])
        .expect("a mount at ROBOT_SRE_CONFIG");
    assert_eq!(text(&mount["subPath"]), "config.yaml");
    let volumes = deployment()["spec"]["template"]["spec"]["volumes"].clone();
    let volume = volumes
        .as_sequence()
        .expect("volumes")
        .iter()
        .find(|volume| volume["name"] == mount["name"])
        .cloned()
        .expect("the mounted volume");
    let configmap = object("deploy/kubernetes/configmap.yaml", "ConfigMap");
    assert_eq!(volume["configMap"]["name"], configmap["metadata"]["name"]);
}

#[test]
fn the_deployment_reads_every_key_of_the_example_secret_and_requires_only_the_core_ones() {
    let bot = secret_refs(&container(&deployment()));
    let redis = secret_refs(&container(&object(
        "deploy/kubernetes/redis.yaml",
        "StatefulSet",
    )));
    let secret = object(SECRET, "Secret");
    let name = text(&secret["metadata"]["name"]);
    for (env, secret_name, key, _) in bot.iter().chain(&redis) {
        assert_eq!(secret_name, name, "{env}");
        assert_eq!(env, key, "the Secret's keys are the variables' names");
    }
    let referenced: BTreeSet<&str> = bot.iter().chain(&redis).map(|r| r.2.as_str()).collect();
    let mut entries = secret_entries(false);
    entries.extend(secret_entries(true));
    let named: BTreeSet<&str> = entries.iter().map(|(key, _)| key.as_str()).collect();
    assert_eq!(
        referenced, named,
        "Deployment/StatefulSet references vs {SECRET}"
    );
    let required: Vec<&str> = bot.iter().filter(|r| !r.3).map(|r| r.2.as_str()).collect();
    assert_eq!(
        required,
        [
            "ROBOT_SRE__ALERTMANAGER__TOKEN",
            "ROBOT_SRE__STORE__REDIS__URL"
        ]
    );
    assert!(
        entries
            .iter()
            .all(|(_, value)| value.contains("REPLACE_ME")),
        "{entries:?}"
    );
}

#[test]
fn the_deployment_gives_the_bot_more_time_to_stop_than_its_shutdown_grace() {
    let config: Value = serde_yaml::from_str(&configmap_config()).expect("YAML");
    let grace =
        humantime::parse_duration(text(&config["server"]["shutdown_grace"])).expect("a duration");
    let deployment = deployment();
    let pod = &deployment["spec"]["template"]["spec"];
    let termination = pod["terminationGracePeriodSeconds"]
        .as_u64()
        .expect("seconds");
    let pre_stop = container(&deployment)["lifecycle"]["preStop"]["exec"]["command"][1]
        .as_str()
        .and_then(|seconds| seconds.parse::<u64>().ok())
        .unwrap_or(0);
    assert!(
        Duration::from_secs(termination) > grace + Duration::from_secs(pre_stop),
        "{termination}s <= {grace:?} + {pre_stop}s"
    );
}

#[test]
fn the_deployment_is_two_hardened_replicas_with_probes_on_the_http_port() {
    let deployment = deployment();
    assert_eq!(deployment["spec"]["replicas"].as_u64(), Some(2));
    let pod = &deployment["spec"]["template"]["spec"];
    assert_eq!(pod["securityContext"]["runAsNonRoot"].as_bool(), Some(true));
    assert_eq!(
        text(&pod["securityContext"]["seccompProfile"]["type"]),
        "RuntimeDefault"
    );
    let anti =
        &pod["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0];
    assert_eq!(
        text(&anti["podAffinityTerm"]["topologyKey"]),
        "kubernetes.io/hostname"
    );
    assert!(selects(
        &anti["podAffinityTerm"]["labelSelector"]["matchLabels"],
        &pod_labels()
    ));
    let container = container(&deployment);
    let security = &container["securityContext"];
    assert_eq!(security["readOnlyRootFilesystem"].as_bool(), Some(true));
    assert_eq!(security["allowPrivilegeEscalation"].as_bool(), Some(false));
    assert_eq!(security["capabilities"]["drop"][0].as_str(), Some("ALL"));
    let port = &container["ports"][0];
    assert_eq!(
        (text(&port["name"]), port["containerPort"].as_u64()),
        ("http", Some(8080))
    );
    for (probe, path) in [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")] {
        assert_eq!(text(&container[probe]["httpGet"]["path"]), path);
        assert_eq!(text(&container[probe]["httpGet"]["port"]), "http");
    }
    for kind in ["requests", "limits"] {
        let resources = &container["resources"][kind];
        assert!(
            resources["cpu"].is_string() && resources["memory"].is_string(),
            "{kind}"
        );
    }
}

fn pod_labels() -> Value {
    deployment()["spec"]["template"]["metadata"]["labels"].clone()
}

#[test]
fn every_selector_selects_the_pods_or_service_it_means() {
    let bot = pod_labels();
    let service = object("deploy/kubernetes/service.yaml", "Service");
    assert!(selects(&service["spec"]["selector"], &bot), "Service");
    assert_eq!(text(&service["spec"]["ports"][0]["name"]), "http");
    let pdb = object("deploy/kubernetes/pdb.yaml", "PodDisruptionBudget");
    assert!(
        selects(&pdb["spec"]["selector"]["matchLabels"], &bot),
        "PDB"
    );
    assert_eq!(pdb["spec"]["minAvailable"].as_u64(), Some(1));
    let policy = object("deploy/kubernetes/networkpolicy.yaml", "NetworkPolicy");
    assert!(
        selects(&policy["spec"]["podSelector"]["matchLabels"], &bot),
        "NetworkPolicy"
    );
    let monitor = object(
        "deploy/kubernetes/optional/servicemonitor.yaml",
        "ServiceMonitor",
    );
    assert!(selects(
        &monitor["spec"]["selector"]["matchLabels"],
        &service["metadata"]["labels"]
    ));
    assert_eq!(
        monitor["spec"]["endpoints"][0]["port"],
        service["spec"]["ports"][0]["name"]
    );

    let redis = object("deploy/kubernetes/redis.yaml", "StatefulSet");
    let redis_pods = redis["spec"]["template"]["metadata"]["labels"].clone();
    let redis_policy = object("deploy/kubernetes/redis.yaml", "NetworkPolicy");
    assert!(selects(
        &redis_policy["spec"]["ingress"][0]["from"][0]["podSelector"]["matchLabels"],
        &bot
    ));
    let egress = policy["spec"]["egress"].as_sequence().expect("egress");
    assert!(
        egress
            .iter()
            .any(|rule| selects(&rule["to"][0]["podSelector"]["matchLabels"], &redis_pods)),
        "the bot may reach Redis"
    );
    let redis_service = object("deploy/kubernetes/redis.yaml", "Service");
    assert!(
        selects(&redis_service["spec"]["selector"], &redis_pods),
        "Redis Service"
    );
    let url = secret_entries(false)
        .into_iter()
        .find(|(key, _)| key == "ROBOT_SRE__STORE__REDIS__URL")
        .expect("the Redis URL")
        .1;
    let url = url::Url::parse(&url).expect("a URL");
    let host = format!("{}.robot-sre.svc", text(&redis_service["metadata"]["name"]));
    assert_eq!(url.host_str(), Some(host.as_str()));
    assert_eq!(
        url.port().map(i64::from),
        redis_service["spec"]["ports"][0]["port"].as_i64()
    );
}
