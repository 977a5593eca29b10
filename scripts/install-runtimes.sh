#!/usr/bin/env bash
# Installs what the tests run besides the machine's Node 20, from the npm registry, into
# .cache/runtimes/ (idempotent; a second run is instant): Node 24, Bun, the TypeScript
# compiler, and Chrome DevTools' heap snapshot worker code (npm heap-snapshot-toolkit) as a
# reference implementation.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/.cache/runtimes"
NODE24_VERSION="${NODE24_VERSION:-24}"
BUN_VERSION="${BUN_VERSION:-1}"

install() { # name, package spec, file under node_modules/ that proves it is installed
  local dir="$dest/$1"
  if [ -e "$dir/node_modules/$3" ]; then return 0; fi
  echo "installing $2 into $dir" >&2
  mkdir -p "$dir"
  [ -f "$dir/package.json" ] || echo '{"name":"leakhunt-runtime","private":true}' > "$dir/package.json"
  # The node and bun packages fetch their binary in an install script, so scripts must run.
  (cd "$dir" && npm install --no-audit --no-fund --loglevel=error "$2" >&2)
  [ -e "$dir/node_modules/$3" ] || { echo "error: $2 installed but $dir/node_modules/$3 is missing" >&2; exit 1; }
}

install node24 "node@$NODE24_VERSION" .bin/node
install bun "bun@$BUN_VERSION" .bin/bun
# The TypeScript compiler, for the tests of source-mapped services.
install typescript "typescript@5" .bin/tsc
# Chrome DevTools' own heap snapshot code, the reference the comparison tests check against.
install devtools "heap-snapshot-toolkit@1" heap-snapshot-toolkit/package.json
echo "node24: $("$dest/node24/node_modules/.bin/node" --version)  bun: $("$dest/bun/node_modules/.bin/bun" --version)  tsc: $("$dest/typescript/node_modules/.bin/tsc" --version)" >&2
