#!/usr/bin/env bash
# Installs the npm libraries the library fixtures use (crates/cli/tests/fixtures/libs/<name>/
# package.json, exact versions: the ones whose users reported the leak) into
# .cache/libs/<name>/node_modules. The fixtures run from their own folder with NODE_PATH set
# to that node_modules, so the source tree stays free of installed packages. Idempotent: a
# folder whose package.json has not changed since its last install is left alone.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
fixtures="$root/crates/cli/tests/fixtures/libs"
dest="$root/.cache/libs"

for manifest in "$fixtures"/*/package.json; do
  name="$(basename "$(dirname "$manifest")")"
  dir="$dest/$name"
  # Installed when the package.json copied there after the last successful install is the
  # same (a failed install leaves no copy, so the next run tries again).
  if cmp -s "$manifest" "$dir/installed-package.json"; then continue; fi
  echo "installing the libraries of fixture $name into $dir" >&2
  rm -rf "$dir"
  mkdir -p "$dir"
  cp "$manifest" "$dir/package.json"
  # No install scripts: none of these libraries needs one.
  (cd "$dir" && npm install --no-audit --no-fund --ignore-scripts --loglevel=error >&2)
  mkdir -p "$dir/node_modules" # a fixture without dependencies gets an empty one
  cp "$manifest" "$dir/installed-package.json"
done
