#!/usr/bin/env bash
# Provides the Kubernetes lab's binaries and prints the directory holding them:
#   etcd                      from Debian's etcd-server package
#   kube-apiserver, kube-controller-manager, kube-scheduler
#                             built from Debian's own `kubernetes` source package (1.20.x in
#                             bookworm), the way Debian's packaging builds it
# Idempotent: the built binaries are cached in ~/.cache/robot-sre/kubernetes-<version>-<recipe>/bin,
# so a second run takes seconds. The first build takes about 5 minutes on 2 cores.
#
# One fix on top of Debian's source: the vendored github.com/modern-go/reflect2 v1.0.1 predates
# Go 1.18 and makes kube-apiserver panic (nil pointer in reflect2.Type2) on most JSON requests
# when built with bookworm's Go 1.19 (json-iterator/go#627). It is replaced by Debian's own
# packaged v1.0.2 (golang-github-modern-go-reflect2-dev), which has the Go 1.18 fix.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

cache_root="${ROBOT_SRE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/robot-sre}"
components=(kube-apiserver kube-controller-manager kube-scheduler)
# Bump when the build changes, so caches of an older recipe are not used (keep in step with
# BUILD_RECIPE in src/testkit/lab/binaries.rs).
recipe=lab2

ensure_packages etcd-server

cached_bin() { # prints the newest complete cache directory, if any
  local dir
  for dir in "$cache_root"/kubernetes-*-"$recipe"/bin; do
    [ -d "$dir" ] || continue
    local ok=true
    for c in "${components[@]}"; do [ -x "$dir/$c" ] || ok=false; done
    $ok && echo "$dir"
  done | tail -n 1
}

if bin=$(cached_bin) && [ -n "$bin" ]; then
  note "lab binaries cached in $bin"
  echo "$bin"
  exit 0
fi

step "building the Kubernetes control plane from Debian's kubernetes source package"
ensure_packages golang-go make rsync dpkg-dev golang-github-modern-go-reflect2-dev

# apt-get source needs a deb-src entry: the same archive as the binary packages.
if ! grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/ && ! grep -qs '^deb-src' /etc/apt/sources.list; then
  note "adding a deb-src entry for the Debian archive"
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo tee /etc/apt/sources.list.d/robot-sre-deb-src.sources >/dev/null <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  $sudo apt-get update -qq
fi

version=$(apt-cache showsrc kubernetes | awk '/^Version:/ {print $2; exit}')
[ -n "$version" ] || die "apt cannot find the kubernetes source package"
dir="$cache_root/kubernetes-${version//[^A-Za-z0-9.+-]/_}-$recipe"
work="$dir/src"
rm -rf "$work" && mkdir -p "$work" "$dir/bin"

step "fetching the kubernetes $version source package"
(cd "$work" && apt-get source -qq kubernetes >/dev/null 2>&1) || die "apt-get source kubernetes failed"
tree=$(find "$work" -mindepth 1 -maxdepth 1 -type d | head -n 1)

reflect2=/usr/share/gocode/src/github.com/modern-go/reflect2
[ -f "$reflect2/go_above_118.go" ] || die "$reflect2 is not reflect2 v1.0.2 or newer"
note "replacing the vendored reflect2 v1.0.1 with Debian's $(dpkg-query -W -f='${Version}' golang-github-modern-go-reflect2-dev)"
rm -rf "$tree/vendor/github.com/modern-go/reflect2"
mkdir -p "$tree/vendor/github.com/modern-go/reflect2"
find "$reflect2" -maxdepth 1 -type f \( -name '*.go' -o -name '*.s' \) ! -name '*_test.go' \
  -exec cp {} "$tree/vendor/github.com/modern-go/reflect2/" \;

step "compiling ${components[*]} (about 5 minutes on 2 cores)"
(
  cd "$tree"
  mkdir -p .go/src/k8s.io
  ln -sfn ../../.. .go/src/k8s.io/kubernetes
  export GOPATH="$tree/.go" CGO_ENABLED=0
  make WHAT="cmd/kube-apiserver cmd/kube-controller-manager cmd/kube-scheduler" 2>&1 \
    | sed -u 's/^/    /' >&2
)
for c in "${components[@]}"; do
  install -m 0755 "$tree/_output/bin/$c" "$dir/bin/$c"
done
rm -rf "$work"
note "built: $("$dir/bin/kube-apiserver" --version)"
echo "$dir/bin"
