#!/usr/bin/env bash
# Installs the Debian 12 packages Tern needs to build, run and test. Idempotent; needs root.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libuv1-dev libssl-dev libtomlplusplus-dev libspdlog-dev libcli11-dev nlohmann-json3-dev
  librocksdb-dev libpaho-mqttpp-dev libpaho-mqtt-dev doctest-dev libhiredis-dev
  libhttp-parser-dev libjemalloc-dev
)
if [[ "${1:-}" == "--test" ]]; then
  packages+=(clang libclang-rt-14-dev llvm mosquitto mosquitto-clients
             python3 python3-pytest python3-paho-mqtt python3-websockets valgrind chromium)
fi
# The dashboard is built with npm at build time. Debian's nodejs + npm (Node 18) do; a Node.js
# already installed another way (with its own npm) is kept.
if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
if (( ${#missing[@]} )); then
  echo "installing: ${missing[*]}"
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; fi
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
