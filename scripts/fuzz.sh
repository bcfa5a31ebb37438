#!/usr/bin/env bash
# Runs every libFuzzer target for SECONDS each (default 60) from the seed corpora in tests/fuzz.
# Findings are written to build/fuzz/findings and fail the run.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
mkdir -p build/fuzz/findings
status=0
for target in build/fuzz/bin/tern_fuzz_*; do
  name=$(basename "$target")
  corpus=tests/fuzz/corpus/${name#tern_fuzz_}
  work=build/fuzz/corpus-work/${name#tern_fuzz_}
  mkdir -p "$work"
  echo "fuzzing $name for ${seconds}s"
  if ! "$target" -max_total_time="$seconds" -artifact_prefix=build/fuzz/findings/ \
       -print_final_stats=1 "$work" "$corpus" 2>build/fuzz/$name.log; then
    tail -50 build/fuzz/$name.log
    status=1
  else
    grep -E "stat::number_of_executed_units|stat::peak_rss" build/fuzz/$name.log || true
  fi
done

exit $status
