#!/usr/bin/env bash
# Installs what weft needs and is missing: Debian packages (as root, each only if absent), npm packages, the build.
# Idempotent: a second run with everything present takes seconds.
#   scripts/setup.sh            packages for tests and the demo
#   scripts/setup.sh --bench    also the peers the benchmarks compare against (tilemaker, nginx, wrk; from npm
#                               tileserver-gl-light, into .cache/bench-peers) and their measuring tools (sqlite3,
#                               GNU time)
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=(osmium-tool postgresql-15-postgis-3 chromium fonts-noto-core zstd gcc libdeflate-dev)
if [[ "${1:-}" == "--bench" ]]; then
  apt_packages+=(tilemaker nginx-light wrk sqlite3 time)
fi

# the installed Node's prefix: its own headers (include/node) build native modules without downloading any
nodedir=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")

missing=()
for pkg in "${apt_packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]]; then
    echo "setup: installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: missing Debian packages (not root, so not installing): ${missing[*]}" >&2
    echo "setup: run: sudo apt-get install -y ${missing[*]}" >&2
  fi
fi

# the benchmarks' npm peer, installed apart from the project's dependencies so that `npm ci` stays lean:
# tileserver-gl-light, pinned. Its sqlite3 dependency (for MBTiles) is compiled from source by node-gyp when no
# prebuilt binary can be fetched (they are not on the npm registry), which needs make, g++ and python3, takes about
# a minute, and uses the installed Node's own headers (nodedir) rather than downloading them.
if [[ "${1:-}" == "--bench" ]]; then
  peers=.cache/bench-peers
  tileserver=tileserver-gl-light@5.6.0
  if ! grep -qs '"version": "5.6.0"' "$peers/node_modules/tileserver-gl-light/package.json" \
    || ! node -e "require('./$peers/node_modules/sqlite3')" 2>/dev/null; then
    echo "setup: installing the benchmark peer $tileserver into $peers"
    mkdir -p "$peers"
    nodedir_flag=()
    [[ -f $nodedir/include/node/node.h ]] && nodedir_flag=(--nodedir="$nodedir")
    npm install --prefix "$peers" --no-audit --no-fund --loglevel=error "${nodedir_flag[@]}" "$tileserver"
    if ! node -e "require('./$peers/node_modules/sqlite3')" 2>/dev/null; then
      echo "setup: $tileserver installed, but its sqlite3 native module did not build (make, g++, python3?)" >&2
    fi
  fi
fi

# npm packages: reinstall only when the lockfile changed since the last install
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  touch node_modules/.package-lock.json
fi

# the compiled CLI: rebuild when any TypeScript source is newer than the last build
stamp=build/.stamp
if [[ ! -f $stamp ]] || [[ -n "$(find cli core pipeline serve jobs tsconfig.json tsconfig.build.json -newer "$stamp" -name '*.ts' -o -newer "$stamp" -name '*.json' 2>/dev/null | head -1)" ]]; then
  echo "setup: building the CLI"
  npx tsc -p tsconfig.build.json
  touch "$stamp"
fi

# C built with gcc when OUT is missing or older than SOURCE. Each build is optional: without gcc or a file it
# requires (REQUIRES: paths, space-separated), setup says so with FALLBACK and goes on.
#   build_c SOURCE OUT WHAT REQUIRES FALLBACK GCC-FLAGS…
build_c() {
  local src=$1 out=$2 what=$3 requires=$4 fallback=$5
  shift 5
  [[ -f $out && ! $src -nt $out ]] && return 0
  local missing=0 f
  for f in $requires; do [[ -f $f ]] || missing=1; done
  if [[ $missing == 0 ]] && command -v gcc >/dev/null; then
    echo "setup: building the $what → $out"
    mkdir -p "$(dirname "$out")"
    gcc -O2 -Wall "$src" "$@" -o "$out.tmp"
    mv "$out.tmp" "$out"
  else
    echo "setup: cannot build $out (needs gcc${requires:+ and ${requires// /, }}); $fallback" >&2
  fi
}

# the native addons (native/<name>.c → build/native/<name>.node), compiled against the installed Node's
# own headers; each is optional, and without one its user does the work in JavaScript.
#   build_addon NAME WHAT REQUIRED-HEADER FALLBACK LINK-FLAGS…
build_addon() {
  local name=$1 what=$2 header=$3 fallback=$4
  shift 4
  build_c "native/$name.c" "build/native/$name.node" "$what" "$nodedir/include/node/node_api.h${header:+ $header}" \
    "$fallback" -fPIC -shared -I"$nodedir/include/node" "$@"
}
# the tiles' gzip: a binding to libdeflate (Debian's libdeflate-dev); without it zlib compresses them (slower)
build_addon deflate 'native gzip (libdeflate)' /usr/include/libdeflate.h \
  'tiles will be compressed with zlib instead' -ldeflate
# plain point, line and polygon features of GeoJSON lines scanned (and their records written) without a
# JavaScript object each; without it JSON.parse reads every line (slower, the same archive). Its floating point must
# be JavaScript's: no contraction into fused multiply-adds
build_addon geojson 'native GeoJSON scanner' '' 'the tiler will parse every line in JavaScript instead' \
  -ffp-contract=off -lm
# each tile's records encoded as MVT without a JavaScript object each; without it JavaScript encodes them (slower,
# the same archive)
build_addon tile 'native tile encoder' '' 'the tiler will encode every tile in JavaScript instead' -lm
# the live fan-out's socket writes, a slice of clients per call; without it each goes through node:net (slower, the
# same bytes)
build_addon fanout 'native fan-out writes' '' 'live deltas will be written through node:net instead'

# the live bench's WebSocket clients as one native program (bench/ws-clients.c → build/bench/ws-clients): they share
# this box's cores with the server, so `make bench-live` uses the lightest clients it can; without it, Node clients
build_c bench/ws-clients.c build/bench/ws-clients "live bench's native WebSocket clients" '' \
  'make bench-live will use Node clients instead'

# the map labels' SDF glyphs (build/glyphs, served under /fonts/): built when missing or when their builder changed
glyphs=build/glyphs/manifest.json
if [[ ! -f $glyphs || scripts/build-glyphs.ts -nt $glyphs || styles/src/fonts.ts -nt $glyphs ]]; then
  if [[ -f /usr/share/fonts/truetype/noto/NotoSans-Regular.ttf ]]; then
    npx tsx scripts/build-glyphs.ts
  else
    echo "setup: fonts-noto-core is missing, so the map glyphs (build/glyphs) are not built" >&2
  fi
fi

# the viewer (viewer/ → build/viewer, hosted by weft serve): rebuilt when its sources changed
bash scripts/build-viewer.sh
