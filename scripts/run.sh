#!/usr/bin/env bash
# Installs what is missing, builds Tern (release) and runs it with configs/tern.toml.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target tern
exec build/bin/tern -c configs/tern.toml "$@"
