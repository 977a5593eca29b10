#!/usr/bin/env bash
# leakhunt benchmark entry point. Run from anywhere, e.g. the repo root:
#   bench/run.sh [--sizes 20,200,1000] [--runs N] [--skip-peers]
#                [--skip-peers-above MB] [--timeout S] [--out bench/results/FILE.md]
# This script only prepares things (release build, /usr/bin/time, npm peers);
# bench/run.js generates missing snapshots, measures, compares and reports.
# Snapshots and peers are cached in ${LEAKHUNT_BENCH_DIR:-/tmp/leakhunt-bench}.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_DIR=${LEAKHUNT_BENCH_DIR:-/tmp/leakhunt-bench}
PEERS_DIR=$BENCH_DIR/peers

skip_peers=0
for arg in "$@"; do
  case $arg in
    --skip-peers) skip_peers=1 ;;
    -h|--help) exec node "$ROOT/bench/run.js" --help ;;
  esac
done

needed=(node cargo)
[[ $skip_peers -eq 1 ]] || needed+=(npm)
for tool in "${needed[@]}"; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is required" >&2; exit 1; }
done

# Peak RSS comes from GNU time (bash's `time` keyword cannot report it).
if [[ ! -x /usr/bin/time ]]; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "bench: installing GNU time" >&2
    apt-get install -y time >/dev/null || { apt-get update >/dev/null && apt-get install -y time >/dev/null; }
  else
    echo "bench: /usr/bin/time is missing; install it (Debian: apt-get install time)" >&2
    exit 1
  fi
fi

echo "bench: building leakhunt (release)" >&2
(cd "$ROOT" && cargo build --release --quiet)
export LEAKHUNT_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/leakhunt"

# Peers live outside the repository so the workspace stays free of
# node_modules. memlab depends on puppeteer, whose install script downloads a
# Chrome that `memlab analyze` never uses, hence PUPPETEER_SKIP_DOWNLOAD.
if [[ $skip_peers -eq 0 ]]; then
  if [[ ! -x $PEERS_DIR/node_modules/.bin/memlab || ! -d $PEERS_DIR/node_modules/heap-snapshot-toolkit ]]; then
    echo "bench: installing peers into $PEERS_DIR" >&2
    mkdir -p "$PEERS_DIR"
    [[ -f $PEERS_DIR/package.json ]] || echo '{"name":"leakhunt-bench-peers","private":true}' >"$PEERS_DIR/package.json"
    (cd "$PEERS_DIR" && PUPPETEER_SKIP_DOWNLOAD=1 npm i --no-audit --no-fund @memlab/cli heap-snapshot-toolkit >&2)
  fi
fi

export LEAKHUNT_BENCH_DIR=$BENCH_DIR BENCH_PEERS_DIR=$PEERS_DIR
export BENCH_CMDLINE="bench/run.sh${*:+ $*}"
mkdir -p "$BENCH_DIR"
exec node "$ROOT/bench/run.js" "$@"
