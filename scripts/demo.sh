#!/usr/bin/env bash
# `make demo`: the demo region end to end on the embedded defaults (PGlite in .data/, the blob store in .data/blob):
# migrate, seed a community, build the base and activity tiles, publish, promote to prod, list the releases, then
# serve the viewer, tiles, write API and live deltas (in-process bus). REGION=… picks another region file from
# regions/; WEFT_PORT=… another port; DEMO_SERVE=0 stops after the releases (CI checks the build that way).
set -euo pipefail
cd "$(dirname "$0")/.."
REGION=${REGION:-monaco}
weft() { node bin/weft.js "$@"; }

echo "demo: 1/7 database (embedded PGlite unless DATABASE_URL is set)"
weft db migrate
echo "demo: 2/7 a deterministic community in $REGION"
if ! seeded=$(weft seed --region "$REGION" 2>&1); then
  if grep -q "already seeded" <<<"$seeded"; then echo "demo: $REGION is already seeded; keeping its community"
  else echo "$seeded" >&2; exit 1; fi
else echo "$seeded"; fi
echo "demo: 3/7 base map from OpenStreetMap"
weft build base --region "$REGION"
weft verify "dist/$REGION/base.pmtiles"
echo "demo: 4/7 activity tiles (fade applied now)"
weft build activity --region "$REGION"
weft verify "dist/$REGION/activity.pmtiles"
echo "demo: 5/7 publish to staging and promote to prod"
out=$(weft publish --region "$REGION" --base "dist/$REGION/base.pmtiles" --activity "dist/$REGION/activity.pmtiles" -q)
echo "$out"
release=$(sed -n 's/^published release \([^ ]*\) .*/\1/p' <<<"$out")
if [[ -n "$release" ]]; then weft promote --region "$REGION" --release "$release"; fi
echo "demo: 6/7 releases"
weft releases --region "$REGION"
echo
echo "demo: base map  dist/$REGION/base.pmtiles      (inspect: node bin/weft.js inspect dist/$REGION/base.pmtiles)"
echo "demo: activity  dist/$REGION/activity.pmtiles  (inspect: node bin/weft.js inspect dist/$REGION/activity.pmtiles)"
if [[ "${DEMO_SERVE:-1}" == "0" ]]; then exit 0; fi
port=${WEFT_PORT:-8080}
# the embedded database is the server's while it runs: mint a participant's session token first
token=$(weft token create --region "$REGION" --name "Demo participant")
echo "demo: sign in on the map with this session token to create nodes, spin threads and vote: $token"
echo "demo: 7/7 serving on http://127.0.0.1:$port/ — the map of $REGION: http://127.0.0.1:$port/?region=$REGION (Ctrl-C stops)"
exec node bin/weft.js serve --port "$port"
