#!/usr/bin/env bash
# What allocation stacks cost a hunt: wall time of `leakhunt hunt` on the bundled example's
# leaky service with stacks (the default) and with --no-allocation-stacks, alternating, RUNS
# times each (default 3), on the example's own scenario (300 iterations × 2 rounds) and on a
# 1000 iterations × 3 rounds one. Prints each run and the medians.
#   bench/stacks.sh [RUNS]        (or: bench/run.sh --sections stacks)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUNS=${1:-3}
(cd "$ROOT" && cargo build --release -q -p leakhunt)
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/leakhunt
EXAMPLE=$ROOT/examples/realtime-dashboard
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

run() { # name mode args… → seconds
  local name=$1 mode=$2; shift 2
  local flag=()
  [[ $mode == off ]] && flag=(--no-allocation-stacks)
  rm -rf "$OUT/h"
  local start end
  start=$(date +%s.%N)
  (cd "$EXAMPLE" && "$BIN" hunt -s scenario.toml "$@" "${flag[@]}" --out "$OUT/h" -- node leaky/server.js >/dev/null 2>&1) || true
  end=$(date +%s.%N)
  echo "$end - $start" | bc
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "| scenario | stacks on (median s) | stacks off (median s) | ratio |"
echo "|---|---|---|---|"
for scenario in "300x2:" "1000x3:--iterations 1000 --rounds 3"; do
  name=${scenario%%:*}
  read -r -a args <<<"${scenario#*:}"
  on=() off=()
  for ((i = 0; i < RUNS; i++)); do
    on+=("$(run "$name" on "${args[@]}")")
    off+=("$(run "$name" off "${args[@]}")")
    echo "  $name run $((i + 1)): on ${on[-1]} s, off ${off[-1]} s" >&2
  done
  m_on=$(printf '%s\n' "${on[@]}" | median)
  m_off=$(printf '%s\n' "${off[@]}" | median)
  printf '| %s | %.2f | %.2f | %.2f× |\n' "$name" "$m_on" "$m_off" "$(echo "$m_on / $m_off" | bc -l)"
done
