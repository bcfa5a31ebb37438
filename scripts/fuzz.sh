#!/usr/bin/env bash
# Runs every libFuzzer target for SECONDS each (default 60) from the seed corpora in tests/fuzz,
# as many at once as there are cores (each target is single-threaded).
# Findings are written to build/fuzz/findings and fail the run.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
parallel=${TERN_FUZZ_JOBS:-$(nproc)}
mkdir -p build/fuzz/findings

fuzz_one() {
  local target=$1 name corpus work
  name=$(basename "$target")
  corpus=tests/fuzz/corpus/${name#tern_fuzz_}
  work=build/fuzz/corpus-work/${name#tern_fuzz_}
  mkdir -p "$work"
  "$target" -max_total_time="$seconds" -artifact_prefix=build/fuzz/findings/ \
    -print_final_stats=1 "$work" "$corpus" 2>"build/fuzz/$name.log"
}

# Each target's exit status lands in build/fuzz/<name>.status; the report follows in order.
targets=(build/fuzz/bin/tern_fuzz_*)
running=0
for target in "${targets[@]}"; do
  name=$(basename "$target")
  echo "fuzzing $name for ${seconds}s"
  (if fuzz_one "$target"; then echo 0; else echo 1; fi >"build/fuzz/$name.status") &
  running=$((running + 1))
  if [ "$running" -ge "$parallel" ]; then
    wait -n
    running=$((running - 1))
  fi
done
wait

status=0
for target in "${targets[@]}"; do
  name=$(basename "$target")
  if [ "$(cat "build/fuzz/$name.status")" != 0 ]; then
    echo "$name found a problem:"
    tail -50 "build/fuzz/$name.log"
    status=1
  else
    echo "$name: $(grep -E "stat::number_of_executed_units|stat::peak_rss" "build/fuzz/$name.log" |
      tr -s ' \n' ' ')"
  fi
done

exit $status
