#!/usr/bin/env bash
# Sets up what Credly needs (Node >= 22.13 and pnpm 12), installs the workspace, then runs a
# pnpm script: `scripts/bootstrap.sh demo`, `scripts/bootstrap.sh test`, or any other script name.
#
# A machine that already has Node >= 22.13 and pnpm 12 on its PATH uses them. Otherwise Node and
# pnpm are installed from the npm registry into a cache folder (once; later runs take a second):
#   CREDLY_TOOLCHAIN_DIR  where to install them (default: ~/.cache/credly/toolchain-<versions>)
set -euo pipefail

NODE_VERSION=24.21.0
PNPM_VERSION=12.21.0
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

say() { printf 'credly bootstrap: %s\n' "$*" >&2; }

node_is_recent() {
  command -v node >/dev/null 2>&1 || return 1
  node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 22 || (a === 22 && b >= 13) ? 0 : 1)' 2>/dev/null
}

pnpm_is_ours() {
  command -v pnpm >/dev/null 2>&1 || return 1
  case "$(pnpm --version 2>/dev/null)" in 12.*) return 0 ;; *) return 1 ;; esac
}

if node_is_recent && pnpm_is_ours; then
  say "using node $(node --version) and pnpm $(pnpm --version) from PATH"
else
  dir=${CREDLY_TOOLCHAIN_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/credly/toolchain-node$NODE_VERSION-pnpm$PNPM_VERSION}
  if [ "$("$dir/bin/node" --version 2>/dev/null)" != "v$NODE_VERSION" ] ||
    [ "$(PATH="$dir/bin:$PATH" "$dir/bin/pnpm" --version 2>/dev/null)" != "$PNPM_VERSION" ]; then
    command -v npm >/dev/null 2>&1 || {
      say "needs npm (any Node.js >= 18 brings it) to install Node $NODE_VERSION and pnpm $PNPM_VERSION"
      exit 1
    }
    say "installing node $NODE_VERSION and pnpm $PNPM_VERSION into $dir (once)"
    mkdir -p "$dir"
    # --globalconfig keeps the machine's CA settings, which npm forgets under --prefix.
    npm install --global --prefix "$dir" --globalconfig "$(npm config get globalconfig 2>/dev/null)" \
      --no-fund --no-audit --loglevel=error "node@$NODE_VERSION" "pnpm@$PNPM_VERSION" >&2
  fi
  # npm run by this Node takes its prefix, and so its global config, from the Node binary: keep
  # the machine's (its CA settings) for the npm calls of the tests (tests/packed).
  if [ -z "${NPM_CONFIG_GLOBALCONFIG:-}" ] && command -v npm >/dev/null 2>&1; then
    NPM_CONFIG_GLOBALCONFIG=$(npm config get globalconfig 2>/dev/null) && export NPM_CONFIG_GLOBALCONFIG
  fi
  export PATH="$dir/bin:$PATH"
  say "using node $(node --version) and pnpm $(pnpm --version) from $dir"
fi

cd "$root"
export NEXT_TELEMETRY_DISABLED=1
pnpm install --frozen-lockfile --reporter=silent >&2 || {
  say "pnpm install failed; see the messages above"
  exit 1
}
if [ "$#" -eq 0 ]; then
  say "ready. Run scripts with: PATH=\"$(dirname "$(command -v node)"):\$PATH\" pnpm <script>"
  exit 0
fi
exec pnpm run "$@"
