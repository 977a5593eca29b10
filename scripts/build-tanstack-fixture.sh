#!/usr/bin/env bash
# Builds the TanStack Start fixture (crates/cli/tests/fixtures/tanstack-start): the packages
# its package.json pins, installed from npm into .cache/tanstack-start/node_modules, and two
# production builds, `leaky` and `fixed` (the shared app/ with the variant's files laid over
# it), each `vite build` with Nitro's node-server output in .cache/tanstack-start/<variant>/
# .output/server/index.mjs. Builds with Node 24 from .cache/runtimes (install-runtimes.sh
# installs it first). Idempotent: installs again only when package.json changed, builds a
# variant again only when a source file is newer than its output. package-lock.json pins
# every package (regenerate it with `npm install` in .cache/tanstack-start and copy it back).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
fixture="$root/crates/cli/tests/fixtures/tanstack-start"
dest="$root/.cache/tanstack-start"
node_bin="$root/.cache/runtimes/node24/node_modules/node/bin"
[ -x "$node_bin/node" ] || { echo "error: no Node 24 in $node_bin (run scripts/install-runtimes.sh)" >&2; exit 1; }
export PATH="$node_bin:$PATH"

mkdir -p "$dest"
if ! cmp -s "$fixture/package.json" "$dest/package.json" \
  || ! cmp -s "$fixture/package-lock.json" "$dest/package-lock.json" \
  || [ ! -d "$dest/node_modules/@tanstack/react-start" ]; then
  echo "installing the TanStack Start fixture's packages into $dest" >&2
  cp "$fixture/package.json" "$fixture/package-lock.json" "$dest/"
  # The lock pins every package the build uses, not only the ones package.json names.
  (cd "$dest" && npm ci --no-audit --no-fund --loglevel=error >&2)
  # Built with other packages: build again.
  rm -rf "$dest/leaky" "$dest/fixed"
fi

for variant in leaky fixed; do
  out="$dest/$variant/.output/server/index.mjs"
  if [ -f "$out" ] && [ -z "$(find "$fixture/app" "$fixture/$variant" "$fixture/package.json" -type f -newer "$out" -print -quit)" ]; then
    continue
  fi
  echo "building the TanStack Start fixture ($variant)" >&2
  rm -rf "$dest/$variant"
  mkdir -p "$dest/$variant"
  cp -R "$fixture/app/." "$dest/$variant/"
  cp -R "$fixture/$variant/." "$dest/$variant/"
  (cd "$dest/$variant" && "$dest/node_modules/.bin/vite" build >&2)
  [ -f "$out" ] || { echo "error: vite build of $variant made no $out" >&2; exit 1; }
done
