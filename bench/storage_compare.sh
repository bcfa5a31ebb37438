#!/usr/bin/env bash
# QoS 1 into persistent sessions: Tern memory/async/sync vs Mosquitto with persistence on and
# off, under tern-bench --persistent; options: bench/storage_compare.sh --help. Hands over to
# storage_compare.py with Debian's python3 (not a pyenv one found first on PATH).
set -euo pipefail

exec /usr/bin/python3 "$(dirname "$(readlink -f "$0")")/storage_compare.py" "$@"
