#!/usr/bin/env bash
# The quick start: installs what is missing, builds the Kubernetes lab's control plane (once,
# then cached) and Robot SRE, then runs `robot-sre demo`: the lab, the bot with its web console,
# four broken workloads and their alerts through a real Alertmanager. Open the console URL it
# prints, log in, approve; Ctrl-C stops everything.
#
#   scripts/quickstart.sh                  interactive, console on http://127.0.0.1:8080/console
#   scripts/quickstart.sh --approve-all    unattended: approves everything, exits 0 when every
#                                          scenario reached its expected end
#   Any other `robot-sre demo` option passes through (--port, --dir, --deadline); REDIS_URL
#   makes the bot use that Redis instead of its embedded in-memory store.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

step "checking prerequisites"
ensure_rust
ensure_packages prometheus-alertmanager ca-certificates

step "Kubernetes lab binaries (built once from Debian's kubernetes source package, then cached)"
ROBOT_SRE_LAB_BIN=$(scripts/lab-binaries.sh)
export ROBOT_SRE_LAB_BIN

step "building robot-sre (release; the first build takes a few minutes)"
cargo build --release --quiet --bin robot-sre

exec "$CARGO_TARGET_DIR/release/robot-sre" demo "$@"
