#!/usr/bin/env bash
# Runs Tern and Mosquitto side by side under tern-bench; options: bench/compare.sh --help.
# Raises the open-files limit first (the idle scenario holds up to 19,000 connections in the
# broker and as many in tern-bench), then hands over to compare.py with Debian's python3.
set -euo pipefail

if ! ulimit -n 20000 2>/dev/null; then
    echo "compare.sh: cannot raise ulimit -n to 20000 (hard limit $(ulimit -Hn));" \
         "the idle scenario may fail" >&2
fi
exec /usr/bin/python3 "$(dirname "$(readlink -f "$0")")/compare.py" "$@"
