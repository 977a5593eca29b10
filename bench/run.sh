#!/usr/bin/env bash
# leakhunt benchmark entry point. Run from anywhere, e.g. the repo root:
#   bench/run.sh [--sections summary,leaks,load] [--sizes 20,200,1000] [--runs N]
#                [--skip-peers] [--skip-peers-above MB] [--timeout S]
#                [--out bench/results/FILE.md]   (bench/run.sh --help lists all)
#   bench/run.sh --sections scale [--parts ladders,big,hunt] [--runs N] …
#                (leakhunt at scale: bench/scale.js --help lists its options)
#   FUZZ_SECONDS=600 bench/run.sh --sections fuzz   (bench/fuzz.sh: cargo-fuzz, needs nightly)
# This script only prepares things (release builds, /usr/bin/time, npm peers);
# bench/run.js generates missing snapshots, measures, compares and reports.
# Snapshots and peers are cached in ${LEAKHUNT_BENCH_DIR:-/tmp/leakhunt-bench}.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_DIR=${LEAKHUNT_BENCH_DIR:-/tmp/leakhunt-bench}
PEERS_DIR=$BENCH_DIR/peers

skip_peers=0
sections=summary,leaks,load
prev=
for arg in "$@"; do
  case $arg in
    --skip-peers) skip_peers=1 ;;
    -h|--help) exec node "$ROOT/bench/run.js" --help ;;
  esac
  [[ $prev == --sections ]] && sections=$arg
  prev=$arg
done
has_section() { [[ ,$sections, == *,$1,* ]]; }
if has_section scale && [[ $sections != scale ]]; then
  echo "bench: run --sections scale on its own (it has its own options: bench/scale.js --help)" >&2
  exit 2
fi
# What allocation stacks cost a hunt (bench/stacks.sh): with and without, medians.
if has_section stacks; then
  [[ $sections == stacks ]] || { echo "bench: run --sections stacks on its own" >&2; exit 2; }
  exec "$ROOT/bench/stacks.sh" "${STACKS_RUNS:-3}"
fi
# Fuzzing for a bounded time (FUZZ_SECONDS, default 300): the reader and every analysis.
if has_section fuzz; then
  [[ $sections == fuzz ]] || { echo "bench: run --sections fuzz on its own" >&2; exit 2; }
  exec "$ROOT/bench/fuzz.sh" "${FUZZ_SECONDS:-300}"
fi

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

if has_section summary || has_section leaks || has_section scale; then
  echo "bench: building leakhunt (release)" >&2
  (cd "$ROOT" && cargo build --release --quiet)
fi
if has_section load; then
  echo "bench: building the load runner's throughput example (release)" >&2
  (cd "$ROOT" && cargo build --release --quiet -p leakhunt-load --example throughput)
fi
export LEAKHUNT_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/leakhunt"
export LEAKHUNT_LOAD_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/examples/throughput"

# Peers live outside the repository so the workspace stays free of
# node_modules. memlab depends on puppeteer, whose install script downloads a
# Chrome that memlab's heap analysis never uses, hence PUPPETEER_SKIP_DOWNLOAD.
# Only the peers the selected sections use are installed.
if [[ $skip_peers -eq 0 ]] && ! has_section scale; then
  missing=()
  if has_section summary || has_section leaks; then
    [[ -x $PEERS_DIR/node_modules/.bin/memlab ]] || missing+=(@memlab/cli)
  fi
  if has_section summary; then
    [[ -d $PEERS_DIR/node_modules/heap-snapshot-toolkit ]] || missing+=(heap-snapshot-toolkit)
  fi
  if has_section load; then
    [[ -f $PEERS_DIR/node_modules/autocannon/autocannon.js ]] || missing+=(autocannon)
  fi
  if [[ ${#missing[@]} -gt 0 ]]; then
    echo "bench: installing ${missing[*]} into $PEERS_DIR" >&2
    mkdir -p "$PEERS_DIR"
    [[ -f $PEERS_DIR/package.json ]] || echo '{"name":"leakhunt-bench-peers","private":true}' >"$PEERS_DIR/package.json"
    (cd "$PEERS_DIR" && PUPPETEER_SKIP_DOWNLOAD=1 npm i --no-audit --no-fund "${missing[@]}" >&2)
  fi
fi

export LEAKHUNT_BENCH_DIR=$BENCH_DIR BENCH_PEERS_DIR=$PEERS_DIR
export BENCH_CMDLINE="bench/run.sh${*:+ $*}"
mkdir -p "$BENCH_DIR"
if has_section scale; then
  exec node "$ROOT/bench/scale.js" "$@"
fi
exec node "$ROOT/bench/run.js" "$@"
