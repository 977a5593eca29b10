#!/usr/bin/env bash
# Installs what the tests run besides the machine's Node 20, from the npm registry, into
# .cache/runtimes/ (idempotent; a second run is instant): Node 24, Bun, the TypeScript
# compiler, Chrome DevTools' heap snapshot worker code (npm heap-snapshot-toolkit) as a
# reference implementation, and the official SARIF 2.1.0 JSON schema (inside npm
# @microsoft/jest-sarif). Also Debian's chromium, for the test that opens the HTML report,
# when it is missing and this runs as root with apt-get (elsewhere that test skips and says
# why).
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
# The SARIF 2.1.0 JSON schema the SARIF reports are validated against (lib/schemas/).
install sarif-schema "@microsoft/jest-sarif@1.0.0-beta.0" @microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json

# The TanStack Start fixture (the walkthrough on a real framework build), with Node 24.
"$root/scripts/build-tanstack-fixture.sh"
# The npm libraries the library fixtures leak through (crates/cli/tests/fixtures/libs), at the
# versions their users reported the leaks with, into .cache/libs.
"$root/scripts/install-test-libs.sh"

if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing chromium (Debian) for the HTML report test" >&2
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core; } >&2 \
      || echo "warning: could not install chromium: the HTML report test will skip" >&2
  else
    echo "note: no /usr/bin/chromium, and not root with apt-get to install it: the HTML report test will skip" >&2
  fi
fi
echo "node24: $("$dest/node24/node_modules/.bin/node" --version)  bun: $("$dest/bun/node_modules/.bin/bun" --version)  tsc: $("$dest/typescript/node_modules/.bin/tsc" --version)" >&2
