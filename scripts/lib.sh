# Shared by the scripts: progress output, package installation, the build cache location.
# shellcheck shell=bash

step() { printf '\n==> %s\n' "$*" >&2; }
note() { printf '    %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Slow builds are cached outside the repository, so a fresh clone reuses them.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/robot-sre/target}"

# Installs the Debian packages that are missing (apt-get update first, as a fresh machine needs).
ensure_packages() {
  local missing=()
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
      || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  step "installing Debian packages: ${missing[*]}"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || die "need root (or sudo) to install: ${missing[*]}"
    sudo="sudo"
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian starts no services without systemd; tests and the quick start run their own servers.
}

ensure_rust() {
  command -v cargo >/dev/null || die "cargo is not installed: install Rust 1.89 or newer (https://rustup.rs)"
  local version
  version=$(rustc --version | awk '{print $2}')
  note "rustc $version, build cache in $CARGO_TARGET_DIR"
}
