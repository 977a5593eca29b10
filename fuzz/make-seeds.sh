#!/usr/bin/env bash
# Regenerates the fuzz seeds in fuzz/seeds: real snapshots (Node on PATH, and Node 24 and
# Bun when scripts/install-runtimes.sh has installed them) cut down to 12, 60 and 250
# nodes in their own layouts, plus synthetic ones from the engine's writer.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/fuzz/seeds
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$OUT"
write='require("v8").writeHeapSnapshot(process.argv[1] || process.argv[2])'
runtimes=(node)
for r in node24 bun; do
  bin=$ROOT/.cache/runtimes/$r/node_modules/.bin/$r
  [[ $r == node24 ]] && bin=$ROOT/.cache/runtimes/node24/node_modules/.bin/node
  [[ -x $bin ]] && runtimes+=("$bin")
done
for rt in "${runtimes[@]}"; do
  name=$(basename "$(dirname "$(dirname "$(dirname "$rt")")")")
  [[ $rt == node ]] && name=node
  "$rt" -e "$write" "$TMP/$name.heapsnapshot" >/dev/null
  for n in 12 60 250; do
    node "$ROOT/fuzz/shrink.js" "$TMP/$name.heapsnapshot" "$OUT/$name-$n" "$n"
  done
done
(cd "$ROOT" && cargo run -q -p leakhunt-engine --example fuzz_seeds -- "$OUT")
ls -l "$OUT" >&2
