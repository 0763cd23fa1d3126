#!/usr/bin/env bash
# Installs everything the build, the tests and the demo need on Debian 12 (run as root, or with sudo
# available). Idempotent: when every package is present it only checks and returns.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates xxd jq
  clang-14 libclang-rt-14-dev clang-format clang-tidy
  libboost1.81-dev libssl-dev libyaml-cpp-dev libspdlog-dev libfmt-dev libcli11-dev nlohmann-json3-dev
  libsqlite3-dev libpq-dev postgresql prometheus-cpp-dev openssl
  softhsm2 opensc libp11-kit-dev libcap2-bin
  libgtest-dev libgmock-dev googletest libbenchmark-dev
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Node.js and npm run the interoperability test; a machine may already have them from another source
# (a nodejs build that bundles npm conflicts with Debian's npm package), so only the commands count.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The independent ISO 8583 implementation the interoperability test compares against (npm registry).
interop=tests/interop
if [ ! -f "$interop/node_modules/.package-lock.json" ] || ! cmp -s "$interop/package-lock.json" "$interop/node_modules/.setup-lock"; then
  echo "setup: installing npm packages of $interop"
  (cd "$interop" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  cp "$interop/package-lock.json" "$interop/node_modules/.setup-lock"
fi
