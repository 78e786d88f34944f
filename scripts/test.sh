#!/usr/bin/env bash
# The test command: installs what a fresh Debian machine lacks, builds (once, then cached) the
# Kubernetes lab's control plane, then checks formatting, lints and runs every test (unit,
# integration against a real redis-server, a real Alertmanager and the Kubernetes lab, doc).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

step "checking prerequisites"
ensure_rust
# chromium and its driver for the web console's browser test.
ensure_packages redis-server redis-tools prometheus-alertmanager chromium chromium-driver
# kubectl for the deployment manifests' dry runs; any recent client will do.
command -v kubectl >/dev/null || ensure_packages kubernetes-client

step "Kubernetes lab binaries"
ROBOT_SRE_LAB_BIN=$(scripts/lab-binaries.sh)
export ROBOT_SRE_LAB_BIN

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets --quiet -- -D warnings

step "cargo test (unit, integration, doc)"
cargo test --quiet

step "all checks passed"
