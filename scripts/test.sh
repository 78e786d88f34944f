#!/usr/bin/env bash
# The test command: installs what a fresh Debian machine lacks, then checks formatting, lints and
# runs every test (unit, integration against a real redis-server and a real Alertmanager, doc).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

step "checking prerequisites"
ensure_rust
ensure_packages redis-server redis-tools prometheus-alertmanager

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets --quiet -- -D warnings

step "cargo test (unit, integration, doc)"
cargo test --quiet

step "all checks passed"
