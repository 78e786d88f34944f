#!/usr/bin/env bash
# The quick start: build Robot SRE and the Kubernetes lab, start the lab with three real incidents
# in it, a Redis and an Alertmanager on loopback, send the matching alerts through Alertmanager
# to the bot, and show the incidents it recorded. Then it keeps serving until Ctrl-C (or exits
# at once with --exit).
#
#   scripts/quickstart.sh [--exit]        PORT=8080 by default (env ROBOT_SRE_PORT)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

exit_after=false
[ "${1:-}" = "--exit" ] && exit_after=true
port="${ROBOT_SRE_PORT:-8080}"

step "checking prerequisites"
ensure_rust
ensure_packages redis-server redis-tools prometheus-alertmanager curl ca-certificates python3

step "Kubernetes lab binaries (built once from Debian's kubernetes source package, then cached)"
ROBOT_SRE_LAB_BIN=$(scripts/lab-binaries.sh)
export ROBOT_SRE_LAB_BIN

step "building robot-sre (release; the first build takes a few minutes)"
cargo build --release --quiet
bin="$CARGO_TARGET_DIR/release/robot-sre"

work=$(mktemp -d)
pids=()
cleanup() {
  "$bin" lab down --dir "$work/lab" >/dev/null 2>&1 || true
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

step "starting the Kubernetes lab (etcd, kube-apiserver, controller manager, scheduler, simulated kubelet)"
"$bin" lab up --dir "$work/lab" 2>/dev/null | sed 's/^/    /'

step "breaking things in the lab: a crash loop in shop, a stuck rollout in payments, disk pressure on lab-node-2"
crashing=$("$bin" lab scenario --dir "$work/lab" crashloop --namespace shop --name web 2>/dev/null)
echo "$crashing" | sed 's/^/    /' >&2
crashing_pod=$(echo "$crashing" | awk -F'[/:]' '/^pod / {print $2; exit}')
note "$("$bin" lab scenario --dir "$work/lab" stuck-rollout --namespace payments --name checkout 2>/dev/null)"
note "$("$bin" lab scenario --dir "$work/lab" disk-pressure --node lab-node-2 2>/dev/null)"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() { # url, what
  for _ in $(seq 1 100); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.1; done
  die "$2 did not come up; logs are in $work"
}

step "starting redis-server on loopback"
redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" \
  --loglevel warning >"$work/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
redis-cli -p "$redis_port" ping >/dev/null 2>&1 || die "redis-server did not come up; see $work/redis.log"

token=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
cat >"$work/robot-sre.yaml" <<YAML
server:
  listen: 127.0.0.1:$port
alertmanager:
  token: $token
store:
  backend: redis
  redis:
    url: redis://127.0.0.1:$redis_port
    key_prefix: quickstart
cluster:
  name: quickstart
  environments:
    demo: [shop]
    production: [payments]
YAML
export ROBOT_SRE_CONFIG="$work/robot-sre.yaml"

step "robot-sre check-config (secrets are masked)"
"$bin" check-config | sed 's/^/    /'

step "starting robot-sre serve on 127.0.0.1:$port"
"$bin" serve >"$work/robot-sre.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$port/readyz" "robot-sre"

step "starting Alertmanager, with a webhook receiver pointing at the bot"
am_port=$(free_port)
cat >"$work/alertmanager.yml" <<YAML
route:
  receiver: robot-sre
  group_by: [alertname, namespace]
  group_wait: 1s
  group_interval: 1s
receivers:
  - name: robot-sre
    webhook_configs:
      - url: http://127.0.0.1:$port/webhooks/alertmanager
        http_config:
          authorization: { type: Bearer, credentials: "$token" }
YAML
prometheus-alertmanager --config.file="$work/alertmanager.yml" --storage.path="$work/am" \
  --web.listen-address="127.0.0.1:$am_port" --cluster.listen-address= --log.level=warn \
  >"$work/alertmanager.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$am_port/-/ready" "Alertmanager"

step "posting three alerts to Alertmanager, as Prometheus would"
curl -fsS -H 'content-type: application/json' "http://127.0.0.1:$am_port/api/v2/alerts" -d '[
  {"labels": {"alertname": "KubePodCrashLooping", "namespace": "shop", "pod": "'"$crashing_pod"'",
              "reason": "CrashLoopBackOff", "severity": "warning"},
   "annotations": {"summary": "web is crash looping"}},
  {"labels": {"alertname": "KubeDeploymentRolloutStuck", "namespace": "payments",
              "deployment": "checkout", "severity": "critical"},
   "annotations": {"summary": "checkout rollout is stuck"}},
  {"labels": {"alertname": "KubeNodeDiskPressure", "node": "lab-node-2", "condition": "DiskPressure"},
   "annotations": {"summary": "lab-node-2 is short of disk"}}]'

note "waiting for Alertmanager to group and deliver them (group_wait 1s)"
for _ in $(seq 1 100); do
  [ "$("$bin" incidents list | grep -c '^inc-')" -ge 3 ] && break
  sleep 0.2
done

step "robot-sre incidents list"
"$bin" incidents list | sed 's/^/    /'
first=$("$bin" incidents list | awk '/^inc-/ {print $1; exit}')
[ -n "$first" ] || die "no incident was recorded; see $work/robot-sre.log"
step "robot-sre incidents show $first"
"$bin" incidents show "$first" | sed 's/^/    /'

step "a duplicate delivery and a forged one"
note "duplicate (same alert again): $(curl -s -H "authorization: Bearer $token" \
  -H 'content-type: application/json' --data @tests/fixtures/alertmanager-webhook-example.json \
  "http://127.0.0.1:$port/webhooks/alertmanager" >/dev/null; curl -s -H "authorization: Bearer $token" \
  -H 'content-type: application/json' --data @tests/fixtures/alertmanager-webhook-example.json \
  "http://127.0.0.1:$port/webhooks/alertmanager" | grep -o '"outcome":"[a-z]*"' | head -1)"
note "forged token: HTTP $(curl -s -o /dev/null -w '%{http_code}' -H 'authorization: Bearer forged' \
  --data @tests/fixtures/alertmanager-webhook-example.json "http://127.0.0.1:$port/webhooks/alertmanager")"
note "metrics: $(curl -s "http://127.0.0.1:$port/metrics" | grep -E '^ops_incidents_open_total')"

if $exit_after; then
  step "done (--exit)"
  exit 0
fi
step "Robot SRE is serving on http://127.0.0.1:$port (metrics at /metrics). Ctrl-C stops everything."
note "logs: $work/robot-sre.log; the lab: KUBECONFIG=$work/lab/cluster/admin.kubeconfig (kubectl works)"
wait "${pids[1]}"
