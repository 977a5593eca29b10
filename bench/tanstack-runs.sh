#!/usr/bin/env bash
# Hunts the TanStack Start fixture's builds N times each (default 10) and prints one line
# per run: variant, verdict, exit code, the top suspect's pattern and place, wall time. The
# issue asks for the fixed build clean in 10 runs of 10; one hunt takes ~11 s, too long to
# repeat in the test suite (crates/cli/tests/integration/tanstack.rs runs each build once).
#
# Usage: bench/tanstack-runs.sh [RUNS=10] [VARIANTS="fixed leaky"]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
runs="${1:-10}"
variants="${2:-fixed leaky}"
"$root/scripts/build-tanstack-fixture.sh"
(cd "$root" && cargo build -q -p leakhunt)
leakhunt="${LEAKHUNT:-$root/target/debug/leakhunt}"
node="$root/.cache/runtimes/node24/node_modules/.bin/node"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# Anything but a 200 counts as a failed request (an erroring build would look clean).
printf 'iterations = 150\n\n[[step]]\npath = "/?user=u{{i}}"\nexpect_status = 200\n' >"$work/scenario.toml"
for variant in $variants; do
  clean=0
  for run in $(seq 1 "$runs"); do
    out="$work/$variant-$run"
    start=$(date +%s.%N)
    code=0
    (cd "$root/.cache/tanstack-start/$variant" && HOST=127.0.0.1 NO_COLOR=1 "$leakhunt" hunt \
      --scenario "$work/scenario.toml" --out "$out" --json "$out.json" \
      -- "$node" .output/server/index.mjs >"$out.log" 2>&1) || code=$?
    seconds=$(echo "$(date +%s.%N) - $start" | bc)
    summary=$(node -e '
      const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
      const s = r.suspects[0];
      const at = s && s.location ? `${s.location.file}:${s.location.line}` : "";
      const held = s && s.owner ? `held by ${s.owner.module || ""} > ${s.owner.path}` : "";
      const failed = r.load.reduce((n, l) => n + l.failed, 0);
      console.log([r.verdict, s ? s.pattern : "", at, held, failed ? `${failed} requests failed` : ""].join(" ").trim());
    ' "$out.json" 2>/dev/null || echo "no report")
    [ "$code" = 0 ] && clean=$((clean + 1))
    printf '%s run %2d: exit %s  %s  (%.1f s)\n' "$variant" "$run" "$code" "$summary" "$seconds"
  done
  echo "$variant: clean in $clean runs of $runs"
done
