#!/usr/bin/env bash
# Builds the viewer (viewer/ → build/viewer/: pages, hashed assets, embed.js) with vite, when a source is newer
# than the last build. `--force` rebuilds anyway. WEFT_VIEWER_OUT builds elsewhere (then always).
set -euo pipefail
cd "$(dirname "$0")/.."

out=${WEFT_VIEWER_OUT:-build/viewer}
stamp=$out/.stamp
if [[ "${1:-}" != "--force" && -z "${WEFT_VIEWER_OUT:-}" && -f $stamp ]] &&
  [[ -z "$(find viewer serve/viewer/page.ts package-lock.json -newer "$stamp" -type f 2>/dev/null | head -1)" ]]; then
  exit 0
fi
echo "setup: building the viewer → $out"
WEFT_VIEWER_OUT="$(realpath -m "$out")" npx vite build --config viewer/vite.config.ts
touch "$stamp"
