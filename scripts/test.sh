#!/usr/bin/env bash
# Installs what is missing, builds Tern under AddressSanitizer + UBSan and runs every test:
# a bounded fuzzing run, then unit tests, integration tests with real clients and tool tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
jobs=$(nproc)
# Browser test (playwright-core driving Debian's chromium) and mqtt.js test: their npm packages,
# exactly as locked. The dashboard's own packages are installed by the build.
for project in tests/browser tests/mqttjs; do
  (cd "$project" && npm ci --no-audit --no-fund --loglevel=error)
done
export TERN_REQUIRE_BROWSER=1

# A bounded libFuzzer run of each target (clang build) from the committed seed corpora.
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$jobs" --target tern_fuzz_decoder tern_fuzz_acl tern_fuzz_password tern_fuzz_websocket \
  tern_fuzz_config tern_fuzz_http_request tern_fuzz_jwt
scripts/fuzz.sh "${TERN_FUZZ_SECONDS:-30}"

cmake --preset asan-ubsan >/dev/null
cmake --build --preset asan-ubsan -j "$jobs"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir build/asan-ubsan --output-on-failure -j "$jobs" --timeout 900

# Speed cannot regress silently: instructions per delivered message under callgrind (a Release
# build, no sanitizers) against bench/callgrind_reference.json, failing on a rise above 10%.
cmake --preset perf >/dev/null
cmake --build --preset perf -j "$jobs" --target tern
/usr/bin/python3 bench/callgrind_check.py --tern build/perf/bin/tern
